/**
 * Randomized de-duplication of transaction requests by the coordinator actor across restarts
 * (test/helpers/coordinator-random.ts: what a seed does and what it checks, and why at the level
 * of the actor with a fake context and log rather than a simulated cluster), and the two bugs it
 * must catch: a restarted coordinator that ignores its begun records (`coordinator-forgets-begun`,
 * which `meridian check --txn-share 0.3` caught in 0 of 100 seeds, 24 of 100 with `--workload txn`
 * and only the late-copies fault), and one that begins a late copy of a request older than the
 * ids it remembers (`coordinator-forgets-marks`, 3 of 100 with `--limits small --txn-share 0.3`).
 *
 * No bug found: seeds 1-300 and 1,000-5,999 of the correct code pass (2026-12-02).
 */
import test from 'ava';
import { runSeed } from './helpers/coordinator-random.js';
import { sweepSeeds } from './helpers/core-mutant.js';
import { mutantTests } from './helpers/mutant-tests.js';

test('randomized coordinator: late request copies, crashes right after durable writes, checkpoints, restarts; each request begun and executed at most once, its copies answered as the design says', (t) => {
  const { seeds, results, sum, noneFailed } = sweepSeeds(t, runSeed, 300);
  const small = results.filter((r) => r.begunRemembered !== undefined).length;
  noneFailed(
    `requests ${sum((r) => r.requests)}, committed ${sum((r) => r.committed)}, restarts ${sum((r) => r.restarts)}; copies answered TIMEOUT as begun before a restart ${sum((r) => r.afterRestart)}, as older than the ids remembered ${sum((r) => r.olderThanRemembered)} (${small} seeds remember 1-6 ids)`,
  );
  // The run meets what it is there for: commits, restarts, and copies refused both ways.
  t.true(sum((r) => r.committed) > seeds, 'most seeds commit something');
  t.true(sum((r) => r.restarts) > seeds, 'most seeds restart the coordinator');
  t.true(sum((r) => r.afterRestart) > seeds, 'copies come after restarts');
  if (small > 0) t.true(sum((r) => r.olderThanRemembered) > small, 'copies older than the ids remembered come');
});

// Each mutant is a bug that nothing in the project knows about (scripts/mutants.mjs puts it into
// a scratch copy of dist/). The shares required are about half of what seeds 1-150 fail
// (2026-12-02): 150 and 76 of 150 (the second only in seeds that remember 1-6 ids: half of them).
// The tests run seeds 1-100 (the suite's time), which fail 100 and 53. coordinator-forgets-marks
// is required of test/coordinator-marks.part.ts since 2026-12-02 (100 of 100 there), not here:
// the suite's time.
mutantTests('randomized coordinator', 'test/helpers/coordinator-random.js', 100, [{ mutant: 'coordinator-forgets-begun', share: 0.5 }]);
