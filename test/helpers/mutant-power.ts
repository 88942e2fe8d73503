import type { ExecutionContext } from 'ava';
import { parseCheckArgs } from '../../src/cli/check.js';
import { runOneSeed, seedOptionsOf, type ScenarioReport, type ScenarioTask } from '../../src/harness/check-runner.js';
import { withInliningLowered } from '../../src/harness/inline-budget.js';
import { withMutant } from './core-mutant.js';

/**
 * The right code's seed outcomes of this test file, by task: two tests that check the same seed
 * of the same flags read one run (a seed is the same run each time).
 */
const rightOutcomes = new Map<string, Promise<Pick<ScenarioReport, 'outcome' | 'operations'>>>();

function rightOutcome(task: ScenarioTask): Promise<Pick<ScenarioReport, 'outcome' | 'operations'>> {
  const key = JSON.stringify(task);
  let r = rightOutcomes.get(key);
  if (r === undefined) rightOutcomes.set(key, (r = runOneSeed(task).then(({ outcome, operations }) => ({ outcome, operations }))));
  return r;
}

/**
 * What a fault kind (or a phase of the scenario) is for, kept from slipping: seeds
 * `from`..`from + seeds - 1` (`from` 1 unless given) of `meridian check --faults <faults>` (or
 * of `meridian check <flags>`) pass with the right code, and with `mutant` (a bug
 * scripts/mutants.mjs puts into a scratch copy of dist/; nothing in the project knows it) at
 * least `share` of them fail, none unknown. The mutant runs with its check flags before `flags`,
 * as `node scripts/mutants.mjs --only <mutant> -- <flags>` runs it.
 *
 * Every seed runs in this thread: runOneSeed, as a pool worker of `meridian check` runs a seed,
 * on the task `meridian check` makes of the flags (parseCheckArgs; runChecks's task: the seed,
 * the mode, the schedule and the seed options), under the lowered inlining budget runChecks
 * runs its seeds with (src/harness/inline-budget.ts: what V8 compiles, never what the code
 * does); the mutant's on its copy's runOneSeed. The right code's seeds all run; the mutant's in
 * order, stopping at the catch that reaches the share (as `--max-failures` does), which shows
 * "at least `share` of the seeds fail" without running the seeds after it.
 *
 * Until 2026-12-07 each run was the command's main on a pool thread (the right code's on the
 * file's warm one, each mutant's on a cold one of its copy), each thread loading the module graph
 * this thread had loaded already, in a test file of its own each; the tests of
 * test/fault-power.test.ts now share this thread's compiled right code. Call it from serial
 * tests: seeds of two tests side by side in one thread only take turns. The pool and the
 * command are tested by test/check-cli.test.ts and test/check-pool.test.ts.
 */
export async function mutantPower(
  t: ExecutionContext,
  o: ({ faults: string } | { flags: string[] }) & { mutant: string; seeds: number; share: number; from?: number },
): Promise<void> {
  const flags = 'faults' in o ? ['--faults', o.faults] : o.flags;
  const need = Math.ceil(o.share * o.seeds);
  const from = o.from ?? 1;
  const seeds = Array.from({ length: o.seeds }, (_, i) => from + i);
  t.log(`seeds ${from}..${from + o.seeds - 1}, ${flags.join(' ')}`);
  // runChecks's task of each seed (src/harness/check-runner.ts), from check's own flag parsing.
  const taskOf = (argv: string[], seed: number): ScenarioTask => {
    const args = parseCheckArgs(['--seed', String(seed), ...argv]);
    return { seed, mode: args.mode, schedule: args.schedule, ...seedOptionsOf(args) };
  };
  await withInliningLowered(async () => {
    const right: string[] = [];
    let operations = 0;
    for (const seed of seeds) {
      const r = await rightOutcome(taskOf(flags, seed));
      operations += r.operations;
      if (r.outcome !== 'pass') right.push(`seed ${seed}: ${r.outcome}`);
    }
    // The operations as check's summary counts them: the same runs as `meridian check --from F --seeds N FLAGS`.
    t.log(`right code: ${o.seeds - right.length} of ${o.seeds} seeds passed, ${operations} operations checked`);
    t.deepEqual(right, [], `replay: meridian check --seed S ${flags.join(' ')}`);
    const wrong = await withMutant(o.mutant, 'src/harness/check-runner.js', async (exports, _what, mutantFlags) => {
      const run = exports['runOneSeed'] as typeof runOneSeed;
      const w = { ran: 0, caught: [] as number[], unknown: 0 };
      for (const seed of seeds) {
        if (w.caught.length >= need) break;
        w.ran++;
        const outcome = (await run(taskOf([...mutantFlags, ...flags], seed))).outcome;
        if (outcome === 'fail') w.caught.push(seed);
        else if (outcome === 'unknown') w.unknown++;
      }
      return w;
    });
    t.log(
      `${o.mutant}: caught ${wrong.caught.length} of the first ${wrong.ran} seeds (${wrong.caught.join(', ') || 'none'})${wrong.ran < o.seeds ? ` (stopped there: ${need} of ${o.seeds} needed)` : ''}, ${wrong.unknown} unknown`,
    );
    t.is(wrong.unknown, 0, `unknown seeds of ${o.mutant}`);
    t.true(wrong.caught.length >= need, `caught ${wrong.caught.length} of ${wrong.ran}, ${need} of ${o.seeds} needed`);
  });
}
