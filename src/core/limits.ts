/** Named limits. Every queue, batch, size and retry count has one (TigerBeetle's rule). */
export const MESSAGE_BYTES_MAX_DEFAULT = 1024 * 1024;
export const MAILBOX_CAPACITY_DEFAULT = 10_000;
/**
 * A frame is flushed early once it holds this many bytes. Small frames let the receiving
 * thread start while the sender is still working (measured here: small frames move about
 * 2x the messages of 256 KiB frames between two busy actors; 2 KiB did best of 2-32).
 */
export const FRAME_BYTES_FLUSH = 2 * 1024;
/** Messages handled per host per scheduling turn before yielding to the event loop. */
export const DRAIN_BUDGET_MESSAGES = 4_096;
export const REQUEST_TIMEOUT_MS_DEFAULT = 5_000;
export const RESTART_BACKOFF_MS_BASE = 10;
export const RESTART_BACKOFF_MS_MAX = 2_000;
/** Errors kept per host for reporting; older ones are counted but not kept. */
export const ERRORS_KEPT_MAX = 100;
export const KEY_BYTES_MAX = 1024;
export const VALUE_BYTES_MAX = 64 * 1024;
export const HOST_READY_TIMEOUT_MS = 20_000;
export const TIMERS_PER_ACTOR_MAX = 10_000;
