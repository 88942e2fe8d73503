import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { ControlError, TimeoutError } from '../src/index.js';
import { natsServerBinary, startNatsServer, type NatsServer } from '../src/harness/nats-server.js';
import { ANOTHER_LAUNCHER, runNatsHost } from '../src/runtime/transports/nats-host.js';
import { callHost, clusterSubjects, connectNats, subjects, type Subjects } from '../src/runtime/transports/nats-wire.js';
import type { NatsOptions, NatsRuntime } from '../src/runtime/transports/nats.js';
import type { StatsSnapshot } from '../src/runtime/stats.js';
import { natsEchoRuntime, rawAssignment } from './helpers/nats-runtime.js';

// A launcher killed and started again under the same name, and a setNetwork, setPartitions,
// crash, restart or pause that a stalled host does not answer (audits of session 67). Hosts in
// this process, or played by the test on its own connection: no host process is started.
const binary = natsServerBinary();
const natsTest = 'bin' in binary ? test.serial : test.skip;
const skipped = 'reason' in binary ? ` (skipped: ${binary.reason})` : '';
const fixtures = new URL('./fixtures/behaviors.js', import.meta.url).href;

let served: Promise<NatsServer> | undefined;
const serve = (): Promise<NatsServer> => (served ??= startNatsServer((binary as { bin: string }).bin));
test.after.always(async () => (await served?.catch(() => undefined))?.stop());

/** The shared NATS server, a scratch folder, a cluster name of this process and a connection, for one test (torn down after it). */
async function scratch(t: ExecutionContext, name: string) {
  const server = await serve();
  const dir = mkdtempSync(join(tmpdir(), 'meridian-nats-gen-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cluster = `${name}${process.pid}`;
  const nc = await connectNats([server.url], 'nats-gen-test');
  t.teardown(() => nc.close().catch(() => undefined));
  return { server, dir, cluster, subj: clusterSubjects(cluster), nc };
}

/** A host in this process, assigned host id 1 by a launcher of generation "old" the test plays. */
async function oldHost(t: ExecutionContext, name: string, watchBeat: boolean) {
  const { server, dir, cluster, subj, nc } = await scratch(t, name);
  const hello = new Promise<string>((resolve) => {
    const sub = nc.subscribe(subj.hello, {
      callback: (_e, msg) => {
        sub.unsubscribe();
        resolve((unpack(msg.data) as { uid: string }).uid);
      },
    });
  });
  await nc.flush();
  const lines: string[] = [];
  const host = await runNatsHost({
    servers: [server.url],
    cluster,
    uid: 'oldhost',
    fallbackBehaviorsModule: fixtures,
    dataDir: join(dir, 'host'),
    watchBeat,
    log: (line) => lines.push(line),
  });
  t.teardown(() => host.stop('test over'));
  const assignment = rawAssignment({ behaviorsModule: fixtures, launcher: 'old' });
  const reply = await nc.request(subj.assign(await hello), pack(assignment), { timeout: 5_000 });
  t.deepEqual(unpack(reply.data), { v: true }, 'the host takes host id 1');
  nc.publish(subj.beat, new TextEncoder().encode('old'));
  await nc.flush();
  return { server, dir, cluster, nc, host, lines };
}

natsTest(`nats: a host of a launcher started again under its name stops at the new launcher's first beat${skipped}`, async (t) => {
  const { server, dir, cluster, host, lines } = await oldHost(t, 'gen', true);
  // The old launcher is gone; a new one starts under the same name (it waits for a host of its
  // own: none comes, it is stopped below). Before, its beat kept the old host running as host 1.
  const fresh = natsEchoRuntime(dir, [server.url], fixtures, { cluster, hosts: 'remote', remoteWaitMs: 60_000 });
  const starting = fresh.start().catch((error: unknown) => error);
  try {
    // Bounded, so that the code before fails rather than hangs: it ran on for as long as the new launcher did.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running 5 s after the new launcher began'), 5_000)));
    const settled = await Promise.race([host.done, bound]);
    clearTimeout(timer);
    t.regex(String(settled), new RegExp(`^${ANOTHER_LAUNCHER} \\(generation [A-Za-z0-9_-]+; this host's is old\\)$`));
    t.log(lines.join('\n'));
  } finally {
    await fresh.stop();
    await starting;
  }
});

natsTest(`nats: a host that has not yet heard a new launcher's beat serves only its own launcher's subjects${skipped}`, async (t) => {
  // Without watching beats, the host stays as one stalled while the new launcher's first beat
  // went out would be for a moment: assigned host id 1 by generation "old", still running.
  const { cluster, nc } = await oldHost(t, 'stale', false);
  const ping = await callHost(nc, subjects(cluster, 'old'), 1, 'ping', [], 2_000);
  t.is((ping as { host: number }).host, 1, 'it serves its own generation');
  // The new launcher's requests to its host 1 reach no one. Before, data and control subjects
  // carried no generation: this old process answered them and took the new host 1's frames.
  const error = await t.throwsAsync(callHost(nc, subjects(cluster, 'new'), 1, 'ping', [], 2_000), { instanceOf: ControlError });
  t.true(error!.noResponders && error!.definite, String(error));
});

/**
 * A runtime whose host 1 (uid 'stuck') is played by the test on its own connection: it says
 * hello until it is assigned, answers `start` and stop()'s `shutdown` (else stop() waits
 * HOST_EXIT_WAIT_MS for it), and of the other requests only those `answer` takes (true); to the
 * rest it says nothing, as a stalled host. Started; the caller stops it.
 */
async function playedHost(
  t: ExecutionContext,
  name: string,
  answer: (m: string, msg: Msg, nc: NatsConnection, subj: Subjects) => boolean = () => false,
  extra: Partial<NatsOptions> = {},
): Promise<{ runtime: NatsRuntime; asked: string[] }> {
  const { server, dir, cluster, subj: cluster0, nc } = await scratch(t, name);
  const hello = setInterval(() => nc.publish(cluster0.hello, pack({ uid: 'stuck', pid: 1 })), 100);
  t.teardown(() => clearInterval(hello));
  const asked: string[] = [];
  nc.subscribe(cluster0.assign('stuck'), {
    callback: (_e, msg) => {
      clearInterval(hello);
      // The control subject carries the launcher's generation, which the assignment gives; it
      // reaches the server before the answer does (else `start` may find no responder).
      const subj = subjects(cluster, (unpack(msg.data) as { launcher: string }).launcher);
      nc.subscribe(subj.control(1), {
        callback: (_e2, request) => {
          const { m } = unpack(request.data) as { m: string };
          asked.push(m);
          if (m === 'start' || m === 'shutdown') request.respond(pack({ v: m === 'start' ? 1 : true }));
          else answer(m, request, nc, subj);
        },
      });
      void nc.flush().then(() => msg.respond(pack({ v: true })));
    },
  });
  await nc.flush();
  const runtime = natsEchoRuntime(dir, [server.url], fixtures, { cluster, hosts: 'remote', remoteWaitMs: 10_000, ...extra });
  try {
    await runtime.start();
  } catch (error) {
    await runtime.stop();
    throw error;
  }
  return { runtime, asked };
}

natsTest(`nats: network changes, crash, restart and pause reject naming the operation and the host when a host never answers${skipped}`, async (t) => {
  const { runtime, asked } = await playedHost(t, 'late');
  try {
    runtime.controlAnswerMs = 50;
    const late = (op: string): RegExp =>
      new RegExp(`^${op}: host 1 \\(n1\\) did not answer within 50 ms \\(stalled, or busy in a long step\\); it may or may not have been carried out$`);
    // Before, each resolved after CONTROL_TIMEOUT_MS as if the host had the change.
    await t.throwsAsync(runtime.setPartitions([{ from: ['n1'], to: ['n2'], oneWay: false }]), { instanceOf: TimeoutError, message: late('setPartitions') });
    await t.throwsAsync(runtime.setNetwork({ jitterMs: 1 }), { instanceOf: TimeoutError, message: late('setNetwork') });
    // Before, these rejected with callHost's words ('host 1 did not answer pauseNode ...'), naming neither the operation nor the node.
    await t.throwsAsync(runtime.pauseNode('n1', true), { instanceOf: TimeoutError, message: late('pause of node n1') });
    await t.throwsAsync(runtime.pauseNode('n1', false), { instanceOf: TimeoutError, message: late('resume of node n1') });
    await t.throwsAsync(runtime.crashNode('n1'), { instanceOf: TimeoutError, message: late('crash of node n1') });
    await t.throwsAsync(runtime.restartNode('n1'), { instanceOf: TimeoutError, message: late('restart of node n1') });
    for (const m of ['setPartitions', 'setNetwork', 'pauseNode', 'setNodeDead', 'restartNode'])
      t.true(asked.includes(m), `${m} not asked: ${asked.join(', ')}`);
  } finally {
    await runtime.stop();
  }
});

/** Counters of `sent` messages, as a host publishes them on .st. */
const counters = (sent: number): StatsSnapshot => ({ sent, delivered: sent, bytes: 0, errors: 0, dropped: {}, actors: {}, links: {}, types: {} });

natsTest(`nats: a host's counters and events count only from the process its host id was assigned to${skipped}`, async (t) => {
  // Before a ping is answered, host 1 publishes its counters, then another process's under host
  // id 1 (anyone on the server may publish on this generation's subjects), and an event of each: from
  // one connection, they reach the launcher in that order and before the answer.
  const warnings: string[] = [];
  const { runtime } = await playedHost(
    t,
    'uid',
    (m, msg, nc, subj) => {
      if (m !== 'ping') return false;
      nc.publish(subj.stats, pack({ host: 1, uid: 'stuck', stats: counters(7) }));
      nc.publish(subj.stats, pack({ host: 1, uid: 'oldhost', stats: counters(1000) }));
      nc.publish(subj.events, pack({ host: 1, uid: 'stuck', event: { kind: 'warn', address: 'echo/a', message: 'from stuck' } }));
      nc.publish(subj.events, pack({ host: 1, uid: 'oldhost', event: { kind: 'warn', address: 'echo/a', message: 'from oldhost' } }));
      msg.respond(pack({ v: { host: 1, actors: 1, nowMs: 0 } }));
      return true;
    },
    { onEvent: (e) => warnings.push(e.kind === 'warn' ? e.message : e.kind) },
  );
  try {
    const before = runtime.stats().sent;
    await runtime.ping();
    // Before, the old process's counters replaced host 1's: 1000.
    t.is(runtime.stats().sent - before, 7);
    // Before, the old process's events were the cluster's too.
    t.deepEqual(
      warnings.filter((w) => w.startsWith('from ')),
      ['from stuck'],
    );
  } finally {
    await runtime.stop();
  }
});
