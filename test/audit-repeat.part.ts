/**
 * Session 69's audit of what one long-lived process accumulates across many runs: a test
 * harness starting thousands of clusters, `meridian check --time-limit` running tens of
 * thousands of seeds on one pool.
 */
import test from 'ava';
import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { createCheckPoolOf, POOL_THREAD_LOADED, runChecks } from '../src/harness/check-runner.js';
import { startCluster } from '../src/cluster/cluster.js';
import { makeTempDir, notedTempDirsForTests, removeTempDir } from '../src/runtime/temp-dirs.js';

/**
 * The references Node keeps in `signal` to the signals AbortSignal.any made of it (its
 * kDependantSignals: on Node 20 never pruned); 0 when it has none (or a Node keeps none).
 */
function dependants(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
  // A set of Node's own (SafeSet: not an instance of this realm's Set).
  const held = key === undefined ? undefined : (signal as unknown as Record<symbol, { size?: unknown } | undefined>)[key];
  return typeof held?.size === 'number' ? held.size : 0;
}

// runChecks linked each seed's signal to the run's with AbortSignal.any, and the run's to the
// caller's signal and its pool's: on Node 20 every seed left a reference in the caller's signal
// and in the pool's two, kept for as long as they live (a pool kept warm for a whole suite).
test('runs on a kept pool leave nothing in the pool or in the caller signal, seed by seed', async (t) => {
  process.env['MERIDIAN_TEST_POOL_THREAD_LOADED'] = POOL_THREAD_LOADED;
  const pool = createCheckPoolOf(fileURLToPath(new URL('./fixtures/instant-report-worker.js', import.meta.url)), 1);
  // ScenarioPool's own signals (CheckPool's interface has neither).
  const inner = pool as unknown as { closing: AbortSignal; failing: AbortSignal };
  const caller = new AbortController();
  const RUNS = 3;
  const SEEDS = 4;
  try {
    for (let run = 0; run < RUNS; run++) {
      const summary = await runChecks({ from: 1 + run * SEEDS, seeds: SEEDS, pool, signal: caller.signal });
      t.is(summary.passed, SEEDS);
    }
    const left = [caller.signal, inner.closing, inner.failing].map((s) => `${dependants(s)} references, ${getEventListeners(s, 'abort').length} listeners`);
    t.log(`after ${RUNS} runs of ${SEEDS} seeds: caller ${left[0]}; pool ${left[1]} | ${left[2]}`);
    for (const signal of [caller.signal, inner.closing, inner.failing]) {
      t.is(dependants(signal), 0);
      // One listener for every run on it at most (runs waiting on the pool share it).
      t.true(getEventListeners(signal, 'abort').length <= 1);
    }
    // The caller's signal still stops a run, with the seeds it ran reported.
    caller.abort();
    const stopped = await runChecks({ from: 100, seeds: SEEDS, pool, signal: caller.signal });
    t.true(stopped.interrupted);
    t.is(stopped.reports.length, 0);
  } finally {
    await pool.close();
  }
});

// A worker thread notes each temporary folder it makes to the main thread, which removes those
// left at exit. A thread ended before it said it removed one (a pool's thread ended under its
// real-time seed) left the folder noted for the process's life, and SIGINT, SIGTERM and SIGHUP
// listened to, even once the pool's folder (the thread's TMPDIR) was removed with it inside.
test('a folder a worker thread made inside a temporary folder is forgotten when that folder is removed', async (t) => {
  const parent = makeTempDir('meridian-audit-repeat-');
  const worker = new Worker(new URL('./fixtures/temp-dir-then-hang-worker.js', import.meta.url), { env: { ...process.env, TMPDIR: parent } });
  try {
    const inner = await new Promise<string>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    t.true(inner.startsWith(parent), inner);
    // Its note comes on another channel than its message: waited for (the main thread notes it).
    for (let i = 0; i < 500 && !notedTempDirsForTests().includes(inner); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    t.true(notedTempDirsForTests().includes(inner), 'the main thread noted the folder');
  } finally {
    await worker.terminate();
    removeTempDir(parent);
  }
  t.deepEqual(
    notedTempDirsForTests().filter((d) => d.startsWith(parent)),
    [],
  );
});

// A cancelled simulator event stayed in the heap, holding its callback, until its time came;
// with 0 ms messages (the default network) virtual time stays at 0 through calls awaited one
// at a time, and each client's sweep timer (armed for the request timeout, 5 s ahead, and
// cancelled as its call settled or it closed) kept every closed client alive: about 2 KB each
// on a long-lived simulated cluster a harness makes and closes clients on.
test('sim: a closed client is not kept by its cancelled sweep timer while virtual time stands still', async (t) => {
  // A real collection, as node --expose-gc gives (V8 reads the flag as the function is made).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const cluster = await startCluster({ regions: [{ name: 'a', servers: 1 }], transport: 'sim', seed: 1, history: false });
  try {
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < 8; i++) {
      const client = cluster.client({ region: 'a' });
      await client.put(`k${i}`, i);
      client.close();
      refs.push(new WeakRef(client));
    }
    t.is(cluster.now(), 0, 'virtual time did not move');
    // A WeakRef's target lives to the end of the job that read it: collected after a turn.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    // The last one closed may still be held by what ran last (one, not one per client).
    const reachable = refs.flatMap((r, i) => (r.deref() === undefined ? [] : [i]));
    t.log(`closed clients still reachable: ${reachable.join(', ') || 'none'} of 0-${refs.length - 1}`);
    t.true(reachable.length <= 1, `closed clients still reachable: ${reachable.join(', ')}`);
  } finally {
    await cluster.stop();
  }
});
