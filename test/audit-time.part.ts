import test from 'ava';
import { startCluster, type Cluster } from '../src/index.js';
import type { SimRuntime } from '../src/runtime/transports/sim-runtime.js';
import type { Message } from '../src/runtime/actor.js';

/** `server`'s nodes held dead (its summary's `down`). */
async function heldDead(c: Cluster, server: string): Promise<string[]> {
  const s = (await c.inspect(server)) as { state: { down: string[] } };
  return s.state.down;
}

// A server takes a word from a node it holds dead as proof of life only if it came
// PROOF_OF_LIFE_AFTER_MS after the crash notice: one that was on its way when the node died
// comes within the network's delay. It measured the time at which it handled the word, not the
// time it came: a server paused right after the notice handled, at its resume 1.5 s later, a
// Paxos message the dead node had sent before it died (come 100 ms after the notice), took
// the dead node back up, and kept it up (no notice was to come).
test('sim: a pause does not make a dead node’s late message a proof of life', async (t) => {
  const seed = 1;
  t.log(`seed ${seed}`);
  const c = await startCluster({
    regions: [{ name: 'r1', servers: 3 }],
    transport: 'sim',
    seed,
    replication: { mode: 'active', factor: 3 },
    heartbeat: { intervalMs: 100 },
  });
  try {
    const client = c.client({ region: 'r1' });
    for (let i = 0; i < 5; i++) await client.put(`k${i}`, i);
    const host = (c.internals.runtime as SimRuntime).world.host;
    const route = host.route.bind(host) as (...args: unknown[]) => void;
    // What r1/1 sends r1/0 from now on is held back (late), then r1/1 crashes.
    const late: Array<{ from: string; to: string; msg: Message }> = [];
    host.route = (from: string, to: string, message: { readonly type: string }, ...rest: unknown[]): void => {
      if (from === 'r1/1' && to === 'r1/0' && (message.type === 'px' || message.type === 'pxs')) {
        late.push({ from, to, msg: message as Message });
        return;
      }
      route(from, to, message, ...rest);
    };
    await c.sleep(100);
    await c.crash('r1/1');
    await c.sleep(100);
    host.route = route as typeof host.route;
    t.true(late.length > 0, 'r1/1 sent r1/0 Paxos messages before it crashed');
    t.deepEqual(await heldDead(c, 'r1/0'), ['r1/1'], 'r1/0 holds r1/1 dead after its crash notice');
    await c.pause('r1/0');
    route(late[late.length - 1]!.from, late[late.length - 1]!.to, late[late.length - 1]!.msg);
    await c.sleep(1_500);
    await c.resume('r1/0');
    await c.sleep(50);
    t.deepEqual(await heldDead(c, 'r1/0'), ['r1/1'], 'a message of the dead life, come about 100 ms after the notice, handled after a pause');
  } finally {
    await c.stop();
  }
});
