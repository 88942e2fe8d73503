/**
 * What a long run of many seeds holds (session 69's audit of long-lived processes): runChecks
 * kept every seed's report (about 1.4 KB each) until the run ended, and `meridian check
 * --time-limit` runs up to CHECK_RUN_SEEDS_MAX seeds: about 1.4 GB in the main thread.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CHECK_RUN_PASSED_REPORTS_KEPT,
  createCheckPoolOf,
  POOL_THREAD_LOADED,
  runChecks,
  unknownSharesOf,
  type ScenarioReport,
} from '../src/harness/check-runner.js';
import { ConfigError } from '../src/core/errors.js';
import { main, unknownShares } from '../src/cli/check.js';
import { variedReport } from './fixtures/varied-report-worker.js';

/** A pool of one thread whose seeds report at once, their outcome drawn from the seed (fixtures/varied-report-worker.ts). */
function variedPool(): ReturnType<typeof createCheckPoolOf> {
  process.env['MERIDIAN_TEST_POOL_THREAD_LOADED'] = POOL_THREAD_LOADED;
  return createCheckPoolOf(fileURLToPath(new URL('./fixtures/varied-report-worker.js', import.meta.url)), 1);
}

/** What a run of `seeds` seeds from `from` should count, from the fixture's own reports. */
function expected(from: number, seeds: number): { passed: number; failed: number[]; unknown: number[]; operations: number; all: ScenarioReport[] } {
  const all = Array.from({ length: seeds }, (_, i) => variedReport(from + i, 'active'));
  return {
    passed: all.filter((r) => r.outcome === 'pass').length,
    failed: all.filter((r) => r.outcome === 'fail').map((r) => r.seed),
    unknown: all.filter((r) => r.outcome === 'unknown').map((r) => r.seed),
    operations: all.reduce((sum, r) => sum + r.operations, 0),
    all,
  };
}

const close = (a: number | undefined, b: number | undefined): boolean => a !== undefined && b !== undefined && Math.abs(a - b) < 1e-12;

test('a run keeps at most keepPassedReports passed reports, every failed and unknown one, and counts them all', async (t) => {
  const pool = variedPool();
  const SEEDS = 300;
  const KEEP = 5;
  try {
    let lastDone = 0;
    const summary = await runChecks({ seeds: SEEDS, pool, keepPassedReports: KEEP, onReport: (_r, done) => (lastDone = done) });
    const want = expected(1, SEEDS);
    // The reports held: the failed and unknown seeds' and KEEP passed ones (all SEEDS of them before).
    t.is(summary.reports.length, want.failed.length + want.unknown.length + KEEP);
    t.is(summary.reports.filter((r) => r.outcome === 'pass').length, KEEP);
    t.deepEqual(
      summary.reports.map((r) => r.seed),
      [...summary.reports.map((r) => r.seed)].sort((a, b) => a - b),
      'sorted by seed',
    );
    // The counts are every seed's.
    t.is(summary.ran, SEEDS);
    t.is(lastDone, SEEDS, "onReport's done counts every seed");
    t.is(summary.passed, want.passed);
    t.is(summary.passedReportsLeftOut, want.passed - KEEP);
    t.deepEqual(
      summary.failed.map((r) => r.seed),
      want.failed,
    );
    t.deepEqual(
      summary.unknown.map((r) => r.seed),
      want.unknown,
    );
    t.is(summary.operations, want.operations);
    const all = unknownSharesOf(want.all);
    t.is(summary.unknownShares.leftOut, all.leftOut);
    t.is(summary.unknownShares.max, all.max);
    t.true(close(summary.unknownShares.mean, all.mean), `mean ${summary.unknownShares.mean} vs ${all.mean}`);
    t.false(summary.interrupted || summary.stoppedAtFailures || summary.stoppedAtTimeLimit);

    // Under the bound nothing is dropped, and the mean is the one over the reports, exactly.
    const small = await runChecks({ from: 1, seeds: 40, pool });
    t.is(small.reports.length, 40);
    t.is(small.passedReportsLeftOut, 0);
    t.is(small.ran, 40);
    t.deepEqual(small.unknownShares, unknownShares(small.reports));
    t.true(CHECK_RUN_PASSED_REPORTS_KEPT >= 1_000);

    // keepPassedReports checked up front, naming the field.
    for (const bad of [-1, 1.5, '3', 2_000_000]) {
      const error = await t.throwsAsync(runChecks({ seeds: 2, pool, keepPassedReports: bad as number }), { instanceOf: ConfigError });
      t.regex(error?.message ?? '', /keepPassedReports/);
    }
  } finally {
    await pool.close();
  }
});

test('meridian check --json counts the passed seeds whose reports were left out, and the summary line counts every seed', async (t) => {
  const pool = variedPool();
  const dir = mkdtempSync(join(tmpdir(), 'meridian-retain-'));
  // Just past the bound: the seeds are instant, the run is the pool's round trips.
  const SEEDS = CHECK_RUN_PASSED_REPORTS_KEPT + 300;
  const want = expected(1, SEEDS);
  const out: string[] = [];
  try {
    const file = join(dir, 'run.json');
    const code = await main(['--seeds', String(SEEDS), '--workers', '1', '--json', file], { out: (l) => out.push(l), err: (l) => out.push(l) }, { pool });
    t.is(code, 1, 'some seeds failed');
    const text = out.join('\n');
    t.regex(text, new RegExp(`\\ncheck: ${SEEDS} seeds, ${want.passed} passed, ${want.failed.length} failed .*; ${want.operations} operations checked`));
    const leftOut = want.passed - CHECK_RUN_PASSED_REPORTS_KEPT;
    t.true(leftOut > 0, `${want.passed} passed seeds, more than ${CHECK_RUN_PASSED_REPORTS_KEPT}`);
    const kept = SEEDS - leftOut;
    t.regex(text, new RegExp(`\\njson: ${kept} seed reports written to .*\\(and not those of ${leftOut} passed seeds beyond the first`));
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { reports: Array<{ seed: number; outcome: string; replay?: string }> };
    t.like(json, { ran: SEEDS, passed: want.passed, passedReportsLeftOut: leftOut, operations: want.operations, unknown: want.unknown, failed: want.failed });
    t.is(json.reports.length, kept);
    // Every seed that did not pass has its line, with its replay command.
    const notPassed = json.reports.filter((r) => r.outcome !== 'pass');
    t.is(notPassed.length, want.failed.length + want.unknown.length);
    t.true(notPassed.every((r) => typeof r.replay === 'string'));
    const all = unknownSharesOf(want.all);
    t.is(json['unknownShareMax'], all.max);
    t.is(json['unknownShareSeedsLeftOut'], all.leftOut);
    t.true(close(json['unknownShareMean'] as number, all.mean));
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// Math.max(...shares) over the seeds' shares: past about 10^5 seeds it threw "Maximum call stack
// size exceeded", so a long `meridian check` lost its summary and --json at its very end.
test('the unknown-outcome shares of a million seeds are computed without a stack overflow', (t) => {
  const reports = Array.from({ length: 1_000_000 }, (_, i) => ({ unknownShare: (i % 1000) / 1000, operations: i % 10 === 0 ? 0 : 5 }));
  const shares = unknownShares(reports);
  t.is(shares.max, 0.999);
  t.is(shares.leftOut, 100_000);
  t.true(shares.mean !== undefined && Math.abs(shares.mean - 0.4995) < 0.001);
});
