/**
 * Session 68's class audit of stop paths and full queues (every stop, close and shutdown a user
 * reaches; every bounded queue and buffer): each test fails on the code before its fix.
 */
import test from 'ava';
import { startCluster, StoppedError, TimeoutError, UnavailableError } from '../src/index.js';
import type { Runtime } from '../src/runtime/transports/runtime.js';
import { MemoryDurableStore } from '../src/runtime/durable-memory.js';
import type { DirectoryEntry } from '../src/runtime/host.js';
import { ThreadHost } from '../src/runtime/transports/thread-host.js';
import { runtimeWith } from './helpers/runtimes.js';

// A setNetwork or setPartitions still waiting for a worker's answer when stop() began resolved
// on threads (the StoppedError of the call to that worker was taken for a host that died, which
// is left out), as if every host had applied a change that none may have; a crash or a pause in
// flight rejected with StoppedError. Now they reject the same way. (NATS had the same hole, for a
// host that had not answered yet when stop() closed the connection.)
test('threads: a setNetwork or setPartitions in flight when stop() begins rejects with StoppedError instead of resolving', async (t) => {
  const rt: Runtime = await runtimeWith('threads', [{ host: 1, address: 'echo/a', behavior: 'echo', params: {} }]);
  const network = rt.setNetwork({ loss: 0 });
  const partitions = rt.setPartitions([]);
  await rt.stop();
  await t.throwsAsync(network, { instanceOf: StoppedError, message: /stopped before the call ended/ });
  await t.throwsAsync(partitions, { instanceOf: StoppedError, message: /stopped before the call ended/ });
});

// A client's request dropped at its own host's balancer because the mailbox was full: the
// client waited out requestTimeoutMs for a request no actor read, then failed with a plain
// TimeoutError (a get too, which did nothing); one client's 15,000 puts at once gave 5,000
// TimeoutErrors 5 s later. The host now tells a client of its own at once: a get fails with a
// definite UnavailableError, a write with a TimeoutError (a copy the network duplicated may
// have gone in before), both naming the mailbox and the option.
test('a client call dropped at its balancer’s full mailbox fails at once, naming the mailbox and mailboxCapacity; a get as definite', async (t) => {
  const requestTimeoutMs = 5_000;
  const cluster = await startCluster({
    regions: [{ name: 'a', servers: 1 }],
    transport: 'sim',
    seed: 1,
    mailboxCapacity: 20,
    requestTimeoutMs,
    history: false,
  });
  try {
    const client = cluster.client({ region: 'a' });
    await client.put('k', 0);
    const started = cluster.now();
    const settledAt: number[] = [];
    const calls = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? client.get('k') : client.put('k', i)));
    const results = await Promise.allSettled(calls.map((call) => call.finally(() => settledAt.push(cluster.now() - started))));
    const full =
      /^(get|put) "k": the mailbox of balancer\/a is full \(mailboxCapacity 20\): dropped\. Make fewer calls at once, or raise the cluster's mailboxCapacity option/;
    const dropped = results.flatMap((r, i) => (r.status === 'rejected' && full.test((r.reason as Error).message) ? [{ i, error: r.reason as Error }] : []));
    t.log(`${dropped.length} of ${calls.length} calls found the mailbox full; the last call settled ${Math.max(...settledAt)} ms after the first began`);
    t.true(dropped.length > 0, 'some calls found the mailbox full');
    t.is(cluster.stats().dropped['mailbox-full'], dropped.length, 'each one dropped is one told');
    for (const { i, error } of dropped) {
      if (i % 2 === 0) t.true(error instanceof UnavailableError && error.definite, `get ${i}: ${error.name}`);
      else t.true(error instanceof TimeoutError && /may or may not have taken effect$/.test(error.message), `put ${i}: ${error.name}`);
    }
    t.true(Math.max(...settledAt) < requestTimeoutMs, 'no call waited out its timeout');
  } finally {
    await cluster.stop();
  }
});

// A frame the link dropped (a NATS peer's backlog past BACKLOG_BYTES_MAX, nats-wire.ts; a thread with no port
// to its peer) was counted as one dropped message however many it carried, while `sent`
// counted each: a full backlog that lost 5 messages said 1. Now each is counted.
test('a frame its link drops counts each of its messages as dropped (a NATS peer’s full backlog, a thread with no port)', async (t) => {
  const directory = new Map<string, DirectoryEntry>([['far/0', { host: 2, region: 'r1', node: 'far/0', index: 0 }]]);
  for (const [cause, sendFrame] of [
    ['loss', () => 'loss' as const],
    ['dead', undefined],
  ] as const) {
    const th = new ThreadHost({ id: 1, seed: 1, directory, behaviors: new Map(), durable: new MemoryDurableStore(), report: () => undefined, sendFrame });
    try {
      for (let i = 0; i < 5; i++) th.host.route('tester', 'far/0', { type: 'note', i });
      await new Promise((resolve) => setImmediate(resolve));
      t.is(th.host.stats.sent, 5, cause);
      t.is(th.host.stats.dropped[cause], 5, `${cause}: each message of the frame counted`);
      t.is(th.framesSent, 0, cause);
    } finally {
      th.close();
    }
  }
});

// A message to an actor its supervision stopped for good ('stop') was refused by the cell and
// counted as 'mailbox-full' (and, since a3301f8, a client would have been told the mailbox was
// full): its mailbox is empty and nothing runs there. It counts as 'no-actor', as a crashed one's.
test("sim: a message to an actor stopped by its supervision ('stop') counts as no-actor, not mailbox-full", async (t) => {
  const rt = await runtimeWith('sim', [{ address: 'y', behavior: 'thrower', params: {}, host: 1, supervision: 'stop' }]);
  try {
    rt.host.route('tester', 'y', { type: 'boom' });
    await rt.sleep(10);
    t.is((await rt.summary('y'))?.status, 'stopped');
    for (let i = 0; i < 3; i++) rt.host.route('tester', 'y', { type: 'work' });
    await rt.sleep(10);
    t.is(rt.stats().dropped['mailbox-full'] ?? 0, 0);
    t.is(rt.stats().dropped['no-actor'], 3);
  } finally {
    await rt.stop();
  }
});
