/**
 * Lazy replication ticks: counting n ticks at once (`advance`) is the same as n ticks that do
 * nothing but count, `ticksUntilDue` names the first tick that does more, and the tick grid
 * (TickClock) counts whole ticks as an every-tick timer would.
 */
import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { MultiPaxos } from '../src/protocols/multipaxos.js';
import type { MultiPaxosMessage } from '../src/protocols/multipaxos.js';
import { LearnerFeed, LEARN_RESEND_TICKS } from '../src/replication/learner.js';
import { KvStateMachine } from '../src/replication/state-machine.js';
import { countingContext, TickClock } from '../src/cluster/tick-clock.js';
import { fakeContext } from './helpers/fake-context.js';
import { createCoordinatorCore, createParticipantCore } from '../src/replication/commit-cores.js';

const PEERS = ['a', 'b', 'c'];

function core(): MultiPaxos {
  return new MultiPaxos({ self: 'a', peers: PEERS, electionTicks: 10, heartbeatTicks: 3, maxBatch: 4, maxInflight: 4, prng: new Prng('lazy-ticks') });
}

/** A leader of a three-replica group (b promised; c silent) with one slot in flight (no acceptor answered). */
function leaderWithSlotInFlight(): MultiPaxos {
  const c = core();
  c.campaign();
  // Its own prepare and promise are stepped inside ready(): b's promise makes the majority.
  const prepare = c.ready().messages.find((m) => m.to === 'b')!.msg;
  if (prepare.type !== 'prepare') throw new Error(`expected a prepare to b, got ${prepare.type}`);
  c.step('b', { type: 'promise', ballot: prepare.ballot, slots: [], snapshot: null } satisfies MultiPaxosMessage);
  if (!c.isLeader()) throw new Error('not leader');
  c.ready();
  c.propose('x');
  c.ready();
  return c;
}

function twinsAgree(t: import('ava').ExecutionContext, make: () => MultiPaxos): void {
  const lazy = make();
  const eager = make();
  const due = lazy.ticksUntilDue();
  t.true(due > 1, `something to skip (due in ${due})`);
  t.is(eager.ticksUntilDue(), due);
  lazy.advance(due - 1);
  for (let i = 0; i < due - 1; i++) {
    eager.tick();
    const r = eager.ready();
    t.deepEqual([r.messages.length, r.persist.length, r.decisions.length], [0, 0, 0], 'a tick before the due one only counts');
  }
  t.deepEqual(lazy.status(), eager.status());
  t.is(lazy.ticksUntilDue(), 1);
  t.is(eager.ticksUntilDue(), 1);
  lazy.tick();
  eager.tick();
  const a = lazy.ready();
  const b = eager.ready();
  t.true(a.messages.length > 0, 'the due tick does something');
  t.deepEqual(a, b);
  t.deepEqual(lazy.status(), eager.status());
  t.is(lazy.ticksUntilDue(), eager.ticksUntilDue());
}

test('multipaxos: a follower counts its election timeout at once, and campaigns on the same tick', (t) => {
  twinsAgree(t, core);
});

test('multipaxos: a leader with a slot in flight counts to its heartbeat and re-send at once', (t) => {
  twinsAgree(t, leaderWithSlotInFlight);
});

test('multipaxos: advance refuses to skip a due tick', (t) => {
  const c = core();
  t.throws(() => c.advance(c.ticksUntilDue()));
});

test('learner feed: counting to the probe at once is the same as ticking', (t) => {
  const sm = new KvStateMachine();
  const lazy = new LearnerFeed(['l1', 'l2']);
  const eager = new LearnerFeed(['l1', 'l2']);
  t.is(lazy.ticksUntilDue(sm.applied), LEARN_RESEND_TICKS);
  lazy.advance(LEARN_RESEND_TICKS - 1);
  for (let i = 0; i < LEARN_RESEND_TICKS - 1; i++) t.deepEqual(eager.tick(0, sm.applied, sm), []);
  t.is(lazy.ticksUntilDue(sm.applied), 1);
  const a = lazy.tick(0, sm.applied, sm);
  t.is(a.length, 2, 'both learners probed');
  t.deepEqual(a, eager.tick(0, sm.applied, sm));
});

test('tick clock: whole ticks before a message, the timer moved earlier, a stale and a late timer', (t) => {
  const clock = new TickClock(10, 0);
  // Armed at 10: nothing before it can be caught up.
  t.is(clock.elapsed(9), 0);
  t.is(clock.fired(10), 0);
  // Due 5 ticks after this one: the timer is set for 60.
  t.is(clock.rearm(10, 5, true), 50);
  // A message at 33: the ticks of 20 and 30 passed.
  t.is(clock.elapsed(33), 2);
  // A message at exactly a grid instant: that tick is not caught up (it comes after the message).
  t.is(clock.elapsed(40), 0);
  // Something due on the next tick (40): the timer moves earlier.
  t.is(clock.rearm(40, 1, false), 0);
  // Due later than the timer: left as it is.
  t.is(clock.rearm(40, 3, false), undefined);
  // The timer's tick (40): nothing before it left to count.
  t.is(clock.fired(40), 0);
  t.is(clock.rearm(40, 5, true), 50);
  // A message at 55 (the tick of 50 passed) makes the next tick due: the timer moves to 60.
  t.is(clock.elapsed(55), 1);
  t.is(clock.rearm(55, 1, false), 5);
  // A timer message from before the move (its tick was 90): only counts what passed.
  t.is(clock.fired(52), -1);
  // The timer fired late by over a tick (a busy thread): the grid moves to its firing.
  t.is(clock.fired(75), 0);
  t.is(clock.rearm(75, 1, true), 10);
  t.is(clock.elapsed(84), 0);
  t.is(clock.elapsed(86), 0, 'the tick of 85 is the timer one: not caught up');
});

type CommitCoreLike = {
  tick(): void;
  ticksUntilDue(): number;
  advance(n: number): void;
  ready(): { messages: unknown[]; persist: unknown[]; decisions: unknown[] };
  hasReady(): boolean;
};

/** Twin commit cores: counting to the due tick at once, then the due tick, is the same as ticking there. */
function commitTwinsAgree(t: import('ava').ExecutionContext, make: () => CommitCoreLike): void {
  const lazy = make();
  const eager = make();
  const due = lazy.ticksUntilDue();
  t.true(due > 1 && Number.isFinite(due), `a timeout to count to (due in ${due})`);
  t.is(eager.ticksUntilDue(), due);
  lazy.advance(due - 1);
  for (let i = 0; i < due - 1; i++) {
    eager.tick();
    t.false(eager.hasReady(), 'a tick before the due one only counts');
  }
  t.is(lazy.ticksUntilDue(), 1);
  t.is(eager.ticksUntilDue(), 1);
  lazy.tick();
  eager.tick();
  t.true(lazy.hasReady(), 'the due tick does something');
  t.deepEqual(lazy.ready(), eager.ready());
  t.is(lazy.ticksUntilDue(), eager.ticksUntilDue());
}

for (const protocol of ['2pc', '3pc', 'paxos-commit'] as const) {
  test(`${protocol} coordinator: counting to the vote timeout at once`, (t) => {
    commitTwinsAgree(t, () => {
      const c = createCoordinatorCore(protocol, 'coordinator/r1', [], { acceptors: ['coordinator/r1', 'coordinator/r2', 'coordinator/r3'], seed: 7 });
      c.begin('t1', [
        { to: 'shard/0', payload: [] },
        { to: 'shard/1', payload: [] },
      ]);
      c.ready();
      return c;
    });
  });
}

for (const protocol of ['2pc', 'paxos-commit'] as const) {
  test(`${protocol} participant: counting to the vote timeout at once (the host never votes)`, (t) => {
    commitTwinsAgree(t, () => {
      const p = createParticipantCore(protocol, 'shard/0', [], { acceptors: ['coordinator/r1', 'coordinator/r2', 'coordinator/r3'], seed: 7 });
      const prepare =
        protocol === '2pc' ? { type: 'prepare', txn: 't1', payload: [] } : { type: 'prepare', txn: 't1', rms: ['shard/0', 'shard/1'], payload: [] };
      p.step('coordinator/r1', prepare);
      p.ready();
      return p;
    });
  });
}

test('3pc participant: ticks every tick while a transaction is open, never otherwise', (t) => {
  const p = createParticipantCore('3pc', 'shard/0', [], { acceptors: [], seed: 7 });
  t.is(p.ticksUntilDue(), Number.POSITIVE_INFINITY);
  p.step('coordinator/r1', { type: 'can-commit', txn: 't1', participants: ['shard/0', 'shard/1'], payload: [] });
  p.ready();
  t.is(p.ticksUntilDue(), 1);
});

test("the checking modes count a tick's effects and pass them on", (t) => {
  const sent: string[] = [];
  const ctx = fakeContext({ self: 'x', send: (to) => void sent.push(to), now: () => 5 });
  const counting = countingContext(ctx);
  t.is(counting.ctx.now(), 5, 'the rest is the context as it is');
  t.is(counting.ctx.self, 'x');
  counting.ctx.send('a', { type: 'm' });
  counting.ctx.count('c');
  t.is(counting.effects(), 2);
  t.deepEqual(sent, ['a']);
});
