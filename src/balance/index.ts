export { DEFAULT_WEIGHT, STRATEGY_NAMES } from './types.js';
export type { Endpoint, PickRequest, Strategy, StrategyName } from './types.js';
export { createStrategy } from './strategy.js';
export type { StrategyOptions } from './strategy.js';
export { hash32 } from './hash.js';
export { createRandom } from './random.js';
export { createRoundRobin } from './round-robin.js';
export { createWeightedRoundRobin } from './weighted-round-robin.js';
export { DEFAULT_ACTIVE_REQUEST_BIAS, DEFAULT_CHOICE_COUNT, MAX_CHOICE_COUNT, createLeastRequest } from './least-request.js';
export { DEFAULT_VIRTUAL_NODES, HashRing, MAX_RING_SIZE, MAX_VIRTUAL_NODES } from './ring.js';
export { SUGGESTED_BOUNDED_LOAD_FACTOR, boundedLoadCap, createConsistentHash } from './consistent-hash.js';
export { DEFAULT_MAGLEV_TABLE_SIZE, MAX_MAGLEV_TABLE_SIZE, MIN_MAGLEV_TABLE_SIZE, buildMaglevTable, createMaglev, isPrime } from './maglev.js';
export { DEFAULT_DECAY_TIME_MS, decayedPeakEwma, observePeakEwma } from './peak-ewma.js';
export { UNKNOWN_LATENCY_PENALTY, createLeastLatency } from './least-latency.js';
export { DEFAULT_OVERPROVISIONING_FACTOR, DEFAULT_PANIC_THRESHOLD_PERCENT, pickRegion, planLocality } from './locality.js';
export type { LocalityInput, LocalityPlan, PriorityLevel, RegionChoice, RegionHealth } from './locality.js';
export {
  DEFAULT_BASE_EJECTION_TIME_MS,
  DEFAULT_CONSECUTIVE_FAILURES,
  DEFAULT_EJECTION_DECAY_MS,
  DEFAULT_MAX_EJECTION_PERCENT,
  DEFAULT_MAX_EJECTION_TIME_MS,
  DEFAULT_OUTLIER_OPTIONS,
  OutlierDetector,
} from './outlier.js';
export type { OutlierEvent, OutlierOptions } from './outlier.js';
export { DEFAULT_LOCALITY_CONFIG, DEFAULT_STRATEGY, MAX_WEIGHT, validateBalancerConfig } from './validate.js';
export type { BalancerConfig, LocalityConfig } from './validate.js';
