import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as checkMain } from '../src/cli/check.js';
import { main as verifyMain } from '../src/cli/verify.js';
import { CHECK_BUDGET_MAX, searchBudgetFor, stepsMaxFor } from '../src/harness/check-budget.js';
import { createCheckPool, runChecks } from '../src/harness/check-runner.js';
import { checkTransactions } from '../src/harness/elle/index.js';
import { writeSkew } from './helpers/elle-history.js';
import { runScenario } from '../src/harness/scenario.js';
import { runTxnScenario, txnRunOutcome } from '../src/harness/txn-scenario.js';
import { ConfigError } from '../src/core/errors.js';

/**
 * `checkBudget` (`--check-budget B` of `meridian check` and `meridian verify`): the checkers'
 * search budgets, B times their defaults. What it is for: a seed the checker could not decide
 * is 'unknown', neither a pass nor a catch, and the exit status fails on it; this file makes
 * such seeds on purpose (a budget of a millionth: 50 search steps a key) and follows one from
 * the checker to the summary, the exit status and the replay line. Seeds 1 and 2 pass with the
 * default budget (their trace hashes are pinned elsewhere: the budget does not touch the run).
 */
const TINY = 0.000001;

const pool = createCheckPool({ workers: 1 });
test.after.always(() => pool.close());

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(run: typeof checkMain | typeof verifyMain, args: string[]): Promise<Out> {
  let stdout = '';
  let stderr = '';
  const io = { out: (l: string) => (stdout += `${l}\n`), err: (l: string) => (stderr += `${l}\n`) };
  const code = run === checkMain ? await checkMain(args, io, { pool }) : await verifyMain(args, io);
  return { code, stdout, stderr };
}

test('runChecks with a tiny checkBudget: seeds that pass with the default come out unknown (not passed, not failed), their undecided keys named', async (t) => {
  const tiny = await runChecks({ seeds: 2, pool, checkBudget: TINY });
  t.log('seeds 1..2, active, checkBudget', TINY);
  t.is(tiny.passed, 0);
  t.deepEqual(tiny.failed, []);
  t.deepEqual(
    tiny.unknown.map((r) => r.seed),
    [1, 2],
  );
  for (const r of tiny.reports) {
    t.is(r.outcome, 'unknown');
    t.false(r.ok);
    t.true(r.timedOut.length > 0, `seed ${r.seed}: keys left undecided`);
    t.deepEqual(r.failures, []);
  }
  const full = await runChecks({ seeds: 2, pool });
  t.is(full.passed, 2, 'the same seeds pass with the default budget');
  // The budget is the checker's only: the runs are the same.
  t.deepEqual(
    full.reports.map((r) => r.traceHash),
    tiny.reports.map((r) => r.traceHash),
  );
});

test('check --check-budget: the header says it, an unknown seed exits 1 with its replay line carrying the budget; bad values name the flag', async (t) => {
  const r = await cli(checkMain, ['--seeds', '1', '--workers', '1', '--check-budget', '0.000001']);
  t.is(r.code, 1, r.stdout);
  t.regex(r.stdout, /^meridian check: seeds 1\.\.1, active replication, targeted faults, 0\.000001x the checker's search budget, 1 worker/);
  t.regex(r.stdout, /\nseed 1 \(active\): unknown \(the checker ran out of budget; not a pass: --check-budget B gives it B times the search\)\n/);
  t.regex(r.stdout, /\n {2}replay: meridian check --seed 1 --mode active --check-budget 0\.000001 --trace\n/);
  t.regex(r.stdout, /\ncheck: 1 seeds?, 0 passed, 0 failed, 1 unknown/);
  // The replay of that line is undecided too, and exits 1.
  const replay = await cli(checkMain, ['--seed', '1', '--check-budget', '0.000001']);
  t.is(replay.code, 1);
  t.regex(replay.stdout, /\nkeys the checker could not decide: key\d/);
  t.regex(replay.stdout, /\nverdict: UNKNOWN: unknown, live \(/);
  for (const bad of ['0', '-1', '1e-6', '1001', 'x']) {
    const b = await cli(checkMain, ['--seeds', '1', '--check-budget', bad]);
    t.is(b.code, 2, bad);
    t.regex(b.stderr, new RegExp(`--check-budget needs a number above 0 and at most ${CHECK_BUDGET_MAX}.*got "${bad.replace('.', '\\.')}"`), bad);
  }
  const missing = await cli(checkMain, ['--seeds', '1', '--check-budget']);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /--check-budget needs a number above 0/);
});

test('checkBudget is validated up front by runChecks and both scenarios, the error naming the field', async (t) => {
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, CHECK_BUDGET_MAX + 1, '2' as unknown as number]) {
    await t.throwsAsync(
      runChecks({ seeds: 1, pool, checkBudget: bad }),
      { instanceOf: ConfigError, message: /checkBudget: expected a number above 0 and at most 1000/ },
      String(bad),
    );
    await t.throwsAsync(runScenario({ seed: 1, mode: 'active', checkBudget: bad }), { instanceOf: ConfigError, message: /checkBudget/ }, String(bad));
    await t.throwsAsync(runTxnScenario({ seed: 1, commit: '2pc', checkBudget: bad }), { instanceOf: ConfigError, message: /checkBudget/ }, String(bad));
  }
  t.is(stepsMaxFor(undefined), 50_000_000);
  t.is(stepsMaxFor(2), 100_000_000);
  t.is(searchBudgetFor(undefined), 1_000_000);
  t.is(searchBudgetFor(TINY), 1, 'at least one step');
});

test("a transactional run's outcome: undecided with nothing else wrong is unknown; anything else wrong fails it; decided ok passes", (t) => {
  const decided = checkTransactions(writeSkew, { model: 'list-append', consistency: 'snapshot-isolation' });
  const undecided = checkTransactions(writeSkew, { model: 'list-append', consistency: 'snapshot-isolation', searchBudget: 1 });
  t.not(undecided.undecided, undefined);
  t.is(txnRunOutcome(decided, false), 'pass');
  t.is(txnRunOutcome(decided, true), 'fail');
  t.is(txnRunOutcome(undecided, false), 'unknown');
  t.is(txnRunOutcome(undecided, true), 'fail');
  const serializable = checkTransactions(writeSkew, { model: 'list-append', consistency: 'serializable', searchBudget: 1 });
  t.is(txnRunOutcome(serializable, false), 'fail', 'G2 found: a catch, whatever ran out');
});

test('verify --check-budget: a history decided with the default budget is unknown (exit 1) with a tiny one, and decided again with more', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-check-budget-'));
  try {
    const file = join(dir, 'seed1.json');
    const replay = await cli(checkMain, ['--seed', '1', '--history', file]);
    t.is(replay.code, 0, replay.stdout);
    t.true(readFileSync(file, 'utf8').length > 0);
    const full = await cli(verifyMain, [file]);
    t.is(full.code, 0, full.stdout);
    t.regex(full.stdout, /: linearizable\n/);
    const tiny = await cli(verifyMain, [file, '--check-budget', '0.000001']);
    t.is(tiny.code, 1, tiny.stdout);
    t.regex(tiny.stdout, /UNKNOWN: the checker ran out of steps on key\d[^(]*\(--check-budget B gives it B times as many\) \(not a pass\)\n/);
    const more = await cli(verifyMain, [file, '--check-budget', '2']);
    t.is(more.code, 0, more.stdout);
    const skew = join(dir, 'skew.json');
    writeFileSync(skew, JSON.stringify(writeSkew));
    const si = await cli(verifyMain, [skew, '--consistency', 'snapshot-isolation']);
    t.is(si.code, 0, si.stdout);
    const siTiny = await cli(verifyMain, [skew, '--consistency', 'snapshot-isolation', '--check-budget', '0.000001']);
    t.is(siTiny.code, 1, siTiny.stdout);
    t.regex(siTiny.stdout, /UNKNOWN: the search for .* ran out of its budget \(not a pass\)/);
    const bad = await cli(verifyMain, [skew, '--check-budget', '0']);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /--check-budget needs a number above 0 and at most 1000, got "0"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
