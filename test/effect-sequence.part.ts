/**
 * Passive replication's effects with a hole in a reign (test/helpers/effect-sequence.ts: what a
 * seed does and what it checks): a change of primary loses a slot in the middle of a reign (a
 * no-op, or an older reign's value, takes it) while later effects of the reign are chosen;
 * replicas apply at their own pace, snapshot, restart and install each other's snapshots. A
 * replica's data is always its reign's primary's after some prefix of the reign.
 *
 * It is there for a bug that test/statemachine-random.part.ts catches in few seeds (43 of 100 on
 * 2026-12-02): a backup that applies a primary's effect although an earlier effect of the same
 * reign was lost (`effect-out-of-sequence` of scripts/mutants.mjs). The model checks which
 * states a replica reaches, not which effects it refuses.
 */
import test from 'ava';
import { runSeed } from './helpers/effect-sequence.js';
import { sweepSeeds } from './helpers/core-mutant.js';
import { mutantTests } from './helpers/mutant-tests.js';

test("passive effects with a hole in a reign: a slot lost in the middle (a no-op or an older reign's value) and later effects of the reign chosen, snapshots, restarts, installs; a replica's data is always its reign's primary's after a prefix of the reign, and replicas agree", (t) => {
  const { results, sum, noneFailed } = sweepSeeds(t, runSeed, 300);
  const holed = results.filter((r) => r.holes > 0).length;
  noneFailed(
    `seeds with a hole that shows (a lost command that changed the state, a later one of the reign chosen): ${holed}; holes ${sum((r) => r.holes)} in ${sum((r) => r.reigns)} reigns; ` +
      `commands ${sum((r) => r.commands)}; slots taken by an older reign's value ${sum((r) => r.staleValues)}; restores ${sum((r) => r.restores)}`,
  );
  // What the seeds are for (a property of the generator, not of the code): a hole in most seeds.
  // A share, so over enough seeds.
  if (results.length < 50) return;
  t.true(holed >= 0.8 * results.length, `a hole in ${holed} of ${results.length} seeds`);
  t.true(sum((r) => r.staleValues) > results.length / 10 && sum((r) => r.restores) > results.length, "older reigns' values and restores occur");
});

// A bug nothing in the project knows about (scripts/mutants.mjs puts it into a scratch copy of
// dist/): seeds 1-100 fail 92 of 100, seeds 1-500 460 (2026-12-02); about half required.
mutantTests('passive effects with a hole', 'test/helpers/effect-sequence.js', 100, [{ mutant: 'effect-out-of-sequence', share: 0.45 }]);
