/**
 * Task entry of `meridian check`'s pool threads (piscina's `filename`). Piscina require()s its
 * task file, and on Node 20.19 require() of an ES module (workers/scenario.js) loads and links
 * its whole graph synchronously: a pool thread ended in the middle of that (a second Ctrl-C
 * quitting at once) died with a V8 fatal error, "v8::Module::IsGraphAsync must be used on an
 * instantiated module", which aborted the whole process instead of its exit 130 (a fresh-clone
 * CI run of cli-leftovers' double Ctrl-C test, session 58; a probe ending threads as they
 * require() the graph hits it about once in 150 on Node 20.19.0, never through import()).
 * This CommonJS entry loads the scenario module with import() instead, as the thread starts,
 * and then says so (POOL_THREAD_LOADED in src/harness/check-runner.ts): the pool ends no thread
 * still loading (for at most POOL_LOAD_WAIT_MS). Piscina awaits the exported promise before
 * the thread takes a task.
 */
// A CommonJS module: its imports are require()s.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import threads = require('node:worker_threads');

type Scenario = typeof import('./scenario.js').default;

/** check-runner's POOL_THREAD_LOADED (this CommonJS file cannot import it synchronously). */
const POOL_THREAD_LOADED = 'meridianPoolThreadLoaded';

async function load(): Promise<Scenario> {
  const { default: scenario } = await import('./scenario.js');
  threads.parentPort?.postMessage({ [POOL_THREAD_LOADED]: threads.threadId });
  return scenario;
}

export = load();
