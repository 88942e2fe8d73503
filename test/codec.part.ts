import test, { type ExecutionContext } from 'ava';
import {
  copyEncoded,
  createPackr,
  decodeFrame,
  FAST_ENCODER_BYTES,
  FAST_ENCODER_BYTES_MAX,
  FastEncoder,
  FrameBuilder,
  SHAPE_NODES_LEARNT_MAX,
  SHARED_STRUCTURES,
  SHARED_STRUCTURES_MAX,
} from '../src/core/codec.js';
import { Prng } from '../src/core/prng.js';

/**
 * The same bytes, compared with Buffer.equals: ava's deepEqual walks a Buffer byte by byte
 * through its formatter (a 17 KB string's bytes took a minute of this file's time).
 */
function sameBytes(t: ExecutionContext, actual: Buffer, expected: Buffer, label?: string): void {
  if (actual.equals(expected)) t.pass(label);
  else
    t.fail(
      `${label ?? 'bytes'}: ${actual.byteLength} bytes ${actual.subarray(0, 64).toString('hex')}… ≠ ${expected.byteLength} bytes ${expected.subarray(0, 64).toString('hex')}…`,
    );
}

test('every shared structure round-trips between two Packrs, and there are at most 32', (t) => {
  t.true(SHARED_STRUCTURES.length <= SHARED_STRUCTURES_MAX);
  const a = createPackr();
  const b = createPackr();
  for (const keys of SHARED_STRUCTURES) {
    const value = Object.fromEntries(keys.map((k, i) => [k, i % 2 === 0 ? `v${i}` : i]));
    t.deepEqual(b.unpack(a.pack(value)), value, keys.join(','));
  }
});

test('shapes outside the list travel inline; a frame of envelopes decodes with another Packr', (t) => {
  const builder = new FrameBuilder();
  const a = createPackr();
  const envelopes = [
    { to: 'x', from: 'y', msg: { type: 'novel', deep: { shape: [1, 2, { z: null }] } } },
    { to: 3, from: 'client/r1/abc', msg: { type: 'req', rid: 1, body: { op: 'put', key: 'k', value: 1, rq: 'c:1' } } },
  ];
  for (const e of envelopes) builder.append(a.pack(e));
  t.deepEqual(decodeFrame(createPackr(), builder.take()), envelopes as never);
});

test('the fast encoder writes the very bytes msgpackr writes, or declines (random values; seed printed)', (t) => {
  const seed = 0x5eed0001;
  t.log(`seed ${seed}`);
  const rng = new Prng(seed);
  const packr = createPackr();
  const fast = new FastEncoder();
  const same = (value: unknown, label: string): boolean => {
    const end = fast.encode(value);
    if (end < 0) return false;
    const expected = packr.pack(value);
    sameBytes(t, Buffer.from(fast.buffer.subarray(0, end)), Buffer.from(expected), label);
    t.deepEqual(packr.unpack(fast.buffer.subarray(0, end)), packr.unpack(expected), label);
    // The simulator copies what the fast encoder accepted instead of decoding it: the same
    // values, but for lone surrogates (JSON.stringify escapes them), which decode as U+FFFD.
    if (!/\\ud[89a-f]/i.test(JSON.stringify(value) ?? '')) t.deepEqual(copyEncoded(value), packr.unpack(expected), `${label} (copy)`);
    return true;
  };
  const strings = [
    '',
    'a',
    'r1/0',
    'x'.repeat(31),
    'y'.repeat(32),
    'z'.repeat(255),
    'w'.repeat(256),
    'v'.repeat(70_000 / 4),
    'é',
    'é'.repeat(20),
    '日本'.repeat(40),
    '\u{1F600}',
    '\ud800x',
    'a\udc00',
  ];
  const numbers = [
    0,
    1,
    31,
    32,
    63,
    64,
    127,
    128,
    255,
    256,
    65_535,
    65_536,
    2 ** 32 - 1,
    2 ** 32,
    -1,
    -32,
    -33,
    -128,
    -129,
    -32_768,
    -32_769,
    -(2 ** 31),
    -(2 ** 31) - 1,
    0.5,
    -0.25,
    1e300,
    Number.NaN,
    Infinity,
    -0,
  ];
  const scalar = (): unknown => {
    const r = rng.int(6);
    if (r === 0) return rng.pick(strings);
    if (r === 1) return rng.pick(numbers);
    if (r === 2) return rng.chance(0.5);
    if (r === 3) return null;
    if (r === 4) return undefined;
    return rng.next() * 1000;
  };
  const novel = [['type', 'region', 'seq'], ['id', 'state', 'load'], ['r1', 'r2'], ['type'], ['type', 'key', 'extra'], ['zz']];
  const value = (depth: number): unknown => {
    const r = rng.int(depth > 2 ? 1 : 4);
    if (r === 0) return scalar();
    if (r === 1) return Array.from({ length: rng.pick([0, 1, 3, 15, 16, 20]) }, () => value(depth + 1));
    // Mostly shared shapes; some not (an inline definition, maybe used twice in one value).
    const keys = rng.chance(0.7) ? rng.pick(SHARED_STRUCTURES) : rng.pick(novel);
    return Object.fromEntries(keys.map((k) => [k, value(depth + 1)]));
  };
  let encoded = 0;
  for (let i = 0; i < 3_000; i++) if (same(value(0), `value ${i}`)) encoded++;
  // Envelopes whose message shape is not a shared one are written in one pass once the type
  // was seen with that shape (a guess checked key by key): the same bytes, whatever the guess.
  const types = ['digest', 'load', 'rhb', 'px'];
  let envelopes = 0;
  for (let i = 0; i < 3_000; i++) {
    const keys = rng.chance(0.5) ? rng.pick(novel) : rng.pick(SHARED_STRUCTURES);
    const msg: Record<string, unknown> = { type: rng.pick(types) };
    for (const k of keys) if (k !== 'type') msg[k] = value(1);
    // Half of them with the copy made as they are written (the simulator's way): the same
    // bytes, and the copy is copyEncoded's, made anew (nothing shared with the message).
    const copy = i % 2 === 0;
    const end = fast.encodeEnvelope(3, 'r0/1', msg, copy);
    if (end < 0) continue;
    envelopes++;
    sameBytes(t, Buffer.from(fast.buffer.subarray(0, end)), Buffer.from(packr.pack({ to: 3, from: 'r0/1', msg })), `envelope ${i}`);
    if (copy) {
      t.deepEqual(fast.copied, copyEncoded(msg), `envelope ${i} (copy)`);
      t.not(fast.copied, msg);
      for (const k of Object.keys(msg)) if (typeof msg[k] === 'object' && msg[k] !== null) t.not((fast.copied as Record<string, unknown>)[k], msg[k]);
    } else {
      t.is(fast.copied, undefined);
    }
  }
  for (const s of strings) t.true(same(s, JSON.stringify(s).slice(0, 20)));
  for (const n of numbers) t.true(same(n, String(n)));
  t.true(encoded > 2_000, `encoded ${encoded} of 3000`);
  t.true(envelopes > 2_000, `encoded ${envelopes} of 3000 envelopes`);
  // Declined: a Map, a Date, a typed array, a bigint, 33 new shapes in one value.
  for (const v of [new Map(), new Date(0), new Uint8Array(2), 1n, [new Map()], Array.from({ length: 33 }, (_, i) => ({ [`k${i}`]: i }))])
    t.is(fast.encode(v), -1);
  t.true(same([{}, { zz: {} }, {}], 'empty objects'));
  t.true(
    same(
      Array.from({ length: 32 }, (_, i) => ({ [`k${i}`]: i })),
      '32 new shapes',
    ),
  );
  t.true(
    same(
      {
        type: 'digest',
        members: [
          { id: 'a', state: 'up' },
          { id: 'b', state: 'up' },
        ],
        peers: { r1: 'up' },
      },
      'a shape used twice',
    ),
  );
  // More distinct shapes than the trie keeps: it starts again, and the bytes stay right.
  for (let i = 0; i < SHAPE_NODES_LEARNT_MAX + 100; i += 97) t.true(same({ [`k${i}`]: i, type: 'x' }, `shape ${i}`));
  for (let i = 0; i < SHAPE_NODES_LEARNT_MAX + 100; i++) fast.encode({ [`q${i}`]: i });
  t.true(same({ type: 'px', s: 1, m: { novel: true } }, 'after the trie started again'));
  // The envelope form matches packing the envelope object.
  const msg = { type: 'px', s: 3, m: { type: 'heartbeat', ballot: { round: 1, id: 'r0/0' }, commitIndex: 5 } };
  const end = fast.encodeEnvelope(7, 'client/r1/abc', msg);
  sameBytes(t, Buffer.from(fast.buffer.subarray(0, end)), Buffer.from(packr.pack({ to: 7, from: 'client/r1/abc', msg })));
});

test('the fast encoder grows its buffer for a value past its first size (a snapshot record), up to its limit', (t) => {
  const packr = createPackr();
  const fast = new FastEncoder();
  // A server's snapshot record: a shard's data and its remembered request ids, ~200 KB.
  const seen = Array.from({ length: 4_096 }, (_, i) => [`client${i % 97}:${i}`, i % 3 === 0 ? null : { ok: i }]);
  const data = Array.from({ length: 2_000 }, (_, i) => [`key-${i}`, `value-${i}`.repeat(4)]);
  const record = { s: 11, r: { type: 'snapshot', index: 340, data: { applied: 3078, seen, data } } };
  const expected = packr.pack(record);
  t.true(expected.byteLength > FAST_ENCODER_BYTES, `${expected.byteLength} bytes`);
  const end = fast.encode(record);
  t.is(end, expected.byteLength);
  sameBytes(t, Buffer.from(fast.buffer.subarray(0, end)), Buffer.from(expected));
  // The same as an envelope, with the copy made as it is written.
  const msgEnd = fast.encodeEnvelope(3, 'r0/1', { type: 'snapshot', data: record.r.data }, true);
  const msgExpected = packr.pack({ to: 3, from: 'r0/1', msg: { type: 'snapshot', data: record.r.data } });
  sameBytes(t, Buffer.from(fast.buffer.subarray(0, msgEnd)), Buffer.from(msgExpected));
  t.deepEqual(fast.copied, copyEncoded({ type: 'snapshot', data: record.r.data }));
  // Small values after the large one: the same bytes from the larger buffer.
  const small = { type: 'px', s: 1, m: { type: 'heartbeat', ballot: { round: 1, id: 'r0/0' }, commitIndex: 5 } };
  const smallEnd = fast.encode(small);
  sameBytes(t, Buffer.from(fast.buffer.subarray(0, smallEnd)), Buffer.from(packr.pack(small)));
  // Past the limit: declined, for msgpackr.
  t.is(fast.encode(['x'.repeat(FAST_ENCODER_BYTES_MAX)]), -1);
});
