import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIMES_STOP_WAIT_MS } from '../bench/run.js';
import { endsLoop, retried } from '../bench/lib/wait.js';
import { closedLoop } from '../bench/lib/cluster-load.js';
import { StoppedError, TimeoutError, UnavailableError, ValidationError } from '../src/index.js';

/**
 * Ctrl-C during the failover suite's threads phase: the runner said it was interrupted and
 * wrote its files, then ran on (found by an audit, session 60: 611 s later, 4.4 GB and
 * growing). Its closed loops went on calling the cluster the runner had stopped; each call
 * failed at once, with no timer or I/O between one and the next, so the loops spun on promise
 * callbacks alone and no timer (the runner's own deadline included) ran again. The runner is
 * spawned with a TMPDIR of its own: the clusters' folders must be gone when it has quit.
 */
test('SIGINT to node dist/bench/run.js failover --quick while its threads loops run: it quits (130), no folder left', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'meridian-bench-fail-'));
  try {
    const child = spawn(process.execPath, [fileURLToPath(new URL('../bench/run.js', import.meta.url)), 'failover', '--quick'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TMPDIR: tmp },
    });
    let stderr = '';
    let sent = false;
    // A hang detector, not a timing figure: the runner waits RUNTIMES_STOP_WAIT_MS at most for
    // the clusters to stop; far past that, it is killed and the test fails.
    const bound = setTimeout(() => child.kill('SIGKILL'), 6 * RUNTIMES_STOP_WAIT_MS);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && /failover: threads: \d+ closed loops running/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (c, s) => resolve({ code: c, signal: s }));
    });
    clearTimeout(bound);
    t.true(sent, stderr);
    t.deepEqual({ code, signal }, { code: 130, signal: null }, stderr);
    t.true(stderr.endsWith('bench: interrupted: 0 of 1 suites finished; exit 130\n'), stderr);
    t.deepEqual(readdirSync(tmp), [], 'the clusters of the suite cut short left no folder');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('endsLoop: a stopped cluster ends a closed loop; any other failure is counted and the loop goes on', (t) => {
  t.true(endsLoop(new StoppedError('the cluster is stopped', true)));
  t.false(endsLoop(new TimeoutError('no answer')));
  t.false(endsLoop(new Error('x')));
});

/**
 * A busy machine's new cluster may hold a server down with the first put in flight: that one
 * failure threw away the whole transport suite (found by an audit, session 60). Such a call is
 * tried again, a bounded number of times; anything else, or failing every time, still fails.
 */
test('retried: an unanswered call (TIMEOUT, UNAVAILABLE) is made again; other errors and the last failure are thrown', async (t) => {
  let calls = 0;
  const flaky = (): Promise<number> => {
    calls++;
    if (calls === 1) return Promise.reject(new TimeoutError('server r0/2 went silent (its region holds it down) with the request in flight'));
    if (calls === 2) return Promise.reject(new UnavailableError('no server up'));
    return Promise.resolve(42);
  };
  t.deepEqual(await retried(flaky), { value: 42, retries: 2 });
  t.is(calls, 3);

  calls = 0;
  const always = (): Promise<never> => (calls++, Promise.reject(new TimeoutError('never answered')));
  await t.throwsAsync(retried(always, 3), { instanceOf: TimeoutError, message: 'never answered' });
  t.is(calls, 3, 'bounded');

  calls = 0;
  const invalid = (): Promise<never> => (calls++, Promise.reject(new ValidationError('key', 'must be a string')));
  await t.throwsAsync(retried(invalid), { instanceOf: ValidationError });
  t.is(calls, 1, 'a real error is not tried again');
});

test('closedLoop: a stopped cluster ends every worker at its first call; failures are counted; every call failing fails the loop with the first error', async (t) => {
  // Without endsLoop this ran for its whole hour, spinning (no call ever waited on a timer).
  const stopped = await closedLoop({
    window: 4,
    total: Number.MAX_SAFE_INTEGER,
    durationMs: 3_600_000,
    call: () => Promise.reject(new StoppedError('the cluster is stopped', true)),
  });
  t.deepEqual({ calls: stopped.calls, ok: stopped.ok, failed: stopped.failed }, { calls: 4, ok: 0, failed: 0 });

  const some = await closedLoop({
    window: 2,
    total: 10,
    call: (i) => (i % 5 === 0 ? Promise.reject(new TimeoutError('late')) : Promise.resolve()),
  });
  t.deepEqual({ ok: some.ok, failed: some.failed, errors: some.errors }, { ok: 8, failed: 2, errors: { TIMEOUT: 2 } });

  await t.throwsAsync(closedLoop({ window: 2, total: 6, call: (i) => Promise.reject(new UnavailableError(`no server for call ${i}`)) }), {
    message: 'every one of 6 calls failed; the first: no server for call 0',
  });
});
