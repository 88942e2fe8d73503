/**
 * Shrinking a failing seed (after QuickCheck): the seed stays, and its fault schedule and
 * workload are cut down while the run still fails. Every trial is a full deterministic run,
 * so the result replays exactly from its options.
 *
 * Order of the cuts: the safety phase (halved), the transactions (none), the fault episodes
 * (delta debugging: halves, then quarters, ... then single episodes), the clients and the keys
 * (halved, then finer steps down to one: shrinkInt), the cluster (one shard, then one server a
 * region where the replication factor allows), and the episodes once more.
 * A cut is kept when its run still fails ('fail', never 'unknown') in the same class: a run that
 * failed on safety (not linearizable, diverged, a lost promise, ...: failedOnSafety) must still
 * fail on safety, not only on liveness (a read that timed out after healing), which would trade
 * the bug for another with no witness (found by an audit, session 61). The transactional
 * workload (`workload: 'txn'`, with the Nemesis: 'targeted' or 'swarm') shrinks the same way,
 * without the transactions' cut (they are its workload); its episodes are numbered per
 * protocol's run.
 */
import { checkInt } from '../cluster/config.js';
import { ConfigError, namedAs } from '../core/errors.js';
import { allKeys, checkOptions } from '../core/validate.js';
import type { ScenarioTask } from './check-runner.js';
import {
  checkScenarioTask,
  emptyReport,
  realTime,
  refuseNulls,
  runOneSeed,
  scenarioOptions,
  scheduleOf,
  shapeOf,
  txnScenarioOptions,
  type ScenarioReport,
} from './check-runner.js';
import { withInliningLowered } from './inline-budget.js';
import { episodesMax, resolvePlan } from './nemesis.js';
import { LIVENESS_FAILURES, SCENARIO_DEFAULTS, SCENARIO_NEMESIS, SCENARIO_SHAPE_DEFAULTS } from './scenario.js';
import { TXN_CHECK_COMMITS } from './txn-commits.js';

/** Trial runs a shrink may use, by default. */
export const SHRINK_RUNS_DEFAULT = 60;
export const SHRINK_RUNS_MAX = 10_000;
/** The safety phase is not cut below this. */
export const SHRINK_FAULT_MS_MIN = 250;

export interface ShrinkResult {
  /** The first run: when it did not fail, nothing was shrunk (`shrunk` is the task as given). */
  original: ScenarioReport;
  /** The smallest failing task found; its `onlyFaults` without numbers the first run did not draw (the same run). */
  shrunk: ScenarioTask;
  /** The last failing run, of `shrunk`. */
  result: ScenarioReport;
  /**
   * Trial runs used, the first included. 0 when `signal` had fired before the shrink began:
   * nothing ran, and `original` and `result` are a report of no run (outcome 'unknown').
   */
  runs: number;
  /** The `signal` fired: `shrunk` is the smallest failing run found before it. */
  interrupted: boolean;
}

export interface ShrinkOptions {
  maxRuns?: number;
  /** Told about each trial that still failed (what was cut). */
  onProgress?: (line: string) => void;
  /** Stops the shrink when it fires: the trial in flight finishes, and no other starts (fired already: none runs). */
  signal?: AbortSignal;
}

const SHRINK_OPTION_FIELDS = allKeys<ShrinkOptions>()(['maxRuns', 'onProgress', 'signal']);

/** Shrink a failing seed's run (`meridian check --shrink`): the task is checked first, as runChecks checks its options. */
export function shrinkSeed(task: ScenarioTask, options: ShrinkOptions = {}): Promise<ShrinkResult> {
  // Replays one after another in this thread: mostly V8 optimizing their code (inline-budget.ts).
  return withInliningLowered(() => shrink(task, options));
}

async function shrink(task: ScenarioTask, options: ShrinkOptions): Promise<ShrinkResult> {
  // Each field named as the caller wrote it: task.x, options.x. A real-time transport first:
  // `transport: 'nats'` was refused for its missing `nats` field, as if it could run.
  namedAs('task', () => {
    if (realTime(task?.transport))
      throw new ConfigError('transport', "'sim' or absent (a shrink replays the seed again and again; a real-time run does not replay)", task.transport);
    checkScenarioTask(task);
  });
  checkOptions(options, 'options', SHRINK_OPTION_FIELDS);
  const maxRuns = namedAs('options', () => {
    refuseNulls(options);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new ConfigError('signal', 'an AbortSignal', options.signal);
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new ConfigError('onProgress', 'a function', options.onProgress);
    return checkInt(options.maxRuns ?? SHRINK_RUNS_DEFAULT, 'maxRuns', 1, SHRINK_RUNS_MAX);
  });
  const stopped = (): boolean => options.signal?.aborted === true;
  const txn = task.workload === 'txn';
  if (scheduleOf(task) === 'builtin')
    throw task.schedule === 'builtin'
      ? new ConfigError('schedule', "'targeted' or 'swarm' (the builtin schedule has no episodes to cut)", task.schedule, 'task')
      : // Named as the caller gave it: said `got "builtin"`, a value the caller never passed.
        new ConfigError(
          'schedule',
          "'targeted' or 'swarm' with workload 'txn' (given neither a schedule nor faults, it runs its own builtin schedule, which has no episodes to cut)",
          undefined,
          'task',
        );
  // Awaited only when given: else the first run starts before the shrink first yields, as it did.
  const beyond = task.onlyFaults === undefined ? undefined : await onlyFaultsBeyond(task);
  if (beyond !== undefined) throw new ConfigError('onlyFaults', `${beyond.allowed}, not ${beyond.beyond.join(', ')}`, undefined, 'task');
  // The sizes the workload runs with when a task leaves them out (the transactional one's are its own).
  const defaults = txn ? (await import('./txn-scenario.js')).TXN_SCENARIO_DEFAULTS : SCENARIO_DEFAULTS;
  // A signal that had fired already (or while the module above loaded): nothing runs. The first
  // run was replayed in full (a seed's whole run, seconds) and only then reported interrupted
  // (found by an audit, session 55).
  if (stopped()) {
    const none = notRun(task);
    return { original: none, shrunk: { ...task }, result: none, runs: 0, interrupted: true };
  }
  // A drawn shape is made explicit first: the cluster step below changes its fields.
  if (task.randomShape === true) {
    const { randomShape: _drawn, ...rest } = task;
    task = { ...rest, ...shapeOf(task) };
  }
  // A run in this thread never gives the event loop a turn, and Ctrl-C (the CLI's SIGINT
  // handler, which fires `signal`) waits for one: a turn after each run lets a signal that came
  // during it fire before the shrink decides what next. Without it, Ctrl-C during the only run
  // of a seed that passed was lost (exit 0: found by an audit, session 61).
  const run = async (candidate: ScenarioTask): Promise<ScenarioReport> => {
    const r = await runOneSeed(candidate);
    await new Promise<void>((resolve) => setImmediate(resolve));
    return r;
  };
  let runs = 1;
  const original = await run(task);
  // Episodes --only-faults named that the run did not draw: the same run without them (an
  // episode never drawn is never asked about), so the shrunk run's replay does not name them.
  let best: ScenarioTask = task.onlyFaults === undefined ? { ...task } : { ...task, onlyFaults: task.onlyFaults.filter((e) => e < original.faultEpisodes) };
  let bestReport = original;
  if (original.outcome !== 'fail') return { original, shrunk: { ...task }, result: original, runs, interrupted: stopped() };
  const safety = failedOnSafety(original);
  const fails = async (candidate: ScenarioTask, what: string): Promise<boolean> => {
    if (runs >= maxRuns || stopped()) return false;
    runs++;
    const r = await run(candidate);
    // A failure of another class is not the one being shrunk (see the file's comment).
    if (r.outcome !== 'fail' || (safety && !failedOnSafety(r))) return false;
    best = candidate;
    bestReport = r;
    options.onProgress?.(`still fails ${what} (${r.failures[0] ?? 'failed'})`);
    return true;
  };
  const episodesOf = (t: ScenarioTask, r: ScenarioReport): number[] => t.onlyFaults ?? Array.from({ length: r.faultEpisodes }, (_, i) => i);

  // 1. A shorter safety phase.
  for (let faultMs = best.faultMs ?? defaults.faultMs; faultMs / 2 >= SHRINK_FAULT_MS_MIN;) {
    faultMs = Math.round(faultMs / 2);
    if (!(await fails({ ...best, faultMs }, `with ${faultMs} ms of faults`))) break;
  }
  // 1b. No transactions (the workload's two-key transactions and their clients), if it still
  // fails: without their protocol too (txnShare 0 refuses commits, which would change nothing),
  // and not tried for the 2PC coordinator's bug (it cannot act without transactions).
  if (!txn && best.unsafe !== '2pc-commit-on-timeout' && (best.txnShare ?? SCENARIO_DEFAULTS.txnShare) > 0) {
    const { commits, ...rest } = best;
    await fails({ ...rest, txnShare: 0 }, 'without transactions');
  }
  // 2. Fewer fault episodes.
  const cutEpisodes = async (): Promise<void> => {
    let kept = episodesOf(best, bestReport).filter((e) => e < bestReport.faultEpisodes);
    let chunk = Math.max(1, Math.ceil(kept.length / 2));
    while (kept.length > 0 && runs < maxRuns && !stopped()) {
      let cut = false;
      for (let at = 0; at < kept.length; at += chunk) {
        const without = [...kept.slice(0, at), ...kept.slice(at + chunk)];
        if (await fails({ ...best, onlyFaults: without }, `with fault episodes [${without.join(',')}]`)) {
          kept = without;
          cut = true;
          break;
        }
      }
      if (!cut) {
        if (chunk === 1) break;
        chunk = Math.max(1, Math.ceil(chunk / 2));
      }
    }
    if (best.onlyFaults === undefined && runs < maxRuns && !stopped()) await fails({ ...best, onlyFaults: kept }, 'with the episodes made explicit');
  };
  await cutEpisodes();
  // 3. Fewer clients and keys: halved first, one at a time walked 63, 62, ... and spent the
  // budget far from the least (1000 keys: 60 runs to 958; found by an audit, session 61).
  await shrinkInt(best.clients ?? defaults.clients, (clients) => fails({ ...best, clients }, `with ${clients} ${clients === 1 ? 'client' : 'clients'}`));
  await shrinkInt(best.keys ?? defaults.keys, (keys) => fails({ ...best, keys }, `with ${keys} ${keys === 1 ? 'key' : 'keys'}`));
  // 3b. A smaller cluster: one Paxos group per shard to read instead of several, fewer servers.
  if ((best.shards ?? SCENARIO_SHAPE_DEFAULTS.shards) > 1) await fails({ ...best, shards: 1 }, 'with 1 shard');
  const regions = best.regions ?? SCENARIO_SHAPE_DEFAULTS.regions;
  if ((best.servers ?? SCENARIO_SHAPE_DEFAULTS.servers) > 1 && (best.factor ?? SCENARIO_SHAPE_DEFAULTS.factor) <= regions)
    await fails({ ...best, servers: 1 }, 'with 1 server a region');
  // 4. With a smaller workload, maybe fewer faults still do.
  await cutEpisodes();
  return { original, shrunk: best, result: bestReport, runs, interrupted: stopped() };
}

/**
 * Shrinks an integer from `from` towards 1 while `fails(n)` holds, as QuickCheck shrinks one: a
 * cut of half the way to 1 first, then of a quarter, ... then of 1; after each kept cut, at most
 * half the way left. About twice log2(from) trials when failing is monotone in n. A value that
 * did not fail is not tried again (the other fields have not changed since: the same run).
 */
export async function shrinkInt(from: number, fails: (n: number) => Promise<boolean>): Promise<void> {
  // Values that did not fail (or were not run: the budget spent, the signal fired).
  const passed = new Set<number>();
  let n = from;
  let step = Math.ceil((n - 1) / 2);
  while (step >= 1 && n > 1) {
    if (!passed.has(n - step) && (await fails(n - step))) {
      n -= step;
      step = Math.min(step, Math.ceil((n - 1) / 2));
    } else {
      passed.add(n - step);
      step = Math.floor(step / 2);
    }
  }
}

/** How failures of liveness begin (scenario.ts): any other failure is one of safety. */
const LIVENESS_PREFIXES: readonly string[] = Object.values(LIVENESS_FAILURES);

/** Whether `r` failed on safety: a failure other than liveness (LIVENESS_FAILURES), a run that threw included. */
export function failedOnSafety(r: ScenarioReport): boolean {
  return r.failures.some((f) => !LIVENESS_PREFIXES.some((l) => f.startsWith(l)));
}

/**
 * The episode numbers of `task.onlyFaults` beyond the most its plan can draw in its safety phase
 * (episodesMax), and what is allowed; undefined when none is. Asked before any run: `--only-faults
 * 99` ran the whole seed with no fault and passed (found by an audit, session 61). Below that
 * bound a number may still not be drawn: only the run tells (each caller says so after it).
 */
export async function onlyFaultsBeyond(task: ScenarioTask): Promise<{ beyond: number[]; allowed: string } | undefined> {
  if (task.onlyFaults === undefined || scheduleOf(task) === 'builtin') return undefined;
  const txn = task.workload === 'txn';
  const nemesis = txn ? txnScenarioOptions(task, TXN_CHECK_COMMITS[0]!).nemesis : scenarioOptions(task).nemesis;
  // As the scenarios start their Nemesis: the seed's own, the targeted schedule when none is named.
  const plan = resolvePlan({ ...(nemesis === undefined || nemesis === 'builtin' ? SCENARIO_NEMESIS : nemesis), seed: task.seed }, task.seed);
  const faultMs = task.faultMs ?? (txn ? (await import('./txn-scenario.js')).TXN_SCENARIO_DEFAULTS : SCENARIO_DEFAULTS).faultMs;
  const max = episodesMax(plan, faultMs);
  const beyond = task.onlyFaults.filter((e) => e >= max);
  if (beyond.length === 0) return undefined;
  const why = `seed ${task.seed}'s plan steps every ~${plan.intervalMs} ms, at the soonest every ${plan.intervalMs / 2} ms, so ${faultMs} ms of faults draw at most ${max} fault episode${max === 1 ? '' : 's'}`;
  return { beyond, allowed: max === 0 ? `no episode numbers (${why})` : `episode numbers from 0 to ${max - 1} (${why})` };
}

/** The report of a shrink stopped before its first run: nothing ran, so neither a pass nor a fail. */
function notRun(task: ScenarioTask): ScenarioReport {
  return { ...emptyReport(task), ok: false, outcome: 'unknown', live: false, verdict: 'not run (the signal had fired before the first run)' };
}
