import test from 'ava';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, startCluster, type ClusterConfig } from '../src/index.js';
import { validateConfig } from '../src/cluster/config.js';

const base = (): ClusterConfig => ({
  regions: [
    { name: 'us-east', servers: 1 },
    { name: 'eu-west', servers: 1 },
  ],
  transport: 'sim',
  seed: 1,
});

/** Each bad config, the field its error must name, and a fragment of what is allowed. */
const cases: Array<[string, (c: Record<string, unknown>) => void, string, RegExp]> = [
  [
    'no regions',
    (c) => {
      c.regions = [];
    },
    'regions',
    /non-empty array/,
  ],
  [
    'a hole in regions (it was dropped)',
    (c) => {
      c.regions = Object.assign([], { 1: { name: 'a', servers: 1 } });
    },
    'regions[0]',
    /object \{ name, servers \}/,
  ],
  [
    'regions not an array',
    (c) => {
      c.regions = 'us-east';
    },
    'regions',
    /array/,
  ],
  [
    'duplicate region names',
    (c) => {
      c.regions = [
        { name: 'a', servers: 1 },
        { name: 'a', servers: 2 },
      ];
    },
    'regions[1].name',
    /not used by another region/,
  ],
  [
    'bad region name',
    (c) => {
      c.regions = [{ name: 'US East', servers: 1 }];
    },
    'regions[0].name',
    /lowercase/,
  ],
  // Names the runtime uses for itself (found by an audit, session 54): a region named front was
  // partitioned with every balancer, and one named constructor failed the start with a TypeError.
  ...['front', 'runtime', 'constructor'].map((name): [string, (c: Record<string, unknown>) => void, string, RegExp] => [
    `region named ${name}`,
    (c) => {
      c.regions = [
        { name: 'a', servers: 1 },
        { name, servers: 1 },
      ];
    },
    'regions[1].name',
    /a name other than front, runtime, constructor \(names the runtime uses for itself\), got "/,
  ]),
  [
    'zero servers',
    (c) => {
      c.regions = [{ name: 'a', servers: 0 }];
    },
    'regions[0].servers',
    /integer from 1/,
  ],
  [
    'fractional servers',
    (c) => {
      c.regions = [{ name: 'a', servers: 1.5 }];
    },
    'regions[0].servers',
    /integer/,
  ],
  [
    'unknown region key',
    (c) => {
      c.regions = [{ name: 'a', servers: 1, zone: 'x' }];
    },
    'regions[0].zone',
    /known options/,
  ],
  [
    'unknown top-level option',
    (c) => {
      c.replicas = 3;
    },
    'replicas',
    /known options/,
  ],
  [
    'unknown transport',
    (c) => {
      c.transport = 'tcp';
    },
    'transport',
    /'threads', 'sim'/,
  ],
  [
    'unknown placement',
    (c) => {
      c.placement = 'spread';
    },
    'placement',
    /'dedicated', 'packed'/,
  ],
  [
    'threads without packed',
    (c) => {
      c.threads = 4;
    },
    'threads',
    /packed/,
  ],
  [
    'negative seed',
    (c) => {
      c.seed = -1;
    },
    'seed',
    /integer/,
  ],
  [
    'replication without a mode',
    (c) => {
      c.replication = { factor: 3 };
    },
    'replication.mode',
    /^config\.replication\.mode: expected one of 'none', 'passive', 'active', 'hybrid': a replication object names its mode \(leave replication out for 'active' at the default factor\)$/,
  ],
  [
    'unknown replication mode',
    (c) => {
      c.replication = { mode: 'chain' };
    },
    'replication.mode',
    /'passive', 'active', 'hybrid'/,
  ],
  [
    'replication factor too high',
    (c) => {
      c.replication = { mode: 'active', factor: 9 };
    },
    'replication.factor',
    /integer from 1 to 2/,
  ],
  [
    'snapshot interval zero',
    (c) => {
      c.replication = { mode: 'active', snapshotEvery: 0 };
    },
    'replication.snapshotEvery',
    /integer from 1 to 1000000/,
  ],
  [
    'snapshot interval fractional',
    (c) => {
      c.replication = { mode: 'active', snapshotEvery: 2.5 };
    },
    'replication.snapshotEvery',
    /integer/,
  ],
  [
    'checkpoint interval below 16',
    (c) => {
      c.replication = { mode: 'active', checkpointEvery: 8 };
    },
    'replication.checkpointEvery',
    /integer from 16 to 10000000/,
  ],
  [
    'unknown commit protocol',
    (c) => {
      c.commit = '4pc';
    },
    'commit',
    /'2pc', '3pc', 'paxos-commit'/,
  ],
  [
    'negative latency',
    (c) => {
      c.network = { latencyMs: { 'us-east~eu-west': -5 } };
    },
    'network.latencyMs["us-east~eu-west"]',
    /latency/,
  ],
  [
    'unknown region in latency map',
    (c) => {
      c.network = { latencyMs: { 'us-east~mars': 5 } };
    },
    'network.latencyMs["us-east~mars"]',
    /regions that exist/,
  ],
  [
    'malformed latency key',
    (c) => {
      c.network = { latencyMs: { 'us-east': 5 } };
    },
    'network.latencyMs["us-east"]',
    /regionA~regionB/,
  ],
  [
    'one pair given twice, under both spellings, with different latencies',
    (c) => {
      c.network = { latencyMs: { 'us-east~eu-west': 5, 'eu-west~us-east': 50 } };
    },
    'network.latencyMs["eu-west~us-east"]',
    /one latency per pair of regions \('us-east~eu-west' is the same pair/,
  ],
  [
    'loss above 1',
    (c) => {
      c.network = { loss: 1.5 };
    },
    'network.loss',
    /probability from 0 to 1/,
  ],
  [
    'negative duplication',
    (c) => {
      c.network = { duplicate: -0.1 };
    },
    'network.duplicate',
    /probability/,
  ],
  [
    'negative duplicate delay',
    (c) => {
      c.network = { duplicate: 0.1, duplicateDelayMs: -5 };
    },
    'network.duplicateDelayMs',
    /number/,
  ],
  [
    'negative jitter',
    (c) => {
      c.network = { jitterMs: -1 };
    },
    'network.jitterMs',
    /number/,
  ],
  [
    'unknown strategy',
    (c) => {
      c.balancer = { strategy: 'fastest' };
    },
    'balancer.strategy',
    /round-robin/,
  ],
  [
    'negative weight',
    (c) => {
      c.balancer = { strategy: 'weighted-round-robin', weights: { 'us-east/0': -1 } };
    },
    'balancer.weights["us-east/0"]',
    /./,
  ],
  [
    'weight for an unknown server',
    (c) => {
      c.balancer = { strategy: 'weighted-round-robin', weights: { 'us-east/7': 2 } };
    },
    'balancer.weights["us-east/7"]',
    /server id/,
  ],
  [
    'a hole in balancer.locality.priority (it was dropped)',
    (c) => {
      c.balancer = { locality: { priority: Object.assign([], { 1: 'eu-west' }) } };
    },
    'balancer.locality.priority[0]',
    /region name/,
  ],
  [
    'threshold zero',
    (c) => {
      c.heartbeat = { phiThreshold: 0 };
    },
    'heartbeat.phiThreshold',
    /./,
  ],
  [
    'negative heartbeat interval',
    (c) => {
      c.heartbeat = { intervalMs: -10 };
    },
    'heartbeat.intervalMs',
    /./,
  ],
  [
    'zero request timeout',
    (c) => {
      c.requestTimeoutMs = 0;
    },
    'requestTimeoutMs',
    /number from 1/,
  ],
  [
    'zero shards',
    (c) => {
      c.shards = 0;
    },
    'shards',
    /integer from 1/,
  ],
  [
    'tiny message limit',
    (c) => {
      c.messageBytesMax = 10;
    },
    'messageBytesMax',
    /integer from 64/,
  ],
  [
    'fsync not boolean',
    (c) => {
      c.fsync = 'yes';
    },
    'fsync',
    /true or false/,
  ],
  // Options a transport would ignore (each was accepted and ignored before).
  [
    'trace with transport threads (only sim records a trace)',
    (c) => {
      c.transport = 'threads';
      c.trace = true;
    },
    'trace',
    /^config\.trace: expected false or absent with transport 'threads' \(only transport 'sim' records a trace\), got true$/,
  ],
  [
    'workerHeapMb with transport sim',
    (c) => {
      c.workerHeapMb = 256;
    },
    'workerHeapMb',
    /^config\.workerHeapMb: expected absent with transport 'sim' \(only transport 'threads' uses it: each worker thread's heap\), got 256$/,
  ],
  [
    'dataDir with transport sim',
    (c) => {
      c.dataDir = '/tmp/meridian-logs';
    },
    'dataDir',
    /^config\.dataDir: expected absent with transport 'sim' \(only transports 'threads' and 'nats' keep logs on disk; sim keeps them in memory\)/,
  ],
  // Options a mode would ignore (each was accepted and ignored before).
  [
    'replication.sync with mode active',
    (c) => {
      c.replication = { mode: 'active', sync: false };
    },
    'replication.sync',
    /^config\.replication\.sync: expected absent with mode 'active' \(only modes 'passive' and 'hybrid' read it\), got false$/,
  ],
  [
    'replication.sync: true with mode none',
    (c) => {
      c.replication = { mode: 'none', sync: true };
    },
    'replication.sync',
    /absent with mode 'none'/,
  ],
  [
    'replication.lagBound with mode active',
    (c) => {
      c.replication = { mode: 'active', lagBound: 10 };
    },
    'replication.lagBound',
    /^config\.replication\.lagBound: expected absent with mode 'active' \(only sync: false in mode 'passive' or 'hybrid' reads it\), got 10$/,
  ],
  [
    'replication.lagBound with passive and the default sync: true',
    (c) => {
      c.replication = { mode: 'passive', factor: 2, lagBound: 10 };
    },
    'replication.lagBound',
    /^config\.replication\.lagBound: expected absent with sync: true \(the default\) \(only sync: false in mode 'passive' or 'hybrid' reads it\)/,
  ],
  [
    'replication.lagBound with hybrid and sync: true',
    (c) => {
      c.replication = { mode: 'hybrid', factor: 1, sync: true, lagBound: 10 };
    },
    'replication.lagBound',
    /absent with sync: true/,
  ],
];

for (const [name, mutate, field, allowed] of cases) {
  test(`ConfigError: ${name}`, async (t) => {
    const config = base() as unknown as Record<string, unknown>;
    mutate(config);
    const error = await t.throwsAsync(startCluster(config as unknown as ClusterConfig), { instanceOf: ConfigError });
    t.is(error!.field, field);
    t.regex(error!.message, allowed);
    t.true(error!.message.includes(field), 'the message names the field');
    t.is(error!.code, 'CONFIG');
  });
}

test('replication.sync and lagBound start where they are read: passive and hybrid, lagBound with sync: false', async (t) => {
  for (const replication of [
    { mode: 'passive', factor: 2, sync: false, lagBound: 5 },
    { mode: 'passive', factor: 2, sync: true },
    { mode: 'hybrid', factor: 1, sync: false, lagBound: 1 },
  ] as const) {
    const cluster = await startCluster({ ...base(), replication });
    await cluster.client({ region: 'us-east' }).put('k', 1);
    t.is(await cluster.client({ region: 'eu-west' }).get('k'), 1, JSON.stringify(replication));
    await cluster.stop();
  }
});

test('trace: false, dataDir and workerHeapMb are taken where they are used', async (t) => {
  // Checked before any thread starts: validateConfig alone.
  const hooks = { balancer: () => ({}) as never, heartbeat: () => ({}) as never, cores: 2, randomSeed: () => 1 };
  for (const transport of ['sim', 'threads'] as const) t.false(validateConfig({ ...base(), transport, trace: false }, hooks).trace, transport);
  const threads = validateConfig({ ...base(), transport: 'threads', dataDir: '/tmp/x', workerHeapMb: 128 }, hooks);
  t.is(threads.dataDir, '/tmp/x');
  t.is(threads.workerHeapMb, 128);
  t.true(validateConfig({ ...base(), fsync: true }, hooks).fsync, 'sim takes fsync (power-loss crashes read it)');
});

test('ConfigError: not an object at all', async (t) => {
  await t.throwsAsync(startCluster(null as unknown as ClusterConfig), { instanceOf: ConfigError });
});

test('a valid config starts and stops', async (t) => {
  const cluster = await startCluster(base());
  t.is(cluster.members().length, 2);
  await cluster.stop();
});

test('a latency given under both spellings of a pair with the same value is kept once', async (t) => {
  const cluster = await startCluster({ ...base(), network: { latencyMs: { 'us-east~eu-west': 5, 'eu-west~us-east': 5 } } });
  t.deepEqual(cluster.currentNetwork().latencyMs, { 'us-east~eu-west': 5 });
  await cluster.stop();
});

test('setNetwork: a latency replaces its pair whichever spelling either uses', async (t) => {
  const cluster = await startCluster({ ...base(), replication: { mode: 'none' }, network: { latencyMs: { 'us-east~eu-west': 5 }, jitterMs: 0.001 } });
  let key = '';
  for (let i = 0; key === ''; i++) if (cluster.serverFor(`k${i}`).startsWith('us-east/')) key = `k${i}`;
  const client = cluster.client({ region: 'eu-west' });
  await cluster.sleep(1000);
  const roundTrip = async (): Promise<number> => {
    const t0 = cluster.now();
    await client.get(key);
    return Math.round(cluster.now() - t0);
  };
  t.is(await roundTrip(), 10);
  await cluster.setNetwork({ latencyMs: { 'eu-west~us-east': 50 } });
  t.deepEqual(cluster.currentNetwork().latencyMs, { 'us-east~eu-west': 50 });
  t.is(await roundTrip(), 100);
  await cluster.setNetwork({ latencyMs: { 'us-east~eu-west': 10 } });
  t.deepEqual(cluster.currentNetwork().latencyMs, { 'us-east~eu-west': 10 });
  t.is(await roundTrip(), 20);
  t.throws(() => cluster.setNetwork({ latencyMs: { 'us-east~eu-west': 1, 'eu-west~us-east': 2 } }), {
    instanceOf: ConfigError,
    message: /network\.latencyMs\["eu-west~us-east"\]/,
  });
  t.deepEqual(cluster.currentNetwork().latencyMs, { 'us-east~eu-west': 10 }, 'a refused change changes nothing');
  await cluster.stop();
});

test("setNetwork's errors name the field as the argument has it, network.x (they said config.network.x, no config's field: found by a review, session 57)", async (t) => {
  const cluster = await startCluster(base());
  t.teardown(() => cluster.stop());
  const loss = t.throws(() => cluster.setNetwork({ loss: 2 }), { instanceOf: ConfigError });
  t.is(loss?.message, 'network.loss: expected a probability from 0 to 1, got 2');
  t.is(loss?.field, 'network.loss');
  t.throws(() => cluster.setNetwork(5 as never), { instanceOf: ConfigError, message: /^network: expected a plain object, got 5$/ });
  t.throws(() => cluster.setNetwork({ latencyMs: { 'us-east~nowhere': 3 } }), {
    instanceOf: ConfigError,
    message: /^network\.latencyMs\["us-east~nowhere"\]: expected /,
  });
  // The same field at startCluster is the config's.
  await t.throwsAsync(startCluster({ ...base(), network: { loss: 2 } }), {
    instanceOf: ConfigError,
    message: /^config\.network\.loss: expected a probability/,
  });
});

test('ConfigError: a dataDir that is a file, or under one, names dataDir (not a bare EEXIST or ENOTDIR)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-config-'));
  try {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    for (const [dataDir, why] of [
      [file, /\(it is a file\)/],
      [join(file, 'logs'), /\(ENOTDIR creating it\)/],
    ] as const) {
      const error = await t.throwsAsync(startCluster({ ...base(), transport: 'threads', dataDir }), { instanceOf: ConfigError });
      t.is(error!.field, 'dataDir');
      t.regex(error!.message, /^config\.dataDir: expected a directory, or a path where one can be created/);
      t.regex(error!.message, why);
    }
    // A path that does not exist yet is made, as before.
    const fresh = join(dir, 'new', 'logs');
    const cluster = await startCluster({ ...base(), transport: 'threads', dataDir: fresh });
    await cluster.stop();
    t.true(statSync(fresh).isDirectory());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a config that is no plain object says what it is (it read "expected an object, got an object")', async (t) => {
  class Config {
    regions = [{ name: 'a', servers: 1 }];
  }
  const bare = Object.assign(Object.create(null) as object, base());
  await t.throwsAsync(startCluster(new Config() as never), {
    instanceOf: ConfigError,
    message: 'config.(root): expected a plain object, got an instance of Config',
  });
  await t.throwsAsync(startCluster(bare as never), {
    instanceOf: ConfigError,
    message: 'config.(root): expected a plain object, got an object with no prototype (Object.create(null))',
  });
  await t.throwsAsync(startCluster({ ...base(), network: new Map() } as never), {
    instanceOf: ConfigError,
    message: 'config.network: expected a plain object, got an instance of Map',
  });
});

test('currentPartitions lists the partitions in force, as copies, until heal (currentNetwork never showed them: session 60 notes)', async (t) => {
  const cluster = await startCluster(base());
  t.deepEqual(cluster.currentPartitions(), []);
  await cluster.partition(['us-east'], ['eu-west'], { oneWay: true });
  await cluster.partition(['eu-west/0'], ['us-east/0']);
  const rules = cluster.currentPartitions();
  t.deepEqual(rules, [
    { from: ['us-east'], to: ['eu-west'], oneWay: true },
    { from: ['eu-west/0'], to: ['us-east/0'], oneWay: false },
  ]);
  rules[0]!.from.push('eu-west');
  t.deepEqual(cluster.currentPartitions()[0]!.from, ['us-east'], 'a copy: changing it changes nothing');
  await cluster.heal();
  t.deepEqual(cluster.currentPartitions(), []);
  await cluster.stop();
});
