import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { StoppedError, TimeoutError } from '../src/index.js';
import type { ThreadsRuntime } from '../src/runtime/transports/threads.js';
import { natsServerBinary, processExists, startNatsServer } from '../src/harness/nats-server.js';
import { natsEchoRuntime } from './helpers/nats-runtime.js';
import { eventually, runtimeWith } from './helpers/runtimes.js';

/**
 * Waits for something outside the waiting code (a worker thread, a host process, a NATS
 * reply, a timer) that were not bounded, or left something behind once bounded (an audit of
 * every such wait, session 65): each test fails on the code before its fix.
 */
const binary = natsServerBinary();
const natsTest = 'bin' in binary ? test : test.skip;
const skipped = 'reason' in binary ? ` (skipped: ${binary.reason})` : '';
const fixtures = new URL('./fixtures/behaviors.js', import.meta.url).href;

test('nats: a sleep called after stop() rejects at once with StoppedError (it waited its full time, its timer holding the process)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-wait-audit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Never started: stop() needs no server.
  const rt = natsEchoRuntime(dir, ['nats://127.0.0.1:1'], fixtures);
  await rt.stop();
  // Before: resolved after 30 s.
  await t.throwsAsync(rt.sleep(30_000), { instanceOf: StoppedError, message: 'the cluster is stopped' });
});

natsTest(`nats: stop() while start() waits for hosts started elsewhere fails the start at once with StoppedError${skipped}`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-wait-audit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startNatsServer((binary as { bin: string }).bin);
  t.teardown(() => server.stop());
  const rt = natsEchoRuntime(dir, [server.url], fixtures, { hosts: 'remote', remoteWaitMs: 60_000 });
  const starting = rt.start();
  starting.catch(() => undefined);
  // Connected, and waiting for the one remote host (none will come).
  const waiting = (): boolean => (rt as unknown as { remoteRefused: unknown }).remoteRefused !== undefined;
  for (let i = 0; i < 500 && !waiting(); i++) await new Promise((r) => setTimeout(r, 20));
  t.true(waiting(), 'the start waits for remote hosts');
  await rt.stop();
  // Before: it waited on for the rest of remoteWaitMs, then said only 0 of 1 hosts joined.
  await t.throwsAsync(starting, { instanceOf: StoppedError, message: 'the cluster stopped before the call ended' });
});

natsTest(
  `nats: a restart whose new host process does not start its actors leaves no process behind, and the next restart starts another${skipped}`,
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-wait-audit-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const server = await startNatsServer((binary as { bin: string }).bin);
    t.teardown(() => server.stop());
    // The hosts' behaviours module, broken for one restart: that process falls back to the
    // cluster's behaviours, which have no 'echo', and its `start` fails.
    const module = join(dir, 'behaviors.mjs');
    const good = `export { behaviors } from ${JSON.stringify(fixtures)};\n`;
    writeFileSync(module, good);
    const rt = natsEchoRuntime(dir, [server.url], pathToFileURL(module).href);
    t.teardown(() => rt.stop());
    await rt.start();
    t.like(await rt.summary('echo/a'), { address: 'echo/a', status: 'running' });
    await rt.crashNode('n1');
    writeFileSync(module, "throw new Error('broken on purpose');\n");
    const failed = await t.throwsAsync(rt.restartNode('n1'));
    t.regex(failed?.message ?? '', /unknown behaviour "echo"/);
    const fresh = rt.processes().find((p) => p.host === 1)!;
    // Before: the process ran on, alive for the runtime and unable to start the node, until stop().
    t.false(fresh.alive, 'the failed process is no host of the runtime');
    t.false(processExists(fresh.pid!), `process ${fresh.pid} was ended`);
    writeFileSync(module, good);
    await rt.restartNode('n1');
    t.like(await rt.summary('echo/a'), { address: 'echo/a', status: 'running' });
    const next = rt.processes().find((p) => p.host === 1)!;
    t.not(next.pid, fresh.pid);
    t.true(next.alive);
  },
);

test('threads: a read of a worker held in a step that times out again and again is asked once (each one left an entry in the pending table until the worker answered)', async (t) => {
  const rt = (await runtimeWith('threads', [{ host: 1, address: 'echo/a', behavior: 'echo', params: {} }])) as ThreadsRuntime;
  const dir = mkdtempSync(join(tmpdir(), 'meridian-wait-audit-'));
  const began = join(dir, 'began');
  const until = join(dir, 'until');
  const host = (rt as unknown as { hosts: Map<number, { pending: Set<unknown>; reads: Map<string, unknown> }> }).hosts.get(1)!;
  try {
    rt.host.route('tester', 'echo/a', { type: 'stall', began, until, maxMs: 30_000 });
    t.true(await eventually(rt, () => existsSync(began)), 'the worker holds');
    rt.inspectAnswerMs = 20;
    for (let i = 0; i < 3; i++) await t.throwsAsync(rt.summary('echo/a'), { instanceOf: TimeoutError });
    // Before: 3, and one more at every read for as long as the step ran (for ever, for one that never ends).
    t.is(host.pending.size, 1);
    writeFileSync(until, '');
    t.true(await eventually(rt, () => host.pending.size === 0 && host.reads.size === 0), 'the answer came');
    rt.inspectAnswerMs = 10_000;
    const [a, b] = await Promise.all([rt.summary('echo/a'), rt.summary('echo/a')]);
    t.like(a, { address: 'echo/a', status: 'running' });
    t.deepEqual(a, b);
    t.not(a, b, 'each caller has its own answer');
  } finally {
    writeFileSync(until, '');
    await rt.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("demo: a demo that fails midway ends, its clients' loops with it (they went on calling the stopped cluster, in a loop of microtasks that held the process for ever)", async (t) => {
  const demo = new URL('../src/cli/demo.js', import.meta.url).href;
  // In a thread of its own: the loops of the code before the fix never yield, and would hold this one.
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
    (async () => {
      const { runDemo } = await import(${JSON.stringify(demo)});
      let outcome;
      try {
        await runDemo({ transport: 'sim', durationMs: 300, clientsPerRegion: 1, log: (line) => { if (line.includes('crashing')) throw new Error('log failed'); } });
        outcome = 'resolved';
      } catch (error) {
        outcome = error.message;
      }
      // A turn of the event loop: what the loops of microtasks never let come.
      await new Promise((resolve) => setTimeout(resolve, 0));
      parentPort.postMessage(outcome);
    })();`,
    { eval: true },
  );
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    new Promise<string>((resolve) => worker.once('message', resolve)),
    new Promise<string>((resolve) => worker.once('error', (error) => resolve(`thread error: ${error.message}`))),
    // A bound on a hang only: the demo's simulated run takes well under a second of CPU.
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve('no end within 60 s'), 60_000))),
  ]);
  clearTimeout(timer);
  await worker.terminate();
  t.is(outcome, 'log failed');
});
