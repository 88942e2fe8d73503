import test from 'ava';
import { sample } from '../bench/soak.js';

// Session 69's audit of what the bench report and the metrics show.

// The soak suite (and scale's `rss +MB`) divided bytes by 2^20 and said MB: every memory
// figure was a MiB figure, 4.9% below the same memory in MB (10^6 bytes).
test('soak: a worker heap of 5,000,000 bytes is 5 MB', async (t) => {
  const m = await sample({ ping: () => Promise.resolve([{ host: 1, actors: 1, nowMs: 0, heapUsedBytes: 5_000_000 }]) }, 0, 0);
  t.is(m.workerHeapMb[1], 5);
});
