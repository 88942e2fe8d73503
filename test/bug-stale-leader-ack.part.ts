import test from 'ava';
import { TwoPcCoordinator } from '../src/protocols/twopc.js';
import type { GroupReplica } from '../src/replication/group.js';
import { passiveReplica } from './helpers/groups.js';
import { Participants, type ParticipantEffect } from '../src/replication/participant.js';
import type { ParticipantWire } from '../src/replication/messages.js';

// Found on NATS: real-time runs of the scenario (3 host processes, a real nats-server, passive
// replication, 2PC; not reproducible by seed) lost a committed transaction's write at one
// shard: seeds 115 and 2146 of some 560 runs (2026-12-01), seed 9118 of some 240
// (2026-12-02). A replica cut off from the other servers, but not from the coordinators, went
// on leading in its own view (its process starved, its quorum check late) while the others
// elected a new leader, which prepared and voted on a transaction T. The coordinator committed
// T and sent the commit to the old leader (it sends to the replica it heard from last, and
// tries the others in turn when one is silent). That core did not know T, took it for one
// "decided long ago and forgotten" and acknowledged at once. The coordinator, every
// participant acknowledged, forgot T; the real leader, uncertain, asked for the outcome and
// was told "presumed abort": T's writes at that shard were dropped while the other shards
// applied theirs. A probe (an assertion that a participant acknowledges a commit only where
// the shard's state machine has the transaction finished) fired in seed 13014 of some 40 NATS
// runs: acknowledged by r2/0 for shard 2, its core not knowing the transaction, its state
// machine neither prepared nor finished it, leading in its own view.
//
// Now a 2PC participant that does not hold a transaction decides its commit again: the host
// proposes it to the shard's log (a no-op where the transaction finished, the writes where it
// is still prepared) and the ack leaves only once that is chosen, which a stale leader never
// gets.

const ids = ['a', 'b', 'c'];
const SHARD = 1;

interface Node {
  id: string;
  group: GroupReplica;
  parts: Participants;
  /** What its participant sent (to coordinators). */
  sent: Array<{ to: string; msg: unknown }>;
}

function node(id: string): Node {
  const group = passiveReplica(id, ids, SHARD);
  const parts = new Participants({
    self: id,
    incarnation: `${id}-1`,
    commit: '2pc',
    acceptors: [],
    groupOf: () => ids,
    groups: new Map([[SHARD, group]]),
    down: new Set(),
  });
  return { id, group, parts, sent: [] };
}

function carry(n: Node, effects: readonly ParticipantEffect[]): void {
  for (const e of effects) if (e.kind === 'send' || e.kind === 'forward') n.sent.push({ to: e.to, msg: e.msg });
}

/** Runs the groups (as a server's drain loop does) until nothing moves; nothing to or from `cut` is delivered. */
function pump(nodes: Node[], cut: ReadonlySet<string>): void {
  for (let round = 0; round < 100; round++) {
    let moved = false;
    for (const n of nodes) {
      const r = n.group.ready();
      for (const m of r.messages) {
        moved = true;
        if (cut.has(n.id) || cut.has(m.to)) continue;
        nodes.find((x) => x.id === m.to)!.group.step(n.id, m.msg);
      }
      for (const out of n.group.takeOutputs()) {
        moved = true;
        carry(n, n.parts.onGroupOutput(SHARD, out));
      }
      carry(n, n.parts.afterOutputs(SHARD));
    }
    if (!moved) return;
  }
}

/** A coordinator's message to the shard's participant at `n`, as the server hands it over. */
function deliver(n: Node, m: unknown, from = 'coord'): void {
  carry(n, n.parts.receive({ type: 'tx', s: SHARD, m } as ParticipantWire, from));
}

/** The participant messages `n` sent to the coordinator (unwrapped). */
function toCoordinator(n: Node): unknown[] {
  return n.sent.filter((s) => s.to === 'coord').map((s) => (s.msg as { m: unknown }).m);
}

test('2PC: a shard leader that leads only in its own view does not acknowledge a commit its log does not hold; the real leader applies it', (t) => {
  const nodes = ids.map(node);
  const [a, b] = nodes as [Node, Node, Node];
  a.group.core.campaign();
  pump(nodes, new Set());
  t.true(a.group.leaderCaughtUp(), 'a leads, its barrier applied');

  // a is cut off from the other servers (not from the coordinator); b is elected. No tick
  // reaches a, so it still leads in its own view.
  const cut = new Set(['a']);
  b.group.core.campaign();
  pump(nodes, cut);
  t.true(b.group.leaderCaughtUp(), 'b leads');
  t.true(a.group.isLeader(), 'a still believes it leads');

  // The coordinator runs T; the shard's real leader prepares it and votes yes.
  const coordinator = new TwoPcCoordinator({ self: 'coord', voteTimeoutTicks: 100, commitRetryTicks: 10 });
  const ops = [{ op: 'put', key: 'k', value: 1 }];
  coordinator.begin('T', [{ to: `shard/${SHARD}`, payload: ops }]);
  for (const m of coordinator.ready().messages) deliver(b, m.msg);
  pump(nodes, cut);
  t.deepEqual(toCoordinator(b), [{ type: 'vote', txn: 'T', yes: true }]);
  for (const m of toCoordinator(b)) coordinator.step(`shard/${SHARD}`, m as never);
  const commit = coordinator.ready().messages.find((m) => (m.msg as { type: string }).type === 'commit')!;
  t.truthy(commit, 'committed');

  // The commit reaches the stale leader a, which never saw T.
  deliver(a, commit.msg);
  pump(nodes, cut);
  t.is(a.group.sm.readsOf('T'), undefined, "T is not in a's log");
  t.deepEqual(toCoordinator(a), [], "no ack: the commit is not in the shard's log, and a cannot get it chosen");
  t.deepEqual(coordinator.active(), [{ txn: 'T', phase: 'committed' }], 'the coordinator still holds T');

  // The coordinator sends the commit again (to the leader it hears from): applied, then acknowledged.
  deliver(b, commit.msg);
  pump(nodes, cut);
  t.deepEqual(toCoordinator(b).slice(1), [{ type: 'ack', txn: 'T' }]);
  t.is(b.group.sm.data.get('k'), 1, "T's write is applied at the shard");
  for (const m of toCoordinator(b).slice(1)) coordinator.step(`shard/${SHARD}`, m as never);
  coordinator.ready();
  t.deepEqual(coordinator.active(), [], 'the coordinator forgets T only now');
});

test('2PC: a commit of a transaction that finished at the shard and was forgotten by its core is still acknowledged, once the no-op commit is in the log', (t) => {
  const nodes = ids.map(node);
  const [a] = nodes as [Node, Node, Node];
  a.group.core.campaign();
  pump(nodes, new Set());
  const ops = [{ op: 'put', key: 'k', value: 2 }];
  deliver(a, { type: 'prepare', txn: 'T', payload: ops });
  pump(nodes, new Set());
  deliver(a, { type: 'commit', txn: 'T' });
  pump(nodes, new Set());
  t.deepEqual(toCoordinator(a), [
    { type: 'vote', txn: 'T', yes: true },
    { type: 'ack', txn: 'T' },
  ]);
  t.is(a.group.sm.data.get('k'), 2);
  // A fresh participant host at the same replica (a rebuilt core: a finished transaction has no records).
  const fresh: Node = {
    ...a,
    parts: new Participants({
      self: 'a',
      incarnation: 'a-2',
      commit: '2pc',
      acceptors: [],
      groupOf: () => ids,
      groups: new Map([[SHARD, a.group]]),
      down: new Set(),
    }),
    sent: [],
  };
  const others = nodes.map((n) => (n.id === 'a' ? fresh : n));
  deliver(fresh, { type: 'commit', txn: 'T' });
  t.deepEqual(toCoordinator(fresh), [], 'not before the commit is chosen');
  pump(others, new Set());
  t.deepEqual(toCoordinator(fresh), [{ type: 'ack', txn: 'T' }], 'a late copy of the commit: acknowledged');
  t.is(a.group.sm.data.get('k'), 2, 'nothing written twice');
});
