import test from 'ava';
import { NumberSet } from '../src/core/number-set.js';
import { Prng } from '../src/core/prng.js';

// NumberSet against a Set, under the churn it is for (adds and deletes, a bounded size) and
// with ids that collide in a small table: sender numbers x 2^32 + rids drawn from a narrow
// range, deletes in any order (the backward shift must keep every other id findable).
for (const seed of [1, 2, 3, 4]) {
  test(`NumberSet: the same answers as a Set under random adds and deletes (seed ${seed})`, (t) => {
    t.log(`seed ${seed}`);
    const prng = new Prng(seed);
    const set = new NumberSet();
    const model = new Set<number>();
    const senders = 1 + prng.int(6);
    const bound = 1 + prng.int(300);
    const idOf = (): number => prng.int(senders) * 0x100000000 + prng.int(4 * bound);
    const wrong: string[] = [];
    for (let step = 0; step < 30_000 && wrong.length === 0; step++) {
      if (model.size < bound && prng.chance(0.55)) {
        const id = idOf();
        if (set.add(id) !== !model.has(id)) wrong.push(`add ${id} at step ${step}`);
        model.add(id);
      } else if (model.size > 0 && prng.chance(0.7)) {
        // A held id, picked at random (not only the oldest).
        const held = [...model][prng.int(model.size)]!;
        if (!set.delete(held)) wrong.push(`delete of held ${held} at step ${step}`);
        model.delete(held);
      } else {
        const id = idOf();
        if (set.delete(id) !== model.delete(id)) wrong.push(`delete ${id} at step ${step}`);
      }
      if (set.size !== model.size) wrong.push(`size ${set.size}, not ${model.size}, at step ${step}`);
      const probe = idOf();
      if (set.has(probe) !== model.has(probe)) wrong.push(`has ${probe} at step ${step}`);
      if (step % 97 === 0) for (const held of model) if (!set.has(held)) wrong.push(`${held} lost by step ${step}`);
    }
    t.deepEqual(wrong.slice(0, 3), []);
    for (const held of model) t.true(set.has(held));
    t.is(set.size, model.size);
  });
}

test('NumberSet: refuses an id it cannot hold, and holds none it refuses', (t) => {
  const set = new NumberSet();
  for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) t.throws(() => set.add(bad), { message: /NumberSet: an id is an integer from 0 to 2\^53 - 1/ });
  t.is(set.size, 0);
  // -1 marks an empty slot: no id it is, whatever the table holds.
  set.add(5);
  t.false(set.has(-1));
  t.false(set.delete(-1));
  t.is(set.size, 1);
});
