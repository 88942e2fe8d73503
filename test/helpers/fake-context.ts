/**
 * A fake ActorContext for tests that step an actor by hand. `fakeContext` fills in what its
 * caller leaves out with inert members: no sends, no timers, a clock at 0, random 0.5, ids
 * `id1`, `id2`, ..., nothing persisted, counted or published, an empty mailbox. Getters in
 * `overrides` stay getters (a `sender` the test moves). `recordingContext` is one whose clock,
 * sender and mailbox the test sets and which keeps what the actor sends and the timers it sets.
 */
import type { ActorContext, Outgoing } from '../../src/runtime/actor.js';

/** An ActorContext: `overrides`, and inert members for the rest. */
export function fakeContext(overrides: Partial<ActorContext> = {}): ActorContext {
  let ids = 0;
  const ctx: ActorContext = {
    self: 'test',
    incarnation: 'i0',
    sender: '',
    send: () => undefined,
    reply: (msg) => ctx.send(ctx.sender, msg),
    forward: () => undefined,
    setTimer: () => undefined,
    cancelTimer: () => undefined,
    now: () => 0,
    monotonicNow: () => 0,
    receivedAt: () => 0,
    random: () => 0.5,
    nextId: () => `id${++ids}`,
    persist: () => undefined,
    checkpoint: () => undefined,
    count: () => undefined,
    publish: () => undefined,
    mailbox: () => 0,
    busyMs: () => 0,
    warn: () => undefined,
  };
  // Descriptors, not a spread: a getter of `overrides` is read at each use.
  return Object.defineProperties(ctx, Object.getOwnPropertyDescriptors(overrides));
}

/** What the context reads: set these to move its clock (now and monotonicNow), sender and mailbox. */
export interface FakeWorld {
  now: number;
  sender: string;
  mailbox: number;
}

export interface RecordingContext<M> {
  ctx: ActorContext;
  /** What the actor sent, replied and forwarded, in order. */
  sent: Array<{ to: string; msg: M }>;
  /** The timers set and not cancelled: key -> when due (`world.now` + delay). */
  timers: Map<string, number>;
  world: FakeWorld;
}

/**
 * A fakeContext of `self` reading `world` (given fields over now 0, sender '', mailbox 0) that
 * records sends and timers; `overrides` replace any member (a forward that records nothing...).
 */
export function recordingContext<M = Outgoing>(self: string, world: Partial<FakeWorld> = {}, overrides: Partial<ActorContext> = {}): RecordingContext<M> {
  const sent: Array<{ to: string; msg: M }> = [];
  const timers = new Map<string, number>();
  const w: FakeWorld = { now: 0, sender: '', mailbox: 0, ...world };
  const record = (to: string, msg: Outgoing): void => void sent.push({ to, msg: msg as unknown as M });
  const ctx = fakeContext({
    self,
    get sender() {
      return w.sender;
    },
    send: record,
    reply: (msg) => record(w.sender, msg),
    forward: record,
    setTimer: (key, delayMs) => void timers.set(key, w.now + delayMs),
    cancelTimer: (key) => void timers.delete(key),
    now: () => w.now,
    monotonicNow: () => w.now,
    receivedAt: () => w.now,
    mailbox: () => w.mailbox,
  });
  return { ctx: Object.defineProperties(ctx, Object.getOwnPropertyDescriptors(overrides)), sent, timers, world: w };
}
