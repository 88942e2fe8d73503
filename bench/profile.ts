/**
 * The profile suite: where the CPU time of one operation goes, by layer.
 *
 * For each workload (a put in mode 'none', a put and a get in mode 'active', a two-shard 2PC
 * transaction), on 3 regions x 3 servers packed on 2 worker threads: boot, warm up, then
 * profile every thread (the calling thread, which hosts the clients and balancers, and each
 * worker) with the V8 sampling profiler while a closed loop runs `ops` operations. Each
 * sample's self time goes to the layer of its function's source file (bench/lib/cpu-profile.ts:
 * client, balancer, router and codec, server, replication group, state machine, commit
 * protocol, liveness, metrics, node and V8); the sum over threads divided by the operations is
 * CPU µs per operation. A profile's sample times are wall time: on a loaded machine a thread
 * waiting for a core is charged too. So the profiles give each layer's SHARE, and the
 * figures are those shares of the process CPU time (process.cpuUsage, every thread) per
 * operation; the unscaled profile total is printed beside it. The profiler's own overhead is
 * in the figures (a few percent).
 *
 * Run alone: node dist/bench/run.js profile [--quick]
 */
import { startCluster, type Client, type ClusterConfig, type ReplicationMode } from '../src/index.js';
import { baseConfig, clientsOf, closedLoop, keysOnTwoShards, untilPutsAnswer as ready, type ClusterShape } from './lib/cluster-load.js';
import { hottest, LAYERS, selfTimeByLayer, ThreadProfiler, type CpuProfile, type Layer } from './lib/cpu-profile.js';
import { round } from './lib/stats.js';
import { barChart, logger, modeOf, type Chart, type Mode, type SuiteOptions, type SuiteResult } from './lib/suite.js';
import { fmt, formatTable } from './lib/table.js';
import { withTimeout } from './lib/wait.js';

const SEED = 4_242;
const SHAPE: ClusterShape = { transport: 'threads', placement: 'packed', threads: 2 };
const WORKLOADS = ['put none', 'put active', 'get active', 'txn 2pc'] as const;
type Workload = (typeof WORKLOADS)[number];
/** Functions listed under the table: the hottest over every workload. */
const HOTTEST_SHOWN = 8;

interface Sizes {
  window: number;
  clients: number;
  keys: number;
  warmupOps: number;
  ops: number;
  /** Transactions are some 10x dearer than puts: fewer of them. */
  txnOps: number;
}

const SIZES: Record<Mode, Sizes> = {
  full: { window: 256, clients: 12, keys: 5_000, warmupOps: 20_000, ops: 60_000, txnOps: 6_000 },
  quick: { window: 256, clients: 12, keys: 5_000, warmupOps: 5_000, ops: 15_000, txnOps: 1_500 },
  tiny: { window: 16, clients: 3, keys: 200, warmupOps: 100, ops: 300, txnOps: 60 },
};

function configOf(workload: Workload): ClusterConfig {
  const config = baseConfig(SHAPE, SEED, 0);
  const mode: ReplicationMode = workload === 'put none' ? 'none' : 'active';
  config.replication = { mode, factor: mode === 'none' ? 1 : 3 };
  config.history = false;
  if (workload === 'txn 2pc') config.commit = '2pc';
  return config;
}

function callOf(workload: Workload, clients: Client[], s: Sizes, pairs: Array<[string, string]>): (i: number, w: number) => Promise<unknown> {
  const client = (w: number): Client => clients[w % clients.length]!;
  switch (workload) {
    case 'put none':
    case 'put active':
      return (i, w) => client(w).put(`k${i % s.keys}`, i);
    case 'get active':
      return (i, w) => client(w).get(`k${i % s.keys}`);
    case 'txn 2pc':
      return (i, w) => {
        const [a, b] = pairs[i % pairs.length]!;
        return client(w).transaction([
          { op: 'put', key: a, value: i },
          { op: 'put', key: b, value: i },
        ]);
      };
  }
}

export interface WorkloadProfile {
  workload: Workload;
  ok: number;
  failed: number;
  /** CPU µs per successful operation by layer, summed over threads (profile shares x process CPU). */
  usPerOp: Record<Layer, number>;
  /** The same, per thread: index 0 is the calling thread. */
  usPerOpByThread: Array<Record<Layer, number>>;
  /** Process CPU time (every thread) per operation, from process.cpuUsage. */
  processUsPerOp: number;
  /** The profiles' sample time per operation, unscaled (wall time of the sampled threads). */
  profiledUsPerOp: number;
  profiles: CpuProfile[];
}

async function profileWorkload(workload: Workload, s: Sizes, log: (line: string) => void): Promise<WorkloadProfile> {
  const cluster = await withTimeout(startCluster(configOf(workload)), `startCluster (${workload})`);
  try {
    const clients = clientsOf(cluster, s.clients);
    await ready(cluster, clients);
    const txn = workload === 'txn 2pc';
    // Far more pairs than the window: two transactions in flight rarely share a key.
    const pairs = txn ? keysOnTwoShards('t', Math.max(4 * s.window, 1_000), cluster.config.shards) : [];
    const call = callOf(workload, clients, s, pairs);
    // Gets read keys that exist; every workload warms the JIT the same way.
    const warm = workload === 'get active' ? callOf('put active', clients, s, pairs) : call;
    await closedLoop({
      window: s.window,
      total: txn ? Math.ceil(s.warmupOps / 10) : Math.max(s.warmupOps, workload === 'get active' ? s.keys : 0),
      call: warm,
    });
    const workers = (await cluster.ping()).length;
    const profiler = new ThreadProfiler();
    let profiles: CpuProfile[];
    let run;
    try {
      await profiler.start(workers);
      run = await closedLoop({ window: s.window, total: txn ? s.txnOps : s.ops, call });
      profiles = await profiler.stop();
    } finally {
      await profiler.close();
    }
    const ok = Math.max(1, run.ok);
    const processUsPerOp = (run.cpuMs * 1000) / ok;
    const selfByThread = profiles.map((p) => selfTimeByLayer(p));
    const profiledUs = selfByThread.reduce((n, t) => n + LAYERS.reduce((m, l) => m + t[l], 0), 0);
    // Shares from the profiles, scaled to the process CPU time per operation.
    const scale = profiledUs > 0 ? processUsPerOp / profiledUs : 0;
    const usPerOpByThread = selfByThread.map((t) => Object.fromEntries(LAYERS.map((l) => [l, t[l] * scale])) as Record<Layer, number>);
    const usPerOp = Object.fromEntries(LAYERS.map((l) => [l, usPerOpByThread.reduce((n, t) => n + t[l], 0)])) as Record<Layer, number>;
    log(
      `profile: ${workload}: ${run.ok} ok, ${run.failed} failed; ${fmt(processUsPerOp)} us/op process CPU, ${fmt(profiledUs / ok)} us/op of samples (wall time) in the profiles`,
    );
    return { workload, ok: run.ok, failed: run.failed, usPerOp, usPerOpByThread, processUsPerOp, profiledUsPerOp: profiledUs / ok, profiles };
  } finally {
    await cluster.stop();
  }
}

export async function run(opts: SuiteOptions): Promise<SuiteResult> {
  const mode = modeOf(opts);
  const s = SIZES[mode];
  const log = logger(opts);
  const results: WorkloadProfile[] = [];
  for (const w of WORKLOADS) results.push(await profileWorkload(w, s, log));

  const key = (w: Workload): string => w.replace(/ /g, '_');
  const figures: Record<string, unknown> = {};
  for (const r of results) {
    const byLayer: Record<string, number> = {};
    for (const l of LAYERS) byLayer[l] = round(r.usPerOp[l], 3);
    figures[`${key(r.workload)}_us_per_op`] = byLayer;
    figures[`${key(r.workload)}_profiled_wall_us_per_op`] = round(r.profiledUsPerOp, 4);
    figures[`${key(r.workload)}_process_us_per_op`] = round(r.processUsPerOp, 4);
    // The progress line's counts: the JSON had the costs only (found by an audit, session 60).
    figures[`${key(r.workload)}_ok`] = r.ok;
    figures[`${key(r.workload)}_failed`] = r.failed;
    figures[`${key(r.workload)}_main_thread_us_per_op`] = round(
      LAYERS.reduce((n, l) => n + r.usPerOpByThread[0]![l], 0),
      4,
    );
  }

  const rows: Array<Array<string | number>> = LAYERS.map((l) => [l, ...results.map((r) => fmt(r.usPerOp[l], 1))]);
  rows.push(['total = process CPU (cpuUsage)', ...results.map((r) => fmt(r.processUsPerOp, 1))]);
  rows.push([
    '  of which the calling thread',
    ...results.map((r) =>
      fmt(
        LAYERS.reduce((n, l) => n + r.usPerOpByThread[0]![l], 0),
        1,
      ),
    ),
  ]);
  rows.push(['  (profile samples, wall time)', ...results.map((r) => fmt(r.profiledUsPerOp, 1))]);
  const hot = hottest(
    results.flatMap((r) => r.profiles),
    HOTTEST_SHOWN,
  );
  const hotTotal = Math.max(
    1,
    results.reduce((n, r) => n + r.profiledUsPerOp * Math.max(1, r.ok), 0),
  );
  const table = [
    formatTable(
      ['CPU us per operation', ...WORKLOADS],
      rows,
      `profile (${mode}; 3 regions x 3 servers packed on 2 threads, history off; window ${s.window}; ${results.map((r) => `${r.workload} ${fmt(r.ok)} ok`).join(', ')}; each layer's share of the samples x process CPU)`,
    ),
    `hottest functions over all workloads (share of all samples): ${hot.map((h) => `${h.name.trim()} ${fmt((100 * h.us) / hotTotal, 1)}%`).join('; ')}`,
  ].join('\n');
  const charts: Chart[] = [
    // Layers along x, one bar per workload: four legend entries fit the plot's width.
    barChart(
      LAYERS,
      'layer',
      'CPU per operation by layer (V8 profiler shares x process CPU, all threads)',
      'us per op',
      results.map((r) => ({ name: r.workload, value: (l: Layer) => r.usPerOp[l] })),
    ),
  ];
  return { suite: 'profile', figures, table, charts };
}
