import test from 'ava';
import { ConfigError, MeridianError, StoppedError, ValidationError } from '../src/core/errors.js';
import { runNodeScript } from './helpers/run-node.js';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCheckPool,
  createCheckPoolOf,
  POOL_THREAD_LOADED,
  runChecks,
  type CheckPool,
  type CheckRunSummary,
  type ScenarioReport,
} from '../src/harness/check-runner.js';
import './low-fixes.part.js';

/**
 * Small seeds (4 clients, half a second of faults; a second until 2026-12-07): what is checked is
 * how a pool runs them and what it reports, the same for any size, and the 14 seeds of the
 * sharing test cost about half as much on a warm thread so (0.09 against 0.16 CPU s a seed).
 */
const SMALL = { clients: 4, faultMs: 500 } as const;

/** A report without its wall time, the one field that is not a function of the seed. */
const seedPart = ({ elapsedMs: _elapsedMs, ...rest }: ScenarioReport): Omit<ScenarioReport, 'elapsedMs'> => rest;
const line = (s: CheckRunSummary): string => s.reports.map((r) => `${r.seed} ${r.outcome} ${r.traceHash}`).join(', ');

/**
 * One pool of two threads for the tests that run on a pool of two: each pool's threads spend a
 * second or so compiling. The two that do not close it are serial (ava runs them first, one at
 * a time), so neither's runs are on the pool while the other's are: the first test's stopped run
 * has piscina end the threads its seeds are on, which would end another run's seeds too. The
 * close test then closes it, warm (it ran on a cold pool of one of its own until 2026-12-07).
 */
let pairPool: CheckPool | undefined;
const pair = (): CheckPool => (pairPool ??= createCheckPool({ workers: 2 }));
test.after.always(() => pairPool?.close());

test.serial('two runs on one pool report exactly what a run on its own pool does, seed by seed; a run stopped mid-seed leaves the pool usable', async (t) => {
  // Three seeds on two threads: within a run one thread takes a second seed, and across runs
  // both are reused (four seeds cost each run a small seed more, 2026-12-07). The run on a pool
  // of its own has one thread (two until 2026-12-07): a seed's report does not depend on the
  // pool's size, and each thread of a new pool spends its first second or so compiling.
  const options = { seeds: 3, workers: 2, ...SMALL };
  const pool = pair();
  const own = await runChecks({ ...options, workers: 1 });
  const first = await runChecks({ ...options, pool });
  const second = await runChecks({ ...options, pool });
  t.log(`own pool: ${line(own)}`);
  t.log(`shared pool, twice: ${line(first)} | ${line(second)}`);
  t.deepEqual(
    own.reports.map((r) => r.seed),
    [1, 2, 3],
  );
  t.deepEqual(first.reports.map(seedPart), own.reports.map(seedPart));
  t.deepEqual(second.reports.map(seedPart), own.reports.map(seedPart));
  t.is(own.workers, 1);
  t.is(first.workers, 2);
  t.false(pool.closed);
  // A signal that fires with seeds on the threads: piscina stops their threads (as for a hung
  // seed) and starts new ones, so the pool keeps its two and the next run reports the same.
  const stop = new AbortController();
  const stopped = await runChecks({
    ...options,
    pool,
    signal: stop.signal,
    onReport: () => stop.abort(),
  });
  t.true(stopped.interrupted);
  t.log(`stopped after ${stopped.reports.length} seed(s)`);
  const after = await runChecks({ ...options, pool });
  t.deepEqual(after.reports.map(seedPart), own.reports.map(seedPart));
});

test("runChecks refuses workers other than the pool's, a closed pool and anything but a CheckPool, naming the field; createCheckPool checks its workers", async (t) => {
  const pool = createCheckPool({ workers: 1 });
  const mismatch = await t.throwsAsync(runChecks({ seeds: 1, workers: 2, pool }), { instanceOf: ConfigError });
  t.is(mismatch?.field, 'workers');
  t.regex(mismatch!.message, /^options\.workers: expected 1 or undefined with this pool \(a run on a CheckPool uses its threads/);
  // The same number, or none, is the pool's.
  await pool.close();
  const closed = await t.throwsAsync(runChecks({ seeds: 1, pool }), { instanceOf: ConfigError });
  t.is(closed?.field, 'pool');
  t.is(closed?.message, 'options.pool: expected an open CheckPool from createCheckPool(), got a closed one');
  const lookalike = { workers: 1, closed: false, close: () => Promise.resolve() } as CheckPool;
  for (const bad of [{}, 'pool', 2, lookalike, null]) {
    const error = await t.throwsAsync(runChecks({ seeds: 1, pool: bad as CheckPool }), { instanceOf: ConfigError }, String(bad));
    t.is(error?.field, 'pool');
    t.regex(error!.message, /^options\.pool: expected a CheckPool from createCheckPool\(\), or undefined for a pool of its own, got /);
  }
  for (const workers of [0, 65, 1.5, Number.NaN, '2']) {
    const error = t.throws(() => createCheckPool({ workers: workers as number }), { instanceOf: ConfigError }, String(workers));
    t.is(error?.message.startsWith('options.workers: expected an integer from 1 to 64, got '), true);
  }
  t.throws(() => createCheckPool({ threads: 2 } as never), { instanceOf: ValidationError, message: /^options\.threads: not an option here/ });
  t.throws(() => createCheckPool(null as never), { instanceOf: ValidationError });
  t.throws(() => createCheckPool({ workers: null as never }), { instanceOf: ConfigError, message: /^options\.workers: expected a value, or left out/ });
});

test('closing a pool ends the run on it and the run waiting for its turn with a StoppedError, at once; close() again is the same promise', async (t) => {
  // The serial tests' pool (ava runs this test after them), warm: what is checked is how its
  // runs end, on any pool.
  const pool = pair();
  const started = performance.now();
  let finished = 0;
  const running = runChecks({ seeds: 200, pool, ...SMALL, onReport: () => finished++ });
  const waiting = runChecks({ seeds: 2, pool, ...SMALL });
  // Close once the first seed is done: a seed is on the thread.
  while (finished === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  const closing = pool.close();
  t.is(pool.close(), closing);
  t.true(pool.closed);
  const error = await t.throwsAsync(running, {
    instanceOf: StoppedError,
    message: /^runChecks: its CheckPool was closed during the run \(\d+ of 200 seeds had finished\)/,
  });
  await t.throwsAsync(waiting, { instanceOf: StoppedError, message: /\(0 of 2 seeds had finished\)/ });
  await closing;
  await pool.close();
  const ms = Math.round(performance.now() - started);
  t.log(`${error?.message}; both runs ended ${ms} ms after they began`);
});

test('an open pool does not keep the process alive: a script that runs a seed on it and never closes it exits', async (t) => {
  const module = new URL('../src/harness/check-runner.js', import.meta.url).href;
  const script = `
    import { createCheckPool, runChecks } from ${JSON.stringify(module)};
    const pool = createCheckPool({ workers: 1 });
    const r = await runChecks({ seeds: 1, pool, clients: 4, faultMs: 0 });
    console.log('seed', r.reports[0].seed, r.reports[0].outcome);
  `;
  const started = performance.now();
  const { code, stdout, stderr } = await runNodeScript(script, 120_000);
  t.log(`${stdout.trim()}; exited ${code} after ${Math.round(performance.now() - started)} ms`);
  t.is(code, 0, `exited by itself (null: killed at 120 s; a hang, the seed itself takes a second or two); stderr: ${stderr}`);
  t.regex(stdout, /^seed 1 pass/);
});

test('a pool whose threads fail as they load (a broken build): the run rejects naming the failure, later runs at once; before, the process died or the run waited for ever', async (t) => {
  // piscina fails the task on a thread that fails as it loads, or emits 'error' if it had none
  // (with no listener, that ended the process), and starts no thread again after one failed to load.
  const pool = createCheckPoolOf(fileURLToPath(new URL('./fixtures/broken-worker.js', import.meta.url)), 1);
  // A MeridianError with code INTERNAL (a plain Error before 2026-12-06).
  const failed = {
    instanceOf: MeridianError,
    code: 'INTERNAL',
    message: /^runChecks: a pool thread failed, and the pool runs nothing more: this task module does not load$/,
  };
  const first = await t.throwsAsync(runChecks({ seeds: 2, pool }), failed);
  t.log(first?.message);
  await t.throwsAsync(runChecks({ seeds: 1, pool }), failed);
  await pool.close();
});

test.serial(
  'an onReport that throws ends the run with its error, and no seed of that run starts or is reported after it (found by an audit, session 54)',
  async (t) => {
    const pool = pair();
    let calls = 0;
    const error = await t.throwsAsync(
      runChecks({
        seeds: 8,
        pool,
        faultMs: 0,
        onReport: () => {
          calls++;
          if (calls === 1) throw new Error('boom from onReport');
        },
      }),
    );
    t.is(error?.message, 'boom from onReport');
    const atRejection = calls;
    // The pool's next run has it to itself: the first run's other lane no longer starts seeds
    // (with Promise.all it went on, and its onReport was called for seeds 2 to 8).
    const second = await runChecks({ seeds: 2, from: 100, pool, faultMs: 0 });
    t.is(second.reports.length, 2);
    t.is(calls, atRejection, `onReport called ${calls - atRejection} times after the run rejected`);
  },
);

test('closing a pool mid-run stops the clusters of its real-time seeds first: no temporary folder or child process is left once close() resolves (found by a review, session 57)', async (t) => {
  const module = new URL('../src/harness/check-runner.js', import.meta.url).href;
  const tmp = mkdtempSync(join(tmpdir(), 'meridian-pool-close-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  // In a process of its own, with a TMPDIR of its own (its pool's threads take it from there).
  const script = `
    import { readdirSync, readFileSync } from 'node:fs';
    process.env.TMPDIR = ${JSON.stringify(tmp)};
    const { createCheckPool, runChecks } = await import(${JSON.stringify(module)});
    // The pool's folder, and the clusters' folders in it (the pool threads' TMPDIR).
    const folders = () => readdirSync(${JSON.stringify(tmp)}, { recursive: true }).filter((e) => e.startsWith('meridian-'));
    const clusters = () => folders().filter((e) => e.split('/').length === 2);
    const pool = createCheckPool({ workers: 1 });
    // A seed of a minute's faults on threads: running when the pool is closed. Two regions of one
    // server (4 threads: a region's host and a server's each; 3 regions of one server took 6, of
    // two 9): what is left behind does not depend on the size, and each thread costs a boot.
    const run = runChecks({ seeds: 5, pool, transport: 'threads', clients: 4, faultMs: 60000, regions: 2, servers: 1, factor: 2 }).catch((e) => e.constructor.name);
    while (clusters().length === 0 || readdirSync(${JSON.stringify(tmp)} + '/' + clusters()[0]).length === 0) await new Promise((r) => setTimeout(r, 20));
    await pool.close();
    const children = readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
      try { return readFileSync('/proc/' + p + '/stat', 'utf8').split(') ')[1].split(' ')[1] === String(process.pid); } catch { return false; }
    });
    console.log(JSON.stringify({ run: await run, left: folders(), children: children.length }));
  `;
  const { code, stdout, stderr } = await runNodeScript(script, 120_000);
  t.is(code, 0, stderr);
  t.deepEqual(JSON.parse(stdout.trim()), { run: 'StoppedError', left: [], children: 0 });
});

test('a pool ends no thread in the middle of loading its task module: close() waits for it (a while at most); it ended it there, which on Node 20.19 could abort the process (session 58)', async (t) => {
  // The threads stay a second in a synchronous wait as they load (as a require() of an ES
  // module graph is), noting when they enter and leave it.
  const marks = mkdtempSync(join(tmpdir(), 'meridian-load-marks-'));
  t.teardown(() => rmSync(marks, { recursive: true, force: true }));
  process.env['MERIDIAN_TEST_LOAD_MARKS'] = marks;
  // The fixture's threads say they loaded with this key (importing it there cost each a load of the runner).
  process.env['MERIDIAN_TEST_POOL_THREAD_LOADED'] = POOL_THREAD_LOADED;
  const pool = createCheckPoolOf(fileURLToPath(new URL('./fixtures/slow-loading-worker.js', import.meta.url)), 2);
  const entered = (): string[] => readdirSync(marks).filter((e) => e.endsWith('.start'));
  while (entered().length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  // Both threads are in the middle of their loading.
  await pool.close();
  const left = readdirSync(marks)
    .filter((e) => e.endsWith('.end'))
    .map((e) => e.replace(/\.end$/, '.start'));
  t.deepEqual(left.sort(), entered().sort(), 'every thread that began loading finished before it was ended');
});

test("a second Ctrl-C's endCheckPools removes every folder the pool's threads made, told of or not: a thread ended between making one and its note left it (fresh-clone CI, session 58)", async (t) => {
  const module = new URL('../src/harness/check-runner.js', import.meta.url).href;
  const fixture = fileURLToPath(new URL('./fixtures/folder-then-hang-worker.js', import.meta.url));
  const tmp = mkdtempSync(join(tmpdir(), 'meridian-pool-end-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  // In a process of its own, with a TMPDIR of its own. Each task makes a folder and hangs
  // without a word of it to this thread; the pool is ended (as a second Ctrl-C ends it), and
  // the process exits at once (its exit listeners remove the folders they were told of).
  const script = `
    import { readdirSync } from 'node:fs';
    process.env.TMPDIR = ${JSON.stringify(tmp)};
    const { createCheckPoolOf, endCheckPools, POOL_THREAD_LOADED, runChecks } = await import(${JSON.stringify(module)});
    process.env.MERIDIAN_TEST_POOL_THREAD_LOADED = POOL_THREAD_LOADED;
    const clusters = () => readdirSync(${JSON.stringify(tmp)}, { recursive: true }).filter((e) => /^meridian-\\d+-.{6}$/.test(e.split('/').pop()));
    const pool = createCheckPoolOf(${JSON.stringify(fixture)}, 2);
    const run = runChecks({ seeds: 2, pool }).catch((e) => e.constructor.name);
    while (clusters().length < 2) await new Promise((r) => setTimeout(r, 10));
    await endCheckPools();
    console.log(JSON.stringify({ run: await run }));
    process.exit(130);
  `;
  const { code, stdout, stderr } = await runNodeScript(script, 60_000);
  t.is(code, 130, stderr);
  t.deepEqual(JSON.parse(stdout.trim()), { run: 'StoppedError' });
  t.deepEqual(readdirSync(tmp, { recursive: true }), []);
});
