/**
 * The soak suite: does memory stay flat under steady load?
 *
 * 3 regions x 3 servers, active replication (factor 3), packed on 2 worker threads, history
 * off (a long-running service keeps no history), `keys` keys. A closed loop of `window` calls
 * (three puts to one get) runs for `durationS`; `us-east/1` is crashed at `crashAtS` and
 * restarted at `restartAtS`. Every `sampleMs` the suite samples the process's RSS (every
 * thread: the caller's and the workers'), the calling thread's heap in use, and each worker's
 * heap in use (over the control plane's ping).
 *
 * Figures, in MB (10^6 bytes; until session 69 MiB, 2^20 bytes, named MB): rss_mb_max (the
 * highest sample), rss_growth_mb_per_min (the Theil-Sen slope, the median of the slopes
 * between every two samples, of RSS over the second half of the run, after the restart and
 * the warm-up; a garbage collector's sawtooth of +-15 MB moved the
 * least-squares slope of a 40 s half by several MB/min either way, and a single high sample
 * at its end decided it), the least-squares slope beside it (rss_growth_mb_per_min_ols), the
 * same slopes for the heaps, and calls per second. Targets (issue 10, item 5): rss_mb_max <= 400,
 * rss_growth_mb_per_min <= 5.
 *
 * The loop keeps no per-call record (a latency array would itself grow by megabytes); it
 * counts calls, failures by code, and latencies in a fixed histogram of 1 ms buckets.
 *
 * It runs in a process of its own (bench/soak-child.ts, forked): RSS counts a whole process,
 * and suites run before it in the caller's (`npm run bench` runs them all) leave garbage the
 * collector has not yet taken. In the caller's process after the failover suite it peaked at
 * 656 MB where alone it printed 309 (2026-12-05).
 *
 * Run alone: node dist/bench/run.js soak [--quick]
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { MeridianError, startCluster, type Cluster, type ClusterConfig } from '../src/index.js';
import { baseConfig, clientsOf, untilPutsAnswer as ready, type ClusterShape } from './lib/cluster-load.js';
import { BYTES_PER_MB as MB, round } from './lib/stats.js';
import { logger, modeOf, type Chart, type Mode, type SuiteOptions, type SuiteResult } from './lib/suite.js';
import { fmt, formatTable, targetWord } from './lib/table.js';
import { loadAverage, loadNote } from './lib/machine.js';
import { endsLoop, withTimeout } from './lib/wait.js';

const SEED = 9_001;
const CRASHED = 'us-east/1';
/** Calls to a crashed server fail after this long instead of the default 5 s. */
const REQUEST_TIMEOUT_MS = 1_000;
/** Latency histogram: 1 ms buckets up to this, one overflow bucket after. */
const LATENCY_BUCKETS_MS = 2_000;
const SHAPE: ClusterShape = { transport: 'threads', placement: 'packed', threads: 2 };
/** Targets of issue 10, item 5. */
export const RSS_MB_MAX_TARGET = 400;
export const RSS_GROWTH_MB_PER_MIN_TARGET = 5;

export interface Sizes {
  durationS: number;
  crashAtS: number;
  restartAtS: number;
  sampleMs: number;
  window: number;
  clients: number;
  keys: number;
}

export const SOAK_SIZES: Record<Mode, Sizes> = {
  full: { durationS: 240, crashAtS: 40, restartAtS: 50, sampleMs: 2_000, window: 256, clients: 12, keys: 5_500 },
  // 150 s: at 80 s the second half began 12 s after the restart and read the recovery's
  // growth (12.5 MB/min at 13:58 UTC) where the full 240 s run read 0.56 (14:08).
  quick: { durationS: 150, crashAtS: 20, restartAtS: 28, sampleMs: 1_000, window: 256, clients: 12, keys: 5_500 },
  tiny: { durationS: 2, crashAtS: 0.5, restartAtS: 1, sampleMs: 250, window: 16, clients: 3, keys: 200 },
};

export interface MemorySample {
  /** Seconds since the load started. */
  tS: number;
  rssMb: number;
  /** The calling thread's heap in use (clients, balancers, the cluster object). */
  mainHeapMb: number;
  /** Each live worker's heap in use, by host id; a worker that did not answer is left out. */
  workerHeapMb: Record<number, number>;
  /** Calls settled so far. */
  calls: number;
}

/** Least-squares slope of `ys` over `xs` (0 for fewer than two points). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

/**
 * Theil-Sen slope of `ys` over `xs`: the median of the slopes between every two points with
 * different x (0 for fewer than two). A steady trend reads the same as least squares; a few
 * high or low points barely move it.
 */
export function robustSlope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  const slopes: number[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (xs[j] !== xs[i]) slopes.push((ys[j]! - ys[i]!) / (xs[j]! - xs[i]!));
  if (slopes.length === 0) return 0;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length >> 1;
  return slopes.length % 2 === 1 ? slopes[mid]! : (slopes[mid - 1]! + slopes[mid]!) / 2;
}

/** One sample of memory, in MB (10^6 bytes); @internal exported for a test. */
export async function sample(cluster: Pick<Cluster, 'ping'>, t0: number, calls: number): Promise<MemorySample> {
  const workerHeapMb: Record<number, number> = {};
  try {
    for (const p of await cluster.ping()) if (p.heapUsedBytes !== undefined) workerHeapMb[p.host] = p.heapUsedBytes / MB;
  } catch {
    // A host restarting does not answer; its heap is left out of this sample.
  }
  const mem = process.memoryUsage();
  return { tS: (performance.now() - t0) / 1000, rssMb: mem.rss / MB, mainHeapMb: mem.heapUsed / MB, workerHeapMb, calls };
}

function soakConfig(): ClusterConfig {
  const config = baseConfig(SHAPE, SEED, 0);
  config.replication = { mode: 'active', factor: 3 };
  config.history = false;
  config.requestTimeoutMs = REQUEST_TIMEOUT_MS;
  return config;
}

export interface SoakResult {
  samples: MemorySample[];
  calls: number;
  failed: number;
  errors: Record<string, number>;
  latencyP50Ms: number;
  latencyP99Ms: number;
  elapsedS: number;
  /** CPU time of the whole process (every thread) during the load, ms. */
  cpuMs: number;
  /**
   * Actor errors the cluster reported (cluster.errors()), and the first one: a restarted
   * server that cannot initialise shows here, restarting under supervision for ever while
   * its mailbox fills (what a lossy checkpoint did before 478d88d).
   */
  actorErrors: number;
  firstActorError: string | undefined;
  /** The process's RSS and the calling thread's heap in use before the cluster started, MB. */
  rssMbAtStart: number;
  mainHeapMbAtStart: number;
}

/** What bench/soak-child.ts sends its parent: progress lines, then a result or an error. */
export type SoakChildMessage = { kind: 'log'; line: string } | { kind: 'result'; result: SoakResult } | { kind: 'error'; message: string };

/**
 * The p-th percentile (nearest rank) of latencies counted in 1 ms `buckets`, the last of which
 * holds every latency from its index on: read as the bucket's upper edge, never below the true
 * value; in the last bucket, the largest latency seen (`maxMs`). The last bucket read as its
 * index + 1 (2,001 ms for a p99 of calls that took 5 s: found by an audit, session 67).
 */
export function percentileOfHistogram(buckets: Uint32Array, total: number, p: number, maxMs: number): number {
  if (total === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < buckets.length - 1; i++) {
    seen += buckets[i]!;
    if (seen >= rank) return i + 1; // The bucket's upper edge, in ms.
  }
  return maxMs;
}

export async function soak(s: Sizes, log: (line: string) => void): Promise<SoakResult> {
  const atStart = process.memoryUsage();
  const cluster = await withTimeout(startCluster(soakConfig()), 'startCluster (soak)');
  try {
    const clients = clientsOf(cluster, s.clients);
    await ready(cluster, clients);
    const samples: MemorySample[] = [];
    const histogram = new Uint32Array(LATENCY_BUCKETS_MS + 1);
    // What the histogram's overflow bucket reads as (see percentileOfHistogram).
    let maxLatencyMs = 0;
    const errors: Record<string, number> = {};
    let calls = 0;
    let ok = 0;
    let failed = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + s.durationS * 1000;
    let stopped = false;
    const faults = (async () => {
      await sleepUntil(t0 + s.crashAtS * 1000, () => stopped);
      if (stopped) return;
      await cluster.crash(CRASHED);
      log(`soak: ${CRASHED} crashed at ${fmt((performance.now() - t0) / 1000, 1)} s`);
      await sleepUntil(t0 + s.restartAtS * 1000, () => stopped);
      if (stopped) return;
      await cluster.restart(CRASHED);
      log(`soak: ${CRASHED} restarted at ${fmt((performance.now() - t0) / 1000, 1)} s`);
    })();
    const sampler = (async () => {
      for (let next = t0; !stopped; next += s.sampleMs) {
        await sleepUntil(next, () => stopped);
        if (stopped) return;
        const m = await sample(cluster, t0, calls);
        samples.push(m);
        const heaps = Object.values(m.workerHeapMb)
          .map((h) => fmt(h, 0))
          .join('+');
        if (samples.length % Math.max(1, Math.round(10_000 / s.sampleMs)) === 1) {
          log(`soak: ${fmt(m.tS, 0)} s: rss ${fmt(m.rssMb, 0)} MB, heap main ${fmt(m.mainHeapMb, 0)} MB, workers ${heaps} MB, ${fmt(calls)} calls`);
        }
      }
    })();
    const worker = async (w: number): Promise<void> => {
      const client = clients[w % clients.length]!;
      while (performance.now() < end) {
        const i = calls++;
        const key = `k${(i * 7) % s.keys}`;
        const started = performance.now();
        try {
          if (i % 4 === 3) await client.get(key);
          else await client.put(key, i);
          ok++;
          const ms = performance.now() - started;
          if (ms > maxLatencyMs) maxLatencyMs = ms;
          histogram[Math.min(LATENCY_BUCKETS_MS, Math.floor(ms))]!++;
        } catch (error) {
          if (endsLoop(error)) return;
          failed++;
          const code = error instanceof MeridianError ? error.code : error instanceof Error ? error.name : 'unknown';
          errors[code] = (errors[code] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: s.window }, (_, w) => worker(w)));
    const elapsedS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    samples.push(await sample(cluster, t0, calls));
    stopped = true;
    await Promise.all([faults, sampler]);
    const actorErrors = cluster.errors().filter((e) => e.kind === 'actor-error');
    const first = actorErrors[0];
    return {
      actorErrors: actorErrors.length,
      firstActorError: first === undefined || first.kind !== 'actor-error' ? undefined : `${first.address}: ${first.error.message}`,
      samples,
      calls,
      failed,
      errors,
      latencyP50Ms: percentileOfHistogram(histogram, ok, 50, maxLatencyMs),
      latencyP99Ms: percentileOfHistogram(histogram, ok, 99, maxLatencyMs),
      elapsedS,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssMbAtStart: atStart.rss / MB,
      mainHeapMbAtStart: atStart.heapUsed / MB,
    };
  } finally {
    await cluster.stop();
  }
}

/** Sleeps (on the real clock: the bench drives a threads cluster) until `at`, or until `stop()`. */
async function sleepUntil(at: number, stop: () => boolean): Promise<void> {
  while (!stop()) {
    const left = at - performance.now();
    if (left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, 200)));
  }
}

export interface SoakFigures {
  rssMbMax: number;
  rssGrowthMbPerMin: number;
  /** The least-squares slope of the same samples, beside the Theil-Sen one. */
  rssGrowthOlsMbPerMin: number;
  mainHeapGrowthMbPerMin: number;
  workerHeapGrowthMbPerMin: number;
  rssMbAtHalf: number;
  rssMbAtEnd: number;
}

/** Figures over the samples: growth is the slope over the second half of the run. */
export function soakFigures(samples: readonly MemorySample[], durationS: number): SoakFigures {
  const second = samples.filter((m) => m.tS >= durationS / 2);
  const xs = second.map((m) => m.tS / 60);
  const workerHeap = (m: MemorySample): number => Object.values(m.workerHeapMb).reduce((a, b) => a + b, 0);
  // Only samples where every worker answered count for the workers' heap.
  const workers = Math.max(0, ...second.map((m) => Object.keys(m.workerHeapMb).length));
  const full = second.filter((m) => Object.keys(m.workerHeapMb).length === workers);
  return {
    rssMbMax: Math.max(...samples.map((m) => m.rssMb)),
    rssGrowthMbPerMin: robustSlope(
      xs,
      second.map((m) => m.rssMb),
    ),
    rssGrowthOlsMbPerMin: slope(
      xs,
      second.map((m) => m.rssMb),
    ),
    mainHeapGrowthMbPerMin: robustSlope(
      xs,
      second.map((m) => m.mainHeapMb),
    ),
    workerHeapGrowthMbPerMin: robustSlope(
      full.map((m) => m.tS / 60),
      full.map(workerHeap),
    ),
    rssMbAtHalf: second[0]?.rssMb ?? Number.NaN,
    rssMbAtEnd: samples[samples.length - 1]?.rssMb ?? Number.NaN,
  };
}

/** How long the soak's own process may take beyond the run itself (boot, recovery, stop). */
const SOAK_CHILD_SLACK_MS = 120_000;

/** One soak in a process of its own (see the header): its progress lines go to `log`. */
function soakInChild(mode: Mode, s: Sizes, log: (line: string) => void): Promise<SoakResult> {
  return new Promise((resolve, reject) => {
    // The caller's V8 and Node flags carry over, but not a debugger's (its port is the caller's).
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--inspect') && !arg.startsWith('--debug'));
    const child = fork(fileURLToPath(new URL('./soak-child.js', import.meta.url)), [mode], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: SoakResult | undefined;
    let failure: string | undefined;
    const timer = setTimeout(
      () => {
        failure = `the soak's process ran past ${s.durationS} s + ${SOAK_CHILD_SLACK_MS / 1000} s: killed`;
        child.kill('SIGKILL');
      },
      s.durationS * 1000 + SOAK_CHILD_SLACK_MS,
    );
    child.on('message', (m: SoakChildMessage) => {
      if (m.kind === 'log') log(m.line);
      else if (m.kind === 'result') result = m.result;
      else failure = m.message;
    });
    child.on('error', (error) => {
      failure ??= error.message;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result !== undefined && failure === undefined) resolve(result);
      else reject(new Error(`soak: ${failure ?? `its process exited (code ${code}, signal ${signal}) without a result`}`));
    });
  });
}

export async function run(opts: SuiteOptions): Promise<SuiteResult> {
  const mode = modeOf(opts);
  const s = SOAK_SIZES[mode];
  const log = logger(opts);
  // Others' load on a shared machine slows the loop, and memory grows with calls, not time.
  const loadAtStart = loadAverage();
  const r = await soakInChild(mode, s, log);
  const f = soakFigures(r.samples, s.durationS);
  const figures: Record<string, unknown> = {
    rss_mb_max: round(f.rssMbMax, 4),
    rss_growth_mb_per_min: round(f.rssGrowthMbPerMin, 3),
    rss_growth_mb_per_min_ols: round(f.rssGrowthOlsMbPerMin, 3),
    main_heap_growth_mb_per_min: round(f.mainHeapGrowthMbPerMin, 3),
    worker_heap_growth_mb_per_min: round(f.workerHeapGrowthMbPerMin, 3),
    rss_mb_at_half: round(f.rssMbAtHalf, 4),
    rss_mb_at_end: round(f.rssMbAtEnd, 4),
    // What the soak's process held before its cluster started.
    rss_mb_at_start: round(r.rssMbAtStart, 4),
    main_heap_mb_at_start: round(r.mainHeapMbAtStart, 4),
    calls: r.calls,
    calls_per_s: Math.round(r.calls / r.elapsedS),
    // CPU per call (every thread): the cost figure that others' load on the machine inflates least.
    cpu_us_per_call: r.calls === 0 ? Number.NaN : round((r.cpuMs * 1000) / r.calls, 4),
    failed: r.failed,
    p50_ms: r.latencyP50Ms,
    p99_ms: r.latencyP99Ms,
    duration_s: s.durationS,
    actor_errors: r.actorErrors,
  };
  // One row per tenth of the run (and the last sample), so the table stays on one screen.
  const every = Math.max(1, Math.floor(r.samples.length / 10));
  const rows = r.samples
    .filter((_, i) => i % every === 0 || i === r.samples.length - 1)
    .map((m) => [
      fmt(m.tS, 0),
      fmt(m.rssMb, 0),
      fmt(m.mainHeapMb, 0),
      Object.values(m.workerHeapMb)
        .map((h) => fmt(h, 0))
        .join(' + '),
      fmt(m.calls),
    ]);
  const table = [
    formatTable(
      ['s', 'RSS MB', 'heap main MB', 'heap workers MB', 'calls'],
      rows,
      `soak (${mode}, in a process of its own; 3 regions x 3 servers, active, packed on 2 threads, history off, ${s.keys} keys, window ${s.window}; ${CRASHED} crashed at ${s.crashAtS} s, restarted at ${s.restartAtS} s; ${fmt(r.calls / r.elapsedS)} calls/s, ${fmt((r.cpuMs * 1000) / Math.max(1, r.calls), 0)} us of CPU per call, ${r.failed} failed ${JSON.stringify(r.errors)}; ${loadNote(loadAtStart)})`,
    ),
    '',
    formatTable(
      ['figure', 'value', 'target', 'result'],
      [
        ['RSS max, MB', fmt(f.rssMbMax, 0), `<= ${RSS_MB_MAX_TARGET}`, targetWord(f.rssMbMax <= RSS_MB_MAX_TARGET)],
        [
          'RSS growth over the second half, MB/min (Theil-Sen)',
          fmt(f.rssGrowthMbPerMin, 2),
          `<= ${RSS_GROWTH_MB_PER_MIN_TARGET}`,
          targetWord(f.rssGrowthMbPerMin <= RSS_GROWTH_MB_PER_MIN_TARGET),
        ],
        ['RSS growth over the second half, MB/min (least squares)', fmt(f.rssGrowthOlsMbPerMin, 2), '', ''],
        ['heap growth, calling thread, MB/min', fmt(f.mainHeapGrowthMbPerMin, 2), '', ''],
        ['heap growth, workers (sum), MB/min', fmt(f.workerHeapGrowthMbPerMin, 2), '', ''],
        [
          `actor errors${r.firstActorError === undefined ? '' : ` (first: ${r.firstActorError.slice(0, 120)})`}`,
          String(r.actorErrors),
          '0',
          targetWord(r.actorErrors === 0),
        ],
      ],
    ),
  ].join('\n');
  const workerIds = [...new Set(r.samples.flatMap((m) => Object.keys(m.workerHeapMb)))].sort();
  const charts: Chart[] = [
    {
      title: 'Memory under steady load (crash and restart included)',
      kind: 'line',
      xLabel: 'seconds',
      yLabel: 'MB',
      series: [
        { name: 'RSS', points: r.samples.map((m) => [round(m.tS, 4), round(m.rssMb, 4)]) },
        { name: 'heap, calling thread', points: r.samples.map((m) => [round(m.tS, 4), round(m.mainHeapMb, 4)]) },
        ...workerIds.map((id) => ({
          name: `heap, worker ${id}`,
          points: r.samples.flatMap((m): Array<[number, number]> => {
            const h = m.workerHeapMb[Number(id)];
            return h === undefined ? [] : [[round(m.tS, 4), round(h, 4)]];
          }),
        })),
      ],
    },
  ];
  return { suite: 'soak', figures, table, charts };
}
