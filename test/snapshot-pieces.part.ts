/**
 * Snapshots larger than a message, sent in pieces (src/protocols/snapshot-pieces.ts). A lagging
 * replica or learner catches up on a shard by a snapshot; one whose encoding was over
 * messageBytesMax went as one message, which the host dropped (a warn said so), and the copy
 * stayed behind for good. First the pieces at the level of the protocols: the assembly never
 * hands back a partial or mixed snapshot, and Multi-Paxos cores and the learner feed catch up
 * through pieces under loss, duplication, reordering and crashes. Then clusters in the
 * simulator: a shard grows to several times messageBytesMax (a small one, so the runs are
 * short) while a copy is down or cut off; it must catch up and serve the data, on a fair
 * network and on one that loses, duplicates and reorders messages.
 */
import test from 'ava';
import { withCluster, type ClusterConfig } from '../src/index.js';
import type { Cluster } from '../src/cluster/cluster.js';
import { validateConfig } from '../src/cluster/config.js';
import { planCluster } from '../src/cluster/plan.js';
import { serverBehavior, type ServerParams, type ServerState } from '../src/cluster/server.js';
import { validateBalancerConfig, validateHeartbeatConfig } from '../src/cluster/validate-parts.js';
import { recordingContext } from './helpers/fake-context.js';
import { groupOf, learnersOf, topologyOf } from '../src/cluster/topology.js';
import { createPackr } from '../src/core/codec.js';
import { Prng } from '../src/core/prng.js';
import { decodePieces, PieceAssembly, piecesOf, type Piece } from '../src/protocols/snapshot-pieces.js';
import { LEARN_PIECES_KEPT_TICKS, LearnerFeed, LearnerReplica } from '../src/replication/learner.js';
import type { LearnMessage } from '../src/replication/messages.js';
import { KvStateMachine, type Command } from '../src/replication/state-machine.js';
import { chaos, Cluster as CoreCluster, ELECTION, range } from './helpers/multipaxos-cluster.js';

// The assembly ---------------------------------------------------------------------------

/** A snapshot big enough for many pieces of `pieceChars`. */
function bigData(tag: string, n = 200): unknown {
  return { tag, rows: Array.from({ length: n }, (_, i) => [`key${i}`, `${tag}-${i}`.repeat(5)]) };
}

test('the assembly: pieces lost, duplicated and reordered, mixed with pieces of an older snapshot and of another encoding of the same index, never give back a partial or mixed snapshot', (t) => {
  const seed = 5602;
  t.log(`seed ${seed}`);
  const prng = new Prng(seed);
  let completed = 0;
  for (let round = 0; round < 200; round++) {
    const pieceChars = 50 + prng.int(200);
    const index = 10 + prng.int(5);
    // Two encodings of the same index (another leader's), and an older snapshot.
    const aData = bigData(`a${round}`);
    const bData = bigData(`b${round}`, 150 + prng.int(100));
    const a = piecesOf(index, aData, pieceChars)!;
    const b = piecesOf(index, bData, pieceChars)!;
    const old = piecesOf(index - 1, bigData(`old${round}`), pieceChars)!;
    const wire: Piece[] = [];
    for (const s of [a, b, old]) for (let at = 0; at < s.of; at++) if (!prng.chance(0.2)) wire.push(s.piece(at));
    for (let i = 0; i < wire.length / 4; i++) wire.push(prng.pick(wire)); // duplicates
    for (let i = wire.length - 1; i > 0; i--) {
      const j = prng.int(i + 1);
      [wire[i], wire[j]] = [wire[j]!, wire[i]!];
    }
    // Then every piece of `a` (its sender sending again what was lost), in any order, some twice.
    const again = Array.from({ length: a.of }, (_, at) => a.piece(at));
    for (let i = 0; i < a.of / 4; i++) again.push(a.piece(prng.int(a.of)));
    for (let i = again.length - 1; i > 0; i--) {
      const j = prng.int(i + 1);
      [again[i], again[j]] = [again[j]!, again[i]!];
    }
    wire.push(...again);
    const assembly = new PieceAssembly();
    let whole = 0;
    for (const piece of wire) {
      const text = assembly.add(piece);
      if (text === undefined) continue;
      completed++;
      const data = decodePieces(text)!.data as { tag: string; rows: unknown[] };
      t.true(data.tag === `a${round}` || data.tag === `b${round}`, `round ${round}: a whole snapshot of index ${index}, not the older one`);
      t.deepEqual(data, data.tag === `a${round}` ? aData : bData, `round ${round}: exactly one encoding, whole`);
      whole++;
    }
    t.true(whole >= 1, `round ${round}: once every piece of one snapshot came, it is whole`);
  }
  t.true(completed >= 200, `snapshots completed: ${completed} in 200 rounds`);
});

test('the assembly: a newer snapshot supersedes an older one partly held; an older piece after it is ignored', (t) => {
  const old = piecesOf(5, bigData('old'), 100)!;
  const newer = piecesOf(9, bigData('new'), 100)!;
  const assembly = new PieceAssembly();
  for (let at = 0; at < old.of - 1; at++) t.is(assembly.add(old.piece(at)), undefined);
  t.is(assembly.header()?.index, 5);
  t.is(assembly.add(newer.piece(0)), undefined);
  t.is(assembly.header()?.index, 9, 'the newer snapshot replaced the partial older one');
  t.is(assembly.next, 1);
  t.is(assembly.add(old.piece(old.of - 1)), undefined, 'the older snapshot last piece does not complete anything');
  let text: string | undefined;
  for (let at = newer.of - 1; at >= 1; at--) text = assembly.add(newer.piece(at)) ?? text;
  t.deepEqual(decodePieces(text!)!.data, bigData('new'));
  t.is(assembly.header(), undefined, 'forgotten once whole');
});

test('the assembly: pieces none of which came for longer than the ageing period are dropped; a piece of the snapshot (a duplicate too) restarts the period', (t) => {
  const s = piecesOf(3, bigData('aged'), 100)!;
  const assembly = new PieceAssembly();
  assembly.age(1_000, 10);
  t.is(assembly.header(), undefined, 'nothing held: nothing to drop');
  assembly.add(s.piece(0));
  assembly.add(s.piece(1));
  assembly.age(8, 10);
  assembly.add(s.piece(1)); // a duplicate: the sender is still at it
  assembly.age(8, 10);
  t.is(assembly.header()?.index, 3, 'kept: a piece came within the period');
  t.is(assembly.next, 2);
  assembly.age(3, 10);
  t.is(assembly.header(), undefined, 'dropped: none came for 11 ticks');
  t.is(assembly.next, 0);
});

test('a snapshot that fits goes whole: no pieces below twice the piece size', (t) => {
  t.is(piecesOf(1, { small: 'x'.repeat(100) }, 100), undefined);
  const big = piecesOf(1, { big: 'x'.repeat(1000) }, 100)!;
  t.true(big.of > 1);
  for (let at = 0; at < big.of; at++) t.true(big.piece(at).text.length <= 100);
});

// Multi-Paxos ----------------------------------------------------------------------------

test('Multi-Paxos cores catch up through snapshots in pieces: messages lost, duplicated and reordered, crashes, leader changes (seeded chaos)', (t) => {
  const first = 5610;
  const seeds = 40;
  t.log(`seeds ${first}..${first + seeds - 1}`);
  let pieces = 0;
  let installs = 0;
  for (let seed = first; seed < first + seeds; seed++) {
    // Pieces of 16 bytes: every snapshot past the first few commands goes in pieces.
    const r = chaos(seed, 3_000, false, false, { snapshotPieceBytes: 16 });
    t.deepEqual(r.violations, [], `seed ${seed}`);
    pieces += r.piecesSent ?? 0;
    installs += r.snapshotInstalls ?? 0;
  }
  t.true(pieces > 0 && installs > 0, `snapshot pieces sent: ${pieces}; snapshots installed: ${installs}`);
});

test('an acceptor whose snapshot goes in pieces does not promise a candidate behind it: a lagging replica that hears nobody deposes no leader', (t) => {
  // Pieces of 16 bytes and a snapshot every 4 slots: r1 and r2 compact past r3 into snapshots
  // too large for a promise. Before, r1 and r2 promised r3's ballot anyway (r1 stepped down)
  // and answered a promise r3 could not count: every campaign of r3 left the group leaderless.
  const c = new CoreCluster(3, { seed: 5630, snapshotEvery: 4, snapshotPieceBytes: 16 });
  c.elect('r1');
  c.net.crash('r3');
  for (const command of range('a', 40)) {
    c.propose('r1', command);
    c.net.stabilize();
  }
  t.true(c.core('r2').status().snapshotIndex >= 36, `r2 compacted past r3 (snapshot at ${c.core('r2').status().snapshotIndex})`);
  c.net.restart('r3');
  c.net.cutInto('r3'); // r3 hears nobody; what it sends arrives
  const ballot = c.core('r1').status().ballot;
  const promised = c.core('r2').promisedBallot();
  let campaigns = 0;
  let leaderless = 0;
  for (let i = 0; i < 20 * ELECTION; i++) {
    const round = c.core('r3').status().ballot.round;
    c.net.run(1);
    if (c.core('r3').status().ballot.round > round) campaigns++;
    if (!c.core('r1').isLeader()) leaderless++;
    else c.propose('r1', `b${i}`);
  }
  c.net.stabilize();
  t.true(campaigns >= 5, `r3 campaigned ${campaigns} times`);
  t.is(leaderless, 0, `r1 led throughout (not for ${leaderless} of ${20 * ELECTION} ticks)`);
  t.deepEqual(c.core('r1').status().ballot, ballot, 'r1 leads at the ballot it was elected at');
  t.deepEqual(c.core('r2').promisedBallot(), promised, 'r2 promised nothing to r3');
  t.is(c.state('r2').length, 40 + 20 * ELECTION, 'every command was applied');
  // Healed: r3, whose ballot is now the highest, deposes r1 once; r1 or r2 is elected (r3,
  // behind both, cannot be) and r3 catches up through pieces.
  c.net.heal();
  c.net.run(10 * ELECTION);
  const [leader] = c.leaders();
  t.true(leader === 'r1' || leader === 'r2', `${String(leader)} leads`);
  c.propose(leader!, 'last');
  c.net.run(4 * ELECTION);
  t.deepEqual(c.violations, []);
  for (const id of c.ids) t.deepEqual(c.state(id), c.state('r1'), `${id} applied what r1 did`);
  t.true(c.state('r3').includes('last'));
});

// The learner feed -----------------------------------------------------------------------

test('a learner catches up through snapshots in pieces: learns and acks lost, duplicated and reordered, the learner restarting (seeded)', (t) => {
  const first = 5620;
  const seeds = 30;
  t.log(`seeds ${first}..${first + seeds - 1}`);
  let pieceMessages = 0;
  for (let seed = first; seed < first + seeds; seed++) {
    const prng = new Prng(seed);
    const leader = new KvStateMachine();
    const feed = new LearnerFeed(['l'], 256);
    let learner = new LearnerReplica();
    // What the leader's state was at each applied count (its digest): a learner's state is always one of them.
    const states = new Map<number, number>([[0, leader.digest]]);
    type InFlight = { toLearner: true; msg: LearnMessage } | { toLearner: false; msg: Extract<LearnMessage, { type: 'learn-ack' }> };
    let queue: InFlight[] = [];
    let n = 0;
    const bad: string[] = [];
    const step = (fair: boolean): void => {
      if (!fair && prng.chance(0.3)) {
        for (let i = 0, k = 1 + prng.int(100); i < k; i++) {
          const command: Command = { k: 'op', id: `c${n}`, body: { op: 'put', key: `k${n % 50}`, value: `v${n}`.repeat(8) } };
          n++;
          leader.apply(command);
          feed.record(leader.applied, command);
          states.set(leader.applied, leader.digest);
        }
      }
      if (!fair && prng.chance(0.01)) learner = new LearnerReplica(); // restarted: it keeps no log
      for (const m of feed.tick(0, leader.applied, leader)) queue.push({ toLearner: true, msg: m.msg });
      // Deliver some messages, in any order; lose or duplicate some.
      const next: InFlight[] = [];
      for (const m of queue) {
        if (!fair && prng.chance(0.3)) {
          next.push(m);
          continue;
        }
        if (!fair && prng.chance(0.15)) continue;
        if (!fair && prng.chance(0.05)) next.push(m);
        if (m.toLearner) {
          let ack: Extract<LearnMessage, { type: 'learn-ack' }>;
          if (m.msg.type === 'learn') ack = { type: 'learn-ack', s: 0, applied: learner.receive(m.msg) };
          else if (m.msg.type === 'learn-piece') {
            pieceMessages++;
            const { applied, piece } = learner.receivePiece(m.msg);
            ack = piece === undefined ? { type: 'learn-ack', s: 0, applied } : { type: 'learn-ack', s: 0, applied, piece };
          } else continue;
          if (states.get(learner.sm.applied) !== learner.sm.digest)
            bad.push(`seed ${seed}: the learner's state at ${learner.sm.applied} is not the leader's then`);
          next.push({ toLearner: false, msg: ack });
        } else feed.ack('l', m.msg.applied, m.msg.piece);
      }
      queue = next;
      if (!fair)
        for (let i = queue.length - 1; i > 0; i--) {
          const j = prng.int(i + 1);
          [queue[i], queue[j]] = [queue[j]!, queue[i]!];
        }
    };
    for (let i = 0; i < 600; i++) step(false);
    for (let i = 0; i < 2_000 && learner.sm.applied < leader.applied; i++) step(true);
    t.deepEqual(bad, []);
    t.is(learner.sm.applied, leader.applied, `seed ${seed}: the learner caught up`);
    t.deepEqual(learner.sm.snapshot().data, leader.snapshot().data, `seed ${seed}: the learner holds the leader's data`);
  }
  t.true(pieceMessages > 0, `pieces delivered: ${pieceMessages}`);
});

test('a learner drops the pieces of a snapshot that never completes (its sender died or moved on) once none came for LEARN_PIECES_KEPT_TICKS; pieces that keep coming are kept', (t) => {
  // r2/0, the learner of the hybrid cluster's shard 0, driven through its tick timer. Before,
  // the pieces held stayed in memory for good: the ack after the wait still named them.
  const self = 'r2/0';
  const config = validateConfig(
    {
      regions: [
        { name: 'r1', servers: 3 },
        { name: 'r2', servers: 1 },
      ],
      replication: { mode: 'hybrid', factor: 3 },
      shards: 1,
      transport: 'sim',
      seed: 1,
    },
    { balancer: validateBalancerConfig, heartbeat: validateHeartbeatConfig, cores: 1, randomSeed: () => 1 },
  );
  const params = planCluster(config)
    .plans.flatMap((p) => p.specs)
    .find((spec) => spec.address === self)!.params as ServerParams;
  const { ctx, sent, timers, world } = recordingContext<LearnMessage>(self, { now: 1_000, sender: 'r1/0' }, { incarnation: 'test', nextId: () => 'id' });
  const state: ServerState = serverBehavior.init(ctx, params, []);
  t.true(state.learners.has(0), `${self} is a learner of shard 0`);
  const tickMs = params.replication.tickMs;
  /** `ticks` ticks pass: the tick timer fires when it is set for (the next message counts the ticks after it). */
  const wait = (ticks: number): void => {
    const until = world.now + ticks * tickMs;
    while (timers.get('tick')! <= until) {
      world.now = timers.get('tick')!;
      serverBehavior.receive(state, { type: 'timer', key: 'tick' } as never, ctx);
    }
    world.now = until;
  };
  const pieces = piecesOf(7, bigData('lost'), 64)!;
  /** Delivers piece `at`; returns what the learner acknowledged holding. */
  const deliver = (at: number): number | undefined => {
    sent.length = 0;
    serverBehavior.receive(state, { ...pieces.piece(at), type: 'learn-piece', s: 0 } as never, ctx);
    const ack = sent.find((m) => m.msg.type === 'learn-ack')!.msg as Extract<LearnMessage, { type: 'learn-ack' }>;
    return ack.piece?.next;
  };
  t.is(deliver(0), 1);
  t.is(deliver(1), 2);
  // Pieces that keep coming, however slowly, are kept.
  for (let at = 2; at < 6; at++) {
    wait(LEARN_PIECES_KEPT_TICKS - 10);
    t.is(deliver(at), at + 1, `piece ${at}: the pieces before it are still held`);
  }
  // None for longer: dropped. The next piece of the snapshot starts it over.
  wait(LEARN_PIECES_KEPT_TICKS + 2);
  t.is(deliver(7), 0, 'the pieces held before were dropped: the learner holds piece 7 only');
});

// A server's wire of several Paxos messages over messageBytesMax -------------------------

test('a batch of Paxos messages to one peer that together are over messageBytesMax (a whole snapshot with others) goes again one by one', (t) => {
  const self = 'r1/0';
  const { ctx, sent } = recordingContext<unknown>(self, { now: 1_000, sender: 'r1/1' }, { incarnation: 'test', nextId: () => 'id' });
  const config = validateConfig(
    { regions: [{ name: 'r1', servers: 3 }], replication: { mode: 'active', factor: 3 }, shards: 2, transport: 'sim', seed: 1, messageBytesMax: 4096 },
    { balancer: validateBalancerConfig, heartbeat: validateHeartbeatConfig, cores: 2, randomSeed: () => 1 },
  );
  const params = planCluster(config)
    .plans.flatMap((p) => p.specs)
    .find((spec) => spec.address === self)!.params as ServerParams;
  const state: ServerState = serverBehavior.init(ctx, params, []);
  sent.length = 0;
  const ballot = { round: 1, id: self };
  const snapshot = { type: 'snapshot', ballot, snapshot: { index: 9, data: 'x'.repeat(1500) }, commitIndex: 9 };
  const heartbeat = { type: 'heartbeat', ballot, commitIndex: 9 };
  const original = { type: 'pxs', s: [0, 1, 1], m: [snapshot, snapshot, heartbeat] };
  serverBehavior.receive(state, { type: 'undeliverable', to: 'r1/1', reason: 'too-large', original, bytes: 4700, max: 4096 } as never, ctx);
  t.deepEqual(sent, [
    { to: 'r1/1', msg: { type: 'px', s: 0, m: snapshot } },
    { to: 'r1/1', msg: { type: 'px', s: 1, m: snapshot } },
    { to: 'r1/1', msg: { type: 'px', s: 1, m: heartbeat } },
  ]);
});

// The cluster ----------------------------------------------------------------------------

// 8 KiB (was 16) and half the keys (was 300): the same several times messageBytesMax, for half
// the writes.
const MESSAGE_BYTES_MAX = 8 * 1024;
/** Keys written while the copy is behind, and the size of each value: about 7 times MESSAGE_BYTES_MAX. */
const KEYS = 150;
const VALUE_CHARS = 300;

function config(mode: 'active' | 'passive' | 'hybrid', seed: number, lossy: boolean): ClusterConfig {
  return {
    // Hybrid: the shard's group in r1, its learner r2/0 (the only server of r2).
    regions:
      mode === 'hybrid'
        ? [
            { name: 'r1', servers: 3 },
            { name: 'r2', servers: 1 },
          ]
        : [{ name: 'r1', servers: 3 }],
    transport: 'sim',
    seed,
    network: {
      ...(mode === 'hybrid' ? { latencyMs: { 'r1~r2': 10 } } : {}),
      ...(lossy ? { jitterMs: 3, loss: 0.05, duplicate: 0.05 } : {}),
    },
    heartbeat: { intervalMs: 50 },
    // Few commands per slot and a snapshot every few slots: the other messages stay small
    // (a slot's accept, the slots after the leader's snapshot), the shard's data does not.
    replication: { mode, factor: 3, snapshotEvery: 4, batch: 2 },
    shards: 1,
    messageBytesMax: MESSAGE_BYTES_MAX,
    requestTimeoutMs: 1_000,
  };
}

function serverState(cluster: Cluster, id: string): ServerState {
  const state = cluster.internals.runtime.host.cell(id)?.peekState() as ServerState | undefined;
  if (state === undefined) throw new Error(`no state for ${id}`);
  return state;
}

function leaderOf(cluster: Cluster): string | undefined {
  return groupOf(0, topologyOf(cluster.config)).find((id) => !cluster.isDown(id) && serverState(cluster, id).groups.get(0)?.isLeader());
}

async function waitFor(cluster: Cluster, what: string, done: () => boolean, ms = 20_000): Promise<void> {
  for (let waited = 0; !done(); waited += 100) {
    if (waited >= ms) throw new Error(`${what}: not within ${ms} ms`);
    await cluster.sleep(100);
  }
}

const valueOf = (i: number): string => `${i}:`.padEnd(VALUE_CHARS, String.fromCharCode(97 + (i % 26)));

/** Every key written (again until it is acknowledged: a lost message leaves it unknown), four at a time. */
async function writeAll(cluster: Cluster): Promise<void> {
  const clients = Array.from({ length: 4 }, () => cluster.client({ region: 'r1' }));
  await Promise.all(
    clients.map(async (client, c) => {
      for (let i = c; i < KEYS; i += clients.length) {
        for (let attempt = 0; ; attempt++) {
          try {
            await client.put(`k${i}`, valueOf(i));
            break;
          } catch (error) {
            if (attempt >= 20) throw error;
          }
        }
      }
    }),
  );
}

/** The shard's state machine at `id` (a replica's, or a learner's), encoded: more than messageBytesMax is the point. */
function encodedBytes(cluster: Cluster, id: string): number {
  const state = serverState(cluster, id);
  const sm = state.groups.get(0)?.sm ?? state.learners.get(0)!.sm;
  return createPackr().pack(sm.snapshot()).byteLength;
}

/** Local reads of every key from a client of `region`: they must find every value. */
async function readAllLocal(cluster: Cluster, region: string): Promise<number> {
  const client = cluster.client({ region });
  let found = 0;
  for (let i = 0; i < KEYS; i++) {
    for (let attempt = 0; ; attempt++) {
      try {
        if ((await client.get(`k${i}`, { consistency: 'local' })) === valueOf(i)) found++;
        break;
      } catch (error) {
        if (attempt >= 20) throw error;
      }
    }
  }
  return found;
}

const SEED = 5601;

for (const { mode, lossy, cut } of [
  { mode: 'active', lossy: false, cut: 'crash' },
  { mode: 'passive', lossy: false, cut: 'partition' },
  { mode: 'active', lossy: true, cut: 'partition' },
  { mode: 'passive', lossy: true, cut: 'crash' },
] as const) {
  test(`${mode}${lossy ? ', 5% of messages lost and 5% duplicated' : ''}: a replica ${cut === 'crash' ? 'down' : 'cut off'} while the shard grows to several times messageBytesMax catches up by a snapshot in pieces and serves the data`, async (t) => {
    await withCluster(t, config(mode, SEED, lossy), async (cluster) => {
      await writeAll(cluster); // a first round: the copy has something to be behind on
      await waitFor(cluster, 'a leader', () => leaderOf(cluster) !== undefined);
      const leader = leaderOf(cluster)!;
      const group = groupOf(0, topologyOf(cluster.config));
      const lagging = group.find((id) => id !== leader)!;
      const other = group.find((id) => id !== leader && id !== lagging)!;
      const before = serverState(cluster, lagging).groups.get(0)!.status().applied;
      if (cut === 'crash') await cluster.crash(lagging);
      else
        await cluster.partition(
          [lagging],
          group.filter((id) => id !== lagging),
        );
      await writeAll(cluster);
      const bytes = encodedBytes(cluster, leader);
      t.true(bytes > 5 * MESSAGE_BYTES_MAX, `the shard encodes to ${bytes} bytes, several times messageBytesMax (${MESSAGE_BYTES_MAX})`);
      if (cut === 'crash') await cluster.restart(lagging);
      else await cluster.heal();
      const caughtUp = (): boolean => {
        const l = leaderOf(cluster);
        if (l === undefined || l === lagging) return false;
        return serverState(cluster, lagging).groups.get(0)!.status().applied >= serverState(cluster, l).groups.get(0)!.status().applied;
      };
      await waitFor(cluster, `${lagging} catching up`, caughtUp);
      const status = serverState(cluster, lagging).groups.get(0)!.status();
      t.true(status.snapshotIndex > before, `${lagging} installed a snapshot past where it stopped (${before}): at ${status.snapshotIndex}`);
      const stats = cluster.stats();
      const pieces = stats.types['px:snapshot-piece'] ?? 0;
      t.true(pieces > 0, `snapshot pieces were sent (${pieces})`);
      t.is(stats.dropped['too-large'] ?? 0, 0, 'no message was over messageBytesMax');
      t.deepEqual(
        serverState(cluster, lagging).groups.get(0)!.sm.snapshot().data,
        serverState(cluster, leaderOf(cluster)!).groups.get(0)!.sm.snapshot().data,
        `${lagging} holds the leader's data`,
      );
      // It serves the data: the only server up, it answers local reads from its copy.
      await cluster.crash(leader);
      await cluster.crash(other);
      t.is(await readAllLocal(cluster, 'r1'), KEYS, `${lagging} answers every key with its value`);
      t.log(`${mode}: ${pieces} pieces sent; ${lagging} caught up from slot ${before} (snapshot at ${status.snapshotIndex}, ${bytes} bytes)`);
    });
  });
}

for (const lossy of [false, true]) {
  test(`hybrid${lossy ? ', 5% of messages lost and 5% duplicated' : ''}: a learner restarted empty while the shard grows to several times messageBytesMax catches up by a snapshot in pieces and serves the data`, async (t) => {
    await withCluster(t, config('hybrid', SEED, lossy), async (cluster) => {
      const [learner] = learnersOf(0, topologyOf(cluster.config));
      await writeAll(cluster);
      await cluster.crash(learner!);
      await writeAll(cluster);
      // The next leader's feed holds none of the commands before its reign: a learner behind
      // them needs a snapshot (with this leader, it would be fed the commands it kept).
      await waitFor(cluster, 'a leader', () => leaderOf(cluster) !== undefined);
      await cluster.crash(leaderOf(cluster)!);
      await waitFor(cluster, 'a new leader', () => leaderOf(cluster) !== undefined);
      const bytes = encodedBytes(cluster, leaderOf(cluster)!);
      t.true(bytes > 5 * MESSAGE_BYTES_MAX, `the shard encodes to ${bytes} bytes, several times messageBytesMax (${MESSAGE_BYTES_MAX})`);
      // A learner keeps no log: restarted, it holds nothing, and needs the whole shard.
      await cluster.restart(learner!);
      const caughtUp = (): boolean => {
        const l = leaderOf(cluster);
        return l !== undefined && serverState(cluster, learner!).learners.get(0)!.sm.applied >= serverState(cluster, l).groups.get(0)!.sm.applied;
      };
      await waitFor(cluster, `${learner} catching up`, caughtUp);
      const stats = cluster.stats();
      const pieces = stats.types['learn-piece'] ?? 0;
      t.true(pieces > 0, `snapshot pieces were sent (${pieces})`);
      t.is(stats.dropped['too-large'] ?? 0, 0, 'no message was over messageBytesMax');
      t.deepEqual(
        serverState(cluster, learner!).learners.get(0)!.sm.snapshot().data,
        serverState(cluster, leaderOf(cluster)!).groups.get(0)!.sm.snapshot().data,
        `${learner} holds the leader's data`,
      );
      // It serves the data: a local read in its region is answered from its copy.
      t.is(await readAllLocal(cluster, 'r2'), KEYS, `${learner} answers every key with its value`);
      t.log(`hybrid: ${pieces} pieces sent; the learner holds ${bytes} bytes`);
    });
  });
}
