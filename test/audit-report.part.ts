import test from 'ava';
import { sample } from '../bench/soak.js';
import { undecidedLine, undecidedWhy } from '../src/cli/format.js';
import { CHECK_RECORD_WORDS_MAX } from '../src/harness/linearizability.js';

// Session 69's audit of what the bench report and the metrics show.

// The soak suite (and scale's `rss +MB`) divided bytes by 2^20 and said MB: every memory
// figure was a MiB figure, 4.9% below the same memory in MB (10^6 bytes).
test('soak: a worker heap of 5,000,000 bytes is 5 MB', async (t) => {
  const m = await sample({ ping: () => Promise.resolve([{ host: 1, actors: 1, nowMs: 0, heapUsedBytes: 5_000_000 }]) }, 0, 0);
  t.is(m.workerHeapMb[1], 5);
});

// The checker's memory bound is 2^26 words of 4 bytes: 2^28 bytes, 256 MiB (268 MB). `check`
// and `verify` said "256 MB".
test('check: the memory bound a key filled is said in MiB, as it is 2^28 bytes', (t) => {
  t.regex(undecidedWhy(['x'], ['x']), /\(256 MiB of records,/);
  t.regex(undecidedLine(['x'], ['x']), /memory bound of 256 MiB,/);
  t.is(CHECK_RECORD_WORDS_MAX * 4, 256 * 2 ** 20);
});
