import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What a command leaves behind when it does not end as planned (found by an audit, session
 * 56): a nats-server binary that does not start was a stack trace and exit 1. Each command
 * runs in a process of its own.
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
