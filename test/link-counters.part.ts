import test from 'ava';
import { startCluster } from '../src/index.js';

// A link's `sent` counted only the messages that left the host, while the total counts every
// message sent, dropped or not: with loss 0.2 the links summed to 1248 sent and 348 dropped
// (dropped/sent 0.279, p/(1-p)) of a total of 1596 sent, and a link cut off showed sent 0
// (an audit, session 59). Now a link counts every message sent on it, as the total does.
test('sim: link counters count every message sent on the link, dropped or not, as the total does', async (t) => {
  const cluster = await startCluster({
    regions: [
      { name: 'us', servers: 1 },
      { name: 'eu', servers: 1 },
    ],
    transport: 'sim',
    seed: 1,
    shards: 2,
    requestTimeoutMs: 500,
    network: { latencyMs: { 'us~eu': 10 }, loss: 0.2 },
    replication: { mode: 'none', factor: 1 },
  });
  try {
    await cluster.sleep(20_000);
    const lossy = cluster.stats();
    const links = Object.values(lossy.links);
    const sum = (f: (l: { sent: number; dropped: number }) => number): number => links.reduce((n, l) => n + f(l), 0);
    t.true((lossy.dropped.loss ?? 0) > 0);
    t.is(
      sum((l) => l.dropped),
      lossy.dropped.loss ?? 0,
      'every drop here is a loss on some link',
    );
    // Messages to an unknown address are on no link; there are none here.
    t.is(
      sum((l) => l.sent),
      lossy.sent - (lossy.dropped['unknown-address'] ?? 0),
      'the links add up to the total',
    );

    await cluster.setNetwork({ loss: 0 });
    await cluster.partition(['us'], ['eu']);
    const before = cluster.stats().links['us->eu']!;
    await cluster.sleep(2_000);
    const after = cluster.stats().links['us->eu']!;
    const sent = after.sent - before.sent;
    const dropped = after.dropped - before.dropped;
    t.true(dropped > 0, 'us tries to reach eu');
    t.is(sent, dropped, 'a link cut off: all it was sent, dropped');

    const text = await cluster.metricsText();
    t.regex(text, /# HELP meridian_link_messages_sent_total Messages sent from one region to another, dropped or not/);
  } finally {
    await cluster.stop();
  }
});
