/**
 * Scripted tests of 3PC and its termination protocol (Skeen 1981; Bernstein, Hadzilacos &
 * Goodman 1987, section 7.5), including the split brain it suffers under a partition.
 */
import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { ThreePcCoordinator, ThreePcParticipant } from '../src/protocols/threepc.js';
import type { ThreePcCoordinatorDecision, ThreePcMessage, ThreePcParticipantDecision, ThreePcRecord } from '../src/protocols/threepc.js';
import { analyticMessages } from '../src/protocols/costs.js';
import { Net } from './protocols-net.js';
import { seedWindow } from './helpers/seed-window.js';

const VOTE_TIMEOUT = 5;
const ACK_TIMEOUT = 5;
const COORDINATOR_TIMEOUT = 6;
const TERMINATION = 4;

type Node = ThreePcCoordinator | ThreePcParticipant;
type Dec = ThreePcCoordinatorDecision | ThreePcParticipantDecision;
type ThreePcNet = Net<ThreePcMessage, ThreePcRecord, Dec, Node>;

function setup(n: number, votes: Record<string, boolean> = {}): { net: ThreePcNet; ps: string[] } {
  const ps = Array.from({ length: n }, (_, i) => `p${i + 1}`);
  const net = new Net<ThreePcMessage, ThreePcRecord, Dec, Node>({
    ids: ['c', ...ps],
    make: (id, recovered) =>
      id === 'c'
        ? new ThreePcCoordinator({ self: 'c', voteTimeoutTicks: VOTE_TIMEOUT, ackTimeoutTicks: ACK_TIMEOUT })
        : new ThreePcParticipant(
            { self: id, voteTimeoutTicks: VOTE_TIMEOUT, coordinatorTimeoutTicks: COORDINATOR_TIMEOUT, terminationTicks: TERMINATION },
            recovered,
          ),
    onDecision: (id, core, d) => {
      if (d.kind === 'prepare' && core instanceof ThreePcParticipant) core.vote(d.txn, votes[id] ?? true, `check failed on key "k@${id}"`);
    },
  });
  return { net, ps };
}

function begin(net: ThreePcNet, txn: string, ps: string[]): void {
  net.act('c', (c) =>
    (c as ThreePcCoordinator).begin(
      txn,
      ps.map((to) => ({ to, payload: `w@${to}` })),
    ),
  );
}

function outcomes(net: ThreePcNet, id: string): string[] {
  return net
    .decisionsOf(id)
    .filter((d) => d.kind !== 'prepare')
    .map((d) => `${d.kind} ${d.txn}`);
}

/** Ticks with full delivery until every listed node decided, or fails after `max` ticks. */
function runUntilDecided(net: ThreePcNet, ids: string[], max = 100): number {
  for (let i = 0; i < max; i++) {
    if (ids.every((id) => outcomes(net, id).length > 0)) return i;
    net.run(1);
  }
  throw new Error(`undecided after ${max} ticks: ${ids.filter((id) => outcomes(net, id).length === 0).join(', ')}`);
}

/** Can-commit, votes, then pre-commit delivered only to `reached`; the coordinator then crashes. */
function crashDuringPreCommit(net: ThreePcNet, ps: string[], reached: string[]): void {
  begin(net, 't1', ps);
  net.deliverRound(); // can-commit -> yes votes
  net.deliverRound(); // votes -> pre-commits queued
  t_assertQueued(net, ps.length);
  net.deliverWhere((m) => m.msg.type === 'pre-commit' && reached.includes(m.to));
  net.dropWhere((m) => m.from === 'c'); // the other pre-commits never leave
  net.crash('c');
  net.stabilize(); // the acks are lost
}

function t_assertQueued(net: ThreePcNet, n: number): void {
  const count = net.queue.filter((m) => m.msg.type === 'pre-commit').length;
  if (count !== n) throw new Error(`expected ${n} pre-commits in flight, saw ${count}`);
}

test('fault-free commit: costs match threePcCost(N)', (t) => {
  for (let n = 1; n <= 5; n++) {
    const { net, ps } = setup(n);
    begin(net, 't1', ps);
    net.stabilize();
    t.deepEqual(outcomes(net, 'c'), ['commit t1']);
    for (const p of ps) t.deepEqual(net.decisionsOf(p).at(-1), { kind: 'commit', txn: 't1', payload: `w@${p}` });
    const cost = analyticMessages.threePc(n);
    t.is(net.remoteSent, cost.messages, `messages N=${n}`);
    t.is(Math.max(...net.events.map((e) => e.round)), cost.messageDelays, `delays N=${n}`);
    t.is(net.persisted, cost.stableWrites, `writes N=${n}`);
  }
});

test("a no vote aborts everyone, with the no-voter's reason", (t) => {
  const { net, ps } = setup(3, { p3: false });
  begin(net, 't1', ps);
  net.stabilize();
  t.deepEqual(net.decisionsOf('c'), [{ kind: 'abort', txn: 't1', reason: 'vote-no', why: 'check failed on key "k@p3"' }]);
  for (const p of ps) t.deepEqual(outcomes(net, p), ['abort t1']);
});

test('a vote that never arrives aborts on the timeout, naming whose is missing', (t) => {
  const { net, ps } = setup(2);
  begin(net, 't1', ps);
  net.deliverRound(); // can-commit
  t.is(
    net.dropWhere((m) => m.from === 'p2' && m.msg.type === 'vote'),
    1,
  );
  net.stabilize();
  net.run(VOTE_TIMEOUT);
  t.deepEqual(net.decisionsOf('c'), [{ kind: 'abort', txn: 't1', reason: 'timeout', why: 'no vote in time from p2' }]);
});

test('coordinator crash after one pre-commit: the participants terminate without it and commit', (t) => {
  const { net, ps } = setup(4);
  crashDuringPreCommit(net, ps, ['p3']);
  t.is((net.core('p3') as ThreePcParticipant).stateOf('t1'), 'precommitted');
  t.is((net.core('p1') as ThreePcParticipant).stateOf('t1'), 'uncertain');
  runUntilDecided(net, ps);
  // p1 (lowest) ran termination: it saw p3 pre-committed, pre-committed the rest, then committed.
  for (const p of ps) t.deepEqual(outcomes(net, p), ['commit t1']);
  t.true((net.sentByType['state-request'] ?? 0) >= ps.length - 1);
});

test('coordinator crash before any pre-commit: the participants terminate and abort', (t) => {
  const { net, ps } = setup(3);
  crashDuringPreCommit(net, ps, []);
  runUntilDecided(net, ps);
  for (const p of ps) t.deepEqual(outcomes(net, p), ['abort t1']);
  for (const p of ps) t.deepEqual(net.decisionsOf(p).at(-1), { kind: 'abort', txn: 't1', payload: `w@${p}`, reason: 'termination' });
});

test('coordinator and the first candidate crash: the lowest live participant that answers terminates', (t) => {
  const { net, ps } = setup(4);
  crashDuringPreCommit(net, ps, ['p4']);
  net.crash('p1');
  const rest = ['p2', 'p3', 'p4'];
  runUntilDecided(net, rest);
  for (const p of rest) t.deepEqual(outcomes(net, p), ['commit t1']);
});

test('a decided participant answers a late request for help with its decision', (t) => {
  const { net, ps } = setup(3);
  begin(net, 't1', ps);
  net.stabilize();
  // p2 pretends to have missed everything and asks p1.
  net.core('p1').step('p2', { type: 'help', txn: 't1', participants: ps });
  net.pump('p1');
  t.deepEqual(
    net.queue.map((m) => m.msg),
    [{ type: 'decision', txn: 't1', commit: true }],
  );
});

test('UNSAFE under a partition: one side commits, the other aborts (split brain)', (t) => {
  const { net, ps } = setup(4);
  // The coordinator dies after p1 alone got its pre-commit; the network splits {p1, p2} | {p3, p4}.
  crashDuringPreCommit(net, ps, ['p1']);
  net.partition([
    ['p1', 'p2'],
    ['p3', 'p4'],
  ]);
  runUntilDecided(net, ps, 200);
  // Side A: p1 terminates, sees a pre-committed participant (itself), commits.
  t.deepEqual(outcomes(net, 'p1'), ['commit t1']);
  t.deepEqual(outcomes(net, 'p2'), ['commit t1']);
  // Side B: p3 and p4 suspect p1, then p2, then p3 terminates: all uncertain, so it aborts.
  t.deepEqual(outcomes(net, 'p3'), ['abort t1']);
  t.deepEqual(outcomes(net, 'p4'), ['abort t1']);
  t.log('atomicity violated, as 3PC allows under partitions: p1, p2 committed; p3, p4 aborted');
});

test('a participant that restarts in doubt rejoins termination with its durable state', (t) => {
  const { net, ps } = setup(3);
  crashDuringPreCommit(net, ps, ['p2']);
  net.crash('p2');
  net.restart('p2');
  t.is((net.core('p2') as ThreePcParticipant).stateOf('t1'), 'precommitted', 'its pre-commit was durable');
  runUntilDecided(net, ps);
  for (const p of ps) t.deepEqual(outcomes(net, p), ['commit t1']);
});

test('randomized crash-stop (synchronous rounds, crashes mid-broadcast, no restarts): never split, always terminates', (t) => {
  const { base, seeds } = seedWindow(60, { baseVar: 'MERIDIAN_SEED', base: 3300 });
  t.log(`seeds ${base}..${base + seeds - 1}`);
  const outcomesSeen = { commit: 0, abort: 0 };
  for (let seed = base; seed < base + seeds; seed++) {
    const prng = new Prng(seed);
    const votes: Record<string, boolean> = {};
    const { net, ps } = setup(4, votes);
    for (const p of ps) votes[p] = prng.chance(0.9);
    begin(net, 't1', ps);
    const nodes = ['c', ...ps];
    let crashes = 0;
    for (let round = 0; round < 80; round++) {
      // Every message in flight is delivered before the next tick: timeouts never lie, which
      // is the synchrony that 3PC's crash-stop model assumes.
      while (net.queue.length > 0) {
        if (crashes < 3 && prng.chance(0.03)) {
          const up = nodes.filter((id) => !net.down.has(id));
          const victim = prng.pick(up);
          net.crash(victim);
          crashes++;
          // A crash in the middle of a broadcast: some of its last messages never leave.
          net.queue = net.queue.filter((m) => m.from !== victim || prng.chance(0.5));
          continue;
        }
        const i = prng.int(net.queue.length);
        const [m] = net.queue.splice(i, 1);
        net.queue.unshift(m!);
        net.deliverWhere((x) => x === m);
      }
      net.tick();
    }
    const decided = new Set<string>();
    for (const p of ps) {
      for (const d of net.decisionsOf(p)) if (d.kind === 'commit' || d.kind === 'abort') decided.add(d.kind);
      // A live participant whose host was asked to prepare must learn the outcome. (One that
      // never got can-commit, because the coordinator died mid-broadcast, has nothing to decide.)
      const asked = net.decisionsOf(p).some((d) => d.kind === 'prepare');
      if (asked && !net.down.has(p)) t.true(outcomes(net, p).length > 0, `seed ${seed}: live ${p} terminated`);
    }
    for (const d of net.decisionsOf('c')) decided.add(d.kind);
    t.true(decided.size <= 1, `seed ${seed}: ${[...decided].join(' and ')}`);
    if (decided.has('commit')) {
      outcomesSeen.commit++;
      t.true(
        ps.every((p) => votes[p]),
        `seed ${seed}: committed over a no vote`,
      );
    } else outcomesSeen.abort++;
  }
  t.log(`committed ${outcomesSeen.commit}, aborted ${outcomesSeen.abort}`);
  t.true(outcomesSeen.commit > 0 && outcomesSeen.abort > 0);
});
