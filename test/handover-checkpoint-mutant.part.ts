/**
 * What `leader-handover`'s checkpoint is for (src/harness/nemesis.ts, since 2026-12-04): the
 * voters it crashes checkpoint their logs at their next step first, so a restart reads its
 * promise to the new leader back from a checkpoint written after it, with no accept of that
 * ballot yet to imply it. A checkpoint that leaves the promise out (`checkpoint-omits-promise`
 * of scripts/mutants.mjs, put into a scratch copy of dist/; nothing in the project knows it)
 * lets the old leader's accepts through after the restart. The default check caught it in 0 of
 * 100 seeds before, 31 after; `--faults leader-handover` alone in 18 of seeds 1-20
 * (2026-12-04). The same seeds must pass without it. Seeds 1..6 at 50% (1..20 at 40%, 8
 * catches, until 2026-12-07): 3 catches are needed, and the mutant fails 1-4 (its run stops at
 * 3); 50% is below the 90% (18 of 20) it was caught in.
 */
import test from 'ava';
import { mutantPower } from './helpers/mutant-power.js';

const SEEDS = 6;

test.serial(`leader-handover: seeds 1..${SEEDS} pass, and at least 50% fail when a checkpoint leaves out the acceptor's promise`, async (t) => {
  await mutantPower(t, { faults: 'leader-handover', mutant: 'checkpoint-omits-promise', seeds: SEEDS, share: 0.5 });
});
