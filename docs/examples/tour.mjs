// A short tour: launch a cluster, inject faults, check the recorded history.
// Run it after `npm install` (which builds): node docs/examples/tour.mjs
import { startCluster, checkLinearizable } from 'meridian';

const cluster = await startCluster({
  regions: [
    { name: 'us-east', servers: 3 },
    { name: 'eu-west', servers: 3 },
    { name: 'ap-south', servers: 3 },
  ],
  transport: 'sim', // one thread, virtual time: the same seed replays the same run
  seed: 7,
  network: { latencyMs: { 'us-east~eu-west': 40, 'us-east~ap-south': 90, 'eu-west~ap-south': 70 }, jitterMs: 2 },
  replication: { mode: 'active', factor: 3 },
  commit: '2pc',
});
const alice = cluster.client({ region: 'us-east' });
const bob = cluster.client({ region: 'eu-west' });

await alice.put('balance:alice', 100);
await alice.put('balance:bob', 50);
console.log('bob reads', await bob.get('balance:alice'));

// A transfer: all or nothing, across shards; the checks abort it if someone got there first.
await alice.transaction([
  { op: 'check', key: 'balance:alice', value: 100 },
  { op: 'check', key: 'balance:bob', value: 50 },
  { op: 'put', key: 'balance:alice', value: 70 },
  { op: 'put', key: 'balance:bob', value: 80 },
]);

// Faults: crash a server; every shard still has a majority, so calls go on.
await cluster.crash('eu-west/1');
await cluster.sleep(1_000); // calls in flight at the crash fail; give the shards a moment to elect new leaders
const cas = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => (i % 2 ? alice : bob).cas('counter', undefined, i)));
console.log('cas while eu-west/1 is down:', cas.map((r) => (r.status === 'fulfilled' ? String(r.value) : r.reason.name)).join(' '));
// Cut a region off too: shards that had a replica on each of the two lose their majority.
cluster.partition(['ap-south'], ['us-east', 'eu-west']);
const puts = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => alice.put(`key${i}`, i)));
console.log('puts with ap-south cut off too:', puts.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason.name)).join(' '));
await cluster.sleep(3_000);
console.log(
  'members:',
  cluster
    .members()
    .map((m) => `${m.id}=${m.state}`)
    .join(' '),
);
cluster.heal();
await cluster.restart('eu-west/1');
await cluster.sleep(1_000);
console.log('after healing, bob reads', await bob.get('balance:bob'), 'and counter', await bob.get('counter'));

// Every client call was recorded; check that the history is linearizable.
const history = cluster.history();
const check = await checkLinearizable(history, 'register');
console.log(`history: ${history.length} operations, ${check.verdict}`);
const s = cluster.stats();
console.log(`messages: ${s.sent} sent, dropped ${JSON.stringify(s.dropped)}; virtual time ${cluster.now().toFixed(0)} ms`);
await cluster.stop();
