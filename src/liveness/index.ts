export {
  DEFAULT_ACCEPTABLE_HEARTBEAT_PAUSE_MS,
  DEFAULT_FIRST_HEARTBEAT_ESTIMATE_MS,
  DEFAULT_MAX_SAMPLE_SIZE,
  DEFAULT_MIN_STD_DEVIATION_MS,
  DEFAULT_PHI_OPTIONS,
  DEFAULT_PHI_THRESHOLD,
  HeartbeatHistory,
  PhiAccrualDetector,
  phiOf,
} from './phi.js';
export type { PhiOptions } from './phi.js';
export { DEFAULT_STALL_FACTOR, StallDetector } from './stall.js';
export type { StallOptions } from './stall.js';
export { Membership } from './membership.js';
export type { ChangeReason, MemberState, MemberView, MembershipChange, MembershipOptions } from './membership.js';
export { DEFAULT_HEARTBEAT_INTERVAL_MS, MAX_HEARTBEAT_INTERVAL_MS, MAX_PHI_THRESHOLD, MIN_HEARTBEAT_INTERVAL_MS, validateHeartbeatConfig } from './validate.js';
export type { HeartbeatConfig } from './validate.js';
