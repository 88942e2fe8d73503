/**
 * A Multi-Paxos slot cut by bytes as well as by count. The leader put up to `batch` queued
 * commands in one slot whatever their size: with large values, many puts at once made an
 * accept over messageBytesMax (40 puts of 60 KB: 1.6 MB at the default 1 MiB), which the host
 * dropped, and most of those puts timed out. A slot now holds at most twice the snapshot piece
 * size (half of messageBytesMax) of commands, at least one. First the core: every accept it
 * sends is within that, and small commands are still cut by count alone. Then clusters in the
 * simulator: many large puts at once all succeed, and every replica holds them. Several such
 * accepts to one peer in one step, each under messageBytesMax and together over it, went in one
 * wire, which the host refused (a warning) and the server sent again one by one; a step's wire
 * to a peer is now cut by size (PaxosOut), so nothing is refused.
 */
import test from 'ava';
import { withCluster, type ClusterConfig } from '../src/index.js';
import type { Cluster } from '../src/cluster/cluster.js';
import type { ServerState } from '../src/cluster/server.js';
import { groupOf, learnersOf, topologyOf } from '../src/cluster/topology.js';
import { createPackr } from '../src/core/codec.js';
import { Prng } from '../src/core/prng.js';
import { MultiPaxos, paxosMessageBytes, type MultiPaxosMessage } from '../src/protocols/multipaxos.js';
import { commandBytes, encodedBytes, entryBytes, numberBytes, slotBytes } from '../src/protocols/snapshot-pieces.js';

// The core -------------------------------------------------------------------------------

const PEERS = ['a', 'b', 'c'];

/** A leader core ('a') of three, its election done. */
function leaderCore(snapshotPieceBytes: number | undefined, maxBatch: number): MultiPaxos {
  const core = new MultiPaxos({
    self: 'a',
    peers: PEERS,
    electionTicks: 10,
    heartbeatTicks: 2,
    maxBatch,
    maxInflight: 1_000,
    ...(snapshotPieceBytes === undefined ? {} : { snapshotPieceBytes }),
  });
  core.campaign();
  core.ready();
  core.step('b', { type: 'promise', ballot: core.status().ballot, slots: [], snapshot: null });
  core.ready();
  if (!core.isLeader()) throw new Error('no leader');
  return core;
}

/** The commands of the accepts the core sends to 'b' in one ready round, slot by slot. */
function acceptsToB(core: MultiPaxos): unknown[][] {
  const out: unknown[][] = [];
  for (const { to, msg } of core.ready().messages as Array<{ to: string; msg: MultiPaxosMessage }>) {
    if (to === 'b' && msg.type === 'accept') out.push(msg.commands);
  }
  return out;
}

const packr = createPackr();
const bytesOf = (commands: unknown[]): number => commands.reduce<number>((sum, c) => sum + packr.pack(c).byteLength, 0);

test('the core: the commands of a slot add up to at most twice snapshotPieceBytes encoded, at least one a slot, in order (seeded sizes)', (t) => {
  const seed = 5610;
  t.log(`seed ${seed}`);
  const prng = new Prng(seed);
  const pieceBytes = 4096;
  const core = leaderCore(pieceBytes, 64);
  const proposed: string[] = [];
  for (let i = 0; i < 300; i++) {
    // From a few bytes to over the slot's share alone (a command always goes, alone if need be).
    const size = prng.int(4) === 0 ? 2 * pieceBytes + prng.int(pieceBytes) : 1 + prng.int(3 * pieceBytes);
    const command = `${i}:`.padEnd(size, 'x');
    proposed.push(command);
    t.true(core.propose(command));
  }
  const slots = acceptsToB(core);
  t.deepEqual(slots.flat(), proposed, 'every command, once, in order');
  for (const commands of slots) {
    t.true(commands.length >= 1 && commands.length <= 64);
    if (commands.length > 1) t.true(bytesOf(commands) <= 2 * pieceBytes, `a slot of ${commands.length} commands is ${bytesOf(commands)} bytes`);
  }
  t.true(
    slots.some((c) => c.length > 1),
    'commands that fit together share a slot',
  );
});

test('the core: small commands are cut by count alone, as without a byte bound', (t) => {
  const cut = (pieceBytes: number | undefined): number[] => {
    const core = leaderCore(pieceBytes, 8);
    for (let i = 0; i < 100; i++) core.propose({ k: 'put', key: `k${i}`, value: i });
    return acceptsToB(core).map((c) => c.length);
  };
  t.deepEqual(cut(4096), cut(undefined));
  t.deepEqual(cut(undefined), [...Array<number>(12).fill(8), 4]);
});

// The sizes kept beside commands --------------------------------------------------------

/** A command as a group proposes them (shared record shapes only), of seeded size and content. */
function commandOf(prng: Prng, i: number): unknown {
  const value = prng.int(3) === 0 ? prng.int(1 << 20) : prng.int(2) === 0 ? 'v'.repeat(prng.int(400)) : [i, `x${i}`, { key: `k${i}`, value: i }];
  return prng.int(2) === 0
    ? { k: 'op', id: `c${i}`, body: { op: 'put', key: `k${i}`, value } }
    : { k: 'effect', id: `e${i}`, writes: [{ key: `k${i}`, value }], result: null, term: prng.int(300), seq: i };
}

test('the sizes kept: a slot, a learner entry and a number add up from the sizes of their commands to what they encode to (seeded)', (t) => {
  const seed = 5620;
  t.log(`seed ${seed}`);
  const prng = new Prng(seed);
  for (const n of [0, 1, 0x3f, 0x40, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 2 ** 32, -1, -200, 1.5, 2 ** 53]) t.is(numberBytes(n), encodedBytes(n), `${n}`);
  for (let round = 0; round < 200; round++) {
    const commands = Array.from({ length: prng.int(40) }, (_, i) => commandOf(prng, i));
    for (const c of commands) t.is(commandBytes(c), packr.pack(c).byteLength);
    const index = prng.int(3) === 0 ? prng.int(1 << 30) : prng.int(300);
    const slot = { index, ballot: { round: prng.int(1000), id: `r${prng.int(9)}/${prng.int(9)}` }, commands, chosen: true };
    t.is(slotBytes(slot), packr.pack(slot).byteLength, `a slot of ${commands.length} commands`);
    for (const c of commands) t.is(entryBytes([index, c]), packr.pack([index, c]).byteLength);
  }
  // Commands of a record shape of their own: a slot writes its definition once, each command's size holds it.
  const own = Array.from({ length: 5 }, (_, i) => ({ k: 'prepare', txn: `t${i}`, ops: [{ op: 'put', key: `k${i}`, value: i }] }));
  const slot = { index: 7, ballot: { round: 1, id: 'a' }, commands: own, chosen: true };
  t.true(slotBytes(slot) > packr.pack(slot).byteLength, 'more than the encoding, never less');
  t.is(encodedBytes(2n ** 70n), Number.POSITIVE_INFINITY, 'what cannot be encoded has no size that fits');
});

test('paxosMessageBytes: at least what each message encodes to (seeded)', (t) => {
  const seed = 5621;
  t.log(`seed ${seed}`);
  const prng = new Prng(seed);
  const ballot = (): { round: number; id: string } => ({ round: prng.int(1 << 20), id: `r${prng.int(9)}/${'é'.repeat(prng.int(5))}${prng.int(99)}` });
  const commands = (): unknown[] => Array.from({ length: prng.int(20) }, (_, i) => commandOf(prng, i));
  const slots = (): Array<{ index: number; ballot: { round: number; id: string }; commands: unknown[]; chosen: boolean }> =>
    Array.from({ length: prng.int(5) }, () => ({ index: prng.int(1 << 24), ballot: ballot(), commands: commands(), chosen: prng.int(2) === 0 }));
  for (let round = 0; round < 200; round++) {
    const messages: MultiPaxosMessage[] = [
      { type: 'prepare', ballot: ballot(), fromIndex: prng.int(1 << 20) },
      { type: 'promise', ballot: ballot(), slots: slots(), snapshot: prng.int(2) === 0 ? null : { index: 3, data: commands() } },
      { type: 'pre-prepare', ballot: ballot() },
      { type: 'pre-promise', ballot: ballot(), granted: true, promised: ballot() },
      { type: 'accept', ballot: ballot(), index: prng.int(1 << 24), commands: commands(), commitIndex: prng.int(1 << 24) },
      { type: 'accepted', ballot: ballot(), index: prng.int(1 << 24) },
      { type: 'nack', ballot: ballot(), promised: ballot() },
      { type: 'commit', ballot: ballot(), commitIndex: prng.int(1 << 24) },
      { type: 'heartbeat', ballot: ballot(), commitIndex: prng.int(1 << 24), read: prng.int(1 << 30) },
      { type: 'heartbeat-ack', ballot: ballot(), commitIndex: prng.int(1 << 24), read: prng.int(1 << 30) },
      { type: 'catchup', ballot: ballot(), fromIndex: prng.int(1 << 24), piece: { index: prng.int(1 << 24), hash: 0xffffffff, next: prng.int(99) } },
      { type: 'entries', ballot: ballot(), slots: slots(), commitIndex: prng.int(1 << 24) },
      { type: 'snapshot', ballot: ballot(), snapshot: { index: prng.int(1 << 24), data: commands() }, commitIndex: prng.int(1 << 24) },
      {
        type: 'snapshot-piece',
        ballot: ballot(),
        index: 1,
        hash: 0xffffffff,
        size: 100,
        of: 2,
        at: 1,
        until: 2,
        text: 'x'.repeat(prng.int(100)),
        commitIndex: 1,
      },
    ];
    for (const msg of messages) t.true(paxosMessageBytes(msg) >= packr.pack(msg).byteLength, msg.type);
  }
});

// The cluster ----------------------------------------------------------------------------

function serverState(cluster: Cluster, id: string): ServerState {
  const state = cluster.internals.runtime.host.cell(id)?.peekState() as ServerState | undefined;
  if (state === undefined) throw new Error(`no state for ${id}`);
  return state;
}

/** The shard's data at `id`: a replica's state machine, or a learner's. */
function dataAt(cluster: Cluster, id: string): Map<string, unknown> {
  const state = serverState(cluster, id);
  return (state.groups.get(0)?.sm ?? state.learners.get(0)!.sm).data;
}

async function waitFor(cluster: Cluster, what: string, done: () => boolean, ms = 20_000): Promise<void> {
  for (let waited = 0; !done(); waited += 100) {
    if (waited >= ms) throw new Error(`${what}: not within ${ms} ms`);
    await cluster.sleep(100);
  }
}

const SEED = 5611;

for (const { mode, messageBytesMax, valueChars, puts } of [
  // Values near a quarter of messageBytesMax, on a small one.
  { mode: 'active', messageBytesMax: 64 * 1024, valueChars: 15_000, puts: 40 },
  { mode: 'passive', messageBytesMax: 64 * 1024, valueChars: 15_000, puts: 40 },
  { mode: 'hybrid', messageBytesMax: 64 * 1024, valueChars: 15_000, puts: 40 },
  // Values near the value limit (64 KiB), at the default messageBytesMax: the case reported.
  { mode: 'active', messageBytesMax: undefined, valueChars: 60_000, puts: 40 },
] as const) {
  const size = messageBytesMax === undefined ? 'the default messageBytesMax' : `messageBytesMax ${messageBytesMax}`;
  test(`${mode}, ${size}: ${puts} puts of ${valueChars} bytes at once all succeed, and every replica holds them`, async (t) => {
    t.log(`seed ${SEED}`);
    const config: ClusterConfig = {
      regions:
        mode === 'hybrid'
          ? [
              { name: 'r1', servers: 3 },
              { name: 'r2', servers: 1 },
            ]
          : [{ name: 'r1', servers: 3 }],
      transport: 'sim',
      seed: SEED,
      network: mode === 'hybrid' ? { latencyMs: { 'r1~r2': 10 } } : {},
      replication: { mode, factor: 3 },
      shards: 1,
      ...(messageBytesMax === undefined ? {} : { messageBytesMax }),
    };
    await withCluster(t, config, async (cluster) => {
      const warns: string[] = [];
      cluster.on('warn', (e: { address: string; message: string }) => warns.push(`${e.address}: ${e.message}`));
      const valueOf = (i: number): string => `${i}:`.padEnd(valueChars, String.fromCharCode(97 + (i % 26)));
      // Once a leader is elected (puts before it would wait for one, not for this).
      await cluster.client({ region: 'r1' }).put('warm', 1);
      const clients = Array.from({ length: 4 }, () => cluster.client({ region: 'r1' }));
      const results = await Promise.allSettled(Array.from({ length: puts }, (_, i) => clients[i % clients.length]!.put(`k${i}`, valueOf(i))));
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`k${i}: ${String(r.reason)}`] : []));
      t.deepEqual(failed, [], 'every put succeeded');
      // Each accept fits, and so does each wire: several to one peer in one step go in as
      // many wires as they need.
      const stats = cluster.stats();
      t.is(stats.dropped['too-large'] ?? 0, 0, 'no wire was over messageBytesMax');
      t.deepEqual(warns, [], 'no warning');
      const copies = [...groupOf(0, topologyOf(cluster.config)), ...learnersOf(0, topologyOf(cluster.config))];
      const holdsAll = (id: string): boolean => {
        const data = dataAt(cluster, id);
        for (let i = 0; i < puts; i++) if (data.get(`k${i}`) !== valueOf(i)) return false;
        return true;
      };
      await waitFor(cluster, 'every copy holding every value', () => copies.every(holdsAll));
      for (const id of copies) t.true(holdsAll(id), `${id} holds every value`);
      const reader = cluster.client({ region: 'r1' });
      for (let i = 0; i < puts; i++) t.is(await reader.get(`k${i}`), valueOf(i), `k${i} reads back`);
      t.log(`${copies.length} copies hold all ${puts} values; ${stats.types['pxs'] ?? 0} wires of several Paxos messages`);
    });
  });
}
