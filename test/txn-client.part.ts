import test from 'ava';
import { startCluster, TimeoutError, UnavailableError, ValidationError, type Cluster, type ClusterConfig } from '../src/index.js';

/**
 * The client's side of transactions, from an audit (session 60): a transaction of gets and
 * checks that gets no answer in time did nothing (UnavailableError, definite, recorded failed
 * as a refused get is), and an argument a call does not take is refused, not ignored. The
 * simulator, virtual time.
 */
const SEED = 1;
const REQUEST_TIMEOUT_MS = 500;

function oneRegion(): ClusterConfig {
  return {
    regions: [{ name: 'us-east', servers: 3 }],
    transport: 'sim',
    seed: SEED,
    replication: { mode: 'active', factor: 3 },
    commit: '2pc',
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  };
}

/** Every server's messages held 400 ms each way: no call is answered within the 500 ms timeout. */
async function tooSlowToAnswer(cluster: Cluster): Promise<void> {
  await cluster.setNetwork({ nodeDelayMs: Object.fromEntries(['us-east/0', 'us-east/1', 'us-east/2'].map((id) => [id, 400])) });
}

test('a transaction of gets and checks unanswered in time fails as a definite UnavailableError, recorded failed in both histories; one that writes stays a TimeoutError, recorded unknown', async (t) => {
  t.log(`seed ${SEED}`);
  const cluster = await startCluster(oneRegion());
  try {
    const client = cluster.client({ region: 'us-east' });
    await client.transaction([
      { op: 'put', key: 'a', value: 1 },
      { op: 'put', key: 'b', value: 2 },
    ]);
    const before = { ops: cluster.history().length, events: cluster.history({ format: 'elle' }).length };
    await tooSlowToAnswer(cluster);

    // Before: TimeoutError, "txn "a": no answer within 500 ms; it may or may not have taken effect".
    const read = await t.throwsAsync(
      client.transaction([
        { op: 'get', key: 'a' },
        { op: 'check', key: 'b', value: 2 },
      ]),
    );
    t.true(read instanceof UnavailableError, String(read));
    t.true((read as UnavailableError).definite);
    t.is(read?.message, `txn "a": no answer within ${REQUEST_TIMEOUT_MS} ms; the transaction only read, so it did nothing`);
    // Both keys' reads as a get refused by the cluster is recorded: failed, with a completion time.
    const readOps = cluster.history().slice(before.ops);
    t.deepEqual(
      readOps.map((op) => [op.key, op.kind, op.outcome, op.completeMs !== undefined]),
      [
        ['a', 'get', 'fail', true],
        ['b', 'get', 'fail', true],
      ],
    );
    t.deepEqual(
      cluster
        .history({ format: 'elle' })
        .slice(before.events)
        .map((e) => e.type),
      ['invoke', 'fail'],
    );

    const written = await t.throwsAsync(
      client.transaction([
        { op: 'put', key: 'a', value: 3 },
        { op: 'get', key: 'b' },
      ]),
    );
    t.true(written instanceof TimeoutError, String(written));
    t.false((written as TimeoutError).definite);
    t.regex(written?.message ?? '', /; it may or may not have taken effect$/);
    t.deepEqual(
      cluster
        .history()
        .slice(before.ops + 2)
        .map((op) => [op.key, op.kind, op.outcome]),
      [
        ['a', 'put', 'unknown'],
        ['b', 'get', 'unknown'],
      ],
    );
    t.deepEqual(
      cluster
        .history({ format: 'elle' })
        .slice(before.events + 2)
        .map((e) => e.type),
      ['invoke', 'info'],
    );

    // A get the client itself gives up on stays a TimeoutError: the harness takes it for a
    // request a balancer dropped and asks again from another client (scenario.ts convergence);
    // the cluster's own refusals of a get are UnavailableError (test/read-failures.part.ts).
    const get = await t.throwsAsync(client.get('a'));
    t.true(get instanceof TimeoutError, String(get));
  } finally {
    await cluster.stop();
  }
});

test('an argument a call does not take is refused, naming it, and nothing is sent (transaction(ops, { timeout }) ran as if it were not there)', async (t) => {
  t.log(`seed ${SEED}`);
  const cluster = await startCluster(oneRegion());
  try {
    const client = cluster.client({ region: 'us-east' });
    // Each call a thunk: a rejection made before the loop awaits it would be unhandled meanwhile.
    const refusals: Array<[() => Promise<unknown>, string]> = [
      [
        // @ts-expect-error: TypeScript refuses the extra argument too
        () => client.transaction([{ op: 'put', key: 'k', value: 1 }], { timeout: 5 }),
        'arguments[1]: nothing: transaction(ops) takes 1 argument, got 2 (an object after ops)',
      ],
      [
        // @ts-expect-error: as above
        () => client.transaction([{ op: 'put', key: 'k', value: 1 }], undefined),
        'arguments[1]: nothing: transaction(ops) takes 1 argument, got 2 (undefined after ops)',
      ],
      [
        // @ts-expect-error: as above
        () => client.put('k', 1, { sync: true }),
        'arguments[2]: nothing: put(key, value) takes 2 arguments, got 3 (an object after value)',
      ],
      [
        // @ts-expect-error: as above
        () => client.get('k', {}, 'local'),
        'arguments[2]: nothing: get(key, options) takes 2 arguments, got 3 ("local" after options)',
      ],
      [
        // @ts-expect-error: as above
        () => client.delete('k', 'k2'),
        'arguments[1]: nothing: delete(key) takes 1 argument, got 2 ("k2" after key)',
      ],
      [
        // @ts-expect-error: as above
        () => client.cas('k', undefined, 1, 2, 3),
        'arguments[3]: nothing: cas(key, expected, next) takes 3 arguments, got 5 (2, 3 after next)',
      ],
    ];
    for (const [call, message] of refusals) {
      const error = await t.throwsAsync(call(), { instanceOf: ValidationError });
      t.is(error?.message, message);
      t.is((error as ValidationError).field, message.slice(0, message.indexOf(':')));
    }
    // Refused before anything was sent: no call recorded, and the key was never written.
    t.is(cluster.history().length, 0);
    t.is(await client.get('k'), undefined);
    // The same calls without the extra argument go through.
    t.deepEqual(await client.transaction([{ op: 'put', key: 'k', value: 1 }]), [undefined]);
    t.is(await client.get('k', {}), 1);
  } finally {
    await cluster.stop();
  }
});
