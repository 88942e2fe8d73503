import type { Message } from '../core/codec.js';

export type { Message } from '../core/codec.js';

/** Anything with a string `type` can be sent; it must survive the codec. */
export interface Outgoing {
  readonly type: string;
}

/**
 * What an actor may do to the world. Actor code handles one message at a time,
 * synchronously, and acts only through this context: no clock, timers, randomness or IO of
 * its own, so the same code runs on worker threads and in the deterministic simulator.
 */
export interface ActorContext {
  /** This actor's address (`us-east/0`, `balancer`, ...). */
  readonly self: string;
  /** This incarnation's id (nanoid; seeded in sim). Changes on every restart. */
  readonly incarnation: string;
  /** The sender of the message in hand. */
  readonly sender: string;
  send<M extends Outgoing>(to: string, msg: M): void;
  /** Send to the sender of the message in hand. */
  reply<M extends Outgoing>(msg: M): void;
  /** Pass the message on with its original sender, so the receiver replies to that sender. */
  forward<M extends Outgoing>(to: string, msg: M, from?: string): void;
  /** A timer fires as a message `{ type: 'timer', key }` from self. Setting a key again replaces it. */
  setTimer(key: string, delayMs: number): void;
  cancelTimer(key: string): void;
  now(): number;
  /**
   * The host's own clock, the one timers count in: a clock-skew fault moves `now()` but not
   * this. For timer arithmetic (how many whole timer periods passed since an instant).
   */
  monotonicNow(): number;
  /**
   * When the message in hand came into the mailbox, on monotonicNow's clock: monotonicNow(),
   * but for the backlog of a paused actor (a process stopped, as by SIGSTOP), taken up at its
   * resume, the time each message came. For what a message's age must show (a word from a node
   * held dead that was on its way when it died is not proof that it lives).
   */
  receivedAt(): number;
  /** A float in [0, 1) from this actor's seeded PRNG. */
  random(): number;
  /** A fresh id (nanoid alphabet), deterministic in sim. */
  nextId(): string;
  /** Append to the durable log; made durable before this step's messages are sent. */
  persist(record: unknown): void;
  /**
   * Replace the whole durable log by `records`: a checkpoint that must hold everything a
   * restart needs (the log would otherwise grow without end), as of this call. Records this
   * step persisted before the call are taken to be in it and are not appended; those it
   * persists after the call are appended after it. The last call of a step counts.
   */
  checkpoint(records: unknown[]): void;
  /**
   * Add to a named counter of this actor (visible in stats and the control plane). A name that
   * starts with `level:` (LEVEL_COUNTER_PREFIX, src/runtime/stats.ts) is a level of this
   * incarnation, kept by adding its changes: the next incarnation starts it from 0.
   */
  count(name: string, by?: number): void;
  /** Tell the cluster's listeners something (membership changes...); not a message to an actor. */
  publish(topic: string, data: unknown): void;
  /** Messages waiting in this actor's mailbox (a load figure). */
  mailbox(): number;
  /** Time this actor has spent handling messages, in ms of the host's clock (0 in sim). */
  busyMs(): number;
  /** Report a problem without failing the step. */
  warn(message: string): void;
}

export interface TimerMessage extends Message {
  type: 'timer';
  key: string;
}

/**
 * Sent back to an actor whose message could not leave its host (never for network drops), and
 * to a client of the host whose message found its receiver's mailbox full ('mailbox-full') or
 * was dropped with a frame its thread's port to the receiver's host had no room for
 * ('backlog-full': that host has not read what it was sent, see ThreadHost.portBytesMax).
 */
export interface UndeliverableMessage extends Message {
  type: 'undeliverable';
  to: string;
  reason: 'unknown-address' | 'too-large' | 'encode-error' | 'mailbox-full' | 'backlog-full';
  /**
   * The message's `type` and `rid`; for 'too-large', the message itself, handed back (it never
   * left the host, and the notice is not encoded): its sender may send something smaller in
   * its place (an answer over messageBytesMax: a short error for the same request). It is the
   * very object the actor sent (unless a send filter, a simulator's fault, replaced it), so the
   * sender may recognise it (the mark of a read-only transaction's answer, cluster/messages.ts READ_ONLY).
   */
  original: Message | null;
  /** 'too-large': the message's size encoded, and the host's messageBytesMax it is over (bytes). */
  bytes?: number;
  max?: number;
}

/** Runtime notices delivered to actors that subscribed to them (the balancer does). */
export interface SystemMessage extends Message {
  type: 'sys';
  event: 'node-crashed' | 'node-restarted';
  node: string;
  /**
   * The node's incarnation: the one that died ('node-crashed'), or the new one
   * ('node-restarted'); 0 at start, one more at each restart. Notices can arrive out of order.
   */
  incarnation: number;
}

/**
 * A behaviour: plain functions over private state (XState's "actor logic"). `receive` may
 * mutate `state` in place. `recover` gets the records this actor persisted before a restart.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a host holds behaviours of every State, Params and inbound union side by side
export interface Behavior<State = any, Params = any, In extends Outgoing = Message> {
  readonly name: string;
  init(ctx: ActorContext, params: Params, recovered: unknown[]): State;
  /**
   * One inbound message. `In` is the behaviour's inbound union (its requests, replies, timers,
   * notices), so a `switch (msg.type)` narrows without casts. The host cannot check the union:
   * whatever the codec decodes for this address is handed in as `In`.
   */
  receive(state: State, msg: In, ctx: ActorContext): void;
  /** A small, codec-safe summary for the control plane. */
  summary?(state: State): unknown;
  /**
   * What stands in for the actor while it cannot start (its durable log would not load, or
   * `init` threw) and backs off until supervision tries again: without one, what comes
   * meanwhile waits in the mailbox for an incarnation that may never start. A stand-in takes
   * those messages (a server refuses its requests at once and has its heartbeat actor fall
   * silent, a coordinator refuses its transactions: cluster/stand-in.ts). It must not write to the durable log (a step that does is dropped); its
   * timers end with it, at the next try.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above: a host holds stand-ins of every state side by side
  standIn?: StandIn<any, Params, In>;
}

/** A behaviour's stand-in while it cannot start (see Behavior.standIn). */
export interface StandIn<State, Params, In extends Outgoing = Message> {
  /** `error`: why the start failed (what the host reported as an 'actor-error'). */
  init(ctx: ActorContext, params: Params, error: Error): State;
  receive(state: State, msg: In, ctx: ActorContext): void;
  /** Shown as the actor's state by the control plane (inspect) while it stands in. */
  summary?(state: State): unknown;
}

export type SupervisionPolicy = 'restart' | 'stop';

/** Everything needed to create an actor on some host. Codec-safe. */
export interface ActorSpec {
  address: string;
  behavior: string;
  params: unknown;
  region: string;
  /** The failure unit: a server and its heartbeat share a node, so partitions and crashes hit both. */
  node: string;
  supervision?: SupervisionPolicy;
}
