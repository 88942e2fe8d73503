/**
 * Defects class audits of session 67 noticed and left, fixed in the same session: each test
 * fails on the code before its fix.
 */
import test from 'ava';
import { startCluster, type MemberEvent } from '../src/index.js';
import type { ActorContext, Behavior } from '../src/runtime/actor.js';
import { TIMERS_DROPPED_COUNTER } from '../src/runtime/cell.js';
import { SimWorld } from '../src/runtime/transports/sim.js';
import { closeStoreAtStop, FINAL_WRITE_FAILED, hostExitStatus, SHUT_DOWN_BY_LAUNCHER } from '../src/runtime/transports/nats-host.js';
import type { SimRuntime } from '../src/runtime/transports/sim-runtime.js';

const SEED = 1;

/** A simulated host running `behavior` as actor `address` on node `n` (mailboxes of `mailboxCapacity`). */
function world(behavior: Behavior, address: string, mailboxCapacity: number): SimWorld {
  const w = new SimWorld({
    seed: SEED,
    directory: new Map([[address, { host: 0, region: 'r', node: 'n' }]]),
    behaviors: new Map([[behavior.name, behavior]]),
    mailboxCapacity,
  });
  w.host.spawn({ address, behavior: behavior.name, params: null, region: 'r', node: 'n' });
  return w;
}

// Host.restartNode started a node's actors one by one; when one's first log write threw (a
// disk error), the call threw with that actor registered and running. On threads the restart
// rejected, the other hosts still took the node as dead, and the actor ran until a second
// restart. Now a failed restart crashes again what it started, and says the node stays down.
test('a restart whose first log write fails leaves the node down, says so, and a later restart starts it', (t) => {
  const writer: Behavior<{ n: number }> = {
    name: 'writer',
    init: (ctx: ActorContext, _params, recovered) => {
      ctx.persist({ life: recovered.length });
      ctx.setTimer('tick', 10);
      return { n: recovered.length };
    },
    receive: () => undefined,
  };
  const w = world(writer, 'w/1', 100);
  const host = w.host;
  host.crashNode('n');
  const append = w.durable.append.bind(w.durable);
  w.durable.append = () => {
    throw new Error('EIO: i/o error, write');
  };
  const error = t.throws(() => host.restartNode('n'));
  t.regex(error?.message ?? '', /^the restart of node n failed, and it stays down \(a later restart tries again\): EIO/);
  t.is(host.cell('w/1'), undefined, 'no actor of the node runs after a failed restart');
  w.runUntil(100);
  t.is(host.cell('w/1'), undefined, 'nor later (no timer of the failed start brings it back)');
  w.durable.append = append;
  t.is(host.restartNode('n'), 1, 'a second restart starts its actor');
  t.is(host.cell('w/1')?.summary().status, 'running');
});

// stop() of a NATS host closed its log (a last write) unguarded: a failed write rejected stop(),
// whose callers all ignore its promise, so the process ended on an unhandled rejection with no
// "exiting" line. Now the failure is logged and the reason `done` gives exits 1.
test('a NATS host whose last log write fails at stop logs it and stops with a reason that exits 1', (t) => {
  const lines: string[] = [];
  const failing = {
    close: (): void => {
      throw new Error('ENOSPC: no space left on device, write');
    },
  };
  const reason = closeStoreAtStop(failing, SHUT_DOWN_BY_LAUNCHER, (line) => lines.push(line));
  t.true(reason.startsWith(FINAL_WRITE_FAILED), reason);
  t.true(reason.includes('ENOSPC') && reason.includes(SHUT_DOWN_BY_LAUNCHER), reason);
  t.is(hostExitStatus(reason), 1);
  t.is(lines.length, 1);
  t.true(lines[0]!.includes('ENOSPC'), lines[0]);
  // One that closes: the reason as it was (0 for a shutdown by the launcher), nothing logged.
  let closed = 0;
  const ok = closeStoreAtStop({ close: () => void closed++ }, SHUT_DOWN_BY_LAUNCHER, (line) => lines.push(line));
  t.is(ok, SHUT_DOWN_BY_LAUNCHER);
  t.is(hostExitStatus(ok), 0);
  t.is(closed, 1);
  t.is(lines.length, 1);
  t.is(
    closeStoreAtStop(undefined, 'x', (line) => lines.push(line)),
    'x',
    'no store yet (no assignment): nothing to close',
  );
});

// A timer's firing met a full mailbox (a paused node's: what others sent filled it) and was
// dropped without a word; an actor that sets its timer again as it handles the firing (a
// heartbeat) never ran it again. Firings now queue past mailboxCapacity.
test('sim: a periodic timer firing into a full mailbox of a paused actor is kept, and the loop goes on after resume', (t) => {
  t.log(`seed ${SEED}`);
  const ticker: Behavior<{ ticks: number; noise: number }> = {
    name: 'ticker',
    init: (ctx: ActorContext) => {
      ctx.setTimer('tick', 10);
      return { ticks: 0, noise: 0 };
    },
    receive: (state, msg, ctx) => {
      if (msg.type === 'timer') {
        state.ticks++;
        ctx.setTimer('tick', 10);
      } else {
        state.noise++;
      }
    },
    summary: (state) => ({ ...state }),
  };
  const w = world(ticker, 't/1', 2);
  const host = w.host;
  const ticks = (): number => (host.cell('t/1')!.summary().state as { ticks: number }).ticks;
  w.runUntil(25);
  t.is(ticks(), 2);
  host.pauseNode('n', true);
  for (let i = 0; i < 3; i++) host.deliver({ to: 't/1', from: 'tester', msg: { type: 'noise' } });
  t.is(host.stats.dropped['mailbox-full'], 1, 'messages past mailboxCapacity are still dropped');
  w.runUntil(100);
  const summary = host.cell('t/1')!.summary();
  t.is(summary.mailbox, 3, 'the two messages and the firing wait');
  host.pauseNode('n', false);
  w.runUntil(200);
  t.true(ticks() >= 10, `ticks after resume: ${ticks()}`);
  t.false(TIMERS_DROPPED_COUNTER in host.cell('t/1')!.summary().counters, 'no firing dropped');
});

// MemberEvent.version counted from 0 in each life of the balancer that publishes it: after a
// restart (its supervisor's, after an error) a consumer ordering events by version took the new
// life's events for older ones. It counts on from the life's first rid now (firstRid).
test('sim: member events after a restart of the publishing balancer have larger versions than those before', async (t) => {
  t.log(`seed ${SEED}`);
  const c = await startCluster({ regions: [{ name: 'r1', servers: 2 }], transport: 'sim', seed: SEED, heartbeat: { intervalMs: 100 } });
  try {
    const events: MemberEvent[] = [];
    c.on('member', (e: MemberEvent) => events.push(e));
    await c.crash('r1/1');
    await c.sleep(2_000);
    const before = events.length;
    t.true(before > 0, 'the crash was published');
    const last = Math.max(...events.map((e) => e.version));
    // The balancer fails a step (a message it cannot read) and is restarted: a new life.
    (c.internals.runtime as SimRuntime).world.host.route('tester', 'balancer/r1', { type: 'req', rid: 1, body: null });
    await c.sleep(500);
    await c.restart('r1/1');
    await c.sleep(2_000);
    const after = events.slice(before);
    t.log(`versions before ${JSON.stringify(events.slice(0, before).map((e) => e.version))}, after ${JSON.stringify(after.map((e) => e.version))}`);
    t.true(after.length > 0, 'the new life published');
    for (const e of after) t.true(e.version > last, `${e.id} ${e.state}: version ${e.version} after ${last}`);
  } finally {
    await c.stop();
  }
});
