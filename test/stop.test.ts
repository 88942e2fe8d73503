import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopWhileInFlight } from './helpers/stop-in-flight.js';
import { Nemesis, StoppedError, eventually, startCluster } from '../src/index.js';

const script = fileURLToPath(new URL('./scripts/start-stop.js', import.meta.url));

/** Runs the script in a fresh process; resolves with its exit code, or 'hung' after `limitMs`. */
function run(args: string[], limitMs: number): Promise<{ code: number | null | 'hung'; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'hung', out });
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

// One process for the three clusters, one after another, and before them the calls of
// with-cluster-misuse.ts (start-stop.ts --misuse imports it first). Until 2026-12-07 a process
// each, and a process's start and imports cost about half a CPU second: whichever leaves
// anything running (a thread, a timer, a handle), the process does not exit. Both tests read
// the one run.
const CLUSTERS = ['sim/dedicated', 'threads/packed', 'threads/dedicated'];
let both: Promise<{ code: number | null | 'hung'; out: string }> | undefined;
const runBoth = (): Promise<{ code: number | null | 'hung'; out: string }> => (both ??= run(['--misuse', ...CLUSTERS], 40_000));

test(`stop() leaves nothing running: a script of a ${CLUSTERS.join(', then a ')} cluster exits by itself`, async (t) => {
  const result = await runBoth();
  t.is(result.code, 0, result.out);
  t.deepEqual(
    result.out.split('\n').filter((line) => line.startsWith('stopped')),
    CLUSTERS.map((c) => `stopped ${c}`),
    result.out,
  );
});

test('withCluster called wrongly fails naming the parameter, before any thread starts, and leaves no cluster running (threads)', async (t) => {
  const result = await runBoth();
  t.is(result.code, 0, result.out);
  const lines = result.out
    .trim()
    .split('\n')
    .filter((line) => !line.startsWith('stopped'));
  t.deepEqual(lines, [
    "no teardown: ValidationError: t.teardown: a function (ava's t.teardown), got undefined",
    "no t: ValidationError: t: the test's context (ava's t), an object with log() and teardown(), got undefined",
    'body not a function: ValidationError: body: a function of the cluster, got "notfn"',
    'teardown throws: Error: teardown refused',
    'log throws: Error: log refused',
    'done',
  ]);
});

/** How `p` settled within `limitMs` of real time: 'resolved', the rejection's name, or 'pending'. */
function settled(p: Promise<unknown>, limitMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('pending'), limitMs)));
  const outcome = p.then(
    () => 'resolved',
    (error: unknown) => (error instanceof Error ? error.name : String(error)),
  );
  return Promise.race([outcome, pending]).finally(() => clearTimeout(timer));
}

for (const transport of ['sim', 'threads'] as const) {
  test(`stop() settles what waits on the cluster's clock (${transport}): sleep and eventually reject with StoppedError, Nemesis.run ends quietly`, async (t) => {
    const cluster = await startCluster({ regions: [{ name: 'a', servers: 3 }], transport, seed: 1, network: { jitterMs: 1 } });
    try {
      const client = cluster.client();
      const sleeping = cluster.sleep(60_000);
      const waiting = eventually(cluster, () => false, { timeoutMs: 60_000, intervalMs: 30_000, message: 'never' });
      const run = new Nemesis(cluster, { seed: 3 }).run(60_000);
      // Catch them now: they settle (or not) while stop() runs.
      const outcomes = [settled(sleeping, 3_000), settled(waiting, 3_000), settled(run, 3_000)];
      await cluster.sleep(transport === 'sim' ? 700 : 100);
      await cluster.stop();
      t.deepEqual(await Promise.all(outcomes), ['StoppedError', 'StoppedError', 'resolved']);
      await t.throwsAsync(waiting, { instanceOf: StoppedError, message: /^eventually \(never\): the cluster stopped after 1 try; last: it returned false/ });
      // After stop, a sleep settles at once, as a client call does.
      t.is(await settled(cluster.sleep(10), 50), 'StoppedError');
      t.is(await settled(client.get('k'), 50), 'StoppedError');
    } finally {
      await cluster.stop();
    }
  });
}

// The audit's race: a crash in flight when stop() began rejected with a HostExitedError that
// named another host (one of those it was telling of the crash, terminated by stop()). What is
// in flight at stop() completes or rejects with StoppedError, as a sleep or a client call does.
for (const placement of ['dedicated', 'packed'] as const) {
  // Serial: ava runs these before the concurrent tests above, so that their clusters do not
  // start beside those scripts' on a loaded machine.
  test.serial(`threads (${placement}): a crash, restart, pause or resume in flight when stop() begins completes or rejects with StoppedError`, async (t) => {
    const { outcomes, broken } = await stopWhileInFlight(() =>
      startCluster({ regions: [{ name: 'a', servers: 2 }], transport: 'threads', placement, seed: 1 }),
    );
    t.log(outcomes.join('; '));
    t.deepEqual(broken, [], outcomes.join('; '));
  });
}

for (const transport of ['sim', 'threads'] as const) {
  test(`two stop() calls at once (${transport}): the second settles only when the first has, with every thread ended`, async (t) => {
    const cluster = await startCluster({ regions: [{ name: 'a', servers: 2 }], transport, seed: 1 });
    await cluster.client().put('k', 1);
    let firstDone = false;
    const first = cluster.stop().then(() => (firstDone = true));
    // It resolved at once, while the first still ended the threads.
    await cluster.stop();
    t.true(firstDone);
    t.is(cluster.stop(), cluster.stop());
    await first;
    await cluster.stop();
    // After stop, collectStats() counts every thread's last counters, as stats() does (on threads
    // it counted the calling thread's only: 54 messages sent against 522).
    const stats = cluster.stats();
    const collected = await cluster.collectStats();
    t.true(stats.sent > 0);
    t.is(collected.sent, stats.sent);
    t.is(collected.delivered, stats.delivered);
  });
}
