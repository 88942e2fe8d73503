import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A library program interrupted with a cluster it never stopped (no dataDir: a temporary
 * folder) left that folder behind: a signal's default action runs no 'exit' listener (found by
 * an audit, session 60). Each program runs in a process of its own with a TMPDIR of its own:
 * what is left there is its alone.
 */

const index = fileURLToPath(new URL('../src/index.js', import.meta.url));

/**
 * Starts a threads cluster with no dataDir in a child node process, runs `after` (source) once
 * it started, prints "ready", then waits; `signal` is sent to it once it is ready.
 */
function runChild(
  signal: NodeJS.Signals,
  after = '',
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; tmp: string }> {
  const tmp = mkdtempSync(join(tmpdir(), 'meridian-signal-test-'));
  const script = [
    `import { startCluster } from ${JSON.stringify(index)};`,
    `const cluster = await startCluster({ regions: [{ name: 'a', servers: 1 }], transport: 'threads' });`,
    after,
    `console.log('ready');`,
    // Keeps the process alive until the signal (a cluster's threads do not).
    `setInterval(() => undefined, 1000);`,
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: tmp },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const before = stdout;
      stdout += chunk.toString();
      if (!before.includes('ready') && stdout.includes('ready')) child.kill(signal);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, sig) => resolve({ code, signal: sig, stdout, stderr, tmp }));
  });
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  test(`a program without a ${signal} listener of its own, its cluster never stopped: ${signal} ends it as the signal does, its temporary folder removed`, async (t) => {
    const r = await runChild(
      signal,
      `console.log('folders', (await import('node:fs')).readdirSync(process.env.TMPDIR).filter((n) => n.startsWith('meridian-')).length);`,
    );
    t.teardown(() => rmSync(r.tmp, { recursive: true, force: true }));
    t.regex(r.stdout, /folders 1\n/, r.stderr);
    t.is(r.signal, signal, r.stderr);
    t.deepEqual(readdirSync(r.tmp), []);
  });
}

test('a program with its own SIGINT listener decides: it exits 7 as it chose, and its exit removes the folder', async (t) => {
  const r = await runChild('SIGINT', `process.on('SIGINT', () => process.exit(7));`);
  t.teardown(() => rmSync(r.tmp, { recursive: true, force: true }));
  t.is(r.code, 7, r.stderr);
  t.deepEqual(readdirSync(r.tmp), []);
});

test('a cluster stopped leaves no signal listener behind (a program without folders is as it was)', async (t) => {
  const r = await runChild(
    'SIGINT',
    `console.log('while running', process.listenerCount('SIGINT'), process.listenerCount('SIGTERM'), process.listenerCount('SIGHUP'));
await cluster.stop();
console.log('after stop', process.listenerCount('SIGINT'), process.listenerCount('SIGTERM'), process.listenerCount('SIGHUP'));`,
  );
  t.teardown(() => rmSync(r.tmp, { recursive: true, force: true }));
  t.regex(r.stdout, /while running 1 1 1\n/);
  t.regex(r.stdout, /after stop 0 0 0\n/);
  t.is(r.signal, 'SIGINT', r.stderr);
  t.deepEqual(readdirSync(r.tmp), []);
});
