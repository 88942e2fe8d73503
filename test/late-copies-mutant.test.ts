/**
 * What `late-copies` is for: a store whose state machine applies a duplicated request again
 * shows it in a history only when the copy comes after something else changed the key, and
 * copies that come late after a restart are where dedup state is most easily lost. The default
 * schedule caught that bug (`sm-no-dedup` of scripts/mutants.mjs) in 12-18 of 100 seeds;
 * `--faults late-copies` in 75 of 100 (2026-12-02, session 21). The bug is put into a scratch
 * copy of dist/ by scripts/mutants.mjs (nothing in the project knows it), and the same seeds
 * must pass without it.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const mutants = fileURLToPath(new URL('../../scripts/mutants.mjs', import.meta.url));
const SEEDS = 20;

function run(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout });
    });
  });
}

test(`late-copies: seeds 1..${SEEDS} pass with the right state machine, and at least 30% fail with one that applies a duplicated request again`, async (t) => {
  t.log(`seeds 1..${SEEDS}, --faults late-copies`);
  const right = await run([cli, 'check', '--seeds', String(SEEDS), '--workers', '2', '--faults', 'late-copies']);
  const summary = right.stdout.split('\n').find((l) => l.startsWith('check:'));
  t.log(summary);
  t.is(right.code, 0, right.stdout);
  t.regex(summary ?? '', new RegExp(`^check: ${SEEDS} seeds, ${SEEDS} passed, 0 failed, 0 unknown`));
  const wrong = await run([mutants, '--seeds', String(SEEDS), '--workers', '2', '--only', 'sm-no-dedup', '--json', '--', '--faults', 'late-copies']);
  t.is(wrong.code, 0, wrong.stdout);
  const result = (JSON.parse(wrong.stdout) as { mutants: Array<{ name: string; seeds: number; failed: number; unknown: number; error?: string }> }).mutants;
  t.is(result.length, 1);
  const r = result[0]!;
  t.log(`sm-no-dedup: caught ${r.failed} of ${r.seeds}, ${r.unknown} unknown`);
  t.is(r.error, undefined);
  t.is(r.seeds, SEEDS);
  t.is(r.unknown, 0);
  t.true(r.failed >= 0.3 * SEEDS, `caught ${r.failed} of ${r.seeds}`);
});
