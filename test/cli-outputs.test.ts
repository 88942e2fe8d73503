import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as check } from '../src/cli/check.js';
import { interrupted } from './helpers/interrupted.js';
import { runNode } from './helpers/run-node.js';

/**
 * The commands' outputs as a script reads them (an audit of the CLI as a scripting user,
 * session 61): what `--json` carries beside what the text lines say.
 */

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await check(args, { out: (l) => (stdout += `${l}\n`), err: (l) => (stderr += `${l}\n`) });
  return { code, stdout, stderr };
}

test("check --json: an unknown seed's report carries memoryBound beside undecidedKeys, the keys more --check-budget cannot decide, as its text line says (the file gave the keys alone)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-cli-outputs-'));
  try {
    const file = join(dir, 'u.json');
    // A budget of a millionth: 50 steps a key, too few to decide any key of seed 1 (steps, not memory).
    const r = await run(['--seeds', '1', '--workers', '1', '--check-budget', '0.000001', '--json', file]);
    t.is(r.code, 1, r.stdout + r.stderr);
    t.regex(r.stdout, /\njson: 1 seed report written to /, 'one report, not "1 seed reports"');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { reports: Array<{ outcome: string; undecidedKeys?: string[]; memoryBound?: string[] }> };
    const report = doc.reports[0]!;
    t.is(report.outcome, 'unknown');
    t.true((report.undecidedKeys ?? []).length > 0, JSON.stringify(report));
    t.deepEqual(report.memoryBound, [], 'present, and empty: every key ran out of steps');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one SIGTERM delivered twice at once (as `timeout` sends it: to the command, then to its process group) stops check as one does: the summary and --json are written, exit 143 (it quit at once with neither)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-cli-outputs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // A TMPDIR of its own: the pool's folders left behind, if any, are this run's.
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const file = join(dir, 'r.json');
  // The header is printed just before the signal handlers are set: sent at once, the signal
  // could beat them (and the default action end the process); the pool's threads take a second
  // or more to load after it, so both signals still come in the middle of the run.
  const { code, stdout, stderr } = await interrupted(['--seeds', '50', '--json', file], /\n/, {
    signal: 'SIGTERM',
    times: 2,
    delayMs: 200,
    env: { ...process.env, TMPDIR: tmp },
  });
  t.is(code, 143, stdout + stderr);
  t.regex(stderr, /^meridian check: terminated; /);
  t.regex(stdout, /\ncheck: interrupted after \d+ of 50 seeds, /);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { interrupted: boolean; seeds: number };
  t.deepEqual([doc.interrupted, doc.seeds], [true, 50]);
  t.deepEqual(readdirSync(tmp), [], 'no folder left');
});

test('meridian --version prints the package version on stdout, exit 0 (it was an unknown command, exit 2)', async (t) => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const { code, stdout, stderr } = await runNode(new URL('../src/cli.js', import.meta.url), ['--version'], 30_000);
  t.is(code, 0, stderr);
  t.is(stdout, `meridian ${version}\n`);
  t.is(stderr, '');
});
