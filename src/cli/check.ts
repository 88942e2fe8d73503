/**
 * `meridian check`: many seeded fault scenarios checked in parallel, or one seed replayed with
 * its message trace. Exit codes: 0 all passed, 1 some seed failed, 2 bad flags.
 */
import type { HistoryOp } from '../harness/history.js';
import type { Violation } from '../harness/linearizability.js';
import {
  CHECK_MODES,
  CHECK_RUN_SEEDS_MAX,
  CHECK_RUN_WORKERS_DEFAULT,
  CHECK_RUN_WORKERS_MAX,
  SCHEDULES,
  UNSAFE_VARIANTS,
  replaySeed,
  replayTxnSeed,
  runChecks,
  TXN_CHECK_COMMITS,
  TXN_UNSAFE_VARIANTS,
  WORKLOADS,
  type TxnCommit,
  type TxnUnsafe,
  type Workload,
  type CheckMode,
  type ScenarioReport,
  type ScheduleName,
  type UnsafeVariant,
} from '../harness/check-runner.js';

export const CHECK_USAGE = `  meridian check --seeds N [--from S] [--workers K] [--mode active|passive|hybrid] [--unsafe VARIANT] [--nemesis builtin|swarm]
  meridian check --seed S [--trace] [--mode ...] [--unsafe VARIANT] [--nemesis builtin|swarm]
  meridian check --workload txn --seeds N | --seed S [--commit 2pc|paxos-commit] [--unsafe release-locks-at-prepare|vote-before-prepare-durable] [--mode ...]`;

/** Progress lines in a many-seed run (one every tenth of the seeds). */
export const PROGRESS_STEPS = 10;

export interface CheckIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

interface CheckArgs {
  seeds?: number;
  seed?: number;
  from?: number;
  workers?: number;
  mode: CheckMode;
  unsafe?: UnsafeVariant;
  schedule: ScheduleName;
  trace: boolean;
  workload: Workload;
  /** txn: the protocols to run (default every one that claims strict serializability). */
  commits?: TxnCommit[];
  txnUnsafe?: TxnUnsafe;
}

class FlagError extends Error {}

function intFlag(value: string | undefined, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new FlagError(`${flag} needs an integer from ${min} to ${max}, got ${JSON.stringify(value ?? null)}`);
  }
  return n;
}

function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new FlagError(`${flag} takes ${allowed.join(', ')}, got ${JSON.stringify(value ?? null)}`);
  return value as T;
}

export function parseCheckArgs(argv: string[]): CheckArgs {
  const args: CheckArgs = { mode: 'active', schedule: 'builtin', trace: false, workload: 'kv' };
  let unsafe: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    switch (flag) {
      case '--seeds':
        args.seeds = intFlag(value, flag, 1, CHECK_RUN_SEEDS_MAX);
        i++;
        break;
      case '--seed':
        args.seed = intFlag(value, flag, 0, 0xffffffff);
        i++;
        break;
      case '--from':
        args.from = intFlag(value, flag, 0, 0xffffffff - CHECK_RUN_SEEDS_MAX);
        i++;
        break;
      case '--workers':
        args.workers = intFlag(value, flag, 1, CHECK_RUN_WORKERS_MAX);
        i++;
        break;
      case '--mode':
        args.mode = oneOf(value, flag, CHECK_MODES);
        i++;
        break;
      case '--unsafe':
        unsafe = value;
        i++;
        break;
      case '--workload':
        args.workload = oneOf(value, flag, WORKLOADS);
        i++;
        break;
      case '--commit':
        args.commits = [oneOf(value, flag, TXN_CHECK_COMMITS)];
        i++;
        break;
      case '--nemesis':
        args.schedule = oneOf(value, flag, SCHEDULES);
        i++;
        break;
      case '--trace':
        args.trace = true;
        break;
      default:
        throw new FlagError(`unknown check option ${JSON.stringify(flag)}`);
    }
  }
  if (unsafe !== undefined) {
    if (args.workload === 'txn') args.txnUnsafe = oneOf(unsafe, '--unsafe', TXN_UNSAFE_VARIANTS);
    else args.unsafe = oneOf(unsafe, '--unsafe', UNSAFE_VARIANTS);
  }
  if (args.commits !== undefined && args.workload !== 'txn') throw new FlagError('--commit applies to --workload txn');
  if (args.workload === 'txn' && args.schedule !== 'builtin') throw new FlagError('--nemesis applies to the kv workload (txn has its own schedule, with coordinator crashes)');
  if (args.seeds !== undefined && args.seed !== undefined) throw new FlagError('--seeds runs many seeds and --seed replays one: give one of them');
  if (args.seeds === undefined && args.seed === undefined) throw new FlagError('give --seeds N (check many seeds) or --seed S (replay one)');
  if (args.trace && args.seed === undefined) throw new FlagError('--trace needs --seed S (it replays one seed in this process)');
  if (args.seed !== undefined && args.workers !== undefined) throw new FlagError('--workers applies to --seeds (a replay runs in this process)');
  if (args.seed !== undefined && args.from !== undefined) throw new FlagError('--from applies to --seeds');
  return args;
}

/** `c1 put(1004) ok [812..830]`: one history operation as a line of a witness. */
export function formatOp(op: HistoryOp): string {
  const input = op.input === undefined ? '' : op.kind === 'cas' ? (() => {
    const c = op.input as { expected?: unknown; next?: unknown };
    return `${JSON.stringify(c.expected ?? null)}->${JSON.stringify(c.next ?? null)}`;
  })() : JSON.stringify(op.input);
  const output = op.outcome === 'ok' && (op.kind === 'get' || op.kind === 'read' || op.kind === 'cas') ? ` = ${JSON.stringify(op.output ?? null)}` : '';
  const done = op.completeMs === undefined ? '?' : op.completeMs.toFixed(0);
  return `${op.client} ${op.kind}(${input})${output} ${op.outcome} [${op.invokeMs.toFixed(0)}..${done} ms]`;
}

export function formatViolation(v: Violation): string[] {
  return [
    `key ${v.key}: no order explains ${formatOp(v.failedOp)}`,
    `  witness (${v.ops.length} ops${v.minimal ? ', minimal' : ''}):`,
    ...v.ops.map((op) => `    ${formatOp(op)}`),
  ];
}

function replayCommand(r: { seed: number; mode: CheckMode }, args: CheckArgs): string {
  const unsafe = args.unsafe ?? args.txnUnsafe;
  const txn = args.workload === 'txn' ? ` --workload txn${args.commits === undefined ? '' : ` --commit ${args.commits[0]}`}` : '';
  const extra = `${txn}${unsafe === undefined ? '' : ` --unsafe ${unsafe}`}${args.schedule === 'builtin' ? '' : ` --nemesis ${args.schedule}`}`;
  return `meridian check --seed ${r.seed} --mode ${r.mode}${extra} --trace`;
}

function describeFailure(r: ScenarioReport): string {
  if (r.error !== undefined) return `threw ${r.error.split('\n')[0]}`;
  return `${r.verdict}${r.live ? '' : ', not live (clients could not finish after healing)'}`;
}

function printFailure(io: CheckIo, r: ScenarioReport, args: CheckArgs): void {
  io.out(`seed ${r.seed} (${r.mode}): ${describeFailure(r)}`);
  if (r.error !== undefined) for (const line of r.error.split('\n').slice(1, 8)) io.out(`  ${line.trim()}`);
  for (const v of r.violations) for (const line of formatViolation(v)) io.out(`  ${line}`);
  for (const a of r.anomalies ?? []) io.out(`  ${a}`);
  if (r.timedOut.length > 0) io.out(`  keys the checker could not decide: ${r.timedOut.join(', ')}`);
  io.out('  faults:');
  for (const f of r.faults) io.out(`    ${f}`);
  io.out(`  replay: ${replayCommand(r, args)}`);
}

async function checkMany(args: CheckArgs, io: CheckIo): Promise<number> {
  const from = args.from ?? 1;
  const total = args.seeds!;
  const workers = args.workers ?? CHECK_RUN_WORKERS_DEFAULT;
  const what = args.workload === 'txn'
    ? `read/append transactions (${(args.commits ?? TXN_CHECK_COMMITS).join(' and ')}, checked strict serializable)`
    : `${args.schedule} faults`;
  const unsafe = args.unsafe ?? args.txnUnsafe;
  io.out(`meridian check: seeds ${from}..${from + total - 1}, ${args.mode} replication${unsafe === undefined ? '' : ` (unsafe: ${unsafe})`}, ${what}, ${workers} workers`);
  const every = Math.max(1, Math.ceil(total / PROGRESS_STEPS));
  let failedSoFar = 0;
  const summary = await runChecks({
    from,
    seeds: total,
    workers,
    mode: args.mode,
    schedule: args.schedule,
    ...(args.unsafe === undefined ? {} : { unsafe: args.unsafe }),
    ...(args.workload === 'kv' ? {} : { workload: args.workload }),
    ...(args.commits === undefined ? {} : { commits: args.commits }),
    ...(args.txnUnsafe === undefined ? {} : { txnUnsafe: args.txnUnsafe }),
    onReport: (r, done) => {
      if (!r.ok) {
        failedSoFar++;
        io.out(`  seed ${r.seed} FAILED: ${describeFailure(r)}`);
      }
      if (done % every === 0 || done === total) io.out(`progress ${done}/${total} (${failedSoFar} failed)`);
    },
  });
  if (summary.failed.length > 0) {
    io.out('');
    io.out('failing seeds:');
    for (const r of summary.failed) printFailure(io, r, args);
    io.out('');
  }
  const passed = summary.reports.length - summary.failed.length;
  io.out(`check: ${total} seeds, ${passed} passed, ${summary.failed.length} failed${summary.failed.length > 0 ? ` (${summary.failed.map((r) => r.seed).join(', ')})` : ''}, `
    + `${summary.operations} operations checked, ${(summary.elapsedMs / 1000).toFixed(1)} s on ${summary.workers} workers`);
  return summary.failed.length > 0 ? 1 : 0;
}

/** Everything printed here is a function of the flags: the same seed prints the same text. */
async function replayOne(args: CheckArgs, io: CheckIo): Promise<number> {
  if (args.workload === 'txn') return replayTxn(args, io);
  const seed = args.seed!;
  io.out(`meridian check: replaying seed ${seed}, ${args.mode} replication${args.unsafe === undefined ? '' : ` (unsafe: ${args.unsafe})`}, ${args.schedule} faults`);
  const task = { seed, mode: args.mode, schedule: args.schedule, ...(args.unsafe === undefined ? {} : { unsafe: args.unsafe }) };
  const r = await replaySeed(task);
  if (args.trace) {
    const trace = r.trace ?? [];
    io.out(`trace (${trace.length} messages delivered; virtual ms, from -> to, type):`);
    for (const e of trace) io.out(`${e.at.toFixed(0).padStart(7)}  ${e.from} -> ${e.to}  ${e.type}`);
  }
  io.out('faults:');
  for (const f of r.faults) io.out(`  ${f}`);
  for (const v of r.check.violations) for (const line of formatViolation(v)) io.out(line);
  if (r.check.timedOut.length > 0) io.out(`keys the checker could not decide: ${r.check.timedOut.join(', ')}`);
  const hash = `0x${r.traceHash.toString(16).padStart(8, '0')}`;
  io.out(`verdict: ${r.ok ? 'ok' : 'FAILED'}: ${r.check.verdict}, ${r.live ? 'live' : 'not live'} (${r.operations} operations, trace hash ${hash})`);
  return r.ok ? 0 : 1;
}

/** Replay one seed of the transactional workload, once per protocol, in this process. */
async function replayTxn(args: CheckArgs, io: CheckIo): Promise<number> {
  const seed = args.seed!;
  let ok = true;
  for (const commit of args.commits ?? TXN_CHECK_COMMITS) {
    io.out(`meridian check: replaying seed ${seed}, read/append transactions, ${commit} over ${args.mode} replication${args.txnUnsafe === undefined ? '' : ` (unsafe: ${args.txnUnsafe})`}`);
    const r = await replayTxnSeed({ seed, mode: args.mode, ...(args.txnUnsafe === undefined ? {} : { txnUnsafe: args.txnUnsafe }) }, commit);
    if (args.trace) {
      const trace = r.trace ?? [];
      io.out(`trace (${trace.length} messages delivered; virtual ms, from -> to, type):`);
      for (const e of trace) io.out(`${e.at.toFixed(0).padStart(7)}  ${e.from} -> ${e.to}  ${e.type}`);
    }
    io.out('faults:');
    for (const f of r.faults) io.out(`  ${f}`);
    for (const a of r.anomalies) io.out(a);
    const hash = `0x${r.traceHash.toString(16).padStart(8, '0')}`;
    io.out(`verdict: ${r.ok ? 'ok' : 'FAILED'}: ${r.verdict}, ${r.live ? 'live' : 'not live'} (${r.transactions} transactions: ${r.committed} committed, ${r.aborted} aborted, ${r.indefinite} indefinite; trace hash ${hash})`);
    ok &&= r.ok;
  }
  return ok ? 0 : 1;
}

export async function main(argv: string[], io: CheckIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(`usage:\n${CHECK_USAGE}`);
    return 0;
  }
  let args: CheckArgs;
  try {
    args = parseCheckArgs(argv);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    io.err(`meridian check: ${error.message}\nusage:\n${CHECK_USAGE}`);
    return 2;
  }
  return args.seed !== undefined ? replayOne(args, io) : checkMany(args, io);
}
