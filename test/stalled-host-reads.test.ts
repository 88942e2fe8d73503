import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostExitedError, startCluster, StoppedError, TimeoutError, type HostEvent } from '../src/index.js';
import type { ActorSpec } from '../src/runtime/actor.js';
import { failPendingCalls, STATS_ANSWER_MS } from '../src/runtime/transports/runtime.js';
import type { ThreadsRuntime } from '../src/runtime/transports/threads.js';
import { eventually, runtimeWith } from './helpers/runtimes.js';

// Reads of hosts and actors as a user makes them (an audit, session 62): a worker that does not
// answer (busy in a long step) neither holds a metrics read nor a ping for as long as it runs;
// a paused actor is not inspected as 'running'; a host that ends with no call pending is not
// reported as if a call had been cut short.

test('threads: a worker held in a long step: collectStats answers without it (its last counters, one warn naming it), ping and inspect fail naming it and its node; they answer once it is free', async (t) => {
  const events: HostEvent[] = [];
  const rt = await runtimeWith(
    'threads',
    [
      { host: 1, address: 'echo/a', behavior: 'echo', params: {} },
      { host: 2, address: 'echo/b', behavior: 'echo', params: {} },
    ],
    { events },
  );
  const dir = mkdtempSync(join(tmpdir(), 'meridian-test-stall-'));
  const began = join(dir, 'began');
  const until = join(dir, 'until');
  try {
    // Held well past STATS_ANSWER_MS, and released by the test as soon as it has read.
    rt.host.route('tester', 'echo/a', { type: 'stall', began, until, maxMs: 3 * STATS_ANSWER_MS });
    t.true(await eventually(rt, () => existsSync(began)), 'the worker holds');
    // Lowered from CONTROL_TIMEOUT_MS (10 s), under the hold.
    (rt as ThreadsRuntime).inspectAnswerMs = STATS_ANSWER_MS;
    const [stats, ping, inspected] = await Promise.allSettled([rt.collectStats(), rt.ping(), rt.summary('echo/a')]);
    // Before: each waited for the step to end (for ever, for a step that never ends).
    t.is(stats.status, 'fulfilled');
    const warns = events.filter((e) => e.kind === 'warn' && e.address === 'host 1');
    t.is(warns.length, 1, JSON.stringify(events));
    t.regex(
      (warns[0] as { message: string } | undefined)?.message ?? '',
      /^host 1 did not answer stats within \d+ ms: metrics count it with the counters it last pushed/,
    );
    t.is(ping.status, 'rejected');
    const error = (ping as PromiseRejectedResult).reason as Error;
    t.true(error instanceof TimeoutError, String(error));
    t.regex(error.message, /^ping: host 1 \(echo\/a\) did not answer within \d+ ms \(stalled, or busy in a long step\); 1 of 2 hosts answered$/);
    t.is(inspected.status, 'rejected');
    const late = (inspected as PromiseRejectedResult).reason as Error;
    t.true(late instanceof TimeoutError, String(late));
    t.regex(late.message, /^inspect\("echo\/a"\): host 1 \(echo\/a\) did not answer within \d+ ms \(stalled, or busy in a long step\)$/);
    writeFileSync(until, '');
    t.is((await rt.ping()).length, 2);
    t.like(await rt.summary('echo/a'), { address: 'echo/a', status: 'running' });
    t.truthy((await rt.collectStats()).actors['echo/a']);
  } finally {
    writeFileSync(until, '');
    await rt.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a host that ends with no call pending: the 'host-exit' words say what happened to it, not that a call may or may not have taken effect; a pending call is told so", (t) => {
  const spec = (address: string, node: string): ActorSpec => ({ address, behavior: 'echo', params: {}, region: 'r', node });
  const entry = {
    id: 3,
    plan: { id: 3, specs: [spec('r/0', 'r/0'), spec('r/0/hb', 'r/0'), spec('r', 'r')], dedicated: false },
    pending: new Set<(error: Error) => void>(),
  };
  // Before: 'host 3 (r/0, r) exited with code 1; the call may or may not have taken effect'.
  t.deepEqual(failPendingCalls(entry, false, 'exited with code 1'), { nodes: ['r/0', 'r'], message: 'host 3 (r/0, r) exited with code 1' });
  const rejected: Error[] = [];
  entry.pending.add((error) => rejected.push(error));
  t.is(failPendingCalls(entry, false, 'exited with code 1').message, 'host 3 (r/0, r) exited with code 1');
  t.is(entry.pending.size, 0);
  t.true(rejected[0] instanceof HostExitedError);
  t.is((rejected[0] as HostExitedError).host, 3);
  t.is(rejected[0]?.message, 'host 3 (r/0, r) exited with code 1; the call may or may not have taken effect');
  // stop() ended it: no host is to blame.
  entry.pending.add((error) => rejected.push(error));
  failPendingCalls(entry, true, 'exited with code 1');
  t.true(rejected[1] instanceof StoppedError && !(rejected[1] instanceof HostExitedError));
});

test("sim: inspect() of a paused server (and its heartbeat) says status 'paused', with the state it stands still with; resumed, 'running'", async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'us-east', servers: 3 }], transport: 'sim', seed: 1, replication: { mode: 'active', factor: 3 } });
  try {
    await cluster.client({ region: 'us-east' }).put('a', 1);
    await cluster.pause('us-east/0');
    await cluster.sleep(200);
    for (const address of ['us-east/0', 'us-east/0/hb']) {
      const inspected = (await cluster.inspect(address)) as { status: string; state: unknown };
      // Before: 'running'.
      t.is(inspected.status, 'paused', address);
      t.not(inspected.state, null, address);
    }
    t.is(((await cluster.inspect('us-east/1')) as { status: string }).status, 'running', 'the others run');
    await cluster.resume('us-east/0');
    t.is(((await cluster.inspect('us-east/0')) as { status: string }).status, 'running');
  } finally {
    await cluster.stop();
  }
});
