import test from 'ava';

/** Retries an idempotent put that times out (a loaded machine can exceed a short timeout). */
async function putRetrying(c: { put(key: string, value: number): Promise<unknown> }, key: string, value: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await c.put(key, value);
      return;
    } catch (e) {
      if (!(e instanceof TimeoutError) || attempt >= 10) throw e;
    }
  }
}
import { checkHistory, eventually, startCluster, TimeoutError, UnavailableError, ValidationError, type Cluster, type ClusterConfig } from '../src/index.js';

const transports = ['sim', 'threads'] as const;

function config(transport: 'sim' | 'threads', extra: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    regions: [
      { name: 'us-east', servers: 2 },
      { name: 'eu-west', servers: 2 },
    ],
    transport,
    seed: 7,
    network: { latencyMs: { 'us-east~eu-west': 5 } },
    heartbeat: { intervalMs: 50 },
    replication: { mode: 'none' },
    ...extra,
  };
}

/**
 * One cluster of `config(transport)` for each transport's three tests that leave it as they
 * found it: bad input (first, on the cluster as it started), then put/get, then the one-way
 * partition, which heals it. They are serial (ava runs a file's serial tests first, one at a
 * time, in order), and the cluster is stopped when the last of them ends (or after the file's
 * tests, when a --match left that one out): a threads cluster left up would beat its hearts
 * through the other tests. A threads cluster cost about 0.8 CPU s to start and stop
 * (2026-12-04); the tests that set another request timeout or crash a server start their own.
 */
const shared = new Map<string, Promise<Cluster>>();
function sharedCluster(transport: 'sim' | 'threads'): Promise<Cluster> {
  let cluster = shared.get(transport);
  if (cluster === undefined) shared.set(transport, (cluster = startCluster(config(transport))));
  return cluster;
}
async function stopShared(transport: 'sim' | 'threads'): Promise<void> {
  const cluster = shared.get(transport);
  shared.delete(transport);
  if (cluster !== undefined) await (await cluster).stop();
}
test.after.always('stop the shared clusters', async () => {
  await Promise.all(transports.map(stopShared));
});

for (const transport of transports) {
  test.serial(`${transport}: bad client input is a ValidationError and nothing is sent`, async (t) => {
    const cluster = await sharedCluster(transport);
    const c = cluster.client({ region: 'us-east' });
    await t.throwsAsync(c.put('', 1), { instanceOf: ValidationError, message: /key/ });
    // Each of these is a compile error too (client.put takes a Value); refused for JavaScript callers.
    // @ts-expect-error: undefined is no Value
    await t.throwsAsync(c.put('k', undefined), { instanceOf: ValidationError, message: /value/ });
    await t.throwsAsync(
      // @ts-expect-error: a function is no Value
      c.put('k', () => 1),
      { instanceOf: ValidationError, message: /plain data/ },
    );
    // @ts-expect-error: a bigint is no Value
    await t.throwsAsync(c.put('k', 10n), { instanceOf: ValidationError });
    // @ts-expect-error: a Map is no Value
    await t.throwsAsync(c.put('k', new Map()), { instanceOf: ValidationError, message: /Map/ });
    await t.throwsAsync(c.put('k', 'x'.repeat(70_000)), { instanceOf: ValidationError, message: /bytes/ });
    await t.throwsAsync(c.put('k'.repeat(2000), 1), { instanceOf: ValidationError, message: /bytes/ });
    t.throws(() => cluster.client({ region: 'mars' }), { instanceOf: ValidationError, message: /region/ });
    await t.throwsAsync(cluster.crash('us-east/9'), { instanceOf: ValidationError, message: /server id/ });
    t.throws(() => cluster.partition(['us-east'], ['pluto']), { instanceOf: ValidationError });
    t.throws(() => cluster.partition([], ['us-east']), { instanceOf: ValidationError, message: /^a: a non-empty array of region names/ });
    t.throws(() => cluster.partition(['us-east/9'], ['eu-west']), { instanceOf: ValidationError, message: /^a: region names, .* got "us-east\/9"$/ });
    // A name on both sides was taken (cutting that node's messages to itself).
    t.throws(() => cluster.partition(['us-east/0'], ['us-east/0']), {
      instanceOf: ValidationError,
      message: `b: names other than a's (each name on one side only), got "us-east/0", which a names too`,
    });
    t.throws(() => cluster.partition(['us-east', 'eu-west/1'], ['eu-west/0', 'us-east'], { oneWay: true }), {
      instanceOf: ValidationError,
      message: /^b: .*, got "us-east", which a names too$/,
    });
    // A region on one side and one of its servers on the other isolates that server (bench/failover.ts): taken.
    t.notThrows(() => cluster.partition(['us-east/0'], ['us-east', 'eu-west']));
    await cluster.heal();
    // Listeners: EventEmitter threw its own TypeError for one that is no function, and took any event name.
    const noop = (): void => undefined;
    for (const method of ['on', 'once', 'off', 'addListener', 'removeListener', 'prependListener', 'prependOnceListener'] as const) {
      t.throws(() => cluster[method]('member', 5 as never), { instanceOf: ValidationError, message: 'listener: a function, got 5' }, method);
      t.throws(() => cluster[method]('crashing', undefined as never), { instanceOf: ValidationError, message: 'listener: a function, got undefined' }, method);
      t.throws(
        () => cluster[method]('membr' as never, noop),
        { instanceOf: ValidationError, message: /^event: one of 'member', 'crashing', .*, got "membr"$/ },
        method,
      );
    }
    t.is(cluster.listenerCount('member'), 0, 'no listener was added');
    cluster.on('member', noop).off('member', noop);
    // The methods that read or drop listeners by name took 'membr' without a word (0, [], nothing).
    for (const method of ['listenerCount', 'listeners', 'rawListeners', 'removeAllListeners'] as const) {
      t.throws(
        () => cluster[method]('membr' as never),
        { instanceOf: ValidationError, message: /^event: one of 'member', 'crashing', .*, got "membr"$/ },
        method,
      );
      t.throws(() => cluster[method](5 as never), { instanceOf: ValidationError, message: /^event: .*, got 5$/ }, method);
    }
    // emit('membr') returned false quietly, and emit(undefined) threw a TypeError from inside EventEmitter.
    t.throws(() => cluster.emit('membr'), { instanceOf: ValidationError, message: /^event: one of 'member', 'crashing', .*, got "membr"$/ });
    t.throws(() => cluster.emit(undefined as never), { instanceOf: ValidationError, message: /^event: .*, got undefined$/ });
    t.false(cluster.emit('crashing', 'us-east/0'), 'a cluster event with no listener: false, as EventEmitter says');
    t.throws(() => cluster.listenerCount('member', 5 as never), { instanceOf: ValidationError, message: /^listener: a function, or left out/ });
    cluster.on('crashing', noop);
    t.is(cluster.listenerCount('crashing', noop), 1);
    t.deepEqual(cluster.listeners('crashing'), [noop]);
    t.is(cluster.rawListeners('crashing').length, 1);
    cluster.removeAllListeners('crashing');
    t.is(cluster.listenerCount('crashing'), 0);
    // setMaxListeners(-1) was Node's own RangeError.
    for (const bad of [-1, Number.NaN, '5']) {
      t.throws(() => cluster.setMaxListeners(bad as never), { instanceOf: ValidationError, message: /^n: a number >= 0 of listeners .*, got / }, String(bad));
    }
    t.is(cluster.setMaxListeners(20).getMaxListeners(), 20);
    // An address that is no actor of the cluster answered null, as a crashed server's does.
    await t.throwsAsync(cluster.inspect('nope/0'), {
      instanceOf: ValidationError,
      message: /^address: an actor of this cluster: a server such as 'us-east\/0', .* got "nope\/0"$/,
    });
    await t.throwsAsync(cluster.inspect(7 as never), { instanceOf: ValidationError, message: /^address: .*, got 7$/ });
    t.not(await cluster.inspect('us-east/0/hb'), null);
    t.throws(() => cluster.setNetwork({ loss: 2 }), { message: /network.loss/ });
    // Option objects: a misspelt or unknown option is named, not ignored.
    await t.throwsAsync(c.get('k', { consistensy: 'local' } as never), {
      instanceOf: ValidationError,
      message: /^options\.consistensy: not an option here \(consistency is\)/,
    });
    await t.throwsAsync(c.get('k', null as never), { instanceOf: ValidationError, message: /^options: an object \{ consistency\? \}, got null/ });
    t.throws(() => cluster.client({ region: 'us-east', timeoutMs: 50 } as never), {
      instanceOf: ValidationError,
      message: /^options\.timeoutMs: not an option here \(region is\)/,
    });
    await t.throwsAsync(cluster.crash('us-east/1', { powerloss: true } as never), {
      instanceOf: ValidationError,
      message: /^options\.powerloss: not an option here \(powerLoss is\)/,
    });
    t.throws(() => cluster.partition(['us-east'], ['eu-west'], { oneway: true } as never), { instanceOf: ValidationError, message: /^options\.oneway:/ });
    t.throws(() => cluster.history({ format: 'elle', modle: 'rw-register' } as never), {
      instanceOf: ValidationError,
      message: /^options\.modle: not an option here \(format, model are\)/,
    });
    await t.throwsAsync(cluster.serveMetrics({ prot: 9090 } as never), { instanceOf: ValidationError, message: /^options\.prot:/ });
    t.deepEqual(
      cluster.members().filter((m) => m.state !== 'up'),
      [],
      'nothing was crashed',
    );
    t.is(cluster.stats().actors[c.address]?.sent ?? 0, 0, 'the client sent nothing');
  });

  test.serial(`${transport}: put, get, delete and cas through the balancer`, async (t) => {
    const cluster = await sharedCluster(transport);
    const c = cluster.client({ region: 'eu-west' });
    t.is(await c.get('missing'), undefined);
    await c.put('a', { n: 1, tags: ['x'] });
    t.deepEqual(await c.get('a'), { n: 1, tags: ['x'] });
    t.true(await c.cas('a', { n: 1, tags: ['x'] }, 2));
    t.false(await c.cas('a', 1, 3));
    t.is(await c.get('a'), 2);
    await c.delete('a');
    t.is(await c.get('a'), undefined);
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => c.put(`k${i}`, i)));
    t.is(many.length, 200);
    t.is(await c.get('k199'), 199);
    const stats = await cluster.collectStats();
    const handled = Object.values(stats.servers).reduce((n, s) => n + s.requests, 0);
    t.true(handled >= 207, `servers handled every request (${handled})`);
    t.true(
      Object.values(stats.servers).every((s) => s.requests > 0),
      'every server got requests',
    );
  });

  test(`${transport}: a request that cannot be answered times out with TimeoutError`, async (t) => {
    const cluster = await startCluster(config(transport, { requestTimeoutMs: 300 }));
    try {
      const c = cluster.client({ region: 'us-east' });
      // A put is idempotent: on a loaded machine the first one may need longer than 300 ms.
      await putRetrying(c, 'warm', 1);
      // Cut us-east's servers off from everything: the balancer's requests vanish.
      await cluster.partition(['us-east/0', 'us-east/1', 'eu-west/0', 'eu-west/1'], ['us-east', 'eu-west']);
      const start = cluster.now();
      const error = await t.throwsAsync(c.put('x', 1), { instanceOf: TimeoutError });
      t.false(error!.definite, 'a timeout is indefinite');
      t.true(cluster.now() - start >= 299, 'after the configured timeout');
      await cluster.heal();
      await cluster.sleep(100);
      // Under load the first calls after healing may still take longer than 300 ms.
      await putRetrying(c, 'x', 2);
      t.is(await c.get('x').catch(() => c.get('x')), 2);
    } finally {
      await cluster.stop();
    }
  });

  test(`${transport}: crash and restart a server; its data survives the restart`, async (t) => {
    const cluster = await startCluster(config(transport, { requestTimeoutMs: 2000 }));
    try {
      const c = cluster.client({ region: 'us-east' });
      for (let i = 0; i < 40; i++) await c.put(`key${i}`, i);
      await cluster.crash('us-east/0');
      // Keys owned by the crashed server fail (definitely or indefinitely); others still work.
      const outcomes = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => c.get(`key${i}`)));
      const ok = outcomes.filter((o) => o.status === 'fulfilled').length;
      t.true(ok > 0 && ok < 40, `some keys live on the crashed server (${ok}/40 answered)`);
      for (const o of outcomes) if (o.status === 'rejected') t.true(o.reason instanceof TimeoutError || o.reason instanceof UnavailableError, String(o.reason));
      await cluster.restart('us-east/0');
      await cluster.sleep(200);
      for (let i = 0; i < 40; i++) t.is(await c.get(`key${i}`), i, `key${i} recovered`);
      // Servers were told of the crash (a refused connection): they refuse requests for its
      // keys at once (definitely not done) instead of sending them to a dead node.
      t.true(
        outcomes.some((o) => o.status === 'rejected' && o.reason instanceof UnavailableError),
        'keys of the crashed server fail fast and definitely',
      );
    } finally {
      await cluster.stop();
    }
  });

  test.serial(`${transport}: a one-way partition blocks one direction only, and heals`, async (t) => {
    // The last test of the shared cluster.
    t.teardown(() => stopShared(transport));
    const cluster = await sharedCluster(transport);
    await cluster.sleep(200);
    const before = await cluster.collectStats();
    await cluster.partition(['us-east'], ['eu-west'], { oneWay: true });
    await cluster.sleep(transport === 'sim' ? 500 : 400);
    const during = await cluster.collectStats();
    const dropped = (s: typeof before, link: string): number => s.links[link]?.dropped ?? 0;
    const sent = (s: typeof before, link: string): number => s.links[link]?.sent ?? 0;
    t.true(dropped(during, 'us-east->eu-west') > dropped(before, 'us-east->eu-west'), 'us-east -> eu-west is cut');
    t.is(dropped(during, 'eu-west->us-east'), dropped(before, 'eu-west->us-east'), 'eu-west -> us-east is not');
    t.true(sent(during, 'eu-west->us-east') > sent(before, 'eu-west->us-east'), 'eu-west -> us-east still flows');
    t.true((during.dropped.partition ?? 0) > 0);
    await cluster.heal();
    await cluster.sleep(100);
    const healed = await cluster.collectStats();
    await cluster.sleep(300);
    const later = await cluster.collectStats();
    t.is(dropped(later, 'us-east->eu-west'), dropped(healed, 'us-east->eu-west'), 'no drops after heal');
    t.true(sent(later, 'us-east->eu-west') > sent(healed, 'us-east->eu-west'));
  });
}

test('sim: a crashed server is marked down and comes back up after restart', async (t) => {
  const cluster = await startCluster(config('sim'));
  try {
    await cluster.sleep(500);
    t.true(cluster.members().every((m) => m.state === 'up'));
    await cluster.crash('eu-west/1');
    await cluster.sleep(3000);
    t.is(cluster.members().find((m) => m.id === 'eu-west/1')!.state, 'down');
    await cluster.restart('eu-west/1');
    await cluster.sleep(500);
    t.is(cluster.members().find((m) => m.id === 'eu-west/1')!.state, 'up');
  } finally {
    await cluster.stop();
  }
});

test("sim: the history keeps the values as sent and read, whatever the caller does with its objects afterwards (it kept the caller's own)", async (t) => {
  const cluster = await startCluster(config('sim'));
  try {
    const c = cluster.client({ region: 'us-east' });
    // Objects reused or changed after the call, as a caller may: the history had them as changed.
    const value = { n: 1, tags: ['x'], bytes: new Uint8Array([1, 2]) };
    await c.put('a', value);
    value.n = 2;
    value.tags.push('y');
    value.bytes[0] = 9;
    const read = (await c.get('a')) as typeof value;
    read.n = 3;
    t.true(await c.cas('a', { n: 1, tags: ['x'], bytes: new Uint8Array([1, 2]) }, { n: 4 }));
    const op = { op: 'append' as const, key: 'list', value: { v: 1 } };
    await c.transaction([op]);
    op.value.v = 2;
    const [list] = (await c.transaction([{ op: 'get', key: 'list' }])) as [Array<{ v: number }>];
    list[0]!.v = 5;
    const history = cluster.history();
    // Key 'list' is appended to (no register): Elle's history checks it.
    t.is(
      checkHistory(
        history.filter((o) => o.key === 'a'),
        'register',
      ).verdict,
      'linearizable',
    );
    t.deepEqual(history[0]!.input, { n: 1, tags: ['x'], bytes: new Uint8Array([1, 2]) });
    t.deepEqual(history[1]!.output, { n: 1, tags: ['x'], bytes: new Uint8Array([1, 2]) });
    t.deepEqual(
      cluster.history({ format: 'elle' }).map((e) => e.value),
      [[['append', 'list', { v: 1 }]], [['append', 'list', { v: 1 }]], [['r', 'list', null]], [['r', 'list', [{ v: 1 }]]]],
    );
  } finally {
    await cluster.stop();
  }
});

test('stop() fails open calls and the cluster refuses new ones', async (t) => {
  const cluster = await startCluster(config('threads'));
  const c = cluster.client({ region: 'us-east' });
  await cluster.partition(['us-east/0', 'us-east/1', 'eu-west/0', 'eu-west/1'], ['us-east', 'eu-west']);
  const pending = c.put('x', 1);
  await cluster.stop();
  await t.throwsAsync(pending, { message: /stopped/ });
  await t.throwsAsync(c.put('y', 1), { message: /stopped/ });
});

for (const transport of transports) {
  test(`${transport}: concurrent crashes and restarts of one server apply in call order`, async (t) => {
    const cluster = await startCluster({ regions: [{ name: 'a', servers: 2 }], transport, seed: 1, requestTimeoutMs: 2_000 });
    try {
      const crashing: string[] = [];
      cluster.on('crashing', (id: string) => crashing.push(id));
      // Not awaited in between: on threads the restart came while the crash was terminating the
      // thread, saw it still alive and did nothing; the server stayed dead but not down.
      const settled = await Promise.allSettled([cluster.crash('a/0'), cluster.restart('a/0')]);
      t.deepEqual(
        settled.map((r) => r.status),
        ['fulfilled', 'fulfilled'],
      );
      t.false(cluster.isDown('a/0'));
      t.not(await cluster.inspect('a/0'), null, 'a/0 runs again');
      await eventually(cluster, () => cluster.members().find((m) => m.id === 'a/0')!.state === 'up', { message: 'a/0 up' });
      await Promise.allSettled([cluster.crash('a/0'), cluster.restart('a/0'), cluster.crash('a/0')]);
      t.true(cluster.isDown('a/0'), 'the last call, a crash, wins');
      t.is(await cluster.inspect('a/0'), null);
      t.deepEqual(crashing, ['a/0', 'a/0', 'a/0']);
      await cluster.restart('a/0');
      t.false(cluster.isDown('a/0'));
      t.not(await cluster.inspect('a/0'), null);
      // Pauses and resumes too: a pause called while a crash is under way finds a/0 crashed.
      const [crash, pause] = await Promise.allSettled([cluster.crash('a/0'), cluster.pause('a/0')]);
      t.is(crash.status, 'fulfilled');
      t.like(pause, { status: 'rejected', reason: { field: 'id' } });
      // A pause called after a restart applies once the restart has: it found a/0 crashed before.
      const again = await Promise.allSettled([cluster.restart('a/0'), cluster.pause('a/0')]);
      t.deepEqual(
        again.map((r) => r.status),
        ['fulfilled', 'fulfilled'],
      );
      t.true(cluster.isPaused('a/0'));
      await Promise.allSettled([cluster.crash('a/0'), cluster.restart('a/0'), cluster.resume('a/0')]);
      t.false(cluster.isDown('a/0'));
      t.false(cluster.isPaused('a/0'));
      t.not(await cluster.inspect('a/0'), null);
    } finally {
      await cluster.stop();
    }
  });
}
