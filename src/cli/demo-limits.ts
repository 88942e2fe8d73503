/**
 * The length of `meridian demo`'s workload: its default and range, apart from demo.ts so that
 * the usage (top.ts) says them without loading the cluster's modules.
 */

/** The demo's length by default (DEMO_DEFAULTS). */
export const DEMO_DURATION_MS_DEFAULT = 4_000;
/** The shortest demo: each of its three phases about 100 ms. */
export const DEMO_DURATION_MS_MIN = 300;
/** The longest demo: an hour (its workload runs all along; on threads each phase is a real third of it). */
export const DEMO_DURATION_MS_MAX = 3_600_000;
