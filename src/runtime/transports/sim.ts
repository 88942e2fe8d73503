import type { Envelope } from '../../core/codec.js';
import { seededIds } from '../../core/ids.js';
import { Prng, hashString } from '../../core/prng.js';
import type { Behavior } from '../actor.js';
import { MemoryDurableStore } from '../durable-memory.js';
import { Host, type DirectoryEntry, type HostEnv, type HostEvent, type TimerHandle, type TimerTarget } from '../host.js';
import type { NetworkConfig } from '../../net/model.js';
import { EventHeap, SimEvent } from './heap.js';

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
  private readonly immediates: Array<() => void> = [];
  /** The last buffer hashed and a view of it (the codec reuses its buffers). */
  private hashBytes: Uint8Array | undefined;
  private hashView: DataView | undefined;
  private nowMs = 0;
  private seq = 0;
  private waiting = 0;
  private settled = false;
  private driving = false;
  private driveScheduled = false;
  private stopped = false;
  /** FNV-1a over every message sent, with its delivery time: equal seeds and calls give equal hashes. */
  traceHash = 0x811c9dc5;
  deliveredCount = 0;
  eventsRun = 0;
  readonly trace: TraceEntry[] = [];

  constructor(private readonly options: SimOptions) {
    const ids = seededIds(new Prng((options.seed ^ hashString('sim/ids')) >>> 0));
    const env: HostEnv = {
      now: () => this.nowMs,
      setTimer: (delayMs, fn) => this.at(this.nowMs + delayMs, fn),
      setTimerFor: (delayMs, target, key) => this.push(this.nowMs + delayMs, undefined, undefined, target, key),
      schedule: (fn) => {
        // Runs after every other event of this instant (see `runImmediates`): same-time
        // deliveries reach a mailbox together and are handled in one batch.
        this.immediates.push(fn);
      },
      scheduleLater: (fn) => {
        this.at(this.nowMs, fn);
      },
      transmit: (_host, encoded, start, end, delayMs) => {
        // Decoded now, not at delivery: the same round trip through the codec, but nothing to
        // copy out of the codec's reused buffer, and no closure per message.
        // FNV-1a-style over 32-bit words (then the tail bytes): a quarter of the steps.
        let h = this.traceHash;
        if (encoded !== this.hashBytes) {
          this.hashBytes = encoded;
          this.hashView = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
        }
        const view = this.hashView!;
        let i = start;
        for (; i + 4 <= end; i += 4) h = Math.imul(h ^ view.getInt32(i, true), 0x01000193);
        for (; i < end; i++) h = Math.imul(h ^ encoded[i]!, 0x01000193);
        const at = this.nowMs + delayMs;
        h ^= at | 0;
        this.traceHash = Math.imul(h, 0x01000193) >>> 0;
        const envelope = this.host.decodeEncoded(encoded, start, end);
        if (envelope !== undefined) this.push(at, undefined, envelope, undefined, '');
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

  private deliver(envelope: Envelope): void {
    this.deliveredCount++;
    if (this.options.recordTrace) {
      const e = envelope as unknown as { to: string; from: string; msg: { type: string } };
      this.trace.push({ at: this.nowMs, from: e.from, to: e.to, type: e.msg.type });
    }
    this.host.deliver(envelope);
  }

  private push(atMs: number, fn: (() => void) | undefined, envelope: Envelope | undefined, target: TimerTarget | undefined, key: string): SimEvent {
    const event = new SimEvent(atMs > this.nowMs ? atMs : this.nowMs, this.seq++, fn, envelope, target, key);
    this.heap.push(event);
    return event;
  }

  at(atMs: number, fn: () => void): TimerHandle {
    return this.push(atMs, fn, undefined, undefined, '');
  }

  private run(event: SimEvent): void {
    this.nowMs = event.at;
    this.eventsRun++;
    if (event.envelope !== undefined) this.deliver(event.envelope);
    else if (event.target !== undefined) event.target.fireTimer(event.key, event);
    else event.fn!();
  }

  /** Callbacks scheduled for "now" (actor drains), run once no event of this instant is left. */
  private runImmediates(): void {
    const queue = this.immediates;
    // Callbacks may schedule more; they run in this same pass, in order.
    let i = 0;
    try {
      while (i < queue.length) queue[i++]!();
    } finally {
      if (i >= queue.length) queue.length = 0;
      else queue.splice(0, i);
    }
  }

  private immediatesDue(): boolean {
    if (this.immediates.length === 0) return false;
    const next = this.heap.peek();
    return next === undefined || next.at > this.nowMs;
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
        if (this.immediatesDue()) {
          this.runImmediates();
          continue;
        }
        const event = this.heap.pop();
        if (event === undefined) break;
        if (event.cancelled) continue;
        this.run(event);
      }
    } finally {
      this.driving = false;
    }
    // Let the awaiting code run (microtasks) before going on, so its next call happens at
    // this virtual time. An empty queue with waiters left means nothing can settle them.
    if (this.waiting > 0 && (this.heap.size > 0 || this.immediates.length > 0)) this.kick();
  };

  /** Run events up to `untilMs` synchronously (used by benchmarks and boot). */
  runUntil(untilMs: number): void {
    for (;;) {
      if (this.immediatesDue()) {
        this.runImmediates();
        continue;
      }
      const next = this.heap.peek();
      if (next === undefined || next.at > untilMs) break;
      this.heap.pop();
      if (next.cancelled) continue;
      this.run(next);
    }
    if (untilMs > this.nowMs) this.nowMs = untilMs;
  }

  stop(): void {
    this.stopped = true;
    this.heap.clear();
    this.immediates.length = 0;
    this.host.stop();
    this.durable.close();
  }
}
