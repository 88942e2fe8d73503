import test from 'ava';
import {
  InvariantFailure,
  TimeoutError,
  ValidationError,
  eventually,
  withCluster,
  type Cluster,
  type ClusterConfig,
  type TestContextLike,
} from '../src/index.js';

/** withCluster always stops its cluster and says which seed failed; eventually waits on cluster time. */

function config(seed: number): ClusterConfig {
  return {
    regions: [
      { name: 'r1', servers: 2 },
      { name: 'r2', servers: 2 },
    ],
    transport: 'sim',
    seed,
    network: { latencyMs: { 'r1~r2': 10 } },
    replication: { mode: 'active', factor: 3 },
    shards: 2,
    heartbeat: { intervalMs: 100 },
  };
}

/** A stand-in for ava's t that keeps what it was given (and passes the logs on, so a failure still shows the seed). */
function fakeT(real: { log(...values: unknown[]): void }): TestContextLike & { logs: string[]; teardowns: Array<() => unknown> } {
  const logs: string[] = [];
  const teardowns: Array<() => unknown> = [];
  return {
    logs,
    teardowns,
    log: (...values) => {
      logs.push(values.join(' '));
      real.log(...values);
    },
    teardown: (fn) => teardowns.push(fn),
  };
}

test('withCluster: a body that throws still stops the cluster, and the seed is logged with the error', async (t) => {
  const ft = fakeT(t);
  let seen: Cluster | undefined;
  await t.throwsAsync(
    withCluster(ft, config(42), async (cluster) => {
      seen = cluster;
      await cluster.client({ region: 'r1' }).put('k', 1);
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  t.true(seen?.isStopped, 'stopped after the throw');
  t.true(
    ft.logs.some((l) => /seed 42/.test(l)),
    ft.logs.join('\n'),
  );
  t.true(
    ft.logs.some((l) => /failed with seed 42 at cluster time \d+ ms: boom/.test(l)),
    ft.logs.join('\n'),
  );
  t.is(ft.teardowns.length, 1, 'a teardown is registered (for a test that times out)');
  await ft.teardowns[0]!();
});

test('withCluster: returns the body value and stops; a random seed is logged so it can be replayed', async (t) => {
  const ft = fakeT(t);
  let seen: Cluster | undefined;
  const { seed: _omit, ...noSeed } = config(0);
  const value = await withCluster(ft, noSeed, async (cluster) => {
    seen = cluster;
    const c = cluster.client({ region: 'r1' });
    await c.put('a', 'x');
    return c.get('a');
  });
  t.is(value, 'x');
  t.true(seen?.isStopped);
  t.regex(ft.logs[0]!, new RegExp(`cluster seed ${seen!.seed} `));
});

test('withCluster with ava itself, and eventually seeing a crash in members()', async (t) => {
  await withCluster(t, config(5), async (cluster) => {
    await cluster.crash('r2/1');
    const state = await eventually(cluster, () => cluster.members().find((m) => m.id === 'r2/1')!.state === 'down' && 'down');
    t.is(state, 'down');
  });
});

test('eventually: times out on cluster time with the last failure, and validates its options', async (t) => {
  const ft = fakeT(t);
  await withCluster(ft, config(6), async (cluster) => {
    const t0 = cluster.now();
    let calls = 0;
    const error = await t.throwsAsync(
      eventually(
        cluster,
        () => {
          calls++;
          throw new Error(`not yet (${calls})`);
        },
        { timeoutMs: 1_000, intervalMs: 100, message: 'never' },
      ),
    );
    t.regex(error!.message, /eventually \(never\): not true after 1000 ms and 11 tries; last: not yet \(11\)/);
    // A TimeoutError (a MeridianError, as the README promises of every error; a plain Error before 2026-12-06), the last try's error its cause.
    t.true(error instanceof TimeoutError, error?.constructor.name);
    t.is((error as TimeoutError).code, 'TIMEOUT');
    t.regex(((error as TimeoutError).cause as Error).message, /^not yet \(11\)$/);
    t.is(cluster.now() - t0, 1_000, 'virtual time, exactly the timeout');
    let n = 0;
    t.is(await eventually(cluster, () => ++n >= 3 && n, { intervalMs: 10 }), 3);
    await t.throwsAsync(
      eventually(cluster, () => true, { timeout: 5 } as never),
      { message: /^options\.timeout: not an option here/ },
    );
    await t.throwsAsync(
      eventually(cluster, () => true, { timeoutMs: -1 }),
      { instanceOf: ValidationError, message: /^options\.timeoutMs: a number of milliseconds from 0 to 3600000 \(an hour\), got -1$/ },
    );
    await t.throwsAsync(
      eventually(cluster, () => true, { intervalMs: 0 }),
      { instanceOf: ValidationError, message: /^options\.intervalMs: a number of milliseconds from 1 to 3600000 \(an hour\), got 0$/ },
    );
    // A tiny interval was taken: 1e-300 ms never moved the simulated clock, and this never returned.
    await t.throwsAsync(
      eventually(cluster, () => false, { intervalMs: 1e-300, timeoutMs: 1 }),
      { instanceOf: ValidationError, message: /^options\.intervalMs: a number of milliseconds from 1 to 3600000 \(an hour\), got 1e-300$/ },
    );
  });
});

/** One server a region, so that shard 0's leader is r1/0, r2/0 or r3/0. */
function threeServers(seed: number): ClusterConfig {
  return {
    ...config(seed),
    regions: [
      { name: 'r1', servers: 1 },
      { name: 'r2', servers: 1 },
      { name: 'r3', servers: 1 },
    ],
    network: {},
  };
}

/**
 * A 2PC commit for a transaction shard 0's participant has aborted (an abort came first): the
 * participant's assertion fails (the actor is restarted, and nothing else notices). Resolves
 * with the leader it was sent to, 500 ms of cluster time later.
 */
async function breakAnInvariant(cluster: Cluster): Promise<string> {
  await cluster.client({ region: 'r1' }).put('warm-up', 1);
  const leader = await eventually(cluster, () => cluster.leaderOf(0) ?? false);
  const host = cluster.internals.runtime.host;
  host.route('tester', leader, { type: 'tx', s: 0, m: { type: 'abort', txn: 'tx-1' } });
  host.route('tester', leader, { type: 'tx', s: 0, m: { type: 'commit', txn: 'tx-1' } });
  await cluster.sleep(500);
  return leader;
}

test('withCluster: an assert that fails inside an actor fails the test, naming the actor, the seed and the message (sim)', async (t) => {
  const seed = 41;
  const fake = fakeT(t);
  let leader = '';
  const error = await t.throwsAsync(
    withCluster(fake, threeServers(seed), async (cluster: Cluster) => {
      leader = await breakAnInvariant(cluster);
      t.true(cluster.assertionFailures().length > 0, 'the cluster reports the failed assertion');
      return 'the body returned normally';
    }),
  );
  t.log(error?.message);
  t.regex(error!.message, /assertion/);
  t.regex(error!.message, new RegExp(`${leader.replace('/', '\\/')}`));
  t.regex(error!.message, new RegExp(`seed ${seed}`));
  t.regex(error!.message, /commit for tx-1, which this participant aborted/);
});

// An audit (session 61): the broken invariants were said only after a body that returned. A body
// that threw (a call timed out, say, because of what broke) or a test that timed out lost them.
test('withCluster: a body that throws after an actor broke an invariant logs the failure beside its error', async (t) => {
  const ft = fakeT(t);
  await t.throwsAsync(
    withCluster(ft, threeServers(41), async (cluster) => {
      await breakAnInvariant(cluster);
      throw new Error('a call timed out');
    }),
    { message: 'a call timed out' },
  );
  t.true(
    ft.logs.some((l) => /^failed with seed 41 at cluster time \d+ ms: a call timed out$/.test(l)),
    ft.logs.join('\n'),
  );
  t.true(
    ft.logs.some((l) =>
      /^and meanwhile 1 assertion failed inside actors \(seed 41\); first: r\d\/0 at cluster time \d+ ms: .*commit for tx-1, which this participant aborted$/.test(
        l,
      ),
    ),
    ft.logs.join('\n'),
  );
});

test('withCluster: a test that ends before its body (a timeout) logs the seed, the time and the broken invariants from the teardown', async (t) => {
  const ft = fakeT(t);
  let release: () => void = () => {};
  let broken = false;
  const run = withCluster(ft, threeServers(41), async (cluster) => {
    await breakAnInvariant(cluster);
    broken = true;
    // As a body that hangs: the test's timeout comes first.
    await new Promise<void>((resolve) => (release = resolve));
  });
  while (!broken) await new Promise((resolve) => setImmediate(resolve));
  t.is(ft.teardowns.length, 1);
  await ft.teardowns[0]!(); // what ava does when the test times out
  t.true(
    ft.logs.some((l) =>
      /^the test ended before the body did \(timed out\?\), seed 41 at cluster time \d+ ms; 1 assertion failed inside actors \(seed 41\); first: r\d\/0 at cluster time \d+ ms: .*which this participant aborted$/.test(
        l,
      ),
    ),
    ft.logs.join('\n'),
  );
  release();
  // The body then returns, and the failures fail the run as they do for any body.
  await t.throwsAsync(run, { instanceOf: InvariantFailure });
  t.is(ft.logs.filter((l) => /the test ended before the body did/.test(l)).length, 1, 'said once');
});

test('withCluster: a test that ends after its body says nothing from the teardown', async (t) => {
  const ft = fakeT(t);
  await withCluster(ft, config(3), async () => 'done');
  await ft.teardowns[0]!();
  t.deepEqual(
    ft.logs.filter((l) => !/^cluster seed 3 /.test(l)),
    [],
  );
});

test('withCluster: the seed is logged before t.teardown is called (a teardown that throws leaves the seed)', async (t) => {
  const logs: string[] = [];
  const odd: TestContextLike = {
    log: (...values) => logs.push(values.join(' ')),
    teardown: () => {
      throw new Error('no teardowns here');
    },
  };
  await t.throwsAsync(
    withCluster(odd, config(7), async () => 1),
    { message: 'no teardowns here' },
  );
  t.regex(logs[0] ?? '', /^cluster seed 7 /);
});

test('withCluster on threads: the seed is not said to replay the run, and times are said from the start of the cluster, not as the wall clock', async (t) => {
  const ft = fakeT(t);
  const { seed: _omit, ...threads } = { ...config(0), transport: 'threads' as const };
  await t.throwsAsync(
    withCluster(ft, threads, async () => {
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  // It said "replay with seed" as in sim, where only a simulated run replays.
  t.regex(ft.logs[0] ?? '', /^cluster seed \d+ \(transport threads, real time: the seed draws the same Nemesis plan, but does not replay the run\)$/);
  // It said "at cluster time 1796619959497 ms": the wall clock, ms since 1970.
  t.true(
    ft.logs.some((l) => /^failed with seed \d+ \d{1,6} ms after the cluster started: boom$/.test(l)),
    ft.logs.join('\n'),
  );
  // An InvariantFailure says so too when told when its cluster started.
  const failure = new InvariantFailure([{ address: 'r1/0', message: 'assertion failed: x', atMs: 1_796_000_000_250 }], 5, 1_796_000_000_000);
  t.is(failure.message, '1 assertion failed inside actors (seed 5); first: r1/0 250 ms after the cluster started: assertion failed: x');
});

test('eventually: a try that runs past the timeout is not cut short, and the error says how long it waited (sim)', async (t) => {
  await withCluster(fakeT(t), config(8), async (cluster) => {
    const t0 = cluster.now();
    const error = await t.throwsAsync(
      eventually(
        cluster,
        async () => {
          await cluster.sleep(3_000); // as a client call waiting for its request timeout
          return false;
        },
        { timeoutMs: 1_000 },
      ),
      { instanceOf: TimeoutError },
    );
    t.is(cluster.now() - t0, 3_000);
    // It said "not true after 1000 ms and 1 tries", 3000 ms having passed.
    t.is(error?.message, 'eventually: not true after 1000 ms and 1 try (the last try ended 3000 ms after the first began); last: it returned false');
  });
});
