/**
 * A coordinator's wires stay under messageBytesMax (coordinator.ts sendWithin). What a burst of
 * messages produces for one shard's participant (or one peer coordinator) leaves as one wire;
 * a burst of transactions for one shard, each prepare carrying the transaction's ops there,
 * made a wire over messageBytesMax though each transaction fit alone: the host dropped it, and
 * every transaction of the burst aborted at its vote timeout ('no vote in time from shard/0'),
 * burst after burst.
 */
import test from 'ava';
import { withCluster, type ClusterConfig } from '../src/index.js';
import { coordinatorBehavior, type CoordinatorParams } from '../src/cluster/coordinator.js';
import type { CoordinatorInbound, ParticipantWire, TxnOp } from '../src/cluster/messages.js';
import { createPackr } from '../src/core/codec.js';
import { recordingContext } from './helpers/fake-context.js';

const SEED = 7100;
const MESSAGE_BYTES_MAX = 16 * 1024;
/** Transactions at once, their puts, and each value's size: about 3.7 KB a transaction, 30 KB together. */
const CLIENTS = 8;
const PUTS = 6;
const VALUE_CHARS = 600;

const valueOf = (i: number, j: number): string => `${i}.${j}:`.padEnd(VALUE_CHARS, 'x');

for (const commit of ['2pc', '3pc', 'paxos-commit'] as const) {
  test(`sim ${commit}: bursts of transactions for one shard, each well under messageBytesMax, together over it, all commit`, async (t) => {
    t.log(`seed ${SEED}`);
    const config: ClusterConfig = {
      regions: [{ name: 'r1', servers: 3 }],
      transport: 'sim',
      seed: SEED,
      shards: 1,
      commit,
      messageBytesMax: MESSAGE_BYTES_MAX,
      replication: { mode: 'active', factor: 3 },
      requestTimeoutMs: 3_000,
    };
    await withCluster(t, config, async (cluster) => {
      const warns: string[] = [];
      cluster.on('warn', (e: { address: string; message: string }) => warns.push(`${e.address}: ${e.message}`));
      const clients = Array.from({ length: CLIENTS }, () => cluster.client({ region: 'r1' }));
      await clients[0]!.put('warm', 1);
      for (let burst = 0; burst < 2; burst++) {
        const results = await Promise.allSettled(
          clients.map((c, i) => c.transaction(Array.from({ length: PUTS }, (_, j) => ({ op: 'put', key: `k${burst}.${i}.${j}`, value: valueOf(i, j) })))),
        );
        const failed = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
        t.deepEqual(failed, [], `seed ${SEED}: burst ${burst}, every transaction commits`);
      }
      t.is(cluster.stats().dropped['too-large'] ?? 0, 0, 'no message was over messageBytesMax');
      t.deepEqual(warns, [], 'no warning');
    });
  });
}

test('a burst of prepares for one shard goes in wires that each fit, in order, every prepare once', (t) => {
  const params: CoordinatorParams = {
    region: 'a',
    commit: '2pc',
    topology: { regions: [{ name: 'a', servers: 1 }], shards: 1, factor: 1, mode: 'active' },
    tickMs: 10,
    acceptors: ['coordinator/a'],
    messageBytesMax: 4_096,
  };
  const { ctx, sent, world } = recordingContext('coordinator/a');
  const state = coordinatorBehavior.init(ctx, params, []);
  world.sender = 'balancer/a';
  const TXNS = 10;
  for (let i = 0; i < TXNS; i++) {
    // Messages still waiting: the prepares gather in the outbox; the last request flushes it.
    world.mailbox = i < TXNS - 1 ? 1 : 0;
    const ops: TxnOp[] = [{ op: 'put', key: `k${i}`, value: 'v'.repeat(900) }];
    coordinatorBehavior.receive(state, { type: 'req', rid: i, body: { op: 'txn', key: `k${i}`, ops, rq: `c:${i}` } } satisfies CoordinatorInbound, ctx);
  }
  const wires = sent.filter((s) => s.msg.type === 'tx').map((s) => ({ to: s.to, wire: s.msg as unknown as ParticipantWire }));
  const packr = createPackr();
  for (const { to, wire } of wires)
    t.true(packr.pack({ to, from: ctx.self, msg: wire }).byteLength <= params.messageBytesMax!, `a wire of ${1 + (wire.more?.length ?? 0)}`);
  t.true(wires.length > 1 && wires.length < TXNS, `${TXNS} prepares in ${wires.length} wires: cut, and still gathered`);
  const keys = wires.flatMap(({ wire }) => [wire.m, ...(wire.more ?? [])]).map((m) => (m.payload as TxnOp[])[0]!.key);
  t.deepEqual(
    keys,
    Array.from({ length: TXNS }, (_, i) => `k${i}`),
  );
});
