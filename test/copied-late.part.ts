import test from 'ava';
import { startCluster, type Client, type Cluster } from '../src/index.js';
import type { SimRuntime } from '../src/runtime/transports/sim-runtime.js';
import type { Message } from '../src/runtime/actor.js';
import { failoverConfig } from './helpers/failover-cluster.js';
import { recordingContext } from './helpers/fake-context.js';
import { coordinatorBehavior, CUT_OFF_TICKS, type CoordinatorParams } from '../src/cluster/coordinator.js';
import type { HeartbeatInbound, Load, Req } from '../src/cluster/messages.js';
import { heartbeatBehavior, NOT_SERVING_QUIET_BEATS } from '../src/cluster/heartbeat.js';

/**
 * Messages delivered twice, or late (a class audit, session 64: every message type, its copy
 * or a late one delivered again). Each test copies exactly one message as it leaves its
 * sender in the simulator and delivers the copy again later, as the network may.
 */

interface Copy {
  from: string;
  to: string;
  msg: Message;
}

/** Copies of what `from` sends `to` that `pick` picks, from now on (each as it left). */
function watch(cluster: Cluster, from: string, to: string, pick: (msg: Message) => boolean): Copy[] {
  const host = (cluster.internals.runtime as SimRuntime).world.host;
  const route = host.route.bind(host);
  const copies: Copy[] = [];
  host.route = (f: string, t: string, message: { readonly type: string }, ...rest: unknown[]): void => {
    const msg = message as Message;
    if (f === from && t === to && pick(msg)) copies.push({ from: f, to: t, msg: structuredClone(msg) });
    (route as (...args: unknown[]) => void)(f, t, message, ...rest);
  };
  return copies;
}

/** The network delivers `copy` (again). */
function deliver(cluster: Cluster, copy: Copy): void {
  (cluster.internals.runtime as SimRuntime).world.host.route(copy.from, copy.to, structuredClone(copy.msg));
}

async function coordinatorsDown(c: Cluster): Promise<string[]> {
  const b = (await c.inspect('balancer/r2')) as { state: { coordinatorsDown: string[] } };
  return b.state.coordinatorsDown;
}

/** A client of r2 once its region's coordinator committed a first transaction (the cluster settled). */
async function settledClient(c: Cluster): Promise<Client> {
  const client = c.client({ region: 'r2' });
  await c.sleep(1_500);
  await client.transaction([{ op: 'put', key: 't0', value: 0 }]);
  return client;
}

/** A transaction on keys of its own (a`i`, b`i`), and how it ended. */
function pair(client: Client, i: number): Promise<string> {
  return client
    .transaction([
      { op: 'put', key: `a${i}`, value: i },
      { op: 'put', key: `b${i}`, value: i },
    ])
    .then(
      () => 'ok',
      (e: Error) => e.name,
    );
}

/** coordinator/r2 mute (what it sends the servers is lost) for `ms`, a transaction of r2 every 500 ms meanwhile; their outcomes. */
async function muteFor(c: Cluster, client: Client, ms: number, first: number): Promise<string[]> {
  await c.partition(['coordinator/r2'], ['r0', 'r1', 'r2/0', 'r2/1', 'r2/2'], { oneWay: true });
  const started: Array<Promise<string>> = [];
  for (let i = first; started.length * 500 < ms; i++) {
    started.push(pair(client, i));
    await c.sleep(500);
  }
  await c.heal();
  return Promise.all(started);
}

// A coordinator that hears from no server refuses transactions with `cutOff`, and the balancer
// holds it down until it answers a probe. A copy of such a refusal that came after the probe
// took it back held it down again (a probe period, 1 s: its region's transactions went to
// another region's coordinator): the balancer took a refusal for a request no longer in flight.
test('sim: a late copy of a cut-off coordinator refusal does not hold the coordinator down again', async (t) => {
  const seed = 1;
  t.log(`seed ${seed}`);
  const c = await startCluster(failoverConfig(seed, { commit: '2pc' }));
  try {
    const client = await settledClient(c);
    const refusals = watch(c, 'coordinator/r2', 'balancer/r2', (m) => m.type === 'res' && (m as { cutOff?: boolean }).cutOff === true);
    await muteFor(c, client, 6_000, 0);
    await c.sleep(3_000);
    t.true(refusals.length > 0, 'coordinator/r2 refused a transaction as cut off');
    t.deepEqual(await coordinatorsDown(c), [], 'taken back after the heal');
    deliver(c, refusals[0]!);
    await c.sleep(50);
    t.deepEqual(await coordinatorsDown(c), [], 'after a late copy of a refusal sent during the cut');
  } finally {
    await c.stop();
  }
});

// A cut-off coordinator probes the servers; the first answer ends its silence. A late copy of
// an answer to a probe of an earlier silence ended the current one: the coordinator answered
// its balancer's probe, was taken back while still cut off, and the transactions sent to it
// failed.
test('sim: a late copy of a probe answer from an earlier silence does not end a cut-off coordinator silence', async (t) => {
  const seed = 1;
  t.log(`seed ${seed}`);
  const c = await startCluster(failoverConfig(seed, { commit: '2pc' }));
  try {
    const client = await settledClient(c);
    const acks = watch(c, 'r2/0', 'coordinator/r2', (m) => m.type === 'probe-ack');
    // A first silence, whose probes servers answer once it heals.
    await muteFor(c, client, 3_000, 0);
    await c.sleep(3_000);
    t.true(acks.length > 0, 'r2/0 answered a probe of coordinator/r2');
    // The second: held down 3 s into it, then the late copy; transactions go on meanwhile.
    await c.partition(['coordinator/r2'], ['r0', 'r1', 'r2/0', 'r2/1', 'r2/2'], { oneWay: true });
    const started: Array<Promise<string>> = [];
    const down: string[][] = [];
    for (let i = 100; i < 120; i++) {
      if (i === 106) deliver(c, acks[0]!);
      const p = pair(client, i);
      if (i >= 106) started.push(p);
      if (i >= 106) down.push(await coordinatorsDown(c));
      await c.sleep(500);
    }
    const outcomes = await Promise.all(started);
    await c.heal();
    t.true(
      down.every((d) => d.includes('coordinator/r2')),
      `balancer/r2 held coordinator/r2 down after the late copy: ${JSON.stringify(down)}`,
    );
    t.deepEqual(
      outcomes.filter((o) => o !== 'ok'),
      [],
      'transactions started after the late copy that failed',
    );
  } finally {
    await c.stop();
  }
});

// A server tells its heartbeat actor its load only when it changed, and the heartbeat actor
// carries the last one it got on every beat. A copy of an older report delivered late stood
// for the server's load on every beat after it, for as long as the load did not change again:
// an idle server beat with the figures of a busy moment (balancers weigh servers by them).
test('sim: a late copy of a server load report does not replace the newer one on its heartbeats', async (t) => {
  const seed = 1;
  t.log(`seed ${seed}`);
  const c = await startCluster(failoverConfig(seed));
  try {
    const client = c.client({ region: 'r0' });
    await c.sleep(1_500);
    const servers = ['r0', 'r1', 'r2'].flatMap((r) => [0, 1, 2].map((i) => `${r}/${i}`));
    const watched = servers.map((server) => watch(c, server, `${server}/hb`, (m) => m.type === 'load'));
    await Promise.all(Array.from({ length: 60 }, (_, i) => client.put(`k${i}`, i)));
    await c.sleep(2_000);
    const load = (copy: Copy): unknown => (copy.msg as unknown as { load: unknown }).load;
    // The busiest server's: its latest report, and an older one with other figures.
    const reports = watched.reduce((a, b) => (b.length > a.length ? b : a));
    t.true(reports.length >= 2, `the busiest server reported its load ${reports.length} times`);
    const latest = reports[reports.length - 1]!;
    const older = reports.find((r) => JSON.stringify(load(r)) !== JSON.stringify(load(latest)))!;
    t.truthy(older, 'an older report with other figures');
    const server = latest.from;
    t.log(`${server}: ${reports.length} reports`);
    const beats = watch(c, `${server}/hb`, server.split('/')[0]!, (m) => m.type === 'hb');
    deliver(c, older);
    await c.sleep(1_000);
    t.true(beats.length >= 5, `${server} beat ${beats.length} times`);
    t.deepEqual(
      beats.map(load),
      beats.map(() => load(latest)),
      'the load its beats carried after a late copy of an older report',
    );
  } finally {
    await c.stop();
  }
});

// A balancer whose transaction waits asks its coordinator to verify that it reaches the servers
// (a verify probe); a silent coordinator answers once a server answers it, naming the ask's
// `at`, and the balancer takes only an answer to its newest ask. A copy of an earlier ask that
// came while the newer one waited replaced it: the answer named the older ask, the balancer's
// doubt stayed open, and it held the coordinator down and failed its transactions. Scripted at
// the coordinator actor (the window, a silence's first CUT_OFF_PROBE_WAIT_MS, is narrow in a
// whole cluster): the messages as the network would deliver them.
test('coordinator: a late copy of an earlier verify probe does not replace the newer one its answer names', (t) => {
  const params: CoordinatorParams = {
    region: 'r1',
    commit: '2pc',
    topology: { regions: [{ name: 'r1', servers: 2 }], shards: 2, factor: 1, mode: 'none' },
    tickMs: 10,
    acceptors: ['coordinator/r1'],
  };
  const { ctx, sent, world } = recordingContext<{ type: string; at?: number }>('coordinator/r1', { sender: 'balancer/r1' }, { forward: () => undefined });
  const state = coordinatorBehavior.init(ctx, params, []);
  const req: Req = { type: 'req', rid: 1, body: { op: 'txn', key: 'a', rq: 'client:1', ops: [{ op: 'put', key: 'a', value: 1 }] } };
  coordinatorBehavior.receive(state, req, ctx);
  t.true(
    sent.some((s) => s.msg.type === 'tx'),
    'the transaction begins',
  );
  // No server answers: silent for longer than CUT_OFF_TICKS.
  world.now += (CUT_OFF_TICKS + 5) * params.tickMs;
  const verify = (at: number): void => coordinatorBehavior.receive(state, { type: 'probe', at, verify: true }, ctx);
  verify(world.now - 1); // The balancer's newer ask...
  verify(world.now - 800); // ...and a copy of an earlier one, late.
  const probes = sent.filter((s) => s.msg.type === 'probe');
  t.true(probes.length > 0, 'the coordinator probes the servers');
  world.sender = probes[0]!.to;
  coordinatorBehavior.receive(state, { type: 'probe-ack', at: probes[0]!.msg.at! }, ctx);
  t.deepEqual(
    sent.filter((s) => s.to === 'balancer/r1' && s.msg.type === 'probe-ack').map((s) => s.msg.at),
    [world.now - 1],
    'the answer to the balancer names its newest ask',
  );
});

// A server whose start fails says so to its heartbeat actor (not-serving), which holds its beats
// back for NOT_SERVING_QUIET_BEATS beats; the next try may start it. A copy of a not-serving
// from the failed try, delivered late, held back the beats of the server the next try started,
// and its region could convict it. Scripted at the heartbeat actor: the messages as the network
// would deliver them, the copy after the serving server's first load report, and before it.
test('heartbeat: a late copy of a not-serving from a failed start does not silence the server a later try started', (t) => {
  const load: Load = { inflight: 0, mailbox: 0, latencyEwmaMs: 0, busyMs: 0, requests: 0 };
  for (const copyBeforeReport of [false, true]) {
    const { ctx, sent, world } = recordingContext<{ type: string }>('b/0/hb', { sender: 'b/0' });
    const state = heartbeatBehavior.init(ctx, { server: 'b/0', monitor: 'region/b', intervalMs: 100 }, []);
    const receive = (msg: HeartbeatInbound): void => heartbeatBehavior.receive(state, msg, ctx);
    const beats = (n: number): number => {
      const before = sent.length;
      for (let i = 0; i < n; i++) {
        world.now += 100;
        receive({ type: 'timer', key: 'beat' });
      }
      return sent.slice(before).filter((s) => s.msg.type === 'hb').length;
    };
    receive({ type: 'load', load, at: 50 });
    t.is(beats(2), 2, 'serving: it beats');
    const notServing = { type: 'not-serving', reason: 'durable store: damaged', at: world.now } as const;
    receive(notServing);
    t.is(beats(NOT_SERVING_QUIET_BEATS), 0, 'its start failed: it falls silent');
    // The next try starts it (after more beats the stand-in's not-serving would have held back).
    world.now += 500;
    if (copyBeforeReport) receive({ ...notServing });
    receive({ type: 'load', load, at: world.now });
    if (!copyBeforeReport) receive({ ...notServing });
    t.is(
      beats(NOT_SERVING_QUIET_BEATS),
      NOT_SERVING_QUIET_BEATS,
      `serving again, the late copy ${copyBeforeReport ? 'before' : 'after'} its first load report`,
    );
  }
});
