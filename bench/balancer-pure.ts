/**
 * A pure, in-process micro-bench of the balancing strategies and the phi-accrual detector:
 * no threads, no cluster, simulated time. Three tables:
 *
 * 1. Decisions per second of each strategy in one thread, over 16 endpoints.
 * 2. Balls into bins: the maximum load after n requests over n servers, random placement
 *    against the better of two random choices, beside the textbook orders of growth
 *    ln n / ln ln n (Gonnet 1981) and ln ln n / ln 2 (Azar, Broder, Karlin, Upfal 1994).
 * 3. The phi trade-off: for thresholds 1..16 over a seeded jittered heartbeat stream, the time
 *    to detect a crash and the false suspicions per hour of healthy run.
 *
 * Run alone: node dist/bench/balancer-pure.js [--quick]
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { twoDistinct } from '../src/balance/choose.js';
import { createStrategy } from '../src/balance/strategy.js';
import { STRATEGY_NAMES, type Endpoint, type Strategy, type StrategyName } from '../src/balance/types.js';
import { Prng } from '../src/core/prng.js';
import { PhiAccrualDetector } from '../src/liveness/phi.js';
import { quickOnly, scriptArgs, suiteUsage } from './lib/script-args.js';

const SEED = 20_240_601;
const ENDPOINTS = 16;
const HEARTBEAT_INTERVAL_MS = 100;
const HEARTBEAT_JITTER_SD_MS = 20;
/** One heartbeat in this many is followed by a pause of the sender (a GC, a busy loop). */
const PAUSE_EVERY = 1000;
const PAUSE_MIN_MS = 200;
const PAUSE_MAX_MS = 1000;
const MS_PER_HOUR = 3_600_000;
/** Crash-detection times are averaged over crashes at this many points of the healthy run. */
const CRASH_POINTS = 20;
/** The second phi variant adds acceptableHeartbeatPauseMs equal to the longest pause. */
const PAUSE_MARGIN_MS = PAUSE_MAX_MS;

export interface BallsIntoBinsRow {
  n: number;
  trials: number;
  /** Mean over trials of the maximum load with uniform random placement. */
  random_max: number;
  /** The same with the less loaded of two distinct random servers. */
  two_choices_max: number;
  /** The same measured through createStrategy('random') / ('least-request'), for n <= 1000. */
  strategy_random_max: number | null;
  strategy_least_request_max: number | null;
  ln_n_over_ln_ln_n: number;
  ln_ln_n_over_ln_2: number;
}

export interface PhiTradeoffRow {
  threshold: number;
  /** Mean time from the last heartbeat of a crashed sender to phi >= threshold. */
  detection_ms: number;
  false_suspicions_per_hour: number;
  /** The same with acceptableHeartbeatPauseMs = PAUSE_MARGIN_MS. */
  margin_detection_ms: number;
  margin_false_suspicions_per_hour: number;
}

export interface PureBenchResult {
  decisions_per_s: Record<StrategyName, number>;
  balls_into_bins: BallsIntoBinsRow[];
  phi_tradeoff: PhiTradeoffRow[];
}

function normal(prng: Prng): number {
  return Math.sqrt(-2 * Math.log(1 - prng.next())) * Math.cos(2 * Math.PI * prng.next());
}

/** Timed rounds per strategy; the best is reported, the usual defence against a busy machine. */
const DECISION_ROUNDS = 3;

/**
 * Picks per second of each strategy; least-latency also gets one result per pick. Every
 * strategy runs through the same call site, interleaved round by round, so none profits from
 * being the first (monomorphic) one the JIT sees.
 */
function decisionsPerSecond(iterations: number): Record<StrategyName, number> {
  const prng = new Prng(SEED);
  const endpoints: Endpoint[] = Array.from({ length: ENDPOINTS }, (_, i) => ({
    id: `region-${i % 4}/${i}`,
    weight: 1,
    active: prng.int(8),
  }));
  const keys = Array.from({ length: 4096 }, (_, i) => `key-${i}-${prng.nextUint32().toString(36)}`);
  const strategies = STRATEGY_NAMES.map((name) => createStrategy(name, { prng: new Prng(SEED) }));
  const best = new Map<StrategyName, number>();
  let checksum = 0;
  const run = (strategy: Strategy, count: number): number => {
    const learns = strategy.name === 'least-latency';
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const chosen = strategy.pick(endpoints, { key: keys[i & 4095] as string, nowMs: i }) as Endpoint;
      checksum += chosen.active;
      if (learns) strategy.onResult(chosen.id, 5 + (i & 7), true, i);
    }
    return performance.now() - started;
  };
  for (const strategy of strategies) run(strategy, Math.ceil(iterations / 10)); // warm-up; builds rings and tables
  for (let round = 0; round < DECISION_ROUNDS; round++) {
    for (const strategy of strategies) {
      const perSecond = iterations / (run(strategy, iterations) / 1000);
      best.set(strategy.name, Math.max(best.get(strategy.name) ?? 0, perSecond));
    }
  }
  if (checksum < 0) throw new Error('unreachable: keeps the loops from being optimized away');
  const out = {} as Record<StrategyName, number>;
  for (const name of STRATEGY_NAMES) out[name] = Math.round(best.get(name) as number);
  return out;
}

function maxLoadRandom(n: number, prng: Prng): number {
  const loads = new Uint32Array(n);
  let max = 0;
  for (let ball = 0; ball < n; ball++) {
    const load = ++loads[prng.int(n)]!;
    if (load > max) max = load;
  }
  return max;
}

function maxLoadTwoChoices(n: number, prng: Prng): number {
  const loads = new Uint32Array(n);
  let max = 0;
  for (let ball = 0; ball < n; ball++) {
    if (n === 1) {
      max = ++loads[0]!;
      continue;
    }
    const [i, j] = twoDistinct(n, prng);
    const target = loads[j]! < loads[i]! ? j : i;
    const load = ++loads[target]!;
    if (load > max) max = load;
  }
  return max;
}

/** The same experiment through the real strategy objects: balls never complete, so active = load. */
function maxLoadStrategy(name: 'random' | 'least-request', n: number, prng: Prng): number {
  const strategy = createStrategy(name, { prng });
  const endpoints = Array.from({ length: n }, (_, i) => ({ id: String(i), weight: 1, active: 0 }));
  let max = 0;
  for (let ball = 0; ball < n; ball++) {
    const chosen = strategy.pick(endpoints) as { active: number };
    chosen.active++;
    if (chosen.active > max) max = chosen.active;
  }
  return max;
}

function ballsIntoBins(sizes: readonly number[], ballsPerSize: number): BallsIntoBinsRow[] {
  return sizes.map((n) => {
    const trials = Math.max(1, Math.floor(ballsPerSize / n));
    const prng = new Prng(SEED ^ n);
    let randomSum = 0;
    let twoSum = 0;
    let strategyRandomSum = 0;
    let strategyLeastSum = 0;
    const viaStrategies = n <= 1000;
    for (let trial = 0; trial < trials; trial++) {
      randomSum += maxLoadRandom(n, prng);
      twoSum += maxLoadTwoChoices(n, prng);
      if (viaStrategies) {
        strategyRandomSum += maxLoadStrategy('random', n, prng.fork('random'));
        strategyLeastSum += maxLoadStrategy('least-request', n, prng.fork('least-request'));
      }
    }
    const lnN = Math.log(n);
    return {
      n,
      trials,
      random_max: randomSum / trials,
      two_choices_max: twoSum / trials,
      strategy_random_max: viaStrategies ? strategyRandomSum / trials : null,
      strategy_least_request_max: viaStrategies ? strategyLeastSum / trials : null,
      ln_n_over_ln_ln_n: lnN / Math.log(lnN),
      ln_ln_n_over_ln_2: Math.log(lnN) / Math.LN2,
    };
  });
}

/** The silence after which phi reaches the threshold, to 0.1 ms (phi grows with silence). */
function detectionMs(detector: PhiAccrualDetector, lastMs: number): number {
  let low = 0;
  let high = 1;
  while (detector.isAvailable(lastMs + high)) high *= 2;
  while (high - low > 0.1) {
    const mid = (low + high) / 2;
    if (detector.isAvailable(lastMs + mid)) low = mid;
    else high = mid;
  }
  return high;
}

/**
 * One healthy run per threshold, in simulated time. phi grows with silence, so its largest
 * value between two heartbeats is the one just before the second arrives: a false suspicion is
 * an arrival at which phi had already reached the threshold. This counts what a monitor that
 * checked continuously would see; a monitor that checks every interval sees at most as many.
 */
function phiRun(threshold: number, acceptableHeartbeatPauseMs: number, heartbeats: number): { detectionMs: number; suspicions: number } {
  const crashEvery = Math.floor(heartbeats / CRASH_POINTS);
  // The same seed for every threshold: each one faces the very same heartbeat stream.
  const prng = new Prng(SEED);
  const detector = new PhiAccrualDetector({ threshold, acceptableHeartbeatPauseMs, firstHeartbeatEstimateMs: HEARTBEAT_INTERVAL_MS });
  let nowMs = 0;
  let suspicions = 0;
  let detectionSum = 0;
  let crashes = 0;
  detector.heartbeat(nowMs);
  for (let i = 1; i <= heartbeats; i++) {
    let intervalMs = Math.max(1, HEARTBEAT_INTERVAL_MS + HEARTBEAT_JITTER_SD_MS * normal(prng));
    if (prng.int(PAUSE_EVERY) === 0) intervalMs += PAUSE_MIN_MS + prng.next() * (PAUSE_MAX_MS - PAUSE_MIN_MS);
    nowMs += intervalMs;
    if (!detector.isAvailable(nowMs)) suspicions++;
    detector.heartbeat(nowMs);
    // What if the sender crashed right after this heartbeat? phi is pure in time, so ask.
    if (i % crashEvery === 0) {
      detectionSum += detectionMs(detector, nowMs);
      crashes++;
    }
  }
  return { detectionMs: detectionSum / crashes, suspicions };
}

/**
 * One healthy run per threshold, in simulated time. phi grows with silence, so its largest
 * value between two heartbeats is the one just before the second arrives: a false suspicion is
 * an arrival at which phi had already reached the threshold. This counts what a monitor that
 * checked continuously would see; a monitor that checks every interval sees at most as many.
 */
function phiTradeoff(hours: number): PhiTradeoffRow[] {
  const heartbeats = Math.round((hours * MS_PER_HOUR) / HEARTBEAT_INTERVAL_MS);
  const rows: PhiTradeoffRow[] = [];
  for (let threshold = 1; threshold <= 16; threshold++) {
    const plain = phiRun(threshold, 0, heartbeats);
    const margin = phiRun(threshold, PAUSE_MARGIN_MS, heartbeats);
    rows.push({
      threshold,
      detection_ms: plain.detectionMs,
      false_suspicions_per_hour: plain.suspicions / hours,
      margin_detection_ms: margin.detectionMs,
      margin_false_suspicions_per_hour: margin.suspicions / hours,
    });
  }
  return rows;
}

/** A plain-text table; each column is printed with the given number of decimals (text as is). */
function table(title: string, headers: readonly string[], decimals: readonly number[], rows: readonly (readonly (number | string | null)[])[]): string {
  const cells = rows.map((row) =>
    row.map((cell, i) =>
      cell === null
        ? '-'
        : typeof cell === 'string'
          ? cell
          : cell.toLocaleString('en-US', { minimumFractionDigits: decimals[i] ?? 0, maximumFractionDigits: decimals[i] ?? 0 }),
    ),
  );
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  return [title, line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export async function benchPure(opts: { quick: boolean }): Promise<PureBenchResult> {
  const iterations = opts.quick ? 100_000 : 500_000;
  const sizes = opts.quick ? [10, 100, 1000, 10_000] : [10, 100, 1000, 10_000, 100_000];
  const ballsPerSize = opts.quick ? 20_000 : 1_000_000;
  const hours = opts.quick ? 1 : 10;

  const decisions = decisionsPerSecond(iterations);
  console.log(
    table(
      `Decisions per second, one thread, ${ENDPOINTS} endpoints, best of ${DECISION_ROUNDS} rounds of ${iterations.toLocaleString('en-US')} picks`,
      ['strategy', 'decisions/s'],
      [0, 0],
      STRATEGY_NAMES.map((name) => [name, decisions[name]]),
    ),
  );
  console.log();

  const balls = ballsIntoBins(sizes, ballsPerSize);
  console.log(
    table(
      'Balls into bins: mean maximum load after n requests over n servers (the formulas are orders of growth, not limits)',
      ['n', 'trials', 'random max', 'two-choices max', 'via random', 'via least-request', 'ln n / ln ln n', 'ln ln n / ln 2'],
      [0, 0, 2, 2, 2, 2, 2, 2],
      balls.map((row) => [
        row.n,
        row.trials,
        row.random_max,
        row.two_choices_max,
        row.strategy_random_max,
        row.strategy_least_request_max,
        row.ln_n_over_ln_ln_n,
        row.ln_ln_n_over_ln_2,
      ]),
    ),
  );
  console.log();

  const phi = phiTradeoff(hours);
  console.log(
    table(
      `Phi trade-off: heartbeat every ${HEARTBEAT_INTERVAL_MS} ms, jitter sd ${HEARTBEAT_JITTER_SD_MS} ms, a ${PAUSE_MIN_MS}-${PAUSE_MAX_MS} ms ` +
        `pause every ~${PAUSE_EVERY} beats, ${hours} simulated hour(s) per threshold; right: acceptableHeartbeatPauseMs ${PAUSE_MARGIN_MS}`,
      ['threshold', 'detection ms', 'false suspicions/h', 'detection ms (margin)', 'false suspicions/h (margin)'],
      [0, 0, 1, 0, 1],
      phi.map((row) => [String(row.threshold), row.detection_ms, row.false_suspicions_per_hour, row.margin_detection_ms, row.margin_false_suspicions_per_hour]),
    ),
  );
  return { decisions_per_s: decisions, balls_into_bins: balls, phi_tradeoff: phi };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = scriptArgs(
    'balancer-pure',
    suiteUsage('balancer-pure', 'balancing decisions per second of each policy, no cluster'),
    process.argv.slice(2),
    quickOnly,
  );
  const started = performance.now();
  const result = await benchPure({ quick });
  console.log();
  console.log(JSON.stringify({ suite: 'balancer-pure', ...result }));
  process.stderr.write(`balancer-pure: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}
