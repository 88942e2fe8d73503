import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../src/core/errors.js';
import { startCluster } from '../src/cluster/cluster.js';
import type { ClusterConfig } from '../src/cluster/config.js';
import { main as checkMain, parseCheckArgs } from '../src/cli/check.js';
import { FlagError } from '../src/cli/flags.js';
import { runChecks } from '../src/harness/check-runner.js';
import { PhiAccrualDetector } from '../src/liveness/phi.js';
import { makeTempDir, removeTempDir, sweepStaleTempDirs } from '../src/runtime/temp-dirs.js';
import { FORWARD_TRACK_MS, FORWARDED_TRACKED_MAX, ForwardedRequests } from '../src/cluster/server-load.js';

// Findings of the slice 'noticed4' (session 69): each test failed before its fix.

test("config: replication.preVote is refused with mode 'none' (a group of one elects itself), as sync is; accepted with the other modes, factor 1 too", async (t) => {
  const base = { regions: [{ name: 'r', servers: 1 }], transport: 'sim', seed: 1 } satisfies ClusterConfig;
  for (const preVote of [true, false]) {
    const error = await t.throwsAsync(startCluster({ ...base, replication: { mode: 'none', preVote } }), { instanceOf: ConfigError });
    t.is(error!.field, 'replication.preVote');
    t.is(
      error!.message,
      `config.replication.preVote: expected absent with mode 'none' (a group of one elects itself: only modes 'passive', 'active' and 'hybrid' run a pre-vote), got ${preVote}`,
    );
  }
  for (const replication of [{ mode: 'none' }, { mode: 'active', factor: 1, preVote: false }, { mode: 'passive', factor: 1, preVote: true }] as const) {
    const cluster = await startCluster({ ...base, replication });
    await cluster.stop();
    t.pass(`${JSON.stringify(replication)} starts`);
  }
});

/** `meridian check ARGS` in this process: its exit code and output. */
async function check(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await checkMain(args, { out: (l) => (out += `${l}\n`), err: (l) => (out += `${l}\n`) });
  return { code, out };
}

test('check: --txn-share 0 with --commit (or the 2PC bug) is refused, naming both flags: without transactions either changed nothing', async (t) => {
  t.throws(() => parseCheckArgs(['--seed', '1', '--txn-share', '0', '--commit', '3pc']), {
    instanceOf: FlagError,
    message: "--commit 3pc chooses the protocol of the kv workload's transactions: not with --txn-share 0 (none to commit)",
  });
  t.throws(() => parseCheckArgs(['--seed', '1', '--unsafe', '2pc-commit-on-timeout', '--txn-share', '0']), {
    instanceOf: FlagError,
    message: /^--unsafe 2pc-commit-on-timeout .* not with --txn-share 0/,
  });
  // Either alone, or with a share of transactions, as before.
  for (const argv of [
    ['--txn-share', '0'],
    ['--commit', '3pc'],
    ['--txn-share', '0.2', '--commit', '3pc'],
    ['--unsafe', '2pc-commit-on-timeout', '--txn-share', '0.2'],
  ])
    t.notThrows(() => parseCheckArgs(['--seed', '1', ...argv]), argv.join(' '));
  // The API, as the flags (nothing runs).
  await t.throwsAsync(runChecks({ seeds: 1, txnShare: 0, commits: ['paxos-commit'] }), { message: /commits: expected absent with txnShare 0 / });
  await t.throwsAsync(runChecks({ seeds: 1, txnShare: 0, unsafe: '2pc-commit-on-timeout' }), { message: /unsafe: .*txnShare 0/ });
});

test('check --shrink --commit P: the shrunk run without transactions drops --commit too, and its printed replay line runs (and fails the same way)', async (t) => {
  // Seed 6 of amnesia fails without transactions (check-cli's test of the same step), here
  // with paxos-commit's transactions at first. Three runs: as given, 250 ms, no transactions.
  const r = await check(['--seed', '6', '--unsafe', 'amnesia', '--fault-ms', '500', '--commit', 'paxos-commit', '--shrink', '--shrink-runs', '3']);
  t.log(
    r.out
      .split('\n')
      .filter((l) => /^(shrunk|replay)/.test(l))
      .join('\n'),
  );
  t.regex(r.out, /\n {2}still fails without transactions /);
  const replay = /\nreplay: meridian check (--seed 6 [^\n]*) --trace\n/.exec(r.out)?.[1];
  t.truthy(replay, r.out);
  t.regex(replay!, /--txn-share 0\b/);
  t.notRegex(replay!, /--commit/);
  const again = await check(replay!.split(' '));
  t.is(again.code, 1, again.out);
});

test("server: ForwardedRequests drops an address's map with its last entry (aged out, taken at a crash, or pushed out), not only its entries", (t) => {
  const f = new ForwardedRequests();
  // White-box: the maps are all that differs; nothing outside sees them.
  const byTo = (f as unknown as { byOrigin: { byTo: Map<string, Map<number, unknown>> } }).byOrigin.byTo;
  f.track({ to: 'b1', rid: 1 }, 'r2/0', 0);
  f.track({ to: 'b1', rid: 2 }, 'r2/0', 5);
  f.track({ to: 'c1', rid: 1 }, 'r3/0', 10);
  t.deepEqual([...byTo.keys()], ['b1', 'c1']);
  f.ageOut(FORWARD_TRACK_MS + 1);
  t.is(byTo.get('b1')?.size, 1, 'one of b1 left');
  f.ageOut(FORWARD_TRACK_MS + 6);
  t.deepEqual([...byTo.keys()], ['c1'], 'b1 empty: dropped');
  t.deepEqual(
    f.takeFor('r3/0').map((x) => x.origin),
    [{ to: 'c1', rid: 1 }],
  );
  t.is(byTo.size, 0, 'c1 taken at a crash: dropped');
  // Pushed out by the bound: the oldest address goes with its only entry.
  f.track({ to: 'old', rid: 1 }, 'r2/0', 20);
  for (let rid = 1; rid <= FORWARDED_TRACKED_MAX; rid++) f.track({ to: 'b2', rid }, 'r2/0', 20);
  t.deepEqual([...byTo.keys()], ['b2']);
});

test('phi: a heartbeat read after the clock stepped backwards is not sampled as a 0 ms interval; one at the same time on a steady clock is', (t) => {
  const detector = new PhiAccrualDetector({ firstHeartbeatEstimateMs: 100 });
  for (let i = 0; i <= 10; i++) detector.heartbeat(i * 100);
  const samples = detector.sampleCount;
  const mean = detector.meanIntervalMs;
  const sd = detector.stdDeviationMs;
  t.is(mean, 100);
  // The clock steps back 100 ms and a heartbeat comes: it reads as standing still (as before).
  detector.heartbeat(900);
  t.is(detector.lastHeartbeatMs, 1000);
  t.is(detector.sampleCount, samples, 'no sample for the step');
  t.is(detector.meanIntervalMs, mean);
  t.is(detector.stdDeviationMs, sd);
  // Back past the last heartbeat, intervals are sampled again.
  detector.heartbeat(1100);
  t.is(detector.sampleCount, samples + 1);
  t.is(detector.meanIntervalMs, 100);
  // Two heartbeats read at the same time on a clock that did not step: a real 0 ms interval.
  detector.heartbeat(1100);
  t.is(detector.sampleCount, samples + 2);
  t.true(detector.meanIntervalMs < 100);
});

/** The id of a process that ran and is gone (a fresh one, not yet reused). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

test("temp dirs: the sweep removes the folders of a process that is gone, never a live one's or one with no process id in its name", (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'meridian-noticed4-sweep-'));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  const dead = deadPid();
  const names = [
    `meridian-host-${dead}-AbC123`, // a host killed with SIGKILL
    `meridian-host-${process.pid}-XyZ789`, // this process's: alive
    'meridian-host-1-init00', // pid 1 is always alive (EPERM or itself)
    'meridian-host-layout-Qw3rTy', // a test's own folder: no process id
    'meridian-host-123456', // made by mkdtemp alone
    `meridian-mutant-${dead}-hole-left-open-Zz9Yy8`, // another prefix
  ];
  for (const name of names) mkdirSync(join(parent, name, 'logs'), { recursive: true });
  t.deepEqual(sweepStaleTempDirs('meridian-host-', parent), [join(parent, names[0]!)]);
  t.deepEqual(
    names.map((n) => existsSync(join(parent, n))),
    [false, true, true, true, true, true],
  );
  t.deepEqual(sweepStaleTempDirs('meridian-mutant-', parent), [join(parent, names[5]!)]);
});

test('temp dirs: an owned folder is named with its process id, and making one removes the stale folders of its prefix', (t) => {
  // A prefix of this test's own in the real temporary folder (the sweep reads tmpdir(), as a host does).
  const prefix = `meridian-noticed4-owned-${process.pid}x-`;
  const stale = join(tmpdir(), `${prefix}${deadPid()}-AbC123`);
  mkdirSync(join(stale, 'logs'), { recursive: true });
  t.teardown(() => rmSync(stale, { recursive: true, force: true }));
  const dir = makeTempDir(prefix, { owned: true });
  try {
    t.true(basename(dir).startsWith(`${prefix}${process.pid}-`), dir);
    t.false(existsSync(stale), 'the folder of a process that is gone was removed');
    t.true(existsSync(dir));
  } finally {
    removeTempDir(dir);
  }
});

/** `meridian host` at a NATS address nobody serves, its temporary folder in `tmp`: once it says it is connecting (its folder made). */
async function waitingHost(tmp: string): Promise<{ pid: number; exited: Promise<unknown>; kill: (signal: NodeJS.Signals) => void }> {
  const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'host', '--nats', 'nats://127.0.0.1:1', '--cluster', 'noticed4'], {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('connecting to NATS')) resolve();
    });
    void exited.then(() => reject(new Error(`meridian host exited before connecting: ${out}`)));
  });
  return { pid: child.pid!, exited, kill: (signal) => child.kill(signal) };
}

test.serial("temp dirs: a 'meridian host' killed with SIGKILL leaves its folder; the next host started removes it, and its own goes at SIGTERM", async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'meridian-noticed4-hosts-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const first = await waitingHost(tmp);
  first.kill('SIGKILL');
  await first.exited;
  t.deepEqual(
    readdirSync(tmp).map((n) => n.replace(/-[A-Za-z0-9]{6}$/, '')),
    [`meridian-host-${first.pid}`],
    'left behind, named with its process id',
  );
  const second = await waitingHost(tmp);
  try {
    t.deepEqual(
      readdirSync(tmp).map((n) => n.replace(/-[A-Za-z0-9]{6}$/, '')),
      [`meridian-host-${second.pid}`],
      "the killed host's folder is gone; the live one's is there",
    );
  } finally {
    second.kill('SIGTERM');
    await second.exited;
  }
  t.deepEqual(readdirSync(tmp), []);
});
