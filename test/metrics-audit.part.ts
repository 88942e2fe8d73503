import test from 'ava';
import { sampleValue, startCluster } from '../src/index.js';
import { percentile } from '../src/cli/format.js';
import { commandsPerSlot } from '../bench/replication.js';
import { percentileOfHistogram } from '../bench/soak.js';
import { runDemo } from '../src/cli/demo.js';

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

test('bench replication: commands per slot is 1 where a slot carries one command (a leader sends accepts to the g - 1 others)', (t) => {
  // Factor 3, batch 1: a put's slot sends 2 accepts over the router (the leader's own is local).
  t.is(commandsPerSlot({ mode: 'active', loadedTypes: { 'px:accept': 2 } }), 1);
  // 8 commands a slot: 2 accepts per 8 puts.
  t.is(commandsPerSlot({ mode: 'passive', loadedTypes: { 'px:accept': 0.25 } }), 8);
  t.true(Number.isNaN(commandsPerSlot({ mode: 'none', loadedTypes: {} })));
});

test("bench soak: a percentile in the histogram's overflow bucket reads as the largest latency, not the bucket's index + 1", (t) => {
  // Buckets 0..3 ms of 1 ms, bucket 4 every latency from 4 ms on.
  const buckets = new Uint32Array(5);
  buckets[1] = 2; // two calls of 1.x ms
  buckets[4] = 2; // two calls of 4 ms or more: the longest took 250 ms
  t.is(percentileOfHistogram(buckets, 4, 50, 250), 2, 'rank 2 of 4: the upper edge of the 1 ms bucket');
  t.is(percentileOfHistogram(buckets, 4, 99, 250), 250, 'rank 4 of 4: in the overflow bucket (it read 5)');
  t.is(percentileOfHistogram(buckets, 4, 0, 250), 2, 'rank 1, not rank 0 (an empty first bucket read as p0)');
  t.true(Number.isNaN(percentileOfHistogram(new Uint32Array(5), 0, 50, 0)));
});

test('meridian demo: the percentile of no latency is NaN (a "-" in the table), not 0 ms', (t) => {
  t.true(Number.isNaN(percentile([], 0.5)));
  t.is(percentile([1, 2, 3, 4], 0.5), 2);
  t.is(percentile([1, 2, 3, 4], 0.99), 4);
});

test("meridian demo: a phase's ok/s divides its calls by its own length, not by the wait for the last calls in flight", async (t) => {
  const seed = 1;
  t.log(`seed ${seed}`);
  const lines: string[] = [];
  // 300 ms of virtual time: three phases of 100 ms.
  await runDemo({ transport: 'sim', seed, durationMs: 300, log: (line) => lines.push(...line.split('\n')) });
  const row = (name: string): string[] => {
    const line = lines.find((l) => l.startsWith(name));
    t.truthy(line, `a row ${name} in:\n${lines.join('\n')}`);
    return line!.slice(name.length).trim().split(/\s+/);
  };
  for (const name of ['steady', 'eu-west/1 down', 'recovered']) {
    const [requests, failed, okPerS] = row(name);
    // On main the last phase ran until its calls in flight settled: 146 ok/s for 62 calls.
    t.is(Number(okPerS), Math.round((Number(requests) - Number(failed)) / 0.1), `${name}: ${lines.join('\n')}`);
  }
  const [, , settlingRate] = row('settling');
  t.is(settlingRate, '-');
});
