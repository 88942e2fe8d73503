/**
 * The commit suite: committed transactions per second and their latency for each commit
 * protocol ('2pc', '3pc', 'paxos-commit'), with Multi-Paxos batching (64) and without (1), on
 * 3 regions x 3 servers with active replication, factor 3; the raw worker-thread baseline is
 * measured in the same run.
 *
 * Every transaction puts two keys that live on two different shards, so two shard groups take
 * part: `client.transaction([{ op: 'put', key: a, value }, { op: 'put', key: b, value }])`.
 * Closed loops of `window` transactions in flight from clients spread over the three regions
 * (a server forwards a transaction to its own region's coordinator). The key pairs are dealt
 * in order from a pool far larger than the window, so two transactions in flight rarely share
 * a key; an abort (a prepare that finds a key locked votes no) is counted, not retried.
 *
 * Messages per transaction (router counts, collectStats().types deltas; background types left
 * out), `isolated` = batch 1, one transaction at a time spaced by more than a tick, set against
 * the analytic count derived from the code for N = 2 participant shards, groups of g = 3:
 *
 *   client path   req: client -> balancer, balancer -> server, server -> coordinator (3);
 *                 res: coordinator -> balancer, balancer -> client (2)                   = 5
 *   protocol      the pure core's messages (src/protocols/costs.ts), every one a real hop
 *                 because the participant of a shard is that shard's group leader:
 *                   2PC   prepare, vote, commit, ack                           4N
 *                   3PC   can-commit, vote, pre-commit, ack, do-commit         5N
 *                   PC    prepare N, phase 2a N(2F+1), phase 2b N(2F+1), outcome N
 *                         (acceptors = the 3 region coordinators, F = 1; the leader's own
 *                         acceptor sends its 2b to itself, which the router counts)  N(4F+4)
 *   shard logs    what a participant must not forget goes through its shard's Paxos log,
 *                 not a local file (src/replication/participant.ts): each step of the core that
 *                 writes a record, or gets a prepare, proposes one entry (records and an
 *                 outcome share one; the last entry carries the tag that releases the messages
 *                 held behind it). Steps per participant:
 *                   2PC   prepare, voted, commit(+decided)                           s = 3
 *                   3PC   prepare, voted, precommitted, do-commit(+decided)          s = 4
 *                   PC    prepare, prepared, outcome(+decided)                       s = 3
 *                 An isolated slot costs g-1 accepts + g-1 accepteds (the leader's own
 *                 acceptor votes inside its core) + g-1 commits = 3(g-1) = 6, batched or not.
 *   => messages = 5 + protocol + N * s * 3(g-1):
 *        2PC  5 + 8 + 2*3*6 = 49      3PC  5 + 10 + 2*4*6 = 63      PC  5 + 16 + 2*3*6 = 57
 *
 * Under load (the `loaded b64` column) transactions share what the isolated one pays alone:
 * a participant's proposals wait for the server's flush, so the entries of many transactions'
 * steps share one slot (its 3(g-1) messages split among them); a coordinator sends what a burst
 * of its mailbox produced for one shard as one wire, and the messages one log entry releases
 * (votes, acks) leave as one wire per coordinator. The isolated count stays the analytic one
 * (nothing to share); the loaded count falls as the load grows (test/txn-batching.part.ts
 * holds it under half the isolated count for 96 transactions in flight).
 *
 * Against Gray & Lamport ("Consensus on Transaction Commit", 2004, table 1): their 2PC takes
 * 4 message delays (BeginCommit, prepare, prepared, commit) and about 3N messages (3N+1; 3N-1
 * with the coordinator on an RM's node), with N+1 stable writes that are local forced log
 * writes, free of messages; Paxos Commit takes 5 delays and N+F+1 stable writes, its messages
 * growing as N*F (every RM's phase 2a to the acceptors, the acceptors' phase 2b bundled), and
 * is 2PC at F = 0. Here the protocols' own messages stay that small (4N, 5N, N(4F+4); no
 * BeginCommit hop, but 2PC acknowledgements), and a participant's stable write becomes a
 * Multi-Paxos round among g replicas: 3(g-1) messages and 2 more delays (accept, accepted) per
 * step. That replication, which keeps a participant available when a replica fails, dominates
 * the count: for 2PC with N = 2, the protocol's own 8 messages are 16% of 49, its 6 log slots
 * the other 36. Delays from the coordinator to the commit point (2PC):
 * prepare 1 + log prepare 2 + log vote 2 + vote 1 = 6, against 2 in G&L (prepare, prepared).
 * The coordinator's own records stay local (its file), as Paxos Commit's acceptors' do. The
 * three protocols then differ mostly by their number of participant steps (3, 4, 3) and by
 * Paxos Commit's 2N(2F+1) acceptor messages.
 *
 * Run alone: node dist/bench/run.js commit [--quick]
 */
import { performance } from 'node:perf_hooks';
import { startCluster, type Client, type Cluster, type ClusterConfig, type CommitProtocol } from '../src/index.js';
import {
  describeShape,
  BACKGROUND_TYPES,
  baseConfig,
  clientsOf,
  closedLoop,
  keysOnTwoShards,
  LATENCIES_MS,
  latencyMatrix,
  perOp,
  phasesNote,
  rawBaseline,
  sumTypes,
  typesDelta,
  type ClusterShape,
  type LoadResult,
  type RawBaseline,
} from './lib/cluster-load.js';
import { distributionChart } from './lib/plots.js';
import { percentile, round } from './lib/stats.js';
import { barChart, logger, modeOf, type Chart, type Mode, type SuiteOptions, type SuiteResult } from './lib/suite.js';
import { fmt, formatTable, targetWord } from './lib/table.js';
import { loadAverage, loadNote } from './lib/machine.js';
import { endsLoop, withTimeout } from './lib/wait.js';

const SEED = 9_221;
const PROTOCOLS: readonly CommitProtocol[] = ['2pc', '3pc', 'paxos-commit'];
const FIGURE_NAMES: Record<CommitProtocol, string> = { '2pc': 'twopc', '3pc': 'threepc', 'paxos-commit': 'paxos_commit' };
/** Participants (shards) per transaction, and the replicas of each shard's group. */
const N = 2;
const GROUP = 3;
/** Spacing of the isolated transactions: more than the 10 ms replication and commit tick. */
const ISOLATED_GAP_MS = 15;
/** Same placement as the replication suite, for the same reasons (see bench/replication.ts). */
const PLACEMENT: ClusterShape = { transport: 'threads', placement: 'packed', threads: 2 };

interface Sizes {
  shape: ClusterShape;
  latencies: readonly number[];
  window: number;
  clients: number;
  /** Key pairs in the pool (a multiple of the window keeps conflicts rare). */
  pairs: number;
  ops: number;
  runMs: number;
  warmupOps: number;
  /** A warm-up (JIT, caches) ends at warmupOps calls or after this long. */
  warmupMs: number;
  batch1Wan: boolean;
  isolated: number;
  raw: { roundTrips: number; window: number; reps: number };
  /** The coordinator crash runs' phases (default CRASH_PHASES_MS). */
  crashPhasesMs?: CrashPhases;
}

const SIZES: Record<Mode, Sizes> = {
  full: {
    shape: PLACEMENT,
    latencies: LATENCIES_MS,
    window: 1_000,
    clients: 24,
    pairs: 50_000,
    ops: 100_000,
    runMs: 4_000,
    warmupOps: 10_000,
    warmupMs: 1_500,
    batch1Wan: true,
    isolated: 60,
    raw: { roundTrips: 300_000, window: 1_000, reps: 3 },
  },
  quick: {
    shape: PLACEMENT,
    latencies: LATENCIES_MS,
    window: 200,
    clients: 12,
    pairs: 20_000,
    ops: 20_000,
    // Measured after 2 s of the same load, as the replication suite: a 700 ms window after
    // 300 ms of warm-up measured the JIT's start as much as the transactions.
    runMs: 1_500,
    warmupOps: 20_000,
    warmupMs: 2_000,
    batch1Wan: false,
    isolated: 12,
    raw: { roundTrips: 100_000, window: 1_000, reps: 1 },
  },
  tiny: {
    shape: { transport: 'sim', placement: 'dedicated' },
    latencies: LATENCIES_MS,
    window: 8,
    clients: 3,
    pairs: 400,
    ops: 60,
    runMs: 10_000,
    warmupOps: 10,
    warmupMs: 10_000,
    batch1Wan: false,
    isolated: 3,
    raw: { roundTrips: 2_000, window: 100, reps: 1 },
    // The crash at 1 s as in CRASH_PHASES_MS, down for twice BLOCKED_MS, so parts still hold
    // their locks past it: 3.5 s of virtual time per protocol, not 9 (the crash runs were two
    // thirds of the tiny suite's CPU). A crash at 0.5 s met no part that held its locks 1 s.
    crashPhasesMs: { before: 1_000, down: 2_000, after: 500 },
  },
};

/** The issue's targets for 2PC (batch 64, 0 ms): committed txn/s at least, CPU us per committed txn at most. */
export const TWOPC_TARGET_TXN_PER_S = 10_000;
export const TWOPC_TARGET_CPU_US = 200;

/** Log slots of each participant step (see the header). */
const LOG_STEPS: Record<CommitProtocol, number> = { '2pc': 3, '3pc': 4, 'paxos-commit': 3 };

/** The pure core's messages for N participants (F = 1 for Paxos Commit: 3 acceptors). */
export function protocolMessages(protocol: CommitProtocol, n: number, f = 1): number {
  switch (protocol) {
    case '2pc':
      return 4 * n;
    case '3pc':
      return 5 * n;
    case 'paxos-commit':
      return n * (4 * f + 4);
  }
}

/** The analytic count of one isolated transaction (see the header). */
export function analyticTxn(protocol: CommitProtocol, batch: number, n = N, g = GROUP): number {
  // One slot per participant step, batched or not (a step's records and tag share its entry).
  void batch;
  return 5 + protocolMessages(protocol, n) + n * LOG_STEPS[protocol] * 3 * (g - 1);
}

interface RunFigures {
  committedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  committed: number;
  aborted: number;
  failed: number;
  abortRate: number;
  cpuUsPerTxn: number;
  /** Every committed transaction's latency, for the distribution plots. */
  latenciesMs: readonly number[];
}

function runFigures(r: LoadResult): RunFigures {
  const aborted = r.errors.ABORTED ?? 0;
  return {
    committedPerSec: r.okPerSec,
    p50Ms: percentile(r.latenciesMs, 50),
    p99Ms: percentile(r.latenciesMs, 99),
    committed: r.ok,
    aborted,
    failed: r.failed - aborted,
    abortRate: aborted / Math.max(1, r.ok + aborted),
    cpuUsPerTxn: (r.cpuMs * 1000) / Math.max(1, r.ok),
    latenciesMs: r.latenciesMs,
  };
}

function commitConfig(s: Sizes, protocol: CommitProtocol, batch: number): ClusterConfig {
  const config = baseConfig(s.shape, SEED, s.latencies[0]!);
  config.replication = { mode: 'active', factor: GROUP, batch };
  config.commit = protocol;
  return config;
}

async function ready(cluster: Cluster, clients: Client[]): Promise<void> {
  const pairs = keysOnTwoShards('ready', clients.length, cluster.config.shards);
  for (let attempt = 0; ; attempt++) {
    try {
      await Promise.all(
        clients.map((c, i) => {
          const [a, b] = pairs[i]!;
          return c.transaction([
            { op: 'put', key: a, value: attempt },
            { op: 'put', key: b, value: attempt },
          ]);
        }),
      );
      return;
    } catch (error) {
      if (attempt >= 50) throw error;
      await cluster.sleep(50);
    }
  }
}

function txnLoop(clients: Client[], s: Sizes, pairs: Array<[string, string]>, total: number, offset: number, durationMs?: number): Promise<LoadResult> {
  return closedLoop({
    window: s.window,
    total,
    ...(durationMs === undefined ? {} : { durationMs }),
    call: (i, w) => {
      const [a, b] = pairs[(offset + i) % pairs.length]!;
      return clients[w % clients.length]!.transaction([
        { op: 'put', key: a, value: i },
        { op: 'put', key: b, value: i },
      ]);
    },
  });
}

interface ProtocolResult {
  protocol: CommitProtocol;
  batch: number;
  runs: Record<number, RunFigures>;
  loadedPerTxn: number;
  loadedTypes: Record<string, number>;
  isolated?: { perTxn: number; types: Record<string, number>; analytic: number; committed: number };
}

async function isolatedTxns(cluster: Cluster, clients: Client[], count: number, batch: number): Promise<ProtocolResult['isolated']> {
  const pairs = keysOnTwoShards('iso', count, cluster.config.shards);
  await cluster.sleep(ISOLATED_GAP_MS);
  const before = await cluster.collectStats();
  let committed = 0;
  for (let i = 0; i < count; i++) {
    const [a, b] = pairs[i]!;
    try {
      await clients[i % clients.length]!.transaction([
        { op: 'put', key: a, value: i },
        { op: 'put', key: b, value: i },
      ]);
      committed++;
    } catch {
      // Counted below: an isolated transaction should never abort.
    }
    await cluster.sleep(ISOLATED_GAP_MS);
  }
  const after = await cluster.collectStats();
  const types = typesDelta(before, after);
  const path = Object.fromEntries(Object.entries(types).filter(([t]) => !BACKGROUND_TYPES.has(t)));
  return { perTxn: sumTypes(path) / count, types: perOp(path, count), analytic: analyticTxn(cluster.config.commit, batch), committed };
}

async function measureProtocol(s: Sizes, protocol: CommitProtocol, batch: number, log: (line: string) => void): Promise<ProtocolResult> {
  const t0 = performance.now();
  const cluster = await withTimeout(startCluster(commitConfig(s, protocol, batch)), `startCluster ${protocol}`);
  const result: ProtocolResult = { protocol, batch, runs: {}, loadedPerTxn: 0, loadedTypes: {} };
  try {
    const pairs = keysOnTwoShards('t', s.pairs, cluster.config.shards);
    const clients = clientsOf(cluster, s.clients);
    await ready(cluster, clients);
    const tReady = performance.now();
    if (batch === 1) result.isolated = await isolatedTxns(cluster, clients, s.isolated, batch);
    const tIsolated = performance.now();
    let offset = (await txnLoop(clients, s, pairs, s.warmupOps, 0, s.warmupMs)).calls;
    const phases = phasesNote([
      ['ready after', tReady - t0],
      ['isolated', result.isolated === undefined ? undefined : tIsolated - tReady],
      ['warm-up', performance.now() - tIsolated],
    ]);
    log(`commit: ${protocol} batch ${batch}: ${phases}`);
    for (const ms of s.latencies) {
      if (batch === 1 && ms > 0 && !s.batch1Wan) continue;
      await cluster.setNetwork({ latencyMs: latencyMatrix(ms) });
      const before = await cluster.collectStats();
      const r = await txnLoop(clients, s, pairs, s.ops, offset, s.runMs);
      offset += r.calls;
      if (ms === s.latencies[0]) {
        const after = await cluster.collectStats();
        const path = Object.fromEntries(Object.entries(typesDelta(before, after)).filter(([t]) => !BACKGROUND_TYPES.has(t)));
        result.loadedPerTxn = sumTypes(path) / r.calls;
        result.loadedTypes = perOp(path, r.calls);
      }
      const f = runFigures(r);
      result.runs[ms] = f;
      log(
        `commit: ${protocol} batch ${batch} at ${ms} ms: ${fmt(f.committedPerSec)} committed/s p50 ${fmt(f.p50Ms, 2)} ms p99 ${fmt(f.p99Ms, 2)} ms; ${f.aborted} aborted, ${f.failed} failed${f.failed > 0 ? ` ${JSON.stringify(r.errors)}` : ''}; ${fmt(f.cpuUsPerTxn)} us CPU per committed txn`,
      );
    }
  } finally {
    await cluster.stop();
  }
  log(`commit: ${protocol} batch ${batch}: ${fmt((performance.now() - t0) / 1000, 1)} s with boot and stop`);
  return result;
}

// --- Coordinator crash: 2PC against Paxos Commit -------------------------------------------

/** Virtual ms of each phase of the crash run: before the crash, coordinator down, after its restart. */
export const CRASH_PHASES_MS = { before: 1_000, down: 6_000, after: 2_000 } as const;
export type CrashPhases = { [P in keyof typeof CRASH_PHASES_MS]: number };
/** A part that held its locks this long after the crash counts as blocked. */
const BLOCKED_MS = 1_000;
/** How often the crash run samples the transactions holding locks (virtual ms). */
const CRASH_SAMPLE_MS = 10;
const CRASH_CLIENTS = 12;
const CRASH_VICTIM = 'coordinator/us-east';

export interface CrashFigures {
  protocol: CommitProtocol;
  /** Committed transactions per simulated second in each phase. */
  txnPerSecBefore: number;
  txnPerSecDown: number;
  txnPerSecAfter: number;
  /** Transaction parts (a transaction at one shard) holding locks when the coordinator crashed. */
  lockedAtCrash: number;
  /** How long those parts held their locks in all (ms, p50 and max; sampled every 10 ms). */
  crashLockHoldP50Ms: number;
  crashLockHoldMaxMs: number;
  /** Of those, the parts that held their locks longer than BLOCKED_MS. */
  blocked: number;
  /** Lock-hold time of every other transaction part (ms, p50 and p99). */
  lockHoldP50Ms: number;
  lockHoldP99Ms: number;
}

/**
 * The same two-shard transactions from 12 clients spread over the regions (closed loops, keys
 * never shared, so no aborts by contention), in sim (virtual time: every figure is a function
 * of the seed): coordinator/us-east crashes after `phases.before` ms and restarts `phases.down`
 * ms later (CRASH_PHASES_MS: after 1 s, 6 s later). While it is
 * down, us-east's servers send new transactions to the next region's coordinator; the
 * transactions it led are what differs: Paxos Commit's participants finish them with the
 * other coordinators as acceptors, 2PC's stay blocked, locks held, until the restart.
 */
export async function coordinatorCrash(protocol: CommitProtocol, phases: CrashPhases = CRASH_PHASES_MS): Promise<CrashFigures> {
  const config = baseConfig({ transport: 'sim', placement: 'dedicated' }, SEED, LATENCIES_MS[0]!);
  config.network = { latencyMs: latencyMatrix(10) };
  config.replication = { mode: 'active', factor: GROUP };
  config.commit = protocol;
  config.requestTimeoutMs = 2_000;
  const cluster = await startCluster(config);
  try {
    const clients = clientsOf(cluster, CRASH_CLIENTS);
    const pairs = keysOnTwoShards('crash', 100_000, cluster.config.shards);
    let next = 0;
    const done: number[] = [];
    let running = true;
    await ready(cluster, clients);
    const t0 = cluster.now();
    const loops = clients.map(async (c) => {
      while (running) {
        const [a, b] = pairs[next++ % pairs.length]!;
        try {
          await c.transaction([
            { op: 'append', key: a, value: next },
            { op: 'append', key: b, value: next },
          ]);
          done.push(cluster.now() - t0);
        } catch (error) {
          if (endsLoop(error)) return;
          // Aborted or timed out: not committed (the closed loop goes on).
        }
      }
    });
    const servers = cluster.members().map((m) => m.id);
    const seen = new Map<string, { first: number; last: number }>();
    let atCrash = new Set<string>();
    const crashAt = phases.before;
    const restartAt = crashAt + phases.down;
    const end = restartAt + phases.after;
    let crashed = false;
    let restarted = false;
    while (cluster.now() - t0 < end) {
      const now = cluster.now() - t0;
      if (!crashed && now >= crashAt) {
        crashed = true;
        await cluster.crash(CRASH_VICTIM);
      }
      if (!restarted && now >= restartAt) {
        restarted = true;
        await cluster.restart(CRASH_VICTIM);
      }
      const open = new Set<string>();
      for (const id of servers) {
        const s = (await cluster.inspect(id)) as { state?: { openTxnIds?: string[] } } | null;
        for (const t of s?.state?.openTxnIds ?? []) open.add(t);
      }
      for (const t of open) {
        const e = seen.get(t);
        if (e === undefined) seen.set(t, { first: now, last: now });
        else e.last = now;
      }
      // The parts the crashed coordinator led (its transaction ids start with its region).
      if (crashed && atCrash.size === 0 && now - crashAt < CRASH_SAMPLE_MS)
        atCrash = new Set([...open].filter((t) => t.includes(`:${CRASH_VICTIM.slice('coordinator/'.length)}:`)));
      await cluster.sleep(CRASH_SAMPLE_MS);
    }
    running = false;
    await Promise.all(loops);
    const holdOf = (e: { first: number; last: number }): number => e.last - e.first + CRASH_SAMPLE_MS;
    const crashHolds = [...atCrash].map((t) => holdOf(seen.get(t)!)).sort((x, y) => x - y);
    const otherHolds = [...seen]
      .filter(([t]) => !atCrash.has(t))
      .map(([, e]) => holdOf(e))
      .sort((x, y) => x - y);
    const rate = (from: number, to: number): number => (done.filter((t) => t >= from && t < to).length * 1000) / (to - from);
    return {
      protocol,
      txnPerSecBefore: rate(0, crashAt),
      txnPerSecDown: rate(crashAt, restartAt),
      txnPerSecAfter: rate(restartAt, end),
      lockedAtCrash: atCrash.size,
      crashLockHoldP50Ms: crashHolds.length === 0 ? 0 : percentile(crashHolds, 50),
      crashLockHoldMaxMs: crashHolds.length === 0 ? 0 : crashHolds[crashHolds.length - 1]!,
      blocked: crashHolds.filter((h) => h > BLOCKED_MS).length,
      lockHoldP50Ms: otherHolds.length === 0 ? 0 : percentile(otherHolds, 50),
      lockHoldP99Ms: otherHolds.length === 0 ? 0 : percentile(otherHolds, 99),
    };
  } finally {
    await cluster.stop();
  }
}

export async function run(opts: SuiteOptions): Promise<SuiteResult> {
  const mode = modeOf(opts);
  const s = SIZES[mode];
  const log = logger(opts);
  const started = performance.now();
  // Others' load on a shared machine moves every rate; the table says how loaded it was.
  const loadAtStart = loadAverage();

  const raw: RawBaseline = await rawBaseline(s.raw.roundTrips, s.raw.window, s.raw.reps);
  log(`commit: raw baseline ${fmt(raw.msgsPerSec)} msgs/s`);
  const results: ProtocolResult[] = [];
  for (const batch of [64, 1]) {
    for (const p of PROTOCOLS) results.push(await measureProtocol(s, p, batch, log));
  }
  const crashes: CrashFigures[] = [];
  const phases = s.crashPhasesMs ?? CRASH_PHASES_MS;
  for (const p of ['2pc', 'paxos-commit'] as const) {
    const c = await coordinatorCrash(p, phases);
    crashes.push(c);
    log(
      `commit: coordinator crash, ${p}: ${fmt(c.txnPerSecBefore)} / ${fmt(c.txnPerSecDown)} / ${fmt(c.txnPerSecAfter)} committed/s before / down / after; ${c.lockedAtCrash} parts locked at the crash (${c.blocked} for more than ${BLOCKED_MS} ms), held ${fmt(c.crashLockHoldP50Ms)} ms p50, ${fmt(c.crashLockHoldMaxMs)} ms max`,
    );
  }
  const at = (p: CommitProtocol, batch: number): ProtocolResult => results.find((r) => r.protocol === p && r.batch === batch)!;
  const lat0 = s.latencies[0]!;
  const wan = s.latencies[s.latencies.length - 1]!;

  const figures: Record<string, unknown> = { raw_msgs_per_s: Math.round(raw.msgsPerSec) };
  const msgsPerOp: Record<string, { measured: number; analytic: number; loaded_batch64: number; analytic_batched: number }> = {};
  for (const p of PROTOCOLS) {
    const name = FIGURE_NAMES[p];
    const r = at(p, 64).runs;
    figures[`${name}_txn_per_s`] = Math.round(r[lat0]!.committedPerSec);
    figures[`${name}_p50_ms`] = round(r[lat0]!.p50Ms, 4);
    figures[`${name}_p99_ms`] = round(r[lat0]!.p99Ms, 4);
    figures[`${name}_abort_rate`] = round(r[lat0]!.abortRate, 4);
    figures[`${name}_cpu_us_per_txn`] = round(r[lat0]!.cpuUsPerTxn, 4);
    // The table's failed column (neither committed nor aborted) beside each rate: --compare and a
    // reader of the JSON saw the rates only (found by an audit, session 60).
    figures[`${name}_failed`] = r[lat0]!.failed;
    figures[`${name}_txn_per_s_${wan}ms`] = Math.round(r[wan]!.committedPerSec);
    figures[`${name}_p50_ms_${wan}ms`] = round(r[wan]!.p50Ms, 4);
    figures[`${name}_p99_ms_${wan}ms`] = round(r[wan]!.p99Ms, 4);
    figures[`${name}_failed_${wan}ms`] = r[wan]!.failed;
    const b1 = at(p, 1).runs[lat0]!;
    figures[`${name}_txn_per_s_batch1`] = Math.round(b1.committedPerSec);
    figures[`${name}_p50_ms_batch1`] = round(b1.p50Ms, 4);
    figures[`${name}_p99_ms_batch1`] = round(b1.p99Ms, 4);
    figures[`${name}_failed_batch1`] = b1.failed;
    const iso = at(p, 1).isolated!;
    msgsPerOp[p] = {
      measured: round(iso.perTxn, 4),
      analytic: iso.analytic,
      loaded_batch64: round(at(p, 64).loadedPerTxn, 4),
      analytic_batched: analyticTxn(p, 64),
    };
  }
  figures.msgs_per_op = msgsPerOp;
  figures.coordinator_crash = Object.fromEntries(
    crashes.map((c) => [
      FIGURE_NAMES[c.protocol],
      {
        // 4 significant digits: 2 printed 200 for the table's 198 (found by an audit, session 60).
        txn_per_s_before: round(c.txnPerSecBefore, 4),
        txn_per_s_down: round(c.txnPerSecDown, 4),
        txn_per_s_after: round(c.txnPerSecAfter, 4),
        locked_at_crash: c.lockedAtCrash,
        crash_lock_hold_p50_ms: c.crashLockHoldP50Ms,
        crash_lock_hold_max_ms: c.crashLockHoldMaxMs,
        blocked_over_1s: c.blocked,
        lock_hold_p50_ms: c.lockHoldP50Ms,
        lock_hold_p99_ms: c.lockHoldP99Ms,
      },
    ]),
  );
  figures.twopc_vs_target = round((figures.twopc_txn_per_s as number) / TWOPC_TARGET_TXN_PER_S, 4);
  figures.window = s.window;
  figures.elapsed_s = round((performance.now() - started) / 1000, 3);

  const rows: Array<Array<string | number>> = [];
  for (const batch of [64, 1]) {
    for (const p of PROTOCOLS) {
      for (const ms of s.latencies) {
        const f = at(p, batch).runs[ms];
        if (f === undefined) continue;
        rows.push([
          `${p}, batch ${batch}, ${ms} ms`,
          fmt(f.committedPerSec),
          fmt(f.p50Ms, 2),
          fmt(f.p99Ms, 2),
          `${fmt(100 * f.abortRate, 2)}%`,
          f.failed,
          fmt(f.cpuUsPerTxn),
        ]);
      }
    }
  }
  const msgRows = PROTOCOLS.map((p) => {
    const iso = at(p, 1).isolated!;
    const types = Object.entries(iso.types)
      .map(([t, n]) => `${t} ${fmt(n, 1)}`)
      .join(', ');
    return [p, fmt(iso.perTxn, 2), fmt(iso.analytic), fmt(at(p, 64).loadedPerTxn, 2), fmt(analyticTxn(p, 64)), types];
  });
  const twopc = figures.twopc_txn_per_s as number;
  const twopcCpu = figures.twopc_cpu_us_per_txn as number;
  const table = [
    formatTable(
      ['protocol', 'committed/s', 'p50 ms', 'p99 ms', 'aborted', 'failed', 'CPU us/txn'],
      rows,
      `commit (${mode}; ${describeShape(s.shape)}; 3 regions x 3 servers, active, factor 3; 2 shards per txn; window ${s.window}, ${s.clients} clients; raw baseline ${fmt(raw.msgsPerSec)} msgs/s; ${loadNote(loadAtStart)})`,
    ),
    '',
    formatTable(
      ['figure', 'value', 'target', 'result'],
      [
        ['2PC committed txn/s (batch 64, 0 ms)', fmt(twopc), `>= ${fmt(TWOPC_TARGET_TXN_PER_S)}`, targetWord(twopc >= TWOPC_TARGET_TXN_PER_S)],
        ['2PC CPU us per committed txn (batch 64, 0 ms)', fmt(twopcCpu), `<= ${fmt(TWOPC_TARGET_CPU_US)}`, targetWord(twopcCpu <= TWOPC_TARGET_CPU_US)],
      ],
    ),
    '',
    formatTable(
      ['protocol', 'msgs/txn isolated b1', 'analytic b1', 'loaded b64', 'analytic b64 isolated', 'isolated, by type'],
      msgRows,
      'messages per transaction (router counts, background left out; analytic: 5 + protocol + N*s*3(g-1), see bench/commit.ts)',
    ),
    '',
    formatTable(
      [
        'protocol',
        'txn/s before',
        'txn/s down',
        'txn/s after',
        'parts locked at crash',
        `held > ${BLOCKED_MS} ms`,
        'their lock hold p50 / max ms',
        'other lock hold p50 / p99 ms',
      ],
      crashes.map((c) => [
        c.protocol,
        fmt(c.txnPerSecBefore),
        fmt(c.txnPerSecDown),
        fmt(c.txnPerSecAfter),
        c.lockedAtCrash,
        c.blocked,
        `${fmt(c.crashLockHoldP50Ms)} / ${fmt(c.crashLockHoldMaxMs)}`,
        `${fmt(c.lockHoldP50Ms)} / ${fmt(c.lockHoldP99Ms)}`,
      ]),
      `coordinator crash (sim, virtual time; 3 regions x 3 servers, active, factor 3, 10 ms between regions; ${CRASH_CLIENTS} closed-loop clients, two-shard appends; ${CRASH_VICTIM} down for ${phases.down} ms after ${phases.before} ms; lock holds sampled every ${CRASH_SAMPLE_MS} ms)`,
    ),
  ].join('\n');
  const bar = (title: string, yLabel: string, series: Array<{ name: string; value: (p: CommitProtocol) => number | undefined }>): Chart =>
    barChart(PROTOCOLS, 'commit protocol', title, yLabel, series);
  const charts: Chart[] = [
    bar('Committed two-shard transactions per second', 'txn/s', [
      { name: `batch 64, ${lat0} ms`, value: (p) => at(p, 64).runs[lat0]?.committedPerSec },
      { name: `batch 64, ${wan} ms`, value: (p) => at(p, 64).runs[wan]?.committedPerSec },
      { name: `batch 1, ${lat0} ms`, value: (p) => at(p, 1).runs[lat0]?.committedPerSec },
    ]),
    bar('Messages per transaction', 'messages', [
      { name: 'isolated batch 1, measured', value: (p) => at(p, 1).isolated?.perTxn },
      { name: 'isolated batch 1, analytic', value: (p) => at(p, 1).isolated?.analytic },
      { name: 'under load, batch 64', value: (p) => at(p, 64).loadedPerTxn },
    ]),
    // The latency of every committed transaction, one plot per configuration run, as the other
    // suites draw theirs: the report drew p50 and p99 bars only (found by an audit, session 61).
    ...[64, 1].flatMap((batch) =>
      s.latencies.flatMap((ms) => {
        const samples = PROTOCOLS.flatMap((p) => {
          const f = at(p, batch).runs[ms];
          return f === undefined ? [] : [{ name: p, values: f.latenciesMs }];
        });
        return samples.length === 0
          ? []
          : [distributionChart(`commit: latency of a committed transaction, batch ${batch}, ${ms} ms between regions`, 'ms', samples)];
      }),
    ),
  ];
  return { suite: 'commit', figures, table, charts };
}
