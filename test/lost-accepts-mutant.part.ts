/**
 * What `lost-accepts` is for: a primary answers a confirmed read from what it got chosen, not
 * from the writes it has executed and not yet got chosen (a failover may drop them). The
 * default schedule never meets the gap (`read-speculative` of scripts/mutants.mjs: 0 of 100
 * seeds of `meridian check --mode passive`, 2026-12-05), because a busy leader's reads are
 * confirmed by the slot it proposes beside them, and that slot's accepts leave before the
 * heartbeat after them. `--faults lost-accepts` loses a busy leader's accepts, not its
 * heartbeats, until its window of slots is full and its reads go by heartbeat, then crashes it
 * before it sends them again: 12 of seeds 1-40 caught (2026-12-05, 08:34 UTC), 5 of 1-12. The
 * bug is put into a scratch copy of dist/ by scripts/mutants.mjs, and the same seeds must
 * pass without it. Seeds 1..10 (1..12 until 2026-12-07, the same share): the mutant fails 5, 7
 * and 9 (2026-12-07; its run stops there).
 */
import test from 'ava';
import { mutantPower } from './helpers/mutant-power.js';

const SEEDS = 10;

test.serial(
  `lost-accepts: seeds 1..${SEEDS} of passive pass with the right primary, and at least 25% fail with one that reads its working copy (3 of 10)`,
  async (t) => {
    await mutantPower(t, { flags: ['--mode', 'passive', '--faults', 'lost-accepts'], mutant: 'read-speculative', seeds: SEEDS, share: 0.25 });
  },
);
