import test from 'ava';
import { withInliningLowered } from '../../src/harness/inline-budget.js';

/**
 * For a test file whose simulated seeds (check scenarios, bank and txn runs) run in its own
 * thread: V8's inlining budget lowered from before its first test to after its last, as
 * runChecks lowers it for a pool's seeds and shrinkSeed for its replays
 * (src/harness/inline-budget.ts; docs/findings.md, session 51): short runs of code still being
 * optimized cost less CPU with it. It changes what V8 compiles, never what the code does (the
 * trace hashes do not move). Not for a file that boots threads clusters: V8 keys the build's
 * code cache by its flags, and a worker booted meanwhile would compile without it.
 * linearizability-sim with its gray-phase part: 37.3 -> 31.9 CPU s run side by side (2026-12-07).
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
