import test from 'ava';
import { existsSync } from 'node:fs';
import { runtimeWith } from './helpers/runtimes.js';

/**
 * What a setup acquires (threads, host processes, NATS connections, timers, a data folder and
 * its lock) and did not release on a path where it failed or was stopped halfway (an audit of
 * every such resource, session 66): each test fails on the code before its fix. A file of its
 * own: it counts what its process holds.
 */
test('threads: a second stop() made while the first runs settles once the threads ended and the folder is gone (it resolved at once)', async (t) => {
  const rt = await runtimeWith('threads', [{ host: 1, address: 'echo/a', behavior: 'echo', params: {} }]);
  const dataDir = (rt as unknown as { options: { dataDir: string } }).options.dataDir;
  const worker = (rt as unknown as { hosts: Map<number, { worker: { threadId: number } }> }).hosts.get(1)!.worker;
  t.true(existsSync(dataDir));
  const first = rt.stop();
  // What start() does when it fails while a stop runs (stopRuntimes): its clean-up is a second stop().
  await rt.stop();
  // Before: still running, the folder (and a given folder's lock) still there.
  t.is(worker.threadId, -1, 'the worker thread ended');
  t.false(existsSync(dataDir), 'the temporary folder is removed');
  await first;
});
