/**
 * Shrinking a failing seed (after QuickCheck): the seed stays, and its fault schedule and
 * workload are cut down while the run still fails. Every trial is a full deterministic run,
 * so the result replays exactly from its options.
 *
 * Order of the cuts: the safety phase (shorter), the transactions (none), the fault episodes
 * (delta debugging: halves, then quarters, ... then single episodes), the clients, the keys,
 * the cluster (one shard, then one server a region where the replication factor allows), and
 * the episodes once more.
 * Any failure counts as still failing ('fail', never 'unknown'). The transactional workload
 * (`workload: 'txn'`, with the Nemesis: 'targeted' or 'swarm') shrinks the same way, without
 * the transactions' cut (they are its workload); its episodes are numbered per protocol's run.
 */
import { checkInt } from '../cluster/config.js';
import { ConfigError, namedAs } from '../core/errors.js';
import { allKeys, checkOptions } from '../core/validate.js';
import type { ScenarioTask } from './check-runner.js';
import { checkScenarioTask, emptyReport, realTime, refuseNulls, runOneSeed, scheduleOf, shapeOf, type ScenarioReport } from './check-runner.js';
import { withInliningLowered } from './inline-budget.js';
import { SCENARIO_DEFAULTS, SCENARIO_SHAPE_DEFAULTS } from './scenario.js';

/** Trial runs a shrink may use, by default. */
export const SHRINK_RUNS_DEFAULT = 60;
export const SHRINK_RUNS_MAX = 10_000;
/** The safety phase is not cut below this. */
export const SHRINK_FAULT_MS_MIN = 250;

export interface ShrinkResult {
  /** The first run: when it did not fail, nothing was shrunk (`shrunk` is the task as given). */
  original: ScenarioReport;
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
  // Each field named as the caller wrote it: task.x, options.x.
  namedAs('task', () => {
    checkScenarioTask(task);
    if (realTime(task.transport))
      throw new ConfigError('transport', "'sim' or absent (a shrink replays the seed again and again; a real-time run does not replay)", task.transport);
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
  const schedule = scheduleOf(task);
  if (schedule === 'builtin') throw new ConfigError('schedule', "'targeted' or 'swarm' (the builtin schedule has no episodes to cut)", schedule, 'task');
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
  let runs = 1;
  const original = await runOneSeed(task);
  let best: ScenarioTask = { ...task };
  let bestReport = original;
  if (original.outcome !== 'fail') return { original, shrunk: best, result: original, runs, interrupted: stopped() };
  const fails = async (candidate: ScenarioTask, what: string): Promise<boolean> => {
    // A turn of the event loop between trials: a run in this thread may never give one, and
    // Ctrl-C (the CLI's SIGINT handler, which fires `signal`) waits for it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (runs >= maxRuns || stopped()) return false;
    runs++;
    const r = await runOneSeed(candidate);
    if (r.outcome !== 'fail') return false;
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
  // 1b. No transactions (the workload's two-key transactions and their clients), if it still fails.
  if (!txn && (best.txnShare ?? SCENARIO_DEFAULTS.txnShare) > 0) await fails({ ...best, txnShare: 0 }, 'without transactions');
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
  // 3. Fewer clients and keys.
  for (let clients = (best.clients ?? defaults.clients) - 1; clients >= 1; clients--) {
    if (!(await fails({ ...best, clients }, `with ${clients} ${clients === 1 ? 'client' : 'clients'}`))) break;
  }
  for (let keys = (best.keys ?? defaults.keys) - 1; keys >= 1; keys--) {
    if (!(await fails({ ...best, keys }, `with ${keys} ${keys === 1 ? 'key' : 'keys'}`))) break;
  }
  // 3b. A smaller cluster: one Paxos group per shard to read instead of several, fewer servers.
  if ((best.shards ?? SCENARIO_SHAPE_DEFAULTS.shards) > 1) await fails({ ...best, shards: 1 }, 'with 1 shard');
  const regions = best.regions ?? SCENARIO_SHAPE_DEFAULTS.regions;
  if ((best.servers ?? SCENARIO_SHAPE_DEFAULTS.servers) > 1 && (best.factor ?? SCENARIO_SHAPE_DEFAULTS.factor) <= regions)
    await fails({ ...best, servers: 1 }, 'with 1 server a region');
  // 4. With a smaller workload, maybe fewer faults still do.
  await cutEpisodes();
  return { original, shrunk: best, result: bestReport, runs, interrupted: stopped() };
}

/** The report of a shrink stopped before its first run: nothing ran, so neither a pass nor a fail. */
function notRun(task: ScenarioTask): ScenarioReport {
  return { ...emptyReport(task), ok: false, outcome: 'unknown', live: false, verdict: 'not run (the signal had fired before the first run)' };
}
