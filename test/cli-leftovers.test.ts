import test from 'ava';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main as checkMain } from '../src/cli/check.js';
import { REPEAT_SIGNAL_MS } from '../src/cli/interrupt.js';
import { writeText } from '../src/cli/output-file.js';
import { natsServerBinary } from '../src/harness/nats-server.js';

/**
 * What a command leaves behind when it does not end as planned (found by an audit, session
 * 56): a Ctrl-C or SIGTERM to `meridian demo`, `check --transport threads` or `bench` left its
 * clusters' temporary folders (their logs) in the system's temporary folder; a write that
 * failed part way left a report cut short over a good one; a nats-server binary that does not
 * start was a stack trace and exit 1. Each command runs in a process of its own, with a TMPDIR
 * of its own: what is left there is its alone.
 */

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

/** `sh -c SCRIPT` (its stdout and stderr, and how it ended) in `cwd`, with `env` added to this process's. */
function shell(script: string, cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// In this process (until 2026-12-07 a process of its own: a start and the CLI's imports, about
// half a CPU second), as what is checked is what main says and returns (cli.js exits with main's
// code). Serial: the variable is set in this process while it runs, and ava runs the serial
// tests one at a time and before the others, so no other test's command is spawned meanwhile.
test.serial(
  'MERIDIAN_NATS_SERVER_BIN naming no binary: check --transport nats says so in one line naming the variable, exit 2 (a stack trace and exit 1 before)',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-leftovers-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const was = process.env.MERIDIAN_NATS_SERVER_BIN;
    process.env.MERIDIAN_NATS_SERVER_BIN = join(dir, 'no-such-nats-server');
    const out: string[] = [];
    const err: string[] = [];
    try {
      const code = await checkMain(['--seeds', '1', '--transport', 'nats'], { out: (line) => out.push(line), err: (line) => err.push(line) });
      t.is(code, 2, err.join('\n'));
    } finally {
      if (was === undefined) delete process.env.MERIDIAN_NATS_SERVER_BIN;
      else process.env.MERIDIAN_NATS_SERVER_BIN = was;
    }
    t.deepEqual(out, []);
    t.is(err.length, 1, err.join('\n'));
    t.false(err[0]!.includes('\n'), err[0]);
    t.regex(
      err[0]!,
      /^meridian check: --transport nats without --nats starts a nats-server for the run, and MERIDIAN_NATS_SERVER_BIN=\S*no-such-nats-server did not start: nats-server did not start on 127\.0\.0\.1:\d+: .+; or give --nats URL\[,URL\]$/,
    );
  },
);

test('a report whose writing fails part way (ulimit -f) leaves the earlier one whole, and no file beside it; exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-leftovers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const old = '{"an earlier report":true}\n';
  writeFileSync(join(dir, 'h.json'), old);
  // At most 1 KB a file: seed 1's history is longer, so the write fails with EFBIG part way. One
  // client and no fault phase: a history of about 8 KB (50 KB at the default size), a run of
  // less CPU in this new process.
  const r = await shell(`ulimit -f 1; exec "${process.execPath}" "${cli}" check --seed 1 --clients 1 --fault-ms 0 --history h.json`, dir);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /^meridian check: --history: cannot write "h\.json": EFBIG/m);
  t.is(readFileSync(join(dir, 'h.json'), 'utf8'), old);
  t.deepEqual(readdirSync(dir), ['h.json']);
});

test('writeText: writes through a link (a dangling one makes its target), keeps the permissions, leaves no file beside it; in a folder it cannot write, a file it can is written in place', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-leftovers-'));
  t.teardown(() => {
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  });
  const errors: string[] = [];
  const target = join(dir, 'report.json');
  writeFileSync(target, 'old');
  chmodSync(target, 0o640);
  symlinkSync('report.json', join(dir, 'link.json'));
  t.true(writeText('meridian check', join(dir, 'link.json'), 'new', '--json', (line) => errors.push(line)));
  t.is(readFileSync(target, 'utf8'), 'new');
  t.true(statSync(join(dir, 'link.json'), { throwIfNoEntry: false }) !== undefined);
  t.is(statSync(target).mode & 0o777, 0o640);
  t.deepEqual(readdirSync(dir).sort(), ['link.json', 'report.json']);
  // A link to nothing yet: the file it names is made.
  symlinkSync('later.json', join(dir, 'dangling.json'));
  t.true(writeText('meridian check', join(dir, 'dangling.json'), 'made', '--json', (line) => errors.push(line)));
  t.is(readFileSync(join(dir, 'later.json'), 'utf8'), 'made');
  // No file can be made beside it (for a user the folder's mode binds; root writes either way).
  chmodSync(dir, 0o500);
  t.true(writeText('meridian check', target, 'in place', '--json', (line) => errors.push(line)));
  t.is(readFileSync(target, 'utf8'), 'in place');
  t.deepEqual(errors, []);
});

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The signal was sent (the command got as far as `ready` before it ended). */
  sent: boolean;
  /** What the command left in its TMPDIR. */
  left: string[];
}

/**
 * `meridian ARGS` with a TMPDIR of its own, sent `signal` once `ready` holds of its stdout and
 * of what is in its TMPDIR (looked at as output comes and every 100 ms); then how it ended and
 * what it left there.
 */
async function signalled(args: string[], signal: NodeJS.Signals, ready: (stdout: string, entries: string[]) => boolean): Promise<Ended> {
  const tmp = mkdtempSync(join(tmpdir(), 'meridian-leftovers-'));
  try {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const look = (): void => {
      if (!sent && ready(stdout, entriesOf(tmp))) {
        sent = true;
        child.kill(signal);
      }
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      look();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setInterval(look, 100);
    const { code, signal: by } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (c, s) => resolve({ code: c, signal: s }));
    });
    clearInterval(timer);
    return { code, signal: by, stdout, stderr, sent, left: readdirSync(tmp) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** What is in `dir`, at any depth (paths relative to it); none if it cannot be read now (a folder removed as it is walked). */
function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch {
    return [];
  }
}

/**
 * A cluster's temporary folder (src/runtime/temp-dirs.ts): `meridian-`, the process id, a dash and six characters, the
 * bench pair's `meridian-bench-...`; a `meridian check` pool thread's is in its pool's folder,
 * `meridian-pool-...`, which is not one.
 */
const clusterFolder = (entries: string[]): boolean =>
  entries.some((e) => {
    const name = e.split('/').pop() ?? '';
    return name.startsWith('meridian-') && !name.startsWith('meridian-pool-');
  });

/**
 * The check runs' clusters: two regions of one server, each of its copies in both (4 threads on
 * --transport threads: a region's host and a server's each; three regions of one server took 6,
 * three of two 9). What a command leaves behind does not depend on its clusters' size, and a
 * cluster of real threads costs CPU per thread to boot and to stop.
 */
const SMALL_CLUSTER = ['--regions', '2', '--servers', '1', '--factor', '2'];

for (const [signal, status] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test.serial(`${signal} to meridian demo: its cluster stops, no temporary folder is left, exit ${status}`, async (t) => {
    // Without replication (the default is active): its nine servers' threads and logs all the
    // same, and about 0.35 CPU s less a boot than with their Paxos groups (2026-12-07). Sent once
    // it has booted and its folder is there (a demo that made none would leave none).
    const r = await signalled(
      ['demo', '--duration-ms', '600000', '--replication', 'none'],
      signal,
      (stdout, entries) => stdout.includes('booted in') && clusterFolder(entries),
    );
    t.true(r.sent, r.stderr);
    t.deepEqual({ code: r.code, signal: r.signal }, { code: status, signal: null }, r.stderr);
    t.regex(r.stderr, new RegExp(`^meridian demo: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}; stopping the cluster`));
    t.false(r.stderr.includes('    at '), r.stderr);
    t.deepEqual(r.left, []);
  });
}

test.serial(
  'Ctrl-C to meridian check --transport threads as a seed runs: the seed is dropped, its cluster stopped, no temporary folder left, exit 130',
  async (t) => {
    // Sent as soon as the seed's cluster has its folder: while it boots, or runs.
    const r = await signalled(['check', '--seeds', '20', '--transport', 'threads', ...SMALL_CLUSTER], 'SIGINT', (_, entries) => clusterFolder(entries));
    t.true(r.sent, r.stderr);
    t.deepEqual({ code: r.code, signal: r.signal }, { code: 130, signal: null }, r.stderr);
    t.regex(r.stdout, /\ncheck: interrupted after 0 of 20 seeds, /);
    t.deepEqual(r.left, []);
  },
);

test.serial(
  'meridian check --time-limit --transport threads: the seed in flight at the limit is dropped, its cluster stopped, no temporary folder left',
  async (t) => {
    // Two seeds at once: the first to finish ends the run (its limit long past), the other is
    // dropped. Each runs to its end only for the first to end the run: two clients and no fault
    // phase (500 ms of faults and 12 clients until 2026-12-07; this run's CPU with 3 regions so,
    // 5.2 s, is 3.1 to 3.3 s now, 2 runs each), since what is checked is what is left behind.
    const r = await signalled(
      ['check', '--time-limit', '1', '--transport', 'threads', '--workers', '2', '--fault-ms', '0', '--clients', '2', ...SMALL_CLUSTER],
      'SIGINT',
      () => false,
    );
    // 0 or 1: the seed's verdict is not this test's.
    t.true(r.code === 0 || r.code === 1, r.stdout + r.stderr);
    t.regex(r.stdout, /\ncheck: time limit \(1 s\) reached after \d+ seeds?, /);
    t.deepEqual(r.left, []);
  },
);

test.serial('Ctrl-C to meridian bench as its suite runs a cluster: the suite is abandoned, no temporary folder left, exit 130', async (t) => {
  const r = await signalled(['bench', 'transport', '--quick'], 'SIGINT', (_, entries) => clusterFolder(entries));
  t.true(r.sent, r.stderr);
  t.deepEqual({ code: r.code, signal: r.signal }, { code: 130, signal: null }, r.stderr);
  t.regex(r.stderr, /bench: interrupted \(Ctrl-C\) during transport/);
  t.deepEqual(r.left, []);
});

// The same over NATS (a seed's hosts are processes of their own), when a nats-server is there.
const nats = natsServerBinary();
(('bin' in nats ? test.serial : test.serial.skip) as typeof test.serial)(
  'SIGTERM to meridian check --transport nats as a seed runs: its cluster stopped, no temporary folder left, exit 143',
  async (t) => {
    // One host process a seed (the default is one per core): one to spawn and stop.
    const r = await signalled(['check', '--seeds', '20', '--transport', 'nats', '--processes', '1', ...SMALL_CLUSTER], 'SIGTERM', (_, entries) =>
      clusterFolder(entries),
    );
    t.true(r.sent, r.stderr);
    t.deepEqual({ code: r.code, signal: r.signal }, { code: 143, signal: null }, r.stderr);
    t.regex(r.stderr, /meridian check: terminated; the seeds in flight are dropped, their clusters stopped/);
    t.deepEqual(r.left, []);
  },
);

test.serial(
  'a second Ctrl-C to meridian check --transport threads --workers 2 quits at once, and still leaves no temporary folder of its pool threads, exit 130',
  async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), 'meridian-leftovers-'));
    t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
    const child = spawn(process.execPath, [cli, 'check', '--seeds', '20', '--transport', 'threads', '--workers', '2', ...SMALL_CLUSTER], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: tmp },
    });
    let stderr = '';
    let sent = 0;
    // The first as soon as a seed's cluster (in a pool thread) has its folder; the second once
    // the first is taken (its line on stderr), while the seeds' clusters are stopping, and past
    // REPEAT_SIGNAL_MS (sooner, it is taken for the first delivered twice).
    let takenAt: number | undefined;
    const look = (): void => {
      if (sent === 0 && clusterFolder(entriesOf(tmp))) {
        sent = 1;
        child.kill('SIGINT');
      } else if (sent === 1 && takenAt === undefined && stderr.includes('meridian check: interrupted;')) {
        takenAt = performance.now();
      } else if (sent === 1 && takenAt !== undefined && performance.now() - takenAt > REPEAT_SIGNAL_MS) {
        sent = 2;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      look();
    });
    const timer = setInterval(look, 20);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (c) => resolve(c));
    });
    clearInterval(timer);
    t.is(sent, 2, stderr);
    t.is(code, 130, stderr);
    t.deepEqual(readdirSync(tmp), []);
  },
);
