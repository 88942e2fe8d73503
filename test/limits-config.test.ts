import test from 'ava';
import { checkLinearizable, ConfigError, startCluster, TimeoutError, UnavailableError, type TxnHistoryOp } from '../src/index.js';
import { MEMORY_LIMITS_DEFAULT } from '../src/core/limits.js';
import {
  drawLimits,
  runScenario,
  SCENARIO_SMALL_LIMIT_MAX,
  SCENARIO_SMALL_MESSAGE_BYTES_MAX,
  SCENARIO_SMALL_MESSAGE_BYTES_MIN,
} from '../src/harness/scenario.js';
import { lowerInliningForThisFile } from './helpers/inlining.js';

// Its simulated clusters run in this thread: V8's inlining budget lowered for the
// whole file, as a pool's seeds get it (test/helpers/inlining.ts; no threads here).
lowerInliningForThisFile();

// ClusterConfig.limits: memory bounds a test shrinks, so a short run forgets what a long one
// would, and must still refuse late copies of what it forgot (src/core/limits.ts).

test('limits: each field an integer from 1 to its default; the error names the field', async (t) => {
  const base = { regions: [{ name: 'a', servers: 1 }], transport: 'sim' as const, seed: 1 };
  for (const [limits, field] of [
    [{ seenRequests: 0 }, 'limits.seenRequests'],
    [{ finishedTxns: MEMORY_LIMITS_DEFAULT.finishedTxns + 1 }, 'limits.finishedTxns'],
    [{ begunRequests: 2.5 }, 'limits.begunRequests'],
    [{ routedRequests: MEMORY_LIMITS_DEFAULT.routedRequests + 1 }, 'limits.routedRequests'],
    [{ other: 3 }, 'limits.other'],
    [[], 'limits'],
  ] as const) {
    const error = await t.throwsAsync(startCluster({ ...base, limits: limits as never }), { instanceOf: ConfigError });
    t.true(error.message.includes(field), `${JSON.stringify(limits)}: ${error.message}`);
  }
});

test('sim: with a state machine and balancers that remember 1 request id, late copies of puts are not applied again; the history is linearizable', async (t) => {
  const seed = 5;
  t.log(`seed ${seed}`);
  const cluster = await startCluster({
    regions: [
      { name: 'a', servers: 1 },
      { name: 'b', servers: 1 },
      { name: 'c', servers: 1 },
    ],
    transport: 'sim',
    seed,
    shards: 1,
    replication: { mode: 'active', factor: 3 },
    // Every message twice, the copy up to 300 ms late: copies of forwards reach the shard
    // after later puts, long past the one id it remembers.
    network: { latencyMs: { 'a~b': 2, 'a~c': 2, 'b~c': 2 }, jitterMs: 2, duplicate: 1, duplicateDelayMs: 300 },
    limits: { seenRequests: 1, routedRequests: 1 },
  });
  try {
    const client = cluster.client({ region: 'a' });
    const other = cluster.client({ region: 'b' });
    for (let i = 0; i < 60; i++) {
      await (i % 2 === 0 ? client : other).put('k', i).catch(() => undefined);
      await client.get('k').catch(() => undefined);
    }
    await cluster.sleep(1_000);
    const states = cluster.replicaStates(0);
    const forgotten = states.map((s) => (s.state as { forgotten?: unknown[] }).forgotten?.length ?? 0);
    t.log(`clients marked as forgotten per replica: ${forgotten.join(', ')}`);
    t.true(
      forgotten.some((n) => n > 0),
      'the state machines forgot request ids and kept marks',
    );
    t.is(await client.get('k'), 59, 'the last put stands: no late copy overwrote it');
    const r = await checkLinearizable(cluster.history(), 'register');
    t.is(r.verdict, 'linearizable', JSON.stringify(r.violations[0]));
  } finally {
    await cluster.stop();
  }
});

test('a quarter of scenario seeds draw small bounds, from their own stream; --limits small gives every seed some, default none', (t) => {
  const drawn = Array.from({ length: 400 }, (_, i) => drawLimits(i + 1));
  const small = drawn.filter((l) => l !== undefined).length;
  t.log(`${small} of 400 seeds drew small bounds`);
  t.true(small > 60 && small < 140);
  for (const l of drawn) if (l !== undefined) for (const v of Object.values(l.memory)) t.true(v >= 1 && v < SCENARIO_SMALL_LIMIT_MAX);
  // A small messageBytesMax too, drawn after the memory bounds from the same stream.
  const sizes = drawn.flatMap((l) => (l === undefined ? [] : [l.messageBytesMax]));
  for (const b of sizes) t.true(Number.isInteger(b) && b >= SCENARIO_SMALL_MESSAGE_BYTES_MIN && b <= SCENARIO_SMALL_MESSAGE_BYTES_MAX, String(b));
  t.true(new Set(sizes).size > sizes.length / 2, 'sizes vary from seed to seed');
  t.deepEqual(drawLimits(7), drawLimits(7), 'the same seed, the same bounds');
  t.not(drawLimits(7, 'small'), undefined);
  t.is(drawLimits(2, 'default'), undefined);
});

test('sim: a scenario seed with small bounds (and a small messageBytesMax) passes, and says so in its fault log', async (t) => {
  const seed = 2;
  t.log(`meridian check --seed ${seed} --limits small`);
  const r = await runScenario({ seed, mode: 'passive', limits: 'small', txnShare: 0.3 });
  const { messageBytesMax } = drawLimits(seed, 'small')!;
  t.true(messageBytesMax <= SCENARIO_SMALL_MESSAGE_BYTES_MAX);
  t.regex(r.faults[0]!, /^limits: seenRequests \d+, finishedTxns \d+, begunRequests \d+, routedRequests \d+, messageBytesMax \d+$/);
  t.true(r.faults[0]!.endsWith(`, messageBytesMax ${messageBytesMax}`), r.faults[0]);
  t.is(r.outcome, 'pass', r.failures.join('; '));
});

test('messageBytesMax too small for the cluster own messages: a warn per actor and message type, once (it dropped every put with no word: found by an audit, session 54)', async (t) => {
  const cluster = await startCluster({
    regions: [{ name: 'a', servers: 3 }],
    transport: 'sim',
    seed: 1,
    shards: 2,
    messageBytesMax: 64,
    requestTimeoutMs: 1_000,
  });
  const warns: string[] = [];
  cluster.on('warn', (e: { address: string; message: string }) => warns.push(`${e.address}: ${e.message}`));
  try {
    await t.throwsAsync(cluster.client({ region: 'a' }).put('k', 1));
    await cluster.sleep(1_000);
    t.true(warns.length > 0, 'warned');
    t.true(
      warns.every((w) => /^\S+: a \S+ message to \S+ of \d+ bytes is over messageBytesMax \(64\): dropped/.test(w)),
      warns.join('\n'),
    );
    t.is(new Set(warns.map((w) => w.replace(/ message to \S+ of \d+ bytes/, ''))).size, warns.length, 'once per actor and type');
  } finally {
    await cluster.stop();
  }
});

test('a request over messageBytesMax fails at once, saying its size, the limit and the option (it said "request could not be sent: too-large": found by an audit, session 55)', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'a', servers: 3 }], transport: 'sim', seed: 1, replication: { mode: 'active', factor: 3 } });
  try {
    const client = cluster.client({ region: 'a' });
    const big = 'x'.repeat(65_000); // each value within the value limit; 20 of them are not within 1 MiB
    const started = cluster.now();
    const error = await t.throwsAsync(client.transaction(Array.from({ length: 20 }, (_, i) => ({ op: 'put' as const, key: `k${i}`, value: big }))), {
      instanceOf: UnavailableError,
      message:
        /^txn "k0" \(20 ops\): the request is \d{7} bytes, over messageBytesMax \(1048576 bytes\): not sent\. Send less in one call, or raise the cluster's messageBytesMax option \(up to 67108864 bytes\)$/,
    });
    t.true(error.definite, 'nothing was sent');
    t.true(cluster.now() - started < 100, 'at once, not at the request timeout');
    t.is(await client.get('k0'), undefined);
  } finally {
    await cluster.stop();
  }
  // A single put, on a cluster with a small limit: the same.
  const small = await startCluster({ regions: [{ name: 'a', servers: 1 }], transport: 'sim', seed: 1, messageBytesMax: 1_024 });
  try {
    await t.throwsAsync(small.client({ region: 'a' }).put('k', 'y'.repeat(2_000)), {
      instanceOf: UnavailableError,
      message: /^put "k": the request is \d+ bytes, over messageBytesMax \(1024 bytes\): not sent\./,
    });
  } finally {
    await small.stop();
  }
});

test('mailboxCapacity too small for the load: a warn per actor whose mailbox drops a message, once (a capacity of 1 timed out every call with no word: found by an audit, session 55)', async (t) => {
  const cluster = await startCluster({
    regions: [
      { name: 'a', servers: 3 },
      { name: 'b', servers: 3 },
    ],
    transport: 'sim',
    seed: 1,
    replication: { mode: 'active', factor: 3 },
    mailboxCapacity: 1,
    requestTimeoutMs: 1_000,
  });
  const warns: string[] = [];
  cluster.on('warn', (e: { address: string; message: string }) => warns.push(`${e.address}: ${e.message}`));
  try {
    const client = cluster.client({ region: 'a' });
    await Promise.allSettled(Array.from({ length: 20 }, (_, i) => client.put(`k${i}`, i)));
    await cluster.sleep(1_000);
    t.true(warns.length > 0, 'warned');
    t.true(
      warns.every((w) => /^(\S+): the mailbox of \1 is full \(mailboxCapacity 1\): a \S+ message from \S+ dropped/.test(w)),
      warns.join('\n'),
    );
    t.is(new Set(warns.map((w) => w.split(':')[0])).size, warns.length, 'once per actor');
    const dropped = (await cluster.collectStats()).dropped['mailbox-full'] ?? 0;
    t.true(dropped > warns.length, `every drop is counted (${dropped}), a warn said once per actor (${warns.length})`);
  } finally {
    await cluster.stop();
  }
});

test('an answer over messageBytesMax fails its call at once, saying so and whether it took effect (a list appended past 1 MiB could not be read: every get timed out; found by an audit, session 55)', async (t) => {
  const cluster = await startCluster({
    regions: [{ name: 'a', servers: 3 }],
    transport: 'sim',
    seed: 1,
    shards: 8,
    // 256 KiB, so a few appends of 60 KB (each value under VALUE_BYTES_MAX) are too much to read.
    messageBytesMax: 256 * 1024,
    replication: { mode: 'active', factor: 3 },
  });
  try {
    const client = cluster.client({ region: 'a' });
    const big = 'x'.repeat(60_000);
    for (let i = 0; i < 5; i++) await client.transaction([{ op: 'append', key: 'L', value: big }]);
    // Two lists of 180 KB on two shards: each fits in its shard's vote, the two together do not.
    const pair: string[] = [];
    for (let i = 0; pair.length < 2; i++) if (!pair.some((k) => cluster.shardOf(k) === cluster.shardOf(`P${i}`))) pair.push(`P${i}`);
    for (const key of pair) for (let i = 0; i < 3; i++) await client.transaction([{ op: 'append', key, value: big }]);
    await client.put('small', 1);
    const fast = async (what: string, call: () => Promise<unknown>): Promise<Error> => {
      const start = cluster.now();
      const error = await t.throwsAsync(call(), undefined, what);
      t.true(cluster.now() - start < 1_000, `${what}: failed after ${cluster.now() - start} ms, not at the request timeout`);
      t.regex(error!.message, /is over messageBytesMax \(262144 bytes\) and could not be sent \(raise messageBytesMax/, what);
      return error!;
    };
    // A write on L's shard teaches the balancer its leader; a get of L too large keeps it.
    let neighbour = 'n0';
    for (let i = 1; cluster.shardOf(neighbour) !== cluster.shardOf('L'); i++) neighbour = `n${i}`;
    await client.put(neighbour, 1);
    const hint = async (): Promise<string | undefined> =>
      ((await cluster.inspect('balancer/a')) as { state: { leaders: Record<number, string> } }).state.leaders[cluster.shardOf('L')];
    const leader = await hint();
    t.not(leader, undefined);
    // Read-only: it did nothing, a definite error.
    for (const [what, call] of [
      ['get', () => client.get('L')],
      ['local get', () => client.get('L', { consistency: 'local' })],
      ['transaction of a get', () => client.transaction([{ op: 'get', key: 'L' }])],
    ] as const) {
      const error = await fast(what, call);
      t.true(error instanceof UnavailableError, `${what}: ${error.name}`);
      t.regex(error.message, /only read, so it did nothing/, what);
    }
    t.is(await hint(), leader, 'the get too large to answer kept the leader hint of its shard');
    // A transaction that wrote committed: its writes took effect, the outcome is not definite.
    const wrote = await fast('transaction of a get and a put', () =>
      client.transaction([
        { op: 'get', key: 'L' },
        { op: 'put', key: 'w', value: 1 },
      ]),
    );
    t.true(wrote instanceof TimeoutError, wrote.name);
    t.regex(wrote.message, /committed: its writes took effect/);
    t.is(await client.get('w'), 1, 'the put took effect');
    // The coordinator's own answer, too large: a transaction that only read did nothing (it was
    // TIMEOUT, the coordinator not knowing whether it wrote: left open by session 55's audit).
    const joint = await fast('transaction of gets on two shards', () => client.transaction(pair.map((key) => ({ op: 'get' as const, key }))));
    t.true(joint instanceof UnavailableError, joint.name);
    t.regex(joint.message, /only read, so it did nothing/);
    const jointWrote = await fast('transaction of gets on two shards and a put', () =>
      client.transaction([...pair.map((key) => ({ op: 'get' as const, key })), { op: 'put', key: 'w2', value: 2 }]),
    );
    t.true(jointWrote instanceof TimeoutError, jointWrote.name);
    t.regex(jointWrote.message, /any writes it made took effect/);
    // What fits still reads.
    t.is(await client.get('small'), 1);
    t.deepEqual(await client.transaction([{ op: 'get', key: 'small' }]), [1]);
    t.is(((await client.transaction([{ op: 'get', key: pair[0]! }]))[0] as unknown[]).length, 3, 'one list of the pair alone fits');
    // The history: the reads of L failed, the transaction that wrote is unknown (Elle: info).
    const history = cluster.history();
    t.deepEqual(
      history.filter((op) => op.key === 'L').map((op) => `${op.kind} ${op.outcome}`),
      ['append ok', 'append ok', 'append ok', 'append ok', 'append ok', 'get fail', 'get fail', 'get unknown'],
      'the appends, the get, the transaction of a get, and the one that also wrote (a local get is not recorded)',
    );
    t.deepEqual(
      history.filter((op) => op.key === 'w').map((op) => `${op.kind} ${op.outcome}`),
      ['put unknown', 'get ok'],
    );
    // The registers (the lists, written by appends, are checked by Elle's history).
    const r = await checkLinearizable(
      history.filter((op) => op.key === 'w' || op.key === 'small'),
      'register',
    );
    t.is(r.verdict, 'linearizable', JSON.stringify(r.violations[0]));
    const elle = cluster.history({ format: 'elle' }) as TxnHistoryOp[];
    const completions = elle.filter((e) => e.type !== 'invoke' && e.value.some((m) => m[1] === 'L' && m[0] === 'r')).map((e) => e.type);
    t.deepEqual(completions, ['fail', 'info']);
  } finally {
    await cluster.stop();
  }
});

test("a balancer's relay of an answer over messageBytesMax, when the server's answer fit (by a byte), fails its call at once too", async (t) => {
  const cluster = await startCluster({
    regions: [{ name: 'a', servers: 1 }],
    transport: 'sim',
    seed: 1,
    shards: 1,
    messageBytesMax: 2048,
    replication: { mode: 'none', factor: 1 },
  });
  const warns: string[] = [];
  cluster.on('warn', (e: { address: string; message: string }) => warns.push(`${e.address}: ${e.message}`));
  try {
    const client = cluster.client({ region: 'a' });
    // Lists a byte longer each time: the first too large to read is too large only as the
    // balancer relays it (the client's address is longer than the balancer's).
    let failed: Error | undefined;
    for (let n = 100; n < 400 && failed === undefined; n++) {
      const key = `k${n}`;
      await client.transaction([
        { op: 'append', key, value: 'a'.repeat(900) },
        { op: 'append', key, value: 'b'.repeat(900) },
      ]);
      await client.transaction([{ op: 'append', key, value: 'c'.repeat(n) }]);
      const start = cluster.now();
      failed = await client.get(key).then(
        () => undefined,
        (error: Error) => error,
      );
      if (failed !== undefined) t.true(cluster.now() - start < 1_000, `failed after ${cluster.now() - start} ms`);
    }
    t.true(failed instanceof UnavailableError, failed?.message);
    t.regex(failed!.message, /over messageBytesMax \(2048 bytes\).*only read, so it did nothing/);
    t.true(warns.length === 1 && warns[0]!.startsWith('balancer/a: a res message to client/'), warns.join('\n'));
  } finally {
    await cluster.stop();
  }
});
