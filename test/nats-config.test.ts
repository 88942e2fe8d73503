import test from 'ava';
import { createServer } from 'node:net';
import { ConfigError, NatsUnreachableError, startCluster, UnavailableError, type ClusterConfig } from '../src/index.js';

/** Config checks of transport 'nats': none of them needs a NATS server. */
const base = (): Record<string, unknown> => ({
  regions: [
    { name: 'a', servers: 1 },
    { name: 'b', servers: 1 },
  ],
  transport: 'nats',
  seed: 1,
  nats: { servers: 'nats://127.0.0.1:4222', processes: 2 },
});

const cases: Array<[string, (c: Record<string, unknown>) => void, string, RegExp]> = [
  [
    'nats missing',
    (c) => {
      delete c.nats;
    },
    'nats',
    /servers/,
  ],
  [
    'nats with another transport',
    (c) => {
      c.transport = 'threads';
    },
    'nats',
    /unless transport is 'nats'/,
  ],
  [
    'no servers',
    (c) => {
      c.nats = { servers: [] };
    },
    'nats.servers',
    /NATS URL/,
  ],
  [
    'server not a URL',
    (c) => {
      c.nats = { servers: ['localhost 4222'] };
    },
    'nats.servers[0]',
    /nats:\/\/127\.0\.0\.1:4222/,
  ],
  [
    'a hole in servers (it failed in the NATS client, reading toLowerCase of undefined)',
    (c) => {
      c.nats = { servers: Object.assign([], { 1: 'nats://127.0.0.1:4222' }) };
    },
    'nats.servers[0]',
    /NATS URL/,
  ],
  [
    'two users in the URLs (the client signs in to every server with one): the passwords not shown',
    (c) => {
      c.nats = { servers: ['nats://alice:pw1@127.0.0.1:4222', 'nats://bob:pw2@127.0.0.1:4223'], processes: 1 };
    },
    'nats.servers',
    /^config\.nats\.servers: expected URLs with one user and password \(or token\) between them, or none: .*, got "2 different ones"$/,
  ],
  [
    'tls:// and nats:// mixed (one connection is TLS or not)',
    (c) => {
      c.nats = { servers: ['tls://127.0.0.1:4222', 'nats://127.0.0.1:4223'] };
    },
    'nats.servers',
    /all tls:\/\/ .* or all nats:\/\//,
  ],
  [
    'wrong scheme',
    (c) => {
      c.nats = { servers: ['nats://127.0.0.1:4222', 'http://127.0.0.1:4222'] };
    },
    'nats.servers[1]',
    /scheme nats or tls/,
  ],
  [
    'port out of range',
    (c) => {
      c.nats = { servers: 'nats://127.0.0.1:70000' };
    },
    'nats.servers',
    /port from 1 to 65535/,
  ],
  [
    'a path in the URL',
    (c) => {
      c.nats = { servers: 'nats://127.0.0.1:4222/x' };
    },
    'nats.servers',
    /NATS URL/,
  ],
  [
    'zero processes',
    (c) => {
      c.nats = { servers: 'nats://127.0.0.1:4222', processes: 0 };
    },
    'nats.processes',
    /integer from 1 to 256 or 'dedicated'/,
  ],
  [
    'processes and hosts',
    (c) => {
      c.nats = { servers: 'nats://127.0.0.1:4222', processes: 2, hosts: 2 };
    },
    'nats.hosts',
    /absent when nats.processes/,
  ],
  [
    'hosts started elsewhere without a cluster name (a fresh one no host could know: it waited 60 s for none)',
    (c) => {
      c.nats = { servers: 'nats://127.0.0.1:4222', hosts: 2 };
    },
    'nats.cluster',
    /a name with nats\.hosts \(the one its hosts are started with: meridian host --cluster NAME/,
  ],
  [
    'fractional hosts',
    (c) => {
      c.nats = { servers: 'nats://127.0.0.1:4222', hosts: 1.5 };
    },
    'nats.hosts',
    /integer from 1/,
  ],
  [
    'cluster name with a dot',
    (c) => {
      c.nats = { servers: 'nats://127.0.0.1:4222', cluster: 'a.b' };
    },
    'nats.cluster',
    /subject token/,
  ],
  [
    'unknown nats option',
    (c) => {
      c.nats = { servers: 'nats://127.0.0.1:4222', queue: 'x' };
    },
    'nats.queue',
    /known options/,
  ],
  [
    'placement with nats',
    (c) => {
      c.placement = 'packed';
    },
    'placement',
    /nats.processes/,
  ],
  [
    'threads with nats',
    (c) => {
      c.threads = 2;
    },
    'threads',
    /nats.processes/,
  ],
  // Options transport 'nats' would ignore (each was accepted and ignored before).
  [
    'trace (only sim records one)',
    (c) => {
      c.trace = true;
    },
    'trace',
    /^config\.trace: expected false or absent with transport 'nats' \(only transport 'sim' records a trace\), got true$/,
  ],
  [
    'workerHeapMb (nats hosts are processes, not worker threads)',
    (c) => {
      c.workerHeapMb = 256;
    },
    'workerHeapMb',
    /^config\.workerHeapMb: expected absent with transport 'nats' \(only transport 'threads' uses it/,
  ],
  [
    'dataDir with hosts started elsewhere (they use their own --data-dir)',
    (c) => {
      c.nats = { servers: 'nats://127.0.0.1:4222', hosts: 2, cluster: 'shop' };
      c.dataDir = '/tmp/meridian-logs';
    },
    'dataDir',
    /^config\.dataDir: expected absent with nats\.hosts \(hosts started elsewhere keep their logs where 'meridian host --data-dir' says\)/,
  ],
];

for (const [name, mutate, field, allowed] of cases) {
  test(`nats ConfigError: ${name}`, async (t) => {
    const config = base();
    mutate(config);
    const error = await t.throwsAsync(startCluster(config as unknown as ClusterConfig), { instanceOf: ConfigError });
    t.is(error!.field, field);
    t.regex(error!.message, allowed);
    t.true(error!.message.includes(field), 'the message names the field');
  });
}

test('nats: a server nobody listens on fails startCluster with a clear error', async (t) => {
  // The port is held for the whole test by a listener that resets every connection at once: a
  // port found free and let go could be taken meanwhile by a nats-server of a test file running
  // beside this one. No NATS protocol is ever spoken on it, so the connect fails with the same
  // "cannot reach NATS" error; only its cause reads "connect ECONNRESET" for "connection refused".
  let connections = 0;
  const holder = createServer((socket) => {
    connections++;
    socket.on('error', () => {});
    socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const address = holder.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const port = address.port;
  try {
    const error = await t.throwsAsync(
      startCluster({
        regions: [{ name: 'a', servers: 1 }],
        transport: 'nats',
        nats: { servers: `nats://127.0.0.1:${port}`, processes: 1 },
      }),
    );
    t.regex(error!.message, new RegExp(`cannot reach NATS at nats://127\\.0\\.0\\.1:${port} within \\d+ ms`));
    // A MeridianError (it was a bare Error): nothing started.
    t.true(error instanceof UnavailableError);
    // The package exports its class (it did not: only a catch of UnavailableError could tell it).
    t.true(error instanceof NatsUnreachableError);
    t.is(error!.name, 'NatsUnreachableError');
    t.is((error as UnavailableError).code, 'UNAVAILABLE');
    t.true(connections > 0, 'the client tried the held port');
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }
});
