import test from 'ava';
import { startCluster } from '../src/index.js';

// Reads of hosts and actors as a user makes them (an audit, session 62).

test("sim: inspect() of a paused server (and its heartbeat) says status 'paused', with the state it stands still with; resumed, 'running'", async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'us-east', servers: 3 }], transport: 'sim', seed: 1, replication: { mode: 'active', factor: 3 } });
  try {
    await cluster.client({ region: 'us-east' }).put('a', 1);
    await cluster.pause('us-east/0');
    await cluster.sleep(200);
    for (const address of ['us-east/0', 'us-east/0/hb']) {
      const inspected = (await cluster.inspect(address)) as { status: string; state: unknown };
      // Before: 'running'.
      t.is(inspected.status, 'paused', address);
      t.not(inspected.state, null, address);
    }
    t.is(((await cluster.inspect('us-east/1')) as { status: string }).status, 'running', 'the others run');
    await cluster.resume('us-east/0');
    t.is(((await cluster.inspect('us-east/0')) as { status: string }).status, 'running');
  } finally {
    await cluster.stop();
  }
});
