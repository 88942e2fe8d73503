import test from 'ava';
import { ForgottenMarks, sourceAndNumber } from '../src/core/forgotten-marks.js';
import { Prng } from '../src/core/prng.js';

/** sourceAndNumber as it read ids before it parsed plain digits in place: the reference. */
function reference(id: string): [string, number] | undefined {
  const at = id.lastIndexOf(':');
  if (at <= 0) return undefined;
  const n = Number(id.slice(at + 1));
  return Number.isInteger(n) ? [id.slice(0, at), n] : undefined;
}

/** Number parts of every form Number reads, or not: plain, long, signed, spaced, hex, fractions, exponents, empty. */
const ODD_PARTS = [
  '',
  '0',
  '007',
  ' 12',
  '12 ',
  '+3',
  '-4',
  '1.0',
  '1.5',
  '0x1f',
  '1e3',
  'Infinity',
  'NaN',
  '12a',
  'a12',
  '٣',
  '9007199254740993',
  '999999999999999',
  '1234567890123456',
];

function randomId(prng: Prng): string {
  const source = ['c', 'client/us-east/V1StGXR8', 'a:b', ''][prng.int(4)]!;
  const part = prng.int(3) === 0 ? ODD_PARTS[prng.int(ODD_PARTS.length)]! : String(prng.int(1_000_000));
  return prng.int(20) === 0 ? part : `${source}:${part}`;
}

test('sourceAndNumber: the same split as Number over the part after the last colon, for ids of every form', (t) => {
  const seed = 31;
  t.log(`seed ${seed}`);
  const prng = new Prng(seed);
  for (const part of ODD_PARTS) t.deepEqual(sourceAndNumber(`s:${part}`), reference(`s:${part}`), `s:${part}`);
  for (let i = 0; i < 5_000; i++) {
    const id = randomId(prng);
    t.deepEqual(sourceAndNumber(id), reference(id), id);
  }
});

test('ForgottenMarks: covers and forgot answer as a model built on the reference split', (t) => {
  const seed = 37;
  t.log(`seed ${seed}`);
  const prng = new Prng(seed);
  const marks = new ForgottenMarks(3);
  const model = new Map<string, number>();
  for (let i = 0; i < 5_000; i++) {
    const id = randomId(prng);
    if (prng.int(2) === 0) {
      const parts = reference(id);
      if (parts !== undefined) {
        const [source, n] = parts;
        const upTo = model.get(source);
        if (upTo === undefined) {
          if (model.size >= 3) model.delete(model.keys().next().value as string);
          model.set(source, n);
        } else if (n > upTo) model.set(source, n);
      }
      marks.forgot(id);
    } else {
      const parts = reference(id);
      const upTo = parts === undefined ? undefined : model.get(parts[0]);
      t.is(marks.covers(id), parts !== undefined && upTo !== undefined && parts[1] <= upTo, id);
    }
  }
  t.deepEqual(marks.entries(), [...model]);
});
