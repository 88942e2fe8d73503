import test, { type ExecutionContext } from 'ava';
import { AbortedError, startCluster, type Client, type Cluster, type ClusterConfig } from '../src/index.js';
import { runBankScenario } from '../src/harness/scenario.js';
import { withInliningLowered } from '../src/harness/inline-budget.js';
import { seedRange } from './helpers/seeds.js';

const protocols = ['2pc', '3pc', 'paxos-commit'] as const;

type Ops = Parameters<Client['transaction']>[0];

/**
 * An abort is definite, so retrying is safe; under load on threads a timeout may abort one. The
 * tries back off (20 ms doubling, on the cluster's clock): five at once all voted no in a
 * suite run on a loaded machine (3pc on threads, 2026-12-06), the locks of each still held.
 */
async function commitTxn(cluster: Cluster, client: Client, ops: Ops): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.transaction(ops);
      return;
    } catch (error) {
      if (!(error instanceof AbortedError) || attempt >= 7) throw error;
      await cluster.sleep(20 * 2 ** attempt);
    }
  }
}

/**
 * The bank runs below are simulated seeds in this thread: they run with V8's inlining budget
 * lowered, as a check pool's seeds do (src/harness/inline-budget.ts; test/helpers/inlining.ts).
 * The threads clusters' tests are serial, so that ava runs them first, before any of those: V8
 * keys the build's code cache by its flags, and a worker booted meanwhile would compile without it.
 */
const lowered =
  (body: (t: ExecutionContext) => Promise<void>) =>
  (t: ExecutionContext): Promise<void> =>
    withInliningLowered(() => body(t));

for (const transport of ['sim', 'threads'] as const) {
  for (const commit of protocols) {
    (transport === 'threads' ? test.serial : test)(`${transport}: ${commit} transactions are all or nothing, and a failed check aborts`, async (t) => {
      const config: ClusterConfig = {
        regions: [
          { name: 'us-east', servers: 2 },
          { name: 'eu-west', servers: 2 },
          { name: 'ap-south', servers: 1 },
        ],
        transport,
        seed: 3,
        replication: { mode: 'active', factor: 3 },
        commit,
        network: { latencyMs: { 'us-east~eu-west': 4, 'us-east~ap-south': 6, 'eu-west~ap-south': 5 } },
        // On threads, the 8 actors (5 servers, 3 regions) packed on 2 worker threads, not a thread
        // each: messages still cross threads, and the file boots 6 threads, not 24.
        ...(transport === 'threads' ? { placement: 'packed' as const, threads: 2 } : {}),
      };
      const cluster = await startCluster(config);
      try {
        const c = cluster.client({ region: 'eu-west' });
        // Keys chosen to land on different shards (16 by default).
        const keys = Array.from({ length: 6 }, (_, i) => `acct-${i}`);
        await commitTxn(
          cluster,
          c,
          keys.map((key) => ({ op: 'put' as const, key, value: 10 })),
        );
        for (const key of keys) t.is(await c.get(key), 10);
        await commitTxn(cluster, c, [
          { op: 'check', key: keys[0]!, value: 10 },
          { op: 'put', key: keys[0]!, value: 5 },
          { op: 'put', key: keys[5]!, value: 15 },
          { op: 'delete', key: keys[3]! },
        ]);
        t.is(await c.get(keys[0]!), 5);
        t.is(await c.get(keys[5]!), 15);
        t.is(await c.get(keys[3]!), undefined);
        const error = await t.throwsAsync(
          c.transaction([
            { op: 'check', key: keys[0]!, value: 10 },
            { op: 'put', key: keys[1]!, value: 99 },
          ]),
          { instanceOf: AbortedError },
        );
        t.true(error!.definite);
        t.is(await c.get(keys[1]!), 10, 'nothing of an aborted transaction is applied');
        const stats = await cluster.collectStats();
        const commits = Object.values(stats.actors).reduce((n, a) => n + (a.counters['txn-commit'] ?? 0), 0);
        t.true(commits >= 2, `two transactions committed (${commits} commit decisions counted)`);
      } finally {
        await cluster.stop();
      }
    });
  }
}

for (const [commit, mode] of [
  ['2pc', 'active'],
  ['2pc', 'passive'],
  ['2pc', 'hybrid'],
  ['paxos-commit', 'active'],
  ['paxos-commit', 'passive'],
] as const) {
  test(
    `sim: ${commit} over ${mode} replication keeps the bank total under crashes and partitions`,
    lowered(async (t) => {
      // 6 seeds (5001..5006; 12 until 2026-12-07, halved to keep the suite under 5 minutes):
      // 26 to 44 transfers committed over them in each test (2026-12-07), each a chance to break the total.
      const seeds = seedRange(6, 5000);
      t.log(`seeds ${seeds[0]}..${seeds[seeds.length - 1]}`);
      const bad: string[] = [];
      let committed = 0;
      for (const seed of seeds) {
        const r = await runBankScenario({ seed, mode, commit });
        committed += r.committed;
        if (!r.ok) bad.push(`seed ${seed}: total ${r.total}, expected ${r.expected}`);
      }
      t.log(`${committed} transfers committed`);
      t.true(committed > seeds.length, 'transactions commit, not only abort');
      t.deepEqual(bad, []);
    }),
  );
}

test(
  'sim: 3PC keeps the bank total on reliable links without failures (contention and jitter only)',
  lowered(async (t) => {
    // 3PC is safe only in a synchronous crash-stop world. Here a crash is followed by a shard
    // leader's failover, which loses the messages in flight to the old leader; 3PC's timeouts
    // read that as a crash and its termination can split (seen with seeds 11003, 11043, 11068
    // of runBankScenario with partitions off). So it is checked where its assumptions hold.
    // 8 seeds (6001..6008; 15 until 2026-12-07, cut to keep the suite under 5 minutes).
    const seeds = seedRange(8, 6000);
    t.log(`seeds ${seeds[0]}..${seeds[seeds.length - 1]}`);
    const bad: number[] = [];
    let committed = 0;
    for (const seed of seeds) {
      const r = await runBankScenario({ seed, mode: 'active', commit: '3pc', partitions: false, crashes: false, loss: false });
      committed += r.committed;
      if (!r.ok) bad.push(seed);
    }
    t.true(committed > seeds.length, 'transactions commit');
    t.deepEqual(bad, []);
  }),
);

test(
  'sim: 3PC is unsafe under partitions (its termination protocol splits the brain)',
  lowered(async (t) => {
    // The documented limit of 3PC: a partitioned cohort terminates on both sides, differently.
    // It shows in about 8% of seeds (10 of 7000..7119 on 2026-11-30, after lazy ticks and
    // leader hints moved the runs; 7000..7029 then had none): these 30 hold four of them.
    // The seeds run in order and stop at the first split: the seeds after it cannot change the
    // verdict (7041 was the first of 7041, 7043, 7049, 7052 and 7067 on 2026-12-04).
    const seeds = seedRange(30, 7040);
    const broken: number[] = [];
    let ran = 0;
    for (const seed of seeds) {
      if (broken.length > 0) break;
      ran++;
      const r = await runBankScenario({ seed, mode: 'active', commit: '3pc', partitions: true });
      if (!r.ok) broken.push(seed);
    }
    t.log(`seeds ${seeds[0]}..${seeds[seeds.length - 1]}: atomicity broken with seed ${broken.join(', ') || 'none'} (${ran} of ${seeds.length} run)`);
    t.true(broken.length > 0, 'expected at least one run to show the split brain');
  }),
);
