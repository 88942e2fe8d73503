/**
 * `meridian check`: many seeded fault scenarios checked in parallel, one seed replayed with
 * its message trace, or one failing seed shrunk. Exit codes: 0 every seed passed, 1 some seed
 * failed or came out unknown (the checker ran out of budget: not a pass), 2 bad flags (or
 * NATS servers --nats names that do not answer, or a nats-server binary that does not start,
 * or a file or standard output that cannot be written: src/cli/process-end.ts), 130 stopped by
 * Ctrl-C (143 by SIGTERM), 70 an internal error.
 */
import type { ElleOp } from '../harness/elle/types.js';
import { timelineHtml, type TimelineRun } from '../harness/timeline.js';
import { INTERRUPTED_STATUS, interruptedStatus, interruptLine, untilInterrupted } from './interrupt.js';
import { SEED_MAX, UNSAFE_VARIANT_MODES } from '../cluster/config.js';
import { NATS_PROCESSES_MAX } from '../cluster/validate-nats.js';
import {
  CHECK_MODES,
  CHECK_TRANSPORTS,
  CHECK_RUN_SEEDS_MAX,
  CHECK_RUN_PASSED_REPORTS_KEPT,
  unknownSharesOf,
  type UnknownShares,
  CHECK_RUN_TIME_LIMIT_MS_MAX,
  checkRunWorkersDefault,
  CHECK_RUN_WORKERS_MAX,
  SCHEDULES,
  UNSAFE_VARIANTS,
  defaultModeFor,
  realTime,
  replaySeed,
  replayTxnSeed,
  runChecks,
  scheduleOf,
  THREEPC_NOTE,
  TXN_CHECK_COMMITS,
  TXN_COMMITS,
  TXN_UNSAFE_VARIANTS,
  WORKLOADS,
  type Workload,
  type CheckMode,
  type ScenarioReport,
  type ScheduleName,
  type ScenarioTask,
  type SeedOptions,
  type CheckPool,
  seedOptionsOf,
  endCheckPools,
  connectNatsTries,
} from '../harness/check-runner.js';
import { natsServerBinary, natsServerFailure, startNatsServer, type NatsServer } from '../harness/nats-server.js';
import { ALL_FAULT_KINDS, SIM_ONLY_FAULT_KINDS, type FaultKind } from '../harness/nemesis.js';
import { natsServersFlag } from './nats-flag.js';
import { SHRINK_RUNS_DEFAULT, SHRINK_RUNS_MAX, onlyFaultsBeyond, shrinkSeed } from '../harness/shrink.js';
import { outputFile, sameFile, writable as writableFile, writeText as writeFileText } from './output-file.js';
import { count, formatViolation, shellWords, undecidedLine, undecidedWhy } from './format.js';
import { CHECK_BUDGET_MAX } from '../harness/check-budget.js';
import { FlagError, decimalText, fractionFlag, gotValue, intFlag, noValue, once, oneOf, positiveDecimalFlag, readFlags, wantsHelp } from './flags.js';
import {
  drawShape,
  BALANCER_CHOICES,
  LIMITS_CHOICES,
  SCENARIO_FACTOR_MAX,
  SCENARIO_REGIONS_MAX,
  SCENARIO_REGIONS_MIN,
  SCENARIO_SERVERS_MAX,
  SCENARIO_SHAPE_DEFAULTS,
  scenarioFactor,
  SCENARIO_SHARDS_MAX,
  LIVENESS_FAILURES,
  SCENARIO_SMALL_MESSAGE_BYTES_MAX,
  SCENARIO_SMALL_MESSAGE_BYTES_MIN,
  TXN_SCENARIO_KEYS_MAX,
} from '../harness/scenario.js';

export const CHECK_USAGE = `  meridian check --seeds N [--from S] [--workers K] [--mode active|passive|hybrid] [--unsafe VARIANT] [--nemesis targeted|swarm|builtin]
                 [--clients N] [--keys N] [--fault-ms MS] [--txn-share X] [--commit 2pc|paxos-commit|3pc]
                 [--regions R] [--servers N] [--factor F] [--shards S] [--shape random] [--faults KIND,KIND,...] [--limits drawn|small|default]
                 [--balancer STRATEGY|drawn] [--check-budget B] [--json FILE] [--max-failures K] [--time-limit SECONDS] [--transport sim|threads|nats [--nats URL[,URL]] [--processes N|dedicated]]
  meridian check --time-limit SECONDS [--from S] [...]   (as many seeds as fit in the time, each flag as above)
          (--transport threads: each seed's cluster on real worker threads, in real time, one seed at a time by default;
           --transport nats: each seed's cluster in host processes of its own (--processes: how many, default one per core,
           or dedicated: one per server and region), through the NATS servers --nats names,
           or through a nats-server started for the run (MERIDIAN_NATS_SERVER_BIN, or the PATH's);
           a seed fixes its faults and workload, not their timing, so a failure does not replay)
  meridian check --seed S [--trace] [--history FILE] [--timeline FILE.html] [--shrink [--shrink-runs N]] [--mode ...] [--unsafe VARIANT] [--nemesis ...]
                 [--clients N] [--keys N] [--fault-ms MS] [--txn-share X] [--commit ...] [--regions R] [--servers N] [--factor F] [--shards S]
                 [--shape random] [--faults KIND,...] [--only-faults I,J,...] [--limits ...] [--balancer ...] [--check-budget B]
  meridian check --workload txn --seeds N | --seed S [--trace] [--history FILE] [--timeline FILE.html] [--commit 2pc|paxos-commit|3pc] [--unsafe release-locks-at-prepare|vote-before-prepare-durable] [--mode ...]
                 [--nemesis builtin|targeted|swarm] [--faults KIND,...] [--clients N] [--keys N] [--fault-ms MS]
                 [--regions R] [--servers N] [--factor F] [--shards S] [--shape random] [--limits ...] [--balancer ...] [--shrink [--shrink-runs N]] [--only-faults I,J,...]
                 [--check-budget B] [--transport ...] (with --seeds or --time-limit, as above)
          (txn: its own schedule by default, builtin; --faults alone means --nemesis targeted; --shrink needs one of those;
           without --commit, 2pc and paxos-commit both run; 3pc only when named: it is not safe under these faults)
  LIMITS: memory bounds and messageBytesMax of the cluster; drawn (default): a quarter of seeds get small ones (1-15 request
          ids, finished transactions, begun and routed requests remembered; messages of at most ${SCENARIO_SMALL_MESSAGE_BYTES_MIN}-${SCENARIO_SMALL_MESSAGE_BYTES_MAX} bytes),
          small: every seed, default: none
  STRATEGY: how every region's balancer places requests (round-robin by default): one of
          ${BALANCER_CHOICES.filter((c) => c !== 'drawn').join(', ')};
          drawn: each seed draws a strategy and its options, weights, outlier ejection, zone-aware routing
  B: the checker's search budget, B times its default (above 0, at most ${CHECK_BUDGET_MAX}; default 1): a seed whose history
          the default leaves undecided (unknown, not a pass) may be decided with more
  FILE: a path for --json, --history and --timeline to write; - is refused (standard output carries the run's report), ./- is a file named -
  VARIANT: ${UNSAFE_VARIANTS.join(', ')}
  KIND: ${ALL_FAULT_KINDS.join(', ')}
  A flag's value may also follow an =: --seeds=100.
  exit status: 0 every seed passed; 1 a seed failed or was unknown (not a pass), or NATS was lost during the run;
          2 bad flags, --nats servers that do not answer, a nats-server that does not start, a file (or standard output)
          that cannot be written; 130 Ctrl-C (143 SIGTERM); 70 meridian itself failed (an internal error: a bug to report)`;

/** After a run's header: a check of 3PC says that its failures are expected (THREEPC_NOTE). */
function threePcNote(args: CheckArgs, io: CheckIo): void {
  if (args.commits?.includes('3pc') === true) io.out(`  note: ${THREEPC_NOTE}`);
}

/** Progress lines in a many-seed run (one every tenth of the seeds). */
export const PROGRESS_STEPS = 10;
export { INTERRUPTED_STATUS };

/** What the first Ctrl-C (or SIGTERM) prints: `what` happens next. */
function interruptNote(io: CheckIo, what: string): (name: NodeJS.Signals) => void {
  return (name) => io.err(interruptLine('meridian check', name, what));
}

export interface CheckIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** The flags, parsed: the per-seed ones as the runner takes them (SeedOptions), the rest. */
interface CheckArgs extends SeedOptions {
  seeds?: number;
  seed?: number;
  from?: number;
  workers?: number;
  /** --max-failures: stop a run of many seeds once this many failed. */
  maxFailures?: number;
  /** --time-limit: stop a run of many seeds after this many seconds (without --seeds: as many seeds as fit). */
  timeLimit?: number;
  /** --time-limit without --seeds: `seeds` is CHECK_RUN_SEEDS_MAX, and the time decides how many run. */
  seedsFromTime?: boolean;
  mode: CheckMode;
  /** --mode was given (else the variant's own mode: see defaultModeFor). */
  modeGiven: boolean;
  schedule: ScheduleName;
  trace: boolean;
  /** --history: the replayed run's history, as JSON, to this file. */
  historyFile?: string;
  /** --timeline: the replayed run's HTML timeline (as meridian verify --timeline draws it), to this file. */
  timelineFile?: string;
  /** --json: a run of many seeds' summary and every seed's report, as JSON, to this file. */
  jsonFile?: string;
  workload: Workload;
  shrink: boolean;
  shrinkRuns?: number;
  onlyFaults?: number[];
  /** --processes: the host processes each seed's cluster spawns with --transport nats (ClusterConfig.nats.processes). */
  natsProcesses?: number | 'dedicated';
}

/** How a run's share of transactions reads in the header and the shrunk line. */
function txnSharePhrase(share: number): string {
  return share === 0 ? 'no transactions' : `${share} of calls transactions`;
}

/** The shape fields of a task: the flags, or a drawn shape. */
type ShapeFields = {
  randomShape?: boolean | undefined;
  regions?: number | undefined;
  servers?: number | undefined;
  factor?: number | undefined;
  shards?: number | undefined;
};

/** The cluster's shape in the header, when a flag changed it: `, 5 regions, 3 servers per region, factor 5, 8 shards`. */
function shapePhrase(args: ShapeFields): string {
  return [
    args.randomShape === true ? ', a shape drawn per seed' : '',
    args.regions === undefined ? '' : `, ${args.regions} regions`,
    args.servers === undefined ? '' : `, ${args.servers} ${args.servers === 1 ? 'server' : 'servers'} per region`,
    args.factor === undefined ? '' : `, factor ${args.factor}`,
    args.shards === undefined ? '' : `, ${args.shards} ${args.shards === 1 ? 'shard' : 'shards'}`,
  ].join('');
}

/** The fields of CheckArgs an integer flag sets. */
type IntField =
  | 'seeds'
  | 'seed'
  | 'from'
  | 'workers'
  | 'maxFailures'
  | 'timeLimit'
  | 'shrinkRuns'
  | 'clients'
  | 'keys'
  | 'faultMs'
  | 'regions'
  | 'servers'
  | 'factor'
  | 'shards';

/**
 * The flags that take an integer: the field each sets, and the least and greatest value it takes
 * (a case each in parseCheckArgs' switch differed in nothing else).
 */
const INT_FLAGS: ReadonlyMap<string, readonly [IntField, number, number]> = new Map([
  ['--seeds', ['seeds', 1, CHECK_RUN_SEEDS_MAX]],
  ['--seed', ['seed', 0, SEED_MAX]],
  // Bounded with --seeds below: seeds run from --from to --from + N - 1, at most SEED_MAX.
  ['--from', ['from', 0, SEED_MAX]],
  ['--workers', ['workers', 1, CHECK_RUN_WORKERS_MAX]],
  ['--max-failures', ['maxFailures', 1, CHECK_RUN_SEEDS_MAX]],
  ['--time-limit', ['timeLimit', 1, CHECK_RUN_TIME_LIMIT_MS_MAX / 1_000]],
  ['--shrink-runs', ['shrinkRuns', 1, SHRINK_RUNS_MAX]],
  ['--clients', ['clients', 1, 64]],
  ['--keys', ['keys', 1, 1_000]],
  ['--fault-ms', ['faultMs', 0, 600_000]],
  ['--regions', ['regions', SCENARIO_REGIONS_MIN, SCENARIO_REGIONS_MAX]],
  ['--servers', ['servers', 1, SCENARIO_SERVERS_MAX]],
  ['--factor', ['factor', 1, SCENARIO_FACTOR_MAX]],
  ['--shards', ['shards', 1, SCENARIO_SHARDS_MAX]],
] as const);

/** The check flags that take no value. */
const CHECK_BARE_FLAGS: ReadonlySet<string> = new Set(['--shrink', '--trace']);

export function parseCheckArgs(argv: string[]): CheckArgs {
  const args: CheckArgs = { mode: 'active', modeGiven: false, schedule: 'targeted', trace: false, shrink: false, workload: 'kv' };
  let unsafe: string | undefined;
  let nemesisGiven = false;
  // A flag given twice with two values: refused (the last one won silently); see once().
  const given = new Map<string, string | undefined>();
  for (const read of readFlags(argv, CHECK_BARE_FLAGS)) {
    const { arg: flag, value } = read;
    if (CHECK_BARE_FLAGS.has(flag)) noValue(read);
    else once(given, flag, value);
    const int = INT_FLAGS.get(flag);
    if (int !== undefined) {
      args[int[0]] = intFlag(value, flag, int[1], int[2]);
      continue;
    }
    switch (flag) {
      case '--mode':
        args.mode = oneOf(value, flag, CHECK_MODES);
        args.modeGiven = true;
        break;
      case '--shrink':
        args.shrink = true;
        break;
      case '--shape':
        if (value !== 'random') throw new FlagError(`--shape takes random (each seed draws regions, servers, factor and shards), ${gotValue(value)}`);
        args.randomShape = true;
        break;
      case '--txn-share':
        args.txnShare = fractionFlag(value, flag);
        break;
      case '--check-budget':
        args.checkBudget = positiveDecimalFlag(value, flag, CHECK_BUDGET_MAX);
        break;
      case '--limits':
        args.limits = oneOf(value, flag, LIMITS_CHOICES);
        break;
      case '--balancer':
        args.balancer = oneOf(value, flag, BALANCER_CHOICES);
        break;
      case '--faults': {
        const list = value === undefined || value.startsWith('--') ? [] : value.split(',');
        const bad = list.find((k) => !ALL_FAULT_KINDS.includes(k as FaultKind));
        if (list.length === 0 || bad !== undefined)
          throw new FlagError(`--faults takes fault kinds from ${ALL_FAULT_KINDS.join(', ')}, comma-separated, ${gotValue(bad ?? value)}`);
        args.faults = [...new Set(list)] as FaultKind[];
        break;
      }
      case '--only-faults': {
        const list = value === undefined ? [] : value === 'none' ? [] : value.split(',');
        if (value === undefined || (value !== 'none' && list.some((x) => !/^\d+$/.test(x) || !Number.isSafeInteger(Number(x)))))
          throw new FlagError(`--only-faults needs fault episode numbers such as 0,3,7 (or none), ${gotValue(value)}`);
        // `1,1` ran as `only episodes 1,1`: a slip, maybe for another number.
        const twice = list.find((x, i) => list.findIndex((y) => Number(y) === Number(x)) !== i);
        if (twice !== undefined) throw new FlagError(`--only-faults names episode ${Number(twice)} twice, ${gotValue(value)}: name each once`);
        args.onlyFaults = list.map(Number);
        break;
      }
      case '--unsafe':
        // A missing variant would take the next flag as one (or run the correct protocol).
        if (value === undefined || value.startsWith('--'))
          throw new FlagError(
            `--unsafe needs a variant from ${UNSAFE_VARIANTS.join(', ')} (with --workload txn: ${TXN_UNSAFE_VARIANTS.join(', ')}), ${gotValue(value)}`,
          );
        unsafe = value;
        break;
      case '--workload':
        args.workload = oneOf(value, flag, WORKLOADS);
        break;
      case '--commit':
        args.commits = [oneOf(value, flag, TXN_COMMITS)];
        break;
      case '--nemesis':
        args.schedule = oneOf(value, flag, SCHEDULES);
        nemesisGiven = true;
        break;
      case '--trace':
        args.trace = true;
        break;
      case '--history':
        args.historyFile = outputFile(value, flag, "a file to write the replayed run's history to");
        break;
      case '--timeline':
        args.timelineFile = outputFile(value, flag, "a file to write the replayed run's HTML timeline to");
        break;
      case '--transport':
        args.transport = oneOf(value, flag, CHECK_TRANSPORTS);
        break;
      case '--nats': {
        if (value === undefined || value.length === 0 || value.startsWith('--'))
          throw new FlagError(`--nats needs comma-separated NATS URLs, such as nats://127.0.0.1:4222, ${gotValue(value)}`);
        const parsed = natsServersFlag(value);
        if ('wrong' in parsed) throw new FlagError(parsed.wrong);
        args.nats = { servers: parsed.servers };
        break;
      }
      case '--processes':
        if (value === 'dedicated') args.natsProcesses = value;
        else if (/^\d+$/.test(value ?? '') && Number(value) >= 1 && Number(value) <= NATS_PROCESSES_MAX) args.natsProcesses = Number(value);
        else throw new FlagError(`--processes needs an integer from 1 to ${NATS_PROCESSES_MAX} or dedicated, ${gotValue(value)}`);
        break;
      case '--json':
        args.jsonFile = outputFile(value, flag, "a file to write the run's summary and every seed's report to");
        break;
      default:
        throw new FlagError(`unknown check option ${JSON.stringify(flag)}`);
    }
  }
  if (unsafe !== undefined) {
    // A variant of the other workload: said which it needs (it was refused as an unknown name).
    if (args.workload !== 'txn' && TXN_UNSAFE_VARIANTS.includes(unsafe as (typeof TXN_UNSAFE_VARIANTS)[number]))
      throw new FlagError(`--unsafe ${unsafe} is a variant of the transactional workload: it needs --workload txn`);
    if (args.workload === 'txn' && UNSAFE_VARIANTS.includes(unsafe as (typeof UNSAFE_VARIANTS)[number]))
      throw new FlagError(`--unsafe ${unsafe} is a variant of the kv workload: not with --workload txn (its variants: ${TXN_UNSAFE_VARIANTS.join(', ')})`);
    if (args.workload === 'txn') args.txnUnsafe = oneOf(unsafe, '--unsafe', TXN_UNSAFE_VARIANTS);
    else args.unsafe = oneOf(unsafe, '--unsafe', UNSAFE_VARIANTS);
  }
  if (args.commits !== undefined && args.commits[0] !== '2pc' && args.unsafe === '2pc-commit-on-timeout')
    throw new FlagError("--unsafe 2pc-commit-on-timeout is a 2PC coordinator's bug: it needs --commit 2pc");
  if (args.workload === 'txn' && args.txnShare !== undefined) {
    throw new FlagError('--txn-share applies to the kv workload (it mixes transactions into its calls)');
  }
  // Without transactions the kv workload commits nothing: a protocol named, or the 2PC
  // coordinator's bug, would change nothing in the run (the same trace hash).
  if (args.txnShare === 0 && args.commits !== undefined)
    throw new FlagError(`--commit ${args.commits[0]!} chooses the protocol of the kv workload's transactions: not with --txn-share 0 (none to commit)`);
  if (args.txnShare === 0 && args.unsafe === '2pc-commit-on-timeout')
    throw new FlagError("--unsafe 2pc-commit-on-timeout is a 2PC coordinator's bug: not with --txn-share 0 (no transactions, so it cannot act)");
  // --fault-ms 0 is a run without a fault phase (quick runs use it): whatever chooses that
  // phase's faults would go unread, and the header named the schedule and its plan (the same
  // trace hash with --nemesis swarm, --faults crash or neither).
  if (args.faultMs === 0) {
    const unread = [
      nemesisGiven ? '--nemesis' : '',
      args.faults !== undefined ? '--faults' : '',
      args.onlyFaults !== undefined ? '--only-faults' : '',
      args.shrink ? '--shrink' : '',
    ].filter((f) => f !== '');
    if (unread.length > 0)
      throw new FlagError(
        `${unread.join(', ')} ${unread.length === 1 ? 'chooses' : 'choose'} the faults of the fault phase: not with --fault-ms 0 (no fault phase)`,
      );
  }
  if (!nemesisGiven) args.schedule = scheduleOf({ workload: args.workload, faults: args.faults });
  if (args.faults !== undefined && args.schedule === 'builtin') {
    throw new FlagError('--faults chooses what --nemesis targeted or swarm draws: not with --nemesis builtin (a fixed schedule of its own)');
  }
  if (args.randomShape === true && [args.regions, args.servers, args.factor, args.shards].some((x) => x !== undefined))
    throw new FlagError(
      '--shape random draws regions, servers, factor and shards for each seed: give none of --regions, --servers, --factor, --shards with it',
    );
  const regions = args.regions ?? SCENARIO_SHAPE_DEFAULTS.regions;
  const servers = args.servers ?? SCENARIO_SHAPE_DEFAULTS.servers;
  if (args.factor !== undefined && args.factor > regions * servers)
    throw new FlagError(
      `--factor needs an integer from 1 to ${Math.min(regions * servers, SCENARIO_FACTOR_MAX)} (${regions} regions of ${servers} ${servers === 1 ? 'server' : 'servers'}), got ${args.factor}`,
    );
  if (args.workload === 'txn' && args.keys !== undefined && args.keys > TXN_SCENARIO_KEYS_MAX)
    throw new FlagError(
      `--keys needs an integer from 1 to ${TXN_SCENARIO_KEYS_MAX} with --workload txn (its final read gets every key in one transaction), got ${args.keys}`,
    );
  if (args.seeds !== undefined && args.seed !== undefined) throw new FlagError('--seeds runs many seeds and --seed replays one: give one of them');
  if (args.nats !== undefined && args.transport !== 'nats') throw new FlagError('--nats names the NATS servers of --transport nats: give that too');
  if (args.natsProcesses !== undefined && args.transport !== 'nats')
    throw new FlagError('--processes sets how many host processes each seed spawns with --transport nats: give that too');
  if (realTime(args.transport)) {
    const t = `--transport ${args.transport}`;
    if (args.seed !== undefined)
      throw new FlagError(
        `${t} applies to --seeds and --time-limit (a real-time run does not replay): run seed ${args.seed} again with ${t} --seeds 1 --from ${args.seed}, or replay it in the simulator without --transport`,
      );
    const simOnly = (args.faults ?? []).filter((k) => SIM_ONLY_FAULT_KINDS.includes(k));
    if (simOnly.length > 0)
      throw new FlagError(`--faults ${simOnly.join(',')}: sim only, not with ${t} (${SIM_ONLY_FAULT_KINDS.join(', ')} start only in the simulator)`);
  }
  if (args.seed !== undefined && args.timeLimit !== undefined)
    throw new FlagError('--time-limit applies to a run of many seeds (--seeds N, or none: as many as fit)');
  // --time-limit alone: seeds from --from on, as many as the time lets run.
  if (args.seeds === undefined && args.seed === undefined && args.timeLimit !== undefined) {
    // As many as fit, and as there are seeds from --from on.
    args.seeds = Math.min(CHECK_RUN_SEEDS_MAX, SEED_MAX - (args.from ?? 0) + 1);
    args.seedsFromTime = true;
  }
  // --from near 2^32 - 1 takes the seeds up to it (a failing seed's line for a real-time run,
  // --seeds 1 --from S, was refused for the top million seeds).
  if (args.seeds !== undefined && args.from !== undefined && args.from + args.seeds - 1 > SEED_MAX)
    throw new FlagError(`--from ${args.from} --seeds ${args.seeds} runs seeds past ${SEED_MAX}: at most ${count(SEED_MAX - args.from + 1, 'seed')} from there`);
  if (args.seeds === undefined && args.seed === undefined)
    throw new FlagError('give --seeds N (check many seeds), --time-limit SECONDS (as many seeds as fit) or --seed S (replay one)');
  if (args.trace && args.seed === undefined) throw new FlagError('--trace needs --seed S (it replays one seed in this process)');
  if (args.historyFile !== undefined && (args.seed === undefined || args.shrink))
    throw new FlagError('--history needs --seed S without --shrink (it writes the history of the run it replays)');
  if (args.timelineFile !== undefined && (args.seed === undefined || args.shrink))
    throw new FlagError('--timeline needs --seed S without --shrink (it draws the run it replays)');
  // Both written at the end: the second would overwrite the first (a link to one file too).
  if (args.historyFile !== undefined && args.timelineFile !== undefined && sameFile(args.historyFile, args.timelineFile))
    throw new FlagError(
      `--history and --timeline name the same file ${JSON.stringify(args.historyFile)}: the timeline would overwrite the history; give two files`,
    );
  if (args.jsonFile !== undefined && args.seeds === undefined)
    throw new FlagError('--json applies to --seeds (a replay of one seed writes its history with --history)');
  if (args.seed !== undefined && args.workers !== undefined) throw new FlagError('--workers applies to --seeds (a replay runs in this process)');
  if (args.seed !== undefined && args.from !== undefined) throw new FlagError('--from applies to --seeds');
  if (args.seed !== undefined && args.maxFailures !== undefined) throw new FlagError('--max-failures applies to --seeds (it stops a run of many seeds)');
  if (args.shrink && args.seed === undefined) throw new FlagError('--shrink needs --seed S (it shrinks one failing seed)');
  if (args.shrinkRuns !== undefined && !args.shrink) throw new FlagError('--shrink-runs applies to --shrink');
  if (args.shrink && args.trace) throw new FlagError('--shrink and --trace: shrink first, then replay the printed command with --trace');
  if (args.onlyFaults !== undefined && args.schedule === 'builtin')
    throw new FlagError('--only-faults needs --nemesis targeted or swarm (the builtin schedule has no episodes)');
  if (args.shrink && args.schedule === 'builtin') throw new FlagError('--shrink needs --nemesis targeted or swarm (the builtin schedule has no episodes)');
  if (args.seeds !== undefined && args.onlyFaults !== undefined) {
    throw new FlagError('--only-faults applies to --seed (it replays a shrunk run: episodes are numbered per seed)');
  }
  if (!args.modeGiven) args.mode = defaultModeFor(args.unsafe);
  // A group of one has no other proposer: forget-promises cannot act there (the cluster refuses it).
  if (
    args.unsafe === 'forget-promises' &&
    args.randomShape !== true &&
    scenarioFactor(args.mode, { servers, factor: args.factor ?? SCENARIO_SHAPE_DEFAULTS.factor }) === 1
  )
    throw new FlagError(
      `--unsafe forget-promises needs groups of 2 or more (a group of one has no other proposer, so a forgotten promise changes nothing): ${args.factor === 1 ? 'not with --factor 1' : 'not with --mode hybrid on --servers 1'}`,
    );
  // A hybrid group lives in its shard's home region: the scenario cuts the factor to a region's
  // servers (scenarioFactor), right for the default and drawn factors, but a --factor given
  // above them ran groups of --servers while the header said the factor given.
  if (args.mode === 'hybrid' && args.factor !== undefined && args.factor > servers)
    throw new FlagError(
      `--factor needs an integer from 1 to ${servers} with --mode hybrid (a shard's group lives in its home region, of ${servers} ${servers === 1 ? 'server' : 'servers'}: --servers), got ${args.factor}`,
    );
  // The modes a variant acts in (the scenario and runChecks refuse the others too, from the same table).
  const needs = args.unsafe === undefined ? undefined : UNSAFE_VARIANT_MODES[args.unsafe];
  if (needs !== undefined && !needs.modes.includes(args.mode))
    throw new FlagError(`--unsafe ${args.unsafe} needs --mode ${needs.modes.join(' or ')} (${needs.why}), got --mode ${args.mode}`);
  return args;
}

/** The shape's flags of a replay line: ` --shape random`, or ` --regions 4 --servers 1 ...` for those given. */
function shapeFlags(x: ShapeFields): string {
  return [
    x.randomShape === true ? ' --shape random' : '',
    x.regions === undefined ? '' : ` --regions ${x.regions}`,
    x.servers === undefined ? '' : ` --servers ${x.servers}`,
    x.factor === undefined ? '' : ` --factor ${x.factor}`,
    x.shards === undefined ? '' : ` --shards ${x.shards}`,
  ].join('');
}

/** A trace hash as the verdict line prints it: 0x and 8 hex digits. */
function hexHash(hash: number): string {
  return `0x${hash.toString(16).padStart(8, '0')}`;
}

/** `targeted faults (only K1, K2)`: the schedule and the kinds named; the txn workload's own, `its own faults`. */
function schedulePhrase(args: { schedule: ScheduleName; workload: Workload; faults?: FaultKind[] | undefined }): string {
  return args.workload === 'txn' && args.schedule === 'builtin' ? 'its own faults' : `${args.schedule} faults${faultsPhrase(args)}`;
}

/**
 * ' (only K1, K2)' when --faults named the kinds to draw, in the order the plan draws them
 * (ALL_FAULT_KINDS'): it said them in the order given, the plan in its own.
 */
function faultsPhrase(args: { faults?: FaultKind[] | undefined }): string {
  const named = args.faults;
  return named === undefined ? '' : ` (only ${ALL_FAULT_KINDS.filter((k) => named.includes(k)).join(', ')})`;
}

/** The command that replays `task` (with `--trace` when asked). */
export function replayCommand(task: ScenarioTask, trace = true): string {
  let out = `meridian check --seed ${task.seed} --mode ${task.mode}`;
  const txn = task.workload === 'txn';
  if (txn) out += ' --workload txn';
  if (task.unsafe !== undefined) out += ` --unsafe ${task.unsafe}`;
  if (txn && task.txnUnsafe !== undefined) out += ` --unsafe ${task.txnUnsafe}`;
  // The workload's default schedule goes without saying (named fault kinds aside).
  const schedule = scheduleOf(task);
  if (schedule !== scheduleOf({ workload: task.workload })) out += ` --nemesis ${schedule}`;
  if (task.faults !== undefined) out += ` --faults ${task.faults.join(',')}`;
  if (task.clients !== undefined) out += ` --clients ${task.clients}`;
  if (task.keys !== undefined) out += ` --keys ${task.keys}`;
  if (task.faultMs !== undefined) out += ` --fault-ms ${task.faultMs}`;
  if (task.txnShare !== undefined) out += ` --txn-share ${decimalText(task.txnShare)}`;
  if (task.commits !== undefined) out += ` --commit ${task.commits[0]}`;
  if (task.limits !== undefined) out += ` --limits ${task.limits}`;
  if (task.balancer !== undefined) out += ` --balancer ${task.balancer}`;
  out += shapeFlags(task);
  if (task.onlyFaults !== undefined) out += ` --only-faults ${task.onlyFaults.length === 0 ? 'none' : task.onlyFaults.join(',')}`;
  if (task.checkBudget !== undefined) out += ` --check-budget ${decimalText(task.checkBudget)}`;
  return trace ? `${out} --trace` : out;
}

function taskOf(args: CheckArgs, seed: number): ScenarioTask {
  const task: ScenarioTask = { seed, mode: args.mode, schedule: args.schedule, ...seedOptionsOf(args) };
  if (args.onlyFaults !== undefined) task.onlyFaults = args.onlyFaults;
  return task;
}

function describeFailure(r: ScenarioReport): string {
  if (r.error !== undefined) return `threw ${r.error.split('\n')[0]}`;
  if (r.unknownReason !== undefined) return r.unknownReason;
  if (r.outcome === 'unknown')
    return r.memoryBound.length === 0
      ? 'unknown (the checker ran out of budget; not a pass: --check-budget B gives it B times the search)'
      : `unknown (${undecidedWhy(r.timedOut, r.memoryBound)}; not a pass)`;
  return r.failures.join('; ');
}

/** The flags that replay seed `r` exactly: a drawn shape is replayed by its flags (the same run; the shape at a glance). */
function exactArgs(r: ScenarioReport, args: CheckArgs): CheckArgs {
  return r.shape === undefined ? args : { ...args, randomShape: false, ...r.shape };
}

function printFailure(io: CheckIo, r: ScenarioReport, args: CheckArgs): void {
  io.out(`seed ${r.seed} (${r.mode}): ${describeFailure(r)}`);
  if (r.error !== undefined) for (const line of r.error.split('\n').slice(1, 8)) io.out(`  ${line.trim()}`);
  for (const v of r.violations) for (const line of formatViolation(v)) io.out(`  ${line}`);
  for (const a of r.anomalies ?? []) io.out(`  ${a}`);
  if (r.timedOut.length > 0) io.out(`  ${undecidedLine(r.timedOut, r.memoryBound)}`);
  io.out('  faults:');
  for (const f of r.faults) io.out(`    ${f}`);
  const exact = exactArgs(r, args);
  if (realTime(args.transport)) {
    // A real-time run: the same seed again may or may not fail; in the simulator it is a replay of other timings.
    io.out(`  again ${args.transport === 'nats' ? 'over NATS' : 'on threads'}: ${againInRealTime(exact, r.seed)}`);
    io.out(`  in the simulator: ${replayCommand(taskOf(exact, r.seed))}`);
    return;
  }
  io.out(`  replay: ${replayCommand(taskOf(exact, r.seed))}`);
  if (r.outcome === 'fail' && args.schedule !== 'builtin') io.out(`  shrink: ${replayCommand(taskOf(exact, r.seed), false)} --shrink`);
}

/** The command that runs seed `seed` of `args` once more on its real-time transport (over the NATS servers --nats named, if it did). */
function againInRealTime(args: CheckArgs, seed: number): string {
  const servers = args.nats !== undefined ? ` --nats ${[args.nats.servers].flat().join(',')}` : '';
  const processes = args.natsProcesses !== undefined ? ` --processes ${args.natsProcesses}` : '';
  return replayCommand(taskOf(args, seed), false).replace(`--seed ${seed} `, `--transport ${args.transport}${servers}${processes} --seeds 1 --from ${seed} `);
}

/** `--processes` in the header: how many host processes each seed's cluster spawns, when given. */
function processesPhrase(processes: number | 'dedicated' | undefined): string {
  if (processes === undefined) return '';
  if (processes === 'dedicated') return '; a host process per server and region';
  // More than a seed's regions and servers are not started (validateConfig): at most N.
  return processes === 1 ? '; 1 host process a seed' : `; at most ${processes} host processes a seed`;
}

/** `45 s`, `12 min 5 s`, `3 h 20 min`: a duration in seconds, to the unit that matters. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * `seeds` run in `seconds`, as seeds a second: one decimal from 1 seed/s up (as the README and
 * the tests read it), two significant digits below, where one decimal read `0.0 seeds/s` (3
 * NATS seeds in 61.1 s; found by an audit, session 60).
 */
export function seedsPerSecond(seeds: number, seconds: number): string {
  const rate = seeds / Math.max(seconds, 1e-9);
  return rate >= 1 || rate === 0 ? rate.toFixed(1) : rate.toPrecision(2);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/**
 * The share of calls whose outcome stayed unknown, over the seeds that ran an operation:
 * `mean` and `max` (undefined when none did), and how many seeds were `leftOut` (0 operations:
 * a seed that crashed or hung before its workload). Such a seed counted as 0%, which pulled the
 * mean down (session 67's audit). A run's summary has them over all its seeds (`unknownShares`,
 * reports dropped or not).
 */
export function unknownShares(reports: readonly Pick<ScenarioReport, 'unknownShare' | 'operations'>[]): UnknownShares {
  return unknownSharesOf(reports);
}

/** How many failed (and unknown) seeds the summary line names; --json has them all. */
export const SUMMARY_SEEDS_LISTED = 20;

/**
 * The seeds the summary line names after a count, in parentheses: the first
 * SUMMARY_SEEDS_LISTED, then how many more (`(1, 2, ..., 20, ... and 4980 more)`); nothing for
 * none. Every one was listed: with thousands of failing seeds the line was one enormous line
 * (noticed, session 69). The report above names each, and --json lists them all.
 */
export function seedList(seeds: readonly number[]): string {
  if (seeds.length === 0) return '';
  const shown = seeds.slice(0, SUMMARY_SEEDS_LISTED).join(', ');
  return seeds.length > SUMMARY_SEEDS_LISTED ? ` (${shown}, ... and ${seeds.length - SUMMARY_SEEDS_LISTED} more)` : ` (${shown})`;
}

/** check's line of unknownShares; undefined when no seed finished (interrupted at once: it said "mean 0.0%, max 0.0%"). */
export function unknownSharesLine(shares: UnknownShares): string | undefined {
  if (shares.mean === undefined && shares.leftOut === 0) return undefined;
  const leftOut = shares.leftOut === 0 ? '' : `; ${count(shares.leftOut, 'seed')} with no operation (crashed or hung) left out`;
  const figures =
    shares.mean === undefined || shares.max === undefined ? 'none (no seed ran an operation)' : `mean ${pct(shares.mean)}, max ${pct(shares.max)}`;
  return `unknown outcomes per seed: ${figures} (calls that timed out: they may or may not have taken effect${leftOut})`;
}

/** One seed's line of `--json`: its outcome, what failed, and (unless it passed) the command that replays it. */
function jsonReport(r: ScenarioReport, args: CheckArgs): Record<string, unknown> {
  const out: Record<string, unknown> = {
    seed: r.seed,
    mode: r.mode,
    outcome: r.outcome,
    failures: r.failures,
    verdict: r.verdict,
    operations: r.operations,
    unknownShare: r.unknownShare,
    faultEpisodes: r.faultEpisodes,
    traceHash: hexHash(r.traceHash),
    elapsedMs: Math.round(r.elapsedMs),
  };
  // A txn seed's runs, one per protocol: each hash as its replay's verdict line prints it
  // (traceHash combines them: see ScenarioReport).
  if (r.traceHashes !== undefined) out.traceHashes = Object.fromEntries(r.traceHashes.map((h) => [h.commit, hexHash(h.traceHash)]));
  if (r.shape !== undefined) out.shape = r.shape;
  if (r.error !== undefined) out.error = r.error;
  if (r.unknownReason !== undefined) out.unknownReason = r.unknownReason;
  if (r.anomalies !== undefined && r.anomalies.length > 0) out.anomalies = r.anomalies;
  // Beside the undecided keys, those the checker's memory bound stopped (more --check-budget
  // cannot decide them), as the text lines say (undecidedLine); the file gave the keys alone.
  if (r.timedOut.length > 0) {
    out.undecidedKeys = r.timedOut;
    out.memoryBound = r.memoryBound;
  }
  if (r.outcome !== 'pass') {
    out.faults = r.faults;
    if (realTime(args.transport)) {
      out.again = againInRealTime(exactArgs(r, args), r.seed);
      out.inSimulator = replayCommand(taskOf(exactArgs(r, args), r.seed));
    } else out.replay = replayCommand(taskOf(exactArgs(r, args), r.seed));
  }
  return out;
}

/**
 * `startedNats`: the URL of the nats-server started for this run (withNatsServer), when --nats
 * named none. `lent`: CheckLoan's pool, used when the run is simulated and asks for its number
 * of workers.
 */
async function checkMany(args: CheckArgs, io: CheckIo, argv: readonly string[], startedNats?: string, lent?: CheckPool): Promise<number> {
  // --json: a file that cannot be written fails now, before any seed runs.
  if (args.jsonFile !== undefined && !writable(args.jsonFile, '--json', io)) return 2;
  const from = args.from ?? 1;
  const total = args.seeds!;
  const inRealTime = realTime(args.transport);
  // As runChecks counts them (one seed at a time in real time unless asked).
  const workers = args.workers ?? checkRunWorkersDefault(args.transport);
  // The pool lent (CheckLoan) when it fits; else runChecks starts one of no more threads than
  // seeds, and the header says so, as the summary does (`--seeds 1` said "2 workers", then "on 1 worker").
  const lend = lent !== undefined && !inRealTime && !lent.closed && lent.workers === workers;
  const used = lend ? workers : Math.min(workers, total);
  const servers = args.nats?.servers ?? startedNats;
  const nats = servers === undefined ? undefined : { servers, ...(args.natsProcesses === undefined ? {} : { processes: args.natsProcesses }) };
  const what =
    args.workload === 'txn'
      ? `read/append transactions (${(args.commits ?? TXN_CHECK_COMMITS).join(' and ')}, checked strict serializable), ${schedulePhrase(args)}`
      : schedulePhrase(args);
  const unsafe = args.unsafe ?? args.txnUnsafe;
  const sizes = [
    args.clients === undefined ? '' : `, ${args.clients} clients`,
    args.keys === undefined ? '' : `, ${args.keys} keys`,
    args.faultMs === undefined ? '' : `, ${args.faultMs} ms of faults`,
    args.txnShare === undefined ? '' : `, ${txnSharePhrase(args.txnShare)}`,
    args.commits === undefined || args.workload === 'txn' ? '' : `, transactions by ${args.commits[0]}`,
    shapePhrase(args),
    args.limits === undefined || args.limits === 'drawn'
      ? ''
      : args.limits === 'small'
        ? ', small memory bounds and messages'
        : ', no small memory bounds or messages',
    args.balancer === undefined || args.balancer === 'round-robin'
      ? ''
      : args.balancer === 'drawn'
        ? ', balancers drawn per seed'
        : `, ${args.balancer} balancers`,
    args.checkBudget === undefined ? '' : `, ${decimalText(args.checkBudget)}x the checker's search budget`,
  ].join('');
  const timeLimit = args.timeLimit;
  const range =
    args.seedsFromTime === true
      ? `seeds from ${from} for ${duration(timeLimit!)}`
      : `seeds ${from}..${from + total - 1}${timeLimit === undefined ? '' : ` (at most ${duration(timeLimit)})`}`;
  io.out(
    `meridian check: ${range}, ${args.mode} replication${unsafe === undefined ? '' : ` (unsafe: ${unsafe})`}, ${what}${sizes}, ${count(used, 'worker')}${
      inRealTime
        ? `, ${args.transport === 'nats' ? `over NATS (${[nats!.servers].flat().join(', ')}${processesPhrase(args.natsProcesses)})` : 'on worker threads'} in real time (a seed fixes its faults and workload, not their timing: a failure does not replay)`
        : ''
    }`,
  );
  threePcNote(args, io);
  const every = Math.max(1, Math.ceil(total / PROGRESS_STEPS));
  const started = performance.now();
  let failedSoFar = 0;
  let unknownSoFar = 0;
  let doneSoFar = 0;
  // A run the time decides: a progress line every tenth of the time, with the seeds done.
  const progressTimer =
    args.seedsFromTime === true
      ? setInterval(
          () => {
            const seconds = (performance.now() - started) / 1000;
            io.out(
              `progress ${count(doneSoFar, 'seed')} (${failedSoFar} failed, ${unknownSoFar} unknown; ${seedsPerSecond(doneSoFar, seconds)} seeds/s, about ${duration(timeLimit! - seconds)} left)`,
            );
          },
          (timeLimit! * 1_000) / PROGRESS_STEPS,
        )
      : undefined;
  progressTimer?.unref();
  // Ctrl-C stops the run and still prints what it found: the failing seeds' replay lines and
  // the summary of the seeds that finished.
  let stopped: AbortSignal | undefined;
  const summary = await untilInterrupted(
    (signal) =>
      runChecks({
        from,
        seeds: total,
        workers,
        ...(lend ? { pool: lent } : {}),
        mode: args.mode,
        schedule: args.schedule,
        signal: (stopped = signal),
        ...(args.maxFailures === undefined ? {} : { maxFailures: args.maxFailures }),
        ...(timeLimit === undefined ? {} : { timeLimitMs: timeLimit * 1_000 }),
        ...seedOptionsOf(args),
        ...(nats === undefined ? {} : { nats }),
        onReport: (r, done) => {
          doneSoFar = done;
          if (r.outcome === 'fail') {
            failedSoFar++;
            io.out(`  seed ${r.seed} FAILED: ${describeFailure(r)}`);
          } else if (r.outcome === 'unknown') {
            unknownSoFar++;
            io.out(`  seed ${r.seed} UNKNOWN: ${describeFailure(r)}`);
          }
          if (progressTimer === undefined && (done % every === 0 || done === total)) {
            // The pace so far, and (before the last) how long the rest would take at it.
            const seconds = (performance.now() - started) / 1000;
            const rate = done / Math.max(seconds, 1e-9);
            const left = done === total ? '' : `, about ${duration((total - done) / rate)} left`;
            io.out(`progress ${done}/${total} (${failedSoFar} failed, ${unknownSoFar} unknown; ${seedsPerSecond(done, seconds)} seeds/s${left})`);
          }
        },
      }).finally(() => clearInterval(progressTimer)),
    interruptNote(io, 'the seeds in flight are dropped, their clusters stopped'),
    // A second signal: the pool's threads end before the process quits, which removes their seeds' folders.
    endCheckPools,
  );
  const notPassed = [...summary.failed, ...summary.unknown].sort((a, b) => a.seed - b.seed);
  if (notPassed.length > 0) {
    io.out('');
    io.out('failing and unknown seeds:');
    for (const r of notPassed) printFailure(io, r, args);
    io.out('');
  }
  const shares = summary.unknownShares;
  const seconds = summary.elapsedMs / 1000;
  // Not a finding (exit 1 below, as for an unknown seed): the seeds that finished are reported.
  if (summary.natsUnreachable !== undefined) io.out(`check: NATS cannot be reached, no more seeds started: ${summary.natsUnreachable}`);
  const sharesLine = unknownSharesLine(shares);
  if (sharesLine !== undefined) io.out(sharesLine);
  const list = (rs: ScenarioReport[]): string => seedList(rs.map((r) => r.seed));
  const ran = summary.ran;
  const ofTotal = args.seedsFromTime === true ? count(ran, 'seed') : `${ran} of ${count(total, 'seed')}`;
  io.out(
    `check: ${
      summary.interrupted
        ? `interrupted after ${ofTotal}`
        : summary.natsUnreachable !== undefined
          ? `stopped after ${ofTotal} (NATS cannot be reached)`
          : summary.stoppedAtFailures
            ? `stopped after ${ofTotal} (--max-failures ${args.maxFailures} reached)`
            : summary.stoppedAtTimeLimit
              ? `time limit (${duration(timeLimit!)}) reached after ${ofTotal}`
              : count(total, 'seed')
    }, ${summary.passed} passed, ${summary.failed.length} failed${list(summary.failed)}, ${summary.unknown.length} unknown${list(summary.unknown)}; ` +
      `${summary.operations} operations checked, ${seconds.toFixed(1)} s on ${count(summary.workers, 'worker')} (${seedsPerSecond(ran, seconds)} seeds/s)`,
  );
  if (args.jsonFile !== undefined) {
    const head = {
      command: `meridian check ${shellWords(argv)}`,
      from,
      // null when the time limit set the count (not a number the run was asked for).
      seeds: args.seedsFromTime === true ? null : total,
      ran,
      interrupted: summary.interrupted,
      stoppedAtFailures: summary.stoppedAtFailures,
      stoppedAtTimeLimit: summary.stoppedAtTimeLimit,
      ...(summary.natsUnreachable === undefined ? {} : { natsUnreachable: summary.natsUnreachable }),
      passed: summary.passed,
      // Passed seeds without a line in `reports` (beyond the first CHECK_RUN_PASSED_REPORTS_KEPT to pass).
      passedReportsLeftOut: summary.passedReportsLeftOut,
      failed: summary.failed.map((r) => r.seed),
      unknown: summary.unknown.map((r) => r.seed),
      operations: summary.operations,
      // null when no seed ran an operation (none to average).
      unknownShareMean: shares.mean ?? null,
      unknownShareMax: shares.max ?? null,
      unknownShareSeedsLeftOut: shares.leftOut,
      elapsedMs: summary.elapsedMs,
      workers: summary.workers,
    };
    // One seed's report a line (grep finds a seed).
    const text = `${jsonListPerLine(
      head,
      'reports',
      summary.reports.map((r) => jsonReport(r, args)),
    )}\n`;
    if (!writeText(args.jsonFile, text, '--json', io)) return 2;
    const leftOut = summary.passedReportsLeftOut;
    io.out(
      `json: ${count(summary.reports.length, 'seed report')} written to ${args.jsonFile}${
        leftOut === 0 ? '' : ` (and not those of ${count(leftOut, 'passed seed')} beyond the first ${CHECK_RUN_PASSED_REPORTS_KEPT} to pass: counted, not kept)`
      }`,
    );
  }
  if (summary.interrupted) return interruptedStatus(stopped!);
  return summary.failed.length > 0 || summary.unknown.length > 0 || summary.natsUnreachable !== undefined ? 1 : 0;
}

/** Shrink one failing seed; prints the cuts, the shrunk schedule and workload, and the replay command. */
async function shrinkOne(args: CheckArgs, io: CheckIo): Promise<number> {
  const task = taskOf(args, args.seed!);
  const txn = args.workload === 'txn';
  const unsafe = args.unsafe ?? args.txnUnsafe;
  const what = txn ? `read/append transactions (${(args.commits ?? TXN_CHECK_COMMITS).join(' and ')}), ` : '';
  io.out(
    `meridian check: shrinking seed ${task.seed}, ${what}${args.mode} replication${unsafe === undefined ? '' : ` (unsafe: ${unsafe})`}, ${schedulePhrase(args)}${args.commits === undefined || txn ? '' : `, transactions by ${args.commits[0]}`}${shapePhrase(args.randomShape === true ? drawShape(task.seed) : args)}`,
  );
  threePcNote(args, io);
  // Ctrl-C stops the shrink after the trial in flight and prints the smallest failing run so far.
  let stopped: AbortSignal | undefined;
  const r = await untilInterrupted(
    (signal) => shrinkSeed(task, { maxRuns: args.shrinkRuns ?? SHRINK_RUNS_DEFAULT, onProgress: (line) => io.out(`  ${line}`), signal: (stopped = signal) }),
    interruptNote(io, 'the smallest failing run so far follows once the trial in flight ends'),
  );
  // Interrupted before the shrinking began: it said "nothing to shrink", as of a seed that does
  // not fail (found by a review, session 57).
  if (r.interrupted && r.runs === 0) {
    io.out(`shrink interrupted before its first run: seed ${task.seed} was not run`);
    return interruptedStatus(stopped!);
  }
  if (r.original.outcome !== 'fail') {
    if (r.interrupted) {
      io.out(`shrink interrupted after its first run: seed ${task.seed} does not fail (${r.original.outcome}), so there was nothing to shrink`);
      return interruptedStatus(stopped!);
    }
    io.out(`seed ${task.seed} does not fail (${r.original.outcome}): nothing to shrink`);
    if (episodesNotDrawn(args, r.original.faultEpisodes, io)) return 2;
    return r.original.outcome === 'pass' ? 0 : 1;
  }
  const s = r.shrunk;
  const episodes = s.onlyFaults === undefined ? `${r.result.faultEpisodes} (all)` : `${s.onlyFaults.length} of ${r.result.faultEpisodes} drawn`;
  io.out(
    `${r.interrupted ? `shrink interrupted after ${count(r.runs, 'run')}, the smallest failing run so far` : `shrunk in ${count(r.runs, 'run')}`}: ${s.clients === 1 ? '1 client' : `${s.clients ?? 'default'} clients`}, ${s.keys === 1 ? '1 key' : `${s.keys ?? 'default'} keys`}, ${s.faultMs ?? 'default'} ms of faults${txn ? '' : `, ${s.txnShare === undefined ? 'the default share of transactions' : txnSharePhrase(s.txnShare)}`}${shapePhrase(s)}, fault episodes ${episodes}`,
  );
  io.out(`failure: ${describeFailure(r.result)}`);
  // As the replay's verdict line prints it (a txn seed's, each protocol's run's): the two compare.
  const hashes = r.result.traceHashes?.map((h) => `${h.commit} ${hexHash(h.traceHash)}`).join(', ') ?? hexHash(r.result.traceHash);
  io.out(`trace hash${r.result.traceHashes === undefined ? '' : 'es'}: ${hashes}`);
  for (const v of r.result.violations) for (const line of formatViolation(v)) io.out(`  ${line}`);
  for (const a of r.result.anomalies ?? []) io.out(`  ${a}`);
  io.out('faults:');
  for (const f of r.result.faults) io.out(`  ${f}`);
  io.out(`replay: ${replayCommand(s)}`);
  return r.interrupted ? interruptedStatus(stopped!) : 1;
}

/** What a replayed run prints first, either workload: its message trace (with --trace), then its faults. */
function printReplay(
  io: CheckIo,
  trace: boolean,
  r: { trace?: Array<{ at: number; from: string; to: string; type: string }> | undefined; faults: string[] },
): void {
  if (trace) {
    const delivered = r.trace ?? [];
    io.out(`trace (${delivered.length} messages delivered; virtual ms, from -> to, type):`);
    for (const e of delivered) io.out(`${e.at.toFixed(0).padStart(7)}  ${e.from} -> ${e.to}  ${e.type}`);
  }
  io.out('faults:');
  for (const f of r.faults) io.out(`  ${f}`);
}

/** Everything printed here is a function of the flags: the same seed prints the same text. */
async function replayOne(args: CheckArgs, io: CheckIo): Promise<number> {
  // --history: a file that cannot be written fails now, before the seed runs (as --json does).
  if (args.historyFile !== undefined && !writable(args.historyFile, '--history', io)) return 2;
  if (args.timelineFile !== undefined && !writable(args.timelineFile, '--timeline', io)) return 2;
  if (args.workload === 'txn') return replayTxn(args, io);
  const seed = args.seed!;
  io.out(
    `meridian check: replaying seed ${seed}, ${args.mode} replication${args.unsafe === undefined ? '' : ` (unsafe: ${args.unsafe})`}, ${schedulePhrase(args)}${args.commits === undefined ? '' : `, transactions by ${args.commits[0]}`}${shapePhrase(args.randomShape === true ? drawShape(seed) : args)}`,
  );
  threePcNote(args, io);
  const task = taskOf(args, seed);
  let r: Awaited<ReturnType<typeof replaySeed>>;
  try {
    r = await replaySeed(task);
  } catch (error) {
    replayThrew(io, error, args);
    return 1;
  }
  printReplay(io, args.trace, r);
  for (const v of r.check.violations) for (const line of formatViolation(v)) io.out(line);
  for (const f of r.failures) if (f !== 'not-linearizable') io.out(f);
  if (r.check.timedOut.length > 0) io.out(undecidedLine(r.check.timedOut, r.check.memoryBound));
  const hash = hexHash(r.traceHash);
  const said = `${verdictWord(r.outcome)}: ${r.check.verdict}, ${r.live ? 'live' : 'not live'}`;
  io.out(`verdict: ${said} (${r.operations} operations, ${pct(r.unknownShare)} unknown, trace hash ${hash})`);
  // The run's own verdict, and why beyond its history (the failures printed above it): what
  // --history stores and the timeline heads the run with. The history file stored the
  // checker's word alone, and verify read a run failed by a lost promise as linearizable, a
  // pass (found by an audit, session 55).
  const others = r.failures.filter((f) => f !== 'not-linearizable');
  const verdict = `${said}${others.length === 0 ? '' : ` (${others.join('; ')})`}`;
  if (args.historyFile !== undefined) {
    const run = { outcome: r.outcome, verdict, traceHash: hash, operations: r.operations, faults: r.faults, history: r.history ?? [] };
    if (!writeHistory(args.historyFile, { command: replayCommand(task, false), workload: 'kv', model: 'register', runs: [run] }, io)) return 2;
  }
  if (args.timelineFile !== undefined) {
    const run: TimelineRun = {
      label: `seed ${seed}`,
      verdict,
      outcome: r.outcome,
      faults: r.faults,
      kind: 'kv',
      history: r.history ?? [],
      violations: r.check.violations,
      undecided: r.check.timedOut,
      memoryBound: r.check.memoryBound,
      unchecked: r.check.unchecked,
    };
    if (!writeTimeline(args.timelineFile, replayCommand(task, false), [run], io)) return 2;
  }
  if (episodesNotDrawn(args, r.faultEpisodes, io)) return 2;
  return r.outcome === 'pass' ? 0 : 1;
}

/**
 * --only-faults naming an episode beyond the most the seed's plan can draw in its safety phase:
 * a FlagError, before the seed runs (`--only-faults 99` ran the whole seed, or a whole shrink,
 * first: found by an audit, session 61). How many it does draw only the run tells: episodesNotDrawn.
 */
async function episodesInRange(args: CheckArgs): Promise<void> {
  if (args.seed === undefined) return;
  const out = await onlyFaultsBeyond(taskOf(args, args.seed));
  if (out !== undefined) throw new FlagError(`--only-faults ${out.beyond.join(',')}: it takes ${out.allowed}`);
}

/**
 * Whether --only-faults named an episode the seed does not draw (a typo: `--only-faults 5` of a
 * seed with one episode ran with no fault and passed, exit 0); said on stderr. Known only once
 * the run has drawn its schedule, so after it (episodesInRange refuses, before it, the numbers
 * no run of the seed can draw).
 */
function episodesNotDrawn(args: CheckArgs, drawn: number, io: CheckIo): boolean {
  const beyond = (args.onlyFaults ?? []).filter((i) => i >= drawn);
  if (beyond.length === 0) return false;
  io.err(
    `meridian check: --only-faults ${beyond.join(',')}: seed ${args.seed} draws ${drawn === 0 ? 'no fault episode' : `${drawn} fault episode${drawn === 1 ? '' : 's'}, numbered 0 to ${drawn - 1}`}; the run above ran without ${beyond.length === 1 ? 'it' : 'them'}`,
  );
  return true;
}

/** A replayed run's outcome as its verdict line begins. */
function verdictWord(outcome: 'pass' | 'fail' | 'unknown'): string {
  return outcome === 'pass' ? 'ok' : outcome === 'unknown' ? 'UNKNOWN' : 'FAILED';
}

/**
 * A replayed run that threw: the seed fails (exit 1), as it does in a run of many seeds
 * (runOneSeed: 'the run threw', its error printed as printFailure prints it). Before (noticed by
 * a helper, session 69) the error left main and the replay line of such a seed exited 70, an
 * internal error's status, while the run that printed that line had counted the seed failed.
 * Its --history and --timeline hold no run of it (it recorded none).
 */
function replayThrew(io: CheckIo, error: unknown, args: CheckArgs): void {
  const [first, ...rest] = (error instanceof Error ? (error.stack ?? error.message) : String(error)).split('\n');
  io.out(`threw ${first}`);
  for (const line of rest.slice(0, 7)) io.out(`  ${line.trim()}`);
  io.out('verdict: FAILED: the run threw');
  if (args.historyFile !== undefined || args.timelineFile !== undefined) io.out('  (no history of it for --history or --timeline: it recorded none)');
}

/** Replay one seed of the transactional workload, once per protocol, in this process. */
async function replayTxn(args: CheckArgs, io: CheckIo): Promise<number> {
  const seed = args.seed!;
  let ok = true;
  const runs: Array<Record<string, unknown> & { history: unknown[] }> = [];
  const timeline: TimelineRun[] = [];
  let drawn = 0;
  for (const commit of args.commits ?? TXN_CHECK_COMMITS) {
    io.out(
      `meridian check: replaying seed ${seed}, read/append transactions, ${commit} over ${args.mode} replication${args.txnUnsafe === undefined ? '' : ` (unsafe: ${args.txnUnsafe})`}, ${schedulePhrase(args)}${shapePhrase(args.randomShape === true ? drawShape(seed) : args)}`,
    );
    threePcNote(args, io);
    let r: Awaited<ReturnType<typeof replayTxnSeed>>;
    try {
      r = await replayTxnSeed(taskOf(args, seed), commit);
    } catch (error) {
      // As in a run of many seeds (runTxnSeed): this protocol's run failed, the others still run.
      replayThrew(io, error, args);
      ok = false;
      continue;
    }
    drawn = Math.max(drawn, r.faultEpisodes);
    // The run's own verdict as its verdict line prints it (r.verdict names what failed beyond
    // the history; the word before it says that it failed), and its outcome, as a kv run's.
    const said = `${verdictWord(r.outcome)}: ${r.verdict}, ${r.live ? 'live' : 'not live'}`;
    // What --history and --timeline store: the verdict line's words and why not live (printed above it).
    const verdict = r.notLive === undefined ? said : `${said} (${r.notLive})`;
    runs.push({
      commit,
      outcome: r.outcome,
      ok: r.ok,
      verdict,
      traceHash: hexHash(r.traceHash),
      transactions: r.transactions,
      faults: r.faults,
      history: r.history ?? [],
    });
    printReplay(io, args.trace, r);
    for (const a of r.anomalies) io.out(a);
    // Why not live, as a kv replay prints its failures above its verdict line.
    if (r.notLive !== undefined) io.out(`${LIVENESS_FAILURES.notLive}: ${r.notLive}`);
    const hash = hexHash(r.traceHash);
    io.out(`verdict: ${said} (${r.transactions} transactions: ${r.committed} committed, ${r.aborted} aborted, ${r.indefinite} indefinite; trace hash ${hash})`);
    ok &&= r.ok;
    if (args.timelineFile !== undefined) {
      timeline.push({
        label: `seed ${seed} (${commit})`,
        verdict,
        outcome: r.outcome,
        faults: r.faults,
        kind: 'txn',
        history: (r.history ?? []) as ElleOp[],
        anomalies: r.check.anomalies,
      });
    }
  }
  const command = replayCommand(taskOf(args, seed), false);
  if (args.historyFile !== undefined && !writeHistory(args.historyFile, { command, workload: 'txn', model: 'list-append', runs }, io)) return 2;
  if (args.timelineFile !== undefined && !writeTimeline(args.timelineFile, command, timeline, io)) return 2;
  if (episodesNotDrawn(args, drawn, io)) return 2;
  return ok ? 0 : 1;
}

/** `--timeline FILE`: the replayed runs drawn as meridian verify --timeline draws a history (src/harness/timeline.ts). */
function writeTimeline(file: string, command: string, runs: TimelineRun[], io: CheckIo): boolean {
  if (!writeText(file, timelineHtml({ title: command, runs }), '--timeline', io)) return false;
  io.out(`timeline: written to ${file}`);
  return true;
}

/** `head` as JSON with one more field, `key`: `items` as an array, one item a line (for grep). */
function jsonListPerLine(head: object, key: string, items: readonly unknown[]): string {
  const open = JSON.stringify(head).slice(0, -1);
  return `${open}${open.length > 1 ? ',' : ''}${JSON.stringify(key)}:[\n${items.map((e) => JSON.stringify(e)).join(',\n')}\n]}`;
}

/** Whether `file` can be written, asked before the run (output-file.ts's writable, as this command). */
function writable(file: string, flag: string, io: CheckIo): boolean {
  return writableFile('meridian check', file, flag, io.err);
}

/** Writes `text` to `file` (output-file.ts's writeText, as this command). */
function writeText(file: string, text: string, flag: string, io: CheckIo): boolean {
  return writeFileText('meridian check', file, text, flag, io.err);
}

/**
 * `--history FILE`: the replayed run's history as JSON. `runs[i].history` is what
 * `cluster.history()` returned: HistoryOp records for the kv workload (checkLinearizable(history,
 * 'register') takes them as they are), Elle's events for the txn workload (checkTransactions),
 * one run per commit protocol replayed; beside it `faults`, the run's fault log lines as printed
 * (`meridian verify --timeline` draws them), and `outcome` and `verdict`, what the run itself
 * decided (`verify` shows them beside its own verdict, and counts a run that failed as failed).
 */
function writeHistory(file: string, doc: { command: string; workload: Workload; model: string; runs: Array<{ history: unknown[] }> }, io: CheckIo): boolean {
  // JSON with one history entry a line (grep finds an operation by its value or client).
  const runs = doc.runs.map(({ history, ...run }) => jsonListPerLine(run, 'history', history));
  const text = `{"command":${JSON.stringify(doc.command)},"workload":"${doc.workload}","model":"${doc.model}","runs":[\n${runs.join(',\n')}\n]}\n`;
  if (!writeText(file, text, '--history', io)) return false;
  io.out(`history: ${doc.runs.length === 1 ? 'the run' : `${doc.runs.length} runs`} written to ${file}`);
  return true;
}

/**
 * What a caller in this process may lend the command (a test suite that runs it many times):
 * `pool`, a warm pool (createCheckPool) that a run of many seeds in the simulator asking for as
 * many workers runs on instead of starting one of its own (each new pool's threads spend a CPU
 * second or two compiling). A seed's outcome does not depend on the pool.
 */
export interface CheckLoan {
  pool?: CheckPool;
}

export async function main(argv: string[], io: CheckIo = { out: (l) => console.log(l), err: (l) => console.error(l) }, loan: CheckLoan = {}): Promise<number> {
  if (wantsHelp(argv, CHECK_BARE_FLAGS)) {
    io.out(`usage:\n${CHECK_USAGE}`);
    return 0;
  }
  let args: CheckArgs;
  try {
    args = parseCheckArgs(argv);
    // Awaited only when asked: without --only-faults, a run's Ctrl-C handler is installed before
    // main first yields (check-shrink-interrupt's tests signal then).
    if (args.onlyFaults !== undefined) await episodesInRange(args);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    io.err(`meridian check: ${error.message}\nusage:\n${CHECK_USAGE}`);
    return 2;
  }
  if (args.shrink) return shrinkOne(args, io);
  if (args.seed !== undefined) return replayOne(args, io);
  if (args.transport === 'nats' && args.nats === undefined) return withNatsServer(io, (servers) => checkMany(args, io, argv, servers));
  if (args.nats !== undefined && !(await natsReachable([args.nats.servers].flat(), io))) return 2;
  return checkMany(args, io, argv, undefined, loan.pool);
}

/**
 * Whether the NATS servers --nats names answer, asked before any seed runs; false (and a line
 * naming the flag) when not. Each seed connects on its own: else every seed failed, after its
 * connect timeout, as if a bug had been found (exit 1). Tried as often as the run's own
 * connection is (connectNatsTries): one try failed a run on a busy machine.
 */
async function natsReachable(servers: string[], io: CheckIo): Promise<boolean> {
  const { NatsUnreachableError } = await import('../runtime/transports/nats-wire.js');
  try {
    await (await connectNatsTries(servers, 'meridian-check-probe')).close();
    return true;
  } catch (error) {
    if (!(error instanceof NatsUnreachableError)) throw error;
    io.err(`meridian check: --nats: ${error.message}`);
    return false;
  }
}

/** `--transport nats` without --nats: a nats-server of the run's own (the binary MERIDIAN_NATS_SERVER_BIN names, or the PATH's), stopped after it. */
async function withNatsServer(io: CheckIo, run: (servers: string) => Promise<number>): Promise<number> {
  const binary = natsServerBinary();
  if (!('bin' in binary)) {
    io.err(`meridian check: --transport nats without --nats starts a nats-server for the run, and found ${binary.reason}; or give --nats URL[,URL]`);
    return 2;
  }
  // A binary that does not start (MERIDIAN_NATS_SERVER_BIN=/nonexistent) is one line and exit
  // 2, as a missing one: it threw, a stack trace and exit 1, which says a seed failed (found by
  // an audit, session 56).
  let server: NatsServer;
  try {
    server = await startNatsServer(binary.bin);
  } catch (error) {
    io.err(
      `meridian check: --transport nats without --nats starts a nats-server for the run, and ${natsServerFailure(binary, error)}; or give --nats URL[,URL]`,
    );
    return 2;
  }
  try {
    io.out(`meridian check: nats-server started at ${server.url} for this run (--nats URL names servers of your own)`);
    return await run(server.url);
  } finally {
    await server.stop();
  }
}
