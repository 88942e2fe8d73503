import type { Envelope } from '../../core/codec.js';
import { seededIds } from '../../core/ids.js';
import { Prng, hashString } from '../../core/prng.js';
import type { Behavior } from '../actor.js';
import { MemoryDurableStore } from '../durable-memory.js';
import { Host, type DirectoryEntry, type HostEnv, type HostEvent, type TimerHandle } from '../host.js';
import type { NetworkConfig } from '../../net/model.js';
import { EventHeap, type SimEvent } from './heap.js';

/** Events handled in one synchronous stretch before the driver yields to the event loop. */
export const SIM_EVENTS_PER_SLICE = 200_000;

export interface TraceEntry {
  at: number;
  from: string;
  to: string;
  type: string;
}

export interface SimOptions {
  seed: number;
  directory: Map<string, DirectoryEntry>;
  behaviors: Map<string, Behavior>;
  network?: NetworkConfig;
  mailboxCapacity?: number;
  messageBytesMax?: number;
  /** Keep every delivered message in `trace` (for `meridian check --trace`). */
  recordTrace?: boolean;
  onEvent?: (event: HostEvent) => void;
}

/**
 * The deterministic simulator: every actor in the calling thread, one event queue ordered by
 * (virtual time, sequence), one seed behind every choice. Virtual time moves only when the
 * caller waits (a client call or `sleep`), and only as far as the next event.
 */
export class SimWorld {
  readonly host: Host;
  readonly durable = new MemoryDurableStore();
  private readonly heap = new EventHeap();
  private nowMs = 0;
  private seq = 0;
  private waiting = 0;
  private settled = false;
  private driving = false;
  private driveScheduled = false;
  private stopped = false;
  /** FNV-1a over every delivered message: equal seeds and calls give equal hashes. */
  traceHash = 0x811c9dc5;
  deliveredCount = 0;
  eventsRun = 0;
  readonly trace: TraceEntry[] = [];

  constructor(private readonly options: SimOptions) {
    const ids = seededIds(new Prng((options.seed ^ hashString('sim/ids')) >>> 0));
    const env: HostEnv = {
      now: () => this.nowMs,
      setTimer: (delayMs, fn) => this.at(this.nowMs + delayMs, fn),
      schedule: (fn) => {
        this.at(this.nowMs, fn);
      },
      scheduleLater: (fn) => {
        this.at(this.nowMs, fn);
      },
      transmit: (_host, encoded, start, end, delayMs) => {
        // Copy: the codec reuses its buffer.
        const bytes = encoded.slice(start, end);
        this.at(this.nowMs + delayMs, () => this.deliverBytes(bytes));
      },
      durable: this.durable,
      report: (event) => options.onEvent?.(event),
      newId: ids,
    };
    const { seed, directory, behaviors, network, mailboxCapacity, messageBytesMax } = options;
    this.host = new Host(env, { id: 0, seed, directory, behaviors, network, mailboxCapacity, messageBytesMax });
  }

  now(): number {
    return this.nowMs;
  }

  private deliverBytes(bytes: Uint8Array): void {
    let h = this.traceHash;
    for (let i = 0; i < bytes.length; i++) {
      h ^= bytes[i]!;
      h = Math.imul(h, 0x01000193);
    }
    h ^= this.nowMs | 0;
    this.traceHash = Math.imul(h, 0x01000193) >>> 0;
    this.deliveredCount++;
    if (this.options.recordTrace) {
      try {
        const env = this.host.resolve(this.host.packr.unpack(bytes) as Envelope) as unknown as { to: string; from: string; msg: { type: string } };
        this.trace.push({ at: this.nowMs, from: env.from, to: env.to, type: env.msg.type });
      } catch {
        // A malformed message is counted by the host below.
      }
    }
    this.host.receiveEncoded(bytes);
  }

  at(atMs: number, fn: () => void): TimerHandle {
    const event: SimEvent = { at: Math.max(atMs, this.nowMs), seq: this.seq++, fn, cancelled: false };
    this.heap.push(event);
    return {
      cancel: () => {
        event.cancelled = true;
      },
    };
  }

  /**
   * Something the caller awaits (a client call, a sleep) has begun. `settle()` ends it; the
   * driver stops at that point so the caller's continuation runs at that virtual time.
   */
  beginWait(): void {
    this.waiting++;
    this.kick();
  }

  endWait(): void {
    this.waiting--;
    this.settled = true;
  }

  private kick(): void {
    if (this.driveScheduled || this.driving || this.stopped) return;
    this.driveScheduled = true;
    setImmediate(this.drive);
  }

  private readonly drive = (): void => {
    this.driveScheduled = false;
    if (this.stopped) return;
    this.driving = true;
    this.settled = false;
    let slice = SIM_EVENTS_PER_SLICE;
    try {
      while (this.waiting > 0 && !this.settled && slice-- > 0) {
        const event = this.heap.pop();
        if (event === undefined) break;
        if (event.cancelled) continue;
        this.nowMs = event.at;
        this.eventsRun++;
        event.fn();
      }
    } finally {
      this.driving = false;
    }
    // Let the awaiting code run (microtasks) before going on, so its next call happens at
    // this virtual time. An empty queue with waiters left means nothing can settle them.
    if (this.waiting > 0 && this.heap.size > 0) this.kick();
  };

  /** Run events up to `untilMs` synchronously (used by benchmarks and boot). */
  runUntil(untilMs: number): void {
    for (;;) {
      const next = this.heap.peek();
      if (next === undefined || next.at > untilMs) break;
      this.heap.pop();
      if (next.cancelled) continue;
      this.nowMs = next.at;
      this.eventsRun++;
      next.fn();
    }
    if (untilMs > this.nowMs) this.nowMs = untilMs;
  }

  stop(): void {
    this.stopped = true;
    this.heap.clear();
    this.host.stop();
    this.durable.close();
  }
}
