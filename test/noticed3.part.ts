import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pack } from 'msgpackr';
import type { NatsConnection } from '@nats-io/transport-node';
import { parseArgs, UsageError } from '../bench/run.js';
import { natsServerBinary, startNatsServer } from '../src/harness/nats-server.js';
import { ServerLoad } from '../src/cluster/server-load.js';
import { ClientMetrics, buildClusterMetrics } from '../src/metrics/cluster-metrics.js';
import { sampleValue } from '../src/metrics/registry.js';
import { runNatsHost } from '../src/runtime/transports/nats-host.js';
import { BACKLOG_BYTES_MAX, CREDIT_WINDOW_BYTES, NatsLink, clusterSubjects, connectNats, subjects } from '../src/runtime/transports/nats-wire.js';
import { rawAssignment } from './helpers/nats-runtime.js';

// Findings of the audit slice 'noticed3' (session 68): each test failed before its fix.

/** A connection that takes every publish and never delivers: enough to fill a credit window (see nats-link.part.ts). */
function silentConnection(): NatsConnection {
  return {
    publish: () => undefined,
    isClosed: () => false,
    isDraining: () => false,
    subscribe: () => ({ unsubscribe: () => undefined }),
  } as unknown as NatsConnection;
}

test("nats link: a frame past a peer's full backlog is dropped as 'backlog-full', not as the network model's 'loss'", (t) => {
  const link = new NatsLink(silentConnection(), subjects('t', 'g1'), 1, () => undefined);
  const frame = 256 * 1024;
  const fit = (CREDIT_WINDOW_BYTES + BACKLOG_BYTES_MAX) / frame;
  for (let i = 0; i < fit; i++) t.is(link.send(3, new Uint8Array(frame)), undefined);
  t.is(link.send(3, new Uint8Array(frame)), 'backlog-full');
  link.close();
});

test("metrics: meridian_messages_dropped_total has a 'backlog-full' series apart from 'loss'", (t) => {
  const m = buildClusterMetrics({
    stats: { sent: 5, delivered: 0, bytes: 0, errors: 0, dropped: { 'backlog-full': 3, loss: 2 }, actors: {}, links: {}, types: {}, servers: {} },
    members: [],
    regions: [],
    coordinators: [],
    info: { transport: 'nats', replication: 'active', commit: '2pc' },
    client: new ClientMetrics().snapshot(),
  });
  t.is(sampleValue(m, 'meridian_messages_dropped_total', { cause: 'backlog-full' }), 3);
  t.is(sampleValue(m, 'meridian_messages_dropped_total', { cause: 'loss' }), 2);
});

const binary = natsServerBinary();
const natsTest = 'bin' in binary ? test.serial : test.skip;
const skipped = 'reason' in binary ? ` (skipped: ${binary.reason})` : '';

/** What the behaviours module written by the next test reaches: it says it is loading, then waits to be released. */
interface Hold {
  loading: () => void;
  released: Promise<void>;
}

natsTest(`nats: a host stopped while its assignment loads the behaviours module makes nothing after (no store, no ThreadHost)${skipped}`, async (t) => {
  const server = await startNatsServer((binary as { bin: string }).bin);
  t.teardown(() => server.stop());
  const dir = mkdtempSync(join(tmpdir(), 'meridian-noticed3-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fixtures = new URL('./fixtures/behaviors.js', import.meta.url).href;
  const module = join(dir, 'held-behaviors.mjs');
  writeFileSync(module, `globalThis.noticed3Hold.loading();\nawait globalThis.noticed3Hold.released;\nexport { behaviors } from '${fixtures}';\n`);
  let release!: () => void;
  let loading!: () => void;
  const started = new Promise<void>((resolve) => (loading = resolve));
  (globalThis as { noticed3Hold?: Hold }).noticed3Hold = { loading, released: new Promise<void>((resolve) => (release = resolve)) };
  t.teardown(() => delete (globalThis as { noticed3Hold?: Hold }).noticed3Hold);

  const cluster = `noticed3${process.pid}`;
  const nc = await connectNats([server.url], 'noticed3-test');
  t.teardown(() => nc.close().catch(() => undefined));
  const lines: string[] = [];
  let settled!: () => void;
  const assignmentSettled = new Promise<void>((resolve) => (settled = resolve));
  const dataDir = join(dir, 'host');
  const host = await runNatsHost({
    servers: [server.url],
    cluster,
    uid: 'held',
    fallbackBehaviorsModule: fixtures,
    dataDir,
    watchBeat: false,
    log: (line) => {
      lines.push(line);
      if (line.includes('refused host') || line.includes('joined cluster')) settled();
    },
  });
  nc.publish(clusterSubjects(cluster).assign('held'), pack(rawAssignment({ behaviorsModule: pathToFileURL(module).href })), { reply: `${cluster}.reply` });
  await started;
  const stopped = host.stop('test over');
  release();
  await assignmentSettled;
  await stopped;
  t.is(await host.done, 'test over');
  t.false(existsSync(dataDir), 'no FileDurableStore was made after stop');
  t.false(
    lines.some((line) => line.includes('joined cluster')),
    lines.join('\n'),
  );
  t.true(
    lines.some((line) => line.includes('refused host 1 (host stopped (test over) while taking the assignment)')),
    lines.join('\n'),
  );
});

test('bench: a file flag without its value says "got no value", as the other commands\' flags do', (t) => {
  for (const flag of ['--json', '--html', '--compare']) {
    t.throws(() => parseArgs(['--quick', flag]), { instanceOf: UsageError, message: new RegExp(`^${flag} needs .*, got no value$`) });
  }
});

test("server load: a balancer's requests dropping to zero keep its map (not rebuilt per request); a report drops it", (t) => {
  const load = new ServerLoad();
  // White-box: the only difference is the map's identity; nothing outside sees it.
  const byTo = (load as unknown as { arrivals: { byTo: Map<string, Map<number, number>> } }).arrivals.byTo;
  load.submitted({ to: 'b1', rid: 1 }, 0);
  const first = byTo.get('b1');
  load.answered({ to: 'b1', rid: 1 }, 5);
  t.is(load.latencyEwmaMs, 5);
  load.submitted({ to: 'b1', rid: 2 }, 10);
  t.is(byTo.get('b1'), first, 'the same map, cleared and used again');
  t.is(load.report(20, 0, 0).inflight, 1);
  load.refused({ to: 'b1', rid: 2 });
  t.is(load.report(30, 0, 0).inflight, 0);
  t.false(byTo.has('b1'), 'a report drops the maps of addresses with nothing in flight');
});
