import type { ExecutionContext } from 'ava';
import { startCluster, type Cluster } from '../../src/index.js';
import type { SimRuntime } from '../../src/runtime/transports/sim-runtime.js';
import type { Message } from '../../src/runtime/actor.js';

/**
 * A server holds a node dead from its crash notice until it hears from a later life of it; a word
 * sent before the node died and delivered late is no such word. This builds that case: a sim
 * cluster of three servers (seed 1, logged) where the Paxos messages r1/1 sends r1/0 are held
 * back, then r1/1 crashes; r1/0 holds it dead (checked). `deliverLate()` delivers the last held
 * message now; `heldDead(server)` reads a server's nodes held dead (its summary's `down`). The
 * caller does what may wrongly take the word for a proof of life (a clock jump, a pause) and
 * stops the cluster.
 */
export async function deadNodeWithLateWord(
  t: ExecutionContext,
): Promise<{ c: Cluster; deliverLate: () => void; heldDead: (server: string) => Promise<string[]> }> {
  const seed = 1;
  t.log(`seed ${seed}`);
  const c = await startCluster({
    regions: [{ name: 'r1', servers: 3 }],
    transport: 'sim',
    seed,
    replication: { mode: 'active', factor: 3 },
    heartbeat: { intervalMs: 100 },
  });
  const heldDead = async (server: string): Promise<string[]> => ((await c.inspect(server)) as { state: { down: string[] } }).state.down;
  try {
    const client = c.client({ region: 'r1' });
    for (let i = 0; i < 5; i++) await client.put(`k${i}`, i);
    const host = (c.internals.runtime as SimRuntime).world.host;
    const route = host.route.bind(host) as (...args: unknown[]) => void;
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
    t.deepEqual(await heldDead('r1/0'), ['r1/1'], 'r1/0 holds r1/1 dead after its crash notice');
    const last = late[late.length - 1]!;
    return { c, deliverLate: () => route(last.from, last.to, last.msg), heldDead };
  } catch (error) {
    await c.stop();
    throw error;
  }
}
