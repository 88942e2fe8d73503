/**
 * The simulator's durable store against a model of what a disk keeps
 * (test/helpers/memorystore-random.ts: what a seed does and what it checks): appends, time,
 * checkpoints, power losses with torn tails cut at any byte, restarts. The records read back are
 * the model's, and every torn tail is reported cut once.
 *
 * It is there for two store bugs that the tests of the servers above it catch in few seeds
 * (test/shardlog-random.test.ts on 2026-12-02: 46 and 25 of 100; `meridian check`, which runs
 * `fsync: true`, in none): appends counted as synced although `fsync` is false
 * (`unsynced-counted-synced`), and a recovery that does not cut a torn tail, so that what is
 * appended after it is lost at the next recovery (`recovery-keeps-torn-tail`).
 */
import test from 'ava';
import { runSeed } from './helpers/memorystore-random.js';
import { sweepSeeds } from './helpers/core-mutant.js';
import { mutantTests } from './helpers/mutant-tests.js';

test('randomized durable store (sim): appends, checkpoints, power losses with torn tails, restarts; what is read back is what a disk keeps', (t) => {
  const { results, sum, noneFailed } = sweepSeeds(t, runSeed, 300);
  noneFailed(
    `fsync seeds ${results.filter((r) => r.fsync).length}; power losses ${sum((r) => r.powerLosses)}, records lost ${sum((r) => r.lost)}, ` +
      `torn tails ${sum((r) => r.tears)}; restarts ${sum((r) => r.restarts)}; checkpoints ${sum((r) => r.checkpoints)}`,
  );
  // What the seeds are for: lossy power losses and torn tails in most seeds without fsync.
  if (results.length < 50) return;
  const lossy = results.filter((r) => !r.fsync && r.lost > 0).length;
  const torn = results.filter((r) => r.tears > 0).length;
  t.true(lossy >= 0.5 * results.length, `records lost in ${lossy} of ${results.length} seeds`);
  t.true(torn >= 0.4 * results.length, `torn tails in ${torn} of ${results.length} seeds`);
});

mutantTests('randomized durable store', 'test/helpers/memorystore-random.js', 100, [
  { mutant: 'unsynced-counted-synced', share: 0.3 },
  { mutant: 'recovery-keeps-torn-tail', share: 0.3 },
]);
