/**
 * What `log-hole` is for: a new Multi-Paxos leader whose promises report a later slot but not
 * an earlier one must fill the hole with a no-op. The default schedule never leaves such a
 * hole (a scratch count over seeds 1-30 of `meridian check`, 2026-12-04: 0 holes filled, and 0
 * with `--faults crash-leader`; with `--faults log-hole`, 73 holes in 18 of the 30 seeds), so a
 * leader that leaves holes open (the log stops there, and the shard with it) passed it: 0 of 40
 * seeds; `--faults log-hole` caught it in 16 of 40. The bug is put into a scratch copy of dist/
 * by scripts/mutants.mjs (nothing in the project knows it), and the same seeds must pass
 * without it. Seeds 1..10 (1..12 until 2026-12-07, the same share): the mutant fails 1, 3 and 7
 * (2026-12-07; its run stops there).
 */
import test from 'ava';
import { mutantPower } from './helpers/mutant-power.js';

const SEEDS = 10;

test.serial(`log-hole: seeds 1..${SEEDS} pass with the right Paxos, and at least 25% fail with one that leaves a hole in its log open (3 of 10)`, async (t) => {
  await mutantPower(t, { faults: 'log-hole', mutant: 'hole-left-open', seeds: SEEDS, share: 0.25 });
});
