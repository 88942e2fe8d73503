import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { serialHistory } from '../src/harness/elle/generate.js';
import { checkTransactions, checkTransactionsParallel, type ElleOp, type TxnValue } from '../src/harness/elle/index.js';
import { TXN_CONSISTENCIES } from '../src/harness/elle/history.js';
import { seedRange } from './helpers/seeds.js';

const SEEDS = seedRange(20);

test('random serial histories are clean, both models, at every consistency level (a serial run keeps every order: sessions, real time)', (t) => {
  t.log(`seeds ${SEEDS[0]}..${SEEDS[SEEDS.length - 1]}`);
  for (const seed of SEEDS) {
    for (const model of ['list-append', 'rw-register'] as const) {
      // Few keys for dense conflicts, many for sparse ones; long transactions reread keys.
      const keys = 1 + (seed % 3 === 0 ? 2 : seed % 3 === 1 ? 10 : 50);
      const history = serialHistory({ model, seed, txns: 300, keys, opsMax: 1 + (seed % 6), processes: 1 + (seed % 4) });
      for (const consistency of TXN_CONSISTENCIES) {
        const r = checkTransactions(history, { model, consistency });
        if (!r.ok) t.log(`seed ${seed} ${model} ${consistency}: ${JSON.stringify(r.anomalies[0])}`);
        t.true(r.ok, `seed ${seed} ${model} ${consistency}`);
        t.true(r.stats!.committed > 0);
      }
    }
  }
});

interface Corrupted {
  history: ElleOp[];
  /** index of the completion whose read was changed */
  index: number;
  how: string;
}

/**
 * Changes one committed read of a serial list-append history so that no strict-serializable
 * execution explains it: drop its last element (a stale read; only where another committed
 * read shows that element, or the reader appended it itself), repeat an element, or add a
 * value nobody appended. Returns undefined when the history has no read to change.
 */
function corrupt(history: ElleOp[], prng: Prng): Corrupted | undefined {
  const writer = new Map<string, number>(); // key/value -> completion position
  const seenBy = new Map<string, Set<number>>(); // key/value -> positions of ok reads holding it
  const candidates: Array<[number, number]> = [];
  history.forEach((op, i) => {
    if (op.type === 'invoke') return;
    op.value.forEach((m, j) => {
      if (m[0] === 'append') writer.set(`${String(m[1])}/${String(m[2])}`, i);
      if (m[0] === 'r' && op.type === 'ok' && Array.isArray(m[2])) {
        for (const v of m[2]) {
          const k = `${String(m[1])}/${String(v)}`;
          let s = seenBy.get(k);
          if (s === undefined) seenBy.set(k, (s = new Set()));
          s.add(i);
        }
        if (m[2].length > 0) candidates.push([i, j]);
      }
    });
  });
  if (candidates.length === 0) return undefined;
  const [i, j] = candidates[prng.int(candidates.length)]!;
  const op = history[i]!;
  const mop = op.value[j]!;
  const list = mop[2] as TxnValue[];
  const last = `${String(mop[1])}/${String(list[list.length - 1])}`;
  const w = writer.get(last)!;
  const stale = w === i || (history[w]!.type === 'ok' && [...seenBy.get(last)!].some((r) => r !== i));
  const kinds = stale ? ['stale', 'duplicate', 'garbage'] : ['duplicate', 'garbage'];
  const how = kinds[prng.int(kinds.length)]!;
  const changed = how === 'stale' ? list.slice(0, -1) : how === 'duplicate' ? [...list, list[prng.int(list.length)]!] : [...list, 'nobody'];
  const value = op.value.map((m, k) => (k === j ? ['r', m[1], changed] : m)) as ElleOp['value'];
  const out = history.slice();
  out[i] = { ...op, value };
  return { history: out, index: op.index, how };
}

test('one corrupted read in a random serial history is always caught (strict-serializable)', (t) => {
  const seeds = seedRange(60, 1000);
  t.log(`seeds ${seeds[0]}..${seeds[seeds.length - 1]}`);
  const caught = new Map<string, number>();
  for (const seed of seeds) {
    const prng = new Prng(seed);
    const history = serialHistory({ model: 'list-append', seed, txns: 150, keys: 1 + prng.int(12), opsMax: 1 + prng.int(5) });
    const c = corrupt(history, prng);
    if (c === undefined) continue;
    const r = checkTransactions(c.history, { model: 'list-append', consistency: 'strict-serializable' });
    t.false(r.ok, `seed ${seed}: ${c.how} read at index ${c.index} not caught`);
    t.true(
      r.anomalies.some((a) => a.ops.some((o) => o.index === c.index)),
      `seed ${seed}: no anomaly names index ${c.index}`,
    );
    const expected = c.how === 'duplicate' ? 'duplicate-elements' : c.how === 'garbage' ? 'garbage-read' : undefined;
    if (expected !== undefined)
      t.true(
        r.anomalies.some((a) => a.type === expected),
        `seed ${seed}: ${expected} expected`,
      );
    caught.set(c.how, (caught.get(c.how) ?? 0) + 1);
  }
  t.log(`caught: ${JSON.stringify(Object.fromEntries(caught))}`);
  t.true((caught.get('stale') ?? 0) > 5, 'the stale-read corruption was exercised');
});

test('rw-register: a read turned stale in a random serial history is caught (strict-serializable)', (t) => {
  const seeds = seedRange(40, 2000);
  t.log(`seeds ${seeds[0]}..${seeds[seeds.length - 1]}`);
  let tried = 0;
  for (const seed of seeds) {
    const prng = new Prng(seed);
    const history = serialHistory({ model: 'rw-register', seed, txns: 150, keys: 1 + prng.int(6), opsMax: 1 + prng.int(4) });
    // Committed external reads of a value v of key k, where an earlier version u of k was
    // written by a committed transaction and every writer of k from u's on committed.
    const writes = new Map<string, Array<{ value: TxnValue; ok: boolean }>>();
    const candidates: Array<{ i: number; j: number; stale: TxnValue }> = [];
    history.forEach((op, i) => {
      if (op.type === 'invoke') return;
      const touched = new Set<string>();
      op.value.forEach((m, j) => {
        const k = String(m[1]);
        const list = writes.get(k) ?? [];
        if (m[0] === 'r' && op.type === 'ok' && m[2] !== null && !touched.has(k)) {
          const at = list.findIndex((w) => w.value === m[2]);
          if (at > 0 && list.slice(at - 1).every((w) => w.ok)) candidates.push({ i, j, stale: list[at - 1]!.value });
        }
        touched.add(k);
      });
      // Final writes of this transaction, once it is done.
      const finals = new Map<string, TxnValue>();
      for (const m of op.value) if (m[0] === 'w') finals.set(String(m[1]), m[2]);
      for (const [k, value] of finals) {
        if (op.type === 'fail') continue;
        const list = writes.get(k) ?? [];
        list.push({ value, ok: op.type === 'ok' });
        writes.set(k, list);
      }
    });
    if (candidates.length === 0) continue;
    const c = candidates[prng.int(candidates.length)]!;
    const op = history[c.i]!;
    const bad = history.slice();
    bad[c.i] = { ...op, value: op.value.map((m, j) => (j === c.j ? ['r', m[1], c.stale] : m)) as ElleOp['value'] };
    tried++;
    t.true(checkTransactions(history, { model: 'rw-register', consistency: 'strict-serializable' }).ok, `seed ${seed}: clean before`);
    const r = checkTransactions(bad, { model: 'rw-register', consistency: 'strict-serializable' });
    t.false(r.ok, `seed ${seed}: stale read at index ${op.index} not caught`);
    t.true(
      r.anomalies.some((a) => a.ops.some((o) => o.index === op.index)),
      `seed ${seed}: no anomaly names index ${op.index}`,
    );
  }
  t.log(`${tried} histories corrupted`);
  t.true(tried > 20);
});

test('the pool gives the same result as the synchronous checker', async (t) => {
  const seed = SEEDS[0]!;
  t.log(`seed ${seed}`);
  const prng = new Prng(seed);
  const clean = serialHistory({ model: 'list-append', seed, txns: 1000, keys: 30 });
  const bad = corrupt(clean, prng)!;
  for (const history of [clean, bad.history]) {
    for (const consistency of ['serializable', 'strict-serializable'] as const) {
      const options = { model: 'list-append', consistency } as const;
      const sync = checkTransactions(history, options);
      const pooled = await checkTransactionsParallel(history, { ...options, inline: false, workers: 2 });
      t.deepEqual(pooled, sync);
    }
  }
  const reg = serialHistory({ model: 'rw-register', seed, txns: 1000, keys: 30 });
  for (const consistency of ['serializable', 'strict-serializable'] as const) {
    t.deepEqual(
      await checkTransactionsParallel(reg, { model: 'rw-register', consistency, inline: false }),
      checkTransactions(reg, { model: 'rw-register', consistency }),
    );
  }
});

test('many stale reads in one large component: the G-single search still finds its cycle', (t) => {
  const seed = SEEDS[0]! + 500;
  t.log(`seed ${seed}`);
  const history = serialHistory({ model: 'list-append', seed, txns: 3000, keys: 60 });
  let k = 0;
  for (const op of history) {
    if (op.type !== 'ok') continue;
    op.value = op.value.map((m) =>
      m[0] === 'r' && Array.isArray(m[2]) && m[2].length > 0 && k++ % 10 === 0 ? ['r', m[1], m[2].slice(0, -1)] : m,
    ) as ElleOp['value'];
  }
  for (const consistency of ['serializable', 'strict-serializable'] as const) {
    const r = checkTransactions(history, { model: 'list-append', consistency });
    const types = new Set(r.anomalies.map((a) => a.type));
    t.log(`${consistency}: ${[...types].join(', ')}; ${JSON.stringify(r.stats)}`);
    t.true(types.has('G-single') || types.has('G-single-realtime'), consistency);
    for (const a of r.anomalies) {
      if (a.cycle === undefined) continue;
      // Every cycle closes, and its ops are the transactions it names, in order.
      t.is(a.cycle[a.cycle.length - 1]!.to, a.cycle[0]!.from);
      for (let i = 1; i < a.cycle.length; i++) t.is(a.cycle[i]!.from, a.cycle[i - 1]!.to);
      t.deepEqual(
        a.ops.map((o) => o.index),
        a.cycle.map((e) => e.from),
      );
    }
  }
});
