/**
 * A client's write whose replicated command cannot travel in a Paxos message under
 * messageBytesMax is refused by the leader, definitely, and never proposed. Before, a put
 * in a band a few dozen bytes wide under the request limit passed the client's check (the
 * request fit), but its accept did not: the accept was dropped, its slot re-sent for ever,
 * and every later write of the shard timed out (found by an audit, session 58).
 */
import test from 'ava';
import { AbortedError, startCluster, UnavailableError, type Cluster, type ClusterConfig, type MeridianError } from '../src/index.js';
import { COMMAND_ID_SLACK_BYTES, commandBytesMax } from '../src/cluster/server.js';
import { encodedBytes } from '../src/protocols/snapshot-pieces.js';

/** One region of 3 servers, one shard, in the simulator, at a small messageBytesMax. */
function oneShard(mode: 'active' | 'passive', messageBytesMax: number, more: Partial<ClusterConfig> = {}): Promise<Cluster> {
  return startCluster({
    regions: [{ name: 'r1', servers: 3 }],
    transport: 'sim',
    seed: 1,
    shards: 1,
    messageBytesMax,
    replication: { mode, factor: 3 },
    ...more,
  });
}

/** The warnings of messages dropped for their size (a command that should not have been proposed). */
function droppedForSize(cluster: Cluster): string[] {
  return cluster.errors().flatMap((e) => (e.kind === 'warn' && / is over messageBytesMax/.test(e.message) ? [e.message] : []));
}

for (const mode of ['active', 'passive'] as const) {
  test(`sim ${mode}: each put up to messageBytesMax succeeds or is refused at once, definitely; a refused one leaves the shard writable`, async (t) => {
    const cluster = await oneShard(mode, 512, { requestTimeoutMs: 1_000 });
    try {
      const client = cluster.client({ region: 'r1' });
      let byLeader = 0;
      for (let n = 0; n <= 512; n += 4) {
        const value = 'v'.repeat(n);
        try {
          await client.put('k', value);
          t.is(await client.get('k'), value, `${n} chars`);
        } catch (error) {
          t.true(error instanceof UnavailableError, `${n} chars: ${String(error)}`);
          t.true((error as MeridianError).definite, `${n} chars: definite`);
          if (/replication message carries under messageBytesMax \(512 bytes\)/.test((error as Error).message)) byLeader++;
          await client.put('small', n); // the shard still takes writes
          t.is(await client.get('small'), n);
        }
      }
      t.true(byLeader > 0, 'some puts the client let through were refused by the leader');
      t.deepEqual(droppedForSize(cluster), [], 'no message dropped for its size');
    } finally {
      await cluster.stop();
    }
  });
}

test('commandBytesMax: a command of that size travels alone in an accept, a catch-up, a promise and a learner batch under messageBytesMax', (t) => {
  for (const max of [256, 4_096, 65_536]) {
    const peers = ['r1/0', 'region-two/11', 'r3/2'];
    const bytes = commandBytesMax(max, 7, peers);
    // A string encodes to its length plus a header of 1, 2, 3 or 5 bytes: find one of `bytes`.
    let command = '';
    for (const header of [1, 2, 3, 5]) if (encodedBytes('x'.repeat(bytes - header)) === bytes) command = 'x'.repeat(bytes - header);
    t.is(encodedBytes(command), bytes);
    const ballot = { round: 0xffffffff, id: 'region-two/11' };
    const slot = { index: 0xffffffff, ballot, commands: [command], chosen: true };
    const paxos = [
      { type: 'accept', ballot, index: 0xffffffff, commands: [command], commitIndex: 0xffffffff },
      { type: 'entries', ballot, slots: [slot], commitIndex: 0xffffffff },
      { type: 'promise', ballot, slots: [slot], snapshot: null },
      // A promise in parts (see promiseParts): a part of one slot is a few bytes larger.
      { type: 'promise', ballot, slots: [slot], snapshot: null, part: { from: 0xffffffff, until: 0xffffffff } },
    ];
    const to = 'region-two/11';
    // With room to spare for another leader's longer copy of the command.
    for (const m of paxos) {
      const wire = encodedBytes({ to, from: to, msg: { type: 'px', s: 7, m } });
      t.true(wire + COMMAND_ID_SLACK_BYTES <= max, `${m.type}${'part' in m ? ' (a part)' : ''} at ${max}: ${wire} bytes`);
    }
    t.true(encodedBytes({ to, from: to, msg: { type: 'learn', s: 7, entries: [[0xffffffff, command]], snapshot: null } }) <= max, `learn at ${max}`);
  }
});

for (const [mode, commit] of [
  ['active', '2pc'],
  ['passive', '3pc'],
] as const) {
  test(`sim ${mode} ${commit}: a transaction whose prepare cannot travel in a Paxos message is voted no, not proposed; the shard stays writable`, async (t) => {
    const cluster = await oneShard(mode, 4_096, { commit, requestTimeoutMs: 3_000 });
    try {
      const client = cluster.client({ region: 'r1' });
      let votedNo = 0;
      for (let n = 220; n <= 250; n += 1) {
        const ops = Array.from({ length: 16 }, (_, i) => ({ op: 'put' as const, key: `b${i}`, value: 'v'.repeat(n) }));
        try {
          await client.transaction(ops);
        } catch (error) {
          t.true((error as MeridianError).definite, `${n} chars: ${String(error)}`);
          // Voted no for its size, and saying so (other aborts, a vote late on a new cluster, may come too).
          if (error instanceof AbortedError && /too large for a replication message \(messageBytesMax\)/.test(error.reason)) votedNo++;
        }
        await client.put('small', n); // the shard still takes writes
      }
      t.true(votedNo > 0, 'some transactions the client let through were voted no');
      t.deepEqual(droppedForSize(cluster), [], 'no message dropped for its size');
    } finally {
      await cluster.stop();
    }
  });
}
