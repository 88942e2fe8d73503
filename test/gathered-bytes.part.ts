/**
 * Messages that gather many items stay under messageBytesMax.
 *
 * A coordinator's wires (coordinator.ts sendWithin). What a burst of messages produces for one
 * shard's participant (or one peer coordinator) leaves as one wire; a burst of transactions for
 * one shard, each prepare carrying the transaction's ops there, made a wire over
 * messageBytesMax though each transaction fit alone: the host dropped it, and every transaction
 * of the burst aborted at its vote timeout ('no vote in time from shard/0'), burst after burst.
 *
 * A region's digest (region.ts digestParts), which lists every server of the region: over
 * messageBytesMax whole, it was dropped every interval, and every balancer held the region down.
 *
 * A participant's replies (participant.ts within): the votes of one log entry's prepares, each
 * with what its transaction read, to one coordinator, leave as one wire; over messageBytesMax
 * the host bounced it (a 'too-large' warn, a drop counted) before each went again alone.
 *
 * A region's down-members notice (region.ts downParts), which lists the servers it holds down:
 * over messageBytesMax whole, it was dropped with a warn every interval, and the region's
 * servers passed requests on to silent ones, told only by crash notices and their own probes.
 */
import test from 'ava';
import { withCluster, type ClusterConfig } from '../src/index.js';
import { coordinatorBehavior, type CoordinatorParams } from '../src/cluster/coordinator.js';
import type { CoordinatorInbound, ParticipantWire, TxnOp } from '../src/cluster/messages.js';
import { createPackr } from '../src/core/codec.js';
import { digestParts } from '../src/cluster/region.js';
import { newPart, type Lives, type PartsTaken } from '../src/cluster/lives.js';
import { recordingContext } from './helpers/fake-context.js';
import { warnsOf } from './helpers/warns.js';

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
      const warns = warnsOf(cluster);
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

// A region's digest ------------------------------------------------------------------------

const DIGEST_SEED = 7300;
const SERVERS = 100;
/** A digest of 100 servers is about 1.7 KB. */
const DIGEST_BYTES_MAX = 1_024;

test('sim: a region of 100 servers at messageBytesMax 1,024 has its digest in parts: every balancer holds its servers up, and one paused down', async (t) => {
  t.log(`seed ${DIGEST_SEED}`);
  const config: ClusterConfig = {
    regions: [{ name: 'r1', servers: SERVERS }],
    transport: 'sim',
    seed: DIGEST_SEED,
    shards: 2,
    messageBytesMax: DIGEST_BYTES_MAX,
    replication: { mode: 'active', factor: 3 },
  };
  await withCluster(t, config, async (cluster) => {
    const warns = warnsOf(cluster);
    await cluster.client({ region: 'r1' }).put('k', 1);
    await cluster.sleep(3_000);
    const states = (): Record<string, number> => {
      const by: Record<string, number> = {};
      for (const m of cluster.members()) by[m.state] = (by[m.state] ?? 0) + 1;
      return by;
    };
    t.deepEqual(states(), { up: SERVERS }, `seed ${DIGEST_SEED}: every server up in the balancer's view`);
    const paused = 'r1/57';
    await cluster.pause(paused);
    await cluster.sleep(5_000);
    t.deepEqual(
      cluster
        .members()
        .filter((m) => m.state !== 'up')
        .map((m) => `${m.id} ${m.state}`),
      [`${paused} down`],
      `seed ${DIGEST_SEED}: the paused server held down, the others up`,
    );
    t.is(cluster.stats().dropped['too-large'] ?? 0, 0, 'no message was over messageBytesMax');
    t.deepEqual(warns, [], 'no warning');
  });
});

test('digestParts: whole when it fits; else parts of one seq that each fit, numbered from 0, every member once in order', (t) => {
  const members = Array.from({ length: SERVERS }, (_, i) => ({
    id: `r1/${i}`,
    state: 'suspect' as const,
    load: { inflight: 2 ** 40, mailbox: i, latencyEwmaMs: 0.1 * i, busyMs: 1e6 + 0.5, requests: 2 ** 33 },
  }));
  const digest = { type: 'digest' as const, region: 'r1', seq: 2 ** 32 + 1, incarnation: 'abcdefghijkl', version: 77, members };
  const params = { region: 'r1', servers: members.map((m) => m.id), regions: ['r1', 'region-two'], heartbeat: {} };
  t.deepEqual(digestParts(params, digest), [digest], 'no messageBytesMax: whole');
  t.deepEqual(digestParts({ ...params, messageBytesMax: 1_000_000 }, digest), [digest], 'room enough: whole');
  const packr = createPackr();
  const parts = digestParts({ ...params, messageBytesMax: 1_024 }, digest);
  t.true(parts.length > 1, `${parts.length} parts`);
  for (const part of parts)
    for (const r of params.regions)
      t.true(packr.pack({ to: `balancer/${r}`, from: 'r1', msg: part }).byteLength <= 1_024, `part ${part.part} to balancer/${r}`);
  t.deepEqual(
    parts.map((p) => p.part),
    parts.map((_, i) => i),
  );
  t.true(parts.every((p) => p.seq === digest.seq && p.version === digest.version));
  t.deepEqual(
    parts.flatMap((p) => p.members),
    members,
  );
});

// A participant's replies ----------------------------------------------------------------

const REPLY_SEED = 7400;
/** Each transaction reads two values of 1,500 bytes (3 KB with its vote); eight of one log entry, 24 KB together. */
const READ_CHARS = 1_500;
const READERS = 8;

test('sim: the votes of a burst of transactions for one shard, each with its reads under messageBytesMax, together over it, go in wires that fit; one over it alone is refused at once, unsent', async (t) => {
  t.log(`seed ${REPLY_SEED}`);
  const config: ClusterConfig = {
    regions: [{ name: 'r1', servers: 3 }],
    transport: 'sim',
    seed: REPLY_SEED,
    shards: 1,
    messageBytesMax: MESSAGE_BYTES_MAX,
    replication: { mode: 'active', factor: 3 },
    requestTimeoutMs: 3_000,
  };
  await withCluster(t, config, async (cluster) => {
    const warns = warnsOf(cluster);
    const clients = Array.from({ length: READERS + 1 }, () => cluster.client({ region: 'r1' }));
    const valueAt = (k: number): string => `${k}:`.padEnd(READ_CHARS, 'r');
    for (let k = 0; k < 2 * READERS + 12; k++) await clients[0]!.put(`v${k}`, valueAt(k));
    for (let burst = 0; burst < 2; burst++) {
      const results = await Promise.allSettled([
        ...clients.slice(0, READERS).map((c, i) =>
          c.transaction([
            { op: 'get', key: `v${2 * i}` },
            { op: 'get', key: `v${2 * i + 1}` },
            { op: 'put', key: `w${burst}.${i}`, value: i },
          ]),
        ),
        // Twelve values of 1,500 bytes: 18 KB read, over messageBytesMax alone.
        clients[READERS]!.transaction(Array.from({ length: 12 }, (_, j) => ({ op: 'get' as const, key: `v${2 * READERS + j}` }))),
      ]);
      // Each read as the first characters of its value (`k:rr`), or whether it is not the value put.
      const outcomes = results.map((r, i) =>
        r.status === 'rejected'
          ? `error: ${(r.reason as Error).message}`
          : JSON.stringify(
              (r.value as unknown[]).map((v, j) =>
                typeof v !== 'string' ? v : v === valueAt(2 * i + j) ? v.slice(0, v.indexOf(':') + 3) : 'not the value put',
              ),
            ),
      );
      t.deepEqual(
        outcomes.slice(0, READERS),
        Array.from({ length: READERS }, (_, i) => JSON.stringify([`${2 * i}:rr`, `${2 * i + 1}:rr`, null])),
        `seed ${REPLY_SEED}: burst ${burst}, every transaction commits with what it read`,
      );
      t.regex(
        outcomes[READERS]!,
        /^error: .*over messageBytesMax.*only read/,
        `seed ${REPLY_SEED}: burst ${burst}, the one reading 18 KB is refused: ${outcomes[READERS]!.slice(0, 200)}`,
      );
    }
    t.is(cluster.stats().dropped['too-large'] ?? 0, 0, 'no message was over messageBytesMax');
    t.deepEqual(warns, [], 'no warning');
  });
});

// A region's down-members notice ------------------------------------------------------------

const DOWN_SEED = 7500;
/** Server ids of 26 characters or so: 40 of them held down are about 1.1 KB, over 1,024 in one notice. */
const LONG_REGION = 'region-with-a-long-name';
const DOWN_SERVERS = 60;
const PAUSED = 40;

test('sim: a region holding 40 servers down at messageBytesMax 1,024 tells its servers in parts: each of the others holds every one down', async (t) => {
  t.log(`seed ${DOWN_SEED}`);
  const config: ClusterConfig = {
    regions: [{ name: LONG_REGION, servers: DOWN_SERVERS }],
    transport: 'sim',
    seed: DOWN_SEED,
    shards: 2,
    messageBytesMax: DIGEST_BYTES_MAX,
    replication: { mode: 'active', factor: 3 },
  };
  await withCluster(t, config, async (cluster) => {
    const warns = warnsOf(cluster);
    await cluster.sleep(2_000);
    const paused = Array.from({ length: PAUSED }, (_, i) => `${LONG_REGION}/${DOWN_SERVERS - PAUSED + i}`);
    for (const server of paused) await cluster.pause(server);
    await cluster.sleep(5_000);
    t.deepEqual(
      cluster
        .members()
        .filter((m) => m.state === 'down')
        .map((m) => m.id),
      paused,
      `seed ${DOWN_SEED}: the region holds the paused servers down`,
    );
    for (const server of [`${LONG_REGION}/0`, `${LONG_REGION}/${DOWN_SERVERS - PAUSED - 1}`]) {
      const summary = (await cluster.inspect(server)) as { state: { memberDown: Record<string, number> } };
      const held = Object.entries(summary.state.memberDown)
        .filter(([, until]) => until > cluster.now())
        .map(([node]) => node)
        .sort((a, b) => Number(a.split('/')[1]) - Number(b.split('/')[1]));
      t.deepEqual(held, paused, `seed ${DOWN_SEED}: ${server} holds every paused server down on its region's word`);
    }
    t.is(cluster.stats().dropped['too-large'] ?? 0, 0, 'no message was over messageBytesMax');
    t.deepEqual(warns, [], 'no warning');
  });
});

test('newPart: the first part of a seq to come is new, each other part more, a part twice a copy; an older seq is stale, a whole message ends the parts', (t) => {
  const lives = new Map<string, Lives>();
  const taken = new Map<string, PartsTaken>();
  const fate = (seq: number, part?: number): string => String(newPart(lives, taken, 'r1', 'life-a', seq, part));
  t.deepEqual([fate(1, 1), fate(1, 0), fate(1, 2), fate(1, 0)], ['new', 'more', 'more', 'copy'], 'seq 1 in parts, reordered, one twice');
  t.deepEqual([fate(2), fate(1, 3), fate(2, 0)], ['new', 'undefined', 'undefined'], 'seq 2 whole: a late part of seq 1 is stale, and seq 2 takes no part');
  t.false(taken.has('r1'), 'no parts held after a whole message');
  t.deepEqual([fate(3, 0), fate(4, 1), fate(3, 1)], ['new', 'new', 'undefined'], 'seq 4 overtakes seq 3: its late part is stale');
});
