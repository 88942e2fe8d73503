import test from 'ava';
import { sampleValue, startCluster } from '../src/index.js';

// The figures Meridian reports, each checked on a tiny input against a hand computation (an
// audit of every reported figure, session 67). The simulator's run is fixed by its seed.

test('meridian_messages_by_type_total counts every message sent, dropped or not, as meridian_messages_sent_total does', async (t) => {
  const seed = 5;
  t.log(`seed ${seed}`);
  const cluster = await startCluster({
    regions: [
      { name: 'us-east', servers: 2 },
      { name: 'eu-west', servers: 2 },
    ],
    transport: 'sim',
    seed,
  });
  try {
    const c = cluster.client({ region: 'eu-west' });
    for (let i = 0; i < 5; i++) await c.put(`k${i}`, i);
    // Messages to a crashed server are dropped as 'dead' on the sender's host.
    await cluster.crash('us-east/1');
    for (let i = 0; i < 5; i++) await c.put(`k${i}`, i).catch(() => undefined);
    await cluster.sleep(300);
    const m = await cluster.metrics();
    const stats = await cluster.collectStats();
    t.true((stats.dropped.dead ?? 0) > 0, 'the run dropped messages to the crashed server');
    // A batch wire counts once as `pxs` and each message in it as `pxs:<inner>`: the wires are
    // the messages sent, so the `pxs:` counts are left out of the sum.
    const byType = m.families.find((f) => f.name === 'meridian_messages_by_type_total')!;
    let wires = 0;
    if (byType.type !== 'histogram') for (const s of byType.series) if (!s.labels.type!.startsWith('pxs:')) wires += s.value;
    // On main the dropped messages were left out of the types: 550 against 615 sent.
    t.is(wires, sampleValue(m, 'meridian_messages_sent_total')!);
    t.is(wires, stats.sent);
  } finally {
    await cluster.stop();
  }
});
