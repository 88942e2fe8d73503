import test from 'ava';
import { startCluster, type Cluster } from '../src/index.js';
import type { SimRuntime } from '../src/runtime/transports/sim-runtime.js';
import type { Message } from '../src/runtime/actor.js';
import type { Req, Res } from '../src/cluster/messages.js';
import { deadNodeWithLateWord } from './helpers/late-word.js';

/**
 * Counters, sequence numbers and ids, and the ordering they are trusted for (a class audit,
 * session 67): each test reuses a number the way a restart or a long run can.
 */

interface Held {
  from: string;
  to: string;
  msg: Message;
}

/**
 * Watches the simulator's router: the rids `balancer` sends requests to servers with, and,
 * while `hold.on`, the answers to it, kept back (the network delays them) until `release`.
 */
function tap(cluster: Cluster, balancer: string): { rids: number[]; held: Held[]; hold: { on: boolean }; release: () => void } {
  const host = (cluster.internals.runtime as SimRuntime).world.host;
  const route = host.route.bind(host) as (...args: unknown[]) => void;
  const rids: number[] = [];
  const held: Held[] = [];
  const hold = { on: false };
  host.route = (from: string, to: string, message: { readonly type: string }, ...rest: unknown[]): void => {
    const msg = message as Message;
    if (from === balancer && msg.type === 'req') rids.push((msg as unknown as Req).rid);
    if (hold.on && to === balancer && msg.type === 'res') {
      held.push({ from, to, msg });
      return;
    }
    route(from, to, message, ...rest);
  };
  const release = (): void => {
    for (const h of held.splice(0)) route(h.from, h.to, h.msg);
  };
  return { rids, held, hold, release };
}

// A balancer numbers the requests it routes (its rid) and matches answers to them by that
// number. Its supervisor restarts it after an error (what comes meanwhile waits in its
// mailbox); the restarted balancer counted from 1 again, so a server's late answer to a request
// of its earlier life was taken for the answer to a new request with the same rid: a get of
// one key was answered with another key's value.
test('sim: a restarted balancer does not take an answer to its earlier life for a new request', async (t) => {
  const seed = 1;
  t.log(`seed ${seed}`);
  const c = await startCluster({
    regions: [{ name: 'r1', servers: 1 }],
    transport: 'sim',
    seed,
    replication: { mode: 'active', factor: 1 },
    heartbeat: { intervalMs: 100 },
    requestTimeoutMs: 2_000,
  });
  try {
    const client = c.client({ region: 'r1' });
    await client.put('a', 'A');
    await client.put('b', 'B');
    const wire = tap(c, 'balancer/r1');
    // A get of `a` whose answer the network holds back.
    wire.hold.on = true;
    const first = client.get('a').then(
      (v) => v,
      (e: Error) => e.name,
    );
    await c.sleep(100);
    t.is(wire.held.length, 1, 'the answer to the get of a is held');
    const ridOfFirst = wire.rids[wire.rids.length - 1]!;
    // The balancer fails a step (a message it cannot read) and is restarted.
    wire.hold.on = false;
    (c.internals.runtime as SimRuntime).world.host.route('tester', 'balancer/r1', { type: 'req', rid: 1, body: null });
    await c.sleep(200);
    // Requests of its new life, answered, up to the one with the held answer's rid (counting
    // from 1 again: the bug) or as many (counting on).
    for (let i = 1; i < ridOfFirst; i++) t.is(await client.get('b'), 'B');
    wire.hold.on = true;
    const second = client.get('b');
    await c.sleep(100);
    wire.hold.on = false;
    t.log(`rid of the first get ${ridOfFirst}; rids after the restart ${JSON.stringify(wire.rids.slice(1))}`);
    // The first get's late answer comes, then the second's.
    const late = wire.held.map((h) => (h.msg as unknown as Res).rid);
    t.is(late.length, 2, 'both answers held');
    wire.release();
    t.is(await second, 'B', 'the get of b answered with what b holds');
    t.is(await first, 'TimeoutError', 'the first get, lost with the balancer, times out');
  } finally {
    await c.stop();
  }
});

// A server holds a node dead from its crash notice until it hears from it in a way only a later
// life can speak: a word sent PROOF_OF_LIFE_AFTER_MS after the notice (not one that was on its
// way when the node died), or the answer to a probe sent after the notice. Both were measured
// on ctx.now(), which a clock-skew fault jumps: the server's clock jumped 2 s ahead right after
// the notice, and a Paxos message the dead node had sent before it died, delivered late, took it
// back up; it stayed up (no notice was to come), and the server forwarded to a dead node.
test('sim: a clock jump does not make a dead node’s late message a proof of life', async (t) => {
  const { c, deliverLate, heldDead } = await deadNodeWithLateWord(t);
  try {
    c.setClockSkew('r1/0', 2_000);
    deliverLate();
    await c.sleep(50);
    t.deepEqual(await heldDead('r1/0'), ['r1/1'], 'a message of the dead life, late, after the clock jumped');
  } finally {
    await c.stop();
  }
});
