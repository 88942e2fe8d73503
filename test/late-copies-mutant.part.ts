/**
 * What `late-copies` is for: a store whose state machine applies a duplicated request again
 * shows it in a history only when the copy comes after something else changed the key, and
 * copies that come late after a restart are where dedup state is most easily lost. The default
 * schedule caught that bug (`sm-no-dedup` of scripts/mutants.mjs) in 12-18 of 100 seeds;
 * `--faults late-copies` in 75 of 100 (2026-12-02, session 21). The bug is put into a scratch
 * copy of dist/ by scripts/mutants.mjs (nothing in the project knows it), and the same seeds
 * must pass without it. Seeds 1..6 at 50% (1..20 at 30%, 6 catches, until 2026-12-07): 3
 * catches are needed, and the mutant fails 1, 2 and 3 (its run stops there); 50% is below the
 * 75% it was caught in over seeds 1-100.
 */
import test from 'ava';
import { mutantPower } from './helpers/mutant-power.js';

const SEEDS = 6;

test.serial(
  `late-copies: seeds 1..${SEEDS} pass with the right state machine, and at least 50% fail with one that applies a duplicated request again`,
  async (t) => {
    await mutantPower(t, { faults: 'late-copies', mutant: 'sm-no-dedup', seeds: SEEDS, share: 0.5 });
  },
);
