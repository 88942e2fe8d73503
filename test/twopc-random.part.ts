/**
 * Randomized 2PC at the level of its cores (presumed abort), with what the cluster does to them:
 * copies of messages that come late (a duplicate stays in flight and is delivered at a random
 * later step), drops, a participant's host that votes some steps after the prepare (the prepare
 * goes through its shard's log first), participant cores rebuilt from a log where finished
 * transactions have no records (a new shard leader, or a restart after a checkpoint), and
 * coordinator restarts. The host keeps each transaction's outcome across rebuilds (the shard's
 * state machine) and, as the real one, answers a prepare of a transaction it finished by
 * dropping it (`forget`), not by voting.
 *
 * Any message sent earlier may also come again at any later step (a copy from the history).
 * And a participant's shard may have a stale replica that believes it leads (`p1~`): its core
 * is built from a prefix of the shard's log; the coordinator's messages to the shard reach it
 * at times; what it sends goes out as the shard's, but nothing that waits on a write of its
 * log (which is never chosen), nor anything after that.
 *
 * Checked per seed: no core assertion fails; no participant aborts a transaction it committed,
 * or commits one it aborted; no transaction commits at one participant and aborts at another, or
 * commits over a no vote; after a phase without faults, no participant is left in doubt.
 *
 * Written after `late-copies` found a participant that aborted a late prepare copy on a
 * presumed abort meant for an earlier state of it (2026-12-02; fixed in twopc.ts): without that
 * fix 18 of the 400 seeds fail. With prepares that stall in the log and copies of any earlier
 * message, it found one more (seed 732 of 3,000, pinned below): a late prepare copy of a
 * transaction committed here timed out before the host's vote, then an old commit copy met
 * that abort and the core's assertion failed (twopc.ts now takes that commit as it takes one
 * for a transaction it does not hold).
 *
 * With stale replicas (2026-12-02, session 22) it found another (seeds 1582 and 1777 of 2,000,
 * pinned below): a stale core, uncertain about a transaction that committed and ended, took the
 * presumed abort that answered a late copy of its vote, and a commit copy then met that abort.
 * twopc.ts takes such a commit as the one after a vote timeout. The stale replicas also let the
 * test catch `stale-leader-acks` (a core that acknowledges a commit it does not hold at once).
 */
import test from 'ava';
import { runSeed } from './helpers/twopc-random.js';
import { sweepSeeds } from './helpers/core-mutant.js';
import { mutantTests } from './helpers/mutant-tests.js';

test('randomized 2PC: late copies, drops, late votes, participant cores rebuilt without finished transactions, coordinator restarts; atomic, no assertion, nobody left in doubt', (t) => {
  const { seeds, sum, noneFailed } = sweepSeeds(t, runSeed, 400);
  const committed = sum((r) => r.committed);
  noneFailed(`transactions committed: ${committed}`);
  t.true(committed > seeds, 'most seeds commit something');
});

test('randomized 2PC, seeds that found bugs: 732 (before stale replicas; the unit test in bug-late-prepare.part.ts holds its sequence), 1582 and 1777 (a stale core: a presumed abort, then a commit)', (t) => {
  for (const seed of [732, 1582, 1777]) t.deepEqual(runSeed(seed).problems, [], `seed ${seed}`);
});

// Bugs nothing in the project knows about, put into a scratch copy of dist/ by
// scripts/mutants.mjs; the shares required are about half of what seeds 1-400 fail (2026-12-02,
// with stale replicas): 67 and 21 of 400. (`stale-leader-acks` was at 0 before the stale
// replicas: it needs a core that never saw a transaction its shard holds prepared.)
mutantTests('randomized 2PC', 'test/helpers/twopc-random.js', 400, [
  { mutant: 'coordinator-ends-at-first-ack', share: 0.075 },
  { mutant: 'stale-leader-acks', share: 0.025 },
]);
