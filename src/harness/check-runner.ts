/**
 * `meridian check` without the command line: many seeded scenarios on a piscina pool, each
 * run and checked in a worker (sim runs are single-threaded CPU work, so seeds are the unit of
 * parallelism), and one seed replayed in this thread with its message trace.
 */
import { createRequire } from 'node:module';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  checkInt,
  checkNumber,
  isPlainObject,
  SEED_MAX,
  UNSAFE_VARIANT_MODES,
  UNSAFE_VARIANTS as VARIANTS,
  type UnsafeVariant as Variant,
} from '../cluster/config.js';
import { validateNats, type NatsConfig } from '../cluster/validate-nats.js';
import { settledWithin } from '../core/clock.js';
import { ConfigError, MeridianError, StoppedError, namedAs } from '../core/errors.js';
import { allKeys, checkOptions, firstRepeated } from '../core/validate.js';
import type { Violation } from './linearizability.js';
import { checkCheckBudget } from './check-budget.js';
import { withInliningLowered } from './inline-budget.js';
import { ALL_FAULT_KINDS, checkSimOnlyFaults, realTimeKinds, type FaultKind, type NemesisOptions } from './nemesis.js';
import {
  checkOnlyFaults,
  checkScenarioBasics,
  checkScenarioSizes,
  checkScenarioVariant,
  drawShape,
  BALANCER_CHOICES,
  LIMITS_CHOICES,
  LIVENESS_FAILURES,
  realTime,
  runScenario,
  runScenarioOn,
  SCENARIO_DEFAULTS,
  SCENARIO_NEMESIS,
  shapeFieldsOf,
  TXN_SCENARIO_KEYS_MAX,
  type ScenarioOptions,
  type ScenarioResult,
  type BalancerChoice,
  type LimitsChoice,
  type ScenarioShape,
} from './scenario.js';
import { TXN_UNSAFE_VARIANTS, type TxnUnsafe } from '../replication/ops.js';
import type { TxnScenarioOptions, TxnScenarioResult } from './txn-scenario.js';
import { THREEPC_NOTE, TXN_CHECK_COMMITS, TXN_COMMITS, type TxnCommit } from './txn-commits.js';
import { SeedStop } from './seed-stop.js';
import { makeTempDir, removeTempDir } from '../runtime/temp-dirs.js';

export type CheckMode = 'active' | 'passive' | 'hybrid';
export const CHECK_MODES: readonly CheckMode[] = ['active', 'passive', 'hybrid'];
export type UnsafeVariant = Variant;
export const UNSAFE_VARIANTS: readonly UnsafeVariant[] = VARIANTS;
/**
 * 'targeted' (the kv workload's default): the scenario's nemesis with every fault kind
 * (SCENARIO_NEMESIS); 'swarm': FAULT_KINDS (the 17 default kinds, or `faults` if given), no
 * weights, each seed drawing which kinds take part and the rates; 'builtin': a fixed schedule of the workload's own (kv: crashes and region partitions;
 * txn, its default: crashes and pauses of servers and coordinators, region cuts).
 */
export type ScheduleName = 'targeted' | 'swarm' | 'builtin';
export const SCHEDULES: readonly ScheduleName[] = ['targeted', 'swarm', 'builtin'];

/** The mode a variant runs in when none is given: the layer it breaks must be there (the first of UNSAFE_VARIANT_MODES). */
export function defaultModeFor(unsafe: UnsafeVariant | undefined): CheckMode {
  const first = unsafe === undefined ? undefined : UNSAFE_VARIANT_MODES[unsafe]?.modes[0];
  return first === undefined || first === 'none' ? 'active' : first;
}

/** 'kv': single-key operations, checked for linearizability; 'txn': read/append transactions, checked as Elle does. */
export type Workload = 'kv' | 'txn';
export const WORKLOADS: readonly Workload[] = ['kv', 'txn'];
export { TXN_UNSAFE_VARIANTS, TXN_CHECK_COMMITS, TXN_COMMITS, THREEPC_NOTE, realTime, type TxnUnsafe, type TxnCommit };

export const CHECK_RUN_WORKERS_DEFAULT = 2;
/**
 * The workers a run has when none are asked for: CHECK_RUN_WORKERS_DEFAULT in the simulator,
 * 1 in real time (threads, nats), where each seed's cluster has a dozen threads (or host
 * processes) of its own and seeds side by side would slow each other's timing.
 */
export function checkRunWorkersDefault(transport: CheckTransport | undefined): number {
  return realTime(transport) ? 1 : CHECK_RUN_WORKERS_DEFAULT;
}
export const CHECK_RUN_WORKERS_MAX = 64;
export const CHECK_RUN_SEEDS_MAX = 1_000_000;
/**
 * The passed seeds' reports a run keeps by default (CheckRunOptions.keepPassedReports). A run
 * may have CHECK_RUN_SEEDS_MAX seeds (`meridian check --time-limit` without --seeds): every
 * report kept (about 1.4 KB each once copied from its worker, by session 69's audit of
 * long-lived processes) came to about 1.4 GB in the main thread by the end of the run.
 */
export const CHECK_RUN_PASSED_REPORTS_KEPT = 10_000;
/** The longest `timeLimitMs` runChecks takes: a week. */
export const CHECK_RUN_TIME_LIMIT_MS_MAX = 7 * 24 * 3_600_000;
/**
 * Tasks in flight per worker: one, so a task runs as soon as it is posted and its wall-time
 * limit (seedWallMs) counts its own run, not a wait behind another seed.
 */
export const TASKS_IN_FLIGHT_PER_WORKER = 1;
/**
 * Wall time a simulated seed may take on the pool before its worker is stopped and the seed
 * fails as hung (a run whose virtual time stopped, e.g. messages bouncing at zero latency for
 * ever). Far beyond any normal run: the only verdict here that depends on the machine, not the
 * seed. A real-time seed's limit is its own (seedWallMs).
 */
export const SEED_WALL_MS_MAX = 120_000;
/**
 * In real time (threads, nats) a seed's wall time is its runs' own: each a fault phase, then
 * the retries a cluster that is not live drags out (the txn scenario's liveness phase, 20
 * attempts a client with backoff, and its final read, 40 attempts, each up to a 1.5 s
 * timeout: a 2PC run of `--unsafe vote-before-prepare-durable` took 139 and 142 s on threads,
 * 2026-12-05). A run's limit is its fault phase plus this. At 120 s, as in the simulator,
 * each of 10 seeds of that variant on threads (both protocols) failed as hung, whatever it
 * found.
 */
export const REAL_TIME_RUN_TAIL_MS = 300_000;

/** The wall time `task` may take before it fails as hung: SEED_WALL_MS_MAX in the simulator; in real time its runs' fault phases, each plus REAL_TIME_RUN_TAIL_MS. */
export function seedWallMs(task: Pick<ScenarioTask, 'transport' | 'workload' | 'commits' | 'faultMs'>): number {
  if (!realTime(task.transport)) return SEED_WALL_MS_MAX;
  // A txn seed runs once per protocol; the kv default fault phase is the longer of the two.
  const runs = task.workload === 'txn' ? (task.commits ?? TXN_CHECK_COMMITS).length : 1;
  return runs * ((task.faultMs ?? SCENARIO_DEFAULTS.faultMs) + REAL_TIME_RUN_TAIL_MS);
}

/**
 * What a run sets for every one of its seeds (CheckRunOptions) and each seed's task carries
 * (ScenarioTask): plain data, absent fields the scenarios' defaults.
 */
export interface SeedOptions {
  unsafe?: UnsafeVariant;
  /**
   * Default 'kv'. 'txn': the transactional workload, once per protocol in `commits` (default
   * both that claim it). With 'kv', `commits` holds at most one: the protocol of the kv
   * workload's two-key transactions (default '2pc').
   */
  workload?: Workload;
  commits?: TxnCommit[];
  txnUnsafe?: TxnUnsafe;
  /** The scenario's clients, keys and fault phase (ms) (what shrinking reduces, kv only). */
  clients?: number;
  keys?: number;
  faultMs?: number;
  /** Share of the kv workload's calls that are two-key transactions (0 to 1). */
  txnShare?: number;
  /** Draw the cluster's shape from the seed (drawShape), in place of the four fields below. */
  randomShape?: boolean;
  /** The cluster's shape (kv and txn workloads): regions, servers per region, replicas per shard, shards. */
  regions?: number;
  servers?: number;
  factor?: number;
  shards?: number;
  /**
   * The fault kinds the schedule draws from (targeted or swarm; not builtin): default, the
   * schedule's own (the targeted one's weights still apply to those named). For the txn
   * workload, naming kinds makes the schedule 'targeted' unless it is given.
   */
  faults?: FaultKind[];
  /** The clusters' memory bounds (kv and txn workloads): see ScenarioOptions.limits (default 'drawn'). */
  limits?: LimitsChoice;
  /** How the clusters' balancers place requests (kv and txn workloads): see ScenarioOptions.balancer (default 'round-robin'). */
  balancer?: BalancerChoice;
  /**
   * Default 'sim'. 'threads' (either workload): each seed's cluster on real worker threads, in real
   * time; 'nats': each seed's cluster in host processes of its own, talking through the NATS
   * servers `nats` names. The seed fixes the fault plan and the workload's choices, not the
   * timing: a failing seed does not replay (run it again in real time, or in the simulator).
   */
  transport?: CheckTransport;
  /**
   * With transport 'nats' (and only then, required): the servers, and the host processes each
   * seed's cluster spawns (`processes`, as ClusterConfig.nats; `hosts` is refused: a seed's
   * cluster cannot wait for hosts started elsewhere). Each cluster draws a name of its own,
   * so seeds in flight at once share the servers without meeting.
   */
  nats?: CheckNats;
  /**
   * The checker's search budget for every seed, a multiple of its default (above 0, at most
   * CHECK_BUDGET_MAX; see ScenarioOptions.checkBudget): a seed the default budget leaves
   * 'unknown' may be decided with more.
   */
  checkBudget?: number;
}

export type CheckTransport = 'sim' | 'threads' | 'nats';
export const CHECK_TRANSPORTS: readonly CheckTransport[] = ['sim', 'threads', 'nats'];
/** ClusterConfig.nats as a check takes it: no hosts started elsewhere, no cluster name (see checkNats). */
export type CheckNats = Pick<NatsConfig, 'servers' | 'processes'>;

/** SeedOptions' fields (all of them: allKeys checks it at compile time), for copying those set from one object to another (seedOptionsOf). */
const SEED_OPTION_FIELDS = allKeys<SeedOptions>()([
  'unsafe',
  'workload',
  'commits',
  'txnUnsafe',
  'clients',
  'keys',
  'faultMs',
  'txnShare',
  'randomShape',
  'regions',
  'servers',
  'factor',
  'shards',
  'faults',
  'limits',
  'balancer',
  'transport',
  'nats',
  'checkBudget',
]);

/** The SeedOptions fields of `o` that are set. */
export function seedOptionsOf(o: SeedOptions): SeedOptions {
  const out: Record<string, unknown> = {};
  for (const field of SEED_OPTION_FIELDS) if (o[field] !== undefined) out[field] = o[field];
  return out as SeedOptions;
}

/** One seed, as posted to a worker: plain data only. */
export interface ScenarioTask extends SeedOptions {
  seed: number;
  mode: CheckMode;
  schedule?: ScheduleName;
  onlyFaults?: number[];
}

/** What a worker sends back: the verdict and what explains it, not the whole history. */
export interface ScenarioReport {
  seed: number;
  mode: CheckMode;
  ok: boolean;
  /**
   * 'unknown': the checker ran out of budget and nothing else failed, or (transport 'nats') the
   * run's NATS connection was lost during the seed (unknownReason): neither a pass nor a catch.
   */
  outcome: 'pass' | 'fail' | 'unknown';
  /** What failed, one phrase each. */
  failures: string[];
  /** Share of the seed's operations whose outcome stayed unknown (timed out). */
  unknownShare: number;
  /** Fault episodes the nemesis drew (0 with the builtin schedule). */
  faultEpisodes: number;
  live: boolean;
  verdict: string;
  operations: number;
  faults: string[];
  violations: Violation[];
  timedOut: string[];
  /** The keys of timedOut whose search stopped on the checker's memory bound (CheckResult.memoryBound). */
  memoryBound: string[];
  /**
   * The run's trace hash (0 in real time): what `meridian check --seed S` prints on its verdict
   * line. A 'txn' seed runs once per commit protocol, each with a hash of its own (traceHashes,
   * each on its replay's verdict line); this is then theirs combined, h = (h * 31 + each) >>> 0
   * from h = 0 in the order run, which matches no replay line.
   */
  traceHash: number;
  /**
   * 'txn' workload: each commit protocol's run's trace hash, in the order run (the combined
   * traceHash alone matched neither replay line: found by an audit, session 55).
   */
  traceHashes?: Array<{ commit: TxnCommit; traceHash: number }>;
  /** Wall time of the run and the check (the only thing here that is not a function of the seed). */
  elapsedMs: number;
  /** The run itself threw (a bug in the cluster or the harness): the seed fails. */
  error?: string;
  /**
   * Why the seed is 'unknown' when it is not the checker's budget: the run's NATS connection
   * was lost during it (runChecks: an outage of the NATS servers, not a finding).
   */
  unknownReason?: string;
  /** 'txn' workload: the anomalies found, a line each (at most a few per protocol). */
  anomalies?: string[];
  /** The shape the seed drew (`randomShape`), for its replay line. */
  shape?: ScenarioShape;
}

export interface CheckRunOptions extends SeedOptions {
  /** First seed (default 1). */
  from?: number;
  /** How many seeds: from, from + 1, ... */
  seeds: number;
  /** Default CHECK_RUN_WORKERS_DEFAULT, or 1 with a real-time transport (checkRunWorkersDefault); with `pool`, its `workers` (or absent). */
  workers?: number;
  /**
   * Run the seeds on this pool (createCheckPool) and leave it open, its workers warm for the
   * next run; default: a pool of the run's own, destroyed before runChecks returns. Runs on one
   * pool take turns, in call order: a run begins (its `timeLimitMs` and `elapsedMs` count from
   * then) once the runs called before it on the pool have ended. Closing the pool ends a run
   * on it, or waiting for it, with a StoppedError.
   */
  pool?: CheckPool;
  mode?: CheckMode;
  schedule?: ScheduleName;
  /** Called as each seed finishes (in completion order, which varies with the workers). */
  onReport?: (report: ScenarioReport, done: number, total: number) => void;
  /**
   * Stops the run when it fires: no seed starts after it, and the seeds in flight are dropped
   * (their workers stopped, no report). The summary holds the seeds that finished before it,
   * with `interrupted` set.
   */
  signal?: AbortSignal;
  /**
   * Stop once this many seeds have failed (default: never): no seed starts after that, and
   * the seeds in flight are dropped, as on `signal`. The summary says `stoppedAtFailures`.
   * With one worker the seeds run in order, so the run stops right after the failing seed
   * that reached the count.
   */
  maxFailures?: number;
  /**
   * Stop once this many milliseconds of wall time have passed since the run began (default:
   * no limit): no seed starts after that, and the seeds in flight are dropped, as on
   * `signal`; but a run stopped by its time limit always reports at least one seed: while none
   * has finished, the limit waits for the first to finish (a cold pool worker on a loaded
   * machine can take longer than a short limit for its first seed) and stops then. The
   * summary says `stoppedAtTimeLimit`. For a run that fills a time budget (`seeds` then bounds
   * it from above: CHECK_RUN_SEEDS_MAX for "as many as fit").
   */
  timeLimitMs?: number;
  /**
   * How many passed seeds' reports `reports` keeps at most (default
   * CHECK_RUN_PASSED_REPORTS_KEPT, 10,000; an integer from 0 to CHECK_RUN_SEEDS_MAX, which
   * keeps them all): those of the first to finish. A passed seed beyond them is counted
   * (`passed`, `ran`, `operations`, `unknownShares`) and its report dropped
   * (`passedReportsLeftOut`), so that a long run holds a bounded number of reports. Every
   * failed and unknown seed's report is kept.
   */
  keepPassedReports?: number;
}

/**
 * The share of calls whose outcome stayed unknown (timed out), over the seeds that ran an
 * operation: `mean` and `max` (undefined when none did), and how many seeds were `leftOut` (0
 * operations: a seed that crashed or hung before its workload).
 */
export interface UnknownShares {
  mean: number | undefined;
  max: number | undefined;
  leftOut: number;
}

/** What the reports a run dropped add to UnknownShares and its operations. */
interface DroppedReports {
  seeds: number;
  /** Those of them that ran an operation, and the sum and max of their unknownShare. */
  counted: number;
  sum: number;
  max: number | undefined;
  operations: number;
}

function noneDropped(): DroppedReports {
  return { seeds: 0, counted: 0, sum: 0, max: undefined, operations: 0 };
}

function addDropped(d: DroppedReports, r: Pick<ScenarioReport, 'unknownShare' | 'operations'>): void {
  d.seeds++;
  d.operations += r.operations;
  if (r.operations === 0) return;
  d.counted++;
  d.sum += r.unknownShare;
  d.max = d.max === undefined ? r.unknownShare : Math.max(d.max, r.unknownShare);
}

/**
 * UnknownShares of `reports` and of those a run `dropped`. A loop, not Math.max(...shares):
 * spread over more than about 10^5 seeds' shares threw "Maximum call stack size exceeded", so a
 * `meridian check` of that many seeds lost its summary and --json at the end (session 69).
 */
export function unknownSharesOf(reports: readonly Pick<ScenarioReport, 'unknownShare' | 'operations'>[], dropped = noneDropped()): UnknownShares {
  let sum = 0;
  let counted = 0;
  let max = dropped.max;
  for (const r of reports) {
    if (r.operations === 0) continue;
    sum += r.unknownShare;
    counted++;
    max = max === undefined ? r.unknownShare : Math.max(max, r.unknownShare);
  }
  const leftOut = reports.length + dropped.seeds - counted - dropped.counted;
  if (counted + dropped.counted === 0) return { mean: undefined, max: undefined, leftOut };
  // The kept reports' sum first, in seed order: with none dropped, the mean is the one it was.
  return { mean: (dropped.counted === 0 ? sum : sum + dropped.sum) / (counted + dropped.counted), max, leftOut };
}

export interface CheckRunSummary {
  /**
   * Sorted by seed: every failed and unknown seed's, and the passed seeds' up to
   * `keepPassedReports` (those of the first to finish; see passedReportsLeftOut).
   */
  reports: ScenarioReport[];
  failed: ScenarioReport[];
  /** Every passed seed, its report kept or not. */
  passed: number;
  /** Seeds that finished (reports.length + passedReportsLeftOut). */
  ran: number;
  /**
   * Passed seeds whose reports were dropped, beyond `keepPassedReports`: counted in `passed`,
   * `ran`, `operations` and `unknownShares`, absent from `reports`. 0 unless a run passed more
   * seeds than that.
   */
  passedReportsLeftOut: number;
  /** Over every seed that finished, its report kept or not (unknownSharesOf). */
  unknownShares: UnknownShares;
  /** Seeds whose check ran out of budget with nothing else failing, or that met a NATS outage (unknownReason). */
  unknown: ScenarioReport[];
  operations: number;
  elapsedMs: number;
  workers: number;
  /** The run's `signal` fired: `reports` holds only the seeds that finished before it. */
  interrupted: boolean;
  /** `maxFailures` seeds failed, so the run stopped there (`reports` holds the seeds that finished). */
  stoppedAtFailures: boolean;
  /** `timeLimitMs` passed before every seed had run (`reports` holds the seeds that finished). */
  stoppedAtTimeLimit: boolean;
  /**
   * Transport 'nats': the NATS servers could not be reached before a seed, so the run started no
   * more (`reports` holds the seeds that finished); why, naming the servers.
   */
  natsUnreachable?: string;
}

export function scenarioOptions(task: ScenarioTask): ScenarioOptions {
  const options: ScenarioOptions = { seed: task.seed, mode: task.mode };
  if (task.unsafe !== undefined) options.unsafe = task.unsafe;
  if (task.schedule === 'swarm') options.nemesis = task.faults === undefined ? { swarm: true } : { swarm: true, faults: task.faults };
  else if (task.faults !== undefined && task.schedule !== 'builtin') options.nemesis = { ...SCENARIO_NEMESIS, faults: task.faults };
  if (task.schedule === 'builtin') options.nemesis = 'builtin';
  if (task.clients !== undefined) options.clients = task.clients;
  if (task.keys !== undefined) options.keys = task.keys;
  if (task.faultMs !== undefined) options.faultMs = task.faultMs;
  if (task.txnShare !== undefined) options.txnShare = task.txnShare;
  if (task.limits !== undefined) options.limits = task.limits;
  if (task.balancer !== undefined) options.balancer = task.balancer;
  Object.assign(options, shapeOf(task));
  if (task.onlyFaults !== undefined) options.onlyFaults = task.onlyFaults;
  if (task.commits !== undefined) options.commit = kvCommit(task);
  if (task.transport !== undefined) options.transport = task.transport;
  if (task.nats !== undefined) options.nats = task.nats;
  if (task.checkBudget !== undefined) options.checkBudget = task.checkBudget;
  return options;
}

/**
 * The kv workload's commit protocol: one of TXN_COMMITS (default '2pc'), and '2pc' for the
 * 2PC-only variant.
 */
function kvCommit(o: { commits?: TxnCommit[] | undefined; unsafe?: UnsafeVariant | undefined }): TxnCommit {
  const commits = o.commits ?? ['2pc'];
  if (commits.length !== 1 || !TXN_COMMITS.includes(commits[0]!))
    throw new ConfigError('commits', `one of ${TXN_COMMITS.join(', ')} for the kv workload (its transactions' protocol)`, o.commits);
  if (o.unsafe === '2pc-commit-on-timeout' && commits[0] !== '2pc')
    throw new ConfigError('commits', "'2pc' with unsafe '2pc-commit-on-timeout' (a 2PC coordinator's bug)", o.commits);
  return commits[0]!;
}

/**
 * Run and check one seed (in a worker, or inline). Never throws: a crash is a failing report.
 * `seed`: the seed's clusters start through it, and its stop() stops them (runSeedJob).
 */
export async function runOneSeed(task: ScenarioTask, seed?: SeedStop): Promise<ScenarioReport> {
  const started = performance.now();
  if (task.workload === 'txn') return runTxnSeed(task, started, seed);
  try {
    const r = await (seed === undefined ? runScenario(scenarioOptions(task)) : runScenarioOn(scenarioOptions(task), seed.start));
    return {
      seed: r.seed,
      mode: task.mode,
      ok: r.ok,
      outcome: r.outcome,
      failures: r.failures,
      unknownShare: r.unknownShare,
      faultEpisodes: r.faultEpisodes,
      live: r.live,
      verdict: r.check.verdict,
      operations: r.operations,
      faults: r.faults,
      violations: r.check.violations,
      timedOut: r.check.timedOut,
      memoryBound: r.check.memoryBound,
      traceHash: r.traceHash,
      elapsedMs: performance.now() - started,
      ...drawnShape(task),
    };
  } catch (error) {
    return {
      ...failedReport(task, 'the run threw', performance.now() - started),
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
}

/** The transactional workload for one seed, once per commit protocol; it passes when every run does. */
async function runTxnSeed(task: ScenarioTask, started: number, seed: SeedStop | undefined): Promise<ScenarioReport> {
  const report: ScenarioReport = { ...emptyReport(task), anomalies: [], traceHashes: [] };
  const verdicts: string[] = [];
  const stateDiffs: string[] = [];
  const partial: string[] = [];
  const behind: string[] = [];
  const wentBack: string[] = [];
  const assertions: string[] = [];
  // Why a protocol's run was not live (TxnScenarioResult.notLive), by protocol.
  const notLive: string[] = [];
  let indefinite = 0;
  // A protocol's run that failed makes the seed fail; one left undecided (and none failed), unknown.
  let anyFailed = false;
  let anyUnknown = false;
  // Loaded here: a kv check's workers never run it (nor its Elle checker).
  const { runTxnScenario } = await import('./txn-scenario.js');
  for (const commit of task.commits ?? TXN_CHECK_COMMITS) {
    try {
      const r = await runTxnScenario(txnScenarioOptions(task, commit), seed?.start);
      report.ok &&= r.ok;
      report.live &&= r.live;
      anyFailed ||= r.outcome === 'fail';
      anyUnknown ||= r.outcome === 'unknown';
      report.operations += r.transactions;
      indefinite += r.indefinite;
      report.traceHash = (report.traceHash * 31 + r.traceHash) >>> 0;
      report.traceHashes!.push({ commit, traceHash: r.traceHash });
      verdicts.push(`${commit}: ${r.verdict}${r.live ? '' : ', not live'} (${r.committed} of ${r.transactions} committed)`);
      report.anomalies!.push(...r.anomalies.map((a) => `${commit}: ${a}`));
      stateDiffs.push(...r.stateDiffs.map((d) => `${commit}: ${d}`));
      partial.push(...r.partial.map((d) => `${commit}: ${d}`));
      behind.push(...r.behind.map((b) => `${commit}: ${b}`));
      wentBack.push(...r.wentBack.map((w) => `${commit}: ${w}`));
      assertions.push(...r.assertions.map((a) => `${commit}: ${a}`));
      if (r.notLive !== undefined) notLive.push(`${commit}: ${r.notLive}`);
      report.faults.push(...r.faults.map((f) => `${commit}: ${f}`));
      // Episodes are numbered per run (each protocol's); `onlyFaults` names them in every run.
      report.faultEpisodes = Math.max(report.faultEpisodes, r.faultEpisodes);
    } catch (error) {
      report.ok = false;
      report.live = false;
      verdicts.push(`${commit}: threw`);
      report.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
    }
  }
  report.verdict = verdicts.join('; ');
  // Transactions whose outcome stayed unknown (timed out: committed or not), over all protocols' runs.
  report.unknownShare = report.operations === 0 ? 0 : indefinite / report.operations;
  if (report.error === undefined && !anyFailed && anyUnknown) {
    // Only the checker's search ran out of budget: neither a pass nor a catch.
    report.outcome = 'unknown';
  } else if (!report.ok) {
    report.outcome = 'fail';
    if (report.error !== undefined) report.failures.push('the run threw');
    else {
      if (!report.live) report.failures.push(`${LIVENESS_FAILURES.notLive} (${notLive.join('; ')})`);
      if (
        report.anomalies!.length > 0 ||
        (report.live && stateDiffs.length === 0 && partial.length === 0 && behind.length === 0 && wentBack.length === 0 && assertions.length === 0)
      )
        report.failures.push('not serializable');
    }
    for (const d of stateDiffs) report.failures.push(`replica state differs: ${d}`);
    for (const b of behind) report.failures.push(`${LIVENESS_FAILURES.behind}: ${b}`);
    report.failures.push(...wentBack);
    for (const a of assertions.slice(0, 5)) report.failures.push(`assertion failed: ${a}`);
    for (const d of partial.slice(0, 5)) report.failures.push(d);
  }
  report.elapsedMs = performance.now() - started;
  return report;
}

/** Replay one seed of the transactional workload in this thread, with its trace. */
export async function replayTxnSeed(task: ScenarioTask, commit: TxnCommit): Promise<TxnScenarioResult> {
  const { runTxnScenario } = await import('./txn-scenario.js');
  return runTxnScenario({ ...txnScenarioOptions(task, commit), trace: true });
}

/**
 * The transactional scenario's options for a task: its own fault schedule unless the task names
 * 'targeted' or 'swarm' (then the kv scenario's Nemesis, drawing from `faults` if given).
 */
export function txnScenarioOptions(task: ScenarioTask, commit: TxnCommit): TxnScenarioOptions {
  const options: TxnScenarioOptions = { seed: task.seed, commit, mode: task.mode, ...shapeOf(task) };
  if (task.txnUnsafe !== undefined) options.unsafe = task.txnUnsafe;
  if (task.limits !== undefined) options.limits = task.limits;
  if (task.balancer !== undefined) options.balancer = task.balancer;
  if (task.clients !== undefined) options.clients = task.clients;
  if (task.keys !== undefined) options.keys = task.keys;
  if (task.faultMs !== undefined) options.faultMs = task.faultMs;
  if (task.transport !== undefined) options.transport = task.transport;
  if (task.nats !== undefined) options.nats = task.nats;
  if (task.checkBudget !== undefined) options.checkBudget = task.checkBudget;
  const schedule = scheduleOf(task);
  if (schedule === 'builtin') return options;
  // The targeted schedule's simulator-only kinds left out in real time (a caller naming them is refused).
  const targeted = realTime(task.transport) ? realTimeKinds(SCENARIO_NEMESIS) : SCENARIO_NEMESIS;
  const nemesis: NemesisOptions = schedule === 'swarm' ? { swarm: true } : { ...targeted };
  if (task.faults !== undefined) nemesis.faults = task.faults;
  if (task.onlyFaults !== undefined) nemesis.only = task.onlyFaults;
  options.nemesis = nemesis;
  return options;
}

/**
 * The schedule a run or task uses: the one named, else its workload's default: 'targeted' for
 * kv; for txn its own ('builtin'), or 'targeted' when fault kinds are named.
 */
export function scheduleOf(o: Pick<SeedOptions, 'workload' | 'faults'> & { schedule?: ScheduleName | undefined }): ScheduleName {
  return o.schedule ?? (o.workload === 'txn' && o.faults === undefined ? 'builtin' : 'targeted');
}

/** The cluster shape a task gives (drawn from its seed with `randomShape`), its fields that are set. */
export function shapeOf(task: ScenarioTask): Partial<ScenarioShape> {
  return task.randomShape === true ? drawShape(task.seed) : shapeFieldsOf(task);
}

function hungReport(task: ScenarioTask, elapsedMs: number, limitMs: number): ScenarioReport {
  const why = realTime(task.transport) ? 'its fault phase and retries end well before' : 'virtual time stopped?';
  return failedReport(task, `hung: no result after ${(limitMs / 1000).toFixed(0)} s of wall time (${why}); its worker was stopped`, elapsedMs);
}

/** A passing report of nothing yet: what a run adds its results to. */
export function emptyReport(task: ScenarioTask): ScenarioReport {
  return {
    seed: task.seed,
    mode: task.mode,
    ok: true,
    outcome: 'pass',
    failures: [],
    unknownShare: 0,
    faultEpisodes: 0,
    live: true,
    verdict: '',
    operations: 0,
    faults: [],
    violations: [],
    timedOut: [],
    memoryBound: [],
    traceHash: 0,
    elapsedMs: 0,
    ...drawnShape(task),
  };
}

/** `{ shape }` when the task draws its shape, else nothing. */
function drawnShape(task: ScenarioTask): { shape?: ScenarioShape } {
  return task.randomShape === true ? { shape: drawShape(task.seed) } : {};
}

/** A seed that failed before it could be checked (it threw, or hung): no verdict, not live. */
function failedReport(task: ScenarioTask, failure: string, elapsedMs: number): ScenarioReport {
  return { ...emptyReport(task), ok: false, outcome: 'fail', failures: [failure], live: false, verdict: 'unknown', elapsedMs };
}

// A CommonJS entry that import()s workers/scenario.js (see workers/scenario-entry.cts).
const workerFile = fileURLToPath(new URL('../../workers/scenario-entry.cjs', import.meta.url));

/**
 * What a pool thread posts on its parentPort once its task module is loaded, `{ [key]: threadId }`
 * (workers/scenario-entry.cts spells the key out too): ScenarioPool ends no thread before it
 * has said so (for at most POOL_LOAD_WAIT_MS).
 */
export const POOL_THREAD_LOADED = 'meridianPoolThreadLoaded';

/**
 * The longest ScenarioPool waits for its threads still loading their task module before it ends
 * them regardless: a thread ended in the middle of loading an ES module graph synchronously
 * (piscina require()d it) aborted the whole process on Node 20.19 (V8's IsGraphAsync check).
 * A pool thread loads in about half a second of CPU.
 */
export const POOL_LOAD_WAIT_MS = 3_000;

/** How often the pool looks whether its threads have loaded, while it waits for them. */
const POOL_LOAD_POLL_MS = 10;

/**
 * What a pool worker is posted (workers/scenario.ts runs it with runSeedJob): a seed, and for
 * a real-time one the port on which the pool asks it to stop (ScenarioPool.run).
 */
export interface SeedJob {
  task: ScenarioTask;
  stop?: MessagePort;
}

/**
 * The longest wait, once a real-time seed is dropped, for its worker to stop the seed's
 * clusters before the thread is ended regardless (a cluster booting when asked is stopped once
 * booted: its hosts have HOST_READY_TIMEOUT_MS, 20 s, to join, and a NATS host 3 s to exit).
 */
export const SEED_STOP_WAIT_MS = 30_000;

/**
 * A pool worker's task: runOneSeed. A real-time seed asked to stop on its port stops its
 * clusters (SeedStop), says 'stopped' and never settles: the pool ends the thread, as it ends a
 * simulated seed's at once. A seed that ended before the ask returns its report as usual.
 */
export async function runSeedJob({ task, stop }: SeedJob): Promise<ScenarioReport> {
  if (stop === undefined) return runOneSeed(task);
  const seed = new SeedStop();
  let asked = false;
  stop.once('message', () => {
    asked = true;
    void seed.stop().then(() => stop.postMessage('stopped'));
  });
  const report = await runOneSeed(task, seed);
  if (asked) return new Promise<never>(() => undefined);
  stop.close();
  return report;
}

/**
 * Worker threads for runChecks that outlive a run: a pool worker spends about a CPU second
 * compiling and warming up before its seeds run at full speed, which a run on a pool of its own
 * pays every time. From createCheckPool. A thread that fails (its module does not load, or it
 * dies under a seed; a seed's own failure is a report) fails the pool: the run on it and every
 * later one reject with an Error naming what the thread threw. Close it and make another.
 */
export interface CheckPool {
  /** Its threads (the `workers` of every run on it). */
  readonly workers: number;
  /** Closed: close() was called. */
  readonly closed: boolean;
  /**
   * Stops its threads. A run on it (or waiting for it) ends with a StoppedError. Idempotent:
   * every call returns the same promise. An open pool's idle threads do not keep the process
   * alive, so a pool never closed costs its threads' memory until exit, not a hang.
   */
  close(): Promise<void>;
}

export interface CheckPoolOptions {
  /** Threads, from 1 to CHECK_RUN_WORKERS_MAX (default CHECK_RUN_WORKERS_DEFAULT). */
  workers?: number;
}

const CHECK_POOL_OPTION_FIELDS = allKeys<CheckPoolOptions>()(['workers']);

class ScenarioPool implements CheckPool {
  readonly workers: number;
  readonly #piscina: Piscina;
  readonly #closing = new AbortController();
  #closed: Promise<void> | undefined;
  /** Set by end(): the threads' ending. */
  #ended: Promise<void> | undefined;
  /** The real-time seeds in flight: each asks its seed to stop, and resolves once it has (or has ended). */
  readonly #stoppable = new Set<() => Promise<void>>();
  /** Settles when every run begun on the pool so far has ended: the next run's turn. */
  #idle: Promise<unknown> = Promise.resolve();
  /** What a failed thread threw (see `failure`), and the signal that stops the runs on the pool. */
  #failure: { error: unknown; seed?: number } | undefined;
  readonly #failing = new AbortController();
  /**
   * The live threads (their ids) that said they loaded their task module (POOL_THREAD_LOADED),
   * and perhaps one ended since: a replaced thread's id goes when the next thread says it
   * loaded (it kept an id per thread ever replaced). Never empty again once a thread loaded
   * (see fail).
   */
  readonly #loaded = new Set<number>();
  /**
   * The folder every temporary folder of the pool's threads is made in (their TMPDIR): removed
   * once the threads have ended. A thread ended between making a folder and telling this
   * thread of it (src/runtime/temp-dirs.ts's note) left the folder behind (cli-leftovers' double
   * Ctrl-C test in a fresh-clone CI run, session 58).
   */
  readonly #tempParent: string;

  /** `filename`: the task module (the scenario worker; a test gives its own). */
  constructor(workers: number, filename = workerFile) {
    this.workers = workers;
    // Loaded here (require: createCheckPool returns at once, its threads starting): the pool's
    // workers import this module too, and need no pool of their own.
    const { Piscina } = createRequire(import.meta.url)('piscina') as typeof import('piscina');
    // Its threads load the scenario module as they start; piscina unrefs them, and refs a
    // thread's port only while a task is on it, so an idle pool does not keep the process alive.
    // Named with this process's id: the folders of a `meridian check` killed with SIGKILL (its
    // clusters' logs inside) go when the next pool is made (makeTempDir's owned).
    this.#tempParent = makeTempDir('meridian-pool-', { owned: true });
    this.#piscina = new Piscina({ filename, minThreads: workers, maxThreads: workers, env: { ...process.env, TMPDIR: this.#tempParent } });
    this.#piscina.on('message', (message: unknown) => {
      const id = typeof message === 'object' && message !== null ? (message as Record<string, unknown>)[POOL_THREAD_LOADED] : undefined;
      if (typeof id !== 'number') return;
      // An ended Worker's threadId is -1: the ids not among the threads are of ended ones.
      const live = new Set(this.#piscina.threads.map((w) => w.threadId));
      for (const known of this.#loaded) if (!live.has(known)) this.#loaded.delete(known);
      this.#loaded.add(id);
    });
    // A thread that fails with no task on it (its module throws as it loads: a broken build)
    // makes piscina emit 'error', which with no listener would end the process; and piscina
    // starts no thread again after one failed to load, so the runs waiting for a thread would
    // wait for ever. The pool is failed for good: the run on it stops, and every later one
    // rejects with what the thread threw.
    this.#piscina.on('error', (error: unknown) => this.fail(error));
    OPEN_POOLS.add(this);
  }

  /**
   * A thread failed (outside any seed, or under one: not the seed's own failure, which is a
   * report). `seed`: the seed its task ran, said when a thread of the pool has loaded the task
   * module (then the module loads, and what ended the thread is the seed's run: an exception
   * thrown where nothing catches it, say); a failure under a seed named none, so the seed that
   * killed the thread could not be replayed (an audit, session 62).
   */
  fail(error: unknown, seed?: number): void {
    this.#failure ??= seed === undefined || this.#loaded.size === 0 ? { error } : { error, seed };
    this.#failing.abort();
  }

  /** For tests: how many thread ids #loaded holds (at most `workers` + 1). */
  get loadedThreads(): number {
    return this.#loaded.size;
  }

  /** What a failed thread threw, if one failed, and the seed it ran when known (see fail): the pool runs nothing more. */
  get failure(): { error: unknown; seed?: number } | undefined {
    return this.#failure;
  }

  /** Fires when a thread fails (see `failure`). */
  get failing(): AbortSignal {
    return this.#failing.signal;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Fires when close() is called: it stops the run on the pool, and the runs waiting for it. */
  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /**
   * Stops the real-time seeds in flight (their clusters: threads or host processes, and
   * temporary folders), for at most SEED_STOP_WAIT_MS, then the threads. It ended the threads
   * at once: a thread's clusters were never stopped, and their folders stayed (found by a
   * review, session 57). No seed starts meanwhile (run() rejects once closed).
   */
  close(): Promise<void> {
    if (this.#closed === undefined) {
      const stopping = [...this.#stoppable].map((stop) => stop());
      this.#closed = (async () => {
        if (stopping.length > 0) await settledWithin(Promise.all(stopping), SEED_STOP_WAIT_MS);
        await this.end();
      })();
    }
    return this.#closed;
  }

  /**
   * Ends the threads under their seeds, once none is still loading its task module (for at most
   * POOL_LOAD_WAIT_MS), and resolves once they have ended (the threads their clusters run on
   * with them) and their temporary folders are removed; the pool is closed at once (no seed
   * starts). For a process about to quit (a second Ctrl-C: endCheckPools) too: a thread still
   * running would make its folders again after the exit listeners removed them.
   */
  end(): Promise<void> {
    if (this.#ended === undefined) {
      OPEN_POOLS.delete(this);
      this.#ended = (async () => {
        await this.#untilLoaded();
        // destroy() first: it marks the pool destroying, then stops its threads, failing the
        // tasks on them; aborting the tasks first would have piscina start a thread for each
        // thread it stops (it keeps minThreads).
        const destroyed = this.#piscina.destroy();
        this.#closing.abort();
        await destroyed;
        // Every folder the threads made, noted or not (the threads, ended, make no more).
        removeTempDir(this.#tempParent);
      })();
      this.#closed ??= this.#ended;
    }
    return this.#ended;
  }

  /**
   * Resolves once every thread of the pool has loaded its task module (POOL_THREAD_LOADED), or
   * after POOL_LOAD_WAIT_MS: the pool ends a thread only then (a seed dropped, the pool ended).
   */
  async #untilLoaded(): Promise<void> {
    const until = performance.now() + POOL_LOAD_WAIT_MS;
    // An ended Worker's threadId is -1.
    const loading = (): boolean => this.#piscina.threads.some((w) => w.threadId >= 0 && !this.#loaded.has(w.threadId));
    while (loading() && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, POOL_LOAD_POLL_MS));
  }

  /**
   * Runs one task (never after close: a destroyed piscina would start new threads for it).
   * `signal` drops it: a simulated seed's thread is ended at once (its cluster holds nothing
   * outside it, and a hung one may never read a message); a real-time seed is first asked to
   * stop its clusters (their threads or host processes, and temporary folders), for at most
   * SEED_STOP_WAIT_MS.
   */
  run(task: ScenarioTask, signal: AbortSignal): Promise<ScenarioReport> {
    if (this.closed) return Promise.reject(closedError());
    if (signal.aborted) return this.#piscina.run({ task } satisfies SeedJob, { signal }) as Promise<ScenarioReport>;
    return realTime(task.transport) ? this.#runStoppable(task, signal) : this.#runSimulated(task, signal);
  }

  /** A simulated seed: dropped, its thread is ended once the pool's threads have loaded (#untilLoaded). */
  async #runSimulated(task: ScenarioTask, signal: AbortSignal): Promise<ScenarioReport> {
    const end = new AbortController();
    const onAbort = (): void => void this.#untilLoaded().then(() => end.abort());
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return (await this.#piscina.run({ task } satisfies SeedJob, { signal: end.signal })) as ScenarioReport;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async #runStoppable(task: ScenarioTask, signal: AbortSignal): Promise<ScenarioReport> {
    const { port1, port2 } = new MessageChannel();
    // Ends the thread: once the worker said its clusters stopped, or waited for too long.
    const end = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // Asks the seed to stop once (the run dropping it, or close()); resolves when it said it
    // stopped, or the task ended.
    let asked: Promise<void> | undefined;
    let settled!: () => void;
    const done = new Promise<void>((resolve) => (settled = resolve));
    const ask = (): Promise<void> => {
      asked ??= new Promise<void>((resolve) => {
        port1.once('message', () => resolve());
        void done.then(resolve);
        port1.postMessage('stop');
      });
      return asked;
    };
    const onAbort = (): void => {
      // Closing: close() ends the thread once every seed stopped (ending it here would have
      // piscina start another).
      void ask()
        .then(() => this.#untilLoaded())
        .then(() => !this.closed && end.abort());
      timer = setTimeout(() => end.abort(), SEED_STOP_WAIT_MS);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.#stoppable.add(ask);
    try {
      return (await this.#piscina.run({ task, stop: port2 } satisfies SeedJob, { signal: end.signal, transferList: [port2] })) as ScenarioReport;
    } finally {
      this.#stoppable.delete(ask);
      settled();
      signal.removeEventListener('abort', onAbort);
      clearTimeout(timer);
      port1.close();
    }
  }

  /**
   * Waits for the pool's turn (the runs begun before have ended, or `stop` fired, or the pool
   * closed); the run calls the function returned when it ends.
   */
  async turn(stop: AbortSignal): Promise<() => void> {
    let end!: () => void;
    const mine = new Promise<void>((resolve) => (end = () => resolve()));
    const before = this.#idle;
    // The next run waits for this one and every one before it (this one may stop waiting early).
    this.#idle = Promise.all([before, mine]);
    if (!stop.aborted) {
      let onStop!: () => void;
      const stopped = new Promise<void>((resolve) => stop.addEventListener('abort', (onStop = () => resolve()), { once: true }));
      await Promise.race([before, stopped]);
      stop.removeEventListener('abort', onStop);
    }
    return end;
  }
}

/** The pools not ended yet (end()), for endCheckPools. */
const OPEN_POOLS = new Set<ScenarioPool>();

/**
 * Ends every CheckPool's threads of this process at once, under their seeds, and resolves when
 * they have ended: for a process about to quit without stopping its seeds (`meridian check`'s
 * second Ctrl-C), so that the seeds' temporary folders, removed as it exits
 * (src/runtime/temp-dirs.ts), are not made again by a thread still booting a cluster.
 */
export async function endCheckPools(): Promise<void> {
  // Each pool removes its threads' folders once they have ended (noted to this thread or not).
  await Promise.allSettled([...OPEN_POOLS].map((pool) => pool.end()));
}

function closedError(): StoppedError {
  return new StoppedError('runChecks: its CheckPool was closed during the run');
}

/**
 * A pool of `workers` threads (default CHECK_RUN_WORKERS_DEFAULT) for runChecks({ ..., pool }):
 * its threads start now and stay warm between runs, until close(). For a test suite or harness
 * that calls runChecks many times.
 */
export function createCheckPool(options: CheckPoolOptions = {}): CheckPool {
  checkOptions(options, 'options', CHECK_POOL_OPTION_FIELDS);
  const workers = namedAs('options', () => {
    refuseNulls(options);
    return checkInt(options.workers ?? CHECK_RUN_WORKERS_DEFAULT, 'workers', 1, CHECK_RUN_WORKERS_MAX);
  });
  return new ScenarioPool(workers);
}

/** Testing only: a CheckPool whose threads run the task module `filename` instead of the scenario worker. */
export function createCheckPoolOf(filename: string, workers: number): CheckPool {
  return new ScenarioPool(workers, filename);
}

/** CheckRunOptions' fields (all of them, checked at compile time): anything else is refused. */
export const CHECK_RUN_OPTION_FIELDS = allKeys<CheckRunOptions>()([
  ...SEED_OPTION_FIELDS,
  'from',
  'seeds',
  'workers',
  'pool',
  'mode',
  'schedule',
  'onReport',
  'signal',
  'maxFailures',
  'timeLimitMs',
  'keepPassedReports',
]);

/** null is no default here (as in a cluster's config): a field left out is. */
export function refuseNulls(o: object): void {
  for (const [field, value] of Object.entries(o)) if (value === null) throw new ConfigError(field, 'a value, or left out (undefined) for the default', value);
}

/** SeedOptions.nats: servers and processes as a cluster takes them; no hosts started elsewhere, no shared cluster name. */
function checkNats(value: unknown): void {
  if (isPlainObject(value) && value.hosts !== undefined)
    throw new ConfigError('nats.hosts', "absent (each seed's cluster spawns host processes of its own: nats.processes)", value.hosts);
  if (isPlainObject(value) && value.cluster !== undefined)
    throw new ConfigError('nats.cluster', "absent (each seed's cluster draws a name of its own, so seeds in flight at once do not meet)", value.cluster);
  if (value === undefined) throw new ConfigError('nats', "{ servers, processes? } with transport 'nats' (the NATS servers each seed's cluster uses)", value);
  validateNats(value, 1, isPlainObject);
}

/** `faults`: a non-empty array of fault kinds, each element read (Array.from: `some` skips holes, so `[, 'crash']` passed, and every seed threw). */
function checkFaultKinds(faults: unknown): void {
  if (!Array.isArray(faults) || faults.length === 0 || !Array.from(faults as unknown[]).every((k) => ALL_FAULT_KINDS.includes(k as FaultKind)))
    throw new ConfigError('faults', `a non-empty array of ${ALL_FAULT_KINDS.join(', ')}`, faults);
}

/** The fields a run gives every seed (SeedOptions) with its mode and schedule: each refused here names itself. */
function checkSeedFields(o: SeedOptions, mode: CheckMode, schedule: ScheduleName): void {
  refuseNulls(o);
  if (!CHECK_MODES.includes(mode)) throw new ConfigError('mode', CHECK_MODES.join(', '), mode);
  if (!SCHEDULES.includes(schedule)) throw new ConfigError('schedule', SCHEDULES.join(', '), schedule);
  if (o.unsafe !== undefined && !UNSAFE_VARIANTS.includes(o.unsafe)) throw new ConfigError('unsafe', UNSAFE_VARIANTS.join(', '), o.unsafe);
  if (o.workload !== undefined && !WORKLOADS.includes(o.workload)) throw new ConfigError('workload', WORKLOADS.join(', '), o.workload);
  if (o.txnUnsafe !== undefined && !TXN_UNSAFE_VARIANTS.includes(o.txnUnsafe)) throw new ConfigError('txnUnsafe', TXN_UNSAFE_VARIANTS.join(', '), o.txnUnsafe);
  if (o.commits !== undefined && !Array.isArray(o.commits)) throw new ConfigError('commits', `an array of ${TXN_COMMITS.join(', ')}`, o.commits);
  for (const c of o.commits ?? []) if (!TXN_COMMITS.includes(c)) throw new ConfigError('commits', TXN_COMMITS.join(', '), c);
  // ['2pc', '2pc'] ran every seed's 2PC run twice, the same run (an audit of public inputs, session 66).
  const twice = firstRepeated(o.commits);
  if (twice !== undefined)
    throw new ConfigError('commits', `each protocol once (the txn workload runs once per protocol named), got '${twice}' twice`, o.commits);
  // The txn workload runs once per protocol named: [] ran none, and every seed passed having
  // checked nothing (found by an audit, session 55). The kv workload refuses it in kvCommit.
  if (o.workload === 'txn' && o.commits?.length === 0)
    throw new ConfigError(
      'commits',
      `at least one of ${TXN_COMMITS.join(', ')} with workload 'txn' (it runs once per protocol named), or left out for ${TXN_CHECK_COMMITS.join(' and ')}`,
      o.commits,
    );
  if (o.randomShape !== undefined && typeof o.randomShape !== 'boolean') throw new ConfigError('randomShape', 'true or false', o.randomShape);
  if (o.limits !== undefined && !LIMITS_CHOICES.includes(o.limits)) throw new ConfigError('limits', LIMITS_CHOICES.join(', '), o.limits);
  if (o.balancer !== undefined && !BALANCER_CHOICES.includes(o.balancer)) throw new ConfigError('balancer', BALANCER_CHOICES.join(', '), o.balancer);
  checkCheckBudget(o.checkBudget);
  if (o.transport !== undefined && !CHECK_TRANSPORTS.includes(o.transport)) throw new ConfigError('transport', CHECK_TRANSPORTS.join(', '), o.transport);
  // Before the kinds are read: faults that were no array failed below with a TypeError ('some is not a function').
  if (o.faults !== undefined) checkFaultKinds(o.faults);
  checkSimOnlyFaults(o.faults, o.transport, 'faults');
  if (o.transport === 'nats') checkNats(o.nats);
  else if (o.nats !== undefined) throw new ConfigError('nats', `absent unless transport is 'nats' (the run is on '${o.transport ?? 'sim'}')`, o.nats);
  if (o.workload !== 'txn' && o.commits !== undefined) kvCommit(o);
  // A variant the mode cannot run fails here, not in every seed's cluster; each workload its own variants.
  if (o.workload !== 'txn') checkScenarioVariant({ mode, unsafe: o.unsafe });
  if (o.workload === 'txn' && o.unsafe !== undefined)
    throw new ConfigError('unsafe', "absent with workload 'txn' (its broken variants are txnUnsafe's)", o.unsafe);
  if (o.workload !== 'txn' && o.txnUnsafe !== undefined)
    throw new ConfigError('txnUnsafe', "absent unless workload is 'txn' (the kv workload's broken variants are unsafe's)", o.txnUnsafe);
  if (o.workload === 'txn' && o.keys !== undefined && o.keys > TXN_SCENARIO_KEYS_MAX)
    throw new ConfigError(
      'keys',
      `an integer from 1 to ${TXN_SCENARIO_KEYS_MAX} with workload 'txn' (its final read gets every key in one transaction)`,
      o.keys,
    );
  // The scenario checks these too, in each seed's worker; here a bad one fails before any seed runs.
  checkScenarioSizes(o);
  if (o.randomShape === true && [o.regions, o.servers, o.factor, o.shards].some((x) => x !== undefined))
    throw new ConfigError('randomShape', 'not with regions, servers, factor or shards (each seed draws all four)', o.randomShape);
  if (o.faults !== undefined && schedule === 'builtin') throw new ConfigError('faults', "not with schedule 'builtin' (a fixed schedule of its own)", o.faults);
  if (o.workload === 'txn' && o.txnShare !== undefined)
    throw new ConfigError('workload', "'kv' (txnShare mixes transactions into the kv scenario's calls)", o.workload);
  // Without transactions the kv workload commits nothing: either would change nothing in the
  // run (the same trace), and the variant would be a test that cannot fail.
  if (o.txnShare === 0 && o.commits !== undefined)
    throw new ConfigError('commits', "absent with txnShare 0 (the protocol of the kv workload's transactions: none to commit)", o.commits);
  if (o.txnShare === 0 && o.unsafe === '2pc-commit-on-timeout')
    throw new ConfigError('unsafe', "not '2pc-commit-on-timeout' with txnShare 0 (a 2PC coordinator's bug: no transactions, so it cannot act)", o.unsafe);
}

/** ScenarioTask's fields: anything else is refused. */
export const SCENARIO_TASK_FIELDS = allKeys<ScenarioTask>()([...SEED_OPTION_FIELDS, 'seed', 'mode', 'schedule', 'onlyFaults']);

/** A task given from outside (shrinkSeed), checked as runChecks checks its options. */
export function checkScenarioTask(task: ScenarioTask): void {
  checkOptions(task, 'task', SCENARIO_TASK_FIELDS);
  checkScenarioBasics({ seed: task.seed });
  checkOnlyFaults(task.onlyFaults);
  checkSeedFields(task, task.mode, scheduleOf(task));
}

function checkRunOptions(
  o: CheckRunOptions,
): Required<Omit<CheckRunOptions, keyof SeedOptions | 'onReport' | 'signal' | 'pool'>> & { pool: ScenarioPool | undefined } {
  checkOptions(o, 'options', CHECK_RUN_OPTION_FIELDS);
  const from = o.from ?? 1;
  // Without a mode, the variant's own (as `meridian check` does): 'active' for most.
  const mode = o.mode ?? defaultModeFor(o.unsafe);
  const schedule = scheduleOf(o);
  const maxFailures = o.maxFailures ?? Number.POSITIVE_INFINITY;
  if (o.maxFailures !== undefined)
    checkInt(o.maxFailures, 'maxFailures', 1, Number.POSITIVE_INFINITY, 'an integer >= 1 (stop once that many seeds failed), or undefined to run every seed');
  const timeLimitMs = o.timeLimitMs ?? Number.POSITIVE_INFINITY;
  if (o.timeLimitMs !== undefined)
    checkNumber(
      o.timeLimitMs,
      'timeLimitMs',
      // Above 0: the least number that is.
      Number.MIN_VALUE,
      CHECK_RUN_TIME_LIMIT_MS_MAX,
      `a number of milliseconds above 0, at most ${CHECK_RUN_TIME_LIMIT_MS_MAX} (a week), or undefined for no limit`,
    );
  const keepPassedReports = o.keepPassedReports ?? CHECK_RUN_PASSED_REPORTS_KEPT;
  if (o.keepPassedReports !== undefined)
    checkInt(
      o.keepPassedReports,
      'keepPassedReports',
      0,
      CHECK_RUN_SEEDS_MAX,
      `an integer from 0 to ${CHECK_RUN_SEEDS_MAX} (${CHECK_RUN_SEEDS_MAX}: every one), or undefined for ${CHECK_RUN_PASSED_REPORTS_KEPT}`,
    );
  // Seeds are 32-bit: a run past 2^32 - 1 failed every seed beyond it ("the run threw").
  checkInt(from, 'from', 0, SEED_MAX, 'an integer from 0 to 2^32 - 1 (the first seed)');
  const seedsMax = Math.min(CHECK_RUN_SEEDS_MAX, SEED_MAX - from + 1);
  checkInt(
    o.seeds,
    'seeds',
    1,
    seedsMax,
    seedsMax < CHECK_RUN_SEEDS_MAX ? `an integer from 1 to ${seedsMax} (from seed ${from}: seeds end at 2^32 - 1)` : undefined,
  );
  const asked = o.workers;
  if (asked !== undefined) checkInt(asked, 'workers', 1, CHECK_RUN_WORKERS_MAX);
  const pool = o.pool;
  if (pool !== undefined) {
    if (!(pool instanceof ScenarioPool)) throw new ConfigError('pool', 'a CheckPool from createCheckPool(), or undefined for a pool of its own', pool);
    if (pool.closed) throw new ConfigError('pool', 'an open CheckPool from createCheckPool(), got a closed one');
    if (asked !== undefined && asked !== pool.workers)
      throw new ConfigError('workers', `${pool.workers} or undefined with this pool (a run on a CheckPool uses its threads, pool.workers)`, asked);
  }
  if (o.onReport !== undefined && typeof o.onReport !== 'function') throw new ConfigError('onReport', 'a function', o.onReport);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new ConfigError('signal', 'an AbortSignal', o.signal);
  checkSeedFields(o, mode, schedule);
  const workers = pool?.workers ?? asked ?? checkRunWorkersDefault(o.transport);
  return { from, seeds: o.seeds, workers, pool, mode, schedule, maxFailures, timeLimitMs, keepPassedReports };
}

/** How many times a check run's NATS connection is tried before the run calls NATS unreachable (connectNatsTries). */
export const NATS_WATCH_CONNECT_TRIES = 2;

/**
 * A connection to `servers` (`name`: the client's), tried NATS_WATCH_CONNECT_TRIES times; the
 * last try's NatsUnreachableError when none connects. Tried more than once: on a loaded machine
 * the first handshake, with the run's own nats-server up and healthy, outlasted the connect
 * timeout ("cannot reach NATS ... within 5000 ms: timeout", the suite under a load of 11,
 * session 62), and the run stopped before its first seed. A server that refuses answers at once
 * each time; one that never answers costs a timeout a try. The run's NatsWatch and `meridian
 * check --nats`'s probe before it both connect so (the probe tried once, and failed a run on a
 * busy machine that the run itself would have connected for).
 */
export async function connectNatsTries(servers: string[], name: string): Promise<NatsConnection> {
  const wire = await import('../runtime/transports/nats-wire.js');
  for (let attempt = 1; ; attempt++) {
    try {
      return await wire.connectNats(servers, name);
    } catch (error) {
      if (!(error instanceof wire.NatsUnreachableError) || attempt === NATS_WATCH_CONNECT_TRIES) throw error;
    }
  }
}

/** What a seed during which the run's NATS connection was lost is reported as (NatsWatch). */
export const NATS_LOST_DURING_SEED = 'the NATS connection was lost during the seed (a NATS outage, not a finding: run the seed again)';

/**
 * The run's own connection to its NATS servers (transport 'nats'), which tells a seed that met
 * a NATS outage from one that found a bug: a seed's clusters lost their hosts, or could not
 * start them, when the server went away, and the seed was reported failed, with a stack trace
 * (an audit, session 60: a server killed and restarted made every seed of the run a "failure").
 */
class NatsWatch {
  /** Connections lost so far (a disconnect, or the client closed): a seed compares before and after. */
  losses = 0;
  /** Not connected now (reconnecting, or closed). */
  down = true;
  private nc: NatsConnection | undefined;
  /** The lanes ask at once: one answer (one connection). */
  private asking: Promise<string | undefined> | undefined;
  private readonly upAgain = new Set<() => void>();
  private closing = false;

  constructor(private readonly servers: string[]) {}

  /**
   * Undefined when the servers can be reached now: the connection is up, comes back within a
   * connect timeout, or a new one is made; else why not (naming the servers).
   */
  reachable(): Promise<string | undefined> {
    this.asking ??= this.ask().finally(() => (this.asking = undefined));
    return this.asking;
  }

  private async ask(): Promise<string | undefined> {
    const wire = await import('../runtime/transports/nats-wire.js');
    if (this.nc !== undefined && !this.nc.isClosed() && this.down) {
      // Reconnecting: it gets the time a first connection gets.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.upAgain.add(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, wire.NATS_CONNECT_TIMEOUT_MS))),
        this.nc.closed(),
      ]);
      clearTimeout(timer);
      if (!this.down) return undefined;
      if (!this.nc.isClosed())
        return `the NATS connection to ${wire.shownServers(this.servers)} was lost and is not back within ${wire.NATS_CONNECT_TIMEOUT_MS} ms`;
    }
    if (this.nc !== undefined && !this.nc.isClosed()) return undefined;
    try {
      this.attach(await connectNatsTries(this.servers, 'meridian-check-watch'));
      return undefined;
    } catch (error) {
      if (!(error instanceof wire.NatsUnreachableError)) throw error;
      return error.message;
    }
  }

  private attach(nc: NatsConnection): void {
    this.nc = nc;
    this.down = false;
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          this.down = true;
          this.losses++;
        } else if (status.type === 'reconnect') {
          this.down = false;
          for (const resolve of this.upAgain) resolve();
          this.upAgain.clear();
        }
      }
    })().catch(() => undefined);
    void nc.closed().then(() => {
      if (this.closing || this.nc !== nc) return;
      if (!this.down) this.losses++;
      this.down = true;
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.nc?.close().catch(() => undefined);
  }
}

/**
 * `report` as the run counts it: 'unknown' (NATS_LOST_DURING_SEED, no stack trace) when the
 * run's NATS connection was lost while the seed ran (`lossesBefore`: the watch's count as it
 * began), or the seed could not reach NATS itself; never failed, never passed.
 */
function afterNats(report: ScenarioReport, watch: NatsWatch, lossesBefore: number): ScenarioReport {
  const unreachable = report.error?.startsWith('NatsUnreachableError') === true;
  if (!unreachable && watch.losses === lossesBefore && !watch.down) return report;
  const { error: _thrown, ...rest } = report;
  // What it found meanwhile is no finding either (reads refused while the hosts were out of reach).
  return { ...rest, ok: false, outcome: 'unknown', failures: [], unknownReason: NATS_LOST_DURING_SEED };
}

/**
 * By source signal, the callbacks anyOf's signals wait on it with: one listener on the source
 * for them all, so that runs waiting on one pool (each listening to the caller's signal and the
 * pool's) add none (more than 10 would have had Node warn of a leak).
 */
const abortCallbacks = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `callback` when `source` fires (not yet fired), until the function returned is called. */
function onAbortOf(source: AbortSignal, callback: () => void): () => void {
  let callbacks = abortCallbacks.get(source);
  if (callbacks === undefined) {
    const fresh = new Set<() => void>();
    abortCallbacks.set(source, fresh);
    source.addEventListener('abort', () => fresh.forEach((f) => f()), { once: true });
    callbacks = fresh;
  }
  const mine = callbacks;
  mine.add(callback);
  return () => void mine.delete(callback);
}

/**
 * A signal that fires when the first of `sources` fires (with its reason; at once if one has),
 * and `unlink`, which takes it off the sources: for a run to call as it ends. Not
 * AbortSignal.any: on Node 20 each signal it makes leaves a reference in each source (a
 * composite's sources for a composite) that nothing removes, and a run made one for each seed on
 * the run's signal, a composite of the caller's signal and the pool's: three references each
 * seed left for the life of the pool and of the caller's signal (15 after 3 runs of 4 seeds on a
 * kept pool; found by an audit of what a long-lived process accumulates, session 69).
 */
function anyOf(sources: readonly AbortSignal[]): { signal: AbortSignal; unlink: () => void } {
  const any = new AbortController();
  const fired = sources.find((s) => s.aborted);
  if (fired !== undefined) {
    any.abort(fired.reason);
    return { signal: any.signal, unlink: () => undefined };
  }
  const unlinks = sources.map((source) => onAbortOf(source, () => any.abort(source.reason)));
  return { signal: any.signal, unlink: () => unlinks.forEach((u) => u()) };
}

/**
 * Run seeds from, from + 1, ... on a pool of `workers` threads; the pool is destroyed before
 * this returns. With `pool` (createCheckPool), on that pool's threads, left open and warm for
 * the next run: a test suite calling runChecks many times pays the threads' start-up once,
 * and closes the pool when done. A run whose pool is closed under it rejects with a StoppedError.
 */
export async function runChecks(options: CheckRunOptions): Promise<CheckRunSummary> {
  // Its fields named as the caller wrote them: options.x.
  const o = namedAs('options', () => checkRunOptions(options));
  // A pool of its own has no more threads than seeds (each spends its first second compiling).
  const workers = o.pool === undefined ? Math.min(o.workers, o.seeds) : o.workers;
  const pool = o.pool ?? new ScenarioPool(workers);
  // The caller's signal, enough failures, the time limit, the pool closing or failing: any stops the run.
  const enough = new AbortController();
  const deadline = new AbortController();
  // A lane that threw (onReport did): the others stop too, before the pool's turn passes on.
  const broken = new AbortController();
  // The NATS servers cannot be reached before a seed: no seed would tell anything.
  const natsGone = new AbortController();
  let natsUnreachable: string | undefined;
  const nats = options.transport === 'nats' && options.nats !== undefined ? new NatsWatch([options.nats.servers].flat()) : undefined;
  // Linked by listeners the run removes as it ends (anyOf), not AbortSignal.any: Node 20 keeps
  // a reference in every source for each signal AbortSignal.any makes, for the source's life.
  const { signal: stop, unlink } = anyOf([
    ...(options.signal === undefined ? [] : [options.signal]),
    natsGone.signal,
    enough.signal,
    deadline.signal,
    broken.signal,
    pool.closing,
    pool.failing,
  ]);
  // The seeds in flight, each dropped (its controller aborted) when the run stops.
  const inFlight = new Set<AbortController>();
  const dropAll = (): void => {
    for (const seed of inFlight) seed.abort();
  };
  stop.addEventListener('abort', dropAll, { once: true });
  const endTurn = await pool.turn(stop);
  const started = performance.now();
  const reports: ScenarioReport[] = [];
  // Passed seeds beyond keepPassedReports: counted here, their reports dropped.
  const dropped = noneDropped();
  let passedKept = 0;
  const ran = (): number => reports.length + dropped.seeds;
  // The time limit stops the run at once if a seed has finished, else at the first to finish
  // (no seed starts meanwhile): a run stopped by its time always reports something.
  let timePassed = false;
  const timeUp =
    o.timeLimitMs === Number.POSITIVE_INFINITY
      ? undefined
      : setTimeout(() => {
          timePassed = true;
          if (ran() > 0) deadline.abort();
        }, o.timeLimitMs);
  const stopped = (): boolean => stop.aborted;
  let failures = 0;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < o.seeds && !stopped() && !timePassed) {
      if (nats !== undefined) {
        const why = await nats.reachable();
        if (why !== undefined) {
          natsUnreachable ??= why;
          natsGone.abort();
          return;
        }
        // Another lane took the last seed meanwhile, or the run stopped.
        if (stopped() || timePassed || next >= o.seeds) return;
      }
      const lossesBefore = nats?.losses ?? 0;
      const task: ScenarioTask = { seed: o.from + next++, mode: o.mode, schedule: o.schedule, ...seedOptionsOf(options) };
      // The seed's wall-time limit, or the run's stop (dropAll): either ends its worker.
      const abort = new AbortController();
      const signal = abort.signal;
      if (stop.aborted) abort.abort();
      inFlight.add(abort);
      const started = performance.now();
      const limitMs = seedWallMs(task);
      const timer = setTimeout(() => abort.abort(), limitMs);
      let report: ScenarioReport;
      try {
        report = await pool.run(task, signal);
      } catch (error) {
        // Closing the pool fails the tasks on it (piscina's own error): the run ends below.
        if (pool.closed) return;
        // Not aborted: the thread failed under the seed (a seed's own failure is a report), and
        // one that failed as it loaded is never started again: the pool fails, the run ends below.
        if (!signal.aborted) {
          pool.fail(error, task.seed);
          return;
        }
        if (stopped()) return;
        report = hungReport(task, performance.now() - started, limitMs);
      } finally {
        clearTimeout(timer);
        inFlight.delete(abort);
      }
      if (nats !== undefined) report = afterNats(report, nats, lossesBefore);
      // A seed that finished as the stop came is kept: it ran whole.
      if (report.outcome !== 'pass' || passedKept++ < o.keepPassedReports) reports.push(report);
      else addDropped(dropped, report);
      options.onReport?.(report, ran(), o.seeds);
      if (report.outcome === 'fail' && ++failures >= o.maxFailures) enough.abort();
      if (timePassed) deadline.abort();
    }
  };
  // Every lane settled before the run ends: with Promise.all, an onReport that threw rejected the
  // run while the other lanes went on starting seeds on a pool already lent to the next run, and
  // calling onReport for a run that had ended (found by an audit, session 54).
  const lanes = async (): Promise<void> => {
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(o.seeds, workers * TASKS_IN_FLIGHT_PER_WORKER) }, () =>
        lane().catch((error: unknown) => {
          broken.abort();
          throw error;
        }),
      ),
    );
    const thrown = settled.find((r) => r.status === 'rejected');
    if (thrown !== undefined) throw thrown.reason;
  };
  try {
    // A real-time run's seeds boot clusters of threads, and its time is the clock's.
    await (realTime(options.transport) ? lanes() : withInliningLowered(lanes));
    // A thread failed (its module did not load, or it died under a seed): nothing more runs on the pool.
    const failure = pool.failure;
    if (failure !== undefined) {
      // A thread's error comes across as a copy: its message, if it has one.
      const message = (failure.error as { message?: unknown } | null)?.message;
      const what = typeof message === 'string' ? message : String(failure.error);
      // A MeridianError (INTERNAL), as every error of the package: it was a plain Error (an audit, session 57).
      const under = failure.seed === undefined ? '' : ` under seed ${failure.seed} (its run ended the thread: replay that seed)`;
      const failed = new MeridianError('INTERNAL', `runChecks: a pool thread failed${under}, and the pool runs nothing more: ${what}`, false);
      failed.cause = failure.error;
      throw failed;
    }
    // Closed by its owner (not this run) before the run ended: the seeds that finished are not a run.
    if (pool.closed && o.pool !== undefined)
      throw new StoppedError(`runChecks: its CheckPool was closed during the run (${ran()} of ${o.seeds} seeds had finished)`);
  } finally {
    clearTimeout(timeUp);
    unlink();
    await nats?.close();
    endTurn();
    if (o.pool === undefined) await pool.close();
  }
  reports.sort((a, b) => a.seed - b.seed);
  const finished = ran();
  return {
    reports,
    failed: reports.filter((r) => r.outcome === 'fail'),
    passed: reports.filter((r) => r.outcome === 'pass').length + dropped.seeds,
    ran: finished,
    passedReportsLeftOut: dropped.seeds,
    unknownShares: unknownSharesOf(reports, dropped),
    unknown: reports.filter((r) => r.outcome === 'unknown'),
    operations: reports.reduce((sum, r) => sum + r.operations, 0) + dropped.operations,
    elapsedMs: performance.now() - started,
    workers,
    interrupted: options.signal?.aborted === true && finished < o.seeds,
    stoppedAtFailures: enough.signal.aborted && finished < o.seeds,
    stoppedAtTimeLimit: deadline.signal.aborted && !enough.signal.aborted && finished < o.seeds,
    ...(natsUnreachable === undefined ? {} : { natsUnreachable }),
  };
}

/** Replay one seed in this thread, keeping its message trace (sim is deterministic: same seed, same trace). */
export async function replaySeed(task: ScenarioTask): Promise<ScenarioResult> {
  if (realTime(task.transport)) throw new ConfigError('transport', "'sim' or absent (a real-time run does not replay)", task.transport, 'task');
  return runScenario({ ...scenarioOptions(task), trace: true });
}
