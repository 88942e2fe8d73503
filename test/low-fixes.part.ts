/**
 * Low findings of the session 64 class audits, fixed in session 65, whose tests have no part
 * file of their own to go in.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { createCheckPoolOf, POOL_THREAD_LOADED } from '../src/harness/check-runner.js';

/** Threads the pool test replaces (each a thread started, and its task module loaded). */
const REPLACED_THREADS = 3;

// A pool kept the id of every thread that said it loaded its task module, replaced threads
// too: a long-lived pool whose threads a seed ends (a dropped seed's thread is ended, and
// piscina starts another) held one id per thread it ever ran.
test('a check pool keeps the loaded ids of its live threads only, however many threads it replaced', async (t) => {
  // The fixture's threads say they loaded with this key (each imported it from check-runner.js,
  // a load of the runner's module graph, until 2026-12-07; 1 + REPLACED_THREADS threads here).
  process.env['MERIDIAN_TEST_POOL_THREAD_LOADED'] = POOL_THREAD_LOADED;
  const pool = createCheckPoolOf(fileURLToPath(new URL('./fixtures/dies-under-seed-worker.js', import.meta.url)), 1);
  // ScenarioPool's own run and count (CheckPool's interface has neither).
  const inner = pool as unknown as { run(task: { seed: number }, signal: AbortSignal): Promise<unknown>; loadedThreads: number };
  try {
    for (let i = 0; i < REPLACED_THREADS; i++) {
      // Each task ends its thread (the fixture throws where nothing catches it); piscina starts another.
      // (Its error comes from the thread's realm: not an Error here.)
      const failed = await inner.run({ seed: i }, new AbortController().signal).then(
        () => 'settled',
        (error: unknown) => (error as { message?: unknown }).message,
      );
      t.is(failed, 'a bug in the run ended its thread', `task ${i}`);
    }
    t.true(inner.loadedThreads <= pool.workers + 1, `ids held after ${REPLACED_THREADS} threads: ${inner.loadedThreads}`);
  } finally {
    await pool.close();
  }
});
