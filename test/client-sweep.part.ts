import test from 'ava';
import type { Envelope } from '../src/core/codec.js';
import { TimeoutError } from '../src/core/errors.js';
import { Client, type ClientDeps } from '../src/cluster/client.js';
import type { Req } from '../src/cluster/messages.js';

interface FakeTimer {
  at: number;
  fn: () => void;
  cancelled: boolean;
}

/** A client on a hand-driven clock: its requests are kept, answered (or not) by the test. */
function fakeClient(kind: 'threads' | 'sim', requestTimeoutMs = 100, recording: (ops: number) => boolean = () => false) {
  let now = 0;
  const timers: FakeTimer[] = [];
  const sent: Req[] = [];
  let endpoint: ((envelope: Envelope) => void) | undefined;
  const deps = {
    runtime: {
      kind,
      now: () => now,
      setTimer: (delayMs: number, fn: () => void) => {
        const timer: FakeTimer = { at: now + delayMs, fn, cancelled: false };
        timers.push(timer);
        return { cancel: () => (timer.cancelled = true) };
      },
    },
    host: {
      addExternal: (_address: string, f: (envelope: Envelope) => void) => (endpoint = f),
      removeExternal: () => undefined,
      route: (_from: string, _to: string, req: Req) => sent.push(req),
    },
    observer: { invoke: () => 0, complete: () => undefined },
    recording,
    requestTimeoutMs,
    newId: () => 'c1',
    isStopped: () => false,
  } as unknown as ClientDeps;
  const client = new Client(deps, { region: 'r' });
  return {
    client,
    timers,
    live: () => timers.filter((x) => !x.cancelled),
    answer(req: Req): void {
      endpoint!({ to: client.address, from: 'balancer/r', msg: { type: 'res', rid: req.rid, ok: true, value: null } } as unknown as Envelope);
    },
    /** Move the clock to `ms` and fire the timers due by then (as the real clock would). */
    advance(ms: number): void {
      now = ms;
      for (const timer of [...timers]) {
        if (!timer.cancelled && timer.at <= now) {
          timer.cancelled = true;
          timer.fn();
        }
      }
    },
    sent,
  };
}

test('real clock: one call at a time arms the sweep timer once, and a later call still times out at its own deadline', async (t) => {
  const f = fakeClient('threads');
  const first = f.client.put('a', 1);
  f.advance(10);
  f.answer(f.sent[0]!);
  await first;
  t.is(f.timers.length, 1, 'one timer armed');
  t.is(f.live().length, 1, 'left running when the last call settled');
  // Two more lone calls: no timer armed or cancelled for them.
  for (const [i, at] of [
    [1, 20],
    [2, 30],
  ] as const) {
    const p = f.client.put(`k${i}`, i);
    f.advance(at);
    f.answer(f.sent[i]!);
    await p;
  }
  t.is(f.timers.length, 1);
  // A call at 50 (deadline 150) outlives the sweep due at 100: re-armed for 150, then it times out.
  f.advance(50);
  const late = f.client.put('late', 1);
  let settled = false;
  late.then(
    () => (settled = true),
    () => (settled = true),
  );
  f.advance(100);
  await Promise.resolve();
  t.false(settled, "not timed out at the first call's deadline");
  t.is(f.live().length, 1);
  t.is(f.live()[0]!.at, 150, 're-armed for its own deadline');
  f.advance(149);
  await Promise.resolve();
  t.false(settled);
  f.advance(150);
  await t.throwsAsync(late, { instanceOf: TimeoutError });
  // Nothing open: the sweep that timed it out leaves no timer behind.
  t.is(f.live().length, 0);
});

test('simulator: the sweep timer is cancelled when the last call settles (its runs stay as they were)', async (t) => {
  const f = fakeClient('sim');
  const p = f.client.put('a', 1);
  f.advance(10);
  f.answer(f.sent[0]!);
  await p;
  t.is(f.timers.length, 1);
  t.is(f.live().length, 0);
});

test('close cancels a sweep timer left running', async (t) => {
  const f = fakeClient('threads');
  const p = f.client.put('a', 1);
  f.answer(f.sent[0]!);
  await p;
  t.is(f.live().length, 1);
  f.client.close();
  t.is(f.live().length, 0);
});

test('the history counts a call by its entries: a transaction one a key it touches, against the bound (HISTORY_OPS_MAX)', async (t) => {
  // A transaction of 64 puts adds 64 entries to history(), and counted one: a history of
  // transactions grew 32x past its bound (found by an audit, session 58).
  const asked: number[] = [];
  const f = fakeClient('threads', 100, (ops) => {
    asked.push(ops);
    return true;
  });
  const put = f.client.put('k', 1);
  f.answer(f.sent[0]!);
  await put;
  const txn = f.client.transaction(['a', 'b', 'c', 'd', 'e'].map((key) => ({ op: 'put' as const, key, value: 1 })));
  f.answer(f.sent[1]!);
  await txn.catch(() => undefined);
  t.deepEqual(asked, [1, 5]);
});
