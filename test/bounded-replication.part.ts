/**
 * State of the replication and commit-protocol layers that must stay bounded over a long run
 * (a class audit of growing state, session 64): each test runs many operations through the
 * layer that owns the state, with the fault that used to leave something behind every time,
 * and checks what is left.
 */
import test from 'ava';
import { PaxosCommitNode, PAXOS_COMMIT_REMEMBERED_TXNS_MAX } from '../src/protocols/paxoscommit.js';
import type { PaxosCommitDecision, PaxosCommitMessage, PaxosCommitRecord } from '../src/protocols/paxoscommit.js';
import type { GroupMode } from '../src/replication/group.js';
import { MEMORY_LIMITS_DEFAULT } from '../src/core/limits.js';
import { ALREADY_FINISHED, KvStateMachine } from '../src/replication/state-machine.js';
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

/** Transactions in the Paxos Commit test whose coordinator runs a phase 1. */
const RECOVERED_TXNS = 20;

/** The rounds a Paxos Commit node remembers (private: read as the test's own view of it). */
function roundsRemembered(node: PaxosCommitNode): number {
  return (node as unknown as { roundsUsed: Map<string, number> }).roundsUsed.size;
}

test('paxos commit: a node remembers the phase-1 rounds of at most PAXOS_COMMIT_REMEMBERED_TXNS_MAX transactions, and leads one it forgot at a ballot it never used', (t) => {
  const rms = ['p1', 'p2'];
  const acceptors = ['a1', 'a2', 'a3'];
  // The coordinator starts from a log with a round for as many transactions as it may remember
  // (rounds 1 to 3): the state a long run leaves, which live transactions then add to.
  const filler: PaxosCommitRecord[] = Array.from({ length: PAXOS_COMMIT_REMEMBERED_TXNS_MAX }, (_, i) => ({
    type: 'round',
    txn: `old:0:${i}`,
    round: 1 + (i % 3),
  }));
  const net: PcNet = new Net<PaxosCommitMessage, PaxosCommitRecord, PaxosCommitDecision, PaxosCommitNode>({
    ids: ['c', ...rms, ...acceptors],
    make: (id, recovered) =>
      new PaxosCommitNode(
        { self: id, acceptors, voteTimeoutTicks: 5, leaderTimeoutTicks: 8, recoveryTicks: 10 },
        id === 'c' && recovered === undefined ? filler : recovered,
      ),
    onDecision: (_id, core, d) => {
      if (d.kind === 'prepare') core.vote(d.txn, true);
    },
  });
  t.is(roundsRemembered(net.core('c')), PAXOS_COMMIT_REMEMBERED_TXNS_MAX, 'the rounds read back from the log');
  const outcomes = (): number => net.decisionsOf('c').filter((d) => d.kind === 'outcome').length;
  for (let i = 0; i < RECOVERED_TXNS; i++) {
    const txn = `r:0:${i}`;
    const before = outcomes();
    net.act('c', (c) =>
      c.begin(
        txn,
        rms.map((to) => ({ to, payload: `w${i}@${to}` })),
      ),
    );
    net.deliverRound(); // prepare -> the RMs prepare, send phase 2a
    net.deliverRound(); // phase 2a -> the acceptors accept, send phase 2b to c
    t.true(net.dropWhere((m) => m.msg.type === 'phase2b' && m.to === 'c') > 0, `${txn}: c never hears the phase 2b`);
    // c's leader timeout comes first: its phase 1 (a round of its own) decides the transaction.
    for (let k = 0; k < 100 && outcomes() === before; k++) net.run(1);
    t.is(outcomes(), before + 1, `${txn}: decided at c`);
    net.stabilize();
    for (const p of rms) t.is(net.core(p).phaseOf(txn), 'committed', `${txn}: committed at ${p}`);
  }
  t.is(net.logs.get('c')!.filter((r) => r.type === 'round').length, RECOVERED_TXNS, 'c ran a phase 1 for every transaction (a round record each)');
  t.is(roundsRemembered(net.core('c')), PAXOS_COMMIT_REMEMBERED_TXNS_MAX, `rounds c remembers after ${RECOVERED_TXNS} more`);
  // A transaction whose round c forgot (old:0:2 ran round 3, the highest of the log) led again:
  // a round above every one forgotten, never a ballot c used before for it.
  net.act('c', (c) => c.recover('old:0:2', rms, 'c'));
  const phase1a = net.queue.find((m) => m.msg.type === 'phase1a' && m.msg.txn === 'old:0:2');
  t.truthy(phase1a, 'c runs a phase 1 for it');
  t.true(
    phase1a!.msg.type === 'phase1a' && phase1a!.msg.ballot.round > 3,
    `round ${phase1a!.msg.type === 'phase1a' ? phase1a!.msg.ballot.round : '?'}, above the 3 it used`,
  );
});

/** Transactions in the state machine test that each get a late participant record. */
const LATE_RECORD_TXNS = 40;

// A participant record (an earlier leader's, chosen after the transaction's outcome) applied
// once the transaction had left `finishedSet`: it was kept in `pc` for good and made the
// transaction look open, so a late copy of its prepare locked its keys again.
test('state machine: a late participant record of a transaction finished and forgotten leaves nothing, and its late prepare is refused', (t) => {
  const finishedTxns = 4;
  const sm = new KvStateMachine({ ...MEMORY_LIMITS_DEFAULT, finishedTxns });
  const txn = (i: number): string => `r1:inc1:${i}`;
  const ops = (i: number): Array<{ op: 'put'; key: string; value: number }> => [{ op: 'put', key: `k${i % 3}`, value: i }];
  for (let i = 0; i < LATE_RECORD_TXNS + finishedTxns + 1; i++) {
    t.deepEqual(sm.apply({ k: 'prepare', txn: txn(i), ops: ops(i) }), [{ txn: txn(i), vote: true }], `${txn(i)} prepared`);
    sm.apply({ k: 'pc', txn: txn(i), record: { record: { type: 'voted', txn: txn(i), coordinator: 'c', payload: null } } });
    sm.apply(i % 2 === 0 ? { k: 'commit', txn: txn(i) } : { k: 'abort', txn: txn(i) });
    const late = i - finishedTxns - 1;
    if (late < 0) continue;
    t.true(sm.isFinished(txn(late)), `${txn(late)} forgotten, covered by the marks`);
    // 3PC's and 2PC's records, Paxos Commit's 'aborted' (its 'prepared' is dropped on its own).
    const type = ['precommitted', 'decided', 'aborted'][late % 3]!;
    sm.apply({ k: 'pc', txn: txn(late), record: { record: { type, txn: txn(late) } } });
  }
  t.is(sm.pc.size, 0, `participant records kept after ${LATE_RECORD_TXNS} late ones`);
  for (let late = 0; late < LATE_RECORD_TXNS; late++) {
    t.true(sm.isFinished(txn(late)), `${txn(late)} still finished`);
    t.deepEqual(
      sm.apply({ k: 'prepare', txn: txn(late), ops: ops(late) }),
      [{ txn: txn(late), vote: false, reason: ALREADY_FINISHED }],
      `a late prepare of ${txn(late)}`,
    );
  }
  t.deepEqual(
    [0, 1, 2].filter((k) => sm.isLocked(`k${k}`)),
    [],
    'keys locked',
  );
  // A transaction open here (prepared) keeps its records, even below the marks' reach.
  const open = txn(LATE_RECORD_TXNS + finishedTxns + 1);
  sm.apply({ k: 'prepare', txn: open, ops: [{ op: 'put', key: 'open', value: 0 }] });
  sm.apply({ k: 'pc', txn: open, record: { record: { type: 'voted', txn: open } } });
  t.is(sm.pc.get(open)?.length, 1);
});
