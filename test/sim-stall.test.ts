import test from 'ava';
import { SimulationStalledError, startCluster, type ClusterConfig } from '../src/index.js';
import { setSimEventsPerInstantMaxForTests } from '../src/runtime/transports/sim.js';
import { lowerInliningForThisFile } from './helpers/inlining.js';

// Its simulated clusters run in this thread: V8's inlining budget lowered for the
// whole file, as a pool's seeds get it (test/helpers/inlining.ts; no threads here).
lowerInliningForThisFile();

/**
 * The simulator's stall bound counts the events a pending wait sat through at one virtual
 * instant, not every event at it: with the default network (0 ms messages) puts awaited one at
 * a time, or from several clients at once, all run at virtual time 0, and about 50,000 of them
 * stalled a run that was not looping, for good (found by an audit, session 58). A loop that
 * starves a wait still stalls. The bound is lowered for this file (20,000 events, not 500,000)
 * to keep it quick; its own process, so no other file sees it.
 */
const MAX = 20_000;
setSimEventsPerInstantMaxForTests(MAX);

const config: ClusterConfig = { regions: [{ name: 'r1', servers: 3 }], transport: 'sim', seed: 1, replication: { mode: 'active', factor: 3 } };

test.serial('sim, default network: puts awaited one at a time past the stall bound all succeed, at virtual time 0', async (t) => {
  const cluster = await startCluster(config);
  try {
    const client = cluster.client({ region: 'r1' });
    const before = cluster.stats().delivered;
    let puts = 0;
    while (cluster.stats().delivered - before < 2 * MAX) await client.put(`k${puts % 10}`, puts++);
    t.log(`${puts} puts, ${cluster.stats().delivered - before} messages delivered at virtual time ${cluster.now()} ms`);
    t.is(cluster.now(), 0, 'time never moved');
    t.is(await client.get('k0'), puts - (puts % 10 === 0 ? 10 : puts % 10));
  } finally {
    await cluster.stop();
  }
});

test.serial('sim, default network: several clients putting at once past the stall bound all succeed', async (t) => {
  const cluster = await startCluster(config);
  try {
    const clients = [0, 1, 2].map(() => cluster.client({ region: 'r1' }));
    const before = cluster.stats().delivered;
    let puts = 0;
    await Promise.all(
      clients.map(async (client, i) => {
        while (cluster.stats().delivered - before < 2 * MAX) {
          await client.put(`c${i}`, puts++);
        }
      }),
    );
    t.log(`${puts} puts from 3 clients at virtual time ${cluster.now()} ms`);
    t.is(cluster.now(), 0);
  } finally {
    await cluster.stop();
  }
});

test.serial('sim: a loop of 0 ms calls that starves a sleep still stalls after the bound', async (t) => {
  const cluster = await startCluster(config);
  try {
    const client = cluster.client({ region: 'r1' });
    await client.put('k', 1);
    const sleeping = cluster.sleep(10);
    const loop = (async () => {
      for (;;) await client.get('k');
    })();
    const [looped, slept] = await Promise.allSettled([loop, sleeping]);
    t.is(slept.status, 'rejected');
    const error = (looped as PromiseRejectedResult).reason as SimulationStalledError;
    t.true(error instanceof SimulationStalledError, String(error));
    t.is(error.events, MAX);
  } finally {
    await cluster.stop();
  }
});
