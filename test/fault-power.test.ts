/**
 * What the check scenario's fault kinds and phases are for: each part runs seeds of `meridian
 * check` with a fault kind (or a phase of the scenario) on the right code, which must pass them,
 * and on a scratch copy of dist/ with a bug that only that fault or phase meets, which must fail
 * a stated share of them (test/helpers/mutant-power.ts, mutantPower).
 *
 * Each part was a test file of its own until 2026-12-07: a process each, and in it a pool
 * thread for the right code's seeds and one for the mutant's, each loading and compiling the
 * code cold. Now every seed runs in this process's thread, as a pool worker runs a seed of
 * `meridian check` (runOneSeed on check's task of the flags), the right code compiled once for
 * all seven parts; each mutant's copy compiles anew only the modules that reach its edit
 * (test/helpers/core-mutant.ts, linkUnedited, since session 68). The tests are serial: CPU-bound
 * seeds side by side in one thread only take turns. Each part (test/NAME-mutant.part.ts) keeps
 * its own module scope; run one part's test with `npx ava dist/test/fault-power.test.js --match
 * '<title>'`.
 */
import './late-copies-mutant.part.js';
import './lost-commits-mutant.part.js';
import './lost-accepts-mutant.part.js';
import './handover-checkpoint-mutant.part.js';
import './catch-up-mutant.part.js';
import './leader-duel-mutant.part.js';
import './log-hole-mutant.part.js';
