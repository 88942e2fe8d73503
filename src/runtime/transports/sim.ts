import type { Envelope } from '../../core/codec.js';
import { SimulationStalledError } from '../../core/errors.js';
import { seededIds } from '../../core/ids.js';
import { Prng, hashString } from '../../core/prng.js';
import { MemoryDurableStore } from '../durable-memory.js';
import type { HostEnv, HostEvent, TimerHandle, TimerTarget } from '../env.js';
import { Host } from '../host.js';
import { EventHeap, SimEvent } from './heap.js';
import type { ActorHostOptions } from './host-options.js';

/** Spent events kept for reuse, at most. */
export const SIM_EVENTS_RECYCLED_MAX = 4096;

/**
 * Events run between two yields of the driver to the event loop (setImmediate): between them
 * it moves on through microtasks only (see SIM_QUIET_TURNS), so real timers and I/O get a
 * turn at least this often (about a tenth of a second of events here) even while a caller
 * loops on simulated calls for ever.
 */
export const SIM_EVENTS_PER_SLICE = 20_000;

/**
 * Microtask turns the driver lets pass after the last call into it (a wait begun or settled)
 * before it runs the next event: the caller's continuation runs in them and makes its next
 * call at the virtual instant it was answered. Continuations of the check scenarios made
 * their last call within 9 turns of the one before (sampled over 30 seeds of three kinds);
 * one that takes longer (a chain of awaits on promises the simulator does not settle) makes
 * its next call a few events later in virtual time, the same on every run (one awaiting a real
 * timer or I/O while other calls are in flight does not: virtual time runs on meanwhile, by as
 * much as the machine runs in that real time). Sixteen turns cost
 * well under a microsecond; an event-loop turn (setImmediate, what the driver waited for
 * before) cost a seed of the default check scenario about an eighth of its time (1,527 turns a
 * seed; see c83a73c).
 */
export const SIM_QUIET_TURNS = 16;

/**
 * A turn is a reaction to this promise: the same microtask queue as queueMicrotask, a third
 * of its cost (0.024 against 0.07 us a turn here; Node wraps queueMicrotask's callbacks).
 */
const RESOLVED = Promise.resolve();

/**
 * Events run at one virtual instant, while one wait (a call, a sleep) stayed pending through
 * all of them, before the run counts as stalled (SimulationStalledError). The busiest instants
 * of the check scenario run a few thousand; a run that reaches this is a loop of 0 ms steps
 * that would never let time move, and the wait never settle. Waits that settle one after
 * another do not add up: with 0 ms messages (the default network) about 50,000 puts awaited
 * one at a time all ran at virtual time 0, and the 500,000th event stalled a run that was not
 * looping (found by an audit, session 58).
 */
export const SIM_EVENTS_PER_INSTANT_MAX = 500_000;

let eventsPerInstantMax = SIM_EVENTS_PER_INSTANT_MAX;

/** Testing only: the stall bound (SIM_EVENTS_PER_INSTANT_MAX) for the simulations of this thread, or back to it with no argument. */
export function setSimEventsPerInstantMaxForTests(max = SIM_EVENTS_PER_INSTANT_MAX): void {
  eventsPerInstantMax = max;
}

export interface TraceEntry {
  at: number;
  from: string;
  to: string;
  type: string;
}

export interface SimOptions extends ActorHostOptions {
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
  /** Events kept for reuse, in [0, freeCount). */
  private readonly free: Array<SimEvent | undefined> = [];
  private freeCount = 0;
  /** Callbacks for "now" in [0, immediatesTail). */
  private readonly immediates: Array<(() => void) | undefined> = [];
  private immediatesTail = 0;
  /** Events scheduled for the current instant, in [nowHead, nowTail). */
  private readonly nowQueue: Array<SimEvent | undefined> = [];
  private nowHead = 0;
  private nowTail = 0;
  /** The last buffer hashed and a view of it (the codec reuses its buffers). */
  private hashBytes: Uint8Array | undefined;
  private hashView: DataView | undefined;
  private nowMs = 0;
  private seq = 0;
  private waiting = 0;
  /**
   * The pending waits, by the count of events run when each began (`eventsRun`: how many began
   * at it). The Map's order is theirs, oldest first: counts only grow, so a key set again after
   * its delete is still the largest.
   */
  private readonly waitsSince = new Map<number, number>();
  private settled = false;
  private driving = false;
  private driveScheduled = false;
  /** Microtask turns left before the scheduled drive runs (see SIM_QUIET_TURNS). */
  private quietTurns = 0;
  /** Events run since the driver last yielded to the event loop (see SIM_EVENTS_PER_SLICE). */
  private sinceYield = 0;
  private stopped = false;
  /** FNV-1a over every message sent, with its delivery time: equal seeds and calls give equal hashes. */
  traceHash = 0x811c9dc5;
  deliveredCount = 0;
  eventsRun = 0;
  /** Set once a wait stayed pending through SIM_EVENTS_PER_INSTANT_MAX events at one instant: no event runs after it. */
  stalled: SimulationStalledError | undefined;
  private stallNotified = false;
  private readonly stallListeners: Array<(error: SimulationStalledError) => void> = [];
  /** The instant the last event ran at, and how many ran at it. */
  private instantAt = -1;
  private instantEvents = 0;
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
        this.immediates[this.immediatesTail++] = fn;
      },
      scheduleLater: (fn) => {
        this.at(this.nowMs, fn);
      },
      transmit: (_host, encoded, start, end, delayMs, copyable) => {
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
        // What the fast encoder wrote is copied instead of decoded: the same values (see copyEncoded).
        const envelope = copyable ? this.host.copySent() : this.host.decodeEncoded(encoded, start, end);
        if (envelope !== undefined) this.push(at, undefined, envelope, undefined, '');
      },
      durable: this.durable,
      report: (event) => options.onEvent?.(event),
      newId: ids,
    };
    const { seed, directory, behaviors, network, mailboxCapacity, messageBytesMax } = options;
    this.host = new Host(env, { id: 0, seed, directory, behaviors, network, mailboxCapacity, messageBytesMax, copySent: true });
  }

  now(): number {
    return this.nowMs;
  }

  private deliver(envelope: Envelope): void {
    this.deliveredCount++;
    if (this.options.recordTrace) {
      this.trace.push({ at: this.nowMs, from: envelope.from, to: envelope.to, type: envelope.msg.type });
    }
    this.host.deliver(envelope);
  }

  private push(atMs: number, fn: (() => void) | undefined, envelope: Envelope | undefined, target: TimerTarget | undefined, key: string): SimEvent {
    const at = atMs > this.nowMs ? atMs : this.nowMs;
    let event: SimEvent;
    if (fn === undefined && this.freeCount > 0) {
      event = this.free[--this.freeCount]!;
      this.free[this.freeCount] = undefined;
      event.at = at;
      event.seq = this.seq++;
      event.envelope = envelope;
      event.target = target;
      event.key = key;
      event.cancelled = false;
    } else {
      event = new SimEvent(at, this.seq++, fn, envelope, target, key);
    }
    if (at > this.nowMs) this.heap.push(event);
    // Due now: a FIFO keeps (at, seq) order without the heap (see `takeNext`).
    else this.nowQueue[this.nowTail++] = event;
    return event;
  }

  at(atMs: number, fn: () => void): TimerHandle {
    return this.push(atMs, fn, undefined, undefined, '');
  }

  private run(event: SimEvent): void {
    this.nowMs = event.at;
    this.eventsRun++;
    if (event.at !== this.instantAt) {
      this.instantAt = event.at;
      this.instantEvents = 0;
    } else if (++this.instantEvents >= eventsPerInstantMax && this.stalled === undefined) {
      // Stalled if the oldest pending wait has waited through all of them; else counted again
      // from when it began (or from now, with none pending).
      const oldest = this.waitsSince.keys().next();
      const since = oldest.done === true ? 0 : this.eventsRun - oldest.value;
      if (since >= this.instantEvents) this.stalled = new SimulationStalledError(this.nowMs, this.instantEvents);
      else this.instantEvents = since;
    }
    if (event.envelope !== undefined) {
      const envelope = event.envelope;
      this.recycle(event);
      this.deliver(envelope);
    } else if (event.target !== undefined) {
      event.target.fireTimer(event.key, event);
      this.recycle(event);
    } else {
      event.fn!();
    }
  }

  /**
   * Keep a delivery or actor-timer event that has run (or was skipped) for reuse: nobody holds
   * it any more (a cell forgets a timer's handle when it fires, is replaced or cancelled).
   * Callback events are never reused: their handles are out in the world.
   */
  private recycle(event: SimEvent): void {
    if (event.fn !== undefined || this.freeCount >= SIM_EVENTS_RECYCLED_MAX) return;
    event.envelope = undefined;
    event.target = undefined;
    this.free[this.freeCount++] = event;
  }

  /**
   * The next event to run, at most at `untilMs`, or undefined. Order: events of this instant
   * in the heap (scheduled before this instant began, so their seq is lower), then those
   * scheduled during it (the FIFO), then, once none is left, the callbacks scheduled for
   * "now" (actor drains: same-instant deliveries reach a mailbox together and are handled in
   * one batch), which may schedule more of this instant; only then does time move.
   */
  private takeNext(untilMs: number): SimEvent | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (top !== undefined && top.at <= this.nowMs) return this.heap.pop();
      if (this.nowHead < this.nowTail) {
        const event = this.nowQueue[this.nowHead]!;
        this.nowQueue[this.nowHead++] = undefined;
        if (this.nowHead === this.nowTail) this.nowHead = this.nowTail = 0;
        return event;
      }
      if (this.immediatesTail > 0) {
        this.runImmediates();
        continue;
      }
      if (top === undefined || top.at > untilMs) return undefined;
      return this.heap.pop();
    }
  }

  /** Callbacks scheduled for "now"; callbacks they schedule run in this same pass, in order. */
  private runImmediates(): void {
    const queue = this.immediates;
    let i = 0;
    try {
      while (i < this.immediatesTail) {
        const fn = queue[i]!;
        queue[i++] = undefined;
        fn();
      }
    } finally {
      // Slots are cleared, never the length: resetting an array's length costs in V8.
      if (i >= this.immediatesTail) {
        this.immediatesTail = 0;
      } else {
        queue.copyWithin(0, i, this.immediatesTail);
        this.immediatesTail -= i;
      }
    }
  }

  private pending(): boolean {
    return this.heap.size > 0 || this.nowHead < this.nowTail || this.immediatesTail > 0;
  }

  /**
   * Something the caller awaits (a client call, a sleep) has begun. `settle()` ends it; the
   * driver stops at that point so the caller's continuation runs at that virtual time.
   */
  beginWait(): number {
    if (this.stalled !== undefined) throw this.stalled;
    this.waiting++;
    const mark = this.eventsRun;
    this.waitsSince.set(mark, (this.waitsSince.get(mark) ?? 0) + 1);
    this.quietTurns = SIM_QUIET_TURNS;
    this.kick();
    return mark;
  }

  /** Call `listener` once if the run stalls (see SIM_EVENTS_PER_INSTANT_MAX): it fails what waits. */
  onStall(listener: (error: SimulationStalledError) => void): void {
    this.stallListeners.push(listener);
  }

  private notifyStall(): void {
    if (this.stalled === undefined || this.stallNotified) return;
    this.stallNotified = true;
    for (const listener of this.stallListeners) listener(this.stalled);
  }

  /** The wait that beginWait returned `mark` for has settled. */
  endWait(mark: number): void {
    this.waiting--;
    const waits = this.waitsSince.get(mark) ?? 0;
    if (waits > 1) this.waitsSince.set(mark, waits - 1);
    else this.waitsSince.delete(mark);
    this.settled = true;
    this.quietTurns = SIM_QUIET_TURNS;
  }

  /**
   * Schedule the driver: after SIM_QUIET_TURNS microtask turns with no call into it, or, once
   * SIM_EVENTS_PER_SLICE events ran since the last yield, on the event loop (setImmediate).
   */
  private kick(): void {
    if (this.driveScheduled || this.driving || this.stopped) return;
    this.driveScheduled = true;
    if (this.sinceYield >= SIM_EVENTS_PER_SLICE) {
      setImmediate(this.afterYield);
      return;
    }
    this.quietTurns = SIM_QUIET_TURNS;
    // No catch: an error out of the driver is a bug and ends the process as an unhandled
    // rejection, as it did as an uncaught exception from setImmediate.
    void RESOLVED.then(this.turn);
  }

  private readonly turn = (): void => {
    // A wait begun or settled meanwhile set quietTurns back to the full count.
    if (--this.quietTurns > 0) void RESOLVED.then(this.turn);
    else this.drive();
  };

  private readonly afterYield = (): void => {
    this.sinceYield = 0;
    this.drive();
  };

  private readonly drive = (): void => {
    this.driveScheduled = false;
    if (this.stopped) return;
    this.driving = true;
    this.settled = false;
    try {
      while (this.waiting > 0 && !this.settled && this.stalled === undefined && this.sinceYield < SIM_EVENTS_PER_SLICE) {
        const event = this.takeNext(Number.POSITIVE_INFINITY);
        if (event === undefined) break;
        this.sinceYield++;
        if (event.cancelled) {
          this.recycle(event);
          continue;
        }
        this.run(event);
      }
    } finally {
      this.driving = false;
    }
    if (this.stalled !== undefined) {
      this.notifyStall();
      return;
    }
    // Let the awaiting code run (its microtasks: SIM_QUIET_TURNS) before going on, so its next
    // call happens at this virtual time. An empty queue with waiters left means nothing can
    // settle them.
    if (this.waiting > 0 && this.pending()) this.kick();
  };

  /** Run events up to `untilMs` synchronously, waiters or not (the cluster moves time by waits instead). */
  runUntil(untilMs: number): void {
    for (;;) {
      const event = this.takeNext(untilMs);
      if (event === undefined) break;
      if (event.cancelled) {
        this.recycle(event);
        continue;
      }
      this.run(event);
      if (this.stalled !== undefined) {
        this.notifyStall();
        throw this.stalled;
      }
    }
    if (untilMs > this.nowMs) this.nowMs = untilMs;
  }

  stop(): void {
    this.stopped = true;
    this.heap.clear();
    this.immediates.length = 0;
    this.immediatesTail = 0;
    this.nowQueue.length = 0;
    this.nowHead = this.nowTail = 0;
    this.host.stop();
    this.durable.close();
  }
}
