import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from '../src/harness/ava.js';
import { NATS_LOST_DURING_SEED, runChecks } from '../src/harness/check-runner.js';
import { startCluster, UnavailableError } from '../src/index.js';
import { clusterSubjects, connectNats, encodeControl, publishIfOpen } from '../src/runtime/transports/nats-wire.js';
import { freePort, natsServerBinary } from '../src/harness/nats-server.js';

/**
 * What the NATS transport and `check` over it do when the NATS server goes away, and when hosts
 * started elsewhere refuse their plans (an audit, session 60): a spawned host's exit status, its
 * first connection retried, a check's seeds that met the outage, startCluster's wait for hosts.
 * Each test on its own server and ports, so they run at once: they mostly wait (for a connect
 * timeout, a host's exit), and one after another they held the file's lane for ~19 s.
 */
const binary = natsServerBinary();
const natsTest = 'bin' in binary ? test : test.skip;
const skipped = 'reason' in binary ? ` (skipped: ${binary.reason})` : '';
const realClock = { sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)), now: () => Date.now() };
const hostEntry = fileURLToPath(new URL('../workers/nats-host.js', import.meta.url));

/** A nats-server on `port` (the tests need the port before the server runs); stop() ends it. */
function natsServerOn(port: number, monitor: number): { stop: () => Promise<void> } {
  const child = spawn((binary as { bin: string }).bin, ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitor)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The host process the NATS transport spawns (workers/nats-host.js), for cluster `name`, its stdin a pipe as the launcher's. */
function spawnedHost(url: string, name: string, dataDir: string): { child: ChildProcess; exit: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [hostEntry, '--cluster', name, '--uid', `h1-${name}`, '--data-dir', dataDir], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, MERIDIAN_NATS_SERVERS: url },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit, stderr: () => stderr };
}

/** The names of the clients the server at `monitor` holds. */
async function clientNames(monitor: number): Promise<string[]> {
  const connz = (await (await fetch(`http://127.0.0.1:${monitor}/connz`)).json()) as { connections?: Array<{ name?: string }> };
  return (connz.connections ?? []).map((c) => c.name ?? '');
}

natsTest(
  `nats: a spawned host whose NATS server goes away for good exits 1 (it exited 0, and its launcher's 'host-exit' read "exited (0)")${skipped}`,
  async (t) => {
    const [port, monitor] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'meridian-nats-failures-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const server = natsServerOn(port, monitor);
    const host = spawnedHost(`nats://127.0.0.1:${port}`, 'gone', dir);
    t.teardown(() => void host.child.kill('SIGKILL'));
    try {
      await eventually(realClock, async () => (await clientNames(monitor).catch((): string[] => [])).includes('meridian-host-h1-gone'), {
        timeoutMs: 20_000,
        message: 'the host connected',
      });
    } finally {
      await server.stop();
    }
    t.is(await host.exit, 1, host.stderr());
  },
);

natsTest(`nats: a spawned host retries its first connection: a server that comes up a moment after it started is joined${skipped}`, async (t) => {
  const [port, monitor] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'meridian-nats-failures-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const host = spawnedHost(`nats://127.0.0.1:${port}`, 'late', dir);
  t.teardown(() => void host.child.kill('SIGKILL'));
  let exited = false;
  void host.exit.then(() => (exited = true));
  // Nothing listens yet: before, the host exited 1 at its first "connection refused".
  await new Promise((r) => setTimeout(r, 1_000));
  t.false(exited, host.stderr());
  const server = natsServerOn(port, monitor);
  try {
    await eventually(realClock, async () => exited || (await clientNames(monitor).catch((): string[] => [])).includes('meridian-host-h1-late'), {
      timeoutMs: 20_000,
      message: 'the host connected, or exited',
    });
    t.false(exited, host.stderr());
    // The launcher gone (its pipe closed): the host exits 0.
    host.child.stdin!.end();
    t.is(await host.exit, 0, host.stderr());
  } finally {
    await server.stop();
  }
});

natsTest(
  `nats: a run whose first NATS connection gets no answer (a loaded machine) tries once more and runs its seed; it stopped before any seed, "NATS cannot be reached"${skipped}`,
  async (t) => {
    const [port, monitor] = [await freePort(), await freePort()];
    const server = natsServerOn(port, monitor);
    // In front of the server: the first connection is held open and never answered (the client
    // waits for the server's INFO until its connect timeout), every later one passed through.
    const held: Socket[] = [];
    let connections = 0;
    const proxy = createServer((socket) => {
      socket.on('error', () => undefined);
      if (++connections === 1) {
        held.push(socket);
        return;
      }
      const upstream = tcpConnect(port, '127.0.0.1');
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = `nats://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    try {
      await eventually(realClock, async () => (await fetch(`http://127.0.0.1:${monitor}/healthz`).catch(() => undefined))?.ok === true, {
        timeoutMs: 10_000,
        message: 'the server is up',
      });
      // 2 clients and 500 ms of faults (12 and 1,000 until 2026-12-07): what is checked is that
      // the seed runs, not what it finds.
      const summary = await runChecks({ seeds: 1, from: 3, transport: 'nats', nats: { servers: url, processes: 1 }, clients: 2, faultMs: 500 });
      t.log(
        `connections through the proxy: ${connections}; seed 3: ${summary.reports[0]?.outcome ?? 'not run'}; natsUnreachable: ${summary.natsUnreachable ?? 'none'}`,
      );
      t.is(summary.natsUnreachable, undefined);
      t.is(summary.reports.length, 1);
      t.true(connections >= 2, 'the held connection, then the ones passed through');
    } finally {
      for (const s of held) s.destroy();
      proxy.close();
      await server.stop();
    }
  },
);

natsTest(
  `nats: check's NATS server killed while a seed runs: that seed is unknown (a NATS outage, not a finding, no stack trace), and no more seeds start: natsUnreachable names the URL${skipped}`,
  async (t) => {
    const [port, monitor] = [await freePort(), await freePort()];
    const url = `nats://127.0.0.1:${port}`;
    const server = natsServerOn(port, monitor);
    let killed = false;
    try {
      await eventually(realClock, async () => (await fetch(`http://127.0.0.1:${monitor}/healthz`).catch(() => undefined))?.ok === true, {
        timeoutMs: 10_000,
        message: 'the server is up',
      });
      const run = runChecks({ seeds: 3, transport: 'nats', nats: { servers: url, processes: 1 } });
      // The seed's launcher and its host connected: the seed is under way.
      await eventually(
        realClock,
        async () => {
          const names = await clientNames(monitor).catch((): string[] => []);
          return names.some((n) => n.startsWith('meridian-launcher-')) && names.some((n) => n.startsWith('meridian-host-'));
        },
        { timeoutMs: 30_000, message: "the first seed's cluster connected" },
      );
      await server.stop();
      killed = true;
      const summary = await run;
      t.log(summary.reports.map((r) => `seed ${r.seed}: ${r.outcome} ${r.unknownReason ?? r.failures.join('; ')}`).join('\n'));
      t.is(summary.reports.length, 1);
      t.deepEqual(summary.failed, []);
      t.is(summary.passed, 0);
      t.like(summary.reports[0], { seed: 1, outcome: 'unknown', unknownReason: NATS_LOST_DURING_SEED, error: undefined });
      t.regex(summary.natsUnreachable ?? '', new RegExp(`cannot reach NATS at ${url.replace(/[.]/g, '\\.')}`));
    } finally {
      if (!killed) await server.stop();
    }
  },
);

natsTest(
  `nats: hosts: 1, and the one host there refuses its assignment: startCluster fails at once with the refusal (it waited the full 60 s first)${skipped}`,
  async (t) => {
    const [port, monitor] = [await freePort(), await freePort()];
    const url = `nats://127.0.0.1:${port}`;
    const server = natsServerOn(port, monitor);
    try {
      await eventually(realClock, async () => (await fetch(`http://127.0.0.1:${monitor}/healthz`).catch(() => undefined))?.ok === true, {
        timeoutMs: 10_000,
        message: 'the server is up',
      });
      // A host that refuses every assignment (as `meridian host` does with a --data-dir of another layout).
      const nc = await connectNats([url], 'refusing-host');
      const subj = clusterSubjects('refused');
      nc.subscribe(subj.assign('rRefuser'), { callback: (_error, msg) => void msg.respond(encodeControl({ e: 'this host holds other nodes' })) });
      const hello = setInterval(() => publishIfOpen(nc, subj.hello, encodeControl({ uid: 'rRefuser', pid: 1, hostname: 'test' })), 250);
      try {
        const error = await t.throwsAsync(
          startCluster({ regions: [{ name: 'a', servers: 1 }], transport: 'nats', nats: { servers: url, hosts: 1, cluster: 'refused' } }),
          { instanceOf: UnavailableError },
        );
        t.regex(
          error!.message,
          /^only 0 of 1 hosts joined NATS cluster "refused" at once: every host that joined refused the plans left \(start them with: .*\); the last refusal: host 1 \(rRefuser\) refused its assignment: this host holds other nodes$/,
        );
      } finally {
        clearInterval(hello);
        await nc.close();
      }
    } finally {
      await server.stop();
    }
  },
);
