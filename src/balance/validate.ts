import { ConfigError } from '../core/errors.js';
import { numberIn, type NumberRule } from '../core/validate.js';
import { MAX_CHOICE_COUNT, DEFAULT_ACTIVE_REQUEST_BIAS, DEFAULT_CHOICE_COUNT } from './least-request.js';
import { DEFAULT_OVERPROVISIONING_FACTOR, DEFAULT_PANIC_THRESHOLD_PERCENT } from './locality.js';
import { DEFAULT_MAGLEV_TABLE_SIZE, MAX_MAGLEV_TABLE_SIZE, MIN_MAGLEV_TABLE_SIZE, isPrime } from './maglev.js';
import { DEFAULT_OUTLIER_OPTIONS, type OutlierOptions } from './outlier.js';
import { DEFAULT_DECAY_TIME_MS } from './peak-ewma.js';
import { DEFAULT_VIRTUAL_NODES, MAX_VIRTUAL_NODES } from './ring.js';
import { STRATEGY_NAMES, type StrategyName } from './types.js';

/**
 * Validation of the `balancer` section of a cluster config. Every problem throws a ConfigError
 * naming the field by its path ('balancer.strategy', 'balancer.weights["us-east/0"]') and
 * what would be accepted. The result is complete: every default is filled in.
 *
 * Options that only one strategy reads are refused with any other strategy: a
 * `maglevTableSize` beside `strategy: 'round-robin'` is a config that does not do what its
 * author thinks, and saying so beats ignoring it.
 */

export const DEFAULT_STRATEGY: StrategyName = 'round-robin';
/** Weights above this are almost surely a unit mistake (and would swell the hash ring). */
export const MAX_WEIGHT = 1_000_000;
export const MAX_OVERPROVISIONING_FACTOR = 10;
/** Bounded loads above this factor hardly bound anything. */
export const MAX_BOUNDED_LOAD_FACTOR = 100;
export const MAX_ACTIVE_REQUEST_BIAS = 10;
/** One hour; the peak-EWMA decay time is seconds in practice. */
export const MAX_DECAY_TIME_MS = 3_600_000;
export const MAX_CONSECUTIVE_FAILURES = 1_000;
/** One day. */
export const MAX_EJECTION_TIME_MS = 86_400_000;

/** A type alias, not an interface, so that it is assignable to Record<string, unknown>. */
export type LocalityConfig = {
  overprovisioningFactor: number;
  panicThresholdPercent: number;
  /** Failover order after the home region, one array per priority level; [] = by name. */
  priority: string[][];
};

export type BalancerConfig = {
  strategy: StrategyName;
  /** Server id -> weight; servers not listed weigh DEFAULT_WEIGHT. */
  weights: Record<string, number>;
  choiceCount: number;
  activeRequestBias: number;
  virtualNodes: number;
  /** Present only when bounded loads are on. */
  boundedLoadFactor?: number;
  maglevTableSize: number;
  decayTimeMs: number;
  locality: LocalityConfig;
  /** null when outlier ejection is turned off (`outlier: false`). */
  outlier: OutlierOptions | null;
  /** Scale weights by the load servers report on their heartbeats (busy time, mailbox backlog). */
  dynamicWeights: boolean;
};

export const DEFAULT_LOCALITY_CONFIG: Readonly<LocalityConfig> = Object.freeze({
  overprovisioningFactor: DEFAULT_OVERPROVISIONING_FACTOR,
  panicThresholdPercent: DEFAULT_PANIC_THRESHOLD_PERCENT,
  priority: [],
});

/** Which strategy reads each strategy-specific option. */
const OPTION_OWNERS: Readonly<Record<string, readonly StrategyName[]>> = {
  choiceCount: ['least-request'],
  activeRequestBias: ['least-request'],
  virtualNodes: ['consistent-hash'],
  boundedLoadFactor: ['consistent-hash'],
  maglevTableSize: ['maglev'],
  decayTimeMs: ['least-latency'],
  weights: STRATEGY_NAMES.filter((name) => name !== 'round-robin'),
  // It scales the weights by reported load: round-robin, which ignores weights, would ignore it.
  dynamicWeights: STRATEGY_NAMES.filter((name) => name !== 'round-robin'),
};

const BALANCER_KEYS = ['strategy', 'locality', 'outlier', ...Object.keys(OPTION_OWNERS)];
const LOCALITY_KEYS = ['overprovisioningFactor', 'panicThresholdPercent', 'priority'];
const OUTLIER_KEYS = Object.keys(DEFAULT_OUTLIER_OPTIONS);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ConfigError(`${path}.${key}`, `one of the keys ${allowed.join(', ')}`, key);
  }
}

function validateWeights(raw: unknown, path: string): Record<string, number> {
  if (!isRecord(raw)) throw new ConfigError(path, 'an object mapping server ids to weights', raw);
  const weights: Record<string, number> = {};
  for (const [id, weight] of Object.entries(raw)) {
    const field = `${path}[${JSON.stringify(id)}]`;
    if (id.length === 0) throw new ConfigError(field, 'a non-empty server id', id);
    weights[id] = numberIn(weight, field, { min: 0, minExclusive: true, max: MAX_WEIGHT });
  }
  return weights;
}

function validateLocality(raw: unknown, path: string): LocalityConfig {
  if (raw === undefined) return { ...DEFAULT_LOCALITY_CONFIG, priority: [] };
  if (!isRecord(raw)) throw new ConfigError(path, 'an object', raw);
  checkKeys(raw, LOCALITY_KEYS, path);
  const overprovisioningFactor =
    raw['overprovisioningFactor'] === undefined
      ? DEFAULT_OVERPROVISIONING_FACTOR
      : numberIn(raw['overprovisioningFactor'], `${path}.overprovisioningFactor`, { min: 1, max: MAX_OVERPROVISIONING_FACTOR });
  const panicThresholdPercent =
    raw['panicThresholdPercent'] === undefined
      ? DEFAULT_PANIC_THRESHOLD_PERCENT
      : numberIn(raw['panicThresholdPercent'], `${path}.panicThresholdPercent`, { min: 0, max: 100 });
  const priority: string[][] = [];
  const rawPriority = raw['priority'];
  if (rawPriority !== undefined) {
    const field = `${path}.priority`;
    const allowed = 'an array of region names or arrays of region names (one per priority level)';
    if (!Array.isArray(rawPriority)) throw new ConfigError(field, allowed, rawPriority);
    const seen = new Set<string>();
    // Array.from, not forEach and map: they skip holes (`priority: [, 'b']` was taken as ['b']).
    Array.from(rawPriority, (entry: unknown, i) => {
      const group: unknown[] = Array.isArray(entry) ? entry : [entry];
      if (group.length === 0) throw new ConfigError(`${field}[${i}]`, 'a region name or a non-empty array of region names', entry);
      priority.push(
        Array.from(group, (region, k) => {
          const at = Array.isArray(entry) ? `${field}[${i}][${k}]` : `${field}[${i}]`;
          if (typeof region !== 'string' || region.length === 0) throw new ConfigError(at, 'a non-empty region name', region);
          if (seen.has(region)) throw new ConfigError(at, 'a region listed only once', region);
          seen.add(region);
          return region;
        }),
      );
    });
  }
  return { overprovisioningFactor, panicThresholdPercent, priority };
}

function validateOutlier(raw: unknown, path: string): OutlierOptions | null {
  if (raw === false) return null;
  if (raw === undefined) return { ...DEFAULT_OUTLIER_OPTIONS };
  if (!isRecord(raw)) throw new ConfigError(path, 'an object, or false to turn outlier ejection off', raw);
  checkKeys(raw, OUTLIER_KEYS, path);
  const pick = (key: keyof OutlierOptions, rule: NumberRule): number =>
    raw[key] === undefined ? DEFAULT_OUTLIER_OPTIONS[key] : numberIn(raw[key], `${path}.${key}`, rule);
  const options: OutlierOptions = {
    consecutiveFailures: pick('consecutiveFailures', { min: 1, max: MAX_CONSECUTIVE_FAILURES, integer: true }),
    baseEjectionTimeMs: pick('baseEjectionTimeMs', { min: 0, minExclusive: true, max: MAX_EJECTION_TIME_MS }),
    maxEjectionTimeMs: pick('maxEjectionTimeMs', { min: 0, minExclusive: true, max: MAX_EJECTION_TIME_MS }),
    maxEjectionPercent: pick('maxEjectionPercent', { min: 0, max: 100 }),
    ejectionDecayMs: pick('ejectionDecayMs', { min: 0, minExclusive: true, max: MAX_EJECTION_TIME_MS }),
  };
  if (options.maxEjectionTimeMs < options.baseEjectionTimeMs) {
    throw new ConfigError(`${path}.maxEjectionTimeMs`, `a number >= baseEjectionTimeMs (${options.baseEjectionTimeMs})`, options.maxEjectionTimeMs);
  }
  return options;
}

/** Validate the `balancer` section (undefined means all defaults); `path` prefixes field names. */
export function validateBalancerConfig(raw: unknown, path = 'balancer'): BalancerConfig {
  if (raw === undefined) raw = {};
  if (!isRecord(raw)) throw new ConfigError(path, 'an object', raw);
  checkKeys(raw, BALANCER_KEYS, path);

  let strategy = DEFAULT_STRATEGY;
  if (raw['strategy'] !== undefined) {
    const value = raw['strategy'];
    if (typeof value !== 'string' || !(STRATEGY_NAMES as readonly string[]).includes(value)) {
      throw new ConfigError(`${path}.strategy`, `one of ${STRATEGY_NAMES.map((name) => `'${name}'`).join(', ')}`, value);
    }
    strategy = value as StrategyName;
  }
  for (const [option, owners] of Object.entries(OPTION_OWNERS)) {
    if (raw[option] !== undefined && !owners.includes(strategy)) {
      throw new ConfigError(
        `${path}.${option}`,
        `no value with strategy '${strategy}' (it is read only by ${owners.map((o) => `'${o}'`).join(', ')})`,
        raw[option],
      );
    }
  }

  const config: BalancerConfig = {
    strategy,
    weights: raw['weights'] === undefined ? {} : validateWeights(raw['weights'], `${path}.weights`),
    choiceCount:
      raw['choiceCount'] === undefined
        ? DEFAULT_CHOICE_COUNT
        : numberIn(raw['choiceCount'], `${path}.choiceCount`, { min: 2, max: MAX_CHOICE_COUNT, integer: true }),
    activeRequestBias:
      raw['activeRequestBias'] === undefined
        ? DEFAULT_ACTIVE_REQUEST_BIAS
        : numberIn(raw['activeRequestBias'], `${path}.activeRequestBias`, { min: 0, max: MAX_ACTIVE_REQUEST_BIAS }),
    virtualNodes:
      raw['virtualNodes'] === undefined
        ? DEFAULT_VIRTUAL_NODES
        : numberIn(raw['virtualNodes'], `${path}.virtualNodes`, { min: 1, max: MAX_VIRTUAL_NODES, integer: true }),
    maglevTableSize: DEFAULT_MAGLEV_TABLE_SIZE,
    decayTimeMs:
      raw['decayTimeMs'] === undefined
        ? DEFAULT_DECAY_TIME_MS
        : numberIn(raw['decayTimeMs'], `${path}.decayTimeMs`, { min: 0, minExclusive: true, max: MAX_DECAY_TIME_MS }),
    locality: validateLocality(raw['locality'], `${path}.locality`),
    outlier: validateOutlier(raw['outlier'], `${path}.outlier`),
    dynamicWeights: false,
  };
  if (raw['dynamicWeights'] !== undefined) {
    if (typeof raw['dynamicWeights'] !== 'boolean') throw new ConfigError(`${path}.dynamicWeights`, 'true or false', raw['dynamicWeights']);
    config.dynamicWeights = raw['dynamicWeights'];
  }
  if (raw['boundedLoadFactor'] !== undefined) {
    config.boundedLoadFactor = numberIn(raw['boundedLoadFactor'], `${path}.boundedLoadFactor`, { min: 1, max: MAX_BOUNDED_LOAD_FACTOR });
  }
  if (raw['maglevTableSize'] !== undefined) {
    const field = `${path}.maglevTableSize`;
    const size = numberIn(raw['maglevTableSize'], field, { min: MIN_MAGLEV_TABLE_SIZE, max: MAX_MAGLEV_TABLE_SIZE, integer: true });
    if (!isPrime(size)) throw new ConfigError(field, `a prime number between ${MIN_MAGLEV_TABLE_SIZE} and ${MAX_MAGLEV_TABLE_SIZE}`, size);
    config.maglevTableSize = size;
  }
  return config;
}
