import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { pack, unpack } from 'msgpackr';
import { ConfigError, MeridianError, TimeoutError, UnavailableError, startCluster, type Cluster, type ClusterConfig, type HostEvent } from '../src/index.js';
import { startHost, type HostProcess } from './helpers/meridian-host.js';
import { main as hostMain } from '../src/cli/host.js';
import { eventually } from '../src/harness/ava.js';
import { stopWhileInFlight } from './helpers/stop-in-flight.js';
import type { NatsRuntime } from '../src/runtime/transports/nats.js';
import { callHost, connectNats, ControlError, subjects } from '../src/runtime/transports/nats-wire.js';
import { natsServerBinary, processExists, serverLoad, startNatsServer, type NatsServer } from '../src/harness/nats-server.js';
import { rawAssignment } from './helpers/nats-runtime.js';
// A launcher started again under its name; a broadcast a stalled host does not answer (session 67).
import './nats-gen.part.js';

/** The NATS transport against a real nats-server, each test on its own server and ports but those that share a cluster (sharedCluster). */
const binary = natsServerBinary();
const natsTest = 'bin' in binary ? test.serial : test.skip;
const skipped = 'reason' in binary ? ` (skipped: ${binary.reason})` : '';
const realClock = { sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)), now: () => Date.now() };

async function withServer(
  t: ExecutionContext,
  body: (server: NatsServer, baseline: { connections: number; subscriptions: number }) => Promise<void>,
  args: string[] = [],
): Promise<void> {
  const server = await startNatsServer((binary as { bin: string }).bin, args);
  try {
    const baseline = await serverLoad(server);
    t.log(`nats-server at ${server.url}: ${baseline.connections} connections, ${baseline.subscriptions} subscriptions before`);
    await body(server, baseline);
  } finally {
    await server.stop();
  }
}

function natsConfig(server: NatsServer, nats: Partial<NonNullable<ClusterConfig['nats']>> = {}): ClusterConfig {
  return {
    regions: [
      { name: 'a', servers: 2 },
      { name: 'b', servers: 1 },
    ],
    transport: 'nats',
    seed: 7,
    requestTimeoutMs: 2_000,
    nats: { servers: server.url, processes: 2, ...nats },
  };
}

/**
 * A process for each server and region, on one region of 1 server (2 host processes, not the 5
 * of natsConfig's two regions nor the 3 of 2 servers until 2026-12-07: each costs a node start
 * and CPU while it lives: about 0.15 CPU s a second, 0.04-0.08 since de23dd2 returned NATS
 * flow credit every 100 ms instead of 5), one copy of each key: a crashed or paused owner has no
 * stand-in.
 */
function dedicatedConfig(server: NatsServer): ClusterConfig {
  return { ...natsConfig(server, { processes: 'dedicated' }), regions: [{ name: 'a', servers: 1 }], replication: { mode: 'none' } };
}

async function leavesNothing(t: ExecutionContext, server: NatsServer, baseline: { connections: number; subscriptions: number }, pids: number[]): Promise<void> {
  for (const pid of pids) t.false(processExists(pid), `host process ${pid} is gone`);
  // The server drops a closed client's subscriptions as it notices the close.
  const load = await eventually(
    realClock,
    async () => {
      const now = await serverLoad(server);
      return now.connections === baseline.connections && now.subscriptions === baseline.subscriptions ? now : false;
    },
    { timeoutMs: 5_000, message: 'the server is back to its baseline' },
  );
  t.deepEqual(load, baseline);
}

/**
 * A nats-server and a cluster on it shared by several serial tests: each boot of a cluster's
 * host processes costs about half a CPU second a process, and a test that leaves the cluster
 * whole (its crashed, paused or killed nodes back) hands it on (until 2026-12-07 each test
 * started its own). The server (`serve`) and the cluster (`get`) are started by the first test
 * that asks; `close` stops the cluster and checks that stop() left no host process (those
 * listed in `pids` and the ones running then), connection or subscription. Stopped after the
 * file if no test closed it. `serverArgs`: the nats-server's command-line options.
 */
function sharedCluster<T extends { cluster: Cluster }>(start: (server: NatsServer) => Promise<T>, serverArgs: string[] = []) {
  type Served = { server: NatsServer; baseline: { connections: number; subscriptions: number } };
  type Shared = T & Served & { pids: Set<number> };
  let served: Promise<Served> | undefined;
  let shared: Promise<Shared> | undefined;
  let closed = false;
  const serve = (t: ExecutionContext): Promise<Served> =>
    (served ??= (async () => {
      const server = await startNatsServer((binary as { bin: string }).bin, serverArgs);
      const baseline = await serverLoad(server);
      t.log(`nats-server at ${server.url}: ${baseline.connections} connections, ${baseline.subscriptions} subscriptions before (shared)`);
      return { server, baseline };
    })());
  const get = (t: ExecutionContext): Promise<Shared> =>
    (shared ??= (async () => {
      const s = await serve(t);
      const started = await start(s.server);
      const pids = new Set((started.cluster.internals.runtime as NatsRuntime).processes().flatMap((p) => (p.pid === undefined ? [] : [p.pid])));
      return { ...started, ...s, pids };
    })());
  const close = async (t: ExecutionContext, afterStop?: (s: Shared) => Promise<void>): Promise<void> => {
    closed = true;
    const { server } = await serve(t);
    try {
      const s = await get(t);
      for (const p of (s.cluster.internals.runtime as NatsRuntime).processes()) if (p.pid !== undefined) s.pids.add(p.pid);
      await s.cluster.stop();
      await afterStop?.(s);
      await leavesNothing(t, server, s.baseline, [...s.pids]);
    } finally {
      await server.stop();
    }
  };
  test.after.always(async () => {
    if (closed) return;
    await (await shared?.catch(() => undefined))?.cluster.stop();
    await (await served?.catch(() => undefined))?.server.stop();
  });
  return { serve, get, close };
}

/** The cluster of dedicatedConfig (2 processes), shared by the tests of a crash, a pause and a kill. */
const dedicated = sharedCluster(async (server) => ({ cluster: await startCluster(dedicatedConfig(server)) }));

/** A cluster of natsConfig named `shared<pid>` (2 host processes), shared by the tests of a second cluster of its name, a killed process and operations. */
const sharedName = `shared${process.pid}`;
const twoProcesses = sharedCluster(async (server) => ({ cluster: await startCluster(natsConfig(server, { cluster: sharedName })) }));

/**
 * Two 'meridian host' processes waiting for a launcher (each says hello with its uid until
 * one assigns it), then a cluster of them (hosts: 2): shared by the tests of malformed
 * assignments (sent while they wait), of malformed messages, of malformed control requests
 * and of the join. `pids` maps each uid to its process's pid, from its hello.
 */
const joinedName = `joined${process.pid}`;
let waiting: Promise<{ hosts: HostProcess[]; uids: string[]; pids: Map<string, number> }> | undefined;
const joinedHosts = (server: NatsServer): Promise<{ hosts: HostProcess[]; uids: string[]; pids: Map<string, number> }> =>
  (waiting ??= (async () => {
    const nc = await connect({ servers: server.url });
    const pids = new Map<string, number>();
    const hellos = nc.subscribe(`meridian.${joinedName}.hello`, {
      callback: (_e, msg) => {
        const hello = unpack(msg.data) as { uid: string; pid: number };
        pids.set(hello.uid, hello.pid);
      },
    });
    const hosts = [0, 1].map(() => startHost(server.url, joinedName));
    try {
      await eventually(realClock, () => pids.size === 2, { timeoutMs: 10_000, message: 'both hosts say hello' });
    } finally {
      hellos.unsubscribe();
      await nc.close();
    }
    return { hosts, uids: [...pids.keys()], pids };
  })());
const joined = sharedCluster(async (server) => {
  const { hosts } = await joinedHosts(server);
  return { cluster: await startCluster(natsConfig(server, { processes: undefined, hosts: 2, cluster: joinedName })), hosts };
});
// Hosts of a test that failed before the join test stopped them (or of a run whose --match left
// the join test out): SIGTERM, so that each removes its temporary folder as it exits (SIGKILL
// left them in /tmp), killed only past a bound (once exited, both are no-ops).
test.after.always(async () => {
  const hosts = (await waiting?.catch(() => undefined))?.hosts ?? [];
  for (const h of hosts) h.child.kill('SIGTERM');
  const kill = setTimeout(() => {
    for (const h of hosts) h.child.kill('SIGKILL');
  }, 15_000);
  await Promise.all(hosts.map((h) => h.exited));
  clearTimeout(kill);
});

natsTest(`nats: dedicated processes; crash kills the server's process (SIGKILL) and restart recovers it from its log${skipped}`, async (t) => {
  const s = await dedicated.get(t);
  const { cluster } = s;
  const runtime = cluster.internals.runtime as NatsRuntime;
  t.is(runtime.processes().length, 2, '1 region and 1 server, a process each');
  const client = cluster.client({ region: 'a' });
  const key = 'durable-key';
  const owner = cluster.serverFor(key);
  await client.put(key, 'before');
  const victim = runtime.processes().find((p) => p.nodes.includes(owner))!;
  t.deepEqual(victim.nodes, [owner]);
  await cluster.crash(owner);
  t.false(processExists(victim.pid!), `process ${victim.pid} of ${owner} was killed`);
  await t.throwsAsync(client.get(key));
  await cluster.restart(owner);
  const fresh = runtime.processes().find((p) => p.nodes.includes(owner))!;
  s.pids.add(fresh.pid!);
  t.not(fresh.pid, victim.pid);
  t.is(await eventually(cluster, async () => (await client.get(key)) ?? false, { timeoutMs: 10_000 }), 'before');
});

natsTest(`nats: pause stops a server's actors while its process goes on; resumed, it answers again${skipped}`, async (t) => {
  const { cluster } = await dedicated.get(t);
  const runtime = cluster.internals.runtime as NatsRuntime;
  const client = cluster.client({ region: 'a' });
  const key = 'paused-key';
  const owner = cluster.serverFor(key);
  await client.put(key, 'before');
  const victim = runtime.processes().find((p) => p.nodes.includes(owner))!;
  await cluster.pause(owner);
  t.true(cluster.isPaused(owner));
  await t.throwsAsync(client.get(key), undefined, 'no answer from a paused owner');
  t.true(processExists(victim.pid!), `process ${victim.pid} of ${owner} still runs`);
  await cluster.resume(owner);
  t.is(await eventually(cluster, async () => (await client.get(key)) ?? false, { timeoutMs: 10_000 }), 'before');
});

natsTest(`nats: a host process killed from outside is a 'host-exit': its node is down, restart() starts a new process${skipped}`, async (t) => {
  const s = await dedicated.get(t);
  const { cluster } = s;
  const runtime = cluster.internals.runtime as NatsRuntime;
  const exits: HostEvent[] = [];
  const onExit = (e: HostEvent): void => void exits.push(e);
  cluster.on('host-exit', onExit);
  try {
    const client = cluster.client({ region: 'a' });
    const key = 'kill9-key';
    const owner = cluster.serverFor(key);
    await client.put(key, 'before');
    const victim = runtime.processes().find((p) => p.nodes.includes(owner))!;
    // Before: only a 'frame-error'; isDown stayed false and restart() did nothing.
    process.kill(victim.pid!, 'SIGKILL');
    await eventually(realClock, () => cluster.isDown(owner), { timeoutMs: 5_000, message: `${owner} is down` });
    t.like(exits[0], { kind: 'host-exit', host: victim.host, nodes: [owner] });
    t.false(runtime.processes().find((p) => p.host === victim.host)!.alive);
    await cluster.restart(owner);
    const fresh = runtime.processes().find((p) => p.host === victim.host)!;
    s.pids.add(fresh.pid!);
    t.true(fresh.alive);
    t.not(fresh.pid, victim.pid);
    t.false(cluster.isDown(owner));
    t.is(await eventually(cluster, async () => (await client.get(key)) ?? false, { timeoutMs: 10_000 }), 'before');
  } finally {
    cluster.off('host-exit', onExit);
  }
});

natsTest(
  `nats: dedicated processes: stop() after the crash, pause and kill above leaves no process (restarted ones too), connection or subscription${skipped}`,
  async (t) => {
    await dedicated.close(t);
  },
);

/**
 * A nats-server whose max_payload is 64 KiB (managed NATS services often allow that: far under
 * the default messageBytesMax, 1 MiB) and a cluster of three servers on two host processes
 * (with 'a' alone on the first, every Paxos leader has a follower on the other process: its
 * messages cross NATS), shared by the tests of a message too large, of the actors' sizing and,
 * last, of the server gone for good (it stops the server, then the cluster): until 2026-12-07
 * the first had a server of 16 KiB and a cluster of its own, the cluster had three host
 * processes, and the last a server and a cluster of its own.
 */
const payloadDir = mkdtempSync(join(tmpdir(), 'meridian-nats-conf-'));
test.after.always(() => rmSync(payloadDir, { recursive: true, force: true }));
writeFileSync(join(payloadDir, 'nats.conf'), 'max_payload: 65536\n');
const payload64k = sharedCluster(
  async (server) => {
    const config: ClusterConfig = { ...natsConfig(server, { processes: 2 }), regions: [{ name: 'a', servers: 3 }] };
    // Unset messageBytesMax: lowered to what the server carries, and the actors are planned for that.
    return { cluster: await startCluster(config), config };
  },
  ['-c', join(payloadDir, 'nats.conf')],
);

natsTest(`nats: a message over the server's max_payload is refused as too-large, not sent${skipped}`, async (t) => {
  const { cluster } = await payload64k.get(t);
  // The launcher's own host (host 0, the clients') refuses it before it reaches NATS.
  const host = cluster.internals.runtime.host;
  t.true(host.messageBytesMax < 65536, `messageBytesMax lowered to ${host.messageBytesMax}`);
  const before = host.stats.dropped['too-large'] ?? 0;
  host.route('client/a/test', 'a/0', { type: 'probe', pad: 'x'.repeat(70_000) });
  host.route('client/a/test', 'a/0', { type: 'probe', pad: 'x'.repeat(1_000) });
  t.is((host.stats.dropped['too-large'] ?? 0) - before, 1);
  // Traffic still flows, and no frame was refused by the server (the connection is up).
  const client = cluster.client({ region: 'a' });
  await client.put('k', 'v');
  t.is(await cluster.client({ region: 'a' }).get('k'), 'v');
});

natsTest(`nats: the actors size their messages by what the server's max_payload carries, not by the configured messageBytesMax${skipped}`, async (t) => {
  const { cluster, config } = await payload64k.get(t);
  const carried = cluster.internals.runtime.host.messageBytesMax;
  t.true(carried < 65536, `messageBytesMax lowered to ${carried}`);
  // The test above's probe was dropped as too large on the launcher's host: counted from here.
  const droppedBefore = (await cluster.internals.runtime.collectStats()).dropped['too-large'] ?? 0;
  const client = cluster.client({ region: 'a' });
  // The request fits (under `carried`), its replicated command not with a catch-up's
  // room: the leader refuses it, definite, naming the hosts' limit. Planned for 1 MiB,
  // it took it, and a follower that had to catch up on it would never have.
  const big = await t.throwsAsync(client.put('big', 'x'.repeat(carried - 120)), { instanceOf: UnavailableError });
  t.regex(
    big?.message ?? '',
    new RegExp(
      `^not done: the put is \\d+ bytes as a replicated command, over the \\d+ a replication message carries under messageBytesMax \\(${carried} bytes\\)$`,
    ),
  );
  // Concurrent puts a leader batches to each follower: planned for 1 MiB, a batch of
  // several was over what the server carries, dropped as too large and sent again.
  await Promise.all(Array.from({ length: 20 }, (_, i) => client.put(`k${i}`, 'v'.repeat(20_000))));
  t.is(await client.get('k19'), 'v'.repeat(20_000));
  const stats = await cluster.internals.runtime.collectStats();
  t.is((stats.dropped['too-large'] ?? 0) - droppedBefore, 0, 'no host dropped a message as too large');
  // On the same server, beside the running cluster (under a name of its own: a name in use is
  // refused first): given larger than the server carries, refused at start, not lowered behind
  // the user's back.
  const refused = await startCluster({ ...config, nats: { ...config.nats!, cluster: `big${process.pid}` }, messageBytesMax: 1024 * 1024 }).then(
    async (started) => {
      await started.stop();
      return new Error('started');
    },
    (error: unknown) => error as Error,
  );
  t.true(refused instanceof ConfigError, refused.message);
  t.regex(refused.message, /^config\.messageBytesMax: expected at most \d+ bytes on these NATS servers \(their max_payload, 65536 bytes, less the framing\)/);
});

natsTest(`nats: the NATS server gone for good: a 'host-exit' per host, calls fail with MeridianErrors, nothing thrown, stop() ends${skipped}`, async (t) => {
  // The 64 KiB server's and its cluster's end (2 host processes), after the tests above: until
  // 2026-12-07 a server and a cluster of their own, a boot of two host processes more.
  const { cluster, server } = await payload64k.get(t);
  const runtime = cluster.internals.runtime as NatsRuntime;
  const pids = runtime.processes().map((p) => p.pid!);
  const exits: HostEvent[] = [];
  cluster.on('host-exit', (e: HostEvent) => void exits.push(e));
  cluster.on('frame-error', () => undefined);
  try {
    const client = cluster.client({ region: 'a' });
    await client.put('k', 1);
    // Before: once the client gave up reconnecting, the beat timer and every frame sent threw
    // ClosedConnectionError (uncaught: it failed this test) and calls timed out.
    await server.stop();
    await eventually(realClock, () => exits.length === 2, { timeoutMs: 20_000, message: 'a host-exit for each host' });
    t.deepEqual(exits.map((e) => (e as { host: number }).host).sort(), [1, 2]);
    // The hosts' exits can come before the launcher's own connection gives up (a ping then
    // finds no host and resolves []): wait for the connection to be closed.
    const pingError = await eventually(
      realClock,
      async () => {
        try {
          await cluster.ping();
          return false;
        } catch (error) {
          return error as Error;
        }
      },
      { timeoutMs: 20_000, message: 'ping fails once the connection is closed' },
    );
    t.true(pingError instanceof UnavailableError, String(pingError));
    t.regex(pingError.message, /NATS connection .* closed/);
    const started = Date.now();
    await t.throwsAsync(client.put('k', 2), { instanceOf: MeridianError });
    t.true(Date.now() - started < 3_000, 'a call fails at once, not after a timeout');
    // Used by the front host: the beat and frames must not throw now.
    await new Promise((r) => setTimeout(r, 1_500));
  } finally {
    await cluster.stop();
  }
  await eventually(realClock, () => pids.every((pid) => !processExists(pid)), { timeoutMs: 10_000, message: 'the hosts exit' });
  t.pass();
});

natsTest(`nats: host processes exit by themselves when their launcher is killed before stop()${skipped}`, async (t) => {
  await withServer(t, async (server, baseline) => {
    const script = fileURLToPath(new URL('./scripts/nats-launch.js', import.meta.url));
    // The launcher's data directory: removed here, since a killed launcher cannot remove its own.
    const dataDir = mkdtempSync(join(tmpdir(), 'meridian-nats-launch-'));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const child = spawn(process.execPath, [script, server.url, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let out = '';
    const pids = await new Promise<number[]>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as number[]);
      });
      child.once('exit', (code) => reject(new Error(`launcher exited with ${code}: ${out}`)));
    });
    t.is(pids.length, 2);
    for (const pid of pids) t.true(processExists(pid));
    child.kill('SIGKILL');
    await exited;
    await eventually(realClock, () => pids.every((pid) => !processExists(pid)), { timeoutMs: 10_000, message: 'orphaned hosts exit' });
    await leavesNothing(t, server, baseline, pids);
  });
});

natsTest(
  `nats: a waiting 'meridian host' refuses a truncated assignment, or one naming a data: module or a dataDir (nothing imported, nothing written), then serves a real launcher${skipped}`,
  async (t) => {
    // On one of the shared hosts while they wait (until 2026-12-07 a host and a server of its
    // own, with a --data-dir: checkAssign refuses a dataDir whatever the host's own folder).
    const { server } = await joined.serve(t);
    const { hosts, uids, pids } = await joinedHosts(server);
    const uid = uids[0]!;
    const target = hosts.find((h) => h.child.pid === pids.get(uid))!;
    const dir = mkdtempSync(join(tmpdir(), 'meridian-evil-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const pwned = join(dir, 'pwned');
    const elsewhere = join(dir, 'elsewhere');
    const nc = await connect({ servers: server.url });
    try {
      const request = async (data: Uint8Array): Promise<string> =>
        (unpack((await nc.request(`meridian.${joinedName}.assign.${uid}`, data, { timeout: 5_000 })).data) as { e: string }).e;
      // Before: the host decoded its assignment outside any try; a truncated one threw in the callback and its client stopped reading.
      t.regex(await request(new Uint8Array([0x92])), /^malformed assignment/);
      const evil = rawAssignment({
        behaviorsModule: `data:text/javascript,import('node:fs').then((f) => f.writeFileSync(${JSON.stringify(pwned)}, 'x')); export const behaviors = new Map();`,
      });
      // Before: the host imported the module (its code wrote the file) and joined as host 1 with its logs in dataDir.
      t.regex(
        await request(pack(evil)),
        /^malformed assignment: assignment\.behaviorsModule: expected a file: URL .*data:, http:, https:, node: and other URLs are refused/,
      );
      t.regex(
        await request(pack({ ...evil, behaviorsModule: 'file:///nonexistent.js', dataDir: elsewhere })),
        /^malformed assignment: assignment\.dataDir: expected no dataDir/,
      );
      t.regex(
        await request(pack({ ...evil, behaviorsModule: 'file:///nonexistent.js', hostId: -1 })),
        /^malformed assignment: assignment\.hostId: expected an integer/,
      );
      await new Promise((r) => setTimeout(r, 500));
      t.false(existsSync(pwned), 'the module was not imported');
      t.false(existsSync(elsewhere), 'nothing was written where the assignment said');
      t.regex(target.out(), /refused an assignment \(malformed assignment: assignment\.behaviorsModule/);
    } finally {
      await nc.close();
    }
    // The launcher's own module is a file: URL: the hosts still serve a real cluster.
    const { cluster } = await joined.get(t);
    await cluster.client({ region: 'a' }).put('k', 1);
    t.is(await cluster.client({ region: 'b' }).get('k'), 1);
  },
);

natsTest(`nats: malformed messages on .ev, .st and .hello are dropped; the cluster goes on${skipped}`, async (t) => {
  const { cluster, server } = await joined.get(t);
  const nc = await connect({ servers: server.url });
  try {
    const client = cluster.client({ region: 'a' });
    await client.put('junk', 1);
    // Before: msgpack null (or no msgpack at all) on .ev or .st threw in the launcher's callback
    // and every later call timed out.
    const subj = subjects(joinedName, (cluster.internals.runtime as NatsRuntime).generation);
    for (const subject of [subj.events, subj.stats, subj.hello]) {
      for (const data of [
        pack(null),
        new Uint8Array([0x92]),
        pack({ host: 1, event: { kind: 'host-exit', host: 1, nodes: ['a/0'] } }),
        pack({ host: 1, stats: { sent: 1 } }),
      ]) {
        nc.publish(subject, data);
      }
    }
    await nc.flush();
    t.is(await cluster.client({ region: 'b' }).get('junk'), 1);
    t.deepEqual((await cluster.ping()).map((p) => p.host).sort(), [1, 2]);
    t.false(cluster.isDown('a/0'), 'a host-exit off the wire is not believed');
    t.true((await cluster.collectStats()).delivered > 0);
  } finally {
    await nc.close();
  }
});

natsTest(
  `nats: a malformed control request is refused naming the field before any method runs (dropped with a warning when nothing waits for the answer)${skipped}`,
  async (t) => {
    const { cluster, hosts, server } = await joined.get(t);
    const nc = await connect({ servers: server.url });
    try {
      const hostId = (await cluster.ping())[0]!.host;
      const pid = (cluster.internals.runtime as NatsRuntime).processes().find((p) => p.host === hostId)!.pid;
      const target = hosts.find((h) => h.child.pid === pid)!;
      const subject = subjects(joinedName, (cluster.internals.runtime as NatsRuntime).generation).control(hostId);
      const ask = async (data: Uint8Array): Promise<{ v?: unknown; e?: string }> =>
        unpack((await nc.request(subject, data, { timeout: 5_000 })).data) as { v?: unknown; e?: string };
      // Before: each ran ('yes' took a/0 for dead on its host, a loss of 2 lost every message,
      // a string of arguments was spread a letter each), or failed inside the method.
      const cases: Array<[unknown, RegExp]> = [
        [{ m: 'setNodeDead', a: ['a/0', 'yes'] }, /^malformed control request: control\.setNodeDead\.dead: expected a boolean, got "yes"$/],
        [{ m: 'setNetwork', a: [{ loss: 2 }] }, /^malformed control request: control\.setNetwork\.config\.loss: expected a probability from 0 to 1, got 2$/],
        [{ m: 'crashNode', a: 'a/0' }, /^malformed control request: control\.a: expected an array of crashNode's 1 argument: node, got "a\/0"$/],
        [{ m: 'constructor', a: [] }, /^malformed control request: control\.m: expected one of the control methods \(start, ping, .*\), got "constructor"$/],
        [{ m: 'ping', a: [], x: 1 }, /^malformed control request: control\.x: expected only the fields m, a, got "an unknown field"$/],
        [null, /^malformed control request: control: expected an object \{ m, a \}, got null$/],
      ];
      for (const [request, message] of cases) t.regex((await ask(pack(request))).e ?? 'answered', message, JSON.stringify(request));
      t.regex(
        (await ask(new Uint8Array([0x92]))).e ?? 'answered',
        /^malformed control request: control: expected a msgpack-encoded \{ m, a \}, got 1 bytes that do not decode$/,
      );
      // Published with no reply subject: nobody to answer, so dropped, and the host says so.
      nc.publish(subject, pack({ m: 'setNodeDead', a: ['a/0', 1] }));
      await eventually(realClock, () => target.out().includes('dropped a malformed control request: control.setNodeDead.dead: expected a boolean, got 1'), {
        timeoutMs: 5_000,
        message: 'the host warns of the dropped request',
      });
      // A well-formed request is served, and the cluster is whole.
      t.is((await ask(pack({ m: 'ping', a: [] }))).e, undefined);
      await cluster.client({ region: 'a' }).put('k', 1);
      t.is(await cluster.client({ region: 'b' }).get('k'), 1);
      t.false(cluster.isDown('a/0'));
    } finally {
      await nc.close();
    }
  },
);

// Last on the shared cluster of 'meridian host' processes: it stops it, and the hosts exit 0.
natsTest(`nats: hosts started with 'meridian host' join a cluster (hosts: 2) and exit when it stops${skipped}`, async (t) => {
  const { cluster } = await joined.get(t);
  t.deepEqual((await cluster.ping()).map((p) => p.host).sort(), [1, 2]);
  const client = cluster.client({ region: 'b' });
  await client.put('remote', 42);
  t.is(await cluster.client({ region: 'a' }).get('remote'), 42);
  await joined.close(t, async ({ hosts }) => {
    const codes = await Promise.all(hosts.map((h) => h.exited));
    t.deepEqual(codes, [0, 0]);
    for (const h of hosts) t.regex(h.out(), /exiting \(shut down by the launcher\)/);
  });
});

natsTest(
  `nats: 'meridian host --data-dir' folders record their cluster and nodes: a restart finds its data whichever host says hello first; another cluster or other nodes are refused${skipped}`,
  async (t) => {
    await withServer(t, async (server, baseline) => {
      const name = `dd${process.pid}`;
      const dir = mkdtempSync(join(tmpdir(), 'meridian-hostdirs-'));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      const dirs = [join(dir, 'hd1'), join(dir, 'hd2')];
      const startHosts = (cluster: string, folders: string[]) => folders.map((folder) => startHost(server.url, cluster, ['--data-dir', folder], true));
      const config = { ...natsConfig(server, { processes: undefined, hosts: 2, cluster: name }), replication: { mode: 'none' as const } };
      const nc = await connect({ servers: server.url });
      t.teardown(() => nc.close().catch(() => undefined));
      const pids = new Map<number, string>();
      const hellos = nc.subscribe(`meridian.${name}.hello`, {
        callback: (_e, msg) => {
          const hello = unpack(msg.data) as { uid: string; pid: number };
          pids.set(hello.pid, hello.uid);
        },
      });
      // Three runs of the same cluster on the same folders: the hosts say hello in any order,
      // and a host given the other's nodes refuses them (before, it started them empty: a
      // restart read undefined for the keys whose logs were in the other folder).
      let swaps = 0;
      for (let run = 0; run < 3; run++) {
        let hosts: HostProcess[];
        if (run === 1) {
          // Other nodes, in an assignment sent straight to a waiting host: refused, saying what
          // differs; the host waits on. It then says hello before the other host starts, as a
          // host started first does (until 2026-12-07 a host of its own, after the runs).
          const [first] = startHosts(name, [dirs[1]!]);
          await eventually(realClock, () => pids.has(first!.child.pid!), { timeoutMs: 10_000, message: 'the host says hello' });
          const assign = rawAssignment({
            directory: [['x/0', { host: 1, region: 'x', node: 'x/0' }]],
            specs: [{ address: 'x/0', behavior: 'server', params: {}, region: 'x', node: 'x/0' }],
            layout: { shards: 16, regions: [{ name: 'x', servers: 1 }] },
            replication: { mode: 'none', factor: 1 },
          });
          const reply = await nc.request(`meridian.${name}.assign.${pids.get(first!.child.pid!)!}`, pack(assign), { timeout: 5_000 });
          t.regex(
            (unpack(reply.data) as { e: string }).e,
            /^--data-dir needs a directory this host wrote for the same cluster and nodes, or a new one \(it holds host data of regions a \(2 servers\), b \(1 server\) and nodes .*; this assignment has regions x \(1 server\) and nodes x\/0; give another, or empty this one\), got /,
          );
          hosts = [first!, ...startHosts(name, [dirs[0]!])];
        } else hosts = startHosts(name, dirs);
        const cluster = await startCluster(config);
        try {
          const client = cluster.client({ region: 'a' });
          for (let i = 0; i < 8; i++) {
            if (run === 0) await client.put(`k${i}`, i);
            else t.is(await client.get(`k${i}`), i, `run ${run}: k${i}`);
          }
        } finally {
          await cluster.stop();
        }
        t.deepEqual(await Promise.all(hosts.map((h) => h.exited)), [0, 0], hosts.map((h) => h.out()).join('\n'));
        swaps += hosts.filter((h) => h.out().includes('refused host')).length;
      }
      hellos.unsubscribe();
      t.log(`${swaps} assignments refused for another host's nodes, then taken by the other host`);
      // The audit's case: a host of a new cluster on a folder of the old one exits 2 (before, \`get k\` answered 1 in 'fresh').
      // Run here (it refuses before connecting; until 2026-12-07 a process of its own; cli.js
      // exits with main's code), with a NATS URL where nothing listens: had it taken the folder,
      // it would exit 1, not wait for a launcher.
      let err = '';
      const fresh = await hostMain(['--nats', 'nats://127.0.0.1:1', '--cluster', 'fresh', '--data-dir', dirs[0]!], {
        out: () => undefined,
        err: (line) => (err += `${line}\n`),
      });
      t.is(fresh, 2);
      t.regex(
        err,
        new RegExp(
          `--data-dir needs a directory this host wrote for the same cluster and nodes, or a new one \\(it holds host data of cluster "${name}"; this host serves "fresh"`,
        ),
      );
      await nc.close();
      await leavesNothing(t, server, baseline, []);
    });
  },
);

natsTest(`nats: a second cluster under a name in use on the server is a ConfigError on nats.cluster; the first goes on${skipped}`, async (t) => {
  const { cluster: first, server } = await twoProcesses.get(t);
  await first.client({ region: 'a' }).put('k', 1);
  // Before: the second one's start was answered by the first one's hosts, it failed, and its
  // cleanup shut those hosts down.
  const error = await t.throwsAsync(startCluster(natsConfig(server, { cluster: sharedName })), { instanceOf: ConfigError });
  t.is(error!.field, 'nats.cluster');
  t.deepEqual((await first.ping()).map((p) => p.host).sort(), [1, 2]);
  t.is(await first.client({ region: 'b' }).get('k'), 1);
});

natsTest(`nats: a killed host process that ran a region actor runs it again once its servers and coordinator are restarted${skipped}`, async (t) => {
  const s = await twoProcesses.get(t);
  const { cluster } = s;
  const runtime = cluster.internals.runtime as NatsRuntime;
  await cluster.client({ region: 'a' }).put('k', 'v');
  const victim = runtime.processes().find((p) => p.nodes.includes('a'))!;
  const restartable = victim.nodes.filter((n) => n !== 'a');
  t.log(`killing host ${victim.host} (${victim.nodes.join(', ')})`);
  process.kill(victim.pid!, 'SIGKILL');
  await eventually(realClock, () => restartable.every((n) => cluster.isDown(n)), { timeoutMs: 5_000, message: `${restartable.join(', ')} down` });
  // Before: the new process left the region actor out (the dead host's nodes were all
  // 'crashed'), and restart('a') is no call a user can make: region a was down for good.
  for (const id of restartable) await cluster.restart(id);
  s.pids.add(runtime.processes().find((p) => p.host === victim.host)!.pid!);
  t.not(await eventually(cluster, async () => (await cluster.inspect('a')) ?? false, { timeoutMs: 10_000, message: 'region actor a runs' }), null);
  await eventually(cluster, () => cluster.members().every((m) => m.state === 'up'), { timeoutMs: 10_000, message: 'every server up' });
});

// Last on the shared cluster: it stops it.
natsTest(`nats: operations across 2 host processes, then stop() leaves no process, connection or subscription${skipped}`, async (t) => {
  const { cluster, server } = await twoProcesses.get(t);
  const runtime = cluster.internals.runtime as NatsRuntime;
  const pids = runtime.processes().map((p) => p.pid!);
  t.is(cluster.transport, 'nats');
  t.is(pids.length, 2);
  for (const pid of pids) t.true(processExists(pid));
  const pings = await cluster.ping();
  t.deepEqual(pings.map((p) => p.host).sort(), [1, 2]);
  const a = cluster.client({ region: 'a' });
  const b = cluster.client({ region: 'b' });
  for (let i = 0; i < 20; i++) await a.put(`k${i}`, i);
  for (let i = 0; i < 20; i++) t.is(await b.get(`k${i}`), i);
  t.true(await a.cas('k0', 0, 100));
  t.is(await b.get('k0'), 100);
  const stats = await cluster.collectStats();
  t.true(stats.delivered > 0);
  t.is(stats.dropped.malformed ?? 0, 0);
  t.true((await serverLoad(server)).connections >= 3, 'launcher and two hosts connected');
  await twoProcesses.close(t);
});

natsTest(
  `nats: a 'meridian host' killed from outside is noticed without a call (it goes silent): 'host-exit', and calls reject with MeridianErrors${skipped}`,
  async (t) => {
    await withServer(t, async (server, baseline) => {
      const name = `kill${process.pid}`;
      // Folders of the test's own: a host killed (SIGKILL) cannot remove its temporary one.
      const dirs = mkdtempSync(join(tmpdir(), 'meridian-kill-'));
      t.teardown(() => rmSync(dirs, { recursive: true, force: true }));
      const hosts = [0, 1].map((i) => startHost(server.url, name, ['--data-dir', join(dirs, `h${i}`)]));
      let cluster: Cluster | undefined;
      try {
        cluster = await startCluster({ ...natsConfig(server, { processes: undefined, hosts: 2, cluster: name }), replication: { mode: 'none' } });
        const runtime = cluster.internals.runtime as NatsRuntime;
        const exits: HostEvent[] = [];
        cluster.on('host-exit', (e: HostEvent) => void exits.push(e));
        const victim = runtime.processes().find((p) => p.nodes.includes('a/0'))!;
        // Before: processes() said alive for ever, and calls failed with a plain Error 'no responders'.
        process.kill(victim.pid!, 'SIGKILL');
        await eventually(realClock, () => cluster!.isDown('a/0'), { timeoutMs: 15_000, message: 'a/0 is down' });
        t.like(exits[0], { kind: 'host-exit', host: victim.host });
        t.false(runtime.processes().find((p) => p.host === victim.host)!.alive);
        await t.throwsAsync(cluster.restart('a/0'), { instanceOf: UnavailableError, message: /started elsewhere/ });
        t.is((await cluster.ping()).length, 1);
      } finally {
        await cluster?.stop();
        for (const h of hosts) h.child.kill('SIGKILL');
        await Promise.all(hosts.map((h) => h.exited));
      }
      await leavesNothing(t, server, baseline, []);
    });
  },
);

natsTest(
  `nats: a server with authentication: a user and password, or a token, in the URLs signs in launcher and hosts; none is refused${skipped}`,
  async (t) => {
    // Before: nats.js read no credentials from a URL, so a server with authentication refused every connection.
    const withAuth = (url: string, auth: string): string => url.replace('nats://', `nats://${auth}@`);
    await withServer(
      t,
      async (server, baseline) => {
        await t.throwsAsync(startCluster(natsConfig(server)), { instanceOf: UnavailableError, message: /Authorization Violation/ });
        const name = `auth${process.pid}`;
        const url = withAuth(server.url, 'alice:s%40cret');
        const { exited, out } = startHost(url, name);
        // Spawned hosts (their URLs in their environment) and a 'meridian host' both sign in.
        // One spawned host process is enough to show a spawned host signs in.
        for (const nats of [{ processes: 1 }, { processes: undefined, hosts: 1, cluster: name }]) {
          const cluster = await startCluster(natsConfig(server, { ...nats, servers: url }));
          try {
            await cluster.client({ region: 'a' }).put('k', 1);
            t.is(await cluster.client({ region: 'b' }).get('k'), 1);
          } finally {
            await cluster.stop();
          }
        }
        t.is(await exited, 0);
        t.false(out().includes('s%40cret') || out().includes('s@cret'), 'the password is not shown');
        await leavesNothing(t, server, baseline, []);
      },
      ['--user', 'alice', '--pass', 's@cret'],
    );
    await withServer(
      t,
      async (server) => {
        const cluster = await startCluster(natsConfig(server, { servers: withAuth(server.url, 't0ken'), processes: 1 }));
        try {
          await cluster.client({ region: 'a' }).put('k', 2);
          t.is(await cluster.client({ region: 'b' }).get('k'), 2);
        } finally {
          await cluster.stop();
        }
        await t.throwsAsync(startCluster(natsConfig(server, { servers: withAuth(server.url, 'wrong') })), { message: /Authorization Violation/ });
      },
      ['--auth', 't0ken'],
    );
  },
);

natsTest(`nats: a tls:// URL asks for TLS: a plain-text server is refused, not used in plain text${skipped}`, async (t) => {
  await withServer(t, async (server, baseline) => {
    // Before: the scheme was dropped and the cluster started over plain text.
    const error = await t.throwsAsync(startCluster(natsConfig(server, { servers: server.url.replace(/^nats:/, 'tls:') })), {
      instanceOf: UnavailableError,
    });
    t.regex(error!.message, /tls/);
    await leavesNothing(t, server, baseline, []);
  });
});

natsTest(
  `nats: a crash, restart, pause or resume in flight when stop() begins completes or rejects with StoppedError, and starts no process${skipped}`,
  async (t) => {
    await withServer(t, async (server, baseline) => {
      const pids = new Set<number>();
      const { outcomes, broken } = await stopWhileInFlight(
        () =>
          // One server: 2 host processes a cluster (a/0's, and region a's with its coordinator),
          // not 3; a crash still tells another host, and the helper starts 4 clusters.
          startCluster({
            regions: [{ name: 'a', servers: 1 }],
            transport: 'nats',
            seed: 7,
            requestTimeoutMs: 2_000,
            nats: { servers: server.url, processes: 'dedicated' },
          }),
        // Read once the operation has settled: a process it started is listed too.
        (cluster) => {
          for (const p of (cluster.internals.runtime as NatsRuntime).processes()) if (p.pid !== undefined) pids.add(p.pid);
        },
      );
      t.log(outcomes.join('; '));
      t.deepEqual(broken, [], outcomes.join('; '));
      await leavesNothing(t, server, baseline, [...pids]);
    });
  },
);

natsTest(`a nats-server started by a process stops when that process is killed, even by SIGKILL${skipped}`, async (t) => {
  // The server runs under a shell whose stdin is the starting process's pipe (src/harness/nats-server.ts).
  const module = new URL('../src/harness/nats-server.js', import.meta.url).href;
  const bin = (binary as { bin: string }).bin;
  const script = `const { startNatsServer } = await import(${JSON.stringify(module)}); const s = await startNatsServer(${JSON.stringify(bin)}); console.log(s.monitorUrl); setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const monitorUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`the starting process exited (${code}) before printing its server`)));
  });
  const answers = async (): Promise<boolean> => {
    try {
      return (await fetch(`${monitorUrl}/healthz`)).ok;
    } catch {
      return false;
    }
  };
  t.true(await answers(), `the server at ${monitorUrl} answers while its process lives`);
  const killed = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await killed;
  await eventually(realClock, async () => !(await answers()), { timeoutMs: 10_000, message: `the server at ${monitorUrl} stops` });
  t.pass();
});

natsTest(
  `nats: a control request nobody serves is a definite ControlError; one served but unanswered in time is a TimeoutError (indefinite: it may have been carried out)${skipped}`,
  async (t) => {
    const server = await startNatsServer((binary as { bin: string }).bin);
    const nc = await connectNats([server.url], 'control-test');
    try {
      const subj = subjects('ctl', 'g1');
      const none = await t.throwsAsync(callHost(nc, subj, 3, 'ping', [], 500));
      t.true(none instanceof ControlError && none.noResponders && none.definite, String(none));
      // A host that takes the request and never answers (frozen, or its answer lost).
      const sub = nc.subscribe(subj.control(3), { callback: () => undefined });
      const late = await t.throwsAsync(callHost(nc, subj, 3, 'ping', [], 300), { instanceOf: TimeoutError });
      t.false(late!.definite);
      sub.unsubscribe();
    } finally {
      await nc.close();
      await server.stop();
    }
  },
);
