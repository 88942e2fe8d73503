import test from 'ava';
import { withInliningLowered } from '../../src/harness/inline-budget.js';

/**
 * For a test file whose simulated seeds (check scenarios, bank and txn runs) or randomized runs
 * of the cores run in its own thread: V8's inlining budget lowered from before its first test to
 * after its last, as runChecks lowers it for a pool's seeds and shrinkSeed for its replays
 * (src/harness/inline-budget.ts; docs/findings.md, session 51): short runs of code still being
 * optimized cost less CPU with it. It changes what V8 compiles, never what the code does (the
 * trace hashes do not move). Not for a file that boots threads clusters: V8 keys the build's
 * code cache by its flags, and a worker booted meanwhile would compile without it.
 * linearizability-sim with its gray-phase part: 37.3 -> 31.9 CPU s run side by side (2026-12-07);
 * session 68, two A/B runs each (user+sys, alone, under load): bug-regressions 16.7 -> 12.5 and
 * 12.8 -> 11.5, txn 13.0 -> 11.6 and 14.8 -> 13.7, core-random 15.9 -> 14.0 and 15.3 -> 12.7,
 * commit-random 16.2 -> 14.7 and 16.4 -> 13.1, shardlog-random 15.2 -> 10.5 and 11.4 -> 8.7,
 * balancer-random 8.8 -> 8.5 and 9.3 -> 8.0, protocols-multipaxos 10.1 -> 9.0 and 8.8 -> 8.3,
 * holes 4.7 -> 3.7 and 4.6 -> 3.8, limits-config 4.0 -> 3.5 twice, sim-stall 4.1 -> 3.6 and 3.9 -> 3.5.
 */
export function lowerInliningForThisFile(): void {
  let release: (() => void) | undefined;
  let held: Promise<void> | undefined;
  test.before(() => {
    held = withInliningLowered(() => new Promise<void>((resolve) => (release = resolve)));
  });
  test.after.always(async () => {
    release?.();
    await held;
  });
}
