import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { DEFAULT_MIN_STD_DEVIATION_MS, DEFAULT_PHI_THRESHOLD, firstSilenceMs, PhiAccrualDetector, phiOf } from '../src/liveness/phi.js';
import { normal, testSeed } from './balance-stats.js';

/**
 * The logistic approximation's worst error on the normal CDF: Bowling et al. (2009) give
 * 1.4e-4, reached near y = 0.5; rounded up so that the bound is not a floating-point coin toss.
 */
const CDF_APPROXIMATION_ERROR = 1.5e-4;
/** Upper normal tail Q(y) = 1 - Phi(y), from tables. */
const NORMAL_TAIL: [number, number][] = [
  [0.5, 0.308538],
  [1, 0.158655],
  [2, 0.0227501],
  [3, 0.0013499],
];
/**
 * A silence of mean + 6 sd has a normal tail of 1e-9, past phi 8 (1e-8) by a margin that
 * covers the logistic approximation: detection must come before it.
 */
const DETECTION_SD_BOUND = 6;

test('phi: -log10 of the normal tail, via the logistic approximation', (t) => {
  t.true(Math.abs(phiOf(100, 100, 10) - Math.log10(2)) < 1e-12);
  for (const [y, tail] of NORMAL_TAIL) {
    const above = Math.pow(10, -phiOf(100 + y * 10, 100, 10));
    t.true(Math.abs(above - tail) < CDF_APPROXIMATION_ERROR, `y = ${y}: ${above} vs ${tail}`);
    const below = Math.pow(10, -phiOf(100 - y * 10, 100, 10));
    t.true(Math.abs(below - (1 - tail)) < CDF_APPROXIMATION_ERROR, `y = -${y}: ${below} vs ${1 - tail}`);
  }
});

test('phi: 0 before the first heartbeat, then the first-heartbeat estimate', (t) => {
  const detector = new PhiAccrualDetector({ firstHeartbeatEstimateMs: 1000, minStdDeviationMs: 1 });
  t.is(detector.phi(5000), 0);
  detector.heartbeat(5000);
  // Starter intervals 750 and 1250: mean 1000, sd 250.
  t.is(detector.meanIntervalMs, 1000);
  t.is(detector.stdDeviationMs, 250);
  t.true(Math.abs(detector.phi(6000) - Math.log10(2)) < 1e-12);
});

test('phi: grows with silence until the threshold', (t) => {
  const detector = new PhiAccrualDetector({ firstHeartbeatEstimateMs: 100 });
  for (let i = 0; i <= 50; i++) detector.heartbeat(i * 100);
  let previous = -1;
  for (let silenceMs = 0; silenceMs <= 2000; silenceMs += 10) {
    const phi = detector.phi(5000 + silenceMs);
    if (previous < Infinity) t.true(phi > previous || phi === Infinity, `phi at ${silenceMs} ms: ${phi} after ${previous}`);
    previous = phi;
  }
  t.false(detector.isAvailable(7000));
});

test('phi: keeps only the last maxSampleSize intervals', (t) => {
  const detector = new PhiAccrualDetector({ maxSampleSize: 10, firstHeartbeatEstimateMs: 100 });
  let nowMs = 0;
  for (let i = 0; i < 100; i++) detector.heartbeat((nowMs += 100));
  for (let i = 0; i < 10; i++) detector.heartbeat((nowMs += 300));
  t.is(detector.sampleCount, 10);
  t.is(detector.meanIntervalMs, 300);
});

test('phi: the first interval after a failure is not a sample', (t) => {
  const detector = new PhiAccrualDetector({ firstHeartbeatEstimateMs: 100 });
  for (let i = 0; i <= 20; i++) detector.heartbeat(i * 100);
  const samples = detector.sampleCount;
  detector.heartbeat(2000 + 60_000);
  t.is(detector.sampleCount, samples);
  detector.heartbeat(2000 + 60_100);
  t.is(detector.sampleCount, samples + 1);
});

/**
 * A heartbeat every 100 ms with normal jitter (sd 20 ms) and, one time in a thousand, a
 * 250 ms pause of the sender (a GC). The largest phi is reached just before each arrival,
 * since phi grows with silence; it must stay under the threshold for the whole run. Without
 * the 100 ms minimum standard deviation the observed sd (about 20 ms) would make every pause
 * a conviction, so this run does test the floor.
 */
function jitteredRun(seed: number, heartbeats: number): { detector: PhiAccrualDetector; maxPhi: number; lastMs: number; pauses: number } {
  const prng = new Prng(seed);
  const detector = new PhiAccrualDetector({ firstHeartbeatEstimateMs: 100 });
  let nowMs = 0;
  let maxPhi = 0;
  let pauses = 0;
  detector.heartbeat(nowMs);
  for (let i = 0; i < heartbeats; i++) {
    let intervalMs = Math.max(1, 100 + 20 * normal(prng));
    if (prng.chance(0.001)) {
      intervalMs += 250;
      pauses++;
    }
    nowMs += intervalMs;
    maxPhi = Math.max(maxPhi, detector.phi(nowMs));
    detector.heartbeat(nowMs);
  }
  return { detector, maxPhi, lastMs: nowMs, pauses };
}

test('phi: no false suspicion over a simulated hour of jittered heartbeats', (t) => {
  const seed = testSeed(501);
  t.log(`seed ${seed}`);
  const { maxPhi, pauses } = jitteredRun(seed, 36_000);
  t.log(`max phi ${maxPhi.toFixed(3)} over 36000 heartbeats with ${pauses} pauses`);
  t.true(pauses > 0);
  t.true(maxPhi < DEFAULT_PHI_THRESHOLD);
});

test('phi: a stopped heartbeat is detected within mean + 6 sd', (t) => {
  const seed = testSeed(502);
  t.log(`seed ${seed}`);
  const { detector, lastMs } = jitteredRun(seed, 3000);
  let detectedAfterMs = 0;
  while (detector.isAvailable(lastMs + detectedAfterMs)) detectedAfterMs += 1;
  const bound = detector.meanIntervalMs + DETECTION_SD_BOUND * detector.stdDeviationMs;
  t.log(
    `detected after ${detectedAfterMs} ms; mean ${detector.meanIntervalMs.toFixed(1)}, sd ${detector.stdDeviationMs.toFixed(1)}, bound ${bound.toFixed(1)}`,
  );
  t.is(detector.stdDeviationMs, DEFAULT_MIN_STD_DEVIATION_MS);
  t.true(detectedAfterMs > detector.meanIntervalMs);
  t.true(detectedAfterMs <= bound);
});

test('phi: a discounted stall moves the last arrival forward, never past now', (t) => {
  const detector = new PhiAccrualDetector({ firstHeartbeatEstimateMs: 100 });
  for (let i = 0; i <= 10; i++) detector.heartbeat(i * 100);
  detector.discount(3000, 4100);
  t.is(detector.lastHeartbeatMs, 4000);
  t.true(detector.isAvailable(4100));
  detector.discount(3000, 4200);
  t.is(detector.lastHeartbeatMs, 4200);
  const samples = detector.sampleCount;
  detector.heartbeat(4250);
  t.is(detector.sampleCount, samples, 'the interval across a stall is not a sample');
});

test('phi: a clock stepping backwards reads as standing still, not as a failure', (t) => {
  const detector = new PhiAccrualDetector({ firstHeartbeatEstimateMs: 100 });
  for (let i = 0; i <= 10; i++) detector.heartbeat(i * 100);
  detector.heartbeat(900);
  t.is(detector.lastHeartbeatMs, 1000);
  t.is(detector.phi(500), detector.phi(1000));
  t.true(detector.isAvailable(500));
});

test('firstSilenceMs: the silence after the first heartbeat at which a detector convicts', (t) => {
  for (const options of [
    { firstHeartbeatEstimateMs: 100 },
    { firstHeartbeatEstimateMs: 1_000, threshold: 4 },
    { firstHeartbeatEstimateMs: 50, acceptableHeartbeatPauseMs: 200, minStdDeviationMs: 10 },
  ]) {
    const silence = firstSilenceMs(options);
    const d = new PhiAccrualDetector(options);
    d.heartbeat(0);
    t.true(d.isAvailable(silence - 0.05), `${JSON.stringify(options)}: not yet at ${silence - 0.05}`);
    t.false(d.isAvailable(silence), `${JSON.stringify(options)}: convicted at ${silence}`);
  }
  // A cluster's defaults (estimate = interval 100 ms, spread at least 100 ms, threshold 8).
  const defaults = firstSilenceMs({ firstHeartbeatEstimateMs: 100 });
  t.true(defaults > 600 && defaults < 700, `${defaults}`);
});
