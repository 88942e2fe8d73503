import test from 'ava';
import { checkLinearizable, startCluster, UnavailableError, type ClusterConfig } from '../src/index.js';
import { RoutedIds, type BalancerSummary } from '../src/cluster/balancer.js';
import { runScenario } from '../src/harness/scenario.js';
import { scenarioOptions } from '../src/harness/check-runner.js';

// A refused request taking effect (found 2026-12-01 by `meridian check --shape random --nemesis
// swarm --txn-share 0.3 --commit paxos-commit --from 255001 --seeds 1500 --mode passive`: seed
// 255280, 2 regions of one server, factor 2, not linearizable). Both servers were down; the
// network duplicated a client's cas and a reorder fault delayed the second copy by ~250 ms.
// balancer/r1 refused the first copy ("no server available in region r2": UnavailableError,
// which promises the call did not happen) and, since it only remembered requests it had
// routed, routed the second copy after the restart: the cas took effect, and a read saw its
// value. A balancer now remembers every request it answered, routed or refused.

test('RoutedIds: a forgotten id of a sender, and any lower one, still counts as answered; other senders do not', (t) => {
  const ids = new RoutedIds();
  const sender = (n: number, rid: number): number => n * 0x100000000 + rid;
  ids.add(sender(0, 5));
  ids.add(sender(0, 7));
  t.true(ids.has(sender(0, 5)));
  t.false(ids.has(sender(0, 6)), 'never seen, nothing forgotten yet');
  ids.delete(sender(0, 5));
  t.is(ids.size, 1);
  t.true(ids.has(sender(0, 5)), 'forgotten, still answered');
  t.true(ids.has(sender(0, 3)), 'below the forgotten rid: a copy too late to answer');
  t.false(ids.has(sender(0, 6)), 'above it: a new request');
  t.false(ids.has(sender(1, 5)), 'another sender');
  ids.add('a 1');
  t.true(ids.has('a 1'));
  ids.delete('a 1');
  t.false(ids.has('a 1'));
});

test('a write refused while no server runs is not applied when its duplicate arrives after the restart', async (t) => {
  const seed = 7;
  t.log(`seed ${seed}`);
  const config: ClusterConfig = {
    regions: [{ name: 'r1', servers: 1 }],
    transport: 'sim',
    seed,
    heartbeat: { intervalMs: 50 },
    replication: { mode: 'none' },
    shards: 1,
    requestTimeoutMs: 5_000,
  };
  const cluster = await startCluster(config);
  try {
    const client = cluster.client({ region: 'r1' });
    await client.put('warm', 0);
    await cluster.crash('r1/0');
    await cluster.sleep(200);
    // Every request delivered twice, each copy within [0, 400) ms: a copy refused while r1/0
    // is down has its twin arrive after the restart in about a quarter of the puts.
    cluster.setNetwork({ duplicate: 1, jitterMs: 400 });
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const answers = keys.map((key) =>
      client.put(key, 'v').then(
        () => 'ok' as const,
        (error: unknown) => (error instanceof UnavailableError ? ('refused' as const) : ('unknown' as const)),
      ),
    );
    await cluster.sleep(200);
    await cluster.restart('r1/0');
    const outcomes = await Promise.all(answers);
    cluster.setNetwork({ duplicate: 0, jitterMs: 0 });
    await cluster.sleep(1_000);
    const refused = keys.filter((_, i) => outcomes[i] === 'refused');
    const balancer = ((await cluster.inspect('balancer/r1')) as { state: BalancerSummary }).state;
    t.log(`outcomes: ${refused.length} refused, ${outcomes.filter((o) => o === 'ok').length} ok; balancer dropped ${balancer.duplicates} duplicates`);
    t.true(refused.length > 0, 'some puts were refused while r1/0 was down');
    t.true(balancer.duplicates >= keys.length, 'every put was delivered twice');
    for (const key of refused) t.is(await client.get(key), undefined, `${key}: refused, so not applied`);
    const result = await checkLinearizable(cluster.history(), 'register');
    t.is(result.verdict, 'linearizable', JSON.stringify(result.violations[0]));
  } finally {
    await cluster.stop();
  }
});

test('seed 255280 (2 regions of one server, factor 2, swarm, Paxos Commit, passive) is linearizable', async (t) => {
  const task = {
    seed: 255280,
    mode: 'passive' as const,
    schedule: 'swarm' as const,
    txnShare: 0.3,
    commits: ['paxos-commit' as const],
    regions: 2,
    servers: 1,
    factor: 2,
    shards: 8,
  };
  t.log('meridian check --seed 255280 --mode passive --nemesis swarm --txn-share 0.3 --commit paxos-commit --regions 2 --servers 1 --factor 2 --shards 8');
  const r = await runScenario(scenarioOptions(task));
  t.is(r.outcome, 'pass', r.failures.join('; '));
});
