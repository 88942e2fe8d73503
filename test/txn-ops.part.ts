import test from 'ava';
import { AbortedError, startCluster, ValidationError, type Client, type ClusterConfig } from '../src/index.js';

type Ops = Parameters<Client['transaction']>[0];

/** An abort is definite, so retrying is safe. */
async function commitTxn(client: Client, ops: Ops): Promise<unknown[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.transaction(ops);
    } catch (error) {
      if (!(error instanceof AbortedError) || attempt >= 4) throw error;
    }
  }
}

const base: ClusterConfig = {
  regions: [
    { name: 'us-east', servers: 2 },
    { name: 'eu-west', servers: 2 },
    { name: 'ap-south', servers: 1 },
  ],
  transport: 'sim',
  seed: 5,
  replication: { mode: 'active', factor: 3 },
  network: { latencyMs: { 'us-east~eu-west': 4, 'us-east~ap-south': 6, 'eu-west~ap-south': 5 } },
};

for (const commit of ['2pc', '3pc', 'paxos-commit'] as const) {
  test(`sim: ${commit} transactions read and append, and resolve with values aligned with ops`, async (t) => {
    const cluster = await startCluster({ ...base, commit });
    try {
      const c = cluster.client({ region: 'eu-west' });
      // Keys over several shards (16 by default).
      const keys = Array.from({ length: 5 }, (_, i) => `list-${i}`);
      const first = await commitTxn(c, [
        { op: 'get', key: keys[0]! },
        { op: 'append', key: keys[0]!, value: 1 },
        { op: 'get', key: keys[0]! },
        { op: 'put', key: 'plain', value: null },
      ]);
      t.deepEqual(first, [undefined, undefined, [1], undefined], "a missing key reads undefined; a get sees the transaction's own append");
      await commitTxn(
        c,
        keys.map((key, i) => ({ op: 'append' as const, key, value: 10 + i })),
      );
      const read = await commitTxn(c, [...keys.map((key) => ({ op: 'get' as const, key })), { op: 'get', key: 'plain' }, { op: 'get', key: 'missing' }]);
      t.deepEqual(read, [[1, 10], [11], [12], [13], [14], null, undefined], 'a stored null and a missing key differ');
      t.deepEqual(await c.get(keys[0]!), [1, 10]);
      // An append to a key that holds a non-list aborts the transaction, and nothing of it applies.
      await c.put('scalar', 7);
      const error = await t.throwsAsync(
        c.transaction([
          { op: 'append', key: keys[1]!, value: 99 },
          { op: 'append', key: 'scalar', value: 1 },
        ]),
        { instanceOf: AbortedError },
      );
      t.regex(error!.message, /aborted/);
      t.deepEqual(await c.get(keys[1]!), [11]);
      // The old shapes still work, and now resolve with an array too.
      t.deepEqual(
        await commitTxn(c, [
          { op: 'check', key: 'scalar', value: 7 },
          { op: 'put', key: 'scalar', value: 8 },
        ]),
        [undefined, undefined],
      );
      // Elle's shape: every transaction, invocation then completion, reads filled in on ok.
      const elle = cluster.history({ format: 'elle' });
      const oks = elle.filter((e) => e.type === 'ok');
      t.true(oks.length >= 4);
      t.deepEqual(oks[1]!.value.slice(0, 2), [
        ['append', keys[0]!, 10],
        ['append', keys[1]!, 11],
      ]);
      t.deepEqual(oks[2]!.value[0], ['r', keys[0]!, [1, 10]]);
      t.true(
        elle.some((e) => e.type === 'fail'),
        'the aborted transaction is a fail',
      );
      elle.forEach((e, i) => t.is(e.index, i));
      const invokes = elle.filter((e) => e.type === 'invoke');
      t.is(invokes[2]!.value[0]![2], null, 'an invocation does not know what it will read');
      t.deepEqual(oks[0]!.value[0], ['r', keys[0]!, []], 'a list-append history reads a missing key as []');
      t.deepEqual(
        cluster.history({ format: 'elle', model: 'rw-register' }).filter((e) => e.type === 'ok')[0]!.value[0],
        ['r', keys[0]!, null],
        'and an rw-register one as null',
      );
    } finally {
      await cluster.stop();
    }
  });
}

test('transaction validation names the op index', async (t) => {
  const cluster = await startCluster({ ...base });
  try {
    const c = cluster.client({ region: 'us-east' });
    const bad = async (ops: unknown, field: RegExp): Promise<void> => {
      const e = await t.throwsAsync(c.transaction(ops as Ops), { instanceOf: ValidationError });
      t.regex(e!.message, field);
    };
    await bad(
      [
        { op: 'get', key: 'a' },
        { op: 'pop', key: 'b' },
      ],
      /ops\[1\]\.op/,
    );
    // A hole is an op that is missing (map skipped it: a TypeError reading its key).
    await bad(Object.assign([], { 1: { op: 'get', key: 'b' } }), /^ops\[0\]: an object \{ op, key, value\? \}$/);
    await bad(
      [
        { op: 'append', key: 'a', value: 1 },
        { op: 'get', key: '' },
      ],
      /ops\[1\]\.key/,
    );
    await bad(
      [
        { op: 'get', key: 'a' },
        { op: 'get', key: 'b' },
        { op: 'append', key: 'c', value: undefined },
      ],
      /ops\[2\]\.value/,
    );
    await bad([{ op: 'get', key: 'a', value: 3 }], /ops\[0\]\.value/);
    // A misspelt field is refused, not dropped (the check would have become "a is missing").
    await bad(
      [
        { op: 'check', key: 'a', vaule: 100 },
        { op: 'put', key: 'b', value: 1 },
      ],
      /^ops\[0\]\.vaule: not a field of a check op \(op, key, value are\)$/,
    );
    await bad([{ op: 'get', key: 'a', consistency: 'local' }], /^ops\[0\]\.consistency: not a field of a get op \(op, key are\)$/);
    t.is(await c.get('b'), undefined, 'the refused transaction wrote nothing');
    t.deepEqual(await c.transaction([{ op: 'get', key: 'b', value: undefined } as Ops[number]]), [undefined], "a get's value may be there, undefined");
    await bad([], /ops/);
    t.throws(() => cluster.history({ format: 'csv' as 'elle' }), { instanceOf: ValidationError, message: /options\.format/ });
  } finally {
    await cluster.stop();
  }
});
