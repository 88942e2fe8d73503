import type { ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/check.js';

const mutants = fileURLToPath(new URL('../../../scripts/mutants.mjs', import.meta.url));

function run(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout });
    });
  });
}

/**
 * `meridian check ARGS` on the right code through the `main` the command calls, in this process
 * (its pool of worker threads starts here as the command's does; a new process cost about 0.3
 * CPU s more for the same run): its exit status and the lines it printed.
 */
async function checkHere(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await main(args, { out: (l) => (stdout += `${l}\n`), err: (l) => (stdout += `${l}\n`) });
  return { code, stdout };
}

/**
 * The right code's runs of this test file, by their command line: two tests of one file that
 * check the same seeds with the same flags (gray-phase-mutant's two mutants, both on the default
 * scenario; catch-up-mutant's two of `--mode hybrid`, one of them over fewer seeds, see
 * `rightSeeds`) share one run. A run of `meridian check` is the same run each time (its trace
 * hashes replay), so the second test asserts on the very output it would have got.
 */
const rightRuns = new Map<string, Promise<{ code: number; stdout: string }>>();

function rightRun(args: string[]): Promise<{ code: number; stdout: string }> {
  const key = JSON.stringify(args);
  let r = rightRuns.get(key);
  if (r === undefined) rightRuns.set(key, (r = checkHere(args)));
  return r;
}

/**
 * What a fault kind (or a phase of the scenario) is for, kept from slipping: seeds 1..`seeds`
 * of `meridian check --faults <faults>` (or of `meridian check <flags>`) pass with the right
 * code, and with `mutant` (a bug scripts/mutants.mjs puts into a scratch copy of dist/; nothing
 * in the project knows it) at least `share` of them fail, none unknown.
 *
 * The mutant's run stops at the failing seed that reaches the share (`--max-failures`: one
 * worker runs the seeds in order), so it shows "at least `share` of seeds 1..`seeds` fail"
 * without running the seeds after that; a share not reached runs them all.
 *
 * With `rightSeeds` (at least `seeds`) the right code's run is of seeds 1..`rightSeeds`, which
 * holds seeds 1..`seeds`: another test of the file that runs those with the same flags shares
 * it, where a run of its own would check again the seeds that one checks (a seed is the same run
 * in either: its outcome depends on neither the seeds around it nor the pool).
 *
 * The two runs go side by side, each on one pool worker: a seed's outcome does not depend on
 * the pool, and every worker spends its first seconds compiling (a pool of 2 per run cost
 * about 2.5 CPU s more per 20 seeds than a pool of 1, for the same two threads busy at once).
 */
export async function mutantPower(
  t: ExecutionContext,
  o: ({ faults: string } | { flags: string[] }) & { mutant: string; seeds: number; share: number; rightSeeds?: number },
): Promise<void> {
  const flags = 'faults' in o ? ['--faults', o.faults] : o.flags;
  const need = Math.ceil(o.share * o.seeds);
  const rightSeeds = o.rightSeeds ?? o.seeds;
  if (rightSeeds < o.seeds) throw new Error(`rightSeeds ${rightSeeds}: the right code's run must hold seeds 1..${o.seeds}`);
  t.log(`seeds 1..${o.seeds}${rightSeeds === o.seeds ? '' : ` (the right code: seeds 1..${rightSeeds})`}, ${flags.join(' ')}`);
  const [right, wrong] = await Promise.all([
    rightRun(['--seeds', String(rightSeeds), '--workers', '1', ...flags]),
    run([mutants, '--seeds', String(o.seeds), '--workers', '1', '--only', o.mutant, '--json', '--', ...flags, '--max-failures', String(need)]),
  ]);
  const summary = right.stdout.split('\n').find((l) => l.startsWith('check:'));
  t.log(summary);
  t.is(right.code, 0, right.stdout);
  t.regex(summary ?? '', new RegExp(`^check: ${rightSeeds} seeds, ${rightSeeds} passed, 0 failed, 0 unknown`));
  t.is(wrong.code, 0, wrong.stdout);
  const result = (
    JSON.parse(wrong.stdout) as { mutants: Array<{ name: string; seeds: number; stopped: boolean; failed: number; unknown: number; error?: string }> }
  ).mutants;
  t.is(result.length, 1);
  const r = result[0]!;
  t.log(
    `${o.mutant}: caught ${r.failed} of the first ${r.seeds} seeds${r.stopped ? ` (stopped there: ${need} of ${o.seeds} needed)` : ''}, ${r.unknown} unknown`,
  );
  t.is(r.error, undefined);
  t.true(r.seeds <= o.seeds);
  t.is(r.unknown, 0);
  t.true(r.failed >= need, `caught ${r.failed} of ${r.seeds}, ${need} of ${o.seeds} needed`);
}
