/**
 * V8's budget for inlining into one optimized function (bytes of bytecode), lowered for the whole
 * process while simulated check work goes on: a run of seeds on a pool (runChecks) or a shrink
 * (shrinkSeed). Such work is mostly its threads' code getting optimized (docs/findings.md,
 * session 51), and a smaller budget makes each optimization cheaper: `meridian check --seeds 100
 * --workers 2` ran 12-15% more seeds a second with it, at 400 and 1000 seeds as fast as without,
 * and a shrink of seed 3 of stale-reads took 15% less CPU (2026-12-06, docs/findings.md). It
 * changes what V8 compiles, never what the code does; but other code of the process compiled
 * meanwhile is optimized less (hot code that runs long loses: a loaded simulated cluster ran about
 * a third slower), and V8 keys a code cache by its flags (a threads cluster started meanwhile
 * boots its workers without the build's cache). So a real-time run leaves it alone, and the last
 * piece of work to end puts V8's default back. Left alone when node was started with the flag.
 */
import { setFlagsFromString } from 'node:v8';

const INLINE_BUDGET = '--max-inlined-bytecode-size-cumulative';
const INLINE_BUDGET_LOWERED = 100;
/** V8's default (V8 11 to 13: Node 20 to 24). */
const INLINE_BUDGET_DEFAULT = 920;
const inlineBudgetGiven = process.execArgv.some((a) => a.startsWith(INLINE_BUDGET));
/** Work under way that lowered the budget (a shrink may run beside a run of seeds). */
let lowering = 0;

/** `work()`, with V8's inlining budget lowered for the process until it settles. */
export async function withInliningLowered<T>(work: () => Promise<T>): Promise<T> {
  if (lowering++ === 0 && !inlineBudgetGiven) setFlagsFromString(`${INLINE_BUDGET}=${INLINE_BUDGET_LOWERED}`);
  try {
    return await work();
  } finally {
    if (--lowering === 0 && !inlineBudgetGiven) setFlagsFromString(`${INLINE_BUDGET}=${INLINE_BUDGET_DEFAULT}`);
  }
}
