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

test('FifoOrder.addedLive: a bounded map whose keys also leave by other means keeps the newest `max` live keys, in a bounded order', (t) => {
  const seed = 23;
  t.log(`seed ${seed}`);
  const prng = new Prng(seed);
  const max = 8;
  const map = new Map<number, true>();
  const order = new FifoOrder<number>(max);
  const model: number[] = []; // live keys, oldest first
  let next = 0;
  for (let i = 0; i < 20_000; i++) {
    if (prng.chance(0.45) && model.length > 0) {
      // Removed by other means (as a 2PC end record retires its transaction).
      const k = model.splice(prng.int(model.length), 1)[0]!;
      map.delete(k);
    } else {
      const key = next++;
      map.set(key, true);
      model.push(key);
      const evicted = order.addedLive(key, map.size, (k) => map.has(k));
      if (evicted !== undefined) map.delete(evicted);
      const expected = model.length > max ? model.shift() : undefined;
      t.is(evicted, expected);
    }
    t.deepEqual([...map.keys()], model);
    t.true((order as unknown as { order: number[] }).order.length <= 3 * max + 64 + 1, 'the order stays bounded');
  }
});
