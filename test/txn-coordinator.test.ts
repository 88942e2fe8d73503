import test from 'ava';
import { startCluster, type Cluster, type ClusterConfig } from '../src/index.js';
import { eventually } from '../src/harness/ava.js';

/**
 * A region's coordinator crashes with transactions in flight. Paxos Commit: the other
 * coordinators are a majority of its acceptors, so the participants finish them (no key stays
 * locked while it is down). 2PC: participants that voted yes stay blocked, holding their
 * locks, until it restarts and re-sends (or presumes) the outcome from its log.
 */

/** Transactions prepared (holding locks) at the shard leaders, over every server. */
async function openTxns(cluster: Cluster): Promise<number> {
  let n = 0;
  for (const m of cluster.members()) {
    const s = (await cluster.inspect(m.id)) as { state?: { openTxns?: number } } | null;
    n += s?.state?.openTxns ?? 0;
  }
  return n;
}

function config(transport: 'sim' | 'threads', commit: '2pc' | 'paxos-commit', seed: number): ClusterConfig {
  return {
    regions: [
      { name: 'us-east', servers: 1 },
      { name: 'eu-west', servers: 1 },
      { name: 'ap-south', servers: 1 },
    ],
    transport,
    // Threads: the actors (servers, coordinators, region actors) packed on 2 worker threads, not
    // a thread each: a coordinator's crash and restart, and what its peers and participants do
    // meanwhile, do not depend on which thread an actor runs on; each thread's start and JIT
    // warm-up cost CPU.
    ...(transport === 'threads' ? { placement: 'packed' as const, threads: 2 } : {}),
    seed,
    commit,
    replication: { mode: 'active', factor: 3 },
    shards: 8,
    requestTimeoutMs: 8_000,
    network: { latencyMs: { 'us-east~eu-west': 8, 'us-east~ap-south': 12, 'eu-west~ap-south': 10 } },
  };
}

/**
 * Transactions from us-east (its coordinator leads them), one every few ms, each appending to
 * three keys; crash coordinator/us-east in the middle. Returns the transactions locked then.
 */
async function crashMidStream(cluster: Cluster, round: number): Promise<{ openAtCrash: number; settled: Promise<unknown> }> {
  const c = cluster.client({ region: 'us-east' });
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 30; i++) {
    calls.push(c.transaction([0, 1, 2].map((k) => ({ op: 'append' as const, key: `r${round}-t${i}-k${k}`, value: i }))).catch(() => undefined));
    await cluster.sleep(3);
  }
  await cluster.crash('coordinator/us-east');
  const openAtCrash = await openTxns(cluster);
  return { openAtCrash, settled: Promise.all(calls) };
}

for (const transport of ['sim', 'threads'] as const) {
  test(`${transport}: paxos-commit: a crashed leading coordinator leaves no key locked while it is down`, async (t) => {
    const seed = 21;
    t.log(`seed ${seed}`);
    const cluster = await startCluster(config(transport, 'paxos-commit', seed));
    try {
      await cluster.client({ region: 'eu-west' }).transaction([{ op: 'append', key: 'warm', value: 0 }]);
      let open = 0;
      let round = 0;
      let settled: Promise<unknown> = Promise.resolve();
      // On threads the crash may miss every transaction's window; try again (a few rounds at most).
      for (; round < 4 && open === 0; round++) {
        if (round > 0) {
          await cluster.restart('coordinator/us-east');
          await eventually(cluster, async () => (await openTxns(cluster)) === 0, { timeoutMs: 20_000 });
        }
        ({ openAtCrash: open, settled } = await crashMidStream(cluster, round));
      }
      t.log(`${open} transaction parts held locks when coordinator/us-east crashed (round ${round})`);
      t.true(open > 0, 'the crash caught transactions in flight');
      // Still down: the participants lead recovery with the other coordinators as acceptors.
      await eventually(cluster, async () => (await openTxns(cluster)) === 0, { timeoutMs: 15_000, intervalMs: 100 });
      t.deepEqual(cluster.members().length, 3);
      // And new transactions from another region commit meanwhile.
      const other = cluster.client({ region: 'eu-west' });
      t.deepEqual(
        await other.transaction([
          { op: 'append', key: 'after', value: 1 },
          { op: 'get', key: 'after' },
        ]),
        [undefined, [1]],
      );
      await cluster.restart('coordinator/us-east');
      // The restarted coordinator (an acceptor again, from its log) takes transactions again.
      const c = cluster.client({ region: 'us-east' });
      await eventually(
        cluster,
        async () => {
          const r = await c
            .transaction([
              { op: 'append', key: 'after', value: 2 },
              { op: 'get', key: 'after' },
            ])
            .catch(() => undefined);
          return r !== undefined;
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      void settled;
      await eventually(cluster, async () => (await openTxns(cluster)) === 0, { timeoutMs: 15_000, intervalMs: 100, message: 'no lock left after the restart' });
      t.pass();
    } finally {
      await cluster.stop();
    }
  });

  test(`${transport}: 2pc: prepared participants stay blocked while the coordinator is down, then settle`, async (t) => {
    const seed = 22;
    t.log(`seed ${seed}`);
    const cluster = await startCluster(config(transport, '2pc', seed));
    try {
      await cluster.client({ region: 'eu-west' }).transaction([{ op: 'append', key: 'warm', value: 0 }]);
      let blocked = 0;
      let round = 0;
      let settled: Promise<unknown> = Promise.resolve();
      for (; round < 4 && blocked === 0; round++) {
        if (round > 0) {
          await cluster.restart('coordinator/us-east');
          await eventually(cluster, async () => (await openTxns(cluster)) === 0, { timeoutMs: 20_000 });
        }
        ({ settled } = await crashMidStream(cluster, round));
        // Longer than the vote timeout and several decision requests: what is still locked now
        // is held by participants that voted yes and cannot decide alone.
        await cluster.sleep(2_500);
        blocked = await openTxns(cluster);
      }
      t.log(`${blocked} transaction parts blocked 2.5 s after coordinator/us-east crashed (round ${round})`);
      t.true(blocked > 0, 'prepared participants are blocked');
      await cluster.sleep(2_000);
      t.is(await openTxns(cluster), blocked, 'still blocked, holding their locks, while the coordinator is down');
      await cluster.restart('coordinator/us-east');
      await eventually(cluster, async () => (await openTxns(cluster)) === 0, { timeoutMs: 15_000, intervalMs: 100 });
      void settled;
      const c = cluster.client({ region: 'us-east' });
      await eventually(cluster, async () => (await c.transaction([{ op: 'append', key: 'after', value: 1 }]).catch(() => undefined)) !== undefined, {
        timeoutMs: 20_000,
        intervalMs: 200,
      });
    } finally {
      await cluster.stop();
    }
  });
}

test('crash and restart name coordinators in their validation errors', async (t) => {
  const cluster = await startCluster(config('sim', '2pc', 1));
  try {
    await t.throwsAsync(cluster.crash('coordinator/mars'), { message: /coordinator\/us-east/ });
    await cluster.crash('coordinator/eu-west');
    await cluster.restart('coordinator/eu-west');
    t.deepEqual(await cluster.client({ region: 'eu-west' }).transaction([{ op: 'get', key: 'x' }]), [undefined]);
  } finally {
    await cluster.stop();
  }
});
