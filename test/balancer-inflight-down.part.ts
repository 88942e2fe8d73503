import test from 'ava';
import { startCluster, type Cluster } from '../src/index.js';
import { failoverConfig } from './helpers/failover-cluster.js';

/**
 * Requests a balancer sent where it then knows no answer will come are failed at once, not at
 * the client's request timeout (5 s). Found by a failover audit (session 59):
 * - a server paused (silent: no crash notice) that its region's digest shows down: a put the
 *   balancer had routed to it waited out the whole timeout;
 * - a coordinator cut off from every server, held down when its verify probe went unanswered:
 *   the transaction in flight through it waited out the whole timeout.
 * Virtual-time bounds only (the simulator's clock).
 */
const SEEDS = [1, 2];
/** Seeds where least-request sends a put to the paused server itself (on others another server forwards it there). */
const PAUSE_SEEDS = [1, 6];
const REQUEST_TIMEOUT_MS = 5_000;

async function cluster(seed: number, extra: { strategy?: 'least-request'; commit?: '2pc' | 'paxos-commit' } = {}): Promise<Cluster> {
  return startCluster(
    failoverConfig(seed, { commit: extra.commit ?? '2pc', ...(extra.strategy === undefined ? {} : { balancer: { strategy: extra.strategy } }) }),
  );
}

async function routedTo(c: Cluster, server: string): Promise<number> {
  const b = (await c.inspect('balancer/r2')) as { counters: Record<string, number> };
  return b.counters[`routed:${server}`] ?? 0;
}

for (const seed of PAUSE_SEEDS) {
  test(`a put routed to a server its region then holds down fails before the request timeout (seed ${seed})`, async (t) => {
    t.log(`seed ${seed}`);
    const c = await cluster(seed, { strategy: 'least-request' });
    try {
      const clients = ['r0', 'r1', 'r2'].map((region) => c.client({ region }));
      await c.sleep(1_500);
      for (let i = 0; i < 30; i++) await clients[i % 3]!.put(`k${i}`, i);
      await c.pause('r2/0');
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`).filter((k) =>
        c
          .shardLeaders()
          .find((s) => s.shard === c.shardOf(k))!
          .replicas.includes('r2/0'),
      );
      // Puts from r2 on keys r2/0 holds, one at a time, until one the balancer sent to r2/0 failed
      // (another may fail first, sent to a server that forwarded it to r2/0: that server fails it).
      let failedAt: number | undefined;
      for (const key of keys) {
        const before = await routedTo(c, 'r2/0');
        const s = c.now();
        try {
          await clients[2]!.put(key, 'x');
        } catch (e) {
          const ms = c.now() - s;
          t.log(`put ${key} failed after ${Math.round(ms)} virtual ms: ${(e as Error).message}`);
          t.true(ms < REQUEST_TIMEOUT_MS / 2, `failed after ${ms} ms`);
          if ((await routedTo(c, 'r2/0')) > before) {
            failedAt = ms;
            // The next put of the key goes elsewhere and succeeds.
            await clients[2]!.put(key, 'y');
            break;
          }
        }
      }
      t.not(failedAt, undefined, 'no put was sent to the paused server');
      t.true(failedAt! < REQUEST_TIMEOUT_MS / 2, `failed after ${failedAt} ms`);
    } finally {
      await c.resume('r2/0');
      await c.stop();
    }
  });
}

for (const seed of SEEDS) {
  test(`gets in flight at a server its region then holds down are answered by other copies; with every server down, one fails UNAVAILABLE (seed ${seed})`, async (t) => {
    // Since session 60 (a user audit: a busy live server held down a moment failed reads another
    // copy could serve), the balancer sends such a get again to another server (balancer.ts reroute).
    t.log(`seed ${seed}`);
    const c = await startCluster(failoverConfig(seed, { balancer: { strategy: 'round-robin' } }));
    const paused: string[] = [];
    try {
      const client = c.client({ region: 'r2' });
      await c.sleep(1_500);
      // Keys r2/0 holds no copy of: every get that meets the pause is one the balancer sent to
      // r2/0 itself (a get another server passed on to r2/0 is sent again by that server:
      // server.ts failForwarded, test/server-forward-reroute.part.ts).
      const keys = Array.from({ length: 45 }, (_, i) => `g${i}`).filter(
        (k) =>
          !c
            .shardLeaders()
            .find((s) => s.shard === c.shardOf(k))!
            .replicas.includes('r2/0'),
      );
      for (const key of keys) await client.put(key, `${key}=${seed}`);
      await c.sleep(500);
      const before = await routedTo(c, 'r2/0');
      await c.pause('r2/0');
      paused.push('r2/0');
      // Local reads, placed by round-robin in r2: a third of them go to the paused server.
      const values = await Promise.all(keys.map((key) => client.get(key, { consistency: 'local' })));
      t.deepEqual(
        values,
        keys.map((key) => `${key}=${seed}`),
      );
      const b = (await c.inspect('balancer/r2')) as { state: { rerouted: number }; counters: Record<string, number> };
      t.true((await routedTo(c, 'r2/0')) > before, 'gets were sent to the paused server');
      t.true(b.state.rerouted > 0, 'and sent again to other servers');
      t.log(`gets sent again: ${b.state.rerouted}`);

      // Every server paused: a get in flight has no other copy to go to.
      for (const region of ['r0', 'r1', 'r2'])
        for (let i = 0; i < 3; i++)
          if (!paused.includes(`${region}/${i}`)) {
            await c.pause(`${region}/${i}`);
            paused.push(`${region}/${i}`);
          }
      const s = c.now();
      const error = await t.throwsAsync(client.get('g0', { consistency: 'local' }));
      t.log(`with every server paused: ${error?.name} after ${Math.round(c.now() - s)} virtual ms: ${error?.message}`);
      t.is(error?.name, 'UnavailableError');
      t.regex(error?.message ?? '', /with the request in flight/);
    } finally {
      for (const id of paused) await c.resume(id);
      await c.stop();
    }
  });

  for (const commit of ['2pc', 'paxos-commit'] as const) {
    test(`a transaction in flight through a coordinator held down for an unanswered verify fails before the request timeout (${commit}, seed ${seed})`, async (t) => {
      t.log(`seed ${seed}`);
      const c = await cluster(seed, { commit });
      try {
        const client = c.client({ region: 'r2' });
        await c.sleep(1_500);
        for (let i = 0; i < 10; i++) await client.put(`t${i}`, 0);
        const s = c.now();
        const inflight = client
          .transaction([
            { op: 'put', key: 't8', value: 1 },
            { op: 'put', key: 't9', value: 1 },
          ])
          .then(
            () => ({ ms: c.now() - s, outcome: 'ok', message: '' }),
            (e: Error) => ({ ms: c.now() - s, outcome: e.name, message: e.message }),
          );
        await c.sleep(1);
        await c.partition(['coordinator/r2'], ['r0', 'r1', 'r2/0', 'r2/1', 'r2/2']);
        const r = await inflight;
        t.log(`in-flight transaction: ${r.outcome} after ${Math.round(r.ms)} virtual ms: ${r.message}`);
        // Outcome unknown (the coordinator may have committed): a TimeoutError, but well before the timeout.
        t.is(r.outcome, 'TimeoutError');
        t.true(r.ms < REQUEST_TIMEOUT_MS - 1_000, `failed after ${r.ms} ms`);
        const b = (await c.inspect('balancer/r2')) as { state: { coordinatorsDown: string[] } };
        t.deepEqual(b.state.coordinatorsDown, ['coordinator/r2']);
      } finally {
        await c.stop();
      }
    });
  }
}
