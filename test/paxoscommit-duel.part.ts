/**
 * Duelling Paxos Commit leaders (test/helpers/paxoscommit-duel.ts: what a seed does and what it
 * checks): overlapping recovery leaders of every transaction, and phase 2a messages of old
 * ballots (an RM's ballot 0 among them) that arrive after an acceptor promised a newer one.
 *
 * It is there for a bug that test/paxoscommit-random.part.ts catches in few seeds (33 of 400 on
 * 2026-12-02) and `meridian check --workload txn --commit paxos-commit` in none of 100: an
 * acceptor that accepts a phase 2a of a ballot lower than it promised
 * (`pc-acceptor-ignores-promise`). With it, a recovery leader that found no vote for an RM in a
 * majority has 'aborted' chosen for it, and then the RM's late 'prepared' at ballot 0 is
 * accepted by a majority too: two values chosen for one instance, then a commit beside the
 * abort. The model checks properties, not that code path: one value chosen per instance, one
 * outcome per transaction, outcomes that agree with what was chosen, none over a no vote,
 * nobody left in doubt, and a late learner that finds what everyone else found.
 */
import test from 'ava';
import { runSeed } from './helpers/paxoscommit-duel.js';
import { sweepSeeds } from './helpers/core-mutant.js';
import { mutantTests } from './helpers/mutant-tests.js';

test('duelling Paxos Commit leaders: late old-ballot phase 2a messages, overlapping recoveries, crashes and restarts; one value chosen per instance, one outcome per transaction that agrees with it, none over a no vote, nobody left in doubt', (t) => {
  const { results, sum, noneFailed } = sweepSeeds(t, runSeed, 200);
  const duelling = results.filter((r) => r.duels > 0).length;
  const stale = results.filter((r) => r.stale > 0).length;
  const committed = sum((r) => r.committed);
  noneFailed(
    `seeds with a duel (phase 2a of both values for one instance): ${duelling}; with a phase 2a below an acceptor's promise: ${stale}; ` +
      `five acceptors: ${results.filter((r) => r.acceptors === 5).length}; transactions committed: ${committed}, aborted: ${sum((r) => r.aborted)} ` +
      `(${sum((r) => r.vetoed)} by a no vote or a timeout)`,
  );
  // What the seeds are for: leaders that duel over an instance with different values, and old
  // phase 2a messages reaching acceptors that promised higher (about 75% and 97% of seeds), with
  // commits among the aborts (about one transaction in five). Shares, so over enough seeds.
  if (results.length < 50) return;
  t.true(duelling >= 0.5 * results.length, `duels in ${duelling} of ${results.length} seeds`);
  t.true(stale >= 0.8 * results.length, `late phase 2a messages in ${stale} of ${results.length} seeds`);
  t.true(committed >= 0.25 * results.length, `${committed} transactions committed in ${results.length} seeds`);
});

// Each mutant is a bug that nothing in the project knows about (scripts/mutants.mjs puts it into
// a scratch copy of dist/). The shares required are about half of what seeds 1-150 fail
// (2026-12-02): 106 and 128 of 150 (71% and 85%).
mutantTests('duelling Paxos Commit leaders', 'test/helpers/paxoscommit-duel.js', 150, [
  { mutant: 'pc-acceptor-ignores-promise', share: 0.35 },
  { mutant: 'pc-recovery-aborts', share: 0.4 },
]);
