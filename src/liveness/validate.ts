import { ConfigError } from '../core/errors.js';
import { numberIn, type NumberRule } from '../core/validate.js';
import { DEFAULT_ACCEPTABLE_HEARTBEAT_PAUSE_MS, DEFAULT_MAX_SAMPLE_SIZE, DEFAULT_MIN_STD_DEVIATION_MS, DEFAULT_PHI_THRESHOLD } from './phi.js';
import { DEFAULT_STALL_FACTOR } from './stall.js';

/**
 * Validation of the `heartbeat` section of a cluster config. Every problem throws a
 * ConfigError naming the field ('heartbeat.intervalMs') and what would be accepted; the
 * result has every default filled in.
 */

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 100;
/** Below 1 ms a heartbeat stream is a busy loop, not a liveness signal. */
export const MIN_HEARTBEAT_INTERVAL_MS = 1;
export const MAX_HEARTBEAT_INTERVAL_MS = 60_000;
/** phi 1000 would need a silence of tens of standard deviations; nobody means that. */
export const MAX_PHI_THRESHOLD = 1000;
/**
 * The lowest thresholds taken. One heartbeat interval after the last heartbeat, phi is already
 * about log10(2) = 0.3: below these, healthy servers read suspect (or down) all the time. Were
 * above 0 (found by an audit, session 54: 0.01 to 0.3 had every server of an idle cluster down
 * at every sample, 0.5 every one suspect).
 */
export const MIN_PHI_THRESHOLD = 1;
export const MIN_SUSPECT_THRESHOLD = 0.5;
export const MAX_SAMPLE_SIZE_LIMIT = 100_000;
/** One hour, for pauses and estimates alike. */
export const MAX_DURATION_MS = 3_600_000;
export const MAX_STALL_FACTOR = 1000;

export type HeartbeatConfig = {
  /** How often each server sends a heartbeat, and how often monitors check. */
  intervalMs: number;
  /** phi at which a node is convicted 'down'. */
  phiThreshold: number;
  /** phi at which a node becomes 'suspect'; defaults to phiThreshold / 2. */
  suspectThreshold: number;
  maxSampleSize: number;
  minStdDeviationMs: number;
  acceptableHeartbeatPauseMs: number;
  /** Defaults to intervalMs: the sender's own schedule is the best first guess. */
  firstHeartbeatEstimateMs: number;
  stallFactor: number;
};

const KEYS = [
  'intervalMs',
  'phiThreshold',
  'suspectThreshold',
  'maxSampleSize',
  'minStdDeviationMs',
  'acceptableHeartbeatPauseMs',
  'firstHeartbeatEstimateMs',
  'stallFactor',
] as const;

/** Validate the `heartbeat` section (undefined means all defaults); `path` prefixes field names. */
export function validateHeartbeatConfig(raw: unknown, path = 'heartbeat'): HeartbeatConfig {
  if (raw === undefined) raw = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(path, 'an object', raw);
  const input = raw as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!(KEYS as readonly string[]).includes(key)) throw new ConfigError(`${path}.${key}`, `one of the keys ${KEYS.join(', ')}`, key);
  }
  const get = (key: (typeof KEYS)[number], fallback: number, rule: NumberRule): number =>
    input[key] === undefined ? fallback : numberIn(input[key], `${path}.${key}`, rule);

  const intervalMs = get('intervalMs', DEFAULT_HEARTBEAT_INTERVAL_MS, { min: MIN_HEARTBEAT_INTERVAL_MS, max: MAX_HEARTBEAT_INTERVAL_MS });
  const phiThreshold = get('phiThreshold', DEFAULT_PHI_THRESHOLD, { min: MIN_PHI_THRESHOLD, max: MAX_PHI_THRESHOLD });
  const suspectThreshold = get('suspectThreshold', phiThreshold / 2, { min: MIN_SUSPECT_THRESHOLD, max: MAX_PHI_THRESHOLD });
  if (suspectThreshold > phiThreshold) {
    throw new ConfigError(`${path}.suspectThreshold`, `a number from ${MIN_SUSPECT_THRESHOLD} to phiThreshold (${phiThreshold})`, suspectThreshold);
  }
  return {
    intervalMs,
    phiThreshold,
    suspectThreshold,
    maxSampleSize: get('maxSampleSize', DEFAULT_MAX_SAMPLE_SIZE, { min: 2, max: MAX_SAMPLE_SIZE_LIMIT, integer: true }),
    minStdDeviationMs: get('minStdDeviationMs', DEFAULT_MIN_STD_DEVIATION_MS, { min: 0, minExclusive: true, max: MAX_DURATION_MS }),
    acceptableHeartbeatPauseMs: get('acceptableHeartbeatPauseMs', DEFAULT_ACCEPTABLE_HEARTBEAT_PAUSE_MS, { min: 0, max: MAX_DURATION_MS }),
    firstHeartbeatEstimateMs: get('firstHeartbeatEstimateMs', intervalMs, { min: 0, minExclusive: true, max: MAX_DURATION_MS }),
    stallFactor: get('stallFactor', DEFAULT_STALL_FACTOR, { min: 1, minExclusive: true, max: MAX_STALL_FACTOR }),
  };
}
