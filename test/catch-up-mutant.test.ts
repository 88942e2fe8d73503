/**
 * What the check scenario's catch-up phase is for (src/harness/scenario.ts: after the
 * convergence reads a server goes down during one put of each key and comes back with no write
 * after it, then another goes down and up with nothing written meanwhile; every copy of a shard
 * must then catch up with no command to carry the news). A hybrid leader's feed that never
 * probes a learner it believes caught up leaves one that restarted empty while its shard is idle
 * behind for good (`feed-no-probe` of scripts/mutants.mjs, the bug test/bug-hybrid.test.ts pins):
 * the default scenario caught it in 0 of 100 seeds of `--mode hybrid` without the phase, 87 of
 * 100 with it, 10 of seeds 1-12 (2026-12-02). The bug is put into a scratch copy of dist/ (nothing in the project
 * knows it), and the same seeds must pass without it.
 *
 * The other `check --mode hybrid` mutant run lives here too, that of the progress watch
 * (test/progress-watch.test.ts shows its rules one by one): its right code's run, seeds 1..WATCH_SEEDS,
 * holds the catch-up test's seeds 1..12, so one run of the right code serves both (a run of
 * its own for the 12 seeds cost this file about 8 of its 13.6 CPU s).
 */
import test from 'ava';
import { mutantPower } from './helpers/mutant-power.js';

const SEEDS = 12;
const WATCH_SEEDS = 100;

test(`catch-up phase: seeds 1..${SEEDS} of --mode hybrid pass with the right learner feed (in the run of seeds 1..${WATCH_SEEDS}), and at least 40% fail with one that never probes a caught-up learner`, async (t) => {
  await mutantPower(t, { flags: ['--mode', 'hybrid'], mutant: 'feed-no-probe', seeds: SEEDS, share: 0.4, rightSeeds: WATCH_SEEDS });
});

/**
 * `meridian check` samples every copy's applied count after each call of its workload
 * (ProgressWatch in src/harness/scenario.ts): a hybrid learner that goes back while its server
 * keeps its incarnation fails the seed. `learner-restores-older-snapshot` of scripts/mutants.mjs
 * (a learner installs any snapshot it is fed) was caught in 0 of 100 seeds before the watch.
 * With it, 7 of seeds 1-100 (25, 30, 45, 47, 59, 64, 67); since region digests that come as
 * copies or overtaken are dropped (session 55), 6 (seed 25's run changed and passes), so the
 * watch's run was of seeds 1..50 with 4% (2) needed, where it was 1..40 with 5% (2 of 40, which
 * seeds 25 and 30 just made). Since reads in flight at a server that goes down are sent to
 * another copy (session 60), 9 of seeds 1-200 (62, 64, 118, 135, 150, 174, 181, 186, 196; none
 * of 1-50, which failed fresh-clone CI on bdf065a): the run is of seeds 1..100 with 2% (2) needed.
 */
test(`progress watch: check --mode hybrid: seeds 1..${WATCH_SEEDS} pass, and at least 2% fail when a learner installs a snapshot older than what it applied`, async (t) => {
  await mutantPower(t, { flags: ['--mode', 'hybrid'], mutant: 'learner-restores-older-snapshot', seeds: WATCH_SEEDS, share: 0.02 });
});
