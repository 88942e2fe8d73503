/**
 * Duelling Multi-Paxos leaders (test/helpers/multipaxos-duel.ts: what a seed does and what it
 * checks): a leader whose values reach a minority, a second one that puts its own values in the
 * same slots and has them chosen without telling anyone, and a third whose phase 1 hears both.
 *
 * It is there for a bug that test/protocols-multipaxos.test.ts catches in few seeds (15 of 300 on
 * 2026-12-02): a new leader that re-proposes, for a slot, the value of the lowest ballot its
 * promises report instead of the highest (`lowest-ballot`). With it, the third leader puts the
 * first leader's value back into a slot where the second's was chosen: two values chosen for one
 * slot. The model checks properties, not that code path: one value chosen per slot (from the
 * acceptors' durable accept records), every command applied is its slot's chosen value, one
 * command per log position everywhere, replicas' states prefixes of each other.
 */
import test from 'ava';
import { runSeed } from './helpers/multipaxos-duel.js';
import { sweepSeeds } from './helpers/core-mutant.js';
import { mutantTests } from './helpers/mutant-tests.js';

test('duelling Multi-Paxos leaders: values at a minority, newer values chosen in the same slots unannounced, a next leader hearing both, crashes, cut-off leaders, late messages; one value chosen per slot, and it is what every replica applies', (t) => {
  const { results, sum, noneFailed } = sweepSeeds(t, runSeed, 200);
  const duelling = results.filter((r) => r.duels > 0).length;
  noneFailed(
    `seeds with a duel (a slot with two values accepted under two ballots, the newer chosen): ${duelling}; slots duelled: ${sum((r) => r.duels)}; ` +
      `five replicas: ${results.filter((r) => r.replicas === 5).length}; third leaders elected: ${sum((r) => r.episodes)}; ` +
      `commands applied: ${sum((r) => r.applied)}`,
  );
  // What the seeds are for: a slot with two values under two ballots, the newer chosen (in about
  // 97% of seeds, 2026-12-02). A share, so over enough seeds.
  if (results.length < 50) return;
  t.true(duelling >= 0.5 * results.length, `duels in ${duelling} of ${results.length} seeds`);
});

// Each mutant is a bug that nothing in the project knows about (scripts/mutants.mjs puts it into
// a scratch copy of dist/). The shares required are about half of what seeds 1-150 fail
// (2026-12-02): 128, 150 and 131 of 150 (85%, 100% and 87%).
mutantTests('duelling Multi-Paxos leaders', 'test/helpers/multipaxos-duel.js', 150, [
  { mutant: 'lowest-ballot', share: 0.4 },
  { mutant: 'noop-reproposal', share: 0.5 },
  { mutant: 'minority-quorum', share: 0.4 },
]);
