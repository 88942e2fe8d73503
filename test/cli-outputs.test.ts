import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as check } from '../src/cli/check.js';

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
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { reports: Array<{ outcome: string; undecidedKeys?: string[]; memoryBound?: string[] }> };
    const report = doc.reports[0]!;
    t.is(report.outcome, 'unknown');
    t.true((report.undecidedKeys ?? []).length > 0, JSON.stringify(report));
    t.deepEqual(report.memoryBound, [], 'present, and empty: every key ran out of steps');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
