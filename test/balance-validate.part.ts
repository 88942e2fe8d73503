import test from 'ava';
import { ConfigError } from '../src/core/errors.js';
import { DEFAULT_ACTIVE_REQUEST_BIAS, DEFAULT_CHOICE_COUNT } from '../src/balance/least-request.js';
import { DEFAULT_OVERPROVISIONING_FACTOR, DEFAULT_PANIC_THRESHOLD_PERCENT } from '../src/balance/locality.js';
import { DEFAULT_MAGLEV_TABLE_SIZE } from '../src/balance/maglev.js';
import { DEFAULT_OUTLIER_OPTIONS } from '../src/balance/outlier.js';
import { DEFAULT_DECAY_TIME_MS } from '../src/balance/peak-ewma.js';
import { DEFAULT_VIRTUAL_NODES } from '../src/balance/ring.js';
import { DEFAULT_STRATEGY, validateBalancerConfig } from '../src/balance/validate.js';

test('balancer config: defaults are filled in and named', (t) => {
  t.deepEqual(validateBalancerConfig(undefined), {
    strategy: DEFAULT_STRATEGY,
    weights: {},
    choiceCount: DEFAULT_CHOICE_COUNT,
    activeRequestBias: DEFAULT_ACTIVE_REQUEST_BIAS,
    virtualNodes: DEFAULT_VIRTUAL_NODES,
    maglevTableSize: DEFAULT_MAGLEV_TABLE_SIZE,
    decayTimeMs: DEFAULT_DECAY_TIME_MS,
    locality: { overprovisioningFactor: DEFAULT_OVERPROVISIONING_FACTOR, panicThresholdPercent: DEFAULT_PANIC_THRESHOLD_PERCENT, priority: [] },
    outlier: { ...DEFAULT_OUTLIER_OPTIONS },
    dynamicWeights: false,
  });
  t.true(validateBalancerConfig({ strategy: 'random', dynamicWeights: true }).dynamicWeights);
  t.throws(() => validateBalancerConfig({ dynamicWeights: 'yes' }), { message: /balancer\.dynamicWeights/ });
});

test('balancer config: good configs pass through', (t) => {
  const config = validateBalancerConfig({
    strategy: 'consistent-hash',
    weights: { 'us-east/0': 2, 'eu-west/1': 0.5 },
    virtualNodes: 200,
    boundedLoadFactor: 1.25,
    locality: { priority: ['eu-west', ['ap-south', 'us-west']], panicThresholdPercent: 0, overprovisioningFactor: 1 },
    outlier: { consecutiveFailures: 3, maxEjectionPercent: 100 },
  });
  t.is(config.strategy, 'consistent-hash');
  t.deepEqual(config.weights, { 'us-east/0': 2, 'eu-west/1': 0.5 });
  t.is(config.boundedLoadFactor, 1.25);
  t.deepEqual(config.locality.priority, [['eu-west'], ['ap-south', 'us-west']]);
  t.like(config.outlier, { consecutiveFailures: 3, maxEjectionPercent: 100, baseEjectionTimeMs: DEFAULT_OUTLIER_OPTIONS.baseEjectionTimeMs });
  t.is(validateBalancerConfig({ strategy: 'maglev', maglevTableSize: 5003 }).maglevTableSize, 5003);
  t.is(validateBalancerConfig({ outlier: false }).outlier, null);
});

const bad: [string, unknown, string][] = [
  ['not an object', 'round-robin', 'balancer'],
  ['unknown strategy', { strategy: 'fastest' }, 'balancer.strategy'],
  ['strategy of the wrong type', { strategy: 3 }, 'balancer.strategy'],
  ['unknown key', { strategy: 'random', retries: 3 }, 'balancer.retries'],
  ['zero weight', { strategy: 'random', weights: { 'us-east/0': 0 } }, 'balancer.weights["us-east/0"]'],
  ['negative weight', { strategy: 'random', weights: { 'us-east/0': -1 } }, 'balancer.weights["us-east/0"]'],
  ['infinite weight', { strategy: 'random', weights: { 'us-east/1': Infinity } }, 'balancer.weights["us-east/1"]'],
  ['NaN weight', { strategy: 'random', weights: { 'us-east/1': NaN } }, 'balancer.weights["us-east/1"]'],
  ['weight as a string', { strategy: 'random', weights: { 'us-east/1': '2' } }, 'balancer.weights["us-east/1"]'],
  ['weights not an object', { strategy: 'random', weights: [1, 2] }, 'balancer.weights'],
  ['weights with plain round-robin', { weights: { a: 1 } }, 'balancer.weights'],
  ['maglev option with another strategy', { strategy: 'random', maglevTableSize: 5003 }, 'balancer.maglevTableSize'],
  ['non-prime table size', { strategy: 'maglev', maglevTableSize: 65_536 }, 'balancer.maglevTableSize'],
  ['fractional virtual nodes', { strategy: 'consistent-hash', virtualNodes: 1.5 }, 'balancer.virtualNodes'],
  ['bounded load below 1', { strategy: 'consistent-hash', boundedLoadFactor: 0.9 }, 'balancer.boundedLoadFactor'],
  ['one choice', { strategy: 'least-request', choiceCount: 1 }, 'balancer.choiceCount'],
  ['negative bias', { strategy: 'least-request', activeRequestBias: -1 }, 'balancer.activeRequestBias'],
  ['zero decay time', { strategy: 'least-latency', decayTimeMs: 0 }, 'balancer.decayTimeMs'],
  ['locality not an object', { locality: 'near' }, 'balancer.locality'],
  ['unknown locality key', { locality: { zone: 'a' } }, 'balancer.locality.zone'],
  ['overprovisioning below 1', { locality: { overprovisioningFactor: 0.5 } }, 'balancer.locality.overprovisioningFactor'],
  ['panic threshold over 100', { locality: { panicThresholdPercent: 101 } }, 'balancer.locality.panicThresholdPercent'],
  ['priority not an array', { locality: { priority: 'eu-west' } }, 'balancer.locality.priority'],
  ['empty region name', { locality: { priority: ['eu-west', ''] } }, 'balancer.locality.priority[1]'],
  ['region in a group of the wrong type', { locality: { priority: [['a', 7]] } }, 'balancer.locality.priority[0][1]'],
  ['duplicate region', { locality: { priority: ['a', ['b', 'a']] } }, 'balancer.locality.priority[1][1]'],
  ['empty level', { locality: { priority: [[]] } }, 'balancer.locality.priority[0]'],
  ['outlier of the wrong type', { outlier: true }, 'balancer.outlier'],
  ['unknown outlier key', { outlier: { interval: 1 } }, 'balancer.outlier.interval'],
  ['fractional failure count', { outlier: { consecutiveFailures: 2.5 } }, 'balancer.outlier.consecutiveFailures'],
  ['zero base ejection time', { outlier: { baseEjectionTimeMs: 0 } }, 'balancer.outlier.baseEjectionTimeMs'],
  ['max ejection below base', { outlier: { baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 5_000 } }, 'balancer.outlier.maxEjectionTimeMs'],
  ['ejection percent over 100', { outlier: { maxEjectionPercent: 150 } }, 'balancer.outlier.maxEjectionPercent'],
];

for (const [what, config, field] of bad) {
  test(`balancer config: ${what} is a ConfigError naming ${field}`, (t) => {
    const error = t.throws(() => validateBalancerConfig(config), { instanceOf: ConfigError });
    t.is(error?.field, field);
    t.is(error?.code, 'CONFIG');
    t.true(error?.message.startsWith(`config.${field}: expected `), error?.message);
  });
}

test("balancer config: the path prefix is the caller's", (t) => {
  const error = t.throws(() => validateBalancerConfig({ strategy: 'x' }, 'regions[0].balancer'), { instanceOf: ConfigError });
  t.is(error?.field, 'regions[0].balancer.strategy');
  t.true(error?.message.includes("'least-latency'"));
});
