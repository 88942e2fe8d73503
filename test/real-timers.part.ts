import test from 'ava';
import { StoppedError } from '../src/core/errors.js';
import { RealTimers, TIMEOUT_MAX_MS } from '../src/runtime/transports/real-timers.js';

test('a zero-delay real timer runs on the next turn, as an immediate, not as setTimeout 0 (1 ms at the soonest)', async (t) => {
  const timers = new RealTimers();
  const order: string[] = [];
  // Immediates run in the order they were set, on the next turn, whatever the machine's load:
  // a timer made with setTimeout would come after the immediate set behind it.
  const done = new Promise<void>((resolve) => {
    timers.set(0, () => order.push('zero'));
    setImmediate(() => {
      order.push('immediate set after it');
      resolve();
    });
    queueMicrotask(() => order.push('microtask'));
    order.push('sync');
  });
  await done;
  t.deepEqual(order, ['sync', 'microtask', 'zero', 'immediate set after it']);
  timers.clear();
});

test('zero-delay real timers can be cancelled one by one or all at once', async (t) => {
  const timers = new RealTimers();
  const fired: string[] = [];
  const a = timers.set(0, () => fired.push('a'));
  timers.set(0, () => fired.push('b'));
  a.cancel();
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(fired, ['b']);
  timers.set(0, () => fired.push('c'));
  timers.set(-5, () => fired.push('d'));
  timers.set(5, () => fired.push('e'));
  timers.clear();
  await new Promise((resolve) => setTimeout(resolve, 15));
  t.deepEqual(fired, ['b']);
});

test('sleep(0) resolves on the next turn, before an immediate set after it', async (t) => {
  const timers = new RealTimers();
  const order: string[] = [];
  const slept = timers.sleep(0).then(() => order.push('slept'));
  const immediate = new Promise<void>((resolve) =>
    setImmediate(() => {
      order.push('immediate');
      resolve();
    }),
  );
  await Promise.all([slept, immediate]);
  t.deepEqual(order, ['slept', 'immediate']);
  timers.clear();
});

test('clear() rejects every pending sleep (StoppedError by default, else the reason given); its timer never fires', async (t) => {
  const timers = new RealTimers();
  const a = timers.sleep(5);
  const b = timers.sleep(0);
  timers.clear();
  await t.throwsAsync(a, { instanceOf: StoppedError });
  await t.throwsAsync(b, { instanceOf: StoppedError });
  const c = timers.sleep(5);
  timers.clear(new Error('gone'));
  await t.throwsAsync(c, { message: 'gone' });
  // A sleep that ended is not failed by a later clear().
  await timers.sleep(1);
  timers.clear();
  t.pass();
});

test('a delay past the longest setTimeout (2^31 - 1 ms) waits, chained, instead of firing at once; cancel() stops the chain', async (t) => {
  const timers = new RealTimers();
  let fired = 0;
  const handle = timers.set(TIMEOUT_MAX_MS + 1_000, () => fired++);
  const slept = timers.sleep(2 ** 40);
  let settled = false;
  void slept.then(
    () => (settled = true),
    () => undefined,
  );
  // Node fires a longer setTimeout after 1 ms: give it 30.
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.is(fired, 0);
  t.false(settled);
  handle.cancel();
  timers.clear();
  await t.throwsAsync(slept, { instanceOf: StoppedError });
});
