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
 */
import test from 'ava';
import { mutantPower } from './helpers/mutant-power.js';

const SEEDS = 12;

test(`catch-up phase: seeds 1..${SEEDS} of --mode hybrid pass with the right learner feed, and at least 40% fail with one that never probes a caught-up learner`, async (t) => {
  await mutantPower(t, { flags: ['--mode', 'hybrid'], mutant: 'feed-no-probe', seeds: SEEDS, share: 0.4 });
});
