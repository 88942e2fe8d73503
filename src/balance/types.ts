/**
 * The shape every load-balancing strategy shares. A strategy is a pure object: it sees only
 * what the caller hands it (the eligible endpoints, a key, the time) and draws randomness
 * from an injected Prng, so the same seed and the same calls give the same picks.
 */

/** Every strategy this folder implements, in the order the docs list them. */
export const STRATEGY_NAMES = ['random', 'round-robin', 'weighted-round-robin', 'least-request', 'consistent-hash', 'maglev', 'least-latency'] as const;

export type StrategyName = (typeof STRATEGY_NAMES)[number];

/**
 * A server the caller considers eligible right now: healthy and not ejected. The caller owns
 * the in-flight count; strategies only read it.
 */
export interface Endpoint {
  readonly id: string;
  /** Relative capacity, finite and positive; 1 is the default. */
  readonly weight: number;
  /** Requests sent to this endpoint that have not completed yet. */
  readonly active: number;
}

export interface PickRequest {
  /** The key hashed by 'consistent-hash' and 'maglev'; without one they pick at random. */
  readonly key?: string;
  /** The caller's clock in ms; 'least-latency' decays its estimates to this time. */
  readonly nowMs?: number;
}

export interface Strategy {
  readonly name: StrategyName;
  /**
   * Choose one of `endpoints`, or undefined when the list is empty. The list may change from
   * call to call (servers join, fail, are ejected); every strategy copes with that.
   */
  pick(endpoints: readonly Endpoint[], request?: PickRequest): Endpoint | undefined;
  /**
   * Report a completed request. Only 'least-latency' learns from it; the others ignore it, so a
   * caller can report every completion without knowing which strategy it runs.
   */
  onResult(id: string, latencyMs: number, ok: boolean, nowMs: number): void;
}

/** The default weight of an endpoint the config names no weight for. */
export const DEFAULT_WEIGHT = 1;
