import test from 'ava';
import { ValidationError } from '../src/core/errors.js';
import { parseElleEdn } from '../src/harness/elle/edn.js';

function failure(text: string): string {
  try {
    parseElleEdn(text);
  } catch (error) {
    if (error instanceof ValidationError) return error.message;
    throw error;
  }
  return '(no error)';
}

test('the reader: discards anywhere, the last form of a collection and of the file included; comments, tags, sets, strings', (t) => {
  const ops = parseElleEdn(
    [
      '#_ {:type :invoke, :f :txn, :value [[:r 1 nil]], :process 9}',
      '{:type :invoke, :f :txn, :value [[:append 1 2] #_ [:r 1 nil]], :process 0, :index 0 #_ :time #_ 12}',
      '{:type :ok, :f :txn, :value [[:append 1 2]], :process 0, :index 1, :time #inst "2026-12-05", :tags #{:a :b}} ; done',
      '{:type :invoke, :f :txn, :value [[:r "a \\"b\\"" nil]], :process 1, :index 2 #_#_ :x :y}',
      '#_ ()',
    ].join('\n'),
  );
  t.deepEqual(
    ops.map((o) => [o.index, o.type, o.process, o.value]),
    [
      [0, 'invoke', 0, [['append', 1, 2]]],
      [1, 'ok', 0, [['append', 1, 2]]],
      [2, 'invoke', 1, [['r', 'a "b"', null]]],
    ],
  );
});

test('the reader: malformed input names the line and what is wrong', (t) => {
  t.regex(failure('{:type :invoke\n :f :txn #_}'), /line 2: unexpected \} \(EDN\)/);
  t.regex(failure('[{:type :invoke, :f :txn, :value [], :process 0} #_'), /unexpected end of input/);
  t.regex(failure('{:type :invoke, :f}'), /a map with an odd number of forms/);
  t.regex(failure('{:type :invoke, :f :txn, :value [[:r 1 nil]], :process 0'), /missing \}/);
});

test("Jepsen's :time (nanoseconds) is kept as time in ms; an operation without one has none", (t) => {
  const ops = parseElleEdn(
    '{:type :invoke, :f :txn, :value [[:append 1 2]], :process 0, :time 12500000, :index 0}\n{:type :ok, :f :txn, :value [[:append 1 2]], :process 0, :index 1}',
  );
  t.is(ops[0]!.time, 12.5);
  t.false('time' in ops[1]!);
});

test("strings: a tab or a line break inside is itself; EDN's escapes are read, one it does not have names the line", (t) => {
  const ops = parseElleEdn('{:type :invoke, :f :txn, :value [[:append "a\tb\nc" "\\t\\u0041\\101\\\\"]], :process 0, :index 0}');
  t.deepEqual(ops[0]!.value, [['append', 'a\tb\nc', '\tAA\\']]);
  t.regex(failure('\n{:type :invoke, :f :txn, :value [[:append "a\\qb" 1]], :process 0}'), /line 2: a string with an escape EDN does not have: \\q \(EDN\)/);
});

test('indexes: each its own; operations without one are numbered on from the largest given', (t) => {
  const ops = parseElleEdn(
    [
      '{:type :invoke, :f :txn, :value [[:append 1 2]], :process 0}',
      '{:type :info, :f :kill, :value nil, :process :nemesis, :index 9}',
      '{:type :ok, :f :txn, :value [[:append 1 2]], :process 0, :index 4}',
      '{:type :invoke, :f :txn, :value [[:append 1 3]], :process 1}',
    ].join('\n'),
  );
  t.deepEqual(
    ops.map((o) => o.index),
    [5, 4, 6],
  );
  t.deepEqual(
    parseElleEdn('{:type :invoke, :f :txn, :value [], :process 0}\n{:type :ok, :f :txn, :value [], :process 0}').map((o) => o.index),
    [0, 1],
  );
  t.regex(failure('{:type :invoke, :f :txn, :value [], :process 0, :index 1.5}'), /line 1 :index: expected an integer >= 0, or none, got 1\.5/);
});
