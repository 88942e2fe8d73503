import test from 'ava';
import type { ExecutionContext } from 'ava';
import { run as runReplication, analyticPut } from '../bench/replication.js';
import { run as runCommit, analyticTxn, protocolMessages } from '../bench/commit.js';
import { keysOnTwoShards, shardOf } from '../bench/lib/cluster-load.js';

// Benchmarks are not tests: these prove that the replication and commit suites run end to end
// (tiny sizes, on the deterministic simulator; the suites' seeds are fixed in their files) and
// yield every figure, finite and positive. Never how fast anything is.

/** Every number in `value`, with its path; nested objects (msgs_per_op) included. */
function numbers(value: unknown, path: string, out: Array<[string, unknown]>): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) numbers(v, `${path}.${k}`, out);
    return;
  }
  out.push([path, value]);
}

function checkFigures(t: ExecutionContext, figures: Record<string, unknown>, required: string[]): void {
  for (const name of required) t.true(name in figures, `figure ${name} is missing`);
  const all: Array<[string, unknown]> = [];
  numbers(figures, 'figures', all);
  t.true(all.length >= required.length);
  for (const [path, value] of all) {
    t.is(typeof value, 'number', `${path} is not a number: ${JSON.stringify(value)}`);
    // An abort rate of 0 is a result (no two transactions in flight shared a key), not a
    // failure; so is a count of failed calls (`*_failed*`: every row's, as the table prints it).
    const zeroAllowed = path.endsWith('_abort_rate') || /(^|[._])failed([._]|$)/.test(path);
    t.true(Number.isFinite(value as number) && ((value as number) > 0 || (zeroAllowed && value === 0)), `${path} is not finite and positive: ${String(value)}`);
  }
}

/** The progress lines of one suite's set-up: `<suite>: <name> batch <b>: ready after ...`. */
function setupLines(lines: readonly string[], batch: number): string[] {
  return lines.filter((l) => l.includes(` batch ${batch}: ready after `));
}

test('replication suite (tiny) yields finite positive figures for every mode', async (t) => {
  const lines: string[] = [];
  const result = await runReplication({
    quick: true,
    tiny: true,
    log: (line) => {
      lines.push(line);
      t.log(line);
    },
  });
  // Batch 64 runs no isolated phase: its line said "isolated 0.000 ms" (found by an audit, session 61).
  t.is(setupLines(lines, 64).length, 4);
  for (const l of setupLines(lines, 64)) t.regex(l, /: ready after [\d,.]+ ms, warm-up [\d,.]+ ms$/);
  t.is(setupLines(lines, 1).length, 4);
  for (const l of setupLines(lines, 1)) t.regex(l, /: ready after [\d,.]+ ms, isolated [\d,.]+ ms, warm-up [\d,.]+ ms$/);
  t.is(result.suite, 'replication');
  const modes = ['none', 'active', 'passive', 'hybrid'];
  checkFigures(t, result.figures, [
    'raw_msgs_per_s',
    ...modes.flatMap((m) => [`${m}_ops_per_s`, `${m}_p50_ms`, `${m}_p99_ms`, `${m}_get_ops_per_s`, `${m}_ops_per_s_batch1`]),
    // The table's failed column: the JSON had the rates only (found by an audit, session 60).
    ...modes.flatMap((m) => [`${m}_failed`, `${m}_failed_batch1`, `${m}_unloaded_failed`]),
    'failed_one_crashed',
    'msgs_per_op',
    'ops_per_s_one_crashed',
    'recover_ms',
    'active_vs_raw',
  ]);
  const perOp = result.figures.msgs_per_op as Record<string, { measured: number; analytic: number }>;
  t.deepEqual(Object.keys(perOp).sort(), [...modes].sort());
  for (const m of modes) t.true(perOp[m]!.measured > 0 && perOp[m]!.analytic > 0);
  t.true(typeof result.table === 'string' && result.table.includes('hybrid'));
  // Mode none has no Multi-Paxos slots: its cmds/slot is '-', not NaN (found by an audit, session 60).
  t.false(result.table!.includes('NaN'), result.table);
});

test('commit suite (tiny) yields finite positive figures for every protocol', async (t) => {
  const lines: string[] = [];
  const result = await runCommit({
    quick: true,
    tiny: true,
    log: (line) => {
      lines.push(line);
      t.log(line);
    },
  });
  t.is(setupLines(lines, 64).length, 3);
  for (const l of setupLines(lines, 64)) t.regex(l, /: ready after [\d,.]+ ms, warm-up [\d,.]+ ms$/);
  t.is(setupLines(lines, 1).length, 3);
  for (const l of setupLines(lines, 1)) t.regex(l, /: ready after [\d,.]+ ms, isolated [\d,.]+ ms, warm-up [\d,.]+ ms$/);
  // The latency of each configuration run as a distribution, one line per protocol: the report
  // drew p50 and p99 bars only (found by an audit, session 61). Tiny runs batch 1 at 0 ms only.
  const distributions = (result.charts ?? []).filter((c) => c.xScale === 'nines');
  t.deepEqual(
    distributions.map((c) => c.title),
    [
      'commit: latency of a committed transaction, batch 64, 0 ms between regions',
      'commit: latency of a committed transaction, batch 64, 20 ms between regions',
      'commit: latency of a committed transaction, batch 1, 0 ms between regions',
    ],
  );
  for (const c of distributions) {
    t.is(c.yScale, 'log');
    t.deepEqual(
      c.series.map((x) => x.name),
      ['2pc', '3pc', 'paxos-commit'],
    );
    for (const x of c.series) t.true(x.points.length > 0 && x.points.every(([, v]) => v > 0), `${c.title}: ${x.name}`);
  }
  // Every column of the targets' table is named: the verdicts' had a rule and no name (found by an audit, session 61).
  const header = result.table!.split('\n').findIndex((l) => l.startsWith('figure '));
  t.regex(result.table!.split('\n')[header]!, /^figure +value +target +result$/);
  t.is(result.table!.split('\n')[header + 1]!.split(/ {2}/).length, 4);
  t.is(result.suite, 'commit');
  checkFigures(t, result.figures, [
    'raw_msgs_per_s',
    'twopc_txn_per_s',
    'threepc_txn_per_s',
    'paxos_commit_txn_per_s',
    'msgs_per_op',
    ...['twopc', 'threepc', 'paxos_commit'].flatMap((p) => [`${p}_failed`, `${p}_failed_batch1`]),
  ]);
  const perOp = result.figures.msgs_per_op as Record<string, { measured: number; analytic: number }>;
  t.deepEqual(Object.keys(perOp).sort(), ['2pc', '3pc', 'paxos-commit']);
  t.true(typeof result.table === 'string' && result.table.includes('paxos-commit'));
});

test('analytic counts: the formulas stated in the suites', (t) => {
  // One isolated put at batch 1 (bench/replication.ts): 2 + p + 3(g-1) + 2 (+ 4 learner messages in hybrid).
  t.is(analyticPut('none', 1, 3, 1), 5);
  t.is(analyticPut('active', 3, 3, 0), 10);
  t.is(analyticPut('passive', 3, 3, 1), 11);
  t.is(analyticPut('hybrid', 3, 3, 1), 15);
  // One isolated two-shard transaction (bench/commit.ts): 5 + protocol + N*s*3(g-1).
  t.is(protocolMessages('2pc', 2), 8);
  t.is(protocolMessages('3pc', 2), 10);
  t.is(protocolMessages('paxos-commit', 2), 16);
  t.is(analyticTxn('2pc', 1), 49);
  t.is(analyticTxn('3pc', 1), 63);
  t.is(analyticTxn('paxos-commit', 1), 57);
  t.is(analyticTxn('2pc', 64), 49);
});

test('transaction key pairs always span two shards', (t) => {
  const shards = 16;
  const pairs = keysOnTwoShards('t', 500, shards);
  t.is(pairs.length, 500);
  const keys = new Set<string>();
  for (const [a, b] of pairs) {
    t.not(shardOf(a, shards), shardOf(b, shards), `${a} and ${b} share a shard`);
    keys.add(a);
    keys.add(b);
  }
  t.is(keys.size, 1000, 'every key is used once');
});
