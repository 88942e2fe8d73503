import type { ErrorData } from '../core/errors.js';
import type { DurableStore } from './durable.js';

/**
 * What a host and its cells get from their transport: the clock, timers, scheduling, the
 * link to other hosts, the durable store and the event sink. A file of its own so that
 * cells (cell.ts) and hosts (host.ts) share it without importing each other.
 */

export interface TimerHandle {
  cancel(): void;
}

/** What a transport's timer calls back when it can carry a key instead of a closure. */
export interface TimerTarget {
  fireTimer(key: string, handle: TimerHandle): void;
}

/** What a host needs from its transport. */
export interface HostEnv {
  now(): number;
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  /** Optional: a timer that calls `target.fireTimer(key, handle)`, with no closure per timer. */
  setTimerFor?(delayMs: number, target: TimerTarget, key: string): TimerHandle;
  /** Run `fn` soon, after the current step (a microtask on threads, an event at now in sim). */
  schedule(fn: () => void): void;
  /** Run `fn` after other pending work had its turn (setImmediate on threads): for yielding. */
  scheduleLater(fn: () => void): void;
  /**
   * Carry one encoded envelope, bytes[start, end), to `host` after `delayMs`. The bytes are
   * the codec's own buffer, overwritten by the next encoding: copy what must be kept.
   * `copyable`: the Host's `copySent()` gives what decoding the bytes would (the fast
   * encoder wrote them), without decoding.
   */
  transmit(host: number, bytes: Uint8Array, start: number, end: number, delayMs: number, copyable: boolean): void;
  durable: DurableStore;
  report(event: HostEvent): void;
  /** Random ids for incarnations: seeded in sim, nanoid on threads. */
  newId(): string;
}

export type HostEvent =
  | { kind: 'actor-error'; address: string; incarnation: string; error: ErrorData; action: 'restart' | 'stop' }
  | { kind: 'frame-error'; error: string }
  /** A worker thread ended without being asked to (threads transport): its nodes are gone. */
  | { kind: 'host-exit'; host: number; nodes: string[]; exitCode: number | null; error: string }
  | { kind: 'warn'; address: string; message: string }
  | { kind: 'publish'; address: string; topic: string; data: unknown };
