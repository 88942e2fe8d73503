/**
 * A hybrid shard's leader feeding its learners when the feed's last messages are lost just as
 * the shard goes quiet (test/helpers/learner-quiet.ts: what a seed does and what it checks):
 * learns and acknowledgements lost, copied, reordered and late, learners restarting; then, with
 * no new command to make the leader send, a fair network. Every learner must catch up with the
 * leader within a bounded number of ticks, its state always one the log had.
 *
 * It is there for a bug that test/learner-random.part.ts catches in few seeds (31 of 100 on
 * 2026-12-02): a feed that never sends again what a learner did not acknowledge
 * (`feed-never-resends` of scripts/mutants.mjs): a lost learn leaves the learner behind until
 * new commands come. The model checks that learners catch up, not how the feed resends.
 */
import test from 'ava';
import { runSeed } from './helpers/learner-quiet.js';
import { sweepSeeds } from './helpers/core-mutant.js';
import { mutantTests } from './helpers/mutant-tests.js';

test('learner feed going quiet: learns lost (the last ones too), acknowledgements lost, copies, reordering, late messages, learner restarts, then no new command and a fair network; every learner catches up with the leader within three resend periods, its state always one the log had', (t) => {
  const { results, sum, noneFailed } = sweepSeeds(t, runSeed, 200);
  const stranding = results.filter((r) => r.stranded > 0).length;
  noneFailed(
    `seeds with a learner stranded (behind, no learn to it in flight, as a fair stretch began): ${stranding}; stranded learners ${sum((r) => r.stranded)} in ${sum((r) => r.rounds)} rounds; ` +
      `commands ${sum((r) => r.commands)}; learns lost ${sum((r) => r.lostLearns)}; learns with a snapshot installed ${sum((r) => r.snapshots)}, with a gap ${sum((r) => r.gaps)}; ` +
      `learners restarted ${sum((r) => r.learnerRestarts)}; longest fair stretch ${Math.max(0, ...results.map((r) => r.quietTicks))} ticks`,
  );
  // What the seeds are for (a property of the generator, not of the code): a learner left behind
  // with nothing in flight to it as the shard goes quiet, in most seeds. A share, so over enough seeds.
  if (results.length < 50) return;
  t.true(stranding >= 0.8 * results.length, `a learner stranded in ${stranding} of ${results.length} seeds`);
  t.true(sum((r) => r.snapshots) > results.length / 4 && sum((r) => r.gaps) > results.length, 'snapshots and gaps reach learners');
});

// A bug nothing in the project knows about (scripts/mutants.mjs puts it into a scratch copy of
// dist/): seeds 1-100 fail 100 of 100, seeds 1-500 498 (2026-12-02); about half required. (The
// model also fails learner-ignores-snapshot in 249 of seeds 1-500, learner-restores-older-snapshot
// in 61, feed-no-probe in 12: not required here, test/learner-random.part.ts is for them.)
mutantTests('learner feed going quiet', 'test/helpers/learner-quiet.js', 100, [{ mutant: 'feed-never-resends', share: 0.5 }]);
