import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { duration, main } from '../src/cli/check.js';
import {
  createCheckPool,
  REAL_TIME_RUN_TAIL_MS,
  runChecks,
  SEED_WALL_MS_MAX,
  seedWallMs,
  TASKS_IN_FLIGHT_PER_WORKER,
  type CheckPool,
} from '../src/harness/check-runner.js';
import { ConfigError } from '../src/core/errors.js';
import { shrinkSeed } from '../src/harness/shrink.js';
import { interrupted } from './helpers/interrupted.js';

/**
 * A run of many seeds stopped part way: `runChecks`'s `signal`, and Ctrl-C (SIGINT) on the
 * real `meridian check`, which still prints the failing seeds it found (with their replay
 * lines) and the summary of the seeds that finished, and exits 130. And `--json FILE`, the
 * run's summary and every seed's report for a program to read. And Ctrl-C on a shrink, which
 * prints the smallest failing run found so far.
 */

/**
 * One warm worker for this file's in-process runs of one worker (a run on a pool of its own pays
 * a thread compiling each time): their seeds run whole, or the run stops between two (one worker
 * runs one seed at a time), so piscina ends no thread of it for a seed dropped mid-run.
 */
let sharedPool: CheckPool | undefined;
const pool = (): CheckPool => (sharedPool ??= createCheckPool({ workers: 1 }));
test.after.always(() => sharedPool?.close());

/**
 * `meridian check ARGV` through `main`, in this process: its exit status and what it printed. A
 * run of many seeds on one worker takes the warm one (CheckLoan), as the runChecks calls do.
 */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (l) => (out += `${l}\n`), err: (l) => (err += `${l}\n`) }, { pool: pool() });
  return { code, out, err };
}

/**
 * Small seeds (4 clients, a one-second fault phase) for the runs stopped part way on a pool of
 * their own: what is checked is which seeds finished, not what they found, and a cold thread
 * ran each default seed for a second or more.
 */
const SMALL = { clients: 4, faultMs: 1_000 } as const;

/**
 * Seed 1 of the scenario (small: SMALL) on one worker, with a signal that never fires,
 * --max-failures 1 and a time limit of 10 minutes: a run to the end that none of the three may
 * stop (seed 1 passes, so the failure count is not reached). Three tests read it, each for its
 * option: a run of its own each cost a pool worker compiling and the same seed run again.
 */
let wholeRun: ReturnType<typeof runChecks> | undefined;
const runToTheEnd = (): ReturnType<typeof runChecks> =>
  (wholeRun ??= runChecks({ seeds: 1, workers: 1, pool: pool(), ...SMALL, signal: new AbortController().signal, maxFailures: 1, timeLimitMs: 600_000 }));

test("seedWallMs: a simulated seed may take SEED_WALL_MS_MAX of wall time; a real-time one its runs' fault phases, each with REAL_TIME_RUN_TAIL_MS of retries after it", (t) => {
  t.is(seedWallMs({}), SEED_WALL_MS_MAX);
  t.is(seedWallMs({ transport: 'sim', faultMs: 600_000, workload: 'txn' }), SEED_WALL_MS_MAX);
  // The kv default fault phase (4 s), one run; the txn workload runs once per protocol.
  t.is(seedWallMs({ transport: 'threads' }), 4_000 + REAL_TIME_RUN_TAIL_MS);
  t.is(seedWallMs({ transport: 'nats', faultMs: 200_000 }), 200_000 + REAL_TIME_RUN_TAIL_MS);
  t.is(seedWallMs({ transport: 'threads', workload: 'txn' }), 2 * (4_000 + REAL_TIME_RUN_TAIL_MS));
  t.is(seedWallMs({ transport: 'threads', workload: 'txn', commits: ['2pc'], faultMs: 1_500 }), 1_500 + REAL_TIME_RUN_TAIL_MS);
  // Past what a run takes: a txn run of a cluster that is not live took 139 and 142 s on threads.
  t.true(REAL_TIME_RUN_TAIL_MS >= 3 * 60_000);
});

test('runChecks with a signal: the seeds that finished before it fired, and interrupted set', async (t) => {
  const stop = new AbortController();
  // On the warm worker (a pool of its own until 2026-12-07): it runs one seed at a time, so none
  // is on it when the second report fires the signal, and its thread is not ended.
  const summary = await runChecks({
    seeds: 40,
    workers: 1,
    pool: pool(),
    ...SMALL,
    signal: stop.signal,
    onReport: (_report, done) => {
      if (done === 2) stop.abort();
    },
  });
  t.true(summary.interrupted);
  // The second report fires the signal; none starts after it.
  t.is(summary.reports.length, 2);
  t.deepEqual(
    summary.reports.map((r) => r.seed),
    [1, 2],
  );
  t.is(summary.passed + summary.failed.length + summary.unknown.length, 2);
});

/**
 * Five seeds with a signal that fired before the run and no workers given: two tests read it
 * (it runs no seed; its pool has the simulator's default of 2). A run of its own each started
 * a pool whose threads loaded the scenario module only to be closed (about 0.3 CPU s a thread).
 */
let abortedRun: ReturnType<typeof runChecks> | undefined;
const runAborted = (): ReturnType<typeof runChecks> => (abortedRun ??= runChecks({ seeds: 5, signal: AbortSignal.abort() }));

test('runChecks: a signal that fired before the run runs no seed; a run to the end is not interrupted', async (t) => {
  const none = await runAborted();
  t.true(none.interrupted);
  t.is(none.reports.length, 0);
  const whole = await runToTheEnd();
  t.false(whole.interrupted);
  t.is(whole.reports.length, 1);
});

test('runChecks without workers: 2 in the simulator, 1 in real time (each seed a dozen threads of its own), as meridian check', async (t) => {
  // Before, 2 whatever the transport; only the CLI ran one real-time seed at a time.
  const stop = new AbortController();
  stop.abort();
  const sim = await runAborted();
  t.is(sim.workers, 2);
  const threads = await runChecks({ seeds: 5, transport: 'threads', signal: stop.signal });
  t.is(threads.workers, 1);
  t.is(threads.reports.length, 0, 'no seed ran');
  t.is((await runChecks({ seeds: 5, transport: 'threads', workers: 2, signal: stop.signal })).workers, 2, 'asked for, as many');
});

test('runChecks refuses a signal or onReport of the wrong type, naming it', async (t) => {
  const bad = await t.throwsAsync(runChecks({ seeds: 1, signal: {} as AbortSignal }), { instanceOf: ConfigError });
  t.regex(bad!.message, /signal/);
  const badReport = await t.throwsAsync(runChecks({ seeds: 1, onReport: 'log' as unknown as () => void }), { instanceOf: ConfigError });
  t.regex(badReport!.message, /onReport/);
});

test('runChecks refuses a variant the mode cannot run, a variant of the other workload, and txn keys past the final read, before any seed; without a mode, the variant runs in its own', async (t) => {
  // Before: each of these failed every seed inside its cluster (a run that looked like bugs found),
  // or ran the correct protocol (a variant of the other workload), or failed every seed as not live (keys).
  const cases: Array<[Parameters<typeof runChecks>[0], string, RegExp]> = [
    [{ seeds: 2, unsafe: 'ack-before-chosen', mode: 'active' }, 'mode', /^options\.mode: expected 'passive' or 'hybrid' with unsafe 'ack-before-chosen'/],
    [{ seeds: 2, unsafe: 'learner-out-of-order', mode: 'passive' }, 'mode', /^options\.mode: expected 'hybrid' with unsafe 'learner-out-of-order'/],
    [{ seeds: 2, workload: 'txn', unsafe: 'forget-promises' }, 'unsafe', /^options\.unsafe: expected absent with workload 'txn'/],
    [{ seeds: 2, txnUnsafe: 'release-locks-at-prepare' }, 'txnUnsafe', /^options\.txnUnsafe: expected absent unless workload is 'txn'/],
    [{ seeds: 2, workload: 'txn', keys: 65 }, 'keys', /^options\.keys: expected an integer from 1 to 64 with workload 'txn'/],
    [{ seeds: 2, regions: 4, servers: 4, factor: 16 }, 'factor', /^options\.factor: expected an integer from 1 to 15/],
  ];
  for (const [options, field, message] of cases) {
    const error = await t.throwsAsync(runChecks(options), { instanceOf: ConfigError, message }, JSON.stringify(options));
    t.is(error?.field, field);
  }
  const own = await runChecks({ seeds: 1, workers: 1, pool: pool(), unsafe: 'learner-out-of-order', clients: 4, faultMs: 1_000 });
  t.is(own.reports[0]?.mode, 'hybrid');
  t.is(own.reports[0]?.error, undefined, 'the run did not throw');
});

test('Ctrl-C stops meridian check: the failing seeds found so far with their replay lines, an interrupted summary, exit 130; --json has the same', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-check-many-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'run.json');
  // stale-reads fails in nearly every seed: by the second progress line some have failed (one
  // worker runs the seeds in order). Small seeds (--clients 4 --fault-ms 1000, as SMALL): what
  // is checked is how the run stops, and at that size seeds 1 and 2 both fail it (2026-12-07).
  const { code, stdout, stderr, signalled } = await interrupted(
    ['--seeds', '20', '--workers', '1', '--unsafe', 'stale-reads', '--clients', '4', '--fault-ms', '1000', '--json', file],
    /^progress 2\/20 /m,
  );
  t.log(stdout.split('\n').slice(-2).join('\n'));
  t.true(signalled, stdout);
  t.is(code, 130, stderr);
  t.regex(stderr, /interrupted; the seeds in flight are dropped/);
  // Progress lines give the pace and, before the last seed, the time left at it.
  t.regex(stdout, /^progress 2\/20 \(\d+ failed, \d+ unknown; [\d.]+ seeds\/s, about \d+ (s|min \d+ s) left\)$/m);
  const m = /\ncheck: interrupted after (\d+) of 20 seeds, (\d+) passed, (\d+) failed(?: \([\d, ]+\))?, (\d+) unknown/.exec(stdout);
  t.truthy(m, stdout);
  const [ran, passed, failed, unknown] = m!.slice(1).map(Number) as [number, number, number, number];
  t.true(ran >= 2 && ran < 20, `ran ${ran}`);
  t.is(passed + failed + unknown, ran);
  t.true(failed > 0);
  // Every failing seed is printed in full, with the command that replays it.
  t.regex(stdout, /\nfailing and unknown seeds:\n/);
  const replays = [...stdout.matchAll(/^ {2}replay: (meridian check --seed \d+ .*--unsafe stale-reads.*)$/gm)].map((x) => x[1]);
  t.is(replays.length, failed + unknown);
  // --json: the same run, a report per seed that finished, the failing ones with their replay lines.
  t.regex(stdout, new RegExp(`\\njson: ${ran} seed reports written to `));
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {
    command: string;
    seeds: number;
    ran: number;
    interrupted: boolean;
    passed: number;
    failed: number[];
    unknown: number[];
    reports: Array<{ seed: number; outcome: string; failures: string[]; replay?: string; traceHash: string }>;
  };
  t.is(doc.command, `meridian check --seeds 20 --workers 1 --unsafe stale-reads --clients 4 --fault-ms 1000 --json ${file}`);
  t.is(doc.seeds, 20);
  t.is(doc.ran, ran);
  t.true(doc.interrupted);
  t.is(doc.passed, passed);
  t.is(doc.failed.length, failed);
  t.is(doc.unknown.length, unknown);
  t.deepEqual(
    doc.reports.map((r) => r.seed),
    Array.from({ length: ran }, (_, i) => i + 1),
  );
  t.deepEqual(
    doc.reports.filter((r) => r.outcome !== 'pass').map((r) => r.replay),
    replays,
  );
  for (const r of doc.reports) {
    t.regex(r.traceHash, /^0x[0-9a-f]{8}$/);
    if (r.outcome === 'fail') t.true(r.failures.length > 0);
    // An unknown seed has its replay line too (above); only a pass has none.
    else if (r.outcome === 'pass') t.is(r.replay, undefined);
  }
});

test('--json: a file that cannot be written stops the run before any seed; it needs a file, and applies to --seeds only', async (t) => {
  const unwritable = await run(['--seeds', '2', '--json', join(tmpdir(), 'no-such-dir-meridian', 'x.json')]);
  t.is(unwritable.code, 2);
  t.is(unwritable.out, '');
  t.regex(unwritable.err, /--json: cannot write ".*x\.json": ENOENT/);
  const missing = await run(['--seeds', '2', '--json']);
  t.is(missing.code, 2);
  t.regex(missing.err, /--json needs a file/);
  const replay = await run(['--seed', '2', '--json', 'x.json']);
  t.is(replay.code, 2);
  t.regex(replay.err, /--json applies to --seeds/);
});

test('--max-failures K: the run stops right after its K-th failing seed (one worker: seeds in order), exit 1, and --json says so', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-maxfail-'));
  try {
    const file = join(dir, 'run.json');
    // Small seeds (as SMALL): amnesia fails each of seeds 1-4 at that size too (2026-12-07).
    const { code, out } = await run([
      '--seeds',
      '20',
      '--workers',
      '1',
      '--unsafe',
      'amnesia',
      '--clients',
      '4',
      '--fault-ms',
      '1000',
      '--max-failures',
      '2',
      '--json',
      file,
    ]);
    t.log(out.split('\n').find((l) => l.startsWith('check:')));
    t.is(code, 1);
    const m = /\ncheck: stopped after (\d+) of 20 seeds \(--max-failures 2 reached\), (\d+) passed, 2 failed \((\d+), (\d+)\), (\d+) unknown/.exec(out);
    t.truthy(m, out);
    const [ran, passed, first, second, unknown] = m!.slice(1).map(Number) as [number, number, number, number, number];
    // Seeds 1.. in order on one worker: the last seed run is the second failing one.
    t.is(ran, second);
    t.true(first < second);
    t.is(passed + 2 + unknown, ran);
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      ran: number;
      stoppedAtFailures: boolean;
      interrupted: boolean;
      failed: number[];
      reports: unknown[];
    };
    t.is(json.ran, ran);
    t.true(json.stoppedAtFailures);
    t.false(json.interrupted);
    t.deepEqual(json.failed, [first, second]);
    t.is(json.reports.length, ran);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--max-failures and maxFailures: a whole number from 1, and only for a run of many seeds; a run that does not reach it is not stopped', async (t) => {
  const zero = await run(['--seeds', '2', '--max-failures', '0']);
  t.is(zero.code, 2);
  t.regex(zero.err, /--max-failures needs an integer from 1/);
  const replay = await run(['--seed', '2', '--max-failures', '1']);
  t.is(replay.code, 2);
  t.regex(replay.err, /--max-failures applies to --seeds/);
  const bad = await t.throwsAsync(runChecks({ seeds: 1, maxFailures: 0.5 }), { instanceOf: ConfigError });
  t.regex(bad!.message, /maxFailures/);
  const whole = await runToTheEnd();
  t.is(whole.reports.length, 1);
  t.is(whole.failed.length, 0, 'seed 1 passes: the failure count is not reached');
  t.false(whole.stoppedAtFailures);
  t.false(whole.interrupted);
});

// Serial: ava runs it first, alone in this file. Its progress lines come from a timer on the
// command's event loop, which in this process the other tests' in-process seeds (the shrinks) held
// for seconds (a fresh-clone CI run on 2026-12-04 printed one line in 6 s; it ran in a process of
// its own from then until 2026-12-07, which cost a new process, its pool thread and that
// thread's compiling).
test.serial(
  '--time-limit S without --seeds: seeds from --from on until the time is up, a progress line every tenth of it, exit 0 when all passed; --json says so',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-timelimit-'));
    try {
      const file = join(dir, 'run.json');
      // In a fresh-clone CI run on 2026-12-03 no seed finished within 8 s (a cold pool worker, this
      // file's other tests beside it); a run stopped by its time now waits for its first seed.
      // 1 s: what is checked is the same for any limit, and the worker runs seeds for all of it
      // (8 s kept a core busy for 8 s, 4 s for 4); the warm worker is still cold here (this test
      // runs first), and its first seed may outlast the limit, which the run waits for, its
      // progress lines going on. Small seeds (as SMALL).
      const { code, out } = await run(['--time-limit', '1', '--from', '500', '--workers', '1', '--clients', '4', '--fault-ms', '1000', '--json', file]);
      t.log(out.split('\n').find((l) => l.startsWith('check:')));
      t.regex(out, /^meridian check: seeds from 500 for 1 s, /);
      const m = /\ncheck: time limit \(1 s\) reached after (\d+) seeds?, (\d+) passed, 0 failed, 0 unknown/.exec(out);
      t.truthy(m, out);
      t.true(Number(m![1]) >= 1, 'some seed ran');
      t.is(Number(m![2]), Number(m![1]));
      t.is(code, 0);
      // Timer-driven progress: one every 0.1 s until the run ends.
      t.true((out.match(/^progress \d+ seeds? \(0 failed, 0 unknown; [\d.]+ seeds\/s, about \d+ s left\)$/gm) ?? []).length >= 2, out);
      const json = JSON.parse(readFileSync(file, 'utf8')) as {
        seeds: number | null;
        ran: number;
        stoppedAtTimeLimit: boolean;
        interrupted: boolean;
        reports: Array<{ seed: number }>;
      };
      t.is(json.seeds, null, 'no seed count was asked for (it said 1000000, an internal cap)');
      t.true(json.stoppedAtTimeLimit);
      t.false(json.interrupted);
      t.is(json.ran, Number(m![1]));
      // One worker: the seeds that finished are 500, 501, ... in order.
      t.deepEqual(
        json.reports.map((r) => r.seed),
        Array.from({ length: json.ran }, (_, i) => 500 + i),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('--time-limit and timeLimitMs: whole seconds from 1, not with --seed; a run that ends first is not stopped', async (t) => {
  const zero = await run(['--time-limit', '0']);
  t.is(zero.code, 2);
  t.regex(zero.err, /--time-limit needs an integer from 1 to 604800/);
  const replay = await run(['--seed', '2', '--time-limit', '5']);
  t.is(replay.code, 2);
  t.regex(replay.err, /--time-limit applies to a run of many seeds/);
  const neither = await run(['--workers', '1']);
  t.regex(neither.err, /give --seeds N \(check many seeds\), --time-limit SECONDS/);
  for (const bad of [0, -5, Number.NaN, 8 * 24 * 3_600_000, '60' as unknown as number]) {
    const e = await t.throwsAsync(runChecks({ seeds: 1, timeLimitMs: bad }), { instanceOf: ConfigError });
    t.regex(e!.message, /timeLimitMs/);
  }
  const whole = await runToTheEnd();
  t.is(whole.reports.length, 1);
  t.false(whole.stoppedAtTimeLimit);
});

test('timeLimitMs shorter than any seed: the run waits for its first seed to finish, reports it and stops there', async (t) => {
  for (const workers of [1, 2]) {
    const started = performance.now();
    // Seeds of 2 clients and no fault phase (SMALL until 2026-12-07): what is checked is which
    // seeds the run reports, not what they find, and each seed in flight runs until the first
    // is done, two of them a cold thread's first (about 0.7 CPU s so, 0.9 with SMALL).
    const r = await runChecks({ from: 40, seeds: 50, workers, timeLimitMs: 1, clients: 2, faultMs: 0, ...(workers === 1 ? { pool: pool() } : {}) });
    t.log(`workers ${workers}: ${r.reports.length} seeds (${r.reports.map((x) => x.seed).join(', ')}) in ${Math.round(performance.now() - started)} ms`);
    // The first seeds start at once, TASKS_IN_FLIGHT_PER_WORKER a worker; the first to finish
    // ends the run, and the others are dropped unless they finished with it.
    const first = workers * TASKS_IN_FLIGHT_PER_WORKER;
    t.true(r.reports.length >= 1 && r.reports.length <= first, `${r.reports.length} seeds`);
    for (const x of r.reports) t.true(x.seed >= 40 && x.seed < 40 + first, `seed ${x.seed}`);
    t.is(r.passed, r.reports.length);
    t.true(r.stoppedAtTimeLimit);
    t.false(r.interrupted);
    t.false(r.stoppedAtFailures);
  }
});

test('shrinkSeed with a signal: stops after the trial that fired it, with the smallest failing run so far', async (t) => {
  const stop = new AbortController();
  const lines: string[] = [];
  // A small seed (as SMALL) that fails: seed 2 of stale-reads fails at that size too (2026-12-07).
  const task = { seed: 2, mode: 'active' as const, unsafe: 'stale-reads' as const, schedule: 'targeted' as const, ...SMALL };
  const r = await shrinkSeed(task, {
    maxRuns: 40,
    signal: stop.signal,
    onProgress: (line) => {
      lines.push(line);
      stop.abort();
    },
  });
  t.log(lines.join('\n'));
  t.is(r.original.outcome, 'fail');
  t.true(r.interrupted);
  t.is(lines.length, 1);
  // The first run, failing trials until the first cut that still failed, and none after it.
  t.true(r.runs >= 2 && r.runs < 40, `runs ${r.runs}`);
  t.is(r.result.outcome, 'fail');
  t.notDeepEqual(r.shrunk, task);
  await t.throwsAsync(shrinkSeed(task, { signal: 'stop' as unknown as AbortSignal }), { instanceOf: ConfigError, message: /signal/ });
});

test('shrinkSeed with a signal that fired already runs nothing (it replayed the whole seed first)', async (t) => {
  const task = { seed: 1, mode: 'active' as const, unsafe: 'stale-reads' as const, schedule: 'targeted' as const };
  const r = await shrinkSeed(task, { signal: AbortSignal.abort() });
  t.is(r.runs, 0);
  t.true(r.interrupted);
  t.deepEqual(r.shrunk, task);
  t.is(r.original.outcome, 'unknown');
  t.is(r.original.operations, 0);
  t.is(r.result, r.original);
  t.regex(r.original.verdict, /^not run/);
  // The task is still checked first.
  await t.throwsAsync(shrinkSeed({ ...task, clients: 0 }, { signal: AbortSignal.abort() }), { instanceOf: ConfigError, message: /clients/ });
});

test('Ctrl-C stops meridian check --shrink: the smallest failing run so far and its replay line, exit 130', async (t) => {
  // A small seed (as SMALL), which fails too: what is checked is how the shrink stops.
  const { code, stdout, stderr, signalled } = await interrupted(
    ['--seed', '2', '--unsafe', 'stale-reads', '--clients', '4', '--fault-ms', '1000', '--shrink', '--shrink-runs', '40'],
    /^ {2}still fails /m,
  );
  t.log(stdout.split('\n').slice(-2).join('\n'));
  t.true(signalled, stdout);
  t.is(code, 130, stderr);
  t.regex(stderr, /interrupted; the smallest failing run so far follows/);
  t.regex(stdout, /\nshrink interrupted after \d+ runs, the smallest failing run so far: /);
  t.regex(stdout, /\nreplay: meridian check --seed 2 --mode active --unsafe stale-reads .*--trace\n$/);
});

test('duration: seconds, minutes and seconds, or hours and minutes', (t) => {
  t.is(duration(0), '0 s');
  t.is(duration(44.6), '45 s');
  t.is(duration(60), '1 min 0 s');
  t.is(duration(725), '12 min 5 s');
  t.is(duration(12_000), '3 h 20 min');
  t.is(duration(-3), '0 s');
});
