import test from 'ava';
import { ValidationError } from '../src/core/errors.js';
import { checkTransactions, checkTransactionsParallel, type ElleOp } from '../src/harness/elle/index.js';
import { h } from './helpers/elle-history.js';
import { validateTransactions } from '../src/harness/elle/history.js';

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  return '(no error)';
}

const LA = { model: 'list-append' } as const;

test('options: model and consistency are named', (t) => {
  const ok = h().txn(1, [['append', 'x', 1]]).ops;
  t.is(
    fieldOf(() => checkTransactions(ok, { model: 'set' } as never)),
    'options.model',
  );
  t.is(
    fieldOf(() => checkTransactions(ok, { model: 'list-append', consistency: 'linearizable' } as never)),
    'options.consistency',
  );
  t.is(
    fieldOf(() => checkTransactions(ok, undefined as never)),
    'options',
  );
  t.regex(t.throws(() => checkTransactions(ok, { model: 'x' } as never))!.message, /list-append, rw-register/);
  // A misspelt option is named, not ignored; the parallel checker's own options only there.
  t.is(
    fieldOf(() => checkTransactions(ok, { model: 'list-append', consistancy: 'strict-serializable' } as never)),
    'options.consistancy',
  );
  t.is(
    fieldOf(() => checkTransactions(ok, { model: 'list-append', workers: 2 } as never)),
    'options.workers',
  );
});

test('options: a consistency level not known is refused before the history is read, naming every level', (t) => {
  const error = t.throws(() => checkTransactions('not a history' as never, { model: 'list-append', consistency: 'strong-serializable' } as never), {
    instanceOf: ValidationError,
  });
  t.is((error as ValidationError).field, 'options.consistency');
  t.regex(
    error!.message,
    /expected one of read-uncommitted, read-committed, snapshot-isolation, strong-session-snapshot-isolation, strong-snapshot-isolation, serializable, strong-session-serializable, strict-serializable, got "strong-serializable"/,
  );
  const ok = h().txn(1, [['append', 'x', 1]]).ops;
  for (const consistency of ['strong-session-snapshot-isolation', 'strong-snapshot-isolation', 'strong-session-serializable'] as const) {
    t.true(checkTransactions(ok, { model: 'list-append', consistency }).ok, consistency);
  }
});

test('options: the parallel checker names a misspelt option too', async (t) => {
  const ok = h().txn(1, [['append', 'x', 1]]).ops;
  const error = await t.throwsAsync(checkTransactionsParallel(ok, { model: 'list-append', worker: 2 } as never), { instanceOf: ValidationError });
  t.is((error as ValidationError).field, 'options.worker');
  t.true((await checkTransactionsParallel(ok, { model: 'list-append', workers: 2, inline: true })).ok);
});

test('history entries: the bad field is named by index', (t) => {
  const base = (): ElleOp[] =>
    h()
      .txn(1, [['append', 'x', 1]])
      .txn(2, [
        ['r', 'x', [1]],
        ['append', 'y', 2],
      ]).ops;
  const bad = (edit: (ops: ElleOp[]) => void): string => {
    const ops = base();
    edit(ops);
    return fieldOf(() => checkTransactions(ops, LA));
  };
  t.is(
    fieldOf(() => checkTransactions({} as never, LA)),
    'history',
  );
  t.is(
    bad((o) => ((o as unknown[])[2] = null)),
    'history[2]',
  );
  t.is(
    bad((o) => (o[1]!.index = -1)),
    'history[1].index',
  );
  t.is(
    bad((o) => (o[1]!.process = {} as never)),
    'history[1].process',
  );
  t.is(
    bad((o) => (o[3]!.type = 'done' as never)),
    'history[3].type',
  );
  t.is(
    bad((o) => (o[3]!.f = 'read' as never)),
    'history[3].f',
  );
  t.is(
    bad((o) => (o[3]!.time = '12' as never)),
    'history[3].time',
  );
  t.is(
    bad((o) => (o[2]!.time = Number.NaN)),
    'history[2].time',
  );
  t.is(
    bad((o) => (o[3]!.value = 'x' as never)),
    'history[3].value',
  );
  t.is(
    bad((o) => (o[3]!.value[1] = ['append', 'y'] as never)),
    'history[3].value[1]',
  );
  t.is(
    bad((o) => (o[3]!.value[1] = ['w', 'y', 2] as never)),
    'history[3].value[1][0]',
  );
  t.is(
    bad((o) => (o[3]!.value[1] = ['append', null, 2] as never)),
    'history[3].value[1][1]',
  );
  t.is(
    bad((o) => (o[3]!.value[1] = ['append', 'y', [2]] as never)),
    'history[3].value[1][2]',
  );
  t.is(
    bad((o) => (o[3]!.value[0] = ['r', 'x', 1] as never)),
    'history[3].value[0][2]',
  );
  t.is(
    bad((o) => (o[3]!.value[0] = ['r', 'x', [1, NaN]] as never)),
    'history[3].value[0][2][1]',
  );
  // rw-register reads a value, not a list, and has no appends.
  const reg = h()
    .txn(1, [['w', 'x', 1]])
    .txn(2, [['r', 'x', [1]]]).ops;
  t.is(
    fieldOf(() => checkTransactions(reg, { model: 'rw-register' })),
    'history[3].value[0][2]',
  );
  t.is(
    fieldOf(() => checkTransactions(base(), { model: 'rw-register' })),
    'history[0].value[0][0]',
  );
});

test('pairing: a completion needs an invocation, a process one invocation at a time', (t) => {
  const orphan = h().complete(1, 'ok', [['append', 'x', 1]]).ops;
  t.is(
    fieldOf(() => checkTransactions(orphan, LA)),
    'history[0].process',
  );
  const twice = h()
    .invoke(1, [['append', 'x', 1]])
    .invoke(1, [['append', 'x', 2]]).ops;
  t.is(
    fieldOf(() => checkTransactions(twice, LA)),
    'history[1].process',
  );
});

test('values must be unique per key: the second append of a value is named', (t) => {
  const ops = h()
    .txn(1, [['append', 'x', 1]])
    .txn(2, [
      ['append', 'y', 1],
      ['append', 'x', 1],
    ]).ops;
  const error = t.throws(() => checkTransactions(ops, LA), { instanceOf: ValidationError })!;
  t.is((error as ValidationError).field, 'history[3].value[1][2]');
  t.regex(error.message, /more than once/);
  const reg = h().txn(1, [
    ['w', 'x', 1],
    ['w', 'x', 1],
  ]).ops;
  t.is(
    fieldOf(() => checkTransactions(reg, { model: 'rw-register' })),
    'history[1].value[1][2]',
  );
});

test('the pool validates too, with the same fields, and its own options', async (t) => {
  const ops = h()
    .txn(1, [['append', 'x', 1]])
    .txn(2, [
      ['append', 'y', 1],
      ['append', 'x', 1],
    ]).ops;
  const error = await t.throwsAsync(checkTransactionsParallel(ops, { ...LA, inline: false }), { instanceOf: ValidationError });
  t.is((error as ValidationError).field, 'history[3].value[1][2]');
  await t.throwsAsync(checkTransactionsParallel(ops, { ...LA, workers: 0 }), { instanceOf: ValidationError, message: /options\.workers/ });
  await t.throwsAsync(checkTransactionsParallel(ops, { ...LA, inline: 'yes' as never }), { instanceOf: ValidationError, message: /options\.inline/ });
});

test('exported from the package entry point', async (t) => {
  const api = await import('../src/index.js');
  t.is(api.checkTransactions, checkTransactions);
  t.is(api.checkTransactionsParallel, checkTransactionsParallel);
});

test('indexes: two entries with the same one are refused, naming both (the anomalies name transactions by it)', (t) => {
  const ops = h()
    .txn(1, [['append', 'x', 1]])
    .txn(2, [['r', 'x', [1]]])
    .ops.map((o) => (o.index === 3 ? { ...o, index: 1 } : o));
  const error = t.throws(() => checkTransactions(ops, LA), { instanceOf: ValidationError })!;
  t.is(error.message, 'history[3].index: 1 again (history[1].index has it): each entry needs its own index');
});

test('validateTransactions refuses up front what checkTransactions stops on later, with the same field and message', (t) => {
  const histories: Array<[ElleOp[], 'list-append' | 'rw-register']> = [
    [h().complete(1, 'ok', [['append', 'x', 1]]).ops, 'list-append'],
    [
      h()
        .invoke(1, [['append', 'x', 1]])
        .invoke(1, [['append', 'x', 2]]).ops,
      'list-append',
    ],
    [
      h()
        .txn(1, [['append', 'x', 1]])
        .txn(2, [
          ['append', 'y', 1],
          ['append', 'x', 1],
        ]).ops,
      'list-append',
    ],
    [
      h().txn(1, [
        ['w', 'x', 1],
        ['w', 'x', 1],
      ]).ops,
      'rw-register',
    ],
  ];
  for (const [ops, model] of histories) {
    const later = t.throws(() => checkTransactions(ops, { model }), { instanceOf: ValidationError })!;
    const early = t.throws(() => validateTransactions(ops, model), { instanceOf: ValidationError })!;
    t.is(early.message, later.message);
  }
  t.notThrows(() => validateTransactions(h().txn(1, [['append', 'x', 1]]).ops, 'list-append'));
});

test("rw-register: a delete the cluster recorded (['w', k, null]) is refused saying it is a delete (found by an audit, session 55)", (t) => {
  const ops: ElleOp[] = [
    { index: 0, process: 0, type: 'invoke', f: 'txn', value: [['w', 'x', null as never]] },
    { index: 1, process: 0, type: 'ok', f: 'txn', value: [['w', 'x', null as never]] },
  ];
  t.throws(() => checkTransactions(ops, { model: 'rw-register' }), {
    instanceOf: ValidationError,
    message:
      /^history\[0\]\.value\[0\]\[2\]: expected a value \(a string or a finite number\), got null \(a delete: rw-register checks histories of puts, not deletes\)$/,
  });
});
