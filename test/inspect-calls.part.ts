import test from 'ava';
import { startCluster, StoppedError, ValidationError, type Cluster } from '../src/index.js';

// The cluster's inspection calls as a user reads them (audit of session 61): an extra argument
// is refused as the client's calls refuse one, naming `arguments[n]` (before, every one of them
// ignored it), and the calls that read live servers refuse a stopped cluster (before, members()
// read every server 'down' and shardLeaders() every leader undefined, as after a crash or in an
// election; replicationLag() read zeros).

async function simCluster(): Promise<Cluster> {
  return startCluster({
    regions: [
      { name: 'us-east', servers: 3 },
      { name: 'eu-west', servers: 3 },
    ],
    transport: 'sim',
    seed: 1,
    replication: { mode: 'hybrid', factor: 3 },
  });
}

/** Each call with one argument too many: a ValidationError naming the first extra one. */
const extraArgs: Array<[string, number, (c: Cluster) => unknown]> = [
  ['replicaStates', 1, (c) => (c.replicaStates as (...a: unknown[]) => unknown)(0, 1)],
  ['copyProgress', 0, (c) => (c.copyProgress as (...a: unknown[]) => unknown)(1)],
  ['replicationLag', 0, (c) => (c.replicationLag as (...a: unknown[]) => unknown)('us-east')],
  ['openTransactions', 1, (c) => (c.openTransactions as (...a: unknown[]) => unknown)('coordinator/us-east', {})],
  ['checkpointsOf', 1, (c) => (c.checkpointsOf as (...a: unknown[]) => unknown)('us-east/0', 1)],
  ['shardLeaders', 0, (c) => (c.shardLeaders as (...a: unknown[]) => unknown)(0)],
  ['leaderOf', 1, (c) => (c.leaderOf as (...a: unknown[]) => unknown)(0, 1)],
  ['shardLeader', 1, (c) => (c.shardLeader as (...a: unknown[]) => unknown)(0, 1)],
  ['replicasOf', 1, (c) => (c.replicasOf as (...a: unknown[]) => unknown)(0, 1)],
  ['serverFor', 1, (c) => (c.serverFor as (...a: unknown[]) => unknown)('a', 1)],
  ['shardOf', 1, (c) => (c.shardOf as (...a: unknown[]) => unknown)('a', 1)],
  ['members', 0, (c) => (c.members as (...a: unknown[]) => unknown)(1)],
  ['stats', 0, (c) => (c.stats as (...a: unknown[]) => unknown)(1)],
  ['errors', 0, (c) => (c.errors as (...a: unknown[]) => unknown)(1)],
  ['historyTruncated', 0, (c) => (c.historyTruncated as (...a: unknown[]) => unknown)(1)],
];

test('every inspection call refuses an extra argument, naming it', async (t) => {
  const c = await simCluster();
  try {
    for (const [name, n, call] of extraArgs) {
      const error = t.throws(() => call(c), { instanceOf: ValidationError }, name);
      t.is(error?.field, `arguments[${n}]`, name);
      t.regex(error?.message ?? '', new RegExp(`nothing: ${name}\\(`), name);
    }
    const rejected = await t.throwsAsync((c.inspect as (...a: unknown[]) => Promise<unknown>)('us-east/0', 1), { instanceOf: ValidationError });
    t.is(rejected?.field, 'arguments[1]');
    // ping(1) answered as ping() (an audit, session 62).
    const ping = await t.throwsAsync((c.ping as (...a: unknown[]) => Promise<unknown>)({ timeoutMs: 100 }), { instanceOf: ValidationError });
    t.is(ping?.field, 'arguments[0]');
  } finally {
    await c.stop();
  }
});

test('serverFor and shardOf say what the bad key was', async (t) => {
  const c = await simCluster();
  try {
    t.regex(t.throws(() => c.serverFor(5 as unknown as string), { instanceOf: ValidationError })?.message ?? '', /got number/);
    t.regex(t.throws(() => c.shardOf(''), { instanceOf: ValidationError })?.message ?? '', /got an empty string/);
  } finally {
    await c.stop();
  }
});

test('the calls that read live servers refuse a stopped cluster; the ones that read the config or the record still answer', async (t) => {
  const c = await simCluster();
  await c.client({ region: 'us-east' }).put('a', 1);
  t.true(c.members().every((m) => m.state === 'up'));
  t.not(c.leaderOf(c.shardOf('a')), undefined);
  await c.stop();
  for (const [name, call] of [
    ['members', () => c.members()],
    ['shardLeaders', () => c.shardLeaders()],
    ['shardLeader', () => c.shardLeader(0)],
    ['leaderOf', () => c.leaderOf(0)],
    ['replicationLag', () => c.replicationLag()],
  ] as const)
    t.throws(call, { instanceOf: StoppedError, message: /the cluster is stopped/ }, name);
  t.deepEqual(c.replicasOf(0).length, 3);
  t.is(typeof c.shardOf('a'), 'number');
  t.true(c.stats().sent > 0);
  t.deepEqual(c.errors(), []);
  t.false(c.historyTruncated());
});

test("copyProgress()'s promised ballot is a copy: editing it leaves the acceptor's promise and the leader's ballot alone", async (t) => {
  const c = await simCluster();
  try {
    await c.client({ region: 'us-east' }).put('a', 1);
    const shard = c.shardOf('a');
    const leader = c.leaderOf(shard)!;
    const before = c.shardLeader(shard).ballot;
    const mine = c.copyProgress().find((p) => p.shard === shard && p.id === leader && !p.learner)!;
    t.deepEqual(mine.promised, before);
    // Every copy's, the shards with no leader yet too (BALLOT_ZERO, shared by every acceptor).
    for (const p of c.copyProgress()) if (p.promised !== undefined) p.promised.round = -7;
    t.deepEqual(c.shardLeader(shard).ballot, before, 'the leader keeps its ballot');
    t.false(
      c.copyProgress().some((p) => p.promised?.round === -7),
      'no promise was rewritten',
    );
  } finally {
    await c.stop();
  }
});

test('leaderOf() on threads refuses, naming transport, where it answered undefined as during an election', async (t) => {
  const c = await startCluster({ regions: [{ name: 'us-east', servers: 3 }], transport: 'threads', seed: 1, replication: { mode: 'active', factor: 3 } });
  try {
    await c.client({ region: 'us-east' }).put('a', 1);
    const error = t.throws(() => c.leaderOf(c.shardOf('a')), { instanceOf: ValidationError });
    t.is(error?.field, 'transport');
    t.regex(error?.message ?? '', /leaderOf\(\) needs transport 'sim'/);
    t.throws(() => c.leaderOf(99), { instanceOf: ValidationError, message: /^shard: / }, 'the shard is checked first');
    t.deepEqual(c.shardLeader(0).replicas, c.replicasOf(0), 'shardLeader() still gives the replicas');
  } finally {
    await c.stop();
  }
});

test('errors() answers copies: editing an event it gave leaves what the next errors() shows', async (t) => {
  // paxos-commit on two regions is legal and warned of at startCluster: a 'warn' kept at once.
  const c = await startCluster({
    regions: [
      { name: 'us-east', servers: 1 },
      { name: 'eu-west', servers: 1 },
    ],
    transport: 'sim',
    seed: 1,
    commit: 'paxos-commit',
  });
  try {
    const first = c.errors();
    const warn = first.find((e) => e.kind === 'warn');
    if (warn?.kind !== 'warn') return t.fail(`no warning kept: ${JSON.stringify(first)}`);
    const message = warn.message;
    warn.message = 'edited';
    first.length = 0;
    t.is(c.errors().find((e) => e.kind === 'warn' && e.address === warn.address)?.kind, 'warn');
    t.true(c.errors().some((e) => e.kind === 'warn' && e.message === message));
    t.false(c.errors().some((e) => e.kind === 'warn' && e.message === 'edited'));
  } finally {
    await c.stop();
  }
});
