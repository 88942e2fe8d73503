import test from 'ava';
import { ConfigError } from '../src/core/errors.js';
import { DEFAULT_ACCEPTABLE_HEARTBEAT_PAUSE_MS, DEFAULT_MAX_SAMPLE_SIZE, DEFAULT_MIN_STD_DEVIATION_MS, DEFAULT_PHI_THRESHOLD } from '../src/liveness/phi.js';
import { DEFAULT_STALL_FACTOR } from '../src/liveness/stall.js';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, validateHeartbeatConfig } from '../src/liveness/validate.js';

test('heartbeat config: defaults are filled in and named', (t) => {
  t.deepEqual(validateHeartbeatConfig(undefined), {
    intervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
    phiThreshold: DEFAULT_PHI_THRESHOLD,
    suspectThreshold: DEFAULT_PHI_THRESHOLD / 2,
    maxSampleSize: DEFAULT_MAX_SAMPLE_SIZE,
    minStdDeviationMs: DEFAULT_MIN_STD_DEVIATION_MS,
    acceptableHeartbeatPauseMs: DEFAULT_ACCEPTABLE_HEARTBEAT_PAUSE_MS,
    firstHeartbeatEstimateMs: DEFAULT_HEARTBEAT_INTERVAL_MS,
    stallFactor: DEFAULT_STALL_FACTOR,
  });
  const config = validateHeartbeatConfig({ intervalMs: 250, phiThreshold: 12, acceptableHeartbeatPauseMs: 500 });
  t.like(config, { intervalMs: 250, phiThreshold: 12, suspectThreshold: 6, firstHeartbeatEstimateMs: 250, acceptableHeartbeatPauseMs: 500 });
});

const bad: [string, unknown, string][] = [
  ['not an object', 100, 'heartbeat'],
  ['an array', [], 'heartbeat'],
  ['unknown key', { timeoutMs: 5 }, 'heartbeat.timeoutMs'],
  ['zero interval', { intervalMs: 0 }, 'heartbeat.intervalMs'],
  ['negative interval', { intervalMs: -100 }, 'heartbeat.intervalMs'],
  ['infinite interval', { intervalMs: Infinity }, 'heartbeat.intervalMs'],
  ['interval as a string', { intervalMs: '100' }, 'heartbeat.intervalMs'],
  ['zero threshold', { phiThreshold: 0 }, 'heartbeat.phiThreshold'],
  ['negative threshold', { phiThreshold: -8 }, 'heartbeat.phiThreshold'],
  ['NaN threshold', { phiThreshold: NaN }, 'heartbeat.phiThreshold'],
  ['suspect above down', { phiThreshold: 8, suspectThreshold: 9 }, 'heartbeat.suspectThreshold'],
  ['zero suspect threshold', { suspectThreshold: 0 }, 'heartbeat.suspectThreshold'],
  // Below these, an idle healthy cluster read every server down (0.01 to 0.3) or suspect (0.5).
  ['threshold under 1', { phiThreshold: 0.3 }, 'heartbeat.phiThreshold'],
  ['suspect threshold under 0.5', { phiThreshold: 8, suspectThreshold: 0.25 }, 'heartbeat.suspectThreshold'],
  ['fractional window', { maxSampleSize: 10.5 }, 'heartbeat.maxSampleSize'],
  ['window of one', { maxSampleSize: 1 }, 'heartbeat.maxSampleSize'],
  ['zero min sd', { minStdDeviationMs: 0 }, 'heartbeat.minStdDeviationMs'],
  ['negative pause', { acceptableHeartbeatPauseMs: -1 }, 'heartbeat.acceptableHeartbeatPauseMs'],
  ['zero first estimate', { firstHeartbeatEstimateMs: 0 }, 'heartbeat.firstHeartbeatEstimateMs'],
  ['stall factor of 1', { stallFactor: 1 }, 'heartbeat.stallFactor'],
];

for (const [what, config, field] of bad) {
  test(`heartbeat config: ${what} is a ConfigError naming ${field}`, (t) => {
    const error = t.throws(() => validateHeartbeatConfig(config), { instanceOf: ConfigError });
    t.is(error?.field, field);
    t.true(error?.message.startsWith(`config.${field}: expected `), error?.message);
  });
}
