import test from 'ava';
import { ValidationError } from '../src/core/errors.js';
import { checkTransactions, checkTransactionsParallel } from '../src/harness/elle/index.js';
import { writeSkew } from './helpers/elle-history.js';

/**
 * A cycle search that runs out of its budget has not shown the history free of what it looks
 * for: the result is undecided (not ok, no anomaly), never a pass. Write skew (T1 reads x empty
 * and appends y, T2 reads y empty and appends x: two rw edges, G2) is allowed at snapshot
 * isolation, which proscribes G-single and G-nonadjacent: with the default budget their
 * searches try both rw anchors and find no cycle (ok); with a budget of one edge they stop after
 * the first.
 */

test('write skew at snapshot isolation: ok with the default search budget, undecided (not ok, no anomaly) when the G-single search runs out', async (t) => {
  const full = checkTransactions(writeSkew, { model: 'list-append', consistency: 'snapshot-isolation' });
  t.true(full.ok);
  t.is(full.undecided, undefined);
  const cut = checkTransactions(writeSkew, { model: 'list-append', consistency: 'snapshot-isolation', searchBudget: 1 });
  t.false(cut.ok, 'a search out of budget is not a pass');
  t.deepEqual(cut.anomalies, [], 'nor a catch');
  // The G-nonadjacent search (snapshot isolation proscribes it) stopped too.
  t.deepEqual(cut.undecided, ['G-single', 'G-nonadjacent']);
  const parallel = await checkTransactionsParallel(writeSkew, {
    model: 'list-append',
    consistency: 'snapshot-isolation',
    searchBudget: 1,
    inline: false,
    workers: 2,
  });
  t.deepEqual([parallel.ok, parallel.undecided], [false, ['G-single', 'G-nonadjacent']], 'the pool gives the same');
  // At serializable the G2 search finds the cycle: a failure, whatever else ran out.
  const ser = checkTransactions(writeSkew, { model: 'list-append', consistency: 'serializable', searchBudget: 1 });
  t.false(ser.ok);
  t.deepEqual(
    ser.anomalies.map((a) => a.type),
    ['G2'],
  );
  t.is(ser.undecided, undefined, 'undecided only when nothing was found');
});

test('searchBudget: a positive integer, the field named', (t) => {
  for (const bad of [0, -1, 1.5, Number.NaN, '10', null]) {
    const e = t.throws(() => checkTransactions(writeSkew, { model: 'list-append', searchBudget: bad as number }), { instanceOf: ValidationError });
    t.regex(e.message, /options\.searchBudget: expected a positive integer/, String(bad));
  }
});
