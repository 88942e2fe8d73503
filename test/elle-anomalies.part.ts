import test from 'ava';
import {
  checkTransactions,
  checkTransactionsParallel,
  type MicroOp,
  type TxnCheckResult,
  type TxnConsistency,
  type TxnModel,
} from '../src/harness/elle/index.js';
import { TXN_CONSISTENCIES } from '../src/harness/elle/history.js';
import { h, type HistoryBuilder } from './helpers/elle-history.js';

function types(r: TxnCheckResult): string[] {
  return r.anomalies.map((a) => a.type).sort();
}

function check(history: ReturnType<typeof h>, model: TxnModel, consistency: TxnConsistency = 'serializable'): TxnCheckResult {
  return checkTransactions(history.ops, { model, consistency });
}

// --- list-append ---------------------------------------------------------------------------

/** G0: 1 and 2 each append to x and y, one after the other; 3 reads x as [1, 2] and y as [2, 1]. */
function oppositeOrders(): HistoryBuilder {
  return h()
    .txn(1, [
      ['append', 'x', 1],
      ['append', 'y', 1],
    ])
    .txn(2, [
      ['append', 'x', 2],
      ['append', 'y', 2],
    ])
    .txn(3, [
      ['r', 'x', [1, 2]],
      ['r', 'y', [2, 1]],
    ]);
}

/** G1c: 1 appends to x and 2 to y, concurrently, each reading the other one's append. */
function circularReads(): HistoryBuilder {
  return h()
    .invoke(1, [
      ['append', 'x', 1],
      ['r', 'y', [1]],
    ])
    .invoke(2, [
      ['append', 'y', 1],
      ['r', 'x', [1]],
    ])
    .complete(1, 'ok', [
      ['append', 'x', 1],
      ['r', 'y', [1]],
    ])
    .complete(2, 'ok', [
      ['append', 'y', 1],
      ['r', 'x', [1]],
    ]);
}

/** Read skew (G-single) on keys x and y: p reads x before p + 1 appends to both, and y after; p + 2 reads x. */
function readSkew(b = h(), x = 'x', y = 'y', p = 1): HistoryBuilder {
  return b
    .invoke(p, [
      ['r', x, []],
      ['r', y, [1]],
    ])
    .txn(p + 1, [
      ['append', x, 1],
      ['append', y, 1],
    ])
    .complete(p, 'ok', [
      ['r', x, []],
      ['r', y, [1]],
    ])
    .txn(p + 2, [['r', x, [1]]]);
}

/** Write skew (G2) on keys x and y: p reads x empty and appends to y while p + 1 reads y empty and appends to x; p + 2 reads both. */
function writeSkew(b = h(), x = 'x', y = 'y', p = 1): HistoryBuilder {
  return b
    .invoke(p, [
      ['r', x, []],
      ['append', y, 1],
    ])
    .invoke(p + 1, [
      ['r', y, []],
      ['append', x, 1],
    ])
    .complete(p, 'ok', [
      ['r', x, []],
      ['append', y, 1],
    ])
    .complete(p + 1, 'ok', [
      ['r', y, []],
      ['append', x, 1],
    ])
    .txn(p + 2, [
      ['r', x, [1]],
      ['r', y, [1]],
    ]);
}

test('list-append G0: two transactions append to x and y in opposite orders', (t) => {
  for (const consistency of ['serializable', 'strict-serializable'] as const) {
    const r = check(oppositeOrders(), 'list-append', consistency);
    t.false(r.ok);
    t.deepEqual(types(r), ['G0']);
    const a = r.anomalies[0]!;
    t.deepEqual(
      a.cycle!.map((e) => e.kind),
      ['ww', 'ww'],
    );
    t.deepEqual(new Set(a.cycle!.map((e) => e.key)), new Set(['x', 'y']));
    t.deepEqual(a.ops.map((o) => o.index).sort(), [1, 3]);
    t.regex(a.explanation, /ww/);
  }
});

test("list-append G1c: each transaction reads the other one's append", (t) => {
  const r = check(circularReads(), 'list-append');
  t.deepEqual(types(r), ['G1c']);
  t.deepEqual(
    r.anomalies[0]!.cycle!.map((e) => e.kind),
    ['wr', 'wr'],
  );
  t.deepEqual(r.anomalies[0]!.cycle!.map((e) => [e.from, e.to]).sort(), [
    [2, 3],
    [3, 2],
  ]);
});

test('list-append G-single: read skew, one anti-dependency', (t) => {
  const r = check(readSkew(), 'list-append');
  t.deepEqual(types(r), ['G-single']);
  const kinds = r.anomalies[0]!.cycle!.map((e) => e.kind).sort();
  t.deepEqual(kinds, ['rw', 'wr']);
  const rw = r.anomalies[0]!.cycle!.find((e) => e.kind === 'rw')!;
  t.deepEqual([rw.from, rw.to, rw.key], [3, 2, 'x']);
});

test('list-append G2: write skew, two anti-dependencies', (t) => {
  const r = check(writeSkew(), 'list-append', 'strict-serializable');
  t.deepEqual(types(r), ['G2']);
  t.deepEqual(
    r.anomalies[0]!.cycle!.map((e) => e.kind),
    ['rw', 'rw'],
  );
});

test('list-append G1a: a committed read sees an append of a failed transaction', (t) => {
  const hist = h()
    .txn(1, [['append', 'x', 1]], 'fail')
    .txn(2, [['r', 'x', [1]]]);
  const r = check(hist, 'list-append');
  t.deepEqual(types(r), ['G1a']);
  t.deepEqual(
    r.anomalies[0]!.ops.map((o) => o.index),
    [3, 1],
  );
  t.regex(r.anomalies[0]!.explanation, /failed/);
});

test('list-append: an element of a failed writer is passed over in the version order', (t) => {
  // x: 1 (T1), 2 (failed), 3 (T3): still T1 ww T3; y: T3 before T1. A G0 cycle, beside the G1a.
  const hist = h()
    .txn(1, [['append', 'x', 1]])
    .txn(2, [['append', 'x', 2]], 'fail')
    .txn(3, [
      ['append', 'x', 3],
      ['append', 'y', 1],
    ])
    .txn(4, [['append', 'y', 2]])
    .txn(5, [
      ['r', 'x', [1, 2, 3]],
      ['r', 'y', [1, 2]],
    ])
    .txn(6, [['r', 'y', [1]]]); // and T4 appended y right after T3
  const r = check(hist, 'list-append');
  t.deepEqual(types(r), ['G1a']);
  const g0 = h()
    .txn(1, [
      ['append', 'x', 1],
      ['append', 'y', 2],
    ])
    .txn(2, [['append', 'x', 2]], 'fail')
    .txn(3, [
      ['append', 'x', 3],
      ['append', 'y', 1],
    ])
    .txn(5, [
      ['r', 'x', [1, 2, 3]],
      ['r', 'y', [1, 2]],
    ]);
  const r2 = check(g0, 'list-append');
  t.deepEqual(types(r2), ['G0', 'G1a']);
  const cycle = r2.anomalies.find((a) => a.type === 'G0')!.cycle!;
  t.deepEqual(cycle.map((e) => `${e.from}->${e.to} ${String(e.key)}`).sort(), ['1->5 x', '5->1 y']);
});

test('list-append G1b: a read ends in an intermediate append', (t) => {
  const hist = h()
    .txn(1, [
      ['append', 'x', 1],
      ['append', 'x', 2],
    ])
    .txn(2, [['r', 'x', [1]]]);
  const r = check(hist, 'list-append');
  t.deepEqual(types(r), ['G1b']);
});

test('list-append: appends no read shows come after the longest read (as Elle orders them), in whatever order; a failed one adds nothing', (t) => {
  // Appended once, read only empty after the append completed: [] then [1], a stale read.
  const once = h()
    .txn(1, [['append', 'x', 1]])
    .txn(2, [['r', 'x', []]]);
  t.deepEqual(types(check(once, 'list-append', 'strict-serializable')), ['G-single-realtime']);
  t.true(check(once, 'list-append').ok, 'serializable: the read goes first');
  // 2 is the one append the read [1] does not show: it came after 1, so the read missed it.
  const unshown = h()
    .txn(1, [['append', 'x', 1]])
    .txn(2, [['append', 'x', 2]])
    .txn(3, [['r', 'x', [1]]]);
  const r = check(unshown, 'list-append', 'strict-serializable');
  t.deepEqual(types(r), ['G-single-realtime']);
  t.deepEqual(
    r.anomalies[0]!.cycle!.find((e) => e.kind === 'rw'),
    { from: 5, to: 3, kind: 'rw', key: 'x' },
  );
  // Two appends no read shows: which came first is not known, but both came after 1, so the read
  // [1] precedes both (it missed 2, appended before it was invoked).
  const two = h()
    .txn(1, [['append', 'x', 1]])
    .txn(2, [['append', 'x', 2]])
    .txn(4, [['append', 'x', 3]])
    .txn(3, [['r', 'x', [1]]]);
  const r2 = check(two, 'list-append', 'strict-serializable');
  t.deepEqual(types(r2), ['G-single-realtime']);
  const rw = r2.anomalies[0]!.cycle!.find((e) => e.kind === 'rw')!;
  t.deepEqual([rw.from, rw.key], [7, 'x']);
  t.true(rw.to === 3 || rw.to === 5, `to the appender of 2 or of 3, not ${rw.to}`);
  t.true(check(two, 'list-append').ok, 'serializable: the read goes first');
  // A failed append never happened: nothing comes after 1.
  const failed = h()
    .txn(1, [['append', 'x', 1]])
    .txn(2, [['append', 'x', 2]], 'fail')
    .txn(3, [['r', 'x', [1]]]);
  t.true(check(failed, 'list-append', 'strict-serializable').ok);
});

test('list-append: each of several appends no read shows gets its ww and rw edges (as Elle expects in its unobserved-write and lost-update tests)', (t) => {
  // Three concurrent transactions append 1, 2, 3 to both x and y; x is read [1, 2], y only [2]:
  // 1 came before 2 on x and after it on y (G0), and the read of y missed 1 (G-single).
  const both = h();
  for (const v of [1, 2, 3]) {
    both.invoke(v, [
      ['append', 'x', v],
      ['append', 'y', v],
    ]);
  }
  for (const v of [1, 2, 3]) {
    both.complete(v, 'ok', [
      ['append', 'x', v],
      ['append', 'y', v],
    ]);
  }
  both.txn(4, [['r', 'x', [1, 2]]]).txn(5, [['r', 'y', [2]]]);
  for (const consistency of ['read-uncommitted', 'serializable'] as const) {
    const r = check(both, 'list-append', consistency);
    t.deepEqual(types(r), consistency === 'serializable' ? ['G-single', 'G0'] : ['G0']);
    const g0 = r.anomalies.find((a) => a.type === 'G0')!.cycle!;
    t.deepEqual(g0.map((e) => `${e.from}->${e.to} ${e.kind} ${String(e.key)}`).sort(), ['3->4 ww x', '4->3 ww y']);
  }
  // Lost update: two transactions read [0] and append, neither append ever read: each read
  // precedes the other's append, G2 at serializable; and the lost update itself.
  const lost = h()
    .txn(1, [['append', 'x', 0]])
    .txn(2, [
      ['r', 'x', [0]],
      ['append', 'x', 1],
    ])
    .txn(3, [
      ['r', 'x', [0]],
      ['append', 'x', 2],
    ]);
  const r = check(lost, 'list-append');
  t.deepEqual(types(r), ['G2', 'lost-update']);
  t.deepEqual(
    r.anomalies
      .find((a) => a.type === 'G2')!
      .cycle!.map((e) => `${e.from}->${e.to} ${e.kind}`)
      .sort(),
    ['3->5 rw', '5->3 rw'],
  );
  // An append no read shows, by a transaction whose earlier append is not the last element read:
  // 2 came after 3, between the two appends of T1 (G0), and the read [1, 3] missed it.
  const split = h()
    .txn(1, [
      ['append', 'x', 1],
      ['append', 'x', 2],
    ])
    .txn(2, [['append', 'x', 3]])
    .txn(3, [['r', 'x', [1, 3]]]);
  t.deepEqual(types(check(split, 'list-append', 'read-uncommitted')), ['G0']);
});

test('list-append incompatible-order: two reads that are not prefixes of one another', (t) => {
  const hist = h()
    .txn(1, [['append', 'x', 1]])
    .txn(2, [['append', 'x', 2]])
    .txn(3, [['r', 'x', [1, 2]]])
    .txn(4, [['r', 'x', [2, 1]]]);
  const r = check(hist, 'list-append');
  t.deepEqual(types(r), ['incompatible-order']);
  t.deepEqual(
    r.anomalies[0]!.ops.map((o) => o.index),
    [7, 5],
  );
});

test('list-append duplicate-elements: a read holds an element twice', (t) => {
  const r = check(
    h()
      .txn(1, [['append', 'x', 1]])
      .txn(2, [['r', 'x', [1, 1]]]),
    'list-append',
  );
  t.deepEqual(types(r), ['duplicate-elements']);
  // A long list is shown by its ends in the explanation.
  const long = Array.from({ length: 40 }, (_, i) => i + 1);
  const hist = h();
  for (const v of long) hist.txn(1, [['append', 'x', v]]);
  const r2 = check(hist.txn(2, [['r', 'x', [...long, 40]]]), 'list-append');
  t.deepEqual(types(r2), ['duplicate-elements']);
  t.regex(r2.anomalies[0]!.explanation, /\[1 2 3 4 5 6 7 8 \.\.\. \(25 more\) \.\.\. 34 35 36 37 38 39 40 40\] from key "x", which holds 40 more than once/);
});

test('list-append internal: a transaction does not see its own append', (t) => {
  const r = check(
    h().txn(1, [
      ['append', 'x', 1],
      ['r', 'x', []],
    ]),
    'list-append',
  );
  t.deepEqual(types(r), ['internal']);
  const r2 = check(
    h()
      .txn(1, [
        ['r', 'x', []],
        ['r', 'x', [5]],
      ])
      .txn(2, [['append', 'x', 5]]),
    'list-append',
  );
  t.true(types(r2).includes('internal'));
  const r3 = check(
    h().txn(1, [
      ['r', 'x', [5]],
      ['append', 'x', 5],
    ]),
    'list-append',
  );
  t.deepEqual(types(r3), ['internal'], 'a read of its own later append');
  // A later read that shows an element the transaction appends only afterwards (Elle's future
  // read, which its test expects found here): it appended 1, read [0, 1], then appended 0.
  const r4 = check(
    h().txn(1, [
      ['append', 'x', 1],
      ['r', 'x', [0, 1]],
      ['append', 'x', 0],
      ['append', 'x', 3],
    ]),
    'list-append',
    'read-uncommitted',
  );
  t.deepEqual(types(r4), ['internal']);
  t.regex(r4.anomalies[0]!.explanation, /read \[0 1\] from key "x" before it appended 0 itself \(micro-op 2\)/);
});

test('list-append garbage-read: a read of a value nobody appended', (t) => {
  const r = check(h().txn(1, [['r', 'x', [7]]]), 'list-append');
  t.deepEqual(types(r), ['garbage-read']);
});

test('list-append G0-realtime: the version order contradicts real time', (t) => {
  const hist = h()
    .txn(1, [['append', 'x', 1]])
    .txn(2, [['append', 'x', 2]])
    .txn(3, [['r', 'x', [2, 1]]]);
  t.true(check(hist, 'list-append').ok);
  const r = check(hist, 'list-append', 'strict-serializable');
  t.deepEqual(types(r), ['G0-realtime']);
  t.deepEqual(r.anomalies[0]!.cycle!.map((e) => e.kind).sort(), ['rt', 'ww']);
  const rt = r.anomalies[0]!.cycle!.find((e) => e.kind === 'rt')!;
  t.deepEqual([rt.from, rt.to, rt.key], [1, 3, undefined]);
});

test('list-append G1c-realtime: a read of an append invoked after the read completed', (t) => {
  const hist = h()
    .txn(1, [['r', 'x', [1]]])
    .txn(2, [['append', 'x', 1]]);
  t.true(check(hist, 'list-append').ok);
  const r = check(hist, 'list-append', 'strict-serializable');
  t.deepEqual(types(r), ['G1c-realtime']);
});

test('list-append G-single-realtime: a stale read', (t) => {
  const hist = h()
    .txn(1, [['append', 'x', 1]])
    .txn(2, [['r', 'x', []]])
    .txn(3, [['r', 'x', [1]]]);
  t.true(check(hist, 'list-append').ok, 'serializable: T2 may come first');
  const r = check(hist, 'list-append', 'strict-serializable');
  t.deepEqual(types(r), ['G-single-realtime']);
  t.deepEqual(r.anomalies[0]!.cycle!.map((e) => e.kind).sort(), ['rt', 'rw']);
});

test('list-append G2-realtime: two anti-dependencies and a real-time edge', (t) => {
  const hist = h()
    .invoke(1, [['append', 'x', 1]])
    .invoke(2, [
      ['r', 'x', []],
      ['append', 'y', 1],
    ])
    .complete(1, 'ok', [['append', 'x', 1]])
    .invoke(3, [['r', 'y', []]])
    .complete(2, 'ok', [
      ['r', 'x', []],
      ['append', 'y', 1],
    ])
    .complete(3, 'ok', [['r', 'y', []]])
    .txn(4, [
      ['r', 'x', [1]],
      ['r', 'y', [1]],
    ]);
  t.true(check(hist, 'list-append').ok);
  const r = check(hist, 'list-append', 'strict-serializable');
  t.deepEqual(types(r), ['G2-realtime']);
  t.deepEqual(r.anomalies[0]!.cycle!.map((e) => e.kind).sort(), ['rt', 'rw', 'rw']);
});

test('list-append clean: concurrent, indeterminate and failed transactions', (t) => {
  const hist = h()
    .invoke(1, [['append', 'x', 1]])
    .invoke(2, [
      ['r', 'x', [1]],
      ['append', 'y', 1],
    ])
    .complete(2, 'ok', [
      ['r', 'x', [1]],
      ['append', 'y', 1],
    ])
    .complete(1, 'info', [['append', 'x', 1]]) // may have happened: it explains the read
    .txn(3, [['append', 'x', 2]], 'info') // may not have happened: never read, no obligation
    .txn(4, [['append', 'z', 1]], 'fail')
    .txn(5, [
      ['r', 'x', [1]],
      ['r', 'y', [1]],
      ['r', 'z', []],
      ['append', 'z', 2],
      ['r', 'z', [2]],
    ])
    .invoke(6, [['append', 'y', 3]]); // never completes
  for (const consistency of ['serializable', 'strict-serializable'] as const) {
    const r = check(hist, 'list-append', consistency);
    t.true(r.ok, JSON.stringify(r.anomalies));
    t.deepEqual(r.stats, { transactions: 6, committed: 2, failed: 1, indeterminate: 3, keys: 3, edges: r.stats!.edges, components: 0 });
  }
});

// --- rw-register ---------------------------------------------------------------------------

test("rw-register G1c: each transaction reads the other one's write", (t) => {
  const hist = h()
    .invoke(1, [
      ['w', 'x', 1],
      ['r', 'y', 1],
    ])
    .invoke(2, [
      ['w', 'y', 1],
      ['r', 'x', 1],
    ])
    .complete(1, 'ok', [
      ['w', 'x', 1],
      ['r', 'y', 1],
    ])
    .complete(2, 'ok', [
      ['w', 'y', 1],
      ['r', 'x', 1],
    ]);
  t.deepEqual(types(check(hist, 'rw-register')), ['G1c']);
});

test('rw-register G-single: a read of the initial state beside a read of the same writer', (t) => {
  const hist = h()
    .invoke(1, [
      ['r', 'x', null],
      ['r', 'y', 1],
    ])
    .txn(2, [
      ['w', 'x', 1],
      ['w', 'y', 1],
    ])
    .complete(1, 'ok', [
      ['r', 'x', null],
      ['r', 'y', 1],
    ]);
  const r = check(hist, 'rw-register');
  t.deepEqual(types(r), ['G-single']);
  t.deepEqual(r.anomalies[0]!.cycle!.map((e) => e.kind).sort(), ['rw', 'wr']);
});

test('rw-register G2: write skew', (t) => {
  const hist = h()
    .invoke(1, [
      ['r', 'x', null],
      ['w', 'y', 1],
    ])
    .invoke(2, [
      ['r', 'y', null],
      ['w', 'x', 1],
    ])
    .complete(1, 'ok', [
      ['r', 'x', null],
      ['w', 'y', 1],
    ])
    .complete(2, 'ok', [
      ['r', 'y', null],
      ['w', 'x', 1],
    ]);
  t.deepEqual(types(check(hist, 'rw-register')), ['G2']);
});

test('rw-register G-single from read-then-write version order', (t) => {
  // T2 read x=1 and wrote 2, so 1 < 2; T3 read T2's z but still x=1.
  const hist = h()
    .txn(1, [['w', 'x', 1]])
    .txn(2, [
      ['r', 'x', 1],
      ['w', 'x', 2],
      ['w', 'z', 7],
    ])
    .txn(3, [
      ['r', 'x', 1],
      ['r', 'z', 7],
    ]);
  const r = check(hist, 'rw-register');
  t.deepEqual(types(r), ['G-single']);
  t.deepEqual(r.anomalies[0]!.cycle!.map((e) => `${e.kind} ${String(e.key)}`).sort(), ['rw x', 'wr z']);
});

test('rw-register G1a, G1b, internal, garbage-read', (t) => {
  t.deepEqual(
    types(
      check(
        h()
          .txn(1, [['w', 'x', 1]], 'fail')
          .txn(2, [['r', 'x', 1]]),
        'rw-register',
      ),
    ),
    ['G1a'],
  );
  t.deepEqual(
    types(
      check(
        h()
          .txn(1, [
            ['w', 'x', 1],
            ['w', 'x', 2],
          ])
          .txn(2, [['r', 'x', 1]]),
        'rw-register',
      ),
    ),
    ['G1b'],
  );
  t.deepEqual(
    types(
      check(
        h().txn(1, [
          ['w', 'x', 1],
          ['r', 'x', null],
        ]),
        'rw-register',
      ),
    ),
    ['internal'],
  );
  t.deepEqual(types(check(h().txn(1, [['r', 'x', 9]]), 'rw-register')), ['garbage-read']);
});

test('rw-register G-single-realtime: a stale read of the initial state', (t) => {
  const hist = h()
    .txn(1, [['w', 'x', 1]])
    .txn(2, [['r', 'x', null]]);
  t.true(check(hist, 'rw-register').ok);
  t.deepEqual(types(check(hist, 'rw-register', 'strict-serializable')), ['G-single-realtime']);
});

test('rw-register G-single-realtime: a stale read after two blind writes, ordered by real time', (t) => {
  const hist = h()
    .txn(1, [['w', 'x', 1]])
    .txn(2, [['w', 'x', 2]])
    .txn(3, [['r', 'x', 1]]);
  t.true(check(hist, 'rw-register').ok, 'serializable: T3 may come before T2');
  const r = check(hist, 'rw-register', 'strict-serializable');
  t.deepEqual(types(r), ['G-single-realtime']);
  const rw = r.anomalies[0]!.cycle!.find((e) => e.kind === 'rw')!;
  t.deepEqual([rw.from, rw.to, rw.key], [5, 3, 'x']);
  // Concurrent writers are not ordered: T3 may read either.
  const concurrent = h()
    .invoke(1, [['w', 'x', 1]])
    .invoke(2, [['w', 'x', 2]])
    .complete(1, 'ok', [['w', 'x', 1]])
    .complete(2, 'ok', [['w', 'x', 2]])
    .txn(3, [['r', 'x', 1]]);
  t.true(check(concurrent, 'rw-register', 'strict-serializable').ok);
});

test('rw-register clean: reads of the latest write, an info write read, a failed write never read', (t) => {
  const hist = h()
    .txn(1, [
      ['r', 'x', null],
      ['w', 'x', 1],
    ])
    .txn(2, [
      ['r', 'x', 1],
      ['w', 'x', 2],
      ['r', 'x', 2],
    ])
    .txn(3, [['w', 'y', 1]], 'info')
    .txn(4, [['w', 'x', 3]], 'fail')
    .txn(5, [
      ['r', 'x', 2],
      ['r', 'y', 1],
    ]);
  for (const consistency of ['serializable', 'strict-serializable'] as const) {
    const r = check(hist, 'rw-register', consistency);
    t.true(r.ok, JSON.stringify(r.anomalies));
  }
});

// --- consistency levels ----------------------------------------------------------------------

/**
 * Long fork, all four concurrent: T1 reads y after T4's append but x before T2's, T3 the other
 * way round. Two rw edges, not next to each other: G-nonadjacent, which snapshot isolation
 * proscribes though it allows write skew.
 */
function longFork(): HistoryBuilder {
  const t1: MicroOp[] = [
    ['r', 'x', []],
    ['r', 'y', [1]],
  ];
  const t3: MicroOp[] = [
    ['r', 'x', [1]],
    ['r', 'y', []],
  ];
  return h()
    .invoke(1, t1)
    .invoke(2, [['append', 'x', 1]])
    .invoke(3, t3)
    .invoke(4, [['append', 'y', 1]])
    .complete(2, 'ok', [['append', 'x', 1]])
    .complete(4, 'ok', [['append', 'y', 1]])
    .complete(1, 'ok', t1)
    .complete(3, 'ok', t3);
}

test('long fork: G-nonadjacent at snapshot isolation (rw, wr, rw, wr round the cycle), G2 at serializable, nothing at read-committed', (t) => {
  const si = check(longFork(), 'list-append', 'snapshot-isolation');
  t.deepEqual(types(si), ['G-nonadjacent']);
  t.deepEqual(
    si.anomalies[0]!.cycle!.map((e) => e.kind),
    ['rw', 'wr', 'rw', 'wr'],
  );
  t.regex(si.anomalies[0]!.explanation, /^transactions named T<index>; /);
  t.deepEqual(types(check(longFork(), 'list-append', 'serializable')), ['G2']);
  t.true(check(longFork(), 'list-append', 'read-committed').ok);
  // Write skew's two rw edges are next to each other: snapshot isolation allows it.
  t.true(check(writeSkew(), 'list-append', 'snapshot-isolation').ok);
});

test('each consistency level reports the phenomena it proscribes and passes the ones it allows, weakest first', (t) => {
  const levels = ['read-uncommitted', 'read-committed', 'snapshot-isolation', 'serializable', 'strict-serializable'] as const;
  // Each history and the weakest level that fails it (every stronger one fails it too).
  const cases: Array<[string, HistoryBuilder, (typeof levels)[number] | 'none']> = [
    ['G0 (appends to x and y in opposite orders)', oppositeOrders(), 'read-uncommitted'],
    [
      'G1a (a read of a failed append)',
      h()
        .txn(1, [['append', 'x', 1]], 'fail')
        .txn(2, [['r', 'x', [1]]]),
      'read-committed',
    ],
    ['G1c (each reads the other one, concurrent)', circularReads(), 'read-committed'],
    ['G-single (read skew)', readSkew(), 'snapshot-isolation'],
    ['G2 (write skew)', writeSkew(), 'serializable'],
    ['G-nonadjacent (long fork)', longFork(), 'snapshot-isolation'],
    [
      'G-single-realtime (a stale read after the append completed)',
      h()
        .txn(1, [['append', 'x', 1]])
        .txn(2, [['r', 'x', []]])
        .txn(3, [['r', 'x', [1]]]),
      'strict-serializable',
    ],
    ['lost-update (two transactions read [0] and append)', readThenAppend('ok', [0]), 'snapshot-isolation'],
    [
      'duplicate-elements (a read holds an element twice)',
      h()
        .txn(1, [['append', 'x', 1]])
        .txn(2, [['r', 'x', [1, 1]]]),
      'read-uncommitted',
    ],
    [
      'nothing (reads of what committed before them)',
      h()
        .txn(1, [['append', 'x', 1]])
        .txn(2, [['r', 'x', [1]]]),
      'none',
    ],
  ];
  for (const [name, hist, weakest] of cases) {
    const fails = levels.map((c) => !check(hist, 'list-append', c).ok);
    const expected = levels.map((_, i) => weakest !== 'none' && i >= levels.indexOf(weakest));
    t.deepEqual(fails, expected, `${name}: fails at ${levels.filter((_, i) => fails[i]).join(', ') || 'no level'}`);
  }
  // What a level reports is what it proscribes: G2 and G-single together, read at each level.
  const both = readSkew(writeSkew(), 'a', 'b', 4);
  t.deepEqual(types(check(both, 'list-append', 'serializable')), ['G-single', 'G2']);
  t.deepEqual(types(check(both, 'list-append', 'snapshot-isolation')), ['G-single']);
  t.deepEqual(types(check(both, 'list-append', 'read-committed')), []);
});

/** Both read [0] and append to x, concurrently; the second completes as `second`, having read `read2`. */
function readThenAppend(second: 'ok' | 'info', read2: number[]): HistoryBuilder {
  return h()
    .txn(1, [['append', 'x', 0]])
    .invoke(2, [
      ['r', 'x', null],
      ['append', 'x', 1],
    ])
    .invoke(3, [
      ['r', 'x', null],
      ['append', 'x', 2],
    ])
    .complete(2, 'ok', [
      ['r', 'x', [0]],
      ['append', 'x', 1],
    ])
    .complete(3, second, [
      ['r', 'x', read2],
      ['append', 'x', 2],
    ]);
}

test('lost update: committed transactions that read one version of a key and then wrote it, in both models; not when one did not commit, read another version or only read', (t) => {
  // list-append: both read [0] and append; the second to commit went over a stale version.
  const r = check(readThenAppend('ok', [0]), 'list-append', 'snapshot-isolation');
  t.deepEqual(types(r), ['lost-update']);
  t.deepEqual(
    r.anomalies[0]!.ops.map((o) => o.index),
    [4, 5],
  );
  t.regex(r.anomalies[0]!.explanation, /^the transactions at index 4, 5 each read a list ending in 0 from key "x" and then wrote the key/);
  t.true(check(readThenAppend('ok', [0]), 'list-append', 'read-committed').ok, 'read committed allows a lost update');
  t.true(check(readThenAppend('info', [0]), 'list-append', 'snapshot-isolation').ok, 'a transaction of unknown outcome may not have committed');
  t.true(check(readThenAppend('ok', [0, 1]), 'list-append', 'strict-serializable').ok, 'the second read the first one: no update lost');
  const readOnly = h()
    .txn(1, [['append', 'x', 0]])
    .txn(2, [['r', 'x', [0]]])
    .txn(3, [
      ['r', 'x', [0]],
      ['append', 'x', 1],
    ]);
  t.true(check(readOnly, 'list-append', 'snapshot-isolation').ok, 'one writer among the readers of [0]');
  // rw-register: both read the initial state (null), or both read 1, and then wrote.
  const initial = h()
    .txn(1, [
      ['r', 'x', null],
      ['w', 'x', 1],
    ])
    .txn(2, [
      ['r', 'x', null],
      ['w', 'x', 2],
    ]);
  const ri = check(initial, 'rw-register', 'snapshot-isolation');
  t.deepEqual(types(ri), ['lost-update']);
  t.regex(ri.anomalies[0]!.explanation, /each read null from key "x"/);
  const one = h()
    .txn(1, [['w', 'x', 1]])
    .txn(2, [
      ['r', 'x', 1],
      ['w', 'x', 2],
    ])
    .txn(3, [
      ['r', 'x', 1],
      ['w', 'x', 3],
    ]);
  t.deepEqual(types(check(one, 'rw-register', 'snapshot-isolation')), ['lost-update']);
  t.deepEqual(types(check(one, 'rw-register', 'serializable')), ['G2', 'lost-update']);
  const chained = h()
    .txn(1, [['w', 'x', 1]])
    .txn(2, [
      ['r', 'x', 1],
      ['w', 'x', 2],
    ])
    .txn(3, [
      ['r', 'x', 2],
      ['w', 'x', 3],
    ]);
  t.true(check(chained, 'rw-register', 'strict-serializable').ok, 'each read the one before it: no update lost');
});

// --- session and real-time orders ----------------------------------------------------------

/**
 * A stale read within a session: process 1 appends 1 then 2 to x; process 2 reads [1 2], then,
 * in its next transaction, [1]. Serializable (the second read first), but not in process 2's
 * order. `between` goes between process 2's reads (its transactions that did not commit).
 */
function staleSession(between: (b: HistoryBuilder) => HistoryBuilder = (b) => b): HistoryBuilder {
  return between(
    h()
      .txn(1, [['append', 'x', 1]])
      .txn(1, [['append', 'x', 2]])
      .txn(2, [['r', 'x', [1, 2]]]),
  ).txn(2, [['r', 'x', [1]]]);
}

test('a stale read within a session: G-single-process at the strong-session levels, G-single-realtime where real time holds, nothing at serializable and snapshot isolation; both models, and the pool agrees', async (t) => {
  const hist = staleSession();
  for (const c of ['serializable', 'snapshot-isolation'] as const) t.true(check(hist, 'list-append', c).ok, c);
  for (const c of ['strong-session-serializable', 'strong-session-snapshot-isolation'] as const) {
    const r = check(hist, 'list-append', c);
    t.deepEqual(types(r), ['G-single-process'], c);
    t.deepEqual(r.anomalies[0]!.cycle, [
      { from: 7, to: 3, kind: 'rw', key: 'x' },
      { from: 3, to: 5, kind: 'wr', key: 'x' },
      { from: 5, to: 7, kind: 'process', process: 2 },
    ]);
    t.regex(
      r.anomalies[0]!.explanation,
      /T5 < T7 \(process\): process 2 ran T5, then T7; a cycle, so no order of these transactions that keeps each process's own explains/,
    );
    const pooled = await checkTransactionsParallel(hist.ops, { model: 'list-append', consistency: c, inline: false, workers: 2 });
    t.deepEqual(pooled, r, `${c}: the pool`);
  }
  // Real time holds each process's order: there the same cycle has an rt edge.
  for (const c of ['strict-serializable', 'strong-snapshot-isolation'] as const) t.deepEqual(types(check(hist, 'list-append', c)), ['G-single-realtime'], c);
  // What did not commit is not in the process's order, which goes round it (as Elle's process graph).
  const around = staleSession((b) => b.txn(2, [['append', 'y', 1]], 'info').txn(2, [['append', 'y', 2]], 'fail'));
  const r = check(around, 'list-append', 'strong-session-serializable');
  t.deepEqual(types(r), ['G-single-process']);
  t.deepEqual(
    r.anomalies[0]!.cycle!.find((e) => e.kind === 'process'),
    { from: 5, to: 11, kind: 'process', process: 2 },
  );
  // rw-register: process 1 writes 1, then reads it and writes 2; process 2 reads 2, then 1.
  const reg = h()
    .txn(1, [['w', 'x', 1]])
    .txn(1, [
      ['r', 'x', 1],
      ['w', 'x', 2],
    ])
    .txn(2, [['r', 'x', 2]])
    .txn(2, [['r', 'x', 1]]);
  for (const c of ['serializable', 'snapshot-isolation'] as const) t.true(check(reg, 'rw-register', c).ok, c);
  for (const c of ['strong-session-serializable', 'strong-session-snapshot-isolation'] as const)
    t.deepEqual(types(check(reg, 'rw-register', c)), ['G-single-process'], c);
  t.deepEqual(types(check(reg, 'rw-register', 'strict-serializable')), ['G-single-realtime']);
});

test('real time violated, each session consistent: passes the strong-session levels, fails strong snapshot isolation and strict serializability', (t) => {
  // Process 2 reads x empty after process 1's append completed; process 3 then reads [1].
  const hist = h()
    .txn(1, [['append', 'x', 1]])
    .txn(2, [['r', 'x', []]])
    .txn(3, [['r', 'x', [1]]]);
  for (const c of ['serializable', 'strong-session-serializable', 'strong-session-snapshot-isolation'] as const) t.true(check(hist, 'list-append', c).ok, c);
  for (const c of ['strict-serializable', 'strong-snapshot-isolation'] as const) {
    const r = check(hist, 'list-append', c);
    t.deepEqual(types(r), ['G-single-realtime'], c);
    t.deepEqual(r.anomalies[0]!.cycle!.map((e) => e.kind).sort(), ['rt', 'rw']);
  }
  const reg = h()
    .txn(1, [['w', 'x', 1]])
    .txn(2, [['r', 'x', null]]);
  t.true(check(reg, 'rw-register', 'strong-session-serializable').ok);
  t.deepEqual(types(check(reg, 'rw-register', 'strong-snapshot-isolation')), ['G-single-realtime']);
  // Real time orders rw-register's blind writes at strong snapshot isolation too: 1 completed
  // before 2 was invoked, so a later read of 1 missed 2. At the strong-session levels process
  // 1's order puts 1 before 2 as well, but process 2 may read before 2 in its own session.
  const blind = h()
    .txn(1, [['w', 'x', 1]])
    .txn(1, [['w', 'x', 2]])
    .txn(2, [['r', 'x', 1]]);
  t.deepEqual(types(check(blind, 'rw-register', 'strong-snapshot-isolation')), ['G-single-realtime']);
  t.true(check(blind, 'rw-register', 'strong-session-serializable').ok);
});

test("rw-register at the levels with a process order: what a process last read or wrote of a key comes before what its next transaction writes there, so a read older than the process's own is caught", (t) => {
  // Process 1 writes 1, then (blind) 2, then reads 1: a version older than its own last write.
  // With no order between the two blind writes the read has no rw edge and nothing is found.
  const own = h()
    .txn(1, [['w', 'x', 1]])
    .txn(1, [['w', 'x', 2]])
    .txn(1, [['r', 'x', 1]]);
  t.true(check(own, 'rw-register', 'serializable').ok);
  for (const c of ['strong-session-serializable', 'strong-session-snapshot-isolation'] as const) {
    const r = check(own, 'rw-register', c);
    t.deepEqual(types(r), ['G-single-process'], c);
    t.true(
      r.anomalies[0]!.cycle!.some((e) => e.kind === 'rw'),
      c,
    );
  }
  t.deepEqual(types(check(own, 'rw-register', 'strict-serializable')), ['G-single-realtime']);
  // What a process read: process 2 reads 1 and next writes 3 (so 1 < 3); process 3 reads 3,
  // then 1, older than what its session saw.
  const read = h()
    .txn(1, [['w', 'x', 1]])
    .txn(2, [['r', 'x', 1]])
    .txn(2, [['w', 'x', 3]])
    .txn(3, [['r', 'x', 3]])
    .txn(3, [['r', 'x', 1]]);
  t.true(check(read, 'rw-register', 'serializable').ok);
  t.deepEqual(types(check(read, 'rw-register', 'strong-session-serializable')), ['G-single-process']);
  // A transaction that did not commit is not in its process's order: a failed write of 3 orders nothing.
  const failed = h()
    .txn(1, [['w', 'x', 1]])
    .txn(2, [['r', 'x', 1]])
    .txn(2, [['w', 'x', 3]], 'fail')
    .txn(3, [['r', 'x', 1]]);
  t.true(check(failed, 'rw-register', 'strong-session-serializable').ok);
});

/** G1c-process: process 1 reads x [1] and appends to y; process 2 reads y [1], then appends 1 to x. */
function wrProcess(): HistoryBuilder {
  return h()
    .txn(1, [
      ['r', 'x', [1]],
      ['append', 'y', 1],
    ])
    .txn(2, [['r', 'y', [1]]])
    .txn(2, [['append', 'x', 1]]);
}

/** G2-process, adjacent rw edges: process 1 appends to x, then reads y empty; process 2 reads x empty and appends to y. */
function writeSkewProcess(): HistoryBuilder {
  return h()
    .txn(1, [['append', 'x', 1]])
    .txn(1, [['r', 'y', []]])
    .txn(2, [
      ['r', 'x', []],
      ['append', 'y', 1],
    ]);
}

/**
 * G-nonadjacent-process: process 0 reads x empty and z [1], concurrent with the rest; process 1
 * appends to x, then reads z empty; process 2 appends to z. rw, process, rw, wr round the cycle.
 */
function nonadjacentProcess(): HistoryBuilder {
  const t0: MicroOp[] = [
    ['r', 'x', []],
    ['r', 'z', [1]],
  ];
  return h()
    .invoke(0, t0)
    .txn(1, [['append', 'x', 1]])
    .txn(1, [['r', 'z', []]])
    .txn(2, [['append', 'z', 1]])
    .complete(0, 'ok', t0);
}

test('G1c-process, G2-process and G-nonadjacent-process: strong session snapshot isolation proscribes the first and the last, strong session serializability all three', (t) => {
  t.true(check(wrProcess(), 'list-append', 'serializable').ok);
  for (const c of ['strong-session-snapshot-isolation', 'strong-session-serializable'] as const)
    t.deepEqual(types(check(wrProcess(), 'list-append', c)), ['G1c-process'], c);
  t.deepEqual(types(check(wrProcess(), 'list-append', 'strict-serializable')), ['G1c-realtime']);

  t.true(check(writeSkewProcess(), 'list-append', 'serializable').ok);
  t.true(check(writeSkewProcess(), 'list-append', 'strong-session-snapshot-isolation').ok, 'write skew, a process edge in its cycle');
  const g2 = check(writeSkewProcess(), 'list-append', 'strong-session-serializable');
  t.deepEqual(types(g2), ['G2-process']);
  t.deepEqual(g2.anomalies[0]!.cycle!.map((e) => e.kind).sort(), ['process', 'rw', 'rw']);

  t.true(check(nonadjacentProcess(), 'list-append', 'snapshot-isolation').ok);
  const na = check(nonadjacentProcess(), 'list-append', 'strong-session-snapshot-isolation');
  t.deepEqual(types(na), ['G-nonadjacent-process']);
  t.deepEqual(na.anomalies[0]!.cycle!.map((e) => e.kind).sort(), ['process', 'rw', 'rw', 'wr']);
  t.regex(na.anomalies[0]!.explanation, /^transactions named T<index>; .*\(process\): process/);
  t.deepEqual(types(check(nonadjacentProcess(), 'list-append', 'strong-session-serializable')), ['G2-process']);
  // In real time process 2's append also follows process 1's first transaction: a G-single-realtime besides.
  t.deepEqual(types(check(nonadjacentProcess(), 'list-append', 'strong-snapshot-isolation')), ['G-nonadjacent-realtime', 'G-single-realtime']);
  t.deepEqual(types(check(nonadjacentProcess(), 'list-append', 'strict-serializable')), ['G-single-realtime', 'G2-realtime']);
});

test('all eight levels: each history fails exactly at the levels that proscribe what it holds', (t) => {
  const all = TXN_CONSISTENCIES;
  t.is(all.length, 8);
  const above = (...weakest: TxnConsistency[]): string[] => all.filter((l) => !weakest.includes(l));
  const siUp = above('read-uncommitted', 'read-committed');
  const cases: Array<[string, HistoryBuilder, readonly string[]]> = [
    ['G0', oppositeOrders(), all],
    ['G1c', circularReads(), above('read-uncommitted')],
    ['G-single (read skew)', readSkew(), siUp],
    ['G-nonadjacent (long fork)', longFork(), siUp],
    ['lost-update', readThenAppend('ok', [0]), siUp],
    ['G2 (write skew)', writeSkew(), ['serializable', 'strong-session-serializable', 'strict-serializable']],
    [
      'G-single-process (a stale read within a session)',
      staleSession(),
      ['strong-session-snapshot-isolation', 'strong-snapshot-isolation', 'strong-session-serializable', 'strict-serializable'],
    ],
    ['G1c-process', wrProcess(), ['strong-session-snapshot-isolation', 'strong-snapshot-isolation', 'strong-session-serializable', 'strict-serializable']],
    [
      'G-nonadjacent-process',
      nonadjacentProcess(),
      ['strong-session-snapshot-isolation', 'strong-snapshot-isolation', 'strong-session-serializable', 'strict-serializable'],
    ],
    // Its real time also makes process 2's read of x a stale one (G-single-realtime).
    ['G2-process', writeSkewProcess(), ['strong-snapshot-isolation', 'strong-session-serializable', 'strict-serializable']],
    [
      'G-single-realtime (sessions consistent)',
      h()
        .txn(1, [['append', 'x', 1]])
        .txn(2, [['r', 'x', []]])
        .txn(3, [['r', 'x', [1]]]),
      ['strong-snapshot-isolation', 'strict-serializable'],
    ],
    [
      'nothing',
      h()
        .txn(1, [['append', 'x', 1]])
        .txn(1, [['r', 'x', [1]]])
        .txn(2, [['r', 'x', [1]]]),
      [],
    ],
  ];
  for (const [name, hist, failing] of cases) {
    const fails = all.filter((c) => !check(hist, 'list-append', c).ok);
    t.deepEqual(
      fails,
      all.filter((c) => failing.includes(c)),
      `${name}: fails at ${fails.join(', ') || 'no level'}`,
    );
  }
});
