import test from 'ava';
import { startCluster } from '../src/index.js';
import { natsServerBinary, startNatsServer } from '../src/harness/nats-server.js';
import { emptyHostStats, LEVEL_COUNTER_PREFIX, mergeSnapshots, RetiredStats, snapshot, withoutLevels, type StatsSnapshot } from '../src/runtime/stats.js';
import type { NatsRuntime } from '../src/runtime/transports/nats.js';
import type { ThreadsRuntime } from '../src/runtime/transports/threads.js';
import { eventually, runtimeWith } from './helpers/runtimes.js';

// State of the runtimes that must not grow with the number of crashes and restarts over a long
// run (a class audit of what grows without bound, session 64).

/** The bytes `field` of `owner` holds, as JSON: a measure of what it keeps, whatever its shape. */
function heldBytes(owner: object, field: string): number {
  return JSON.stringify((owner as Record<string, unknown>)[field]).length;
}

test('threads: a dedicated host crashed and restarted again and again keeps the sum of its counters, not a snapshot a crash', async (t) => {
  // echo/b takes what echo/a's answer to the test's address bounces into (see the fixture).
  const rt = await runtimeWith('threads', [
    { host: 1, address: 'echo/a', behavior: 'echo', params: {} },
    { host: 2, address: 'echo/b', behavior: 'echo', params: {} },
  ]);
  try {
    let sent = 0;
    // A message counted on the worker (and the bounce of its answer), its counters read (a dead
    // host counts with the last counters read), then the host's thread ends and a new one starts.
    const crashAndRestart = async (): Promise<void> => {
      rt.host.route('tester', 'echo/a', { type: 'hello' });
      sent++;
      t.true(await eventually(rt, async () => (await rt.collectStats()).actors['echo/a']?.received === 2 * sent), `message ${sent} counted`);
      await rt.crashNode('echo/a');
      await rt.restartNode('echo/a');
    };
    await crashAndRestart();
    const after1 = heldBytes(rt as ThreadsRuntime, 'retiredStats');
    for (let i = 0; i < 2; i++) await crashAndRestart();
    const after3 = heldBytes(rt as ThreadsRuntime, 'retiredStats');
    // Before: one snapshot of the host's counters for each thread retired (3 against 1).
    t.true(after3 < after1 * 1.25, `retired counters held: ${after1} bytes after 1 crash, ${after3} after 3`);
    // The retired threads' totals still count, once each.
    const stats = rt.stats();
    t.is(stats.actors['echo/a']?.received, 2 * sent);
    t.is(stats.actors['echo/a']?.restarts, 0);
  } finally {
    await rt.stop();
  }
});

test('RetiredStats: its one sum reads as the snapshots of every retired host merged, levels left out', (t) => {
  const parts: StatsSnapshot[] = [];
  for (let i = 1; i <= 3; i++) {
    const stats = emptyHostStats();
    stats.sent = 10 * i;
    stats.dropped.loss = i;
    stats.typeCounter(i === 2 ? 'get' : 'put').n += i;
    stats.link('r1', `r${i}`).sent += i;
    const actor = stats.actor(`s/${i % 2}`);
    actor.received = i;
    actor.counters['txn-commit'] = i;
    actor.counters[`${LEVEL_COUNTER_PREFIX}lag:r2`] = 5;
    parts.push(snapshot(stats));
  }
  const retired = new RetiredStats();
  t.deepEqual(retired.snapshots(), []);
  for (const part of parts) retired.add(part);
  t.is(retired.snapshots().length, 1);
  // The same counts, and the same key order (what metrics list them in).
  t.is(JSON.stringify(mergeSnapshots(retired.snapshots())), JSON.stringify(mergeSnapshots(parts.map(withoutLevels))));
});

const binary = natsServerBinary();
const natsTest = 'bin' in binary ? test.serial : test.skip;
const skipped = 'reason' in binary ? ` (skipped: ${binary.reason})` : '';

natsTest(
  `nats: a dedicated server crashed and restarted again and again: the launcher keeps one sum of the retired processes' counters and no uid of theirs${skipped}`,
  async (t) => {
    const server = await startNatsServer((binary as { bin: string }).bin);
    try {
      const cluster = await startCluster({
        regions: [{ name: 'a', servers: 1 }],
        transport: 'nats',
        replication: { mode: 'none' },
        nats: { servers: server.url, processes: 'dedicated' },
      });
      try {
        const runtime = cluster.internals.runtime as NatsRuntime;
        const uids = (): number => (runtime as unknown as { seenUids: Set<string> }).seenUids.size;
        const client = cluster.client({ region: 'a' });
        let n = 0;
        // A put counted on the server's process, its counters read (a retired host counts with the
        // last ones read), then the process is killed and a new one spawned for it.
        const crashAndRestart = async (): Promise<void> => {
          await client.put('k', ++n);
          await runtime.collectStats();
          await cluster.crash('a/0');
          await cluster.restart('a/0');
        };
        await crashAndRestart();
        const after1 = { bytes: heldBytes(runtime, 'retiredStats'), uids: uids() };
        await crashAndRestart();
        const after2 = { bytes: heldBytes(runtime, 'retiredStats'), uids: uids() };
        // Before: a snapshot and a uid more for each process retired and spawned again.
        t.true(after2.bytes < after1.bytes * 1.25, `retired counters held: ${after1.bytes} bytes after 1 crash, ${after2.bytes} after 2`);
        t.is(after2.uids, after1.uids, 'uids of spawned processes kept');
        t.is(await client.get('k'), n);
      } finally {
        await cluster.stop();
      }
    } finally {
      await server.stop();
    }
  },
);
