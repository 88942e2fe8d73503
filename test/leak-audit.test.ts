import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, NatsUnreachableError, startCluster, StoppedError, type ClusterConfig } from '../src/index.js';
import { natsServerBinary, serverLoad, startNatsServer } from '../src/harness/nats-server.js';
import { runtimeWith } from './helpers/runtimes.js';
import { natsEchoRuntime } from './helpers/nats-runtime.js';

/**
 * What a setup acquires (threads, host processes, NATS connections, timers, a data folder and
 * its lock) and did not release on a path where it failed or was stopped halfway (an audit of
 * every such resource, session 66): each test fails on the code before its fix. A file of its
 * own: it counts what its process holds.
 */
const binary = natsServerBinary();
const natsTest = 'bin' in binary ? test : test.skip;
const skipped = 'reason' in binary ? ` (skipped: ${binary.reason})` : '';

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

natsTest(`nats: stop() while start() connects leaves no connection and no beat behind, and the start fails with StoppedError${skipped}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-leak-audit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startNatsServer((binary as { bin: string }).bin);
  t.teardown(() => server.stop());
  const rt = natsEchoRuntime(dir, [server.url], new URL('./fixtures/behaviors.js', import.meta.url).href, { cluster: `leak-audit-${process.pid}` });
  const starting = rt.start();
  // start() is connecting: stop() finds no connection yet.
  await rt.stop();
  await t.throwsAsync(starting, { instanceOf: StoppedError, message: 'the cluster stopped before the call ended' });
  const inside = rt as unknown as { beat: unknown; front: unknown; nc: unknown };
  // Before: the connection came after the stop and was kept, with its subscriptions, the front
  // host, and the beat's interval, which held the process for good.
  t.is(inside.beat, undefined, 'no beat interval');
  t.is(inside.front, undefined, 'no front host');
  t.is(inside.nc, undefined, 'no connection kept');
  // The server's count: the connection it had is closed (a bounded wait for the server to say so).
  let load = await serverLoad(server);
  for (let i = 0; i < 100 && load.connections > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    load = await serverLoad(server);
  }
  t.is(load.connections, 0, 'the server holds no connection');
});

test('startCluster: a start that fails leaves no layout record in a new dataDir (a corrected start of another layout was refused, naming a cluster that never ran)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-leak-audit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // No NATS server on port 1: the start fails once the folder is locked and its layout checked.
  const config = (dataDir: string, shards: number): ClusterConfig => ({
    regions: [{ name: 'r1', servers: 1 }],
    shards,
    transport: 'nats',
    nats: { servers: ['nats://127.0.0.1:1'] },
    dataDir,
    seed: 1,
  });
  const fresh = join(dir, 'fresh');
  await t.throwsAsync(startCluster(config(fresh, 8)), { instanceOf: NatsUnreachableError });
  // Before: ['meridian-layout.json'], and the start below was a ConfigError naming dataDir ("written by a cluster of 8 shards").
  t.deepEqual(readdirSync(fresh), []);
  await t.throwsAsync(startCluster(config(fresh, 4)), { instanceOf: NatsUnreachableError });
  // A folder that holds a log keeps the record: the log is of that layout.
  const used = join(dir, 'used');
  mkdirSync(used);
  writeFileSync(join(used, 'r1_0.log'), '');
  await t.throwsAsync(startCluster(config(used, 8)), { instanceOf: NatsUnreachableError });
  t.deepEqual(readdirSync(used).sort(), ['meridian-layout.json', 'r1_0.log']);
  await t.throwsAsync(startCluster(config(used, 4)), { instanceOf: ConfigError, message: /dataDir.*8 shards/ });
});
