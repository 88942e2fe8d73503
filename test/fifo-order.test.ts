import test from 'ava';
import { FifoOrder } from '../src/core/fifo-order.js';
import { Prng } from '../src/core/prng.js';

test('FifoOrder: a bounded set keeps the newest `max` keys, dropping the oldest first', (t) => {
  const seed = 17;
  t.log(`seed ${seed}`);
  const prng = new Prng(seed);
  const max = 5;
  const set = new Set<number>();
  const order = new FifoOrder<number>(max);
  const model: number[] = [];
  for (let i = 0; i < 2_000; i++) {
    const key = prng.int(40);
    if (set.has(key)) continue; // Known already: keeps its place.
    set.add(key);
    const evicted = order.added(key, set.size);
    if (evicted !== undefined) set.delete(evicted);
    model.push(key);
    const expectedEvicted = model.length > max ? model.shift() : undefined;
    t.is(evicted, expectedEvicted);
    t.deepEqual([...set], model);
  }
  order.reset([...set]);
  set.add(99);
  t.is(order.added(99, set.size), model[0], 'after a reset the oldest is the first key given');
});
