import test, { type ExecutionContext } from 'ava';
import { main, parseCheckArgs, type CheckIo, type CheckLoan } from '../../src/cli/check.js';
import { createCheckPool, runOneSeed, seedOptionsOf, type CheckPool, type ScenarioReport, type ScenarioTask } from '../../src/harness/check-runner.js';
import { withInliningLowered } from '../../src/harness/inline-budget.js';
import { withMutant } from './core-mutant.js';

type CheckMain = (argv: string[], io: CheckIo, loan?: CheckLoan) => Promise<number>;

/**
 * `meridian check ARGS` through the `main` the command calls (`run`: this project's, or a
 * mutated copy's), in this process: its exit status and the lines it printed. A new process per
 * run (`node dist/src/cli.js`, and for a mutant `node scripts/mutants.mjs` before it) cost about
 * 0.3 CPU s each for the same run.
 */
async function checkHere(run: CheckMain, args: string[], loan: CheckLoan = {}): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await run(args, { out: (l) => (stdout += `${l}\n`), err: (l) => (stdout += `${l}\n`) }, loan);
  return { code, stdout };
}

/**
 * One warm pool thread for every run of the right code in a test file (CheckLoan): a run on a
 * pool of its own spends its thread's first CPU second or two compiling. Runs on it take turns;
 * a seed's outcome does not depend on the pool.
 */
let pool: CheckPool | undefined;
test.after.always(() => pool?.close());

/**
 * The right code's runs of this test file, by their command line: two tests of one file that
 * check the same seeds with the same flags (two mutants of one scenario, as gray-phase-mutant's
 * were until it ran its seeds in its thread, 2026-12-07) share one run. A run of `meridian check` is the same run each time (its trace hashes
 * replay), so the second test asserts on the very output it would have got.
 */
const rightRuns = new Map<string, Promise<{ code: number; stdout: string }>>();

function rightRun(args: string[]): Promise<{ code: number; stdout: string }> {
  const key = JSON.stringify(args);
  let r = rightRuns.get(key);
  if (r === undefined) rightRuns.set(key, (r = checkHere(main, args, { pool: (pool ??= createCheckPool({ workers: 1 })) })));
  return r;
}

/** `check:`'s summary line: seeds run, passed, failed (and which), unknown. */
const SUMMARY = /^check: (?:stopped after (\d+) of \d+ seeds? \([^)]*\)|(\d+) seeds?), (\d+) passed, (\d+) failed(?: \(([\d, ]+)\))?, (\d+) unknown/m;

/**
 * What a fault kind (or a phase of the scenario) is for, kept from slipping: seeds
 * `from`..`from + seeds - 1` (`from` 1 unless given) of `meridian check --faults <faults>` (or
 * of `meridian check <flags>`) pass with the right code, and with `mutant` (a bug
 * scripts/mutants.mjs puts into a scratch copy of dist/; nothing in the project knows it) at
 * least `share` of them fail, none unknown. The mutant's run is the copy's own `meridian check`
 * with the mutant's flags before `flags`, as `node scripts/mutants.mjs --only <mutant> -- <flags>`
 * runs it, in this process (withMutant).
 *
 * The mutant's run stops at the failing seed that reaches the share (`--max-failures`: one
 * worker runs the seeds in order), so it shows "at least `share` of the seeds fail" without
 * running the seeds after that; a share not reached runs them all.
 *
 * The two runs go side by side, each on one pool worker: a seed's outcome does not depend on
 * the pool, and every worker spends its first seconds compiling (a pool of 2 per run cost
 * about 2.5 CPU s more per 20 seeds than a pool of 1, for the same two threads busy at once).
 */
export async function mutantPower(
  t: ExecutionContext,
  o: ({ faults: string } | { flags: string[] }) & { mutant: string; seeds: number; share: number; from?: number },
): Promise<void> {
  const flags = 'faults' in o ? ['--faults', o.faults] : o.flags;
  const need = Math.ceil(o.share * o.seeds);
  const from = o.from ?? 1;
  const range = ['--from', String(from), '--seeds', String(o.seeds), '--workers', '1'];
  t.log(`seeds ${from}..${from + o.seeds - 1}, ${flags.join(' ')}`);
  const [right, wrong] = await Promise.all([
    rightRun([...range, ...flags]),
    withMutant(o.mutant, 'src/cli/check.js', (exports, _what, mutantFlags) =>
      checkHere(exports['main'] as CheckMain, [...range, ...mutantFlags, ...flags, '--max-failures', String(need)]),
    ),
  ]);
  const summary = right.stdout.split('\n').find((l) => l.startsWith('check:'));
  t.log(summary);
  t.is(right.code, 0, right.stdout);
  t.regex(summary ?? '', new RegExp(`^check: ${o.seeds} seeds?, ${o.seeds} passed, 0 failed, 0 unknown`));
  // Exit status 1 when a seed failed; 2 (no run) would be a flag the copy's check refused.
  t.true(wrong.code === 0 || wrong.code === 1, wrong.stdout);
  const m = SUMMARY.exec(wrong.stdout);
  if (m === null) {
    t.fail(`the mutant's check printed no summary:\n${wrong.stdout}`);
    return;
  }
  requireShare(
    t,
    o,
    { ran: Number(m[1] ?? m[2]), failed: Number(m[4]), seedsText: m[5] ?? 'none', unknown: Number(m[6]), stopped: m[1] !== undefined },
    wrong.stdout,
  );
}

/** The mutant's side of a power test: its run caught at least `share` of the seeds, none unknown. */
function requireShare(
  t: ExecutionContext,
  o: { mutant: string; seeds: number; share: number },
  w: { ran: number; failed: number; seedsText: string; unknown: number; stopped: boolean },
  output: string,
): void {
  const need = Math.ceil(o.share * o.seeds);
  t.log(
    `${o.mutant}: caught ${w.failed} of the first ${w.ran} seeds (${w.seedsText})${w.stopped ? ` (stopped there: ${need} of ${o.seeds} needed)` : ''}, ${w.unknown} unknown`,
  );
  t.true(w.ran <= o.seeds);
  t.is(w.unknown, 0, output);
  t.true(w.failed >= need, `caught ${w.failed} of ${w.ran}, ${need} of ${o.seeds} needed`);
}

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
 * mutantPower's claim, with every seed run in this thread: runOneSeed, as a pool worker of
 * `meridian check` runs a seed, on the task `meridian check` makes of the flags (parseCheckArgs;
 * runChecks's task: the seed, the mode, the schedule and the seed options), under the lowered
 * inlining budget runChecks runs its seeds with (src/harness/inline-budget.ts: what V8
 * compiles, never what the code does). The right code's seeds all run; the mutant's (its
 * copy's runOneSeed, on its check flags before `flags`, as scripts/mutants.mjs runs it) in
 * order, stopping at the catch that reaches the share, as `--max-failures` does.
 *
 * What this saves over mutantPower: a pool thread for each run (mutantPower's right code on the
 * file's warm thread, each mutant on a cold one of its copy), each loading the module graph
 * this thread has loaded already; and the tests of one file share this thread's compiled right
 * code. Call it from serial tests: seeds of two tests side by side in one thread only take turns.
 * The pool and the command are tested by test/check-cli.test.ts and test/check-pool.test.ts.
 */
export async function mutantPowerInThread(
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
    requireShare(
      t,
      o,
      { ran: wrong.ran, failed: wrong.caught.length, seedsText: wrong.caught.join(', ') || 'none', unknown: wrong.unknown, stopped: wrong.ran < o.seeds },
      `unknown seeds of ${o.mutant}`,
    );
  });
}
