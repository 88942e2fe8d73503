import test from 'ava';
import { AssignmentError, checkAssign, ControlRequestError, controlRequestCheck } from '../src/runtime/transports/nats-assign.js';
import { validateConfig } from '../src/cluster/config.js';
import { ConfigError } from '../src/core/errors.js';
import type { NatsAssign } from '../src/runtime/transports/worker-protocol.js';

/**
 * What a NATS host takes as an assignment (checkAssign): anyone who can publish on the server
 * can send one to a waiting host. Before (audit, session 56) nothing was checked: a `data:`
 * module ran the sender's code and `dataDir` made the host write anywhere.
 */

function good(): NatsAssign {
  return {
    hostId: 1,
    seed: 7,
    directory: [
      ['a', { host: 1, region: 'a', node: 'a', index: 0 }],
      ['a/0', { host: 1, region: 'a', node: 'a/0', index: 1 }],
      ['b/0', { host: 2, region: 'b', node: 'b/0', index: 2 }],
      ['balancer/a', { host: 0, region: 'a', node: 'front', index: 3 }],
    ],
    network: { latencyMs: { 'a~b': 5 }, loss: 0.1, nodeDelayMs: { 'a/0': 3 } },
    partitions: [{ from: ['a/0'], to: ['b/0'], oneWay: false }],
    deadNodes: ['b/0'],
    clockSkew: [['a/0', -50]],
    mailboxCapacity: 10_000,
    messageBytesMax: 1024 * 1024,
    fsync: false,
    specs: [
      { address: 'a', behavior: 'region', params: { region: 'a', servers: ['a/0'] }, region: 'a', node: 'a' },
      { address: 'a/0', behavior: 'server', params: null, region: 'a', node: 'a/0', supervision: 'restart' },
    ],
    crashed: ['a/0'],
    behaviorsModule: 'file:///opt/meridian/dist/src/cluster/behaviors-lazy.js',
    statsIntervalMs: 50,
    launcher: 'test',
    layout: {
      shards: 16,
      regions: [
        { name: 'a', servers: 1 },
        { name: 'b', servers: 1 },
      ],
    },
    replication: { mode: 'active', factor: 2 },
  };
}

test('checkAssign takes what a launcher sends, every field kept', (t) => {
  t.deepEqual(checkAssign(good()), good());
  t.deepEqual(checkAssign({ ...good(), layout: null, replication: null }).layout, null);
});

test('checkAssign refuses a behaviours module that is not a file: URL, naming the field and saying why', (t) => {
  for (const url of [
    "data:text/javascript,import('node:fs').then((f) => f.writeFileSync('/tmp/pwned', 'x'))",
    'http://evil.example/behaviors.js',
    'https://evil.example/behaviors.js',
    'node:child_process',
    '/opt/meridian/behaviors.js',
    '',
    42,
  ]) {
    const error = t.throws(() => checkAssign({ ...good(), behaviorsModule: url }), { instanceOf: AssignmentError }, String(url));
    t.is(error!.field, 'behaviorsModule');
    t.regex(
      error!.message,
      /^assignment\.behaviorsModule: expected a file: URL \(a module on this machine; data:, http:, https:, node: and other URLs are refused\), got /,
    );
  }
  // Checked first: a data: URL is reported whatever else the message holds.
  t.is(t.throws(() => checkAssign({ behaviorsModule: 'data:text/javascript,', dataDir: '/etc' }))!.message.split(':')[0], 'assignment.behaviorsModule');
});

test('checkAssign refuses a dataDir (a host writes where it was started to) and unknown or missing fields', (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [
      { ...good(), dataDir: '/anywhere' },
      /^assignment\.dataDir: expected no dataDir \(a host's logs go where it was started to: meridian host --data-dir\), got "\/anywhere"$/,
    ],
    [{ ...good(), dataDir: null }, /^assignment\.dataDir: expected no dataDir/],
    [{ ...good(), extra: 1 }, /^assignment\.extra: expected only the fields hostId, seed, .*, got "an unknown field"$/],
    [(({ seed: _, ...rest }) => rest)(good()), /^assignment\.seed: expected a value, got undefined$/],
    [null, /^assignment: expected an object, got null$/],
    [[1, 2], /^assignment: expected an object, got an array of 2$/],
  ];
  for (const [value, message] of cases) t.throws(() => checkAssign(value), { instanceOf: AssignmentError, message });
});

test('checkAssign refuses a field of the wrong type or out of range, naming it', (t) => {
  const cases: Array<[Partial<Record<keyof NatsAssign, unknown>>, string]> = [
    [{ hostId: 0 }, 'hostId'],
    [{ hostId: 1.5 }, 'hostId'],
    [{ seed: -1 }, 'seed'],
    [{ seed: 2 ** 32 }, 'seed'],
    [{ directory: {} }, 'directory'],
    [{ directory: [['a', { host: -1, region: 'a', node: 'a' }]] }, 'directory[0][1].host'],
    [{ directory: [['a', { host: 1, region: 7, node: 'a' }]] }, 'directory[0][1].region'],
    [{ network: { loss: 2 } }, 'network.loss'],
    [{ network: { jitterMs: -1 } }, 'network.jitterMs'],
    [{ network: { latencyMs: { 'a~b': 'slow' } } }, 'network.latencyMs["a~b"]'],
    [{ network: { evil: 1 } }, 'network.evil'],
    [{ partitions: [{ from: ['a'], to: 'b', oneWay: false }] }, 'partitions[0].to'],
    [{ partitions: [{ from: ['a'], to: ['b'] }] }, 'partitions[0].oneWay'],
    [{ deadNodes: [1] }, 'deadNodes[0]'],
    [{ clockSkew: [['a/0', Infinity]] }, 'clockSkew[0][1]'],
    [{ clockSkew: [['a/0', 86_400_001]] }, 'clockSkew[0][1]'],
    [{ mailboxCapacity: 0 }, 'mailboxCapacity'],
    [{ messageBytesMax: 65 * 1024 * 1024 }, 'messageBytesMax'],
    [{ fsync: 'yes' }, 'fsync'],
    [{ specs: [{ address: 'a', behavior: 'region', region: 'a', node: 'a', supervision: 'never' }] }, 'specs[0].supervision'],
    // An actor the directory places on another host, or not at all, is not this host's to run.
    [{ specs: [{ address: 'balancer/a', behavior: 'balancer', params: {}, region: 'a', node: 'front' }] }, 'specs[0].address'],
    [{ specs: [{ address: 'x', behavior: 'server', params: {}, region: 'a', node: 'x' }] }, 'specs[0].address'],
    [{ crashed: ['b/0'] }, 'crashed[0]'],
    [{ statsIntervalMs: 0 }, 'statsIntervalMs'],
    [{ layout: { shards: 0, regions: [] } }, 'layout.shards'],
    [{ layout: { shards: 4, regions: [{ name: 'a', servers: 0 }] } }, 'layout.regions[0].servers'],
    // The mode and factor decide each shard's Paxos group: a host's data directory records them.
    [{ replication: undefined }, 'replication'],
    [{ replication: null }, 'replication'],
    [{ replication: { mode: 'active' } }, 'replication.factor'],
    [{ replication: { mode: 'active', factor: 2, sync: true } }, 'replication.sync'],
    [{ layout: null }, 'replication'],
  ];
  for (const [change, field] of cases) {
    const error = t.throws(() => checkAssign({ ...good(), ...change }), { instanceOf: AssignmentError }, JSON.stringify(change));
    t.is(error!.field, field, JSON.stringify(change));
    t.true(error!.message.startsWith(`assignment.${field}: expected `), error!.message);
  }
});

test('checkAssign keeps only the fields it knows inside the parts it checks', (t) => {
  const a = checkAssign({
    ...good(),
    network: { loss: 0 },
    partitions: [{ from: ['a'], to: ['b'], oneWay: true, extra: 1 }],
    specs: [{ address: 'a', behavior: 'region', params: 1, region: 'a', node: 'a', extra: 2 }],
    crashed: [],
  });
  t.deepEqual(a.partitions, [{ from: ['a'], to: ['b'], oneWay: true }]);
  t.deepEqual(a.specs, [{ address: 'a', behavior: 'region', params: 1, region: 'a', node: 'a' }]);
});

test('checkAssign refuses what a cluster config refuses, in the same words, naming the field', (t) => {
  // Before (session 57) the host's own looser checks took these: messageBytesMax from 1, any object.
  class Settings {
    loss = 0;
  }
  const hooks = { balancer: () => ({}) as never, heartbeat: () => ({}) as never, cores: 2, randomSeed: () => 1 };
  const regions = [
    { name: 'a', servers: 1 },
    { name: 'b', servers: 1 },
  ];
  const cases: Array<[Partial<Record<keyof NatsAssign, unknown>>, Record<string, unknown>, string]> = [
    [{ messageBytesMax: 10 }, { messageBytesMax: 10 }, 'messageBytesMax'],
    [{ network: new Settings() }, { network: new Settings() }, 'network'],
    [{ network: { nodeDelayMs: new Settings() } }, { network: { nodeDelayMs: new Settings() } }, 'network.nodeDelayMs'],
    [{ network: { latencyMs: { 'a~c': 5 } } }, { network: { latencyMs: { 'a~c': 5 } } }, 'network.latencyMs["a~c"]'],
    [{ network: { nodeDelayMs: { 'b/1': 5 } } }, { network: { nodeDelayMs: { 'b/1': 5 } } }, 'network.nodeDelayMs["b/1"]'],
    [{ layout: { shards: 5000, regions } }, { shards: 5000 }, 'layout.shards'],
    [{ layout: { shards: 4, regions: [{ name: 'front', servers: 1 }] } }, { regions: [{ name: 'front', servers: 1 }] }, 'layout.regions[0].name'],
    [{ layout: { shards: 4, regions: [new Settings()] } }, { regions: [new Settings()] }, 'layout.regions[0]'],
    [{ replication: { mode: 'paxos', factor: 1 } }, { replication: { mode: 'paxos', factor: 1 } }, 'replication.mode'],
    [{ replication: { mode: 'active', factor: 3 } }, { replication: { mode: 'active', factor: 3 } }, 'replication.factor'],
    [{ replication: { mode: 'none', factor: 2 } }, { replication: { mode: 'none', factor: 2 } }, 'replication.factor'],
    [{ replication: { mode: 'active', factor: 1.5 } }, { replication: { mode: 'active', factor: 1.5 } }, 'replication.factor'],
    // Hybrid: at most a home region's servers (one here); before (session 59) both took 2 and made groups of one.
    [{ replication: { mode: 'hybrid', factor: 2 } }, { replication: { mode: 'hybrid', factor: 2 } }, 'replication.factor'],
  ];
  for (const [change, config, field] of cases) {
    const error = t.throws(() => checkAssign({ ...good(), ...change }), { instanceOf: AssignmentError }, JSON.stringify(change));
    t.is(error!.field, field);
    const refused = t.throws(() => validateConfig({ regions, ...config }, hooks), { instanceOf: ConfigError }, JSON.stringify(config));
    const configField = refused!.field.replace(/^regions/, 'layout.regions').replace(/^shards/, 'layout.shards');
    t.is(configField, field);
    t.is(error!.message.slice(`assignment.${field}`.length), refused!.message.slice(`config.${refused!.field}`.length), error!.message);
  }
  t.is(t.throws(() => checkAssign({ ...good(), messageBytesMax: 10 }))!.message, 'assignment.messageBytesMax: expected an integer from 64 to 67108864, got 10');
});

test('controlRequestCheck takes what a launcher sends, and refuses a request of another shape naming the field', (t) => {
  const check = controlRequestCheck(good());
  const served: unknown[] = [
    { m: 'start', a: [] },
    { m: 'summary', a: ['a/0'] },
    { m: 'setNetwork', a: [{ latencyMs: { 'a~b': 5 }, nodeDelayMs: { 'b/0': 1 } }] },
    { m: 'setPartitions', a: [[{ from: ['a/0'], to: ['b/0'], oneWay: true }]] },
    { m: 'setNodeDead', a: ['b/0', true] },
    { m: 'setClockSkew', a: ['a/0', -5] },
    { m: 'pauseNode', a: ['a/0', false] },
    { m: 'injectFrame', a: [new Uint8Array([1, 2])] },
    { m: 'resetPeer', a: [2] },
    { m: 'shutdown', a: [] },
  ];
  for (const request of served) t.deepEqual(check(request), request);
  const cases: Array<[unknown, string]> = [
    [{ m: 'setNodeDead', a: ['a/0', 'yes'] }, 'setNodeDead.dead'],
    [{ m: 'setNodeDead', a: ['a/0'] }, 'a'],
    [{ m: 'ping', a: [1] }, 'a'],
    [{ m: 'ping' }, 'a'],
    [{ m: 'hasOwnProperty', a: [] }, 'm'],
    [{ m: 'ping', a: [], extra: 1 }, 'extra'],
    [{ m: 'setNetwork', a: [{ loss: 2 }] }, 'setNetwork.config.loss'],
    [{ m: 'setNetwork', a: [{ latencyMs: { 'a~z': 5 } }] }, 'setNetwork.config.latencyMs["a~z"]'],
    [{ m: 'setPartitions', a: [[{ from: 'a/0', to: [], oneWay: true }]] }, 'setPartitions.rules[0].from'],
    [{ m: 'setClockSkew', a: ['a/0', 86_400_001] }, 'setClockSkew.ms'],
    [{ m: 'crashNode', a: [''] }, 'crashNode.node'],
    [{ m: 'injectFrame', a: ['bytes'] }, 'injectFrame.bytes'],
    [{ m: 'resetPeer', a: [-1] }, 'resetPeer.peer'],
    [[], ''],
  ];
  for (const [request, field] of cases) {
    const error = t.throws(() => check(request), { instanceOf: ControlRequestError }, JSON.stringify(request));
    t.is(error!.field, field, JSON.stringify(request));
    t.true(error!.message.startsWith(`control${field === '' ? '' : `.${field}`}: expected `), error!.message);
  }
});
