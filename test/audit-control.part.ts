/**
 * Session 69's class audit of overlapping control calls (crash, restart, pause, partition, heal,
 * setNetwork, reads of the cluster, called while others of them are still pending): each test
 * fails on the code before its fix. The simulator applies every control call at the call, so
 * what is here is the threads and NATS runtimes' (a call meeting a host that ends or starts).
 */
import test from 'ava';
import type { MessagePort } from 'node:worker_threads';
import { startCluster, type Cluster } from '../src/index.js';
import { natsServerBinary, startNatsServer } from '../src/harness/nats-server.js';
import { eventually } from '../src/harness/ava.js';

/** A worker host of the threads runtime, as its private table holds it. */
interface WorkerEntry {
  id: number;
  plan: { specs: Array<{ node: string }> };
  adminPort: MessagePort;
}

type AdminCall = (admin: unknown) => Promise<unknown>;

/** The threads runtime's private admin call, through which every control call to a worker goes. */
interface ThreadsInternals {
  call: (entry: WorkerEntry, f: AdminCall) => Promise<unknown>;
}

function threadsInternals(cluster: Cluster): ThreadsInternals {
  return cluster.internals.runtime as unknown as ThreadsInternals;
}

const runs = (entry: { plan: { specs: Array<{ node: string }> } }, node: string): boolean => entry.plan.specs.some((s) => s.node === node);

// A partition, heal or setNetwork whose answer from a server's thread had not come when a
// crash() of that server ended the thread rejected with a HostExitedError naming that thread
// (every live host had applied the change; the crashed one is handed it at its restart, as the
// Runtime's setNetwork says). session 68's 0d14df8 rethrew every StoppedError there, for stop(),
// and HostExitedError is one. A nemesis or test that crashes and heals at once failed its heal.
test('threads: a heal() or setNetwork() beside a crash() of a server that had not answered it yet resolves (it rejected naming the crashed thread)', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'r1', servers: 2 }], transport: 'threads', replication: { mode: 'none' }, requestTimeoutMs: 2_000 });
  try {
    const runtime = threadsInternals(cluster);
    const call = runtime.call.bind(runtime);
    // r1/1's thread applies the changes but its answers are held (as if it were busy in a step
    // when the crash ended it): the crash's end of the thread is what settles them.
    let held = 0;
    runtime.call = (entry, f) => {
      if (held === 0 || !runs(entry, 'r1/1')) return call(entry, f);
      return call(entry, async (admin) => {
        await f(admin);
        return new Promise(() => {});
      });
    };
    held = 1;
    const healed = cluster.heal();
    const changed = cluster.setNetwork({ loss: 0 });
    held = 0;
    await cluster.crash('r1/1');
    const settled = await Promise.allSettled([healed, changed]);
    t.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? 'resolved' : `${(s.reason as Error).name}: ${(s.reason as Error).message}`)),
      ['resolved', 'resolved'],
      'heal() and setNetwork() resolve: every live host applied them',
    );
    // The crashed server is handed what is in force at its restart, and serves.
    await cluster.partition(['r1/1'], ['r1']);
    await cluster.heal();
    await cluster.restart('r1/1');
    const client = cluster.client({ region: 'r1' });
    let key = '';
    for (let i = 0; key === ''; i++) if (cluster.serverFor(`k${i}`) === 'r1/1') key = `k${i}`;
    await client.put(key, 1);
    t.is(await client.get(key), 1);
  } finally {
    await cluster.stop();
  }
});

/** The threads runtime's private start of a new worker's actors, which a restart of a crashed dedicated server awaits. */
interface ThreadsStart {
  startWorker: (entry: { worker: { terminate(): Promise<number> } }) => Promise<void>;
}

// A restart whose new thread ended before the restart finished (its server's first steps
// failed, it ran out of memory) went on to mark the server alive and resolved: the cluster held
// it up (isDown false) while nothing ran it, and every later restart() was a no-op, so it stayed
// dead for good. The host-exit came while the id was still down (the restart in flight), so the
// cluster let it pass. Now the restart rejects, naming the node, and the id stays down.
test('threads: a restart whose new thread ends before it finishes rejects and leaves the server down; a later restart brings it back', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'r1', servers: 2 }], transport: 'threads', replication: { mode: 'none' }, requestTimeoutMs: 2_000 });
  try {
    const runtime = cluster.internals.runtime as unknown as ThreadsStart;
    await cluster.crash('r1/0');
    const start = runtime.startWorker.bind(runtime);
    const exits: string[][] = [];
    cluster.on('host-exit', (event) => exits.push(event.nodes));
    // The new thread's actors start, then the thread ends before the restart has told the others.
    runtime.startWorker = async (entry) => {
      await start(entry);
      await entry.worker.terminate();
    };
    const [restart] = await Promise.allSettled([cluster.restart('r1/0')]);
    runtime.startWorker = start;
    t.deepEqual(exits, [['r1/0']], 'the new thread ended unasked');
    t.like(restart, { status: 'rejected', reason: { name: 'HostExitedError' } });
    if (restart.status === 'rejected')
      t.regex((restart.reason as Error).message, /^restart of node r1\/0: host \d+ \(r1\/0\) ended before the restart finished; r1\/0 stays down/);
    t.true(cluster.isDown('r1/0'), 'r1/0 is down (it said up, with nothing running it)');
    t.is(await cluster.inspect('r1/0'), null);
    await cluster.restart('r1/0');
    t.false(cluster.isDown('r1/0'));
    t.not(await cluster.inspect('r1/0'), null, 'a later restart runs it again (it was a no-op)');
    const client = cluster.client({ region: 'r1' });
    let key = '';
    for (let i = 0; key === ''; i++) if (cluster.serverFor(`k${i}`) === 'r1/0') key = `k${i}`;
    await client.put(key, 1);
    t.is(await client.get(key), 1);
  } finally {
    await cluster.stop();
  }
});

const binary = natsServerBinary();
const natsTest = 'bin' in binary ? test : test.skip;
const skipped = 'reason' in binary ? ` (skipped: ${binary.reason})` : '';

/** A host process as the NATS runtime's private table holds it. */
interface NatsEntry {
  id: number;
  pid: number | undefined;
  plan: { specs: Array<{ node: string }> };
  exited: Promise<void>;
}

/** The NATS runtime's private control request, through which every call to a host goes. */
interface NatsInternals {
  callWithin: (ms: number, entry: NatsEntry, method: string, ...args: unknown[]) => Promise<unknown>;
}

/** A NATS cluster of one region of `servers` (a process each, or on `processes` of them), on a nats-server of its own, for `body`. */
async function withNats(servers: number, body: (cluster: Cluster) => Promise<void>, processes: number | 'dedicated' = 'dedicated'): Promise<void> {
  const server = await startNatsServer((binary as { bin: string }).bin, []);
  try {
    const cluster = await startCluster({
      regions: [{ name: 'r1', servers }],
      transport: 'nats',
      seed: 1,
      requestTimeoutMs: 2_000,
      replication: { mode: 'none' },
      nats: { servers: server.url, processes },
    });
    try {
      await body(cluster);
    } finally {
      await cluster.stop();
    }
  } finally {
    await server.stop();
  }
}

// The threads test above, on NATS: the new process ends (killed from outside) once its actors
// started and before the restart told the other hosts.
natsTest(
  `nats: a restart whose new process ends before it finishes rejects and leaves the server down; a later restart brings it back${skipped}`,
  async (t) => {
    await withNats(1, async (cluster) => {
      const runtime = cluster.internals.runtime as unknown as NatsInternals;
      await cluster.crash('r1/0');
      const callWithin = runtime.callWithin.bind(runtime);
      let armed = true;
      runtime.callWithin = async (ms, entry, method, ...args) => {
        const answer = await callWithin(ms, entry, method, ...args);
        if (method === 'start' && armed && runs(entry, 'r1/0')) {
          armed = false;
          process.kill(entry.pid!, 'SIGKILL');
          await entry.exited;
        }
        return answer;
      };
      const [restart] = await Promise.allSettled([cluster.restart('r1/0')]);
      t.false(armed, "the new process started r1/0's actors, then ended");
      t.like(restart, { status: 'rejected', reason: { name: 'HostExitedError' } });
      if (restart.status === 'rejected')
        t.regex((restart.reason as Error).message, /^restart of node r1\/0: host \d+ \(r1\/0\) ended before the restart finished/);
      t.true(cluster.isDown('r1/0'));
      await cluster.restart('r1/0');
      t.false(cluster.isDown('r1/0'));
      t.not(await cluster.inspect('r1/0'), null, 'a later restart runs it again');
      const client = cluster.client({ region: 'r1' });
      await client.put('k', 1);
      t.is(await client.get('k'), 1);
    });
  },
);

/** The NATS runtime's private assignment of a host process (what a restart's new process waits for before it serves control). */
interface NatsAssign {
  assign: (entry: NatsEntry) => Promise<void>;
}

// A restart's new process serves no control subject until it has its assignment, which carries
// the settings in force when it was sent. A heal() (or partition, setNetwork, a node's death or
// restart) called meanwhile found no responders there and was lost for that process, while the
// call resolved: the restarted server kept the partition for good, though currentPartitions()
// said none (every put to it timed out). inspect() and ping() meanwhile rejected with 'no
// responders', where on threads they wait for the new worker. Now a call to a host whose new
// process is starting waits for that start (within its own timeout).
natsTest(`nats: a heal(), inspect() or ping() while a restart's new process takes its assignment reaches that process${skipped}`, async (t) => {
  await withNats(1, async (cluster) => {
    const runtime = cluster.internals.runtime as unknown as NatsAssign;
    const client = cluster.client({ region: 'r1' });
    await client.put('k', 0);
    await cluster.crash('r1/0');
    await cluster.partition(['r1/0'], ['r1']);
    const assign = runtime.assign.bind(runtime);
    let during: Promise<[PromiseSettledResult<void>, PromiseSettledResult<unknown>, PromiseSettledResult<unknown[]>]> | undefined;
    runtime.assign = (entry) => {
      // The assignment, with the partition in it, is on its way to the new process.
      const assigned = assign(entry);
      if (during === undefined && runs(entry, 'r1/0')) during = Promise.allSettled([cluster.heal(), cluster.inspect('r1/0'), cluster.ping()]);
      return assigned;
    };
    await cluster.restart('r1/0');
    runtime.assign = assign;
    t.truthy(during, "the calls were made during r1/0's new process's assignment");
    const [heal, inspect, ping] = await during!;
    const outcome = (s: PromiseSettledResult<unknown>): string =>
      s.status === 'fulfilled' ? 'resolved' : `${(s.reason as Error).name}: ${(s.reason as Error).message}`;
    t.deepEqual([heal, inspect, ping].map(outcome), ['resolved', 'resolved', 'resolved'], 'none met an unready process');
    t.not((inspect as PromiseFulfilledResult<unknown>).value, null, 'inspect() read r1/0 once its process ran it');
    t.is((ping as PromiseFulfilledResult<unknown[]>).value.length, 2, 'both worker processes answered the ping');
    t.deepEqual(cluster.currentPartitions(), []);
    // The restarted server is healed: a put to it goes through (before, every one timed out).
    await eventually(
      cluster,
      async () =>
        await client.put('k', 1).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 10_000, message: 'a put to the restarted server' },
    );
    t.is(await client.get('k'), 1);
  });
});

/** The NATS runtime's private start of a host process, which a restart of a node of a dead host awaits. */
interface NatsSpawn {
  spawnHostNow: (plan: unknown) => Promise<unknown>;
  processes: () => Array<{ pid: number | undefined }>;
}

// A restart on NATS took the node out of the runtime's crashed nodes before it started anything,
// and left it out when it failed. A host process of several nodes (packed) that died: a restart
// of r1/0 whose new process failed to start, then a restart of r1/1, whose process then ran
// r1/0 too, as a node the crash never took, while the cluster held r1/0 down (isDown true).
// On threads r1/0 stays down until restarted itself, and now on NATS too.
natsTest(`nats: after a restart that failed to start a dead process, a restart of another of its nodes leaves the first one down${skipped}`, async (t) => {
  await withNats(
    2,
    async (cluster) => {
      const runtime = cluster.internals.runtime as unknown as NatsSpawn;
      const [victim] = runtime.processes();
      const exited = new Promise((resolve) => cluster.once('host-exit', resolve));
      process.kill(victim!.pid!, 'SIGKILL');
      await exited;
      t.true(cluster.isDown('r1/0') && cluster.isDown('r1/1'), 'both servers down with their process');
      const spawn = runtime.spawnHostNow.bind(runtime);
      let fail = true;
      runtime.spawnHostNow = async (plan) => {
        if (!fail) return spawn(plan);
        fail = false;
        throw new Error('the new process did not start (test)');
      };
      await t.throwsAsync(cluster.restart('r1/0'), { message: /did not start \(test\)/ });
      await cluster.restart('r1/1');
      t.true(cluster.isDown('r1/0'));
      t.is(await cluster.inspect('r1/0'), null, 'r1/0 does not run (it ran, held down)');
      t.not(await cluster.inspect('r1/1'), null);
      await cluster.restart('r1/0');
      t.not(await cluster.inspect('r1/0'), null);
    },
    1,
  );
});

// A crash() of a coordinator from its own atNextCommit hook (the hook runs inside the
// coordinator's step, after its commit record is written and before the step's messages leave)
// took it down (isDown true, 'crashing' emitted, the balancers told), and then the step went on:
// its commit messages and the client's answer left the dead coordinator, and the transaction was
// acknowledged as committed by a coordinator the cluster had crashed. Now nothing more of that
// step leaves, as with crashAfterNextWrite: the write is kept, and the restarted coordinator
// finishes the commit from its log.
test('sim: a crash() of a coordinator from its own atNextCommit hook is a crash at the commit point: nothing of that step leaves the dead coordinator', async (t) => {
  const cluster = await startCluster({
    regions: [{ name: 'r1', servers: 3 }],
    transport: 'sim',
    seed: 3,
    commit: '2pc',
    replication: { mode: 'active', factor: 3 },
    requestTimeoutMs: 3_000,
  });
  try {
    const client = cluster.client({ region: 'r1' });
    await client.put('a', 0);
    await client.put('b', 0);
    const sent = (): number => cluster.stats().actors['coordinator/r1']?.sent ?? 0;
    let sentAtCrash: number | undefined;
    t.true(
      cluster.atNextCommit('coordinator/r1', cluster.shardOf('a'), () => {
        void cluster.crash('coordinator/r1');
        sentAtCrash = sent();
      }),
    );
    const [txn] = await Promise.allSettled([
      client.transaction([
        { op: 'put', key: 'a', value: 1 },
        { op: 'put', key: 'b', value: 1 },
      ]),
    ]);
    t.not(sentAtCrash, undefined, 'the hook ran at the commit record');
    t.true(cluster.isDown('coordinator/r1'));
    t.is(sent(), sentAtCrash!, 'the dead coordinator sent nothing more (its commit messages and the answer left it)');
    t.is(txn.status, 'rejected', 'no answer from the crashed coordinator');
    // Restarted, it finishes the commit from its log: all of the transaction, or none.
    await cluster.restart('coordinator/r1');
    await cluster.sleep(1_000);
    const [a, b] = [await client.get('a'), await client.get('b')];
    t.is(a, b, 'atomic');
    t.is(a, 1, 'the commit record written before the crash decides it');
  } finally {
    await cluster.stop();
  }
});
