import test from 'ava';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeText } from '../src/cli/output-file.js';

/**
 * What a command leaves behind when it does not end as planned (found by an audit, session
 * 56): a write that failed part way left a report cut short over a good one; a nats-server
 * binary that does not start was a stack trace and exit 1. Each command runs in a process of
 * its own.
 */

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

/** `sh -c SCRIPT` (its stdout and stderr, and how it ended) in `cwd`, with `env` added to this process's. */
function shell(script: string, cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('MERIDIAN_NATS_SERVER_BIN naming no binary: check --transport nats says so in one line naming the variable, exit 2 (a stack trace and exit 1 before)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-leftovers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await shell(`exec "${process.execPath}" "${cli}" check --seeds 1 --transport nats`, dir, {
    MERIDIAN_NATS_SERVER_BIN: join(dir, 'no-such-nats-server'),
  });
  t.is(r.code, 2, r.stderr);
  t.is(r.stderr.split('\n').length, 2, r.stderr);
  t.regex(
    r.stderr,
    /^meridian check: --transport nats without --nats starts a nats-server for the run, and MERIDIAN_NATS_SERVER_BIN=\S*no-such-nats-server did not start: nats-server did not start on 127\.0\.0\.1:\d+: .+; or give --nats URL\[,URL\]\n$/,
  );
});

test('a report whose writing fails part way (ulimit -f) leaves the earlier one whole, and no file beside it; exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-leftovers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const old = '{"an earlier report":true}\n';
  writeFileSync(join(dir, 'h.json'), old);
  // At most 1 KB a file: seed 1's history is longer, so the write fails with EFBIG part way.
  const r = await shell(`ulimit -f 1; exec "${process.execPath}" "${cli}" check --seed 1 --history h.json`, dir);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /^meridian check: --history: cannot write "h\.json": EFBIG/m);
  t.is(readFileSync(join(dir, 'h.json'), 'utf8'), old);
  t.deepEqual(readdirSync(dir), ['h.json']);
});

test('writeText: writes through a link (a dangling one makes its target), keeps the permissions, leaves no file beside it; in a folder it cannot write, a file it can is written in place', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-leftovers-'));
  t.teardown(() => {
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  });
  const errors: string[] = [];
  const target = join(dir, 'report.json');
  writeFileSync(target, 'old');
  chmodSync(target, 0o640);
  symlinkSync('report.json', join(dir, 'link.json'));
  t.true(writeText('meridian check', join(dir, 'link.json'), 'new', '--json', (line) => errors.push(line)));
  t.is(readFileSync(target, 'utf8'), 'new');
  t.true(statSync(join(dir, 'link.json'), { throwIfNoEntry: false }) !== undefined);
  t.is(statSync(target).mode & 0o777, 0o640);
  t.deepEqual(readdirSync(dir).sort(), ['link.json', 'report.json']);
  // A link to nothing yet: the file it names is made.
  symlinkSync('later.json', join(dir, 'dangling.json'));
  t.true(writeText('meridian check', join(dir, 'dangling.json'), 'made', '--json', (line) => errors.push(line)));
  t.is(readFileSync(join(dir, 'later.json'), 'utf8'), 'made');
  // No file can be made beside it (for a user the folder's mode binds; root writes either way).
  chmodSync(dir, 0o500);
  t.true(writeText('meridian check', target, 'in place', '--json', (line) => errors.push(line)));
  t.is(readFileSync(target, 'utf8'), 'in place');
  t.deepEqual(errors, []);
});
