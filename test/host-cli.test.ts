import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { main } from '../src/cli/host.js';
import { lockDataDir } from '../src/cluster/data-dir.js';
import { ConfigError } from '../src/core/errors.js';
import { startCluster, type Cluster, type HostEvent } from '../src/index.js';
import { eventually } from '../src/harness/ava.js';
import { runNode, type NodeRun } from './helpers/run-node.js';
import { natsServerBinary, startNatsServer } from '../src/harness/nats-server.js';

/**
 * `meridian host`'s flags: every bad one exits 2 naming the flag before any NATS connection,
 * and an unreachable NATS server is one line (exit 1), not a stack trace. The cases run `main`
 * in this process (it connects nothing before its flags pass); one real command checks the
 * exit codes through cli.js.
 */

async function host(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (l) => (out += `${l}\n`), err: (l) => (err += `${l}\n`) });
  return { code, out, err };
}

test('meridian host: missing values, unknown or repeated flags, bad URLs, a bad name and a data dir that is a file exit 2 naming the flag', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-host-'));
  try {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const url = 'nats://127.0.0.1:4222';
    // Before: "--nats --cluster shop" read --cluster as the URL and reported "shop needs a value";
    // bad URLs and names were reported as config.nats.* fields (no such thing on a command line);
    // --data-dir was not looked at before the launcher assigned actors; a repeated flag kept its last value.
    const cases: Array<[string[], string | RegExp]> = [
      [['--nats'], '--nats needs NATS server URLs, comma-separated, such as nats://127.0.0.1:4222, got no value'],
      [['--nats', '--cluster', 'shop'], '--nats needs NATS server URLs, comma-separated, such as nats://127.0.0.1:4222, got "--cluster"'],
      [['--nats', url, '--cluster', ''], `--cluster needs the cluster's name (the launcher's nats.cluster), got ""`],
      [['--nats', url, '--cluster', 'shop', '--verbose', 'x'], /^unknown host option "--verbose"; allowed: --nats, --cluster, --data-dir, --help$/],
      [['--cluster', 'shop'], '--nats is required'],
      [[], '--nats and --cluster are required'],
      [['--nats', url, '--cluster', 'a', '--cluster', 'b'], '--cluster given twice ("a" and "b"): give it once'],
      [
        ['--nats', 'http://x:4222', '--cluster', 'shop'],
        /^--nats needs comma-separated URLs, each a NATS URL such as nats:\/\/127\.0\.0\.1:4222 \(scheme nats or tls.*\), got "http:\/\/x:4222"$/,
      ],
      [['--nats', `${url},`, '--cluster', 'shop'], /^--nats needs comma-separated URLs, each a NATS URL .*, got ""$/],
      [['--nats', Array(17).fill(url).join(','), '--cluster', 'shop'], '--nats needs 1 to 16 comma-separated NATS URLs, got 17'],
      [
        ['--nats', `tls://127.0.0.1:4222,${url}`, '--cluster', 'shop'],
        /^--nats needs URLs all tls:\/\/ .* not a mix, got "tls:\/\/127\.0\.0\.1:4222,nats:\/\/127\.0\.0\.1:4222"$/,
      ],
      [['--nats', url, '--cluster', 'a b'], /^--cluster needs a name of 1 to 64 letters, digits, dashes and underscores .*, got "a b"$/],
      [
        ['--nats', url, '--cluster', 'shop', '--data-dir', file],
        `--data-dir needs a directory, or a path where one can be created (it is a file), got ${JSON.stringify(file)}`,
      ],
      [
        ['--nats', url, '--cluster', 'shop', '--data-dir', join(file, 'logs')],
        /^--data-dir needs a directory, or a path where one can be created \(ENOTDIR creating it\), got /,
      ],
    ];
    // Under /proc mkdir says ENOENT below a folder that exists: Node's recursive mkdir looped there forever, the host hung at full CPU.
    if (existsSync('/proc/self'))
      cases.push([
        ['--nats', url, '--cluster', 'shop', '--data-dir', '/proc/meridian-none/logs'],
        '--data-dir needs a directory, or a path where one can be created (ENOENT creating it), got "/proc/meridian-none/logs"',
      ]);
    for (const [args, message] of cases) {
      const r = await host(args);
      t.is(r.code, 2, args.join(' '));
      t.is(r.out, '', args.join(' '));
      const first = r.err.split('\n')[0]!;
      const text = first.replace(/^meridian host: /, '');
      t.true(first.startsWith('meridian host: '), first);
      if (typeof message === 'string') t.is(text, message, args.join(' '));
      else t.regex(text, message, args.join(' '));
      t.regex(r.err, /\nusage: meridian host --nats URL\[,URL\] --cluster NAME \[--data-dir DIR\]\n/);
    }
    // A data dir that does not exist yet is made to check it, as startCluster's dataDir is; the
    // flags then pass. No NATS there: one line naming the flag, exit 1 (was a stack trace), and
    // the folder made for a host that never ran is removed again; one that existed stays.
    const logs = join(dir, 'logs');
    const unreachable = await host(['--nats', 'nats://127.0.0.1:1', '--cluster', 'shop', '--data-dir', logs]);
    t.is(unreachable.code, 1);
    t.regex(unreachable.err, /^meridian host: --nats: cannot reach NATS at nats:\/\/127\.0\.0\.1:1 within \d+ ms: .+\n$/);
    t.false(existsSync(logs), 'the folder the check made is gone');
    const kept = await host(['--nats', 'nats://127.0.0.1:1', '--cluster', 'shop', '--data-dir', dir]);
    t.is(kept.code, 1);
    t.true(statSync(dir).isDirectory(), 'a folder that existed stays');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('meridian host --help prints the usage (exit 0); a bad flag exits 2 through the real command', async (t) => {
  // The help in this process (until 2026-12-07 a process of its own: a start and imports, about
  // half a CPU second); the real command's exit code is checked with the bad flag.
  const help = await host(['--help']);
  t.is(help.code, 0, help.err);
  t.regex(help.out, /^usage: meridian host --nats URL\[,URL\] --cluster NAME \[--data-dir DIR\]\n/);
  for (const flag of ['--nats', '--cluster', '--data-dir']) t.true(help.out.includes(`\n  ${flag} `), `--help describes ${flag}`);
  const bad: NodeRun = await runNode(new URL('../src/cli.js', import.meta.url), ['host', '--nats', 'nats://127.0.0.1:4222', '--cluster', 'a.b'], 30_000);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^meridian host: --cluster needs a name of 1 to 64 letters/);
});

test('meridian host: a password in a --nats URL does not show in its messages (found by an audit, session 54)', async (t) => {
  const r = await host(['--nats', 'nats://alice:s3cret@127.0.0.1:1', '--cluster', 'shop']);
  t.is(r.code, 1);
  t.regex(r.err, /^meridian host: --nats: cannot reach NATS at nats:\/\/\*\*\*@127\.0\.0\.1:1 within/);
  t.false(r.err.includes('s3cret'));
  // Nor in a refused URL (it was shown whole).
  for (const nats of ['http://alice:s3cret@127.0.0.1:4222', 'tls://alice:s3cret@127.0.0.1:1,nats://alice:s3cret@127.0.0.1:2']) {
    const bad = await host(['--nats', nats, '--cluster', 'shop']);
    t.is(bad.code, 2);
    t.regex(bad.err, /got "[a-z]+:\/\/\*\*\*@127\.0\.0\.1/);
    t.false(bad.err.includes('s3cret'), bad.err);
  }
});

const natsBinary = natsServerBinary();
(('bin' in natsBinary ? test.serial : test.skip) as typeof test)(
  `meridian host: its NATS server gone for good, it exits 1 (a supervisor restarts a failed host); it exited 0${'reason' in natsBinary ? ` (skipped: ${natsBinary.reason})` : ''}`,
  async (t) => {
    const server = await startNatsServer((natsBinary as { bin: string }).bin);
    try {
      const running = host(['--nats', server.url, '--cluster', 'lost']);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await server.stop();
      const r = await running;
      t.regex(r.out, /exiting \(NATS connection closed\)/);
      t.is(r.code, 1);
    } finally {
      await server.stop();
    }
  },
);

test('meridian host: a data dir another host or cluster uses exits 2 naming --data-dir; its own lock is gone when it exits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-host-'));
  try {
    // Held by this (running) process, as by a cluster started here. Before, the host took it and mixed its logs in.
    const lock = join(dir, 'meridian.lock');
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), token: 'x' }));
    const r = await host(['--nats', 'nats://127.0.0.1:1', '--cluster', 'shop', '--data-dir', dir]);
    t.is(r.code, 2);
    t.regex(
      r.err,
      /^meridian host: --data-dir needs a directory no running cluster uses \(meridian\.lock there names process \d+ \(this one\), still running\), got /,
    );
    rmSync(lock);
    const free = await host(['--nats', 'nats://127.0.0.1:1', '--cluster', 'shop', '--data-dir', dir]);
    t.is(free.code, 1, 'it took the folder, then found no NATS');
    t.false(existsSync(lock), 'and let it go');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('meridian host: a --data-dir a host of another cluster wrote, or a cluster started there, exits 2 naming --data-dir, before connecting', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-host-'));
  try {
    const layout = join(dir, 'meridian-layout.json');
    // Before (audit, session 56): the host took it, and a new cluster read the old one's data.
    writeFileSync(layout, JSON.stringify({ cluster: 'shop', layout: { shards: 16, regions: [{ name: 'a', servers: 1 }] }, nodes: ['a/0'] }));
    const other = await host(['--nats', 'nats://127.0.0.1:1', '--cluster', 'fresh', '--data-dir', dir]);
    t.is(other.code, 2);
    t.is(
      other.err.split('\n')[0],
      `meridian host: --data-dir needs a directory this host wrote for the same cluster and nodes, or a new one (it holds host data of cluster "shop"; this host serves "fresh"; give another, or empty this one), got ${JSON.stringify(dir)}`,
    );
    t.false(existsSync(join(dir, 'meridian.lock')), 'the lock is let go');
    // The same cluster's: it goes on (to find no NATS here).
    t.is((await host(['--nats', 'nats://127.0.0.1:1', '--cluster', 'shop', '--data-dir', dir])).code, 1);
    writeFileSync(layout, JSON.stringify({ shards: 16, regions: [{ name: 'a', servers: 1 }] }));
    const cluster = await host(['--nats', 'nats://127.0.0.1:1', '--cluster', 'shop', '--data-dir', dir]);
    t.is(cluster.code, 2);
    t.regex(
      cluster.err,
      /^meridian host: --data-dir needs .* \(written by a cluster started with dataDir there, not by 'meridian host'; give another, or empty this one\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A `meridian host` process, its output as it comes, and its exit. */
interface HostProcess {
  child: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once its output matches `re` (rejects if it exits first). */
  saw: (re: RegExp) => Promise<RegExpMatchArray>;
}

function startHost(args: string[]): HostProcess {
  const child = spawn(process.execPath, [new URL('../src/cli.js', import.meta.url).pathname, 'host', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: Array<() => void> = [];
  const take = (d: Buffer): void => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const saw = (re: RegExp): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const m = re.exec(out);
        if (m !== null) resolve(m);
      };
      waiters.push(check);
      check();
      void exited.then(() => reject(new Error(`the host exited before printing ${re}: ${out}`)));
    });
  return { child, out: () => out, exited, saw };
}

test('meridian host: interrupted while connecting (SIGINT, SIGTERM, SIGHUP), it says so, exits 0, lets its lock go and removes the folder it made', async (t) => {
  // A server that takes the connection and says nothing: the client waits for its INFO (up to 5 s).
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'meridian-host-'));
  try {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const dataDir = join(dir, signal);
      const h = startHost(['--nats', `nats://127.0.0.1:${port}`, '--cluster', 'shop', '--data-dir', dataDir]);
      await h.saw(/: connecting to NATS at nats:\/\/127\.0\.0\.1:\d+\n/);
      t.true(existsSync(join(dataDir, 'meridian.lock')), 'locked while connecting');
      h.child.kill(signal);
      // Before (audit, session 56): killed by the signal, the new folder and its lock left behind.
      t.deepEqual(await h.exited, { code: 0, signal: null }, h.out());
      t.regex(h.out(), new RegExp(`exiting \\(interrupted \\(${signal}\\) while connecting\\)`));
      t.false(existsSync(dataDir), `${signal}: the folder it made is gone, lock and all`);
    }
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

(('bin' in natsBinary ? test.serial : test.skip) as typeof test)(
  `meridian host: interrupted while it serves (SIGINT, SIGHUP), it tells its launcher, which takes it as gone at once, and leaves no lock or temporary folder${'reason' in natsBinary ? ` (skipped: ${natsBinary.reason})` : ''}`,
  async (t) => {
    const server = await startNatsServer((natsBinary as { bin: string }).bin);
    const dir = mkdtempSync(join(tmpdir(), 'meridian-host-'));
    const name = `bye${process.pid}`;
    const hosts = [startHost(['--nats', server.url, '--cluster', name, '--data-dir', join(dir, 'kept')]), startHost(['--nats', server.url, '--cluster', name])];
    let cluster: Cluster | undefined;
    try {
      const temp = (await hosts[1]!.saw(/\(logs in (\S+), removed on exit\)/))[1]!;
      t.true(existsSync(temp));
      cluster = await startCluster({
        regions: [
          { name: 'a', servers: 1 },
          { name: 'b', servers: 1 },
        ],
        transport: 'nats',
        seed: 7,
        requestTimeoutMs: 2_000,
        replication: { mode: 'none' },
        nats: { servers: server.url, hosts: 2, cluster: name },
      });
      const exits: HostEvent[] = [];
      cluster.on('host-exit', (e: HostEvent) => void exits.push(e));
      await cluster.client({ region: 'a' }).put('k', 1);
      const signals = ['SIGINT', 'SIGHUP'] as const;
      hosts.forEach((h, i) => h.child.kill(signals[i]));
      // Before: SIGHUP killed the host (its lock and temporary folder left), and the launcher
      // took each host as gone only once it was "not heard from for 5000 ms".
      t.deepEqual(await Promise.all(hosts.map((h) => h.exited)), [
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
      const c = cluster;
      await eventually(c, () => exits.length === 2, { timeoutMs: 20_000, message: 'a host-exit for each host' });
      // Either host may have taken either plan: matched by signal.
      const errors = exits.map((e) => (e as { error: string }).error);
      for (const signal of signals)
        t.is(
          // No call was pending: the words say what happened to the host alone (before: "...; the call may or may not have taken effect").
          errors.filter((e) => e.endsWith(`) left the cluster (interrupted (${signal}))`)).length,
          1,
          errors.join('\n'),
        );
      t.true(cluster.isDown('a/0') && cluster.isDown('b/0'));
      t.false(existsSync(join(dir, 'kept', 'meridian.lock')), 'the lock is gone');
      t.true(existsSync(join(dir, 'kept', 'meridian-layout.json')), 'the data directory (given) stays');
      t.false(existsSync(temp), 'the temporary folder is gone');
    } finally {
      await cluster?.stop();
      for (const h of hosts) h.child.kill('SIGKILL');
      await Promise.all(hosts.map((h) => h.exited));
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('lockDataDir: a folder this process cannot write is refused as such, naming the error and the path (it read as one a running cluster uses)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-host-'));
  try {
    const missing = join(dir, 'missing');
    t.throws(() => lockDataDir(missing), {
      instanceOf: ConfigError,
      message: `config.dataDir: expected a directory this process can write (ENOENT writing ${join(missing, 'meridian.lock')}), got ${JSON.stringify(missing)}`,
    });
    // Root writes a read-only folder: EACCES is seen as another user only.
    if (process.getuid?.() !== 0) {
      const readOnly = join(dir, 'ro');
      mkdirSync(readOnly, { mode: 0o555 });
      t.throws(() => lockDataDir(readOnly), {
        instanceOf: ConfigError,
        message: /expected a directory this process can write \(EACCES writing .*meridian\.lock\)/,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

(('bin' in natsBinary ? test.serial : test.skip) as typeof test)(
  `meridian host: a launcher restarted with another replication factor on the same --data-dir folders is refused at once naming replication.factor; the hosts wait on, and take the recorded settings${'reason' in natsBinary ? ` (skipped: ${natsBinary.reason})` : ''}`,
  async (t) => {
    const server = await startNatsServer((natsBinary as { bin: string }).bin);
    const dir = mkdtempSync(join(tmpdir(), 'meridian-host-'));
    const name = `rf${process.pid}`;
    const folders = [join(dir, 'h1'), join(dir, 'h2')];
    const config = {
      regions: [
        { name: 'a', servers: 2 },
        { name: 'b', servers: 1 },
      ],
      transport: 'nats' as const,
      seed: 7,
      requestTimeoutMs: 2_000,
      replication: { mode: 'active' as const, factor: 3 },
      nats: { servers: server.url, hosts: 2, cluster: name },
    };
    let hosts = folders.map((f) => startHost(['--nats', server.url, '--cluster', name, '--data-dir', f]));
    try {
      const first = await startCluster(config);
      try {
        await first.client({ region: 'a' }).put('k', 1);
      } finally {
        await first.stop();
      }
      t.deepEqual(await Promise.all(hosts.map((h) => h.exited)), [
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
      hosts = folders.map((f) => startHost(['--nats', server.url, '--cluster', name, '--data-dir', f]));
      // Before (session 58) the assignment carried no mode and factor: a/0's log alone decided,
      // and a write a/1 and b/0 acknowledged while a/0 was down would have been lost.
      const error = await startCluster({ ...config, replication: { mode: 'active', factor: 1 } }).then(
        async (taken) => {
          await taken.stop();
          return new Error('taken');
        },
        (e: unknown) => e as Error,
      );
      t.regex(
        error.message,
        /refused its assignment: config\.replication\.factor: expected 3, as recorded in \S+meridian-layout\.json \(its data was written with mode 'active', factor 3; with mode 'active', factor 1 shard \d+'s log would be decided by \S+ alone, not a majority of [^,]+, [^,]+, [^,]+, .*start with mode 'active', factor 3, or on a new --data-dir\), got 1$/,
      );
      t.true(
        hosts.every((h) => h.child.exitCode === null && h.child.signalCode === null),
        'the hosts wait on',
      );
      const again = await startCluster(config);
      try {
        t.is(await again.client({ region: 'a' }).get('k'), 1);
      } finally {
        await again.stop();
      }
      t.deepEqual(await Promise.all(hosts.map((h) => h.exited)), [
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
      t.is(hosts.filter((h) => h.out().includes('refused host')).length > 0, true, hosts.map((h) => h.out()).join('\n'));
    } finally {
      for (const h of hosts) h.child.kill('SIGKILL');
      await Promise.all(hosts.map((h) => h.exited));
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
