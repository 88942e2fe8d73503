/**
 * A load driver for the cluster suites (replication, commit): closed loops of client calls,
 * a cluster shape shared by both suites, and message counts by type.
 *
 * Closed loop: `window` workers, each awaiting one call at a time; a worker issues its next
 * call as soon as the previous one settles, so `window` calls are in flight until `total`
 * were issued or `durationMs` passed. Latency is measured per call on the calling thread
 * (where the client and the balancers live), from the call to its settlement.
 */
import { performance } from 'node:perf_hooks';
import { MeridianError, type Client, type Cluster, type ClusterConfig, type ClusterStats } from '../../src/index.js';
import { preferredServerOf, replicasOf, shardOf, type Topology } from '../../src/cluster/topology.js';
import { RawPair } from './raw-pair.js';
import { fmt } from './table.js';
import { endsLoop, withTimeout } from './wait.js';

/** The three regions of both suites; clients are spread over them, `REGIONS[0]` first. */
export const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
export const SERVERS_PER_REGION = 3;
/** Latencies the suites run at: within one machine, and a WAN-like 20 ms between regions. */
export const LATENCIES_MS = [0, 20] as const;

/** Every worker of one closed loop waits at most this long for its call (a hung call is a bug). */
export const CALL_TIMEOUT_MS = 30_000;

export interface ClusterShape {
  transport: 'threads' | 'sim';
  placement: 'dedicated' | 'packed';
  /** packed only. */
  threads?: number;
}

/** How a shape reads in a table heading. */
export function describeShape(shape: ClusterShape): string {
  if (shape.transport === 'sim') return 'sim';
  return shape.placement === 'packed' ? `threads, packed on ${shape.threads ?? 'all'} threads` : 'threads, dedicated (12 worker threads)';
}

/** The latency matrix of the suites: every pair of regions at `ms`. */
export function latencyMatrix(ms: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < REGIONS.length; i++) {
    for (let j = i + 1; j < REGIONS.length; j++) out[`${REGIONS[i]}~${REGIONS[j]}`] = ms;
  }
  return out;
}

/**
 * A cluster's set-up phases for its progress line (`ready after 927 ms, isolated 376 ms, warm-up
 * 2,418 ms`). A phase given undefined did not run and is left out: batch 64 runs no isolated
 * phase, and its line said "isolated 0.000 ms" (found by an audit, session 61).
 */
export function phasesNote(phases: ReadonlyArray<readonly [name: string, ms: number | undefined]>): string {
  return phases.flatMap(([name, ms]) => (ms === undefined ? [] : [`${name} ${fmt(ms)} ms`])).join(', ');
}

/** 3 regions x 3 servers on the given transport and placement; the caller adds replication and commit. */
export function baseConfig(shape: ClusterShape, seed: number, latencyMs: number): ClusterConfig {
  const config: ClusterConfig = {
    regions: REGIONS.map((name) => ({ name, servers: SERVERS_PER_REGION })),
    transport: shape.transport,
    seed,
    network: { latencyMs: latencyMatrix(latencyMs) },
  };
  if (shape.transport === 'threads') {
    config.placement = shape.placement;
    if (shape.placement === 'packed' && shape.threads !== undefined) config.threads = shape.threads;
  }
  return config;
}

/** `count` clients, dealt over the regions round-robin. */
export function clientsOf(cluster: Cluster, count: number): Client[] {
  return Array.from({ length: count }, (_, i) => cluster.client({ region: REGIONS[i % REGIONS.length]! }));
}

export interface LoadResult {
  /** Calls issued. */
  calls: number;
  ok: number;
  failed: number;
  elapsedMs: number;
  /** Successful calls per second. */
  okPerSec: number;
  /** Latency of each successful call, in completion order. */
  latenciesMs: number[];
  /** Failed calls by error code (`ABORTED`, `TIMEOUT`, ...). */
  errors: Record<string, number>;
  /**
   * CPU time of the whole process (every thread: the caller's and the cluster's workers)
   * during the loop. Unlike elapsed time it is not inflated by others' load on a shared
   * machine, so calls per CPU-second is the steadier figure of cost.
   */
  cpuMs: number;
}

export interface ClosedLoopOptions {
  window: number;
  /** Calls to issue in all, over every worker. */
  total: number;
  /** Stop issuing after this long, if `total` is not reached first. */
  durationMs?: number;
  /** Call `i` (0-based) made by worker `worker`. */
  call(i: number, worker: number): Promise<unknown>;
  /** Every settlement, with its time since the loop started. */
  onSettled?(atMs: number, ok: boolean): void;
}

/**
 * A loop whose every call failed measured nothing: the suite fails, with the first error (its
 * rate of 0 would read as a slow run). Counting failures must not hide a broken path.
 */
function throwIfAllFailed(ok: number, failed: number, first: unknown): void {
  if (ok === 0 && failed > 0) {
    const message = first instanceof Error ? first.message : String(first);
    throw new Error(`every one of ${failed} calls failed; the first: ${message}`, { cause: first });
  }
}

function errorCode(error: unknown): string {
  if (error instanceof MeridianError) return error.code;
  return error instanceof Error ? error.name : 'unknown';
}

export async function closedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  const { window, total, call } = options;
  if (!(window >= 1) || !(total >= 1)) throw new RangeError(`closedLoop: window and total must be >= 1 (got ${window}, ${total})`);
  const latenciesMs: number[] = [];
  const errors: Record<string, number> = {};
  let issued = 0;
  let ok = 0;
  let failed = 0;
  let firstError: unknown;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : started + options.durationMs;
  const worker = async (w: number): Promise<void> => {
    while (issued < total && performance.now() < deadline) {
      const i = issued++;
      const t0 = performance.now();
      try {
        await call(i, w);
        const t1 = performance.now();
        latenciesMs.push(t1 - t0);
        ok++;
        options.onSettled?.(t1 - started, true);
      } catch (error) {
        if (endsLoop(error)) return;
        if (failed++ === 0) firstError = error;
        const code = errorCode(error);
        errors[code] = (errors[code] ?? 0) + 1;
        options.onSettled?.(performance.now() - started, false);
      }
    }
  };
  await withTimeout(
    Promise.all(Array.from({ length: Math.min(window, total) }, (_, w) => worker(w))),
    `closed loop of ${total} calls`,
    CALL_TIMEOUT_MS + (options.durationMs ?? 600_000),
  );
  throwIfAllFailed(ok, failed, firstError);
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { calls: issued, ok, failed, elapsedMs, okPerSec: ok / (elapsedMs / 1000), latenciesMs, errors, cpuMs: (used.user + used.system) / 1000 };
}

// ---- message counts ---------------------------------------------------------------------------

/** Messages sent by type between two stats snapshots (after minus before), zeros left out. */
export function typesDelta(before: ClusterStats, after: ClusterStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [type, n] of Object.entries(after.types)) {
    const d = n - (before.types[type] ?? 0);
    // A Paxos message is one whether it went alone (`px:accept`) or in a server's batch wire
    // to the same peer (`pxs:accept`); `pxs` alone counts the batch wires (left out of sums).
    const name = type.startsWith('pxs:') ? `px:${type.slice(4)}` : type;
    if (d !== 0) out[name] = (out[name] ?? 0) + d;
  }
  return out;
}

/**
 * Background traffic: liveness (heartbeats, digests, load reports) and the Multi-Paxos leader's
 * heartbeats. It flows at the same rate whether or not clients call, so it is not a cost of
 * an operation; everything else is (requests, answers, Paxos slots, commit protocols, learners).
 */
export const BACKGROUND_TYPES: ReadonlySet<string> = new Set([
  'hb',
  'digest',
  'load',
  'rhb',
  'px:heartbeat',
  'px:heartbeat-ack',
  // Health probes: a server probes each node it forwards to at most every 200 ms (Reach,
  // src/cluster/server-load.ts), balancers, servers and coordinators the nodes they hold down.
  // A cost per unit of time, not per operation: since 2026-12-03 (0835cb3) they showed as 0.3-0.6
  // probes and as many answers per isolated put (one put every ~20 ms), none under load.
  'probe',
  'probe-ack',
  // Not background, but not a message of its own either: the batch wires, whose messages are
  // counted each as `px:<type>` (typesDelta). Left out of every sum.
  'pxs',
]);

export function sumTypes(types: Record<string, number>, keep: (type: string) => boolean = (t) => !BACKGROUND_TYPES.has(t)): number {
  let n = 0;
  for (const [type, count] of Object.entries(types)) if (keep(type)) n += count;
  return n;
}

/** `types` scaled by 1/`per`, rounded to 3 decimals, largest first (for tables and JSON). */
export function perOp(types: Record<string, number>, per: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(types)
      .sort((a, b) => b[1] - a[1])
      .map(([type, n]) => [type, Math.round((n / per) * 1000) / 1000]),
  );
}

// ---- topology facts the analytic counts need ----------------------------------------------------

/**
 * The chance that a request for `key` needs a forward between servers: the balancer of
 * `region` picks one of that region's servers (each alike, over many requests), and only the
 * shard's leader (its preferred leader, `groupOf(shard)[0]`, in the fault-free case) executes.
 */
export function forwardChance(key: string, region: string, topology: Topology): number {
  const leader = preferredServerOf(key, topology);
  const servers = topology.regions.find((r) => r.name === region)!.servers;
  return leader.startsWith(`${region}/`) ? 1 - 1 / servers : 1;
}

/** Keys `prefix0..` whose shards are all distinct from each other's, pairwise per transaction. */
export function keysOnTwoShards(prefix: string, pairs: number, shards: number): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (out.length < pairs) {
    const a = `${prefix}${i++}a`;
    let b = `${prefix}${i++}b`;
    while (shardOf(b, shards) === shardOf(a, shards)) b = `${prefix}${i++}b`;
    out.push([a, b]);
  }
  return out;
}

export { replicasOf, shardOf };

// ---- the raw baseline ---------------------------------------------------------------------------

export interface RawBaseline {
  /** The best of the two encodings (messages packed one by one, or one array per frame). */
  msgsPerSec: number;
  eachMsgsPerSec: number;
  batchMsgsPerSec: number;
}

/**
 * Two bare worker threads ping-ponging msgpack frames (bench/lib/raw-pair.ts): the physical
 * limit of worker-thread messaging on this machine, measured in this run. One warm-up run,
 * then `reps` runs of each encoding; the best median counts. A request and its reply are 2.
 */
export async function rawBaseline(roundTrips: number, window: number, reps: number): Promise<RawBaseline> {
  const raw = await RawPair.start();
  try {
    await raw.throughput(roundTrips, window, 'each');
    await raw.throughput(roundTrips, window, 'batch');
    const each: number[] = [];
    const batch: number[] = [];
    for (let r = 0; r < reps; r++) {
      const a = await raw.throughput(roundTrips, window, 'each');
      each.push((2 * a.received) / (a.elapsedMs / 1000));
      const b = await raw.throughput(roundTrips, window, 'batch');
      batch.push((2 * b.received) / (b.elapsedMs / 1000));
    }
    const mid = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
    const e = mid(each);
    const b = mid(batch);
    return { msgsPerSec: Math.max(e, b), eachMsgsPerSec: e, batchMsgsPerSec: b };
  } finally {
    await raw.stop();
  }
}

/** Waits until a put through each client is answered: every shard has a leader (50 tries, 50 ms apart). */
export async function untilPutsAnswer(cluster: Cluster, clients: Client[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await Promise.all(clients.map((c, i) => c.put(`ready-${i}`, attempt)));
      return;
    } catch (error) {
      if (attempt >= 50) throw error;
      await cluster.sleep(50);
    }
  }
}

/**
 * A closed loop of gets and puts (one put in four, over 1,000 keys): `clients` callers, one per
 * region in turn, each keep one call outstanding for `ms` of the cluster's clock.
 */
export async function mixedLoop(cluster: Cluster, clients: number, ms: number): Promise<{ ops: number; failed: number }> {
  const names = cluster.config.regions.map((r) => r.name);
  const callers = Array.from({ length: clients }, (_, i) => cluster.client({ region: names[i % names.length]! }));
  const end = cluster.now() + ms;
  let ops = 0;
  let failed = 0;
  let firstError: unknown;
  await Promise.all(
    callers.map(async (c, i) => {
      let n = 0;
      while (cluster.now() < end) {
        const key = `k${(i * 7919 + n++) % 1000}`;
        try {
          if (n % 4 === 0) await c.put(key, n);
          else await c.get(key);
          ops++;
        } catch (error) {
          if (endsLoop(error)) return;
          if (failed++ === 0) firstError = error;
        }
      }
    }),
  );
  throwIfAllFailed(ops, failed, firstError);
  return { ops, failed };
}
