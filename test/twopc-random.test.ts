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
 */
import test from 'ava';
import { runSeed } from './helpers/twopc-random.js';
import { catchesMutant, sweep } from './helpers/core-mutant.js';

test('randomized 2PC: late copies, drops, late votes, participant cores rebuilt without finished transactions, coordinator restarts; atomic, no assertion, nobody left in doubt', (t) => {
  const base = Number(process.env['MERIDIAN_SEED_BASE'] ?? 1);
  const seeds = Number(process.env['MERIDIAN_SEEDS'] ?? 400);
  t.log(`seeds ${base}..${base + seeds - 1} (MERIDIAN_SEED_BASE, MERIDIAN_SEEDS)`);
  const { failed, results } = sweep(runSeed, base, seeds);
  const committed = results.reduce((n, r) => n + r.committed, 0);
  t.log(`transactions committed: ${committed}; seeds failed: ${failed.length}`);
  for (const f of failed.slice(0, 10)) t.log(f);
  t.deepEqual(failed, []);
  t.true(committed > seeds, 'most seeds commit something');
});

test('randomized 2PC, seed 732: a late prepare copy that times out, then an old commit copy (the assertion this seed failed)', (t) => {
  t.log('seed 732 (MERIDIAN_SEED_BASE=732 MERIDIAN_SEEDS=1 runs it in the test above)');
  const r = runSeed(732);
  t.deepEqual(r.problems, []);
});

// A bug nothing in the project knows about, put into a scratch copy of dist/ by
// scripts/mutants.mjs; the share required is half of what seeds 1-400 fail (21, 2026-12-02).
// (`stale-leader-acks` is not caught here, 0 of 400: it needs a core that never saw a
// transaction its host holds prepared, a stale leader, which this model has no way to make.)
for (const { mutant, share } of [{ mutant: 'coordinator-ends-at-first-ack', share: 0.025 }]) {
  test(`randomized 2PC catches the ${mutant} mutant in at least ${share * 100}% of seeds`, (t) =>
    catchesMutant(t, { mutant, module: 'test/helpers/twopc-random.js', runner: (e) => e['runSeed'] as typeof runSeed, seeds: 400, share }));
}
