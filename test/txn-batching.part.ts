import test from 'ava';
import { startCluster, type ClusterConfig } from '../src/index.js';
import { analyticTxn } from '../bench/commit.js';
import { BACKGROUND_TYPES, baseConfig, clientsOf, keysOnTwoShards, sumTypes, typesDelta } from '../bench/lib/cluster-load.js';

/**
 * Under load, the transaction path batches: a participant's records of many transactions
 * share Paxos slots, a coordinator's messages for one shard leave as one wire, and the
 * messages one log entry releases leave together. So concurrent transactions cost far fewer
 * messages each than one alone (the analytic isolated count, bench/commit.ts). Counts, not
 * time: in sim every figure is a function of the seed.
 */
const SEED = 9_221;
const CONCURRENT = 96;

for (const commit of ['2pc', '3pc', 'paxos-commit'] as const) {
  test(`sim: ${commit} transactions in flight together share log slots and wires (seed ${SEED})`, async (t) => {
    const config: ClusterConfig = baseConfig({ transport: 'sim', placement: 'dedicated' }, SEED, 0);
    config.replication = { mode: 'active', factor: 3, batch: 64 };
    config.commit = commit;
    const cluster = await startCluster(config);
    try {
      const clients = clientsOf(cluster, 12);
      const pairs = keysOnTwoShards('batching', CONCURRENT + 1, cluster.config.shards);
      // One first, alone: leaders elected, every path warm.
      const [a0, b0] = pairs[CONCURRENT]!;
      await clients[0]!.transaction([
        { op: 'put', key: a0, value: 0 },
        { op: 'put', key: b0, value: 0 },
      ]);
      const before = await cluster.collectStats();
      const results = await Promise.allSettled(
        pairs.slice(0, CONCURRENT).map(([a, b], i) =>
          clients[i % clients.length]!.transaction([
            { op: 'put', key: a, value: i },
            { op: 'put', key: b, value: i },
          ]),
        ),
      );
      const after = await cluster.collectStats();
      const committed = results.filter((r) => r.status === 'fulfilled').length;
      t.is(committed, CONCURRENT, `seed ${SEED}: every transaction commits (distinct keys, no faults)`);
      const types = typesDelta(before, after);
      const perTxn = sumTypes(types, (type) => !BACKGROUND_TYPES.has(type)) / committed;
      const accepts = (types['px:accept'] ?? 0) / committed;
      const isolated = analyticTxn(commit, 64);
      t.log(`seed ${SEED}: ${perTxn.toFixed(2)} messages per transaction (isolated ${isolated}), px:accept ${accepts.toFixed(2)}`);
      // Isolated, each participant step takes a slot of its own: 3 accepts per step, 2 participants.
      t.true(perTxn < isolated / 2, `seed ${SEED}: ${perTxn} messages per transaction under load, isolated ${isolated}`);
      const slotPerStep = 2 * 3 * (commit === '3pc' ? 4 : 3);
      t.true(accepts < slotPerStep / 4, `seed ${SEED}: ${accepts} accepts per transaction (a slot per step: ${slotPerStep})`);
    } finally {
      await cluster.stop();
    }
  });
}
