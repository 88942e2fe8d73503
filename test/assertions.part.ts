import test from 'ava';
import { MultiPaxos } from '../src/protocols/multipaxos.js';
import type { GroupReplica } from '../src/replication/group.js';
import { passiveReplica } from './helpers/groups.js';

/**
 * The assertions at the protocol steps are live: a state that breaks an invariant (made here
 * by hand, since the protocols never make one) stops the next step with an assertion error.
 */

/** Hands a single-replica core its own messages until it has nothing more to say. */
function settle(core: MultiPaxos, self: string): void {
  for (let round = 0; round < 20 && core.hasReady(); round++) {
    for (const { to, msg } of core.ready().messages) if (to === self) core.step(self, msg);
  }
}

test('multipaxos: a leader whose promise moved past its ballot fails its next tick', (t) => {
  const core = new MultiPaxos({ self: 'a', peers: ['a'], electionTicks: 10, heartbeatTicks: 3, maxBatch: 4, maxInflight: 4 });
  core.campaign();
  settle(core, 'a');
  t.true(core.isLeader());
  core.tick(); // Sound state: no assertion.
  const { ballot } = core.status();
  (core as unknown as { promised: { round: number; id: string } }).promised = { round: ballot.round, id: 'z' };
  t.throws(() => core.tick(), { message: /assertion failed: multipaxos: a candidate or leader has promised exactly its own ballot/ });
});

test('multipaxos: a follower with a committed slot left unapplied fails its next step', (t) => {
  const core = new MultiPaxos({ self: 'a', peers: ['a', 'b', 'c'], electionTicks: 10, heartbeatTicks: 3, maxBatch: 4, maxInflight: 4 });
  const ballot = { round: 1, id: 'b' };
  core.step('b', { type: 'accept', ballot, index: 1, commands: ['x'], commitIndex: 0 });
  const log = (core as unknown as { log: { applied: number } }).log;
  t.is(log.applied, 0);
  log.applied = -1;
  t.throws(() => core.step('b', { type: 'heartbeat', ballot, commitIndex: 0 }), { message: /assertion failed: multipaxos: every committed slot is applied/ });
});

test('group: a primary with neither a pending barrier nor a speculative state fails at ready()', (t) => {
  const group = passiveReplica('a', ['a']);
  group.core.campaign();
  for (let round = 0; round < 20; round++) {
    for (const { to, msg } of group.ready().messages) if (to === 'a') group.step('a', msg);
  }
  t.true(group.isLeader());
  t.true(group.submit({ op: 'put', key: 'k', value: 1 }, { to: 'client', rid: 1 }), 'the primary serves after its barrier');
  (group as unknown as { spec: unknown }).spec = undefined;
  t.throws(() => group.ready(), { message: /assertion failed: group: a primary has a barrier pending or a speculative state/ });
});

test('group: an operation a passive replica took while its core had just been elected, before ready() saw it, is answered when the core steps down again before ready()', (t) => {
  // Found by `meridian check --seeds 1000 --mode passive` with pauses (seed 779, 2026-12-01): a
  // paused leader, resumed, took a backlog in one step: it won an election, took client
  // operations and lost the leadership again before its ready(). Before the fix the operations
  // stayed held by a backup for ever ("group: a backup holds no operations").
  const [a, b, c] = (['a', 'b', 'c'] as const).map((self) => passiveReplica(self, ['a', 'b', 'c'])) as [GroupReplica, GroupReplica, GroupReplica];
  a.core.campaign();
  for (const { to, msg } of a.ready().messages) if (to === 'b') b.step('a', msg);
  for (const { to, msg } of b.ready().messages) if (to === 'a') a.step('b', msg);
  t.true(a.core.isLeader(), 'elected, not yet seen by ready()');
  t.true(a.submit({ op: 'put', key: 'k', value: 1 }, { to: 'client', rid: 7 }), 'taken: held until the barrier');
  // A higher ballot arrives in the same step: the core steps down.
  c.core.campaign();
  c.core.campaign();
  for (const { to, msg } of c.ready().messages) if (to === 'a') a.step('c', msg);
  t.false(a.core.isLeader());
  t.notThrows(() => a.ready());
  const replies = a.outputs.filter((o) => o.kind === 'reply');
  t.is(replies.length, 1, JSON.stringify(a.outputs));
  t.like(replies[0], { kind: 'reply', ok: false, code: 'TIMEOUT', origin: { to: 'client', rid: 7 } });
});
