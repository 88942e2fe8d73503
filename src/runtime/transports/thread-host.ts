import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { FrameBuilder, FRAME_HEADER_BYTES } from '../../core/codec.js';
import { randomId } from '../../core/ids.js';
import { FRAME_BYTES_FLUSH } from '../../core/limits.js';
import type { Envelope } from '../../core/codec.js';
import type { DurableStore } from '../durable.js';
import type { HostEnv, HostEvent, TimerHandle } from '../env.js';
import { FRONT_HOST, Host } from '../host.js';
import type { ActorHostOptions } from './host-options.js';
import { RealTimers } from './real-timers.js';
import type { DropCause } from '../../net/model.js';

/** Same-host deliveries in one event-loop turn before the rest wait for the next turn. */
export const LOCAL_BURST_MAX = 10_000;
/** Frames taken from a port in one turn after the one it delivered (see connect). */
export const PORT_DRAIN_FRAMES_MAX = 64;
/**
 * How many times a flush lets queued local work (deliveries, actor steps) go first before it
 * posts its frames anyway (see ThreadHost.flush): each time is one microtask. A leader and its
 * local follower need 3 or 4 for their round trip. 64 held frames back under load too: the
 * other thread waited, and 2PC in `bench commit --quick` went from 566 to 639 us CPU a txn
 * (medians of 8 and 5 alternated runs); with 8, 580 (3 runs).
 */
export const FLUSH_DEFERRALS_MAX = 8;

/**
 * Bytes of frames a host may have posted to another host's port and not yet heard it read
 * (see PortLink): past it the next frames to that host are dropped, counted as 'backlog-full'
 * (a MessagePort has no flow control: a thread held in a long step, or stuck, collected every
 * frame sent to it, without bound, in its port's queue; 200,000 messages of 1 KB to a held
 * worker made the process's array buffers grow by 200 MB). As NATS's BACKLOG_BYTES_MAX, a
 * bound on the memory one host can pile up in another, far above what a busy host owes a peer
 * (the receiver returns credit every PORT_CREDIT_RETURN_BYTES it reads).
 */
export const PORT_BYTES_MAX = 64 * 1024 * 1024;
/**
 * A host tells a peer it read its frames once this many bytes of them were handed to its
 * actors: one small message on the same port per this much traffic, no timer. What it owes
 * short of that is never returned, so a sender counts up to this much in flight for ever; a
 * frame still leaves while no more than that is counted, whatever its size (see flushOne).
 */
export const PORT_CREDIT_RETURN_BYTES = 1024 * 1024;

/**
 * The port to one peer host and its flow control: the bytes of frames posted on it and not yet
 * credited back (`inflight`), and those read from it and not yet credited (`owed`). Credit is
 * a number posted on the same port (a frame is a Uint8Array). A new port (the peer restarted)
 * starts at zero: what the old one carried is gone with it.
 */
interface PortLink {
  port: MessagePort;
  inflight: number;
  owed: number;
  /** A 'warn' said frames to it are dropped, and no credit came since. */
  warned: boolean;
}

/** A local queue that held more deliveries than this is not kept for reuse (its memory is let go). */
export const LOCAL_QUEUE_KEPT_MAX = 4_096;

export interface ThreadHostOptions extends ActorHostOptions {
  id: number;
  durable: DurableStore;
  report: (event: HostEvent) => void;
  /**
   * Another link than MessagePorts (the NATS transport): carries one frame to `peer`, or says
   * why it dropped it. Absent, frames go over the ports given to connect().
   */
  sendFrame?: (peer: number, frame: Uint8Array) => DropCause | undefined;
  /** Largest frame the link carries: a frame is sent before an envelope would pass it. */
  frameBytesMax?: number;
  /** A frame this full leaves at once, before the turn ends (default FRAME_BYTES_FLUSH). */
  frameBytesFlush?: number;
}

/**
 * A host on a real thread (a worker, or the main thread's front host). Outgoing envelopes
 * are batched per destination host and flushed once per event-loop turn, or early when a
 * frame is full, as one exact-size transferred buffer on that pair's own MessagePort.
 */
export class ThreadHost {
  readonly host: Host;
  private readonly ports = new Map<number, PortLink>();
  private readonly builders = new Map<number, FrameBuilder>();
  private readonly dirty = new Set<number>();
  private flushScheduled = false;
  /** Times the scheduled flush went behind local work (see flush). */
  private flushDeferrals = 0;
  /** The hosts of the flush in progress (see flush). */
  private readonly flushing: number[] = [];
  private readonly timers = new RealTimers();
  private closed = false;
  framesSent = 0;
  /** Bytes posted to a peer's port and not read there yet, at most (PORT_BYTES_MAX); @internal a test lowers it. */
  portBytesMax = PORT_BYTES_MAX;

  private readonly durable: DurableStore;
  private readonly sendFrame: ((peer: number, frame: Uint8Array) => DropCause | undefined) | undefined;
  private readonly frameBytesMax: number;
  private readonly frameBytesFlush: number;

  constructor(options: ThreadHostOptions) {
    this.durable = options.durable;
    this.sendFrame = options.sendFrame;
    this.frameBytesMax = options.frameBytesMax ?? Number.POSITIVE_INFINITY;
    this.frameBytesFlush = options.frameBytesFlush ?? FRAME_BYTES_FLUSH;
    const origin = performance.timeOrigin;
    const env: HostEnv = {
      now: () => origin + performance.now(),
      setTimer: (delayMs, fn) => this.setTimer(delayMs, fn),
      schedule: (fn) => {
        queueMicrotask(fn);
      },
      scheduleLater: (fn) => {
        setImmediate(fn);
      },
      transmit: (host, bytes, start, end, delayMs, copyable) => {
        if (host === options.id) {
          // Same host: the receiver gets its own copy, as through a port, without a frame.
          // When the fast encoder wrote the bytes, the Host copies the message as decoding
          // them would give it, without decoding (as the simulator does).
          const envelope = copyable ? this.host.copySent() : this.host.resolve(this.host.packr.unpack(bytes.subarray(start, end)) as Envelope);
          if (delayMs <= 0) this.deliverLocal(envelope);
          else this.setTimer(delayMs, () => this.deliverLocal(envelope));
          return;
        }
        if (delayMs <= 0) {
          this.enqueue(host, bytes, start, end);
          return;
        }
        const copy = bytes.slice(start, end);
        this.setTimer(delayMs, () => this.enqueue(host, copy, 0, copy.byteLength));
      },
      durable: options.durable,
      report: options.report,
      newId: () => randomId(),
    };
    const { seed, directory, behaviors, network, mailboxCapacity, messageBytesMax } = options;
    this.host = new Host(env, { id: options.id, seed, directory, behaviors, network, mailboxCapacity, messageBytesMax });
  }

  /** A zero delay is the next event-loop turn, not setTimeout's 1 ms (see RealTimers). */
  private setTimer(delayMs: number, fn: () => void): TimerHandle {
    return this.timers.set(delayMs, () => {
      if (!this.closed) fn();
    });
  }

  /** Attach the port to another host (replacing an older one, as after that host restarted). */
  connect(peer: number, port: MessagePort): void {
    const old = this.ports.get(peer);
    if (old !== undefined && old.port !== port) old.port.close();
    const link: PortLink = { port, inflight: 0, owed: 0, warned: false };
    this.ports.set(peer, link);
    port.on('message', (data: Uint8Array | number) => {
      this.receivePort(link, data);
      // Frames that queued up behind this one (under load) are taken in the same turn, so the
      // answers to all of them leave in one frame per destination at the flush that follows.
      for (let i = 0; i < PORT_DRAIN_FRAMES_MAX; i++) {
        const next = receiveMessageOnPort(port);
        if (next === undefined) break;
        this.receivePort(link, next.message as Uint8Array | number);
      }
      // Credit for what was read, once per PORT_CREDIT_RETURN_BYTES (see PortLink).
      if (link.owed >= PORT_CREDIT_RETURN_BYTES && !this.closed) {
        port.postMessage(link.owed);
        link.owed = 0;
      }
    });
    port.unref();
  }

  private receivePort(link: PortLink, data: Uint8Array | number): void {
    if (typeof data === 'number') {
      link.inflight = Math.max(0, link.inflight - data);
      link.warned = false;
      return;
    }
    link.owed += data.byteLength;
    this.host.receiveFrame(data);
  }

  /** Bytes posted to `peer` that it has not said it read (PortLink.inflight); @internal for tests. */
  inflightBytes(peer: number): number {
    return this.ports.get(peer)?.inflight ?? 0;
  }

  disconnect(peer: number): void {
    const link = this.ports.get(peer);
    if (link !== undefined) link.port.close();
    this.ports.delete(peer);
    this.builders.delete(peer);
    this.dirty.delete(peer);
  }

  /**
   * Local deliveries waiting for the next drain: localCount of them, in two arrays used in
   * turn and kept with their capacity (emptying an array by `length = 0` drops its storage).
   */
  private localQueue: Array<Envelope | undefined> = [];
  private localCount = 0;
  private spareQueue: Array<Envelope | undefined> = [];
  private localScheduled = false;
  /** Local deliveries since the event loop last turned; past LOCAL_BURST_MAX they wait a turn. */
  private localBurst = 0;
  private burstResetScheduled = false;

  private deliverLocal(envelope: Envelope): void {
    if (this.closed) return;
    this.localQueue[this.localCount++] = envelope;
    if (this.localScheduled) return;
    this.localScheduled = true;
    // Soon (a microtask), unless actors here have been messaging each other without pause:
    // then on the next turn, so they cannot starve timers and ports.
    if (this.localBurst < LOCAL_BURST_MAX) queueMicrotask(this.drainLocal);
    else setImmediate(this.drainLocal);
  }

  private readonly drainLocal = (): void => {
    this.localScheduled = false;
    // No sync here: a same-host delivery does not leave the host. The records appended so far
    // are written before the next frame leaves (flush, flushOne's callers), which is where the
    // Ready rule needs them; a thread that dies first loses them with the actors that read the
    // messages. A lone put's leader and local follower wrote their logs four times on the way
    // to the answer (about 10-70 us each on the development machine), now once.
    const queue = this.localQueue;
    const count = this.localCount;
    this.localQueue = this.spareQueue;
    this.localCount = 0;
    this.localBurst += count;
    if (!this.burstResetScheduled) {
      this.burstResetScheduled = true;
      setImmediate(() => {
        this.localBurst = 0;
        this.burstResetScheduled = false;
      });
    }
    try {
      for (let i = 0; i < count; i++) this.host.deliver(queue[i]!);
    } finally {
      // The slots are cleared (no envelope kept alive); the array waits for the drain after next.
      // One that a burst made large is let go instead.
      if (count > LOCAL_QUEUE_KEPT_MAX) {
        this.spareQueue = [];
      } else {
        for (let i = 0; i < count; i++) queue[i] = undefined;
        this.spareQueue = queue;
      }
    }
  };

  private enqueue(host: number, bytes: Uint8Array, start: number, end: number): void {
    if (this.closed) return;
    let builder = this.builders.get(host);
    if (builder === undefined) this.builders.set(host, (builder = new FrameBuilder()));
    if (builder.count > 0 && builder.byteLength + (end - start) > this.frameBytesMax) {
      this.durable.sync?.();
      this.flushOne(host, builder);
    }
    builder.appendRange(bytes, start, end);
    if (builder.byteLength >= this.frameBytesFlush) {
      this.durable.sync?.();
      this.flushOne(host, builder);
      return;
    }
    this.dirty.add(host);
    if (!this.flushScheduled) {
      // Once the current work is done (a microtask): batches form within one turn, and a
      // reply leaves without waiting for the next event-loop iteration.
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  private readonly flush = (): void => {
    // Local work first: a message to another thread wakes it, and on a machine with few cores
    // the woken thread can take this one's core until it is done (measured on the 2-core
    // development machine: postMessage returned 175 us later, after the other thread had
    // handled the frame and answered). A leader whose quorum is on its own thread would wait
    // that long to hear its local follower; so while actors here have deliveries or steps
    // queued (microtasks queued before this one), go behind them, a bounded number of times.
    if ((this.localScheduled || this.host.hasQueuedWork()) && this.flushDeferrals < FLUSH_DEFERRALS_MAX) {
      this.flushDeferrals++;
      queueMicrotask(this.flush);
      return;
    }
    this.flushDeferrals = 0;
    this.flushScheduled = false;
    // Records before the messages that depend on them (see FileDurableStore).
    this.durable.sync?.();
    // Take the set first: flushing may deliver locally and queue more, for the next flush.
    // Into a list kept from flush to flush (the frames go out after the loop over the set).
    const hosts = this.flushing;
    hosts.length = 0;
    for (const host of this.dirty) hosts.push(host);
    this.dirty.clear();
    // The front host's frame first: it carries the answers callers wait for (clients live
    // there), so its thread wakes before the others start competing for the cores. A
    // leader's commit to its followers, sent with the answer, can leave a moment later.
    const front = hosts.indexOf(FRONT_HOST);
    if (front > 0) {
      hosts[front] = hosts[0]!;
      hosts[0] = FRONT_HOST;
    }
    for (const host of hosts) {
      const builder = this.builders.get(host);
      if (builder !== undefined && builder.count > 0) this.flushOne(host, builder);
    }
  };

  private flushOne(host: number, builder: FrameBuilder): void {
    const messages = builder.count;
    const frame = builder.take();
    if (frame.byteLength <= FRAME_HEADER_BYTES) return;
    if (host === this.host.id) {
      // Same host: still through the codec (actors never share objects), without a port.
      // On the next turn, so actors messaging each other here cannot starve timers and ports.
      setImmediate(() => this.host.receiveFrame(frame));
      return;
    }
    if (this.sendFrame !== undefined) {
      const dropped = this.sendFrame(host, frame);
      if (dropped === undefined) this.framesSent++;
      else this.host.drop(dropped, undefined, undefined, messages);
      return;
    }
    const link = this.ports.get(host);
    if (link === undefined) {
      this.host.drop('dead', undefined, undefined, messages);
      return;
    }
    const bytes = frame.byteLength;
    // The peer has not read what it was sent (held in a long step, or stuck): past the bound
    // the frame is dropped and counted, and a client here told, rather than queued in its port
    // for ever. A frame larger than the room left still goes while only credit the peer may
    // never return is counted (PORT_CREDIT_RETURN_BYTES).
    if (link.inflight + bytes > this.portBytesMax && link.inflight >= PORT_CREDIT_RETURN_BYTES) {
      this.host.dropFrame('backlog-full', frame, messages);
      if (!link.warned) {
        link.warned = true;
        this.host.env.report({
          kind: 'warn',
          address: `host ${host}`,
          message: `host ${host} has not read ${link.inflight} bytes of frames host ${this.host.id} sent it (held in a long step, or stuck): frames to it are dropped as 'backlog-full' until it reads them (at most ${this.portBytesMax} bytes unread per host pair; said once until it does)`,
        });
      }
      return;
    }
    link.inflight += bytes;
    this.framesSent++;
    link.port.postMessage(frame, [frame.buffer as ArrayBuffer]);
  }

  /** Cancel every timer and close every port: nothing of this host keeps the process alive. */
  close(): void {
    this.closed = true;
    this.timers.clear();
    for (const link of this.ports.values()) link.port.close();
    this.ports.clear();
    this.host.stop();
  }
}
