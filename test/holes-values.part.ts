import test from 'ava';
import { ValidationError, withCluster, type ClusterConfig, type Value } from '../src/index.js';

// Issue 8, item 9: a stored value comes back exactly as it was, or is refused up front with a
// ValidationError naming its path.

const config: ClusterConfig = { regions: [{ name: 'r1', servers: 1 }], transport: 'sim', seed: 1, replication: { mode: 'none' } };

const sparse = [1, 2, 3];
delete sparse[1];
const ownProto = JSON.parse('{"a": 1, "__proto__": {"b": 2}}') as object;
const withSymbol = { a: 1, [Symbol('s')]: 2 };
class Kilos extends Array<number> {}

/** Values the codec cannot bring back, and the path the error must name. */
const refused: Array<[string, unknown, RegExp]> = [
  ['-0', -0, /^value: .*-0/],
  ['-0 nested', { n: [0, -0] }, /^value\.n\[1\]: .*-0/],
  ['a lone high surrogate', '\ud800', /^value: .*lone surrogate/],
  ['a lone low surrogate, nested', ['ok', 'x\udc00y'], /^value\[1\]: .*lone surrogate/],
  ['a lone surrogate in an object key', { ['k\ud800']: 1 }, /^value\."k\\ud800": .*lone surrogate/],
  ['a sparse array', sparse, /^value\[1\]: .*holes/],
  // eslint-disable-next-line no-sparse-arrays -- the hole is the case under test
  ['a sparse array, nested', { list: [, 1] }, /^value\.list\[0\]: .*holes/],
  ['an own __proto__ key', ownProto, /^value\.__proto__: /],
  ['symbol keys', withSymbol, /^value: .*symbol/],
  // Arrays the codec would bring back changed (found by an audit, session 58).
  ['an array with a named property', Object.assign([1, 2], { unit: 'kg' }), /^value\.unit: .*named properties/],
  ['an array with a named property, nested', { list: [Object.assign([1], { x: 1 })] }, /^value\.list\[0\]\.x: .*named properties/],
  ['a String.match result', 'a1b'.match(/(?<d>\d)/), /^value\.index: .*named properties/],
  ['an Array subclass', Kilos.from([1, 2]), /^value: a plain array \(a Kilos would come back as a plain Array\)/],
  ['an array with a symbol key', Object.assign([1], { [Symbol('s')]: 1 }), /^value: .*symbol/],
];

/** Look-alikes that must come back exactly. */
const kept: Array<[string, Value]> = [
  ['0', 0],
  ['NaN', Number.NaN],
  ['-Infinity', Number.NEGATIVE_INFINITY],
  ['a surrogate pair', 'emoji \ud83d\ude00'],
  ['U+FFFD itself', '\ufffd'],
  ['an array with null and nested arrays', [1, null, [[]], 3]],
  ['a key "__proto_"', { __proto_: 1 }],
  ['a key "constructor"', { constructor: 'x', toString: 1 }],
  ['numeric-looking keys', { 2: 'b', 1: 'a', x: 'c' }],
];

test('values that cannot come back as they were are refused, naming the path, and nothing is stored', async (t) => {
  await withCluster(t, config, async (cluster) => {
    const c = cluster.client({ region: 'r1' });
    for (const [name, refusedValue, message] of refused) {
      // Some pass the type (-0, a lone surrogate, holes), some not: as a JavaScript caller would pass them.
      const value = refusedValue as Value;
      await t.throwsAsync(c.put('k', value), { instanceOf: ValidationError, message }, `put: ${name}`);
      await t.throwsAsync(c.cas('k', value, 1), { instanceOf: ValidationError, message: /^expected/ }, `cas expected: ${name}`);
      await t.throwsAsync(c.cas('k', 1, value), { instanceOf: ValidationError, message: /^next/ }, `cas next: ${name}`);
      await t.throwsAsync(
        c.transaction([{ op: 'put', key: 'k', value }]),
        { instanceOf: ValidationError, message: /^ops\[0\]\.value/ },
        `transaction: ${name}`,
      );
      t.is(await c.get('k'), undefined, `nothing stored: ${name}`);
    }
    await t.throwsAsync(c.put('\ud800', 1), { instanceOf: ValidationError, message: /^key: .*lone surrogate/ });
    await t.throwsAsync(c.get('a\udfff'), { instanceOf: ValidationError, message: /^key: / });
  });
});

test('values that can come back do, exactly', async (t) => {
  await withCluster(t, config, async (cluster) => {
    const c = cluster.client({ region: 'r1' });
    for (const [i, [name, value]] of kept.entries()) {
      await c.put(`k${i}`, value);
      const back = await c.get(`k${i}`);
      t.deepEqual(back, value, name);
      if (typeof value === 'number') t.true(Object.is(back, value), `${name}: the same number`);
      if (typeof value === 'object' && value !== null) t.deepEqual(Object.keys(back as object), Object.keys(value), `${name}: the same keys`);
    }
  });
});

test('a local read of a key holding null answers null, not undefined (a missing key), at a replica and at a hybrid learner (found by an audit, session 54)', async (t) => {
  for (const [mode, regions] of [
    ['active', [{ name: 'a', servers: 3 }]],
    [
      'hybrid',
      [
        { name: 'a', servers: 2 },
        { name: 'b', servers: 1 },
      ],
    ],
  ] as const) {
    const config: ClusterConfig = { regions: regions.map((r) => ({ ...r })), transport: 'sim', seed: 1, shards: 1, replication: { mode, factor: 2 } };
    await withCluster(t, config, async (cluster) => {
      const home = cluster.client({ region: 'a' });
      await home.put('k', null);
      await home.put('zero', 0);
      await cluster.sleep(1_000);
      t.is(await home.get('k'), null, `${mode}: linearizable`);
      for (const r of regions) {
        const client = cluster.client({ region: r.name });
        t.is(await client.get('k', { consistency: 'local' }), null, `${mode}: local read in ${r.name}`);
        t.is(await client.get('zero', { consistency: 'local' }), 0, `${mode}: local read of 0 in ${r.name}`);
        t.is(await client.get('missing', { consistency: 'local' }), undefined, `${mode}: a missing key in ${r.name}`);
      }
    });
  }
});
