/**
 * The failover suite: what a client loses when a server, or a whole region, fails under load,
 * and how long until the balancer has moved all traffic away from it.
 *
 * Two kinds of failure, because the balancer learns of them differently:
 *   crash      cluster.crash(): the runtime tells every balancer at once (a refused
 *              connection); requests in flight there fail at once, none are sent there after.
 *   partition  the servers are cut off from everything but keep running (a silent failure):
 *              only their missing heartbeats tell, through phi-accrual in their region actor
 *              and its digest; requests sent there meanwhile are lost at their timeout.
 * A region failure is every server of the clients' home region failing together (the region
 * actor stays up, so the digest says its servers are down); traffic moves to the nearest
 * other region.
 *
 * sim (virtual time, reproducible; the figures): an open loop of linearizable gets from clients
 * homed in us-east, one every `periodMs`, over keys of every shard, each shard replicated once in
 * every region (mode 'active'): the failed servers' shards must elect a leader elsewhere, and the
 * balancers must learn of it, before their keys answer again. (Until 2026-12-06 the keys were
 * only those of servers that stayed up, in mode 'none': once the balancer sent a get to its
 * key's owner (leader hints), no request reached a failed server and every run printed 0 lost,
 * 0 ms.) Per request: sent, answered or failed, latency.
 *   lost         requests that failed (TimeoutError: outcome unknown, or UnavailableError)
 *   delayed      answered, sent after the fault, slower than 2 x the p99 before it ('-' in
 *                the table, null in JSON, when none was answered before it: no p99 to compare)
 *   failover_ms  from the fault to the sending of the last request that failed: every request
 *                sent later was answered (0 when only requests in flight at the fault failed)
 * threads (real time; throughput): closed loops of gets, no modelled latency, one server
 * crashed mid-run; requests per second before and after, lost requests, failover time.
 *
 * Run alone: node dist/bench/run.js failover [--quick]
 */
import { performance } from 'node:perf_hooks';
import { median, percentile, round } from './lib/stats.js';
import { logger, modeOf, type Chart, type Mode, type SuiteOptions, type SuiteResult } from './lib/suite.js';
import { fmt, formatTable } from './lib/table.js';
import { loadAverage, loadNote } from './lib/machine.js';
import { endsLoop, withTimeout } from './lib/wait.js';
import { startCluster, type Cluster, type ClusterConfig } from '../src/index.js';

const HOME = 'us-east';
const REGIONS = [HOME, 'eu-west', 'ap-south'];
const SERVERS_PER_REGION = 3;
const VICTIM = 'us-east/1';
const HOME_SERVERS = Array.from({ length: SERVERS_PER_REGION }, (_, i) => `${HOME}/${i}`);
/** Requests to a silent server are lost after this; it bounds how long a loss takes to show. */
const REQUEST_TIMEOUT_MS = 1_000;
const BASE_SEED = 7_100;

interface Sizes {
  /** Seeds per sim scenario; the median figures count. */
  seeds: number;
  /** One request every periodMs of virtual time. */
  periodMs: number;
  warmMs: number;
  /** Load after the fault. */
  afterMs: number;
  /** threads: concurrent closed loops, and the run's length before and after the crash. */
  threadsWindow: number;
  /** threads: load before the measured window (JIT, msgpackr structures). */
  threadsWarmMs: number;
  threadsBeforeMs: number;
  threadsAfterMs: number;
}

const SIZES: Record<Mode, Sizes> = {
  full: { seeds: 7, periodMs: 1, warmMs: 2_000, afterMs: 5_000, threadsWindow: 128, threadsWarmMs: 2_000, threadsBeforeMs: 2_000, threadsAfterMs: 3_000 },
  quick: { seeds: 3, periodMs: 2, warmMs: 1_500, afterMs: 4_000, threadsWindow: 64, threadsWarmMs: 1_500, threadsBeforeMs: 1_000, threadsAfterMs: 1_500 },
  tiny: { seeds: 1, periodMs: 5, warmMs: 1_000, afterMs: 2_500, threadsWindow: 16, threadsWarmMs: 300, threadsBeforeMs: 400, threadsAfterMs: 600 },
};

type Failure = 'crash' | 'partition';
type Scope = 'server' | 'region';

interface Scenario {
  scope: Scope;
  failure: Failure;
}

const SCENARIOS: Scenario[] = [
  { scope: 'server', failure: 'crash' },
  { scope: 'server', failure: 'partition' },
  { scope: 'region', failure: 'crash' },
  { scope: 'region', failure: 'partition' },
];

function clusterConfig(transport: 'sim' | 'threads', seed: number): ClusterConfig {
  return {
    regions: REGIONS.map((name) => ({ name, servers: SERVERS_PER_REGION })),
    transport,
    seed,
    // threads measures throughput: no modelled latency, so the loops are bound by the CPU.
    network: transport === 'sim' ? { latencyMs: { 'us-east~eu-west': 20, 'us-east~ap-south': 60, 'eu-west~ap-south': 60 }, jitterMs: 2 } : {},
    // One replica of each shard per region: a failed server's shards have a majority left.
    replication: { mode: 'active', factor: REGIONS.length },
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    ...(transport === 'threads' ? { placement: 'packed' as const, threads: 2 } : {}),
  };
}

function failedServers(scope: Scope): string[] {
  return scope === 'server' ? [VICTIM] : HOME_SERVERS;
}

async function inject(cluster: Cluster, scenario: Scenario): Promise<void> {
  const servers = failedServers(scenario.scope);
  if (scenario.failure === 'crash') {
    for (const id of servers) await cluster.crash(id);
  } else {
    // Cut off from every region (its own included): region actor, balancers, other servers.
    await cluster.partition(servers, REGIONS);
  }
}

/** Keys over every shard: those the failed servers lead among them. */
const KEYS = Array.from({ length: 2_000 }, (_, i) => `key-${i}`);

interface Sample {
  sentMs: number;
  latencyMs: number;
  ok: boolean;
}

export interface ScenarioResult {
  scope: Scope;
  failure: Failure;
  sent: number;
  lost: number;
  /** NaN when no request was answered before the fault (no p99 to compare with): it read 0. */
  delayed: number;
  failoverMs: number;
  /** Latency of answered requests before the fault, and of those sent after the failover. */
  beforeP50Ms: number;
  beforeP99Ms: number;
  afterP50Ms: number;
  afterP99Ms: number;
  /** Per TIMELINE_BIN_MS of send time, from the fault: [ms, answered, failed]. */
  timeline?: Array<[number, number, number]>;
}

/** Width of one bar of the failover timeline. */
export const TIMELINE_BIN_MS = 100;

/** Requests answered and failed per bin of send time around the fault. */
function timelineOf(samples: readonly Sample[], faultMs: number): Array<[number, number, number]> {
  const bins = new Map<number, [number, number, number]>();
  for (const s of samples) {
    const bin = Math.floor((s.sentMs - faultMs) / TIMELINE_BIN_MS) * TIMELINE_BIN_MS;
    let b = bins.get(bin);
    if (b === undefined) bins.set(bin, (b = [bin, 0, 0]));
    if (s.ok) b[1]++;
    else b[2]++;
  }
  return [...bins.values()].sort((a, b) => a[0] - b[0]);
}

/** @internal exported for a test: one run's figures from its samples. */
export function analyse(scenario: Scenario, samples: readonly Sample[], faultMs: number): ScenarioResult {
  const before = samples.filter((s) => s.ok && s.sentMs < faultMs).map((s) => s.latencyMs);
  const p99Before = percentile(before, 99);
  const failed = samples.filter((s) => !s.ok);
  const lastFailedSentMs = failed.length === 0 ? faultMs : Math.max(...failed.map((s) => s.sentMs));
  const failoverMs = Math.max(0, lastFailedSentMs - faultMs);
  const settled = samples.filter((s) => s.ok && s.sentMs > faultMs + failoverMs).map((s) => s.latencyMs);
  return {
    ...scenario,
    sent: samples.length,
    lost: failed.length,
    // No answer before the fault: nothing is "slower than before" (any comparison with NaN is
    // false, so it counted 0), the figure is unknown as the p99 is (NaN, '-' in the table).
    delayed: before.length === 0 ? Number.NaN : samples.filter((s) => s.ok && s.sentMs >= faultMs && s.latencyMs > 2 * p99Before).length,
    failoverMs,
    beforeP50Ms: percentile(before, 50),
    beforeP99Ms: p99Before,
    afterP50Ms: percentile(settled, 50),
    afterP99Ms: percentile(settled, 99),
    timeline: timelineOf(samples, faultMs),
  };
}

/** The delayed count as printed: '-' when unknown (NaN: no answer before the fault), as an empty percentile is. */
export function delayedCell(delayed: number): string {
  return Number.isNaN(delayed) ? '-' : String(delayed);
}

/**
 * @internal exported for a test: a scenario's figures in the JSON report, every one its table
 * row prints. The p50 before the fault and the p99 after it were printed and left out (found by
 * the report audit, session 69).
 */
export function scenarioFigures(r: ScenarioResult): Record<string, number | null> {
  return {
    lost: r.lost,
    delayed: Number.isNaN(r.delayed) ? null : r.delayed,
    sent: r.sent,
    failover_ms: round(r.failoverMs, 4),
    before_p50_ms: round(r.beforeP50Ms, 4),
    before_p99_ms: round(r.beforeP99Ms, 4),
    after_p50_ms: round(r.afterP50Ms, 4),
    after_p99_ms: round(r.afterP99Ms, 4),
  };
}

/**
 * @internal exported for a test: the threads run's figures in the JSON report, with the closed
 * loops its table row names (left out before: found by the report audit, session 69).
 */
export function threadsFigures(threads: ThreadsResult, closedLoops: number): Record<string, number> {
  return {
    closed_loops: closedLoops,
    before_req_per_s: Math.round(threads.beforeReqPerS),
    after_req_per_s: Math.round(threads.afterReqPerS),
    lost: threads.lost,
    failover_ms: round(threads.failoverMs, 4),
  };
}

/** One scenario in sim: warm up under load, inject the fault, keep the load on, collect. */
async function simScenario(scenario: Scenario, seed: number, s: Sizes): Promise<ScenarioResult> {
  const cluster = await startCluster(clusterConfig('sim', seed));
  try {
    const client = cluster.client({ region: HOME });
    const samples: Sample[] = [];
    const start = cluster.now();
    const stopAt = start + s.warmMs + s.afterMs;
    const pending: Promise<void>[] = [];
    const load = (async (): Promise<void> => {
      for (let i = 0; cluster.now() < stopAt; i++) {
        const sentMs = cluster.now();
        pending.push(
          client.get(KEYS[i % KEYS.length]!).then(
            () => void samples.push({ sentMs, latencyMs: cluster.now() - sentMs, ok: true }),
            () => void samples.push({ sentMs, latencyMs: cluster.now() - sentMs, ok: false }),
          ),
        );
        await cluster.sleep(s.periodMs);
      }
    })();
    // Handled here too: when the cluster stops under it (Ctrl-C), the sleep below fails first
    // and `load`, never awaited, failed the process as an unhandled rejection.
    load.catch(() => undefined);
    await cluster.sleep(s.warmMs);
    const faultMs = cluster.now();
    await inject(cluster, scenario);
    await load;
    await Promise.all(pending);
    return analyse(scenario, samples, faultMs);
  } finally {
    await cluster.stop();
  }
}

export interface ThreadsResult {
  beforeReqPerS: number;
  afterReqPerS: number;
  lost: number;
  failoverMs: number;
}

/** Closed loops on worker threads; one server crashed half-way. Real time. */
async function threadsCrash(s: Sizes, log: (line: string) => void): Promise<ThreadsResult> {
  const cluster = await withTimeout(startCluster(clusterConfig('threads', BASE_SEED)), 'startCluster');
  try {
    const clients = Array.from({ length: 8 }, () => cluster.client({ region: HOME }));
    // Until every server has reported in, and the balancer knows them all up.
    for (let waited = 0; cluster.members().some((m) => m.state !== 'up') && waited < 10_000; waited += 50) await cluster.sleep(50);
    let crashAtMs = Number.POSITIVE_INFINITY;
    let stop = false;
    let next = 0;
    const done: { atMs: number; ok: boolean; sentMs: number }[] = [];
    const lane = async (lane: number): Promise<void> => {
      const client = clients[lane % clients.length]!;
      while (!stop) {
        const sentMs = performance.now();
        try {
          await client.get(KEYS[next++ % KEYS.length]!);
          done.push({ atMs: performance.now(), ok: true, sentMs });
        } catch (error) {
          if (endsLoop(error)) return;
          done.push({ atMs: performance.now(), ok: false, sentMs });
        }
      }
    };
    const lanes = Promise.all(Array.from({ length: s.threadsWindow }, (_, i) => lane(i)));
    log(`failover: threads: ${s.threadsWindow} closed loops running; ${VICTIM} crashes in ${fmt(s.threadsWarmMs + s.threadsBeforeMs)} ms`);
    await cluster.sleep(s.threadsWarmMs);
    const startMs = performance.now();
    await cluster.sleep(s.threadsBeforeMs);
    crashAtMs = performance.now();
    await cluster.crash(VICTIM);
    await cluster.sleep(s.threadsAfterMs);
    stop = true;
    await withTimeout(lanes, 'closed loops');
    const endMs = performance.now();
    const failed = done.filter((d) => !d.ok);
    const lastFailedSent = failed.length === 0 ? crashAtMs : Math.max(...failed.map((d) => d.sentMs));
    const rate = (from: number, to: number): number => done.filter((d) => d.ok && d.atMs >= from && d.atMs < to).length / ((to - from) / 1000);
    return {
      beforeReqPerS: rate(startMs, crashAtMs),
      afterReqPerS: rate(crashAtMs, endMs),
      lost: failed.length,
      failoverMs: Math.max(0, lastFailedSent - crashAtMs),
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
  const loadAtStart = loadAverage();

  const medians: ScenarioResult[] = [];
  const charts: Chart[] = [];
  for (const scenario of SCENARIOS) {
    const runs: ScenarioResult[] = [];
    for (let i = 0; i < s.seeds; i++) runs.push(await simScenario(scenario, BASE_SEED + i, s));
    const first = runs[0]!.timeline ?? [];
    const perSecond = 1000 / TIMELINE_BIN_MS;
    charts.push({
      title: `failover timeline: ${scenario.scope} ${scenario.failure} (seed ${BASE_SEED}; fault at 0)`,
      kind: 'line',
      xLabel: 'ms from the fault (send time)',
      yLabel: 'requests per second',
      series: [
        { name: 'answered', points: first.map(([t, ok]) => [t, ok * perSecond]) },
        { name: 'failed', points: first.map(([t, , failed]) => [t, failed * perSecond]) },
      ],
    });
    const pick = (f: (r: ScenarioResult) => number): number => median(runs.map(f));
    const m: ScenarioResult = {
      ...scenario,
      sent: pick((r) => r.sent),
      lost: pick((r) => r.lost),
      // Over the runs that had a figure (a NaN would unsort the median): NaN when none had.
      delayed: median(runs.map((r) => r.delayed).filter((d) => !Number.isNaN(d))),
      failoverMs: pick((r) => r.failoverMs),
      beforeP50Ms: pick((r) => r.beforeP50Ms),
      beforeP99Ms: pick((r) => r.beforeP99Ms),
      afterP50Ms: pick((r) => r.afterP50Ms),
      afterP99Ms: pick((r) => r.afterP99Ms),
    };
    medians.push(m);
    log(
      `failover: ${scenario.scope} ${scenario.failure}: lost ${m.lost}/${m.sent}, delayed ${delayedCell(m.delayed)}, failover ${fmt(m.failoverMs)} ms (median of ${s.seeds})`,
    );
  }
  const threads = await threadsCrash(s, log);
  log(`failover: threads: ${fmt(threads.beforeReqPerS)} -> ${fmt(threads.afterReqPerS)} req/s, lost ${threads.lost}, failover ${fmt(threads.failoverMs)} ms`);

  const find = (scope: Scope, failure: Failure): ScenarioResult => medians.find((m) => m.scope === scope && m.failure === failure)!;
  const figures = {
    // Silent failures (partitions) are the ones the heartbeats must find: those are the figures.
    failover_ms: { server: round(find('server', 'partition').failoverMs, 4), region: round(find('region', 'partition').failoverMs, 4) },
    failover_ms_crash: { server: round(find('server', 'crash').failoverMs, 4), region: round(find('region', 'crash').failoverMs, 4) },
    lost: { server: find('server', 'partition').lost, region: find('region', 'partition').lost },
    lost_crash: { server: find('server', 'crash').lost, region: find('region', 'crash').lost },
    scenarios: Object.fromEntries(medians.map((m) => [`${m.scope}_${m.failure}`, scenarioFigures(m)])),
    threads_crash: threadsFigures(threads, s.threadsWindow),
    seeds: s.seeds,
    request_rate_per_s: Math.round(1000 / s.periodMs),
    request_timeout_ms: REQUEST_TIMEOUT_MS,
    elapsed_s: round((performance.now() - started) / 1000, 3),
  };

  const rows = medians.map((m) => [
    `${m.scope === 'server' ? `one server (${VICTIM})` : `home region (${HOME}, ${SERVERS_PER_REGION} servers)`}`,
    m.failure === 'crash' ? 'crash (runtime notice)' : 'partition (silent)',
    m.sent,
    m.lost,
    delayedCell(m.delayed),
    fmt(m.failoverMs),
    `${fmt(m.beforeP50Ms, 1)} / ${fmt(m.beforeP99Ms, 1)}`,
    `${fmt(m.afterP50Ms, 1)} / ${fmt(m.afterP99Ms, 1)}`,
  ]);
  const table = [
    formatTable(
      ['what fails', 'how', 'sent', 'lost', 'delayed', 'failover ms', 'before p50/p99 ms', 'after p50/p99 ms'],
      rows,
      `Failover (sim, ${REGIONS.length} regions x ${SERVERS_PER_REGION} servers, clients in ${HOME}, ${fmt(1000 / s.periodMs)} gets/s open loop, ` +
        `heartbeat 100 ms, phi 8, request timeout ${REQUEST_TIMEOUT_MS} ms; median of ${s.seeds} seeds)`,
    ),
    '',
    formatTable(
      ['threads, one server crashed', 'req/s before', 'req/s after', 'lost', 'failover ms'],
      [[`${s.threadsWindow} closed loops`, fmt(threads.beforeReqPerS), fmt(threads.afterReqPerS), threads.lost, fmt(threads.failoverMs)]],
      `Failover under load (threads, real time; ${loadNote(loadAtStart)})`,
    ),
  ].join('\n');
  return { suite: 'failover', figures, table, charts };
}
