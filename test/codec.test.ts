import test from 'ava';
import { createPackr, decodeFrame, FrameBuilder, SHARED_STRUCTURES, SHARED_STRUCTURES_MAX } from '../src/core/codec.js';

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
