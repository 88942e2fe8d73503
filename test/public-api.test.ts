import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as api from '../src/index.js';
import { runNode } from './helpers/run-node.js';
import {
  checkTransactions,
  ConfigError,
  startCluster,
  ValidationError,
  type BalancerConfig,
  type ClusterConfig,
  type HeartbeatConfig,
  type AssertionFailure,
  type ActorSummary,
  type Ballot,
  type CrashOptions,
  type History,
  type HostEvent,
  type MemberEvent,
  type MemberState,
  type MemoryLimits,
  type ReplicaSnapshot,
  type ReplicaState,
  type ShardLeader,
  type ShardView,
  type TxnUnsafe,
  type BalancerChoice,
  type CheckNats,
  type CheckTransport,
  type LimitsChoice,
  type NemesisTarget,
  type ScenarioInspection,
  type Value,
} from '../src/index.js';

/**
 * The package's public API: the names it exports at run time, the typed balancer and
 * heartbeat sections (a wrong key is a compile error here, and still a ConfigError at run
 * time for JavaScript callers), and the docs importing only what is exported.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Every value the package exports. A new export is a decision: add it here on purpose. */
const VALUES = [
  'ALL_FAULT_KINDS',
  'AbortedError',
  'Client',
  'Cluster',
  'ConfigError',
  'ControlError',
  'FAULT_KINDS',
  'HistoryRecorder',
  'HostExitedError',
  'InvariantFailure',
  'MeridianError',
  'NatsUnreachableError',
  'AnswerTooLargeError',
  'Nemesis',
  'ProgressWatch',
  'SIM_ONLY_FAULT_KINDS',
  'SeedRunError',
  'SimulationStalledError',
  'StoppedError',
  'TimeoutError',
  'UnavailableError',
  'ValidationError',
  'checkHistory',
  'checkLinearizable',
  'checkTransactions',
  'checkTransactionsParallel',
  'createCheckPool',
  'defaultCrashMax',
  'describePlan',
  'drawShape',
  'drawSwarm',
  'eventually',
  'formatFaultEvent',
  'histogramSeries',
  'historyFromJson',
  'historyToJson',
  'runBankScenario',
  'runChecks',
  'runScenario',
  'runTxnScenario',
  'sampleValue',
  'shrinkSeed',
  'startCluster',
  'withCluster',
];

test('the package exports exactly the listed values, none of the metrics internals', (t) => {
  t.deepEqual(Object.keys(api).sort(), [...VALUES].sort());
  for (const internal of ['Registry', 'Counter', 'Gauge', 'Histogram', 'LogLinearHistogram', 'toPrometheusText', 'buildClusterMetrics']) {
    t.false(internal in api, internal);
  }
});

test("the published declarations leave out what only Meridian's own code calls (@internal)", (t) => {
  // A user saw cluster.onHostEvent(event), warnOfConfig(), internals (the runtime itself) and
  // client.fail(error) as public API: calling one fed the cluster fake host events or failed
  // every open call. tsconfig's stripInternal leaves them out of the .d.ts files.
  const cluster = readFileSync(`${root}dist/src/cluster/cluster.d.ts`, 'utf8');
  const client = readFileSync(`${root}dist/src/cluster/client.d.ts`, 'utf8');
  for (const member of ['onHostEvent(', 'warnOfConfig(', 'get internals(']) t.false(cluster.includes(member), member);
  t.false(/^\s+fail\(error/m.test(client), 'Client.fail');
  t.true(cluster.includes('shardLeaders(') && /^\s+close\(\)/m.test(client), 'the public members are still declared');
});

test("checkHistory's published signature is (history, model, options?): the check pool's shared state is not in it", (t) => {
  // A fourth parameter, `shared?: Int32Array` (the cells the pool's threads share), was in the
  // public signature and the .d.ts, for no user to pass.
  const dts = readFileSync(`${root}dist/src/harness/linearizability.d.ts`, 'utf8');
  const declared = /export declare function checkHistory\(([^)]*)\)/.exec(dts);
  t.is(declared?.[1], 'history: History, modelName: ModelName, options?: CheckOptions');
});

test('README and docs name every value the package exports', (t) => {
  // describePlan, formatFaultEvent, sampleValue and histogramSeries were exported and named nowhere.
  const docs = [
    'README.md',
    ...readdirSync(`${root}docs`)
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ]
    .map((f) => readFileSync(`${root}${f}`, 'utf8'))
    .join('\n');
  for (const name of VALUES) t.true(new RegExp(`\\b${name}\\b`).test(docs), `${name} is exported and documented nowhere`);
});

/** Names exported by dist/src/index.d.ts, types included. */
function exportedNames(): Set<string> {
  const dts = readFileSync(`${root}dist/src/index.d.ts`, 'utf8');
  const names = new Set<string>();
  for (const block of dts.matchAll(/export (?:type )?\{([^}]*)\}/g)) {
    for (const part of block[1]!.split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()!
        .trim();
      if (name !== '') names.add(name);
    }
  }
  return names;
}

test('README, docs and the tour import only names the package exports', (t) => {
  const exported = exportedNames();
  t.true(exported.has('BalancerConfig') && exported.has('HeartbeatConfig') && exported.has('startCluster'), [...exported].join(', '));
  const files = [
    'README.md',
    ...readdirSync(`${root}docs`)
      .filter((f) => /\.(md|mjs|js)$/.test(f))
      .map((f) => `docs/${f}`),
    'docs/examples/tour.mjs',
  ];
  let imports = 0;
  for (const file of files) {
    const text = readFileSync(`${root}${file}`, 'utf8');
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'meridian'/g)) {
      for (const part of m[1]!.split(',')) {
        const name = part
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)[0]!
          .trim();
        if (name === '') continue;
        imports++;
        t.true(exported.has(name), `${file} imports ${name}, which the package does not export`);
      }
    }
  }
  t.true(imports >= 4, `found ${imports} imported names in ${files.join(', ')}`);
});

test('balancer and heartbeat sections are typed; wrong keys and values are compile errors and ConfigErrors', async (t) => {
  // Each line below compiles only because of its @ts-expect-error: without the typed
  // sections (any key, any value) the directive itself would fail the build.
  const cases: Array<[Partial<ClusterConfig>, string]> = [];
  // @ts-expect-error: no such strategy
  const strategy: BalancerConfig = { strategy: 'fastest' };
  cases.push([{ balancer: strategy }, 'balancer.strategy']);
  // @ts-expect-error: no such key
  const key: BalancerConfig = { strategy: 'maglev', tableSize: 13 };
  cases.push([{ balancer: key }, 'balancer.tableSize']);
  // @ts-expect-error: a number, not a string
  const weight: BalancerConfig = { strategy: 'weighted-round-robin', weights: { 'us-east/0': 'heavy' } };
  cases.push([{ balancer: weight }, 'balancer.weights["us-east/0"]']);
  // @ts-expect-error: intervalMs, not intervalMS
  const interval: HeartbeatConfig = { intervalMS: 50 };
  cases.push([{ heartbeat: interval }, 'heartbeat.intervalMS']);
  // @ts-expect-error: a number, not a string
  const phi: HeartbeatConfig = { phiThreshold: '8' };
  cases.push([{ heartbeat: phi }, 'heartbeat.phiThreshold']);

  // What the types accept, the runtime accepts.
  const good: ClusterConfig = {
    regions: [{ name: 'us-east', servers: 2 }],
    transport: 'sim',
    seed: 1,
    balancer: { strategy: 'least-request', choiceCount: 2, locality: { priority: [] }, outlier: { consecutiveFailures: 3 } },
    heartbeat: { intervalMs: 50, phiThreshold: 8 },
  };
  const cluster = await startCluster(good);
  await cluster.stop();

  for (const [part, field] of cases) {
    const error = await t.throwsAsync(startCluster({ regions: [{ name: 'us-east', servers: 2 }], transport: 'sim', seed: 1, ...part }), {
      instanceOf: ConfigError,
    });
    t.is(error?.field, field, error?.message);
  }
});

test("a client's values are typed Value: a function, symbol or bigint is a compile error, and still refused at run time", async (t) => {
  // client.put and cas took `unknown`: such values compiled and were refused only at run time.
  const cluster = await startCluster({ regions: [{ name: 'us-east', servers: 1 }], transport: 'sim', seed: 1, replication: { mode: 'none' } });
  try {
    const client = cluster.client({ region: 'us-east' });
    const good: Value = { list: [1, 'two', null, true, new Uint8Array([3])], nested: { n: 4 } };
    await client.put('k', good);
    const back: Value | undefined = await client.get('k');
    t.deepEqual(back, { list: [1, 'two', null, true, Buffer.from([3])], nested: { n: 4 } });
    t.true(await client.cas('k', good, 'next'));
    const refused: Array<Promise<unknown>> = [
      // @ts-expect-error: a function is no Value
      client.put('k', () => 1),
      // @ts-expect-error: nor a symbol
      client.put('k', Symbol('s')),
      // @ts-expect-error: nor a bigint
      client.cas('k', 'next', 1n),
      // @ts-expect-error: nor a function nested in an object
      client.cas('k', { f: () => 1 }, 'x'),
    ];
    for (const call of refused) await t.throwsAsync(call, { instanceOf: ValidationError });
    t.is(await client.get('k'), 'next');
  } finally {
    await cluster.stop();
  }
});

test("the tour (docs/examples/tour.mjs) prints what the README shows: the simulator's run is the same on any machine", async (t) => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const block = /```\n\$ node docs\/examples\/tour\.mjs[^\n]*\n([\s\S]*?)```/.exec(readme);
  t.truthy(block, "README's tour block (`$ node docs/examples/tour.mjs`)");
  const r = await runNode(new URL('../../docs/examples/tour.mjs', import.meta.url), [], 60_000);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, block![1]);
});

test('what the calls return or take has a name the package exports, cluster events are typed, and a cluster history checks as transactions', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'us-east', servers: 3 }], transport: 'sim', seed: 1, replication: { mode: 'active', factor: 3 } });
  try {
    const client = cluster.client({ region: 'us-east' });
    await client.transaction([
      { op: 'append', key: 'l', value: 1 },
      { op: 'get', key: 'l' },
    ]);
    // Each annotation names a type the package did not export (the declarations could not be
    // written without a path into dist/): an import error here fails the build.
    const leaders: ShardLeader[] = cluster.shardLeaders();
    const states: ReplicaState[] = cluster.replicaStates(0);
    const snapshot: ReplicaSnapshot | undefined = states[0]?.state;
    const ballot: Ballot | undefined = leaders[0]?.ballot;
    const state: MemberState | undefined = cluster.members()[0]?.state;
    const failures: AssertionFailure[] = cluster.assertionFailures();
    const crash: CrashOptions = { powerLoss: true };
    const limits: Partial<MemoryLimits> = { seenRequests: 8 };
    const unsafe: TxnUnsafe = 'release-locks-at-prepare';
    const view: ShardView | undefined = leaders[0];
    // The options of runChecks and runScenario, and what a Nemesis drives.
    const transport: CheckTransport = 'sim';
    const nats: CheckNats = { servers: 'nats://127.0.0.1:4222', processes: 1 };
    const choices: [LimitsChoice, BalancerChoice] = ['small', 'drawn'];
    const target: NemesisTarget = cluster;
    const inspections: ScenarioInspection[] = [];
    t.deepEqual([transport, nats.processes, ...choices, target === cluster, inspections.length], ['sim', 1, 'small', 'drawn', true, 0]);
    t.truthy(snapshot && view && state);
    // inspect() answers an ActorSummary (it was `unknown`: a reader cast it to read a field).
    const inspected: ActorSummary | null = await cluster.inspect('us-east/0');
    t.like(inspected, { address: 'us-east/0', behavior: 'server', status: 'running' });
    t.deepEqual(Object.keys(inspected ?? {}).sort(), [
      'address',
      'behavior',
      'counters',
      'incarnation',
      'mailbox',
      'received',
      'restarts',
      'sent',
      'state',
      'status',
      'timers',
    ]);
    // @ts-expect-error: no such status (the comparison cannot be true)
    t.false(inspected?.status === 'sleeping');
    t.deepEqual([typeof ballot?.round, failures, crash.powerLoss, limits.seenRequests, unsafe], ['number', [], true, 8, 'release-locks-at-prepare']);

    // Listeners get their event's type; a misspelt event is a compile error as it is a
    // ValidationError (the listener's argument was `any`, and any name compiled).
    const seen: string[] = [];
    cluster.on('member', (change: MemberEvent) => void seen.push(change.id));
    cluster.once('crashing', (id) => void seen.push(id.toUpperCase()));
    cluster.on('host-exit', (event) => void seen.push(event.nodes.join()));
    const failed: Array<(id: number) => void> = [];
    // @ts-expect-error: 'crashing' passes a server id, a string
    cluster.on('crashing', (id: number) => void failed.push(() => id));
    // @ts-expect-error: no such event
    t.throws(() => cluster.on('membr', () => undefined), { instanceOf: ValidationError });
    // @ts-expect-error: a member change has no `bogus`
    cluster.off('member', (change) => void change.bogus);
    // @ts-expect-error: likewise for the methods that read or drop listeners by name
    t.throws(() => cluster.listenerCount('membr'), { instanceOf: ValidationError });
    const exits: HostEvent[] = [];
    cluster.prependListener('warn', (event) => void exits.push(event));

    // history's model shapes Elle's events only: with the ops format it was typed, taken and ignored.
    const ops: History = cluster.history({ format: 'ops' });
    t.true(Array.isArray(ops));
    // @ts-expect-error: no model without format 'elle'
    t.throws(() => cluster.history({ format: 'ops', model: 'rw-register' }), {
      instanceOf: ValidationError,
      message: /^options\.model: only with format: 'elle'/,
    });
    // @ts-expect-error: likewise with the format left out
    t.throws(() => cluster.history({ model: 'list-append' }), { instanceOf: ValidationError, message: /^options\.model: only with format: 'elle'/ });

    // cluster.history({ format: 'elle' }) goes to the transactional checker as it is (it needed `as ElleOp[]`).
    await cluster.crash('us-east/1');
    t.true(seen.includes('US-EAST/1'), seen.join(' '));
    t.true(checkTransactions(cluster.history({ format: 'elle' }), { model: 'list-append', consistency: 'strict-serializable' }).ok);
    await client.transaction([{ op: 'append', key: 'l', value: { not: 'a number' } }]);
    t.throws(() => checkTransactions(cluster.history({ format: 'elle' }), { model: 'list-append' }), {
      instanceOf: ValidationError,
      message: /history\[2\]\.value\[0\]/,
    });
  } finally {
    await cluster.stop();
  }
});
