/**
 * What `leader-duel` is for: a Multi-Paxos leader that re-proposes the lowest-ballot value its
 * promises report for a slot (not the highest) loses a chosen value only when a slot holds two
 * values at two ballots, neither known chosen, at an election. The default schedule and every
 * other fault kind caught that bug in 0 of 100 seeds; `--faults leader-duel` in 69 of 100
 * (2026-12-02). The bug is put into a scratch copy of dist/ by scripts/mutants.mjs (nothing in
 * the project knows it), and the same seeds must pass without it. Seeds 1..10 (1..20 until
 * 2026-12-07, the same share): the mutant fails 1, 2 and 3 (its run stops there).
 */
import test from 'ava';
import { mutantPower } from './helpers/mutant-power.js';

const SEEDS = 10;

test(`leader-duel: seeds 1..${SEEDS} pass with the right Paxos, and at least 30% fail with one that keeps the lowest-ballot value`, async (t) => {
  await mutantPower(t, { faults: 'leader-duel', mutant: 'lowest-ballot', seeds: SEEDS, share: 0.3 });
});
