/**
 * State of the replication and commit-protocol layers that must stay bounded over a long run
 * (a class audit of growing state, session 64): each test runs many operations through the
 * layer that owns the state, with the fault that used to leave something behind every time,
 * and checks what is left.
 */
import test from 'ava';
import { PaxosCommitNode } from '../src/protocols/paxoscommit.js';
import type { PaxosCommitDecision, PaxosCommitMessage, PaxosCommitRecord } from '../src/protocols/paxoscommit.js';
import type { GroupMode } from '../src/replication/group.js';
import { passiveReplica } from './helpers/groups.js';
import { call, elect, pump, type Shard } from './helpers/passive-reads.js';
import { Net } from './protocols-net.js';

/** Leader changes in the group test, each losing one command of the leader deposed. */
const LOST_REIGNS = 40;

for (const mode of ['active', 'passive'] as const satisfies readonly GroupMode[]) {
  test(`${mode}: a leader deposed with a command its successor never chose keeps no waiter for it once its log passes that slot`, (t) => {
    const ids = ['a', 'b', 'c'];
    const s: Shard = { groups: new Map(ids.map((id) => [id, passiveReplica(id, ids, 0, { mode })])), replies: new Map() };
    let leader = elect(s, 'a');
    t.true(leader.isLeader());
    const lost: number[] = [];
    for (let i = 0; i < LOST_REIGNS; i++) {
      // The leader takes a put whose accepts reach no one (it is cut off), and the next replica
      // is elected without it: the slot the put held goes to the new leader's own commands.
      const cut = new Set([leader.config.self]);
      lost.push(call(leader, 'put', `k${i}`, i));
      pump(s, cut);
      const next = s.groups.get(ids[(ids.indexOf(leader.config.self) + 1) % ids.length]!)!;
      elect(s, next.config.self, cut);
      t.true(next.isLeader(), `round ${i}: ${next.config.self} elected`);
      const put = call(next, 'put', `n${i}`, i);
      pump(s, cut);
      t.like(s.replies.get(put), { ok: true }, `round ${i}: the new leader's put is chosen`);
      // Healed: the old leader follows the new one and applies what was chosen in its slot.
      const old = leader;
      for (let k = 0; k < 40 && (old.isLeader() || old.core.status().applied < next.core.status().commitIndex); k++) {
        old.tick();
        next.tick();
        pump(s);
      }
      t.false(old.isLeader(), `round ${i}: ${old.config.self} stepped down`);
      t.true(old.core.status().applied >= next.core.status().commitIndex, `round ${i}: ${old.config.self} caught up`);
      leader = next;
    }
    // Unchanged: the lost puts are not answered by the groups (their callers' deadlines answer them).
    for (const rid of lost) t.false(s.replies.has(rid), `put ${rid} is not answered`);
    const waiters = ids.map((id) => s.groups.get(id)!.status().waiters);
    t.deepEqual(waiters, [0, 0, 0], `waiters left per replica after ${LOST_REIGNS} lost commands`);
  });
}

type PcNet = Net<PaxosCommitMessage, PaxosCommitRecord, PaxosCommitDecision, PaxosCommitNode>;

/** Transactions in the Paxos Commit test, each recovered by a phase 1. */
const RECOVERED_TXNS = 50;

/** The rounds a Paxos Commit node remembers per transaction (private: read as the test's own view of it). */
function roundsRemembered(node: PaxosCommitNode): number {
  return (node as unknown as { roundsUsed: Map<string, number> }).roundsUsed.size;
}

test('paxos commit: the round a leader used for a transaction is forgotten once the transaction is decided', (t) => {
  const rms = ['p1', 'p2'];
  const acceptors = ['a1', 'a2', 'a3'];
  const net: PcNet = new Net<PaxosCommitMessage, PaxosCommitRecord, PaxosCommitDecision, PaxosCommitNode>({
    ids: ['c', ...rms, ...acceptors],
    make: (id, recovered) => new PaxosCommitNode({ self: id, acceptors, voteTimeoutTicks: 5, leaderTimeoutTicks: 8, recoveryTicks: 10 }, recovered),
    onDecision: (_id, core, d) => {
      if (d.kind === 'prepare') core.vote(d.txn, true);
    },
  });
  const outcomes = (id: string): number => net.decisionsOf(id).filter((d) => d.kind === 'outcome' || d.kind === 'commit').length;
  for (let i = 0; i < RECOVERED_TXNS; i++) {
    const txn = `r:0:${i}`;
    const before = outcomes('c');
    net.act('c', (c) =>
      c.begin(
        txn,
        rms.map((to) => ({ to, payload: `w${i}@${to}` })),
      ),
    );
    net.deliverRound(); // prepare -> the RMs prepare, send phase 2a
    net.deliverRound(); // phase 2a -> the acceptors accept, send phase 2b to c
    t.true(net.dropWhere((m) => m.msg.type === 'phase2b' && m.to === 'c') > 0, `${txn}: c never hears the phase 2b`);
    // Even with a leader that times out (phase 1 with a round of its own), then an RM whose
    // recovery comes second, the transaction commits.
    for (let k = 0; k < 100 && outcomes('c') === before; k++) net.run(1);
    t.is(outcomes('c'), before + 1, `${txn}: decided at c`);
    net.stabilize();
    for (const p of rms) t.is(net.core(p).phaseOf(txn), 'committed', `${txn}: committed at ${p}`);
  }
  t.true(net.logs.get('c')!.filter((r) => r.type === 'round').length >= RECOVERED_TXNS, 'c ran phase 1 for every transaction (a round record each)');
  for (const id of ['c', ...rms]) t.is(roundsRemembered(net.core(id)), 0, `rounds ${id} remembers after ${RECOVERED_TXNS} decided transactions`);
});
