/**
 * Scripted tests of Multi-Paxos for state-machine replication ("Paxos Made Simple" section 3;
 * "Paxos Made Moderately Complex"): election, the steady state with batching and pipelining,
 * failover, catch-up from the log and from a snapshot, and a seeded randomized run.
 */
import test from 'ava';
import { analyticMessages } from '../src/protocols/costs.js';
import { MULTIPAXOS_PENDING_MAX } from '../src/protocols/multipaxos.js';
import { chaos, Cluster, ELECTION, HEARTBEAT, range, staleLeaderReads } from './helpers/multipaxos-cluster.js';
import { catchesMutant } from './helpers/core-mutant.js';
import { seedWindow } from './helpers/seed-window.js';
import { lowerInliningForThisFile } from './helpers/inlining.js';
// The randomized duel of Multi-Paxos leaders at the level of the cores (a test file of its own until
// 2026-12-07: a process of its own, ~0.7-1 CPU s, compiling the same cores cold) runs in this file.
import './multipaxos-duel.part.js';

// Its randomized runs (the duel part's too) run in this thread: V8's inlining budget lowered for
// the whole file, as a pool's seeds get it (test/helpers/inlining.ts).
lowerInliningForThisFile();

test('election then one slot: costs match the analytic counts', (t) => {
  for (const n of [1, 3, 5]) {
    const c = new Cluster(n);
    c.net.act('r1', (core) => core.campaign());
    const electionRounds = c.net.stabilize();
    t.true(c.core('r1').isLeader());
    for (const id of c.ids) t.is(c.core(id).leader(), 'r1', `${id} knows the leader, n=${n}`);
    const election = analyticMessages.multiPaxosElection(n);
    t.is(c.net.remoteSent, election.messages, `election messages, n=${n}`);
    t.is(c.net.persisted, election.stableWrites, `election writes, n=${n}`);
    t.is(Math.max(0, electionRounds - 1), election.messageDelays, `election delays (the last round only carries acks), n=${n}`);

    const [sent, persisted] = [c.net.remoteSent, c.net.persisted];
    c.propose('r1', 'a', 'b', 'c'); // one batch, one slot
    const start = c.net.round;
    c.net.stabilize();
    for (const id of c.ids) t.deepEqual(c.state(id), ['a', 'b', 'c'], `${id}, n=${n}`);
    const slot = analyticMessages.multiPaxosSlot(n);
    t.is(c.net.remoteSent - sent, slot.messages, `slot messages, n=${n}`);
    t.is(c.net.persisted - persisted, slot.stableWrites, `slot writes, n=${n}`);
    const lastApply = Math.max(...c.net.events.filter((e) => e.decision.kind === 'apply').map((e) => e.round));
    t.is(lastApply - start, slot.messageDelays, `slot delays, n=${n}`);
    t.deepEqual(
      c.net
        .decisionsOf('r1')
        .filter((d) => d.kind === 'apply')
        .map((d) => d.kind === 'apply' && [d.index, d.offset]),
      [
        [1, 0],
        [1, 1],
        [1, 2],
      ],
    );
    t.deepEqual(c.violations, []);
  }
});

test('a follower refuses proposals and names the leader', (t) => {
  const c = new Cluster(3);
  c.elect('r2');
  t.false(c.core('r1').propose('x'));
  t.is(c.core('r1').leaderHint(), 'r2');
  t.is(c.core('r3').leader(), 'r2');
});

test('batching and pipelining: at most maxBatch commands per slot, maxInflight slots in flight', (t) => {
  const c = new Cluster(3, { maxBatch: 2, maxInflight: 2 });
  c.elect('r1');
  c.propose('r1', ...range('c', 11));
  let maxInflight = 0;
  while (c.net.queue.length > 0) {
    maxInflight = Math.max(maxInflight, c.core('r1').status().inflight);
    c.net.deliverRound();
  }
  t.is(maxInflight, 2);
  for (const id of c.ids) t.deepEqual(c.state(id), range('c', 11));
  const slots = c.net
    .decisionsOf('r2')
    .filter((d) => d.kind === 'apply')
    .map((d) => (d.kind === 'apply' ? d.index : 0));
  t.deepEqual(slots, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
  t.deepEqual(c.violations, []);
});

test('leader failover: the new leader re-proposes accepted values and fills gaps with no-ops', (t) => {
  const c = new Cluster(3);
  c.elect('r1');
  c.propose('r1', 'a');
  c.net.stabilize(); // slot 1 = [a], everywhere
  c.propose('r1', 'b'); // slot 2
  c.net.act('r1', () => undefined);
  c.propose('r1', 'c'); // slot 3
  c.net.act('r1', () => undefined);
  // Slot 2's accepts are lost; slot 3's reaches r2 only. Then the leader dies.
  c.net.dropWhere((m) => m.msg.type === 'accept' && m.msg.index === 2);
  c.net.deliverWhere((m) => m.msg.type === 'accept' && m.msg.index === 3 && m.to === 'r2');
  c.net.crash('r1');
  c.net.stabilize();
  t.deepEqual(c.state('r2'), ['a']);
  // r2 or r3 times out and takes over; phase 1 sees [c] at slot 3 (in r2's promise).
  for (let i = 0; i < 4 * ELECTION && c.leaders().length === 0; i++) c.net.run(1);
  const [leader] = c.leaders();
  t.truthy(leader);
  t.not(leader, 'r1');
  c.net.run(1);
  for (const id of ['r2', 'r3']) t.deepEqual(c.state(id), ['a', 'c'], `${id}: slot 2 is a no-op, slot 3 kept c`);
  c.propose(leader!, 'd');
  c.net.stabilize();
  for (const id of ['r2', 'r3']) t.deepEqual(c.state(id), ['a', 'c', 'd']);
  // The old leader restarts: it re-applies its committed prefix, then catches up.
  c.net.restart('r1');
  t.deepEqual(c.state('r1'), ['a']);
  c.net.run(2 * HEARTBEAT);
  t.deepEqual(c.state('r1'), ['a', 'c', 'd']);
  t.deepEqual(c.violations, []);
});

test('a new leader re-proposes, for a slot, the value of the highest ballot its promises report, not an older one', (t) => {
  // Slot 1 holds x at r1's ballot (accepted by r1 alone) and y at r2's higher ballot (accepted
  // by r2 and r3: chosen, but r3 never heard so). r3's phase 1 hears both from r1 and itself:
  // it must keep y. Re-proposing x (the lowest ballot's value) would choose a second value for
  // a chosen slot; the randomized test below finds that bug in 1 seed of 400.
  const c = new Cluster(3);
  c.elect('r1');
  c.propose('r1', 'x');
  c.net.act('r1', () => undefined);
  t.is(
    c.net.dropWhere((m) => m.msg.type === 'accept' && m.msg.index === 1),
    2,
    "r1's accepts of x are lost",
  );
  c.net.crash('r1');
  c.elect('r2');
  t.deepEqual(c.leaders(), ['r2']);
  c.propose('r2', 'y');
  c.net.act('r2', () => undefined);
  t.is(
    c.net.deliverWhere((m) => m.msg.type === 'accept' && m.msg.index === 1 && m.to === 'r3'),
    1,
  );
  t.is(
    c.net.deliverWhere((m) => m.msg.type === 'accepted' && m.to === 'r2'),
    1,
  );
  t.deepEqual(c.state('r2'), ['y'], 'chosen: r2 applied y');
  c.net.dropWhere((m) => m.from === 'r2');
  c.net.crash('r2');
  t.deepEqual(c.state('r3'), [], 'r3 accepted y, never heard it was chosen');
  c.net.restart('r1');
  c.elect('r3');
  t.deepEqual(c.leaders(), ['r3']);
  c.net.stabilize();
  t.deepEqual(c.state('r3'), ['y']);
  t.deepEqual(c.state('r1'), ['y']);
  t.deepEqual(c.violations, []);
});

test('a lagging replica catches up from the leader log, in bounded chunks', (t) => {
  const c = new Cluster(3, { maxBatch: 1, maxInflight: 8 });
  c.elect('r1');
  c.net.isolate('r3');
  for (let i = 0; i < 40; i++) {
    c.propose('r1', `x${i}`);
    c.net.stabilize();
  }
  t.is(c.state('r2').length, 40);
  t.deepEqual(c.state('r3'), []);
  c.net.heal();
  c.net.run(HEARTBEAT);
  t.deepEqual(c.state('r3'), range('x', 40));
  t.true((c.net.sentByType['entries'] ?? 0) >= 1);
  t.deepEqual(c.violations, []);
});

test('a replica behind the leader snapshot installs it, then the slots after it', (t) => {
  const c = new Cluster(3, { maxBatch: 1, snapshotEvery: 5 });
  c.elect('r1');
  c.net.isolate('r3');
  for (let i = 0; i < 23; i++) {
    c.propose('r1', `x${i}`);
    c.net.stabilize();
  }
  t.is(c.core('r1').status().snapshotIndex, 20, 'the leader compacted through slot 20');
  c.net.heal();
  c.net.run(HEARTBEAT);
  t.deepEqual(c.state('r3'), range('x', 23));
  t.is(c.hosts.get('r3')!.snapshots, 1);
  t.deepEqual(
    c.net
      .decisionsOf('r3')
      .filter((d) => d.kind === 'snapshot')
      .map((d) => d.kind === 'snapshot' && d.index),
    [20],
  );
  // Restarting hands the host its own latest snapshot, then the committed slots after it.
  c.net.crash('r3');
  c.net.restart('r3');
  t.deepEqual(c.state('r3'), range('x', 23));
  t.deepEqual(c.violations, []);
});

test('a partitioned leader steps down (check quorum); its unreplicated proposals are never applied', (t) => {
  const c = new Cluster(5);
  c.elect('r1');
  c.propose('r1', 'a');
  c.net.stabilize();
  c.net.isolate('r1');
  c.propose('r1', 'lost');
  c.net.stabilize();
  for (let i = 0; i < 4 * ELECTION && (c.core('r1').isLeader() || c.leaders().length === 0); i++) c.net.run(1);
  t.false(c.core('r1').isLeader(), 'no quorum: stepped down');
  const [leader] = c.leaders();
  t.truthy(leader);
  c.propose(leader!, 'b');
  c.net.stabilize();
  c.net.heal();
  c.net.run(3 * HEARTBEAT);
  for (const id of c.ids) t.deepEqual(c.state(id), ['a', 'b'], id);
  t.is(c.core('r1').leader(), leader);
  t.deepEqual(c.violations, []);
});

test('dueling candidates: the lower ballot is refused and one leader emerges', (t) => {
  const c = new Cluster(3);
  c.net.act('r1', (core) => core.campaign());
  c.net.act('r2', (core) => core.campaign());
  c.net.stabilize();
  t.deepEqual(c.leaders(), ['r2'], 'ballot 1.r2 outbids 1.r1');
  t.true((c.net.sentByType['nack'] ?? 0) > 0);
  c.propose('r2', 'x');
  c.net.stabilize();
  for (const id of c.ids) t.deepEqual(c.state(id), ['x']);
});

test('randomized: drops, duplicates, reordering, partitions (a leader in a minority), crashes (leaders after they apply, as their proposals leave), leader duels and restarts keep replicas in agreement; no replica passes over a slot another applied', (t) => {
  const { base, seeds } = seedWindow(25, { baseVar: 'MERIDIAN_SEED', base: 7100 });
  t.log(`seeds ${base}..${base + seeds - 1} (MERIDIAN_SEED and MERIDIAN_SEEDS move and widen the window)`);
  let applied = 0;
  for (let seed = base; seed < base + seeds; seed++) {
    const result = chaos(seed, 2500);
    t.deepEqual(result.violations, [], `seed ${seed}`);
    applied += result.applied;
  }
  t.log(`commands applied on every replica, over all seeds: ${applied}`);
  // About 18 a seed (2026-12-02): leader crashes, targeted since then, cost elections.
  t.true(applied > seeds * 10, 'the runs made progress');
});

test('reads: the leader answers once a majority confirms it still leads and its log is applied; a deposed leader never answers', (t) => {
  const c = new Cluster(3);
  c.elect('r1');
  c.propose('r1', 'a');
  c.net.stabilize();
  t.false(c.read('r2', 'on-a-follower'), 'a follower refuses a read');
  // Nothing in flight: a heartbeat carries the read round, and one ack confirms it (r1 + r2).
  const sent = c.net.remoteSent;
  t.true(c.read('r1', 'read0'));
  t.is(c.readsAnswered, 0, 'not before a majority confirmed the round');
  c.net.stabilize();
  t.is(c.readsAnswered, 1);
  t.is(c.net.remoteSent - sent, 4, 'a read round costs a heartbeat and an ack per follower');
  // A write proposed in the same flush confirms the round when chosen: no heartbeat.
  const heartbeats = c.net.sentByType['heartbeat'] ?? 0;
  t.true(c.read('r1', 'read1', (core) => core.propose('b')));
  c.net.stabilize();
  t.is(c.readsAnswered, 2);
  t.is(c.net.sentByType['heartbeat'] ?? 0, heartbeats, 'the slot confirmed the second round');
  // A leader cut off from the others is asked a read: it must not answer, and hands it back
  // when it steps down; the new leader's writes are then not missed by anyone's read.
  c.net.isolate('r1');
  t.true(c.read('r1', 'stale'));
  // Unconfirmed reads are bounded: past MULTIPAXOS_PENDING_MAX waiting, the next is refused.
  c.net.act('r1', (core) => {
    let taken = 1;
    while (core.read(`flood${taken}`)) taken++;
    t.is(taken, MULTIPAXOS_PENDING_MAX, 'the cut-off leader took reads up to its bound');
  });
  for (let i = 0; i < 4 * ELECTION && c.core('r1').isLeader(); i++) c.net.run(1);
  t.false(c.core('r1').isLeader());
  t.is(c.readsAnswered, 2, 'the isolated leader answered nothing');
  t.is(c.readsDropped, MULTIPAXOS_PENDING_MAX, 'and handed its reads back when it stepped down');
  t.deepEqual(c.violations, []);
});

test('randomized with reads: every replica that believes it leads is asked reads; each answered read reflects everything applied anywhere before it was asked', (t) => {
  const { base, seeds } = seedWindow(25, { baseVar: 'MERIDIAN_SEED', base: 7100 });
  t.log(`seeds ${base}..${base + seeds - 1} (MERIDIAN_SEED and MERIDIAN_SEEDS move and widen the window)`);
  let reads = 0;
  for (let seed = base; seed < base + seeds; seed++) {
    const result = chaos(seed, 2500, false, true);
    t.deepEqual(result.violations, [], `seed ${seed}`);
    reads += result.reads;
  }
  t.log(`reads answered, over all seeds: ${reads}`);
  t.true(reads > seeds * 5, 'reads were answered');
});

// Bugs nothing in the project knows about, put into a scratch copy of dist/ by
// scripts/mutants.mjs, run under the same randomized run. Seeds 7100-7399 (2026-12-02, with the
// leader duel): 58, 125 and 15 of 300 fail. Seeds 7100-7199, the first 100 of that window
// (2026-12-07): 15, 43 and 3 of 100. The shares required are about half of those counts: over
// seeds 7100-7199 for the first two (a sweep stops at the share: fewer seeds to run), over all
// 300 for `lowest-ballot`, too rare for 100 seeds to show. `lowest-ballot` needs two values
// accepted at one slot under two ballots, the higher one chosen, and a next leader that hears
// both: the duel makes that (2 of 300 without it; `meridian check` catches it in about 12 of 100).
for (const { mutant, share, seeds } of [
  { mutant: 'noop-reproposal', share: 0.08, seeds: 100 },
  { mutant: 'minority-quorum', share: 0.2, seeds: 100 },
  { mutant: 'lowest-ballot', share: 0.025, seeds: 300 },
]) {
  test(`randomized Multi-Paxos catches the ${mutant} mutant in at least ${share * 100}% of seeds 7100-${7099 + seeds}`, (t) =>
    catchesMutant(t, {
      mutant,
      module: 'test/helpers/multipaxos-cluster.js',
      runner: (e) => (seed) => ({ problems: (e['chaos'] as typeof chaos)(seed, 2500).violations }),
      base: 7100,
      seeds,
      share,
    }));
}

test('reads at a deposed leader that has not heard: never answered from its stale state (seeded)', (t) => {
  const { base, seeds } = seedWindow(100, { baseVar: 'MERIDIAN_SEED', base: 7400 });
  t.log(`seeds ${base}..${base + seeds - 1} (MERIDIAN_SEED and MERIDIAN_SEEDS move and widen the window)`);
  let reads = 0;
  for (let seed = base; seed < base + seeds; seed++) {
    const result = staleLeaderReads(seed);
    t.deepEqual(result.violations, [], `seed ${seed}`);
    reads += result.reads;
  }
  t.log(`reads answered, over all seeds: ${reads}`);
  t.true(reads > seeds, 'reads were answered');
});

// Read-index bugs (scripts/mutants.mjs): a leader that answers reads without a majority
// confirming it still leads, and a new one that answers before it applied what its predecessor
// chose. The deposed-leader run, seeds 7400-7699 (2026-12-05): 225 and 82 of 300 caught (the
// randomized run with reads: 4 and 16 of 300 of seeds 7100-7399); seeds 7400-7499, the first
// 100 of that window (2026-12-07): 84 and 28 of 100. The shares, over those 100, are about half.
for (const { mutant, share } of [
  { mutant: 'read-unconfirmed', share: 0.4 },
  { mutant: 'read-below-floor', share: 0.12 },
]) {
  test(`Multi-Paxos reads at a deposed leader catch the ${mutant} mutant in at least ${share * 100}% of seeds 7400-7499`, (t) =>
    catchesMutant(t, {
      mutant,
      module: 'test/helpers/multipaxos-cluster.js',
      runner: (e) => (seed) => ({ problems: (e['staleLeaderReads'] as typeof staleLeaderReads)(seed).violations }),
      base: 7400,
      seeds: 100,
      share,
    }));
}
