import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nemesis, startCluster, TimeoutError } from '../src/index.js';
import type { NemesisTarget } from '../src/harness/nemesis.js';
import { NatsLink, subjects } from '../src/runtime/transports/nats-wire.js';
import { runOneSeed } from '../src/harness/check-runner.js';
import { main as checkMain } from '../src/cli/check.js';
import { natsServerBinary, startNatsServer } from '../src/harness/nats-server.js';
import type { NatsRuntime } from '../src/runtime/transports/nats.js';
import { stalledHostOne } from './helpers/stalled-host.js';

// Small defects the helpers of session 69 noticed and left; one test (or a few) per fix.

test('Nemesis: a network change a heal() forgets while a step is under way, rejecting later, is no unhandled rejection (it ended the process on Node 20)', async (t) => {
  let rejectLate: ((error: Error) => void) | undefined;
  let now = 0;
  const target: NemesisTarget = {
    seed: 1,
    config: { regions: [{ name: 'a', servers: 3 }], network: {} },
    isStopped: false,
    crash: async () => {},
    restart: async () => {},
    partition: async () => {},
    heal: async () => {},
    // The first change (the reorder fault's start) is left pending, as one a host has not answered.
    setNetwork: () => (rejectLate === undefined ? new Promise<void>((_, reject) => (rejectLate = reject)) : Promise.resolve()),
    sleep: async (ms) => {
      now += ms;
    },
    now: () => now,
  };
  const nemesis = new Nemesis(target, { faults: ['reorder'], seed: 1 });
  const unhandled: unknown[] = [];
  const note = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', note);
  try {
    // step() makes the change at once and awaits it; the heal, made meanwhile, supersedes it.
    const step = nemesis.step();
    t.truthy(rejectLate, 'the fault made its change');
    await nemesis.heal();
    await step;
    rejectLate!(new TimeoutError('setNetwork: host 1 did not answer within 50 ms'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', note);
  }
});

test('threads: inspect() of an actor whose host thread ends while it is asked (its dedicated node crashed) answers null, as after; it rejected with a HostExitedError', async (t) => {
  // echo/a's host is held in a step: the summary waits, and the crash ends that thread under it.
  const stalled = await stalledHostOne();
  try {
    t.true(stalled.holds, 'host 1 holds');
    const asked = stalled.rt.summary('echo/a');
    await stalled.rt.crashNode('echo/a');
    t.is(await asked, null);
    t.is(await stalled.rt.summary('echo/a'), null);
    t.like(await stalled.rt.summary('echo/b'), { address: 'echo/b', status: 'running' });
  } finally {
    await stalled.release();
  }
});

test('nats link: a host fenced after it sent frames is sent no credit for them (the credit owed it went out at the next return)', async (t) => {
  const published: string[] = [];
  const subs: Array<{ subject: string; callback: (error: Error | null, msg: { subject: string; data: Uint8Array }) => void }> = [];
  const nc = {
    publish: (subject: string) => void published.push(subject),
    isClosed: () => false,
    isDraining: () => false,
    subscribe: (subject: string, opts: { callback: (typeof subs)[number]['callback'] }) => {
      subs.push({ subject, callback: opts.callback });
      return { unsubscribe: () => undefined };
    },
  };
  const subj = subjects('t', 'g1');
  const link = new NatsLink(nc as never, subj, 1, () => undefined);
  const data = subs.find((s) => s.subject === subj.dataFor(1))!;
  // A small frame from host 2 and one from host 3: credit for both is owed until the next return.
  for (const src of [2, 3]) data.callback(null, { subject: subj.data(1, src), data: new Uint8Array(64) });
  link.fence(2);
  // The return (one for all, after CREDIT_DELAY_MS) has happened once host 3 got its credit.
  for (let i = 0; i < 500 && !published.includes(subj.credit(3)); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  link.close();
  t.true(published.includes(subj.credit(3)), 'host 3 got its credit');
  t.false(published.includes(subj.credit(2)), 'nothing went to the fenced host');
});

// Serial (ava runs these before the file's concurrent tests): it replaces a method every run's nemesis calls.
test.serial(
  "meridian check: a replayed seed whose run throws fails (exit 1, the error printed), as the run of many seeds that printed its replay line counts it; it exited 70, an internal error's status",
  async (t) => {
    const step = Object.getOwnPropertyDescriptor(Nemesis.prototype, 'step')!;
    // The one way in for a fault of the harness (a bug): the nemesis's first step throws.
    Nemesis.prototype.step = () => Promise.reject(new Error('injected: the first nemesis step broke'));
    try {
      // A run of many seeds: each seed runs as runOneSeed (a pool thread's job), which fails it.
      const one = await runOneSeed({ seed: 1, mode: 'active' });
      t.is(one.outcome, 'fail');
      t.deepEqual(one.failures, ['the run threw']);
      t.regex(one.error ?? '', /injected: the first nemesis step broke/);
      for (const argv of [
        ['--seed', '1'],
        ['--seed', '1', '--workload', 'txn', '--commit', '2pc', '--nemesis', 'targeted'],
      ]) {
        const out: string[] = [];
        const code = await checkMain(argv, { out: (l) => void out.push(l), err: (l) => void out.push(l) });
        t.is(code, 1, `${argv.join(' ')}: ${out.join('\n')}`);
        t.true(
          out.some((l) => /^threw .*injected: the first nemesis step broke/.test(l)),
          out.join('\n'),
        );
        t.true(out.includes('verdict: FAILED: the run threw'), out.join('\n'));
      }
    } finally {
      Object.defineProperty(Nemesis.prototype, 'step', step);
    }
  },
);

// Serial: the folders of this process in the temporary folder are then this test's cluster's.
test.serial(
  "temp dirs: a cluster's own temporary folder is named with its process id, and starting one removes those of a process that is gone (a SIGKILLed one's stayed)",
  async (t) => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const stale = join(tmpdir(), `meridian-${dead}-AbC123`);
    mkdirSync(join(stale, 'logs'), { recursive: true });
    t.teardown(() => rmSync(stale, { recursive: true, force: true }));
    const mine = (): string[] => readdirSync(tmpdir()).filter((n) => new RegExp(`^meridian-${process.pid}-[A-Za-z0-9]{6}$`).test(n));
    const before = mine();
    const cluster = await startCluster({ regions: [{ name: 'a', servers: 1 }], transport: 'threads', replication: { mode: 'none' } });
    let during: string[];
    try {
      during = mine().filter((n) => !before.includes(n));
      t.false(existsSync(stale), 'the folder of a process that is gone was removed');
    } finally {
      await cluster.stop();
    }
    t.is(during.length, 1, `the cluster's folder, named with this process's id: ${during.join(', ')}`);
    t.false(existsSync(join(tmpdir(), during[0] ?? 'none')), 'its stop() removed it');
  },
);

const nats = natsServerBinary();
const natsTest = 'bin' in nats ? test : test.skip;
const natsSkipped = 'reason' in nats ? ` (skipped: ${nats.reason})` : '';

natsTest(
  `nats: inspect() of a server whose host process ends while it is asked (SIGSTOPped, then crashed) answers null, as after; it rejected with a HostExitedError${natsSkipped}`,
  async (t) => {
    const server = await startNatsServer((nats as { bin: string }).bin, []);
    try {
      const cluster = await startCluster({
        regions: [{ name: 'a', servers: 1 }],
        transport: 'nats',
        seed: 1,
        replication: { mode: 'none' },
        nats: { servers: server.url, processes: 'dedicated' },
      });
      try {
        const victim = (cluster.internals.runtime as NatsRuntime).processes().find((p) => p.nodes.includes('a/0'))!;
        // Stopped, it does not answer: the inspect waits on it (10 s), and the crash kills it under it.
        process.kill(victim.pid!, 'SIGSTOP');
        const asked = cluster.inspect('a/0');
        await cluster.crash('a/0');
        t.is(await asked, null);
        t.is(await cluster.inspect('a/0'), null);
      } finally {
        await cluster.stop();
      }
    } finally {
      await server.stop();
    }
  },
);

test('Nemesis: a fault whose start a heal() overtook (a crash applied after the heal) is ended too, not left active until its end time', async (t) => {
  let now = 0;
  let crashDone: (() => void) | undefined;
  const calls: string[] = [];
  const target: NemesisTarget = {
    seed: 1,
    config: { regions: [{ name: 'a', servers: 3 }], network: {} },
    isStopped: false,
    // The crash is applied late, as by a host that answers after the heal's restarts.
    crash: (id) =>
      new Promise<void>((resolve) => {
        crashDone = () => {
          calls.push(`crash ${id}`);
          resolve();
        };
      }),
    restart: async (id) => void calls.push(`restart ${id}`),
    partition: async () => {},
    heal: async () => {},
    setNetwork: async () => {},
    sleep: async (ms) => {
      now += ms;
    },
    now: () => now,
  };
  const nemesis = new Nemesis(target, { faults: ['crash'], seed: 1 });
  const step = nemesis.step();
  t.truthy(crashDone, 'the crash was asked for');
  await nemesis.heal();
  crashDone!();
  await step;
  t.deepEqual(nemesis.active(), [], 'no fault left active after the heal');
  const crashed = calls.find((c) => c.startsWith('crash '))!.slice('crash '.length);
  t.true(calls.lastIndexOf(`restart ${crashed}`) > calls.indexOf(`crash ${crashed}`), `restarted after its late crash: ${calls.join(', ')}`);
});
