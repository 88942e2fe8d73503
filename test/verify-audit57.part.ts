import test from 'ava';
import { onFile } from './helpers/verify-cli.js';
import { ANOMALY_LINE_MAX, describeAnomaly } from '../src/harness/elle/index.js';
import { readElleEdn } from '../src/harness/elle/edn.js';
import type { Anomaly } from '../src/harness/elle/types.js';

/**
 * `meridian verify` on what an audit of session 57 fed it: a long EDN vector, histories with
 * nothing to check, Porcupine logs with completions nobody invoked, documents whose fields
 * are wrong or whose outcome is only in the verdict line, and a long anomaly's line.
 */

test('an EDN history written as one vector of 200,000 maps is read (push(...vector) overflowed the stack)', (t) => {
  const text = `[${'{:type :invoke, :f :read, :process :nemesis} '.repeat(200_000)}]`;
  t.deepEqual(readElleEdn(text).ops, [], 'no :f :txn operation in it: none read, no RangeError');
});

test('single-key operations none of which took effect or may have: nothing to check, unknown, exit 1 (it passed, exit 0)', async (t) => {
  const history = [
    { id: 1, client: 'c1', key: 'x', kind: 'put', input: 1, invokeMs: 0, outcome: 'fail', completeMs: 10 },
    { id: 2, client: 'c2', key: 'y', kind: 'get', invokeMs: 0, outcome: 'unknown' },
  ];
  const r = await onFile('allfail.json', JSON.stringify(history))(t);
  t.is(r.code, 1, r.stdout + r.stderr);
  t.regex(r.stdout, /history: 2 operations on 0 keys, register: no operation that took effect or may have: nothing to check\n/);
  t.regex(r.stdout, /0 passed, 0 failed, 1 unknown/);
});

test('transactions none of which completed ok: nothing to check, unknown, exit 1 (it passed, exit 0)', async (t) => {
  const failed = [
    { index: 0, process: 0, type: 'invoke', f: 'txn', value: [['append', 'x', 1]] },
    { index: 1, process: 0, type: 'fail', f: 'txn', value: [['append', 'x', 1]] },
  ];
  for (const history of [failed, failed.slice(0, 1)]) {
    const r = await onFile('txn.json', JSON.stringify(history))(t);
    t.is(r.code, 1, r.stdout + r.stderr);
    t.regex(r.stdout, /history: no transaction completed \(ok\): nothing to check\n/);
  }
});

test('an empty history with --consistency is nothing to check (exit 1), not a misuse of the flag (exit 2)', async (t) => {
  const r = await onFile('empty.json', '[]', ['--consistency', 'serializable'])(t);
  t.is(r.code, 1, r.stdout + r.stderr);
  t.regex(r.stdout, /no operations: nothing to check/);
});

const ETCD = (lines: string[]): string => lines.map((l) => `INFO  jepsen.util - ${l}`).join('\n');

test('jepsen-etcd: a completion nobody invoked, or of another kind than the open operation, is refused naming its line (it was dropped, and a stale read passed)', async (t) => {
  const writes = ['0\t:invoke\t:write\t1', '0\t:ok\t:write\t1', '1\t:invoke\t:write\t2', '1\t:ok\t:write\t2'];
  const orphan = await onFile('orphan.log', ETCD([...writes, '2\t:ok\t:read\t1']), ['--format', 'jepsen-etcd'])(t);
  t.is(orphan.code, 2, orphan.stdout + orphan.stderr);
  t.regex(orphan.stderr, /line 5: process 2 completes a read it did not invoke/);
  const mismatch = await onFile('mismatch.log', ETCD([...writes, '2\t:invoke\t:write\t3', '2\t:ok\t:read\t1']), ['--format', 'jepsen-etcd'])(t);
  t.is(mismatch.code, 2, mismatch.stdout + mismatch.stderr);
  t.regex(mismatch.stderr, /line 6: process 2 completes a read, but its open operation \(line 5\) is a write/);
  const twice = await onFile('twice.log', ETCD(['0\t:invoke\t:write\t1', '0\t:invoke\t:write\t2']), ['--format', 'jepsen-etcd'])(t);
  t.is(twice.code, 2, twice.stdout + twice.stderr);
  t.regex(twice.stderr, /line 2: process 0 invokes again while its write of line 1 is open/);
  // The same stale read with its invocation is read, and fails.
  const stale = await onFile('stale.log', ETCD([...writes, '2\t:invoke\t:read\tnil', '2\t:ok\t:read\t1']), ['--format', 'jepsen-etcd'])(t);
  t.is(stale.code, 1, stale.stdout + stale.stderr);
  t.regex(stale.stdout, /FAILED: not linearizable/);
});

/** A check --history document of one run, its history one ok put and get. */
function document(run: Record<string, unknown>): string {
  const history = [
    { id: 1, client: 'c1', key: 'x', kind: 'put', input: 1, invokeMs: 0, outcome: 'ok', completeMs: 1 },
    { id: 2, client: 'c1', key: 'x', kind: 'get', invokeMs: 2, outcome: 'ok', output: 1, completeMs: 3 },
  ];
  return JSON.stringify({ command: 'meridian check --history', model: 'register', runs: [{ history, ...run }] });
}

test('a document run whose verdict line says FAILED, with no outcome field, counts failed (it counted passed)', async (t) => {
  const r = await onFile('doc.json', document({ verdict: 'FAILED: not live' }))(t);
  t.is(r.code, 1, r.stdout + r.stderr);
  t.regex(r.stdout, /the run itself: FAILED: not live\n {2}counted failed/);
  t.regex(r.stdout, /0 passed, 1 failed, 0 unknown/);
  const ok = await onFile('doc.json', document({ verdict: 'ok: linearizable, live' }))(t);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
});

test("a document run's outcome, verdict or ok of the wrong type or value is refused, the field named, exit 2 (each was taken as absent)", async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ outcome: 'bogus' }, /runs\[0\]\.outcome: expected one of pass, fail, unknown, got "bogus"/],
    [{ verdict: 42 }, /runs\[0\]\.verdict: expected a string \(the run's verdict line\), got 42/],
    [{ ok: 'yes' }, /runs\[0\]\.ok: expected true or false, got "yes"/],
  ];
  for (const [run, message] of cases) {
    const r = await onFile('doc.json', document(run))(t);
    t.is(r.code, 2, JSON.stringify(run) + r.stdout + r.stderr);
    t.regex(r.stderr, message);
  }
});

test('an anomaly of a long cycle reads as its type and explanation first, cut at ANOMALY_LINE_MAX with an ellipsis', (t) => {
  const cycle = Array.from({ length: 200 }, (_, i) => ({ from: i, to: i + 1, kind: 'rt' as const }));
  const a = { type: 'G-single-realtime', explanation: 'T1 < T2 (rt): the explanation', cycle, ops: [] } as unknown as Anomaly;
  const line = describeAnomaly(a);
  t.true(line.startsWith('G-single-realtime: T1 < T2 (rt): the explanation; cycle [{"from":0'), line.slice(0, 100));
  t.is(line.length, ANOMALY_LINE_MAX);
  t.true(line.endsWith('…'));
  const short = describeAnomaly({ ...a, cycle: cycle.slice(0, 1) });
  t.is(short, 'G-single-realtime: T1 < T2 (rt): the explanation; cycle [{"from":0,"to":1,"kind":"rt"}]');
});

test('a JSON history after a byte order mark is read; an EDN file read as JSON is refused with a hint at the EDN formats', async (t) => {
  const history = [{ id: 1, client: 'c1', key: 'x', kind: 'put', input: 1, invokeMs: 0, outcome: 'ok', completeMs: 1 }];
  const bom = await onFile('bom.json', `\uFEFF${JSON.stringify(history)}`)(t);
  t.is(bom.code, 0, bom.stdout + bom.stderr);
  const edn = await onFile('h.edn', '{:type :invoke, :f :txn, :value [[:append :x 1]], :process 0}\n')(t);
  t.is(edn.code, 2, edn.stdout + edn.stderr);
  t.regex(edn.stderr, /not JSON \(.*\); it looks like EDN: --format elle-edn or kv-edn/);
});
