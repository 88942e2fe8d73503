import test from 'ava';
import { startCluster, StoppedError } from '../src/index.js';
import { RoutedIds } from '../src/cluster/balancer.js';

// Before 2026-12-05 a cluster kept every client it ever made (its list, the host's counters per
// client address, a balancer's set of routed ids per client): a cluster that made and closed a
// client per call grew by about 1.4 KB a client (40,000 clients: 91 MB of heap against 36 MB
// for the same puts from one client; a scratch script, sim, 3 servers). `close()` now lets go.

test('a closed client: its open call and later ones reject with StoppedError; its counters go; the cluster and other clients carry on', async (t) => {
  const cluster = await startCluster({
    regions: [{ name: 'r1', servers: 3 }],
    transport: 'sim',
    seed: 7,
    network: { jitterMs: 1 },
    replication: { mode: 'active', factor: 3 },
  });
  try {
    const other = cluster.client({ region: 'r1' });
    const c = cluster.client({ region: 'r1' });
    await c.put('a', 1);
    t.true((cluster.stats().actors[c.address]?.sent ?? 0) > 0, 'the client is counted while open');
    // In flight when it closes: the outcome is unknown (the request may have been applied).
    const open = c.put('a', 2);
    c.close();
    const err = await t.throwsAsync(open, { instanceOf: StoppedError });
    t.regex(err!.message, /was closed before an answer came/);
    t.false(err!.definite);
    const closed = await t.throwsAsync(c.get('a'), { instanceOf: StoppedError, message: new RegExp(`client ${c.id} is closed`) });
    t.true(closed?.definite, 'never sent: a definite failure');
    c.close(); // a second close does nothing
    t.false(c.address in cluster.stats().actors, "a closed client's counters go with it");
    t.true([1, 2].includes((await other.get('a')) as number));
    await other.put('b', 3);
    t.is(await other.get('b'), 3);
    const history = cluster.history();
    t.true(
      history.some((op) => op.client.startsWith(c.address) && op.outcome === 'unknown'),
      'the call cut off by close is in the history as unknown',
    );
  } finally {
    await cluster.stop();
  }
});

test('clients made and closed one per call: each closed one leaves no counters behind, and every call is answered', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'r1', servers: 3 }], transport: 'sim', seed: 8, network: { jitterMs: 1 }, history: false });
  try {
    for (let i = 0; i < 300; i++) {
      const c = cluster.client({ region: 'r1' });
      await c.put(`k${i % 10}`, i);
      c.close();
    }
    const clientEntries = Object.keys(cluster.stats().actors).filter((a) => a.startsWith('client/'));
    t.deepEqual(clientEntries, []);
    const last = cluster.client({ region: 'r1' });
    t.is(await last.get('k9'), 299);
    await cluster.stop();
    t.true(last.address in cluster.stats().actors, 'a cluster that stops keeps the counts of the clients it closed');
    // Refused before anything is sent: definite (it said indefinite, found by an audit, session 56).
    const after = await t.throwsAsync(last.put('k', 1), { instanceOf: StoppedError, message: /the cluster is stopped/ });
    t.true(after?.definite);
    const crash = await t.throwsAsync(cluster.crash('r1/0'), { instanceOf: StoppedError });
    t.true(crash?.definite);
  } finally {
    await cluster.stop();
  }
});

test('RoutedIds: a sender whose ids are all forgotten keeps its mark (its late copies still count as answered) and can send again', (t) => {
  const ids = new RoutedIds();
  const id = (rid: number): number => 3 * 0x100000000 + rid;
  ids.add(id(1));
  ids.add(id(2));
  ids.delete(id(1));
  ids.delete(id(2));
  t.is(ids.size, 0);
  t.true(ids.has(id(1)), 'forgotten, still answered');
  t.true(ids.has(id(2)), 'forgotten, still answered');
  t.false(ids.has(id(3)), 'a new request of the same sender');
  ids.add(id(3));
  t.true(ids.has(id(3)));
  t.false(ids.has(id(4)));
  ids.delete(id(3));
  t.true(ids.has(id(3)));
  t.false(ids.has(3 * 0x100000000 + 5), 'above the mark: new');
});
