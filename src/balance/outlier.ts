import { assert } from '../core/assert.js';

/**
 * Passive outlier ejection, after Envoy's outlier detection (consecutive 5xx): a server that
 * fails `consecutiveFailures` requests in a row is taken out of rotation for
 * baseEjectionTimeMs * (times ejected), at most maxEjectionTimeMs. A server that then stays
 * in for `ejectionDecayMs` at a stretch has its ejection count lowered by one, so a server that
 * failed once long ago is not punished as a repeat offender.
 *
 * Never more than maxEjectionPercent of the known servers are out at once: when the failures
 * are everywhere the fault is more likely the caller's or the network's, and ejecting more
 * would only pile the load on fewer servers. A server refused ejection by that cap keeps its
 * failure streak, so its next failure tries again once room has freed up.
 * The cap is not rounded up (Envoy's default; its `always_eject_one_host` is not mirrored): below
 * 100 / servers nothing is ever ejected, which the cluster refuses for a section given
 * (src/cluster/validate-parts.ts).
 *
 * Time is an argument; nothing here reads a clock.
 */

export const DEFAULT_CONSECUTIVE_FAILURES = 5;
export const DEFAULT_BASE_EJECTION_TIME_MS = 30_000;
/** Envoy's default max_ejection_time, 300 s. */
export const DEFAULT_MAX_EJECTION_TIME_MS = 300_000;
export const DEFAULT_MAX_EJECTION_PERCENT = 50;
/** Envoy's detection interval, after which a healthy server's ejection count drops by one. */
export const DEFAULT_EJECTION_DECAY_MS = 10_000;

export type OutlierOptions = {
  consecutiveFailures: number;
  baseEjectionTimeMs: number;
  maxEjectionTimeMs: number;
  maxEjectionPercent: number;
  ejectionDecayMs: number;
};

export const DEFAULT_OUTLIER_OPTIONS: Readonly<OutlierOptions> = Object.freeze({
  consecutiveFailures: DEFAULT_CONSECUTIVE_FAILURES,
  baseEjectionTimeMs: DEFAULT_BASE_EJECTION_TIME_MS,
  maxEjectionTimeMs: DEFAULT_MAX_EJECTION_TIME_MS,
  maxEjectionPercent: DEFAULT_MAX_EJECTION_PERCENT,
  ejectionDecayMs: DEFAULT_EJECTION_DECAY_MS,
});

export type OutlierEvent =
  | { readonly type: 'ejected'; readonly id: string; readonly untilMs: number; readonly ejections: number }
  | { readonly type: 'returned'; readonly id: string; readonly atMs: number }
  /** Ejection was due but the maxEjectionPercent cap was reached. */
  | { readonly type: 'ejection-capped'; readonly id: string; readonly ejected: number };

interface ServerState {
  failures: number;
  ejections: number;
  /** Set while ejected: when the server comes back. */
  ejectedUntilMs: number | undefined;
  /** Since when the ejection count has been decaying (the server is in rotation). */
  decayFromMs: number | undefined;
}

/** The answer when nothing happened: shared, frozen (callers only read it). */
const NO_EVENTS: readonly OutlierEvent[] = Object.freeze([]);

export class OutlierDetector {
  readonly options: Readonly<OutlierOptions>;
  private readonly servers = new Map<string, ServerState>();
  private ejectedCount = 0;

  constructor(options: Partial<OutlierOptions> = {}) {
    this.options = { ...DEFAULT_OUTLIER_OPTIONS, ...options };
    const o = this.options;
    assert(Number.isInteger(o.consecutiveFailures) && o.consecutiveFailures >= 1, 'consecutiveFailures is a positive integer');
    assert(o.baseEjectionTimeMs > 0 && o.maxEjectionTimeMs >= o.baseEjectionTimeMs, '0 < baseEjectionTimeMs <= maxEjectionTimeMs');
    assert(o.maxEjectionPercent >= 0 && o.maxEjectionPercent <= 100, 'maxEjectionPercent in [0, 100]');
    assert(o.ejectionDecayMs > 0, 'ejectionDecayMs > 0');
  }

  /**
   * Declare the full server set; the ejection cap is a percentage of it. Servers not listed
   * are forgotten (a forgotten ejected server frees its place under the cap).
   */
  setServers(ids: readonly string[]): void {
    const keep = new Set(ids);
    for (const [id, state] of this.servers) {
      if (keep.has(id)) continue;
      if (state.ejectedUntilMs !== undefined) this.ejectedCount--;
      this.servers.delete(id);
    }
    for (const id of ids) this.stateOf(id);
  }

  /**
   * Record the outcome of one request. Results from a server while it is ejected (requests
   * that were in flight when it went out) are ignored. Returns what changed, returns of
   * servers whose time is up first.
   */
  onResult(id: string, ok: boolean, nowMs: number): readonly OutlierEvent[] {
    const returned = this.tick(nowMs);
    const state = this.stateOf(id);
    // Most results change nothing: they share one empty list (tick's), with no allocation.
    if (ok || state.ejectedUntilMs !== undefined) {
      if (state.ejectedUntilMs === undefined) state.failures = 0;
      return returned;
    }
    const events = returned.length === 0 ? [] : (returned as OutlierEvent[]);
    state.failures++;
    if (state.failures < this.options.consecutiveFailures) return events;
    if ((this.ejectedCount + 1) * 100 > this.options.maxEjectionPercent * this.servers.size) {
      events.push({ type: 'ejection-capped', id, ejected: this.ejectedCount });
      return events;
    }
    this.decay(state, nowMs);
    state.ejections++;
    state.failures = 0;
    state.decayFromMs = undefined;
    const durationMs = Math.min(this.options.baseEjectionTimeMs * state.ejections, this.options.maxEjectionTimeMs);
    state.ejectedUntilMs = nowMs + durationMs;
    this.ejectedCount++;
    events.push({ type: 'ejected', id, untilMs: state.ejectedUntilMs, ejections: state.ejections });
    return events;
  }

  /** Return every server whose ejection has run out by `nowMs`. */
  tick(nowMs: number): readonly OutlierEvent[] {
    // Nothing ejected, nothing to return (the common case, on every result): no list, no scan.
    if (this.ejectedCount === 0) return NO_EVENTS;
    const events: OutlierEvent[] = [];
    for (const [id, state] of this.servers) {
      if (state.ejectedUntilMs === undefined || state.ejectedUntilMs > nowMs) continue;
      state.ejectedUntilMs = undefined;
      state.decayFromMs = nowMs;
      this.ejectedCount--;
      events.push({ type: 'returned', id, atMs: nowMs });
    }
    return events;
  }

  isEjected(id: string): boolean {
    return this.servers.get(id)?.ejectedUntilMs !== undefined;
  }

  ejected(): string[] {
    return [...this.servers].filter(([, s]) => s.ejectedUntilMs !== undefined).map(([id]) => id);
  }

  /** How many times `id` counts as ejected, after decay up to `nowMs`. */
  ejections(id: string, nowMs: number): number {
    const state = this.servers.get(id);
    if (state === undefined) return 0;
    this.decay(state, nowMs);
    return state.ejections;
  }

  private decay(state: ServerState, nowMs: number): void {
    if (state.decayFromMs === undefined || state.ejections === 0) return;
    const steps = Math.floor((nowMs - state.decayFromMs) / this.options.ejectionDecayMs);
    if (steps <= 0) return;
    state.ejections = Math.max(0, state.ejections - steps);
    state.decayFromMs += steps * this.options.ejectionDecayMs;
  }

  private stateOf(id: string): ServerState {
    let state = this.servers.get(id);
    if (state === undefined) {
      state = { failures: 0, ejections: 0, ejectedUntilMs: undefined, decayFromMs: undefined };
      this.servers.set(id, state);
    }
    return state;
  }
}
