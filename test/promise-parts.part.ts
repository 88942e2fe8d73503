/**
 * A promise too large for one message goes in parts (MultiPaxos.promiseParts). An acceptor's
 * promise lists every slot it holds from the candidate's first unchosen one: after a leader
 * proposed many large slots and died before they were chosen (or before the others learned
 * it), that list was over messageBytesMax, the host dropped it (a warn said so) every time it
 * was sent, and the replicas left, a majority hearing each other, could elect none of them.
 */
import test from 'ava';
import { withCluster, type ClusterConfig } from '../src/index.js';
import type { Cluster } from '../src/cluster/cluster.js';
import type { ServerState } from '../src/cluster/server.js';
import { groupOf, topologyOf } from '../src/cluster/topology.js';
import { createPackr } from '../src/core/codec.js';
import { Prng } from '../src/core/prng.js';
import { paxosMessageBytes, type MultiPaxosMessage } from '../src/protocols/multipaxos.js';
import { Cluster as CoreCluster, ELECTION, range } from './helpers/multipaxos-cluster.js';
import { warnsOf } from './helpers/warns.js';

// The cluster ----------------------------------------------------------------------------

const SEED = 5640;
const MESSAGE_BYTES_MAX = 8 * 1024;
/** Puts in flight when the leader dies, and each value's size: about 7 times MESSAGE_BYTES_MAX in all. */
const PUTS = 40;
const VALUE_CHARS = 1_500;

function serverState(cluster: Cluster, id: string): ServerState {
  const state = cluster.internals.runtime.host.cell(id)?.peekState() as ServerState | undefined;
  if (state === undefined) throw new Error(`no state for ${id}`);
  return state;
}

function leaderAmong(cluster: Cluster, ids: string[]): string | undefined {
  return ids.find((id) => !cluster.isDown(id) && serverState(cluster, id).groups.get(0)?.isLeader());
}

const valueOf = (i: number): string => `${i}:`.padEnd(VALUE_CHARS, String.fromCharCode(97 + (i % 26)));

for (const mode of ['active', 'passive'] as const) {
  test(`sim ${mode}: the leader dies with many large slots accepted and none chosen; the two left elect one of them, which keeps every slot`, async (t) => {
    t.log(`seed ${SEED}`);
    const config: ClusterConfig = {
      regions: [{ name: 'r1', servers: 3 }],
      transport: 'sim',
      seed: SEED,
      shards: 1,
      messageBytesMax: MESSAGE_BYTES_MAX,
      replication: { mode, factor: 3 },
      requestTimeoutMs: 2_000,
    };
    await withCluster(t, config, async (cluster) => {
      const warns = warnsOf(cluster);
      await cluster.client({ region: 'r1' }).put('warm', 1);
      const group = groupOf(0, topologyOf(cluster.config));
      const leader = leaderAmong(cluster, group)!;
      const others = group.filter((id) => id !== leader);
      // The leader hears nobody: its accepts arrive, and nothing is chosen.
      await cluster.partition(others, [leader], { oneWay: true });
      const clients = Array.from({ length: 4 }, () => cluster.client({ region: 'r1' }));
      // Settled as they end (a put at the leader that dies fails, or its outcome is unknown).
      const puts = Promise.allSettled(Array.from({ length: PUTS }, (_, i) => clients[i % clients.length]!.put(`k${i}`, valueOf(i))));
      await cluster.sleep(100);
      const core = serverState(cluster, others[0]!).groups.get(0)!.core;
      const { commitIndex, lastIndex } = core.status();
      t.true(lastIndex - commitIndex >= 10, `${others[0]} accepted slots ${commitIndex + 1}..${lastIndex}, not known chosen`);
      await cluster.crash(leader);
      let waited = 0;
      while (leaderAmong(cluster, others) === undefined && waited < 5_000) {
        await cluster.sleep(50);
        waited += 50;
      }
      const elected = leaderAmong(cluster, others);
      t.not(elected, undefined, `one of ${others.join(' and ')} is elected within 5 s (simulated)`);
      t.log(`${mode}: ${lastIndex - commitIndex} slots accepted and not chosen; ${elected} elected ${waited} ms after the leader died`);
      await puts;
      // The new leader proposed again what the promises held: every value is there.
      for (const id of others) {
        const data = serverState(cluster, id).groups.get(0)!.sm.data;
        const missing = range('k', PUTS).filter((k, i) => data.get(k) !== valueOf(i));
        t.deepEqual(missing, [], `${id} holds every value the old leader's slots held`);
      }
      t.is(cluster.stats().dropped['too-large'] ?? 0, 0, 'no message was over messageBytesMax');
      t.deepEqual(warns, [], 'no warning');
    });
  });
}

// The sizes ------------------------------------------------------------------------------

test('paxosMessageBytes: at least what a part of a promise encodes to (seeded; commandBytesMax leaving room for a part of one slot is test/command-bytes.part.ts)', (t) => {
  const seed = 5641;
  t.log(`seed ${seed}`);
  const prng = new Prng(seed);
  const packr = createPackr();
  const ballot = (): { round: number; id: string } => ({ round: prng.int(2 ** 32), id: `r${prng.int(9)}/${'é'.repeat(prng.int(5))}${prng.int(99)}` });
  for (let round = 0; round < 200; round++) {
    const slots = Array.from({ length: prng.int(5) }, () => ({
      index: prng.int(2 ** 32),
      ballot: ballot(),
      commands: Array.from({ length: prng.int(4) }, () => 'x'.repeat(prng.int(300))),
      chosen: prng.chance(0.5),
    }));
    const from = prng.int(2 ** 32);
    const part = prng.chance(0.5) ? { from } : { from, until: prng.int(2 ** 32) };
    const msg: MultiPaxosMessage = { type: 'promise', ballot: ballot(), slots, snapshot: null, part };
    t.true(paxosMessageBytes(msg) >= packr.pack(msg).byteLength, JSON.stringify(part));
  }
});

// The cores ------------------------------------------------------------------------------

test('Multi-Paxos cores: promises in parts lost, duplicated and reordered elect a leader that keeps every accepted slot (seeded)', (t) => {
  const first = 5642;
  const seeds = 15;
  t.log(`seeds ${first}..${first + seeds - 1}`);
  const parts = new WeakSet<object>();
  let partsSeen = 0;
  for (let seed = first; seed < first + seeds; seed++) {
    const prng = new Prng(seed);
    // Parts of at most 2 * 8 bytes: a promise of more than one slot goes in parts.
    const c = new CoreCluster(3, { seed, snapshotPieceBytes: 8, maxInflight: 8, maxBatch: 1 });
    c.elect('r1');
    c.net.cutInto('r1');
    const commands = range(`s${seed}-`, 8);
    c.propose('r1', ...commands);
    c.net.stabilize();
    c.net.crash('r1');
    for (let step = 0; step < 200 * ELECTION && c.leaders().length === 0; step++) {
      for (const m of c.net.queue) {
        if (m.msg.type !== 'promise' || m.msg.part === undefined || parts.has(m.msg)) continue;
        parts.add(m.msg);
        partsSeen++;
      }
      if (!c.net.randomDeliver(prng, { drop: 0.1, duplicate: 0.2 })) c.net.tick(1, ['r2', 'r3']);
      else if (prng.chance(0.2)) c.net.tick(1, [prng.pick(['r2', 'r3'])]);
    }
    const [leader] = c.leaders();
    t.not(leader, undefined, `seed ${seed}: a leader`);
    if (leader === undefined) continue;
    c.propose(leader, `s${seed}-last`);
    c.net.stabilize();
    c.net.run(4 * ELECTION, ['r2', 'r3']);
    t.deepEqual(c.violations, [], `seed ${seed}`);
    t.deepEqual(c.state(leader), [...commands, `s${seed}-last`], `seed ${seed}: ${leader} applied every accepted slot, then the new command`);
  }
  t.true(partsSeen > 0, `promise parts sent: ${partsSeen}`);
});

test('Multi-Paxos cores: a candidate far behind gets the chosen slots it lacks in promise parts, lost, duplicated and reordered, and loses none (seeded)', (t) => {
  const first = 5672;
  const seeds = 15;
  t.log(`seeds ${first}..${first + seeds - 1}`);
  let wonBehind = 0;
  for (let seed = first; seed < first + seeds; seed++) {
    const prng = new Prng(seed);
    // No snapshot: r2's log holds every slot r3 lacks, and its promise lists them all.
    const c = new CoreCluster(3, { seed, snapshotPieceBytes: 8, snapshotEvery: 1_000 });
    c.elect('r1');
    c.net.crash('r3');
    const commands = range(`s${seed}-`, 20);
    for (const command of commands) {
      c.propose('r1', command);
      c.net.stabilize();
    }
    c.net.crash('r1');
    c.net.restart('r3');
    c.net.act('r3', (core) => core.campaign());
    for (let step = 0; step < 200 * ELECTION && c.leaders().length === 0; step++) {
      if (!c.net.randomDeliver(prng, { drop: 0.1, duplicate: 0.2 })) c.net.tick(1, ['r2', 'r3']);
    }
    const [leader] = c.leaders();
    t.not(leader, undefined, `seed ${seed}: a leader`);
    if (leader === undefined) continue;
    if (leader === 'r3') wonBehind++;
    c.propose(leader, `s${seed}-last`);
    c.net.stabilize();
    c.net.run(4 * ELECTION, ['r2', 'r3']);
    t.deepEqual(c.violations, [], `seed ${seed}`);
    for (const id of ['r2', 'r3'])
      t.deepEqual(c.state(id), [...commands, `s${seed}-last`], `seed ${seed}: ${id} applied every chosen slot, then the new command`);
  }
  t.true(wonBehind > 0, `r3 won from behind in ${wonBehind} of ${seeds} seeds`);
});
