import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/verify.js';
import { checkHistory, checkLinearizable, startCluster, type History } from '../src/index.js';

// A key a transaction appends to holds a list no register write made: cluster.history() left
// such transactions out whole, and a key with appends and register calls was judged a register
// that read a list nobody wrote, not-linearizable (an audit, session 58). Appends are now
// recorded as kind 'append', and the register checker reports their keys unchecked (unknown).

test('sim: an append is recorded with its values, its other keys too; a key with appends and register calls is unchecked (unknown), not a false violation', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'r1', servers: 3 }], transport: 'sim', seed: 1, replication: { mode: 'active', factor: 3 } });
  const c = cluster.client({ region: 'r1' });
  try {
    await c.put('k', 1);
    await c.get('k', { consistency: 'local' });
    await c.transaction([
      { op: 'append', key: 'l', value: 1 },
      { op: 'get', key: 'k' },
    ]);
    await c.get('k');
    // 'm': register calls, then appends (a list), then a register read of the list.
    await c.put('m', 'x');
    await c.delete('m');
    await c.transaction([
      { op: 'append', key: 'm', value: 'a' },
      { op: 'append', key: 'm', value: 'b' },
    ]);
    t.deepEqual(await c.get('m'), ['a', 'b']);
    const history = cluster.history();
    // The local get is not recorded (it may be stale by design); the append transaction is, key by key.
    t.deepEqual(
      history.map((o) => `${o.kind}(${o.key})`),
      ['put(k)', 'append(l)', 'get(k)', 'get(k)', 'put(m)', 'delete(m)', 'append(m)', 'get(m)'],
    );
    t.deepEqual(
      history.filter((o) => o.kind === 'append').map((o) => o.input),
      [[1], ['a', 'b']],
    );
    const r = checkHistory(history, 'register');
    t.is(r.verdict, 'unknown', JSON.stringify(r.violations));
    t.false(r.ok);
    t.deepEqual(r.unchecked, ['l', 'm']);
    t.deepEqual(r.violations, []);
    // On a pool of checker threads the keys are merged alike.
    const pooled = await checkLinearizable(history, 'register', { inline: false, workers: 2 });
    t.deepEqual([pooled.verdict, pooled.unchecked], ['unknown', ['l', 'm']]);
    // The register keys alone are checked and pass.
    t.is(
      checkHistory(
        history.filter((o) => o.key === 'k'),
        'register',
      ).verdict,
      'linearizable',
    );
    // meridian verify on the saved history: unknown (exit 1), the keys and the reason named.
    const dir = mkdtempSync(join(tmpdir(), 'meridian-history-append-'));
    try {
      const file = join(dir, 'h.json');
      writeFileSync(file, JSON.stringify(history));
      let out = '';
      const code = await main([file], { out: (l) => (out += `${l}\n`), err: (l) => (out += `${l}\n`) });
      t.is(code, 1, out);
      t.regex(out, /UNKNOWN: keys a list append wrote, which the register model does not check .*: l, m \(not a pass\)/);
      t.regex(out, /0 passed, 0 failed, 1 unknown/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    c.close();
    await cluster.stop();
  }
});

test('checkHistory: a violation on a register key is still found beside an unchecked key, which is listed', (t) => {
  const op = (id: number, key: string, kind: 'put' | 'get' | 'append', time: number, fields: object): History[number] => ({
    id,
    client: `c${id}`,
    key,
    kind,
    input: undefined,
    invokeMs: time,
    outcome: 'ok',
    completeMs: time + 1,
    ...fields,
  });
  const history: History = [
    op(0, 'l', 'append', 0, { input: [1] }),
    op(1, 'l', 'get', 2, { output: [1] }),
    op(2, 'k', 'put', 0, { input: 1 }),
    op(3, 'k', 'put', 2, { input: 2 }),
    op(4, 'k', 'get', 4, { output: 1 }),
  ];
  const r = checkHistory(history, 'register');
  t.is(r.verdict, 'not-linearizable');
  t.deepEqual(
    r.violations.map((v) => v.key),
    ['k'],
  );
  t.deepEqual(r.unchecked, ['l']);
  // An append of unknown outcome may have written: its key is unchecked too.
  const unknown = checkHistory([{ ...history[0]!, outcome: 'unknown', completeMs: undefined }, history[1]!], 'register');
  t.deepEqual([unknown.verdict, unknown.unchecked], ['unknown', ['l']]);
  // A failed append wrote nothing: the key is checked (and its read of a list no write made fails).
  t.is(checkHistory([{ ...history[0]!, outcome: 'fail' }, history[1]!], 'register').verdict, 'not-linearizable');
});
