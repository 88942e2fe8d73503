import test from 'ava';
import { untilInterrupted } from '../src/cli/interrupt.js';

/**
 * untilInterrupted (src/cli/interrupt.ts) with signals emitted in this process: a file of its
 * own, so that no other test's handlers hear them (ava runs a file's tests at once).
 */

test('untilInterrupted: the first signal again at once is one stop delivered twice (timeout, npm run), not the second that quits; another signal still quits', async (t) => {
  const exits: number[] = [];
  const quits: string[] = [];
  const realExit = process.exit;
  process.exit = ((code?: number) => void exits.push(code ?? 0)) as typeof process.exit;
  t.teardown(() => (process.exit = realExit));
  for (const [first, again, quits0] of [
    ['SIGTERM', 'SIGTERM', false],
    ['SIGINT', 'SIGINT', false],
    ['SIGINT', 'SIGTERM', true],
  ] as const) {
    exits.length = 0;
    quits.length = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const run = untilInterrupted(
      async (signal) => {
        await released;
        return signal.reason as string;
      },
      undefined,
      async () => void quits.push('quit'),
    );
    process.emit(first, first);
    process.emit(again, again);
    release();
    const reason = await run;
    await new Promise((resolve) => setImmediate(resolve));
    t.is(reason, first);
    t.deepEqual(quits, quits0 ? ['quit'] : [], `${first} then ${again} at once`);
    t.deepEqual(exits, quits0 ? [first === 'SIGINT' ? 130 : 143] : [], `${first} then ${again}`);
    // A quitting run keeps its handlers (the next signal quits at once): remove them here.
    if (quits0) for (const name of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(name);
  }
});
