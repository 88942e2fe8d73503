/**
 * The transport suite: what carrying a message costs in Meridian against the physical limit
 * of worker threads on this machine and against comlink, all measured in this one process.
 *
 * Counting: a request and its reply are two messages, for every contender. Throughput runs
 * are closed loops with `window` requests in flight; a reply lets the next request go.
 *   raw       two bare worker threads, msgpack frames over one MessageChannel, transferred
 *   meridian  a pinger and a ponger actor on two worker hosts of a ThreadsRuntime
 *   comlink   the main thread calling a comlink-exposed worker
 * Round-trip latency is one request in flight. Boot figures time startCluster().
 *
 * NATS rows (when a nats-server binary is there; it is started on a free loopback port):
 *   nats-raw       two bare threads, a @nats-io/transport-node connection each, publishing the
 *                  raw contenders' frames to each other's subject through that server
 *   nats-meridian  the pinger and ponger actors on two host processes of a NatsRuntime
 */
import { performance } from 'node:perf_hooks';
import { bootAndAnswer, type BootTiming, regions } from './lib/boot.js';
import { ComlinkPair } from './lib/comlink-pair.js';
import { MeridianPair } from './lib/meridian-pair.js';
import { RawPair } from './lib/raw-pair.js';
import { distributionChart, sweepCharts, type SweepPoint } from './lib/plots.js';
import { median, round, summarize, type LatencySummary } from './lib/stats.js';
import { barChart, logger, modeOf, type Chart, type Mode, type SuiteOptions, type SuiteResult } from './lib/suite.js';
import { fmt, formatTable, targetWord } from './lib/table.js';
import { loadAverage, loadNote } from './lib/machine.js';
import { natsServerBinary, natsServerFailure, startNatsServer } from '../src/harness/nats-server.js';

interface Sizes {
  /** Round trips per throughput run. */
  roundTrips: number;
  /** Requests in flight during a throughput run. */
  window: number;
  /** Throughput runs per contender (after one warm-up run); the median counts. */
  reps: number;
  /** Calls per comlink run (comlink is far slower: fewer calls give runs of similar length). */
  comlinkCalls: number;
  /** Timed round trips, one at a time (after a warm-up of the same size). */
  rttSamples: number;
  /** 3 x 3 dedicated boots; the median counts. */
  boots: number;
  packed: { regions: number; servers: number };
  sim: { regions: number; servers: number };
  /**
   * Round trips per NATS throughput run, unmeasured runs of each contender first, measured
   * runs (the median counts), and timed NATS round trips. Meridian's two hosts are processes
   * of their own, started cold: over one warm-up run and three measured ones its rate still
   * climbed run by run (586,410, 760,504, 985,672 msgs/s; 2026-12-05 03:42 UTC) while the bare
   * client's, two threads of this process, did not.
   */
  nats: { roundTrips: number; warmups: number; reps: number; rttSamples: number };
}

const SIZES: Record<Mode, Sizes> = {
  full: {
    roundTrips: 500_000,
    window: 1_000,
    reps: 5,
    comlinkCalls: 100_000,
    rttSamples: 10_000,
    boots: 7,
    packed: { regions: 10, servers: 100 },
    sim: { regions: 10, servers: 1_000 },
    nats: { roundTrips: 200_000, warmups: 3, reps: 5, rttSamples: 5_000 },
  },
  quick: {
    roundTrips: 100_000,
    window: 1_000,
    reps: 3,
    comlinkCalls: 20_000,
    rttSamples: 2_000,
    boots: 3,
    packed: { regions: 10, servers: 100 },
    sim: { regions: 10, servers: 1_000 },
    nats: { roundTrips: 50_000, warmups: 3, reps: 5, rttSamples: 1_000 },
  },
  tiny: {
    roundTrips: 2_000,
    window: 100,
    reps: 1,
    comlinkCalls: 500,
    rttSamples: 50,
    boots: 1,
    packed: { regions: 2, servers: 10 },
    sim: { regions: 2, servers: 50 },
    nats: { roundTrips: 2_000, warmups: 1, reps: 1, rttSamples: 50 },
  },
};

function msgsPerSecond(roundTrips: number, elapsedMs: number): number {
  return (2 * roundTrips) / (elapsedMs / 1000);
}

interface Throughputs {
  raw: number;
  rawBatch: number;
  meridian: number;
  comlinkCalls: number;
}

interface Contenders {
  raw: RawPair;
  meridian: MeridianPair;
  comlink: ComlinkPair;
}

/**
 * Runs interleaved (raw, raw-batch, meridian, comlink, raw, ...), so that load from anything
 * else on this shared machine hits every contender alike; the median of each counts.
 */
async function throughputs(c: Contenders, s: Sizes, log: (line: string) => void): Promise<Throughputs> {
  const rawRuns: number[] = [];
  const rawBatchRuns: number[] = [];
  const meridianRuns: number[] = [];
  const comlinkRuns: number[] = [];
  // Rep 0 is a full-size warm-up for each, so that every contender is measured with optimized code.
  for (let rep = 0; rep <= s.reps; rep++) {
    const a = await c.raw.throughput(s.roundTrips, s.window, 'each');
    const b = await c.raw.throughput(s.roundTrips, s.window, 'batch');
    const m = await c.meridian.throughput(s.roundTrips, s.window);
    const comlinkMs = await c.comlink.pipelined(s.comlinkCalls, s.window);
    if (rep === 0) continue;
    rawRuns.push(msgsPerSecond(a.received, a.elapsedMs));
    rawBatchRuns.push(msgsPerSecond(b.received, b.elapsedMs));
    meridianRuns.push(msgsPerSecond(m.received, m.elapsedMs));
    comlinkRuns.push(s.comlinkCalls / (comlinkMs / 1000));
    log(
      `transport: rep ${rep}/${s.reps}: raw ${fmt(rawRuns.at(-1)!)}  raw-batch ${fmt(rawBatchRuns.at(-1)!)}  meridian ${fmt(meridianRuns.at(-1)!)} msgs/s; comlink ${fmt(comlinkRuns.at(-1)!)} calls/s`,
    );
  }
  return { raw: median(rawRuns), rawBatch: median(rawBatchRuns), meridian: median(meridianRuns), comlinkCalls: median(comlinkRuns) };
}

interface Latencies {
  raw: LatencySummary;
  meridian: LatencySummary;
  /** Every sample, for the distribution plot. */
  rawMs: number[];
  meridianMs: number[];
}

async function latencies(raw: RawPair, meridian: MeridianPair, s: Sizes): Promise<Latencies> {
  await raw.rtt(s.rttSamples);
  await meridian.rtt(s.rttSamples);
  const r = await raw.rtt(s.rttSamples);
  const m = await meridian.rtt(s.rttSamples);
  return { raw: summarize(r.rttsMs), meridian: summarize(m.rttsMs), rawMs: r.rttsMs, meridianMs: m.rttsMs };
}

/** Windows of the plot of throughput against requests in flight (and the suite's own window). */
const SWEEP_WINDOWS = [1, 10, 100] as const;

/**
 * For the plots: each contender at several windows, a shorter run each (after the suite's
 * warm-up), with the process CPU time (every thread) per round trip.
 */
async function windowSweep(c: Contenders, s: Sizes, log: (line: string) => void): Promise<Array<{ name: string; points: SweepPoint[] }>> {
  const windows = [...new Set([...SWEEP_WINDOWS, s.window])].sort((a, b) => a - b);
  const measure = async (roundTrips: number, go: () => Promise<unknown>): Promise<{ ms: number; cpuUs: number }> => {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await go();
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - t0, cpuUs: (used.user + used.system) / roundTrips };
  };
  const out: Array<{ name: string; points: SweepPoint[] }> = [
    { name: 'raw (one array per frame)', points: [] },
    { name: 'meridian', points: [] },
    { name: 'comlink', points: [] },
  ];
  for (const window of windows) {
    const n = Math.max(s.rttSamples, Math.min(Math.floor(s.roundTrips / 5), window * 2_000));
    const nComlink = Math.max(window, Math.floor(n / 5));
    const runs = [
      { i: 0, n, go: () => c.raw.throughput(n, window, 'batch') },
      { i: 1, n, go: () => c.meridian.throughput(n, window) },
      { i: 2, n: nComlink, go: () => c.comlink.pipelined(nComlink, window) },
    ];
    for (const r of runs) {
      const m = await measure(r.n, r.go);
      out[r.i]!.points.push({ window, perSecond: r.n / (m.ms / 1000), cpuUsPerOp: m.cpuUs });
    }
    log(
      `transport: window ${window}: ${out.map((o) => `${o.name.split(' ')[0]} ${fmt(o.points.at(-1)!.perSecond)} round trips/s ${fmt(o.points.at(-1)!.cpuUsPerOp, 1)} us CPU`).join(', ')}`,
    );
  }
  return out;
}

interface Boots {
  dedicated: BootTiming[];
  /** CPU time of the whole process per 3 x 3 boot (start, one put and get, stop). */
  cpuMs: number[];
  packed: BootTiming;
  sim: BootTiming;
}

async function boots(s: Sizes, log: (line: string) => void): Promise<Boots> {
  const dedicated: BootTiming[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < s.boots; i++) {
    // Process CPU time (every thread) spent booting: a figure that load from others does not inflate.
    const cpu = process.cpuUsage();
    dedicated.push(await bootAndAnswer({ regions: regions(3, 3), transport: 'threads', placement: 'dedicated', seed: i + 1 }));
    const used = process.cpuUsage(cpu);
    cpuMs.push((used.user + used.system) / 1000);
    log(
      `transport: boot 3x3 dedicated ${i + 1}/${s.boots}: ${fmt(dedicated.at(-1)!.bootMs)} ms (boot, answer and stop used ${fmt(cpuMs.at(-1)!)} ms of CPU)${retriedNote(dedicated.at(-1)!)}`,
    );
  }
  const packed = await bootAndAnswer({ regions: regions(s.packed.regions, s.packed.servers), transport: 'threads', placement: 'packed', seed: 1 });
  log(`transport: packed ${s.packed.regions}x${s.packed.servers} answered after ${fmt(packed.answerMs)} ms${retriedNote(packed)}`);
  const sim = await bootAndAnswer({ regions: regions(s.sim.regions, s.sim.servers), transport: 'sim', seed: 1 });
  log(`transport: sim ${s.sim.regions}x${s.sim.servers} answered after ${fmt(sim.answerMs)} ms${retriedNote(sim)}`);
  return { dedicated, cpuMs, packed, sim };
}

/** A boot whose put or get was tried again: its answer time includes the tries. */
function retriedNote(boot: BootTiming): string {
  return boot.retries === 0 ? '' : ` (${boot.retries} unanswered ${boot.retries === 1 ? 'try' : 'tries'} made again)`;
}

interface NatsFigures {
  raw: number;
  rawEach: number;
  rawBatch: number;
  meridian: number;
  rawRtt: LatencySummary;
  meridianRtt: LatencySummary;
}

/** The NATS rows: bare client against Meridian over one nats-server, runs interleaved. */
async function natsRuns(s: Sizes, log: (line: string) => void): Promise<NatsFigures | { skipped: string }> {
  const binary = natsServerBinary();
  if ('reason' in binary) return { skipped: binary.reason };
  // A binary that does not start costs the NATS rows only, as a missing one does: the suite
  // failed, with every figure it had measured before (found by an audit, session 55).
  let server: Awaited<ReturnType<typeof startNatsServer>>;
  try {
    server = await startNatsServer(binary.bin);
  } catch (error) {
    log(`nats: ${natsServerFailure(binary, error)}`);
    return { skipped: natsServerFailure(binary, error) };
  }
  let raw: RawPair | undefined;
  let meridian: MeridianPair | undefined;
  try {
    raw = await RawPair.startNats(server.url);
    meridian = await MeridianPair.start(1, server.url);
    const each: number[] = [];
    const batch: number[] = [];
    const mer: number[] = [];
    const { roundTrips, warmups, reps } = s.nats;
    for (let rep = 1 - warmups; rep <= reps; rep++) {
      const a = await raw.throughput(roundTrips, s.window, 'each');
      const b = await raw.throughput(roundTrips, s.window, 'batch');
      const m = await meridian.throughput(roundTrips, s.window);
      if (rep <= 0) continue;
      each.push(msgsPerSecond(a.received, a.elapsedMs));
      batch.push(msgsPerSecond(b.received, b.elapsedMs));
      mer.push(msgsPerSecond(m.received, m.elapsedMs));
      log(
        `transport: nats rep ${rep}/${reps}: bare client ${fmt(each.at(-1)!)} (one array per frame ${fmt(batch.at(-1)!)})  meridian ${fmt(mer.at(-1)!)} msgs/s`,
      );
    }
    await raw.rtt(s.nats.rttSamples);
    await meridian.rtt(s.nats.rttSamples);
    const rr = await raw.rtt(s.nats.rttSamples);
    const mr = await meridian.rtt(s.nats.rttSamples);
    const rawEach = median(each);
    const rawBatch = median(batch);
    return { raw: Math.max(rawEach, rawBatch), rawEach, rawBatch, meridian: median(mer), rawRtt: summarize(rr.rttsMs), meridianRtt: summarize(mr.rttsMs) };
  } finally {
    await raw?.stop();
    await meridian?.stop();
    await server.stop();
  }
}

export async function run(opts: SuiteOptions): Promise<SuiteResult> {
  const mode = modeOf(opts);
  const s = SIZES[mode];
  const log = logger(opts);
  const started = performance.now();
  const loadAtStart = loadAverage();
  const raw = await RawPair.start();
  let meridian: MeridianPair | undefined;
  let comlink: ComlinkPair | undefined;
  let tp: Throughputs;
  let rtt: Latencies;
  let sweep: Array<{ name: string; points: SweepPoint[] }>;
  try {
    meridian = await MeridianPair.start();
    comlink = await ComlinkPair.start();
    tp = await throughputs({ raw, meridian, comlink }, s, log);
    rtt = await latencies(raw, meridian, s);
    sweep = await windowSweep({ raw, meridian, comlink }, s, log);
  } finally {
    await raw.stop();
    await meridian?.stop();
    await comlink?.stop();
  }
  const comlinkCalls = tp.comlinkCalls;
  const boot = await boots(s, log);
  const nats = await natsRuns(s, log);

  const rawBest = Math.max(tp.raw, tp.rawBatch);
  const comlinkMsgs = 2 * comlinkCalls;
  const bootMs3x3 = median(boot.dedicated.map((b) => b.bootMs));
  const answerMs3x3 = median(boot.dedicated.map((b) => b.answerMs));
  const us = (ms: number): number => round(ms * 1000, 4);
  const figures = {
    ratio_to_raw: round(tp.meridian / rawBest, 3),
    ratio_to_raw_each: round(tp.meridian / tp.raw, 3),
    ratio_to_comlink: round(tp.meridian / comlinkMsgs, 3),
    rtt_ratio: round(rtt.meridian.p50 / rtt.raw.p50, 3),
    boot_ms_3x3: round(bootMs3x3, 4),
    boot_ms_packed_1000: round(boot.packed.answerMs, 4),
    boot_ms_sim_10000: round(boot.sim.answerMs, 4),
    meridian_msgs_per_s: Math.round(tp.meridian),
    raw_msgs_per_s: Math.round(rawBest),
    raw_each_msgs_per_s: Math.round(tp.raw),
    raw_batch_msgs_per_s: Math.round(tp.rawBatch),
    comlink_calls_per_s: Math.round(comlinkCalls),
    comlink_msgs_per_s: Math.round(comlinkMsgs),
    raw_rtt_p50_us: us(rtt.raw.p50),
    raw_rtt_p99_us: us(rtt.raw.p99),
    meridian_rtt_p50_us: us(rtt.meridian.p50),
    meridian_rtt_p99_us: us(rtt.meridian.p99),
    answer_ms_3x3: round(answerMs3x3, 4),
    boot_cpu_ms_3x3: round(median(boot.cpuMs), 4),
    boot_only_ms_packed_1000: round(boot.packed.bootMs, 4),
    boot_only_ms_sim_10000: round(boot.sim.bootMs, 4),
    // Puts and gets of the boots above that failed unanswered and were made again (answer times include them).
    boot_retries: [...boot.dedicated, boot.packed, boot.sim].reduce((n, b) => n + b.retries, 0),
    servers_packed: s.packed.regions * s.packed.servers,
    servers_sim: s.sim.regions * s.sim.servers,
    window: s.window,
    round_trips: s.roundTrips,
    ...('skipped' in nats
      ? {}
      : {
          nats_ratio_to_raw: round(nats.meridian / nats.raw, 3),
          nats_meridian_msgs_per_s: Math.round(nats.meridian),
          nats_raw_msgs_per_s: Math.round(nats.raw),
          nats_raw_each_msgs_per_s: Math.round(nats.rawEach),
          nats_raw_batch_msgs_per_s: Math.round(nats.rawBatch),
          nats_raw_rtt_p50_us: us(nats.rawRtt.p50),
          nats_meridian_rtt_p50_us: us(nats.meridianRtt.p50),
          nats_round_trips: s.nats.roundTrips,
        }),
    elapsed_s: round((performance.now() - started) / 1000, 3),
  };

  const rows: Array<Array<string | number>> = [
    ['raw workers, msgpack frames (best encoding)', fmt(rawBest), '1.000', '', ''],
    ['  raw, messages packed one by one', fmt(tp.raw), fmt(tp.raw / rawBest, 3), '', ''],
    ['  raw, one array packed per frame', fmt(tp.rawBatch), fmt(tp.rawBatch / rawBest, 3), '', ''],
    ['meridian actors, two hosts', fmt(tp.meridian), fmt(figures.ratio_to_raw, 3), '>= 0.5', targetWord(figures.ratio_to_raw >= 0.5)],
    ['  meridian / raw packed one by one', '', fmt(figures.ratio_to_raw_each, 3), '', ''],
    ['comlink, pipelined calls', fmt(comlinkMsgs), fmt(comlinkMsgs / rawBest, 3), '', ''],
    ['meridian / comlink', '', fmt(figures.ratio_to_comlink, 2), '>= 10', targetWord(figures.ratio_to_comlink >= 10)],
  ];
  const rttRows: Array<Array<string | number>> = [
    ['raw workers', fmt(figures.raw_rtt_p50_us, 1), fmt(figures.raw_rtt_p99_us, 1), '', ''],
    ['meridian actors', fmt(figures.meridian_rtt_p50_us, 1), fmt(figures.meridian_rtt_p99_us, 1), '<= 1.5 x raw p50', targetWord(figures.rtt_ratio <= 1.5)],
  ];
  const bootRows: Array<Array<string | number>> = [
    ['3 regions x 3 servers, dedicated (startCluster)', fmt(bootMs3x3), '< 600', targetWord(bootMs3x3 < 600)],
    ['  same, until a put and a get are answered', fmt(answerMs3x3), '', ''],
    ['  CPU time of all threads: boot, answer, stop', fmt(figures.boot_cpu_ms_3x3), '', ''],
    [`${figures.servers_packed} servers, packed, until answered`, fmt(boot.packed.answerMs), '< 3000', targetWord(boot.packed.answerMs < 3000)],
    [`${figures.servers_sim} servers, sim, until answered`, fmt(boot.sim.answerMs), '', ''],
  ];
  const table = [
    formatTable(
      ['throughput (msgs/s; request + reply = 2)', 'msgs/s', 'x raw', 'target', 'result'],
      rows,
      `transport (${mode}; ${s.roundTrips} round trips, window ${s.window}, median of ${s.reps}; ${loadNote(loadAtStart)})`,
    ),
    '',
    formatTable(['round trip, one in flight', 'p50 us', 'p99 us', 'target', 'result'], rttRows),
    '',
    formatTable(['boot', 'ms', 'target', 'result'], bootRows),
    '',
    'skipped' in nats
      ? `nats: skipped (${nats.skipped})`
      : formatTable(
          ['over NATS (msgs/s; request + reply = 2)', 'msgs/s', 'x bare', 'target', 'result'],
          [
            ['bare @nats-io/transport-node, same frames (best)', fmt(nats.raw), '1.000', '', ''],
            ['  bare, messages packed one by one', fmt(nats.rawEach), fmt(nats.rawEach / nats.raw, 3), '', ''],
            ['  bare, one array packed per frame', fmt(nats.rawBatch), fmt(nats.rawBatch / nats.raw, 3), '', ''],
            [
              'meridian actors, two host processes',
              fmt(nats.meridian),
              fmt(nats.meridian / nats.raw, 3),
              '>= 0.5',
              targetWord(nats.meridian / nats.raw >= 0.5),
            ],
            [
              'round trip p50 us: bare / meridian',
              `${fmt(figures.nats_raw_rtt_p50_us ?? 0, 1)} / ${fmt(figures.nats_meridian_rtt_p50_us ?? 0, 1)}`,
              '',
              '',
              '',
            ],
          ],
          `nats (one local nats-server; ${s.nats.roundTrips} round trips, window ${s.window}, ${s.nats.warmups} unmeasured runs each, then the median of ${s.nats.reps})`,
        ),
  ].join('\n');
  const atWindow = (name: string): SweepPoint | undefined => sweep.find((x) => x.name === name)?.points.find((p) => p.window === s.window);
  const charts: Chart[] = [
    ...sweepCharts('transport', 'round trips', sweep),
    distributionChart(
      'transport: round trip, one in flight',
      'us',
      [
        { name: 'raw workers', values: rtt.rawMs },
        { name: 'meridian actors', values: rtt.meridianMs },
      ],
      1000,
    ),
    barChart(
      sweep.map((x) => x.name),
      'path',
      `transport: CPU per round trip at window ${s.window} (all threads)`,
      'us',
      [{ name: 'CPU us per round trip', value: (name) => atWindow(name)?.cpuUsPerOp }],
    ),
  ];
  return { suite: 'transport', figures, table, charts };
}
