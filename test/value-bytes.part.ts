/**
 * The value limit means what the docs say: at most VALUE_BYTES_MAX bytes as the codec encodes
 * it. checkValue's cheap estimate counts up to 8x over (9 bytes a number, 3 a character of a
 * short string) and refused values well under the limit (found by an audit, session 58).
 */
import test from 'ava';
import { ValidationError, withCluster, type Value } from '../src/index.js';
import { checkValue } from '../src/cluster/client.js';
import { VALUE_BYTES_MAX } from '../src/core/limits.js';
import { encodedBytes } from '../src/protocols/snapshot-pieces.js';

const within: Array<[string, Value]> = [
  ['3,000 keys of small ints', Object.fromEntries(Array.from({ length: 3_000 }, (_, i) => [`k${i}`, i % 50]))],
  ['8,000 small ints', Array.from({ length: 8_000 }, (_, i) => i % 50)],
  ['5,000 short strings', Array.from({ length: 5_000 }, () => 'abc')],
  ['a string of exactly the limit', 'a'.repeat(VALUE_BYTES_MAX - 3)],
];

test('a value within VALUE_BYTES_MAX encoded is accepted, whatever the estimate', (t) => {
  for (const [name, value] of within) {
    t.true(encodedBytes(value) <= VALUE_BYTES_MAX, name);
    t.notThrows(() => checkValue(value, 'value'), name);
  }
});

test('a value over VALUE_BYTES_MAX encoded is refused, with its exact size', (t) => {
  const over: Array<[string, unknown]> = [
    ['a string a byte over', 'a'.repeat(VALUE_BYTES_MAX - 2)],
    ['70,000 small ints', Array.from({ length: 70_000 }, (_, i) => i % 50)],
    ['a nested object', { list: Array.from({ length: 40_000 }, () => 'ab') }],
  ];
  for (const [name, value] of over) {
    const bytes = encodedBytes(value);
    t.true(bytes > VALUE_BYTES_MAX, name);
    t.throws(
      () => checkValue(value, 'value'),
      { instanceOf: ValidationError, message: `value: at most ${VALUE_BYTES_MAX} bytes encoded (${bytes} here)` },
      name,
    );
  }
});

test('sim: such a value is stored and comes back', async (t) => {
  await withCluster(t, { regions: [{ name: 'r1', servers: 1 }], transport: 'sim', seed: 1, replication: { mode: 'none' } }, async (cluster) => {
    const c = cluster.client({ region: 'r1' });
    for (const [i, [name, value]] of within.entries()) {
      await c.put(`k${i}`, value);
      t.deepEqual(await c.get(`k${i}`), value, name);
    }
  });
});
