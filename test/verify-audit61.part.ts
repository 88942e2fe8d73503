import test from 'ava';
import { onFile } from './helpers/verify-cli.js';
import { checkHistory } from '../src/harness/linearizability.js';
import { historyFromJson, historyToJson } from '../src/cluster/history.js';
import { undecidedLine, undecidedWhy } from '../src/cli/format.js';
import { checkTransactions } from '../src/harness/elle/index.js';
import { ValidationError } from '../src/core/errors.js';
import type { History } from '../src/core/history.js';
import type { ElleOp } from '../src/harness/elle/types.js';

/**
 * `meridian verify` and the checkers on what an audit of session 61 fed them: unknown operations
 * with a completion time, transactions completed with other micro-ops than they invoked,
 * kv-edn and JSON errors that named no field or line.
 */

test('an unknown operation with a completeMs is refused, the field named (it was taken with the time ignored)', async (t) => {
  // The put of 1 answered nothing, yet carries a completion before the read of nothing: read as
  // unknown, the history passed.
  const history: History = [
    { id: 0, client: 'a', key: 'x', kind: 'put', input: 1, invokeMs: 0, outcome: 'unknown', completeMs: 1 },
    { id: 1, client: 'b', key: 'x', kind: 'get', input: undefined, invokeMs: 2, outcome: 'ok', completeMs: 3 },
  ];
  t.throws(() => checkHistory(history, 'register'), { message: /^history\[0\]\.completeMs: expected no completeMs for an unknown operation/ });
  const r = await onFile('unknown.json', JSON.stringify(history))(t);
  t.is(r.code, 2, r.stdout + r.stderr);
  t.regex(r.stderr, /history\[0\]\.completeMs: expected no completeMs for an unknown operation .*, got 1; an operation that answered is ok or fail\n/);
  // Without the time: checked, as before.
  const { completeMs: _, ...open } = history[0]!;
  t.is(checkHistory([open, history[1]!], 'register').verdict, 'linearizable');
});

test('a transaction completed with other micro-ops than it invoked is refused, the micro-op named', async (t) => {
  const invoke = (value: unknown[]): ElleOp => ({ index: 0, process: 0, type: 'invoke', f: 'txn', value }) as ElleOp;
  const ok = (value: unknown[]): ElleOp => ({ index: 1, process: 0, type: 'ok', f: 'txn', value }) as ElleOp;
  const cases: Array<[string, ElleOp[], RegExp]> = [
    [
      'another key',
      [invoke([['append', 'x', 1]]), ok([['append', 'y', 1]])],
      /^history\[1\]\.value\[0\]: expected the micro-op invoked \(history\[0\]\.value\[0\]: \["append","x",1\]\), got \["append","y",1\]$/,
    ],
    [
      'another value written',
      [invoke([['append', 'x', 1]]), ok([['append', 'x', 2]])],
      /^history\[1\]\.value\[0\]: expected the micro-op invoked .*got \["append","x",2\]$/,
    ],
    [
      'a micro-op more',
      [
        invoke([['append', 'x', 1]]),
        ok([
          ['append', 'x', 1],
          ['r', 'x', [1]],
        ]),
      ],
      /^history\[1\]\.value: expected the micro-op invoked \(history\[0\]\.value\), each read with its value, got 2$/,
    ],
    [
      'a read become an append',
      [invoke([['r', 'x', null]]), ok([['append', 'x', 1]])],
      /^history\[1\]\.value\[0\]: expected the micro-op invoked .*with the value read\), got/,
    ],
  ];
  for (const [what, history, message] of cases) {
    t.throws(() => checkTransactions(history, { model: 'list-append' }), { message }, what);
    const r = await onFile('txn.json', JSON.stringify(history))(t);
    t.is(r.code, 2, `${what}: ${r.stdout}${r.stderr}`);
  }
  // A read's value comes with the completion: taken.
  t.true(
    checkTransactions(
      [
        invoke([
          ['append', 'x', 1],
          ['r', 'x', null],
        ]),
        ok([
          ['append', 'x', 1],
          ['r', 'x', [1]],
        ]),
      ],
      { model: 'list-append' },
    ).ok,
  );
  // In EDN the line is named.
  const edn = '{:type :invoke, :f :txn, :value [[:append :x 1]], :process 0}\n{:type :ok, :f :txn, :value [[:append :y 1]], :process 0}\n';
  const r = await onFile('h.edn', edn, ['--format', 'elle-edn'])(t);
  t.is(r.code, 2, r.stdout + r.stderr);
  t.regex(r.stderr, /line 2 :value\[0\]: expected the micro-op invoked \(line 1 :value\[0\]: \["append",":x",1\]\)/);
});

test('kv-edn: a line with a field not as allowed names the line and the field (only the shape of a line was said)', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['{:process 0, :type :invoke, :f :frob, :key "3", :value nil}', /not kv-edn \(line 1 :f: expected :get, :put or :append, got :frob /],
    ['{:process 0, :type :invoke, :f :put, :key 3, :value "5"}', /not kv-edn \(line 1 :key: expected a string, got 3 /],
    ['{:process 0, :type :invoke, :f :put, :key "3"}', /not kv-edn \(line 1 :value: expected nil or a string, got none /],
    ['{:process p, :type :invoke, :f :put, :key "3", :value "5"}', /not kv-edn \(line 1 :process: expected an integer, got p /],
  ];
  for (const [line, message] of cases) {
    const r = await onFile('kv.txt', `\n${line}\n`.slice(1), ['--format', 'kv-edn'])(t);
    t.is(r.code, 2, r.stdout + r.stderr);
    t.regex(r.stderr, message, line);
  }
});

test('JSON: an error names the line and column; JSON lines are said not to be read; an unclosed EDN map names the line it opened on', async (t) => {
  const op = (id: number): string => JSON.stringify({ id, client: 'a', key: 'x', kind: 'put', input: id, invokeMs: id, outcome: 'ok', completeMs: id });
  const lines = await onFile('h.jsonl', `${op(0)}\n${op(1)}\n`)(t);
  t.is(lines.code, 2, lines.stdout + lines.stderr);
  t.regex(lines.stderr, /not JSON \(.* at position \d+: line 2, column 1\); it looks like JSON lines .*give one JSON array of the operations\n/);
  const broken = await onFile('h.json', `[\n${op(0)},\n${op(1)} x]`)(t);
  t.regex(broken.stderr, /: line 3, column \d+\)\n/);
  t.notRegex(broken.stderr, /JSON lines/);
  const edn = await onFile(
    'h.edn',
    '{:type :invoke, :f :txn, :value [[:append :x 1]], :process 0, :index 0}\n{:type :ok, :f :txn, :value [[:append :x 1]] :process 0, :index 1\n',
    ['--format', 'elle-edn'],
  )(t);
  t.is(edn.code, 2, edn.stdout + edn.stderr);
  t.regex(edn.stderr, /not elle-edn \(line 2: missing }: the { opened here is not closed \(EDN\)\)/);
});

test('a witness of one operation says "1 op"', async (t) => {
  const history: History = [{ id: 0, client: 'a', key: 'x', kind: 'get', input: undefined, invokeMs: 0, outcome: 'ok', completeMs: 1, output: 5 }];
  const r = await onFile('h.json', JSON.stringify(history))(t);
  t.is(r.code, 1, r.stdout + r.stderr);
  t.regex(r.stdout, /witness \(1 op, minimal\):/);
});

test('an undecided key is said stopped by steps (which --check-budget raises) or by the memory bound (which it does not): both were "ran out of budget"', (t) => {
  // Twelve concurrent writes, then reads of 3, 5 and 3: 50 steps cannot decide the key.
  const history: History = [];
  for (let i = 0; i < 12; i++) history.push({ id: i, client: `w${i}`, key: 'k', kind: 'put', input: i, invokeMs: 0, outcome: 'ok', completeMs: 10 });
  for (const [i, v] of [3, 5, 3].entries())
    history.push({ id: 12 + i, client: 'r', key: 'k', kind: 'get', input: undefined, invokeMs: 20 + 2 * i, outcome: 'ok', completeMs: 21 + 2 * i, output: v });
  const r = checkHistory(history, 'register', { stepsMax: 50 });
  t.deepEqual([r.verdict, r.timedOut, r.memoryBound], ['unknown', ['k'], []], 'out of steps, not memory');
  t.is(undecidedWhy(r.timedOut, r.memoryBound), 'the checker ran out of steps on k (--check-budget B gives it B times as many)');
  // A key the memory bound stopped (filling 256 MiB takes a minute: the words are checked here,
  // the field on the audit's hard.json by hand, session 61).
  t.is(
    undecidedWhy(['a', 'x'], ['x']),
    "the checker ran out of steps on a (--check-budget B gives it B times as many); the checker's search filled its memory bound (256 MiB of records, fixed: --check-budget does not help) on x",
  );
  t.is(undecidedLine(['a', 'x'], ['x']), 'keys the checker could not decide: a, x (x on its memory bound of 256 MiB, which --check-budget does not raise)');
  t.is(undecidedLine(['a'], []), 'keys the checker could not decide: a');
});

test('historyToJson: values JSON.stringify loses (NaN, ±Infinity, byte arrays, bigints, Maps, undefined within a value) are read back by historyFromJson and verify as recorded, so verify fails what the in-process check fails', async (t) => {
  // A stale read of each: the put of the lossy value comes last, and the read sees the lossy
  // value's JSON.stringify twin (null for NaN and Infinity, 0 for -0, {"0":1,"1":2} for bytes).
  const twins: Array<[unknown, unknown]> = [
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
    [Number.NEGATIVE_INFINITY, null],
    [new Uint8Array([1, 2]), { 0: 1, 1: 2 }],
    [{ a: undefined, b: 1 }, { b: 1 }],
    [[undefined], [null]],
    [new Map([['k', 1]]), {}],
    [{ $meridian: 'number', value: 'NaN' }, Number.NaN],
  ];
  const history: History = [];
  twins.forEach(([lossy, twin], i) => {
    const key = `k${i}`;
    history.push({ id: 3 * i, client: 'a', key, kind: 'put', input: twin, invokeMs: 0, outcome: 'ok', completeMs: 1 });
    history.push({ id: 3 * i + 1, client: 'a', key, kind: 'put', input: lossy, invokeMs: 2, outcome: 'ok', completeMs: 3 });
    history.push({ id: 3 * i + 2, client: 'b', key, kind: 'get', input: undefined, invokeMs: 4, outcome: 'ok', completeMs: 5, output: twin });
  });
  const inProcess = checkHistory(history, 'register');
  t.deepEqual(
    inProcess.violations.map((v) => v.key),
    twins.map((_, i) => `k${i}`),
    'each key is a stale read in process',
  );
  const text = historyToJson(history);
  t.deepEqual(
    checkHistory(historyFromJson(text) as History, 'register').violations.map((v) => v.key),
    inProcess.violations.map((v) => v.key),
  );
  const r = await onFile('h.json', text)(t);
  t.is(r.code, 1, r.stdout + r.stderr);
  t.regex(r.stdout, /\(single-key operations, written by historyToJson\)\n/);
  t.regex(r.stdout, new RegExp(`FAILED: not linearizable \\(${twins.length} keys\\)`));
  // The witness shows the values as they are, not as JSON.stringify writes them.
  t.regex(r.stdout, /put\(bytes\(0102\)\)/);
  t.regex(r.stdout, /put\(NaN\)/);
  // JSON.stringify of the same history: what the audit saved, which passes every key but the
  // last (its twin of NaN is written as null, which a string "NaN" inside an object is not).
  const plain = await onFile('plain.json', JSON.stringify(history.filter((op) => op.key !== `k${twins.length - 1}`)))(t);
  t.is(plain.code, 0, 'the loss happens at JSON.stringify: why historyToJson is the documented way');
  // A bigint round trips too (the register model takes it; JSON.stringify throws on it).
  const big: History = [{ id: 0, client: 'a', key: 'x', kind: 'put', input: 2n ** 70n, invokeMs: 0, outcome: 'ok', completeMs: 1 }];
  t.deepEqual(historyFromJson(historyToJson(big)), big);
});

test('historyFromJson names a tag it does not know, and verify says so, exit 2; a transaction history round trips', async (t) => {
  const text =
    '{"format":"meridian-history","version":1,"history":[{"id":0,"client":"a","key":"x","kind":"put","input":{"$meridian":"number","value":"Nan"},"invokeMs":0,"outcome":"ok","completeMs":1}]}';
  t.throws(() => historyFromJson(text), {
    message: /^history\[0\]\.input: expected a number: "NaN", "Infinity", "-Infinity" or "-0" \(a value historyToJson tagged\)/,
  });
  const r = await onFile('h.json', text)(t);
  t.is(r.code, 2, r.stdout + r.stderr);
  t.regex(r.stderr, /h\.json: history\[0\]\.input: expected a number/);
  const version = await onFile('v.json', '{"format":"meridian-history","version":2,"history":[]}')(t);
  t.regex(version.stderr, /v\.json: version: expected 1, got 2\n/);
  const txns: ElleOp[] = [
    { index: 0, process: 0, type: 'invoke', f: 'txn', value: [['append', 'x', 1]], time: 0 },
    { index: 1, process: 0, type: 'ok', f: 'txn', value: [['append', 'x', 1]], time: 1 },
  ];
  t.deepEqual(historyFromJson(historyToJson(txns)), txns);
  const txn = await onFile('t.json', historyToJson(txns))(t);
  t.is(txn.code, 0, txn.stdout + txn.stderr);
  t.regex(txn.stdout, /transactions as Elle's events, written by historyToJson/);
});

test("a number beyond a double's range in a JSON history is refused, the field named (1e400 and 2e400 both read as Infinity, and passed as one value)", async (t) => {
  const put = '{"id":0,"client":"a","key":"x","kind":"put","input":1e400,"invokeMs":0,"outcome":"ok","completeMs":1}';
  const get = '{"id":1,"client":"b","key":"x","kind":"get","invokeMs":2,"outcome":"ok","completeMs":3,"output":2e400}';
  const r = await onFile('h.json', `[${put},${get}]`)(t);
  t.is(r.code, 2, r.stdout + r.stderr);
  t.regex(r.stderr, /h\.json: history\[0\]\.input: expected a number within a double's range .*, got 1e400, which reads as Infinity/);
  const tiny = await onFile('t.json', `[${put.replace('1e400', '1e-400')}]`)(t);
  t.regex(tiny.stderr, /history\[0\]\.input: expected a number within a double's range .*, got 1e-400, which reads as 0/);
  const digits = await onFile('d.json', `[${put.replace('1e400', `1${'0'.repeat(400)}`)}]`)(t);
  t.is(digits.code, 2, 'an integer of 401 digits: refused, not a RangeError');
  t.regex(digits.stderr, /history\[0\]\.input: expected a number within a double's range/);
  // In a --history document and in historyToJson's, the same.
  const doc = await onFile('doc.json', `{"runs":[{"history":[${put}]}]}`)(t);
  t.regex(doc.stderr, /runs\[0\]\.history\[0\]\.input: expected a number within/);
  const tagged = await onFile('tagged.json', `{"format":"meridian-history","version":1,"history":[${put}]}`)(t);
  t.regex(tagged.stderr, /history\[0\]\.input: expected a number within/);
  // Numbers a double holds, with exponents or long fractions, are taken.
  const fine = await onFile('f.json', `[${put.replace('1e400', '1.5e300')},${get.replace('2e400', '1.5e300').replace('"b"', '"c"')}]`)(t);
  t.is(fine.code, 0, fine.stdout + fine.stderr);
});

test('transactions that put some keys and append to others: refused by either model, saying the history mixes register keys and list keys (no model checks it)', async (t) => {
  const history: ElleOp[] = [
    {
      index: 0,
      process: 0,
      type: 'invoke',
      f: 'txn',
      value: [
        ['append', 'k', 1],
        ['w', 'r', 5],
      ],
    },
    {
      index: 1,
      process: 0,
      type: 'ok',
      f: 'txn',
      value: [
        ['append', 'k', 1],
        ['w', 'r', 5],
      ],
    },
  ];
  for (const [model, at, got] of [
    ['list-append', 'history[0].value[1][0]', '"w"'],
    ['rw-register', 'history[0].value[0][0]', '"append"'],
  ] as const) {
    t.throws(() => checkTransactions(history, { model }), {
      message: new RegExp(
        `^${at.replace(/[[\].]/g, '\\$&')}: expected .* got ${got}: a history that .* mixes register keys and list keys, which no model checks`,
      ),
    });
    const r = await onFile('h.json', JSON.stringify(history), ['--model', model])(t);
    t.is(r.code, 2, r.stdout + r.stderr);
    t.regex(r.stderr, /mixes register keys and list keys, which no model checks/);
  }
});

test('historyToJson refuses, the field named, every entry verify refuses as malformed, with the field verify names; a good history still round trips', async (t) => {
  // It wrote them, and verify refused the file it wrote (found by an audit).
  const op: History[number] = { id: 0, client: 'a', key: 'x', kind: 'put', input: 1, invokeMs: 0, outcome: 'ok', completeMs: 1 };
  const read: History[number] = { id: 1, client: 'b', key: 'x', kind: 'get', input: undefined, invokeMs: 2, outcome: 'ok', completeMs: 3, output: 1 };
  const invoke: ElleOp = { index: 0, process: 0, type: 'invoke', f: 'txn', value: [['append', 'x', 1]], time: 0 };
  const ok: ElleOp = { index: 1, process: 0, type: 'ok', f: 'txn', value: [['append', 'x', 1]], time: 1 };
  const write = (e: ElleOp, v: unknown): ElleOp => ({ ...e, value: [['w', 'x', v as number]] });
  const rw = ['--model', 'rw-register'];
  // The field, the history, and verify's flags: a history with writes ('w') is rw-register's.
  const cases: Array<[string, unknown[], string[]?]> = [
    ['history[1].id', [op, { ...read, id: 1.5 }]],
    ['history[1].id', [op, { ...read, id: 0 }]],
    ['history[1].client', [op, { ...read, client: 7 }]],
    ['history[1].kind', [op, { ...read, kind: undefined }]],
    ['history[1].outcome', [op, { ...read, outcome: 'done' }]],
    ['history[1].invokeMs', [op, { ...read, invokeMs: '2' }]],
    ['history[1].completeMs', [op, { ...read, completeMs: undefined }]],
    // A cas as the register model (verify's default) reads it.
    ['history[1]', [op, { ...op, id: 1, kind: 'cas', input: 2 }]],
    ['history[1]', [op, { ...op, id: 1, kind: 'cas', input: { expected: 1, next: 2 }, output: 'yes' }]],
    ['history[1].index', [invoke, { ...ok, index: 0 }]],
    ['history[1].process', [invoke, { ...ok, process: null }]],
    ['history[1].type', [invoke, { ...ok, type: 'done' }]],
    ['history[1].f', [invoke, { ...ok, f: 'transaction' }]],
    ['history[1].time', [invoke, { ...ok, time: '1' }]],
    ['history[1].value[0]', [invoke, { ...ok, value: [['append', 'x']] }]],
    ['history[1].value[0][0]', [invoke, { ...ok, value: [['read', 'x', 1]] }]],
    ['history[1].value[0][1]', [invoke, { ...ok, value: [['append', null, 1]] }]],
    // An append of an object (a client may append any value; the checker takes strings and numbers).
    ['history[0].value[0][2]', [{ ...invoke, value: [['append', 'x', { a: 1 }]] }, ok]],
    ['history[1].value[0][2]', [invoke, { ...ok, value: [['r', 'x', 5]] }]],
    ['history[0].value[0][2]', [write(invoke, { a: 1 }), write(ok, 1)], rw],
    // Appends beside writes: no model checks the history.
    ['history[0].value[0][0]', [invoke, write(ok, 1)], rw],
  ];
  for (const [field, history, flags] of cases) {
    const refused = t.throws(() => historyToJson(history), { instanceOf: ValidationError }, field);
    t.is(refused?.field, field, refused?.message);
    // verify names the same field in the same history, written as plain JSON.
    const r = await onFile('h.json', JSON.stringify(history), flags)(t);
    t.is(r.code, 2, r.stdout + r.stderr);
    t.true(r.stderr.startsWith(`meridian verify: history: ${field}: `), r.stderr);
  }
  const goods: Array<[unknown[], string[]?]> = [
    [[op, { ...op, id: 1, client: 'b', input: 2, invokeMs: 2, completeMs: 3 }]],
    [
      [
        {
          ...invoke,
          value: [
            ['append', 'x', 1],
            ['r', 'x', null],
          ],
        },
        {
          ...ok,
          value: [
            ['append', 'x', 1],
            ['r', 'x', [1]],
          ],
        },
      ],
    ],
    [[write(invoke, 1), write(ok, 1)], rw],
  ];
  for (const [good, flags] of goods) {
    t.deepEqual(historyFromJson(historyToJson(good)), good);
    const r = await onFile('h.json', historyToJson(good), flags)(t);
    t.is(r.code, 0, r.stdout + r.stderr);
  }
});
