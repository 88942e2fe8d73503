import test from 'ava';
import { startCluster } from '../src/index.js';
import {
  LIVENESS_BACKOFF_MS_BASE,
  LIVENESS_BACKOFF_MS_CAP,
  LIVENESS_BACKOFF_MS_MIN,
  livenessBackoffMs,
  partiallyApplied,
  runTxnScenario,
} from '../src/harness/txn-scenario.js';
import { Prng } from '../src/core/prng.js';
import type { TxnHistoryOp, TxnMicroOp } from '../src/core/history.js';
import { checkTransactions } from '../src/harness/elle/index.js';
import { runChecks, runOneSeed, scenarioOptions } from '../src/harness/check-runner.js';
import { shrinkSeed } from '../src/harness/shrink.js';
import { copiesBehind, drawShape } from '../src/harness/scenario.js';
import { withMutant } from './helpers/core-mutant.js';
import { lowerInliningForThisFile } from './helpers/inlining.js';
import { ConfigError } from '../src/core/errors.js';
// The simulator's own tests (test/sim.part.ts: a seed's trace the same every time, the network
// model, stalls, real timers while a client loops on simulated calls) run in this file: a file of
// their own until 2026-12-07, a process compiling the same simulator and scenario cold.
import './sim.part.js';
import './sim-poll.part.js';

// Its seeds run in this thread: V8's inlining budget lowered, as a pool's (helpers/inlining.ts);
// for the whole file, so for sim's seeds too.
lowerInliningForThisFile();

/**
 * The transactional workload (meridian check --workload txn) on a few seeds: clean for the
 * protocols that claim strict serializability, and each broken transaction layer caught.
 * The full counts (200 clean seeds, 100 per broken variant) are in the README.
 */

/**
 * runTxnScenario({ seed, commit: '2pc' }), once per seed for the whole file: a seed gives the
 * same run each time (the tests below compare trace hashes), and several tests read the same
 * seeds' runs (seed 1 three times, 2 and 4-6 twice), each for its own checks.
 */
const twoPcRuns = new Map<number, ReturnType<typeof runTxnScenario>>();
const twoPcRun = (seed: number): ReturnType<typeof runTxnScenario> => {
  let run = twoPcRuns.get(seed);
  if (run === undefined) twoPcRuns.set(seed, (run = runTxnScenario({ seed, commit: '2pc' })));
  return run;
};
/** Seed 1 of `check --workload txn --commit 2pc`, as a pool worker runs it (runOneSeed): two tests read it. */
let txnSeed1: ReturnType<typeof runOneSeed> | undefined;
const txnSeed1Report = (): ReturnType<typeof runOneSeed> => (txnSeed1 ??= runOneSeed({ seed: 1, mode: 'active', workload: 'txn', commits: ['2pc'] }));

for (const commit of ['2pc', 'paxos-commit'] as const) {
  test(`sim: ${commit}: read/append transactions under crashes of servers and coordinators are strict serializable`, async (t) => {
    for (const seed of [1, 2]) {
      const r = await (commit === '2pc' ? twoPcRun(seed) : runTxnScenario({ seed, commit }));
      t.log(`seed ${seed}: ${r.verdict}, ${r.committed} of ${r.transactions} committed; faults: ${r.faults.join('; ')}`);
      t.true(r.committed > 0, 'transactions committed');
      t.true(r.faults.length > 0, 'faults were injected');
      t.true(r.live, `seed ${seed}: live`);
      t.true(r.ok, `seed ${seed}: ${r.anomalies.join('\n')}`);
    }
  });
}

test('sim: the transactional workload crashes some servers and coordinators right after a durable write, before its messages leave', async (t) => {
  let torn = 0;
  // The seeds the tests around it run already (1, 2, 4, 5, 6; 1 to 6 until 2026-12-07, seed 3
  // run for this test alone, with no torn crash in it): torn crashes came in seeds 1 and 5.
  const seeds = [1, 2, 4, 5, 6];
  for (const seed of seeds) {
    const r = await twoPcRun(seed);
    const lines = r.faults.filter((l) => l.includes('(after a write, before its messages)'));
    torn += lines.length;
    t.true(r.ok, `seed ${seed}: ${r.anomalies.join('\n')}`);
    if (lines.length > 0) t.log(`seed ${seed}: ${lines.join('; ')}`);
  }
  t.log(`seeds ${seeds.join(', ')}: ${torn} torn crashes`);
  t.true(torn > 0, 'some crash landed between a write and its messages');
});

test('sim: the transactional workload pauses some servers and coordinators instead of crashing them, and resumes them; the runs stay strict serializable and live', async (t) => {
  const seen: string[] = [];
  for (const seed of [4, 5, 6]) {
    const r = await twoPcRun(seed);
    const lines = r.faults.filter((l) => / (pause|resume) /.test(l));
    seen.push(...lines);
    t.log(`seed ${seed}: ${lines.join('; ')}`);
    t.true(r.live, `seed ${seed}: live`);
    t.true(r.ok, `seed ${seed}: ${r.anomalies.join('\n')}`);
  }
  t.true(
    seen.some((l) => / pause coordinator\//.test(l)),
    'a coordinator paused',
  );
  t.true(
    seen.some((l) => / pause r\d\/\d/.test(l)),
    'a server paused',
  );
  t.true(
    seen.some((l) => / resume /.test(l)),
    'resumed before the end',
  );
});

test('partiallyApplied: a final read must show all of a committed transaction, none of an aborted one, all or none of one of unknown outcome', (t) => {
  const history: TxnHistoryOp[] = [];
  const txn = (process: number, type: 'ok' | 'fail' | 'info', ops: TxnMicroOp[]): void => {
    history.push({ index: history.length, process, type: 'invoke', f: 'txn', value: ops });
    history.push({ index: history.length, process, type, f: 'txn', value: ops });
  };
  txn(0, 'ok', [
    ['append', 'a', 1],
    ['append', 'b', 2],
  ]); // all there: fine
  txn(1, 'info', [
    ['append', 'a', 3],
    ['append', 'b', 4],
  ]); // none there: fine
  txn(2, 'info', [
    ['append', 'a', 5],
    ['append', 'b', 6],
  ]); // all there: fine
  txn(3, 'info', [
    ['append', 'a', 7],
    ['append', 'b', 8],
  ]); // a only: applied in part
  txn(4, 'ok', [
    ['append', 'a', 9],
    ['r', 'b', [2]],
  ]); // its append lost
  txn(5, 'fail', [['append', 'b', 10]]); // aborted, yet there
  txn(6, 'ok', [['r', 'a', [1]]]); // reads only: nothing to compare
  const final = new Map<string, unknown[]>([
    ['a', [1, 5, 7]],
    ['b', [2, 6, 10]],
  ]);
  const found = partiallyApplied(history, final);
  t.log(found.join('\n'));
  t.is(found.length, 3);
  t.regex(found[0]!, /^transaction 6 of unknown outcome, applied in part: 1 of its 2 appends in the final read \(a:7, b:8 \(missing\)\)$/);
  t.regex(found[1]!, /^transaction 8 committed, yet 1 of its 1 appends are missing from the final read \(a:9 \(missing\)\)$/);
  t.regex(found[2]!, /^transaction 10 aborted, yet 1 of its 1 appends are in the final read \(b:10\)$/);
  t.deepEqual(partiallyApplied(history.slice(0, 6), final), [], 'the first three transactions are whole');
});

test('copiesBehind: a replica of a shard paused while commands commit is reported behind, and not once it is resumed and caught up', async (t) => {
  const seed = 11;
  t.log(`seed ${seed}`);
  const cluster = await startCluster({
    regions: [{ name: 'r1', servers: 3 }],
    transport: 'sim',
    seed,
    shards: 1,
    replication: { mode: 'active', factor: 3 },
    commit: '2pc',
  });
  try {
    const client = cluster.client({ region: 'r1' });
    await client.transaction([{ op: 'append', key: 'a', value: 1 }]);
    // Not the shard's leader: the two others still make a majority and go on without it. Puts,
    // not transactions: with one replica paused here, a transaction now and then timed out
    // (reported apart); copiesBehind counts the shard log's commands, whatever they are.
    const held = cluster.replicasOf(0).find((id) => id !== cluster.serverFor('a'))!;
    await cluster.pause(held);
    for (let v = 2; v <= 4; v++) await client.put('b', v);
    const behind = await copiesBehind(cluster, 1);
    t.log(`${held} paused: ${behind.join('; ')}`);
    t.is(behind.length, 1);
    t.regex(behind[0]!, new RegExp(`^shard 0: ${held} at \\d+ of \\d+ commands$`));
    await cluster.resume(held);
    t.deepEqual(await copiesBehind(cluster, 1), [], 'resumed, it catches up within the quiet seconds');
  } finally {
    await cluster.stop();
  }
});

// What the check after the final read is for: a hybrid leader's feed that never sends again
// what a learner did not acknowledge (`feed-never-resends` of scripts/mutants.mjs, put into a
// scratch copy of dist/) leaves learners behind for good once a learn is lost, and the history
// stays strict serializable (only local reads would show it, and the workload makes none):
// before the check, every seed passed; with it, 40 of seeds 1-40 of `check --workload txn
// --mode hybrid` fail (2026-12-03). The same seeds pass on the right code. Seeds 1 and 2 here,
// the first two of those 40 (1 to 3 until 2026-12-07: a hybrid run a seed less each way).
test('check --workload txn --mode hybrid: copies a broken learner feed leaves behind fail the seed (copy stayed behind), and not on the right code', async (t) => {
  const seeds = [1, 2];
  const task = (seed: number) => ({ seed, mode: 'hybrid' as const, workload: 'txn' as const, commits: ['2pc' as const] });
  for (const seed of seeds) {
    const r = await runOneSeed(task(seed));
    t.log(`seed ${seed}, right code: ${r.outcome}: ${r.verdict}`);
    t.is(r.outcome, 'pass', `seed ${seed}: ${r.failures.join('; ')}`);
  }
  const broken = { mutant: 'feed-never-resends', module: 'src/harness/check-runner.js' };
  await withMutant(broken.mutant, broken.module, async (exports) => {
    const run = exports['runOneSeed'] as typeof runOneSeed;
    for (const seed of seeds) {
      const r = await run(task(seed));
      t.log(`seed ${seed}, ${broken.mutant}: ${r.outcome}: ${r.failures.join('; ')}`);
      t.is(r.outcome, 'fail');
      t.regex(r.verdict, /^2pc: strict serializable, copy stayed behind: shard \d+: /);
      t.true(
        r.failures.some((f) => /^copy stayed behind: 2pc: shard \d+: .*\(learner\) at \d+/.test(f)),
        'a failure names the learner behind',
      );
      t.false(r.failures.includes('not serializable'), 'not said to be a serializability failure');
    }
  });
});

test('check --workload txn reports the share of transactions whose outcome stayed unknown', async (t) => {
  const seed = 1;
  t.log(`seed ${seed}`);
  const direct = await twoPcRun(seed);
  const report = await txnSeed1Report();
  t.log(`${direct.indefinite} of ${direct.transactions} indefinite; reported share ${report.unknownShare}`);
  t.is(report.operations, direct.transactions);
  t.is(report.unknownShare, direct.indefinite / direct.transactions);
  t.true(direct.indefinite > 0, 'the faults leave some transactions indefinite, so the share is not trivially 0');
});

/**
 * Each broken variant must be caught in at least 2 of seeds 1-4. The seeds run in order and stop
 * at the second catch, as `meridian check --max-failures` does: the seeds after it cannot change
 * the verdict (both variants were caught in seeds 1 and 2, 2026-12-04, where all four ran).
 * 4 clients, not the default 6: each of the 100 assertions vote-before-prepare-durable trips
 * costs, and a run of it took a second or two more at the default size. At 4 clients both
 * variants were caught in each of seeds 1-4 (2026-12-07, all four run, before this choice
 * was made), so the share asked is the one asked at the default size.
 * No liveness phase (livenessTxns 0; 2 a client by default): a catch is an anomaly or an
 * assertion, never liveness (checked below), and under vote-before-prepare-durable each client's
 * liveness transactions retried 20 times in vain, about half of the variant's CPU. Without it
 * both variants were caught in each of seeds 1-4 (2026-12-07, all four run, before this choice
 * was made).
 */
const VARIANT_SEEDS = [1, 2, 3, 4];
const VARIANT_CATCHES = 2;
const VARIANT_CLIENTS = 4;

for (const unsafe of ['release-locks-at-prepare', 'vote-before-prepare-durable'] as const) {
  test(`sim: the broken variant ${unsafe} is caught in at least ${VARIANT_CATCHES} of seeds 1-${VARIANT_SEEDS.length} (${VARIANT_CLIENTS} clients, no liveness phase)`, async (t) => {
    const caught: number[] = [];
    for (const seed of VARIANT_SEEDS) {
      if (caught.length >= VARIANT_CATCHES) break;
      const r = await runTxnScenario({ seed, commit: '2pc', unsafe, clients: VARIANT_CLIENTS, livenessTxns: 0 });
      t.log(`seed ${seed}: ${r.verdict}`);
      if (!r.ok) {
        caught.push(seed);
        // A catch is an anomaly the checker names, with the operations that make it, or an
        // assertion inside an actor (since 2026-12-02 a 2PC participant asserts that its ack
        // follows the commit in its shard's log, which the early vote's messages do not wait for).
        if (r.anomalies.length > 0) t.regex(r.anomalies[0]!, /^(G0|G1a|G1b|G1c|G-single|G2|incompatible-order|duplicate-elements)/);
        else t.regex(r.assertions[0] ?? '', /^in r\d\/\d: \w+: /, r.verdict);
      }
    }
    t.log(`caught in seeds ${caught.join(', ')}`);
    t.true(caught.length >= VARIANT_CATCHES, `caught in ${caught.length} of ${VARIANT_SEEDS.length} seeds`);
  });
}

test('check --workload txn names the assertions that failed inside actors among the failures of a seed', async (t) => {
  // vote-before-prepare-durable: a 2PC participant's ack comes before the commit in its
  // shard's log, which it asserts (seed 1: the history stays strict serializable). 2 clients and
  // 1,000 ms of faults (6 clients, then 4, and the default 2,500 ms until 2026-12-07): seed 1
  // trips the same assertion so (2026-12-07), in about half the CPU, most of which went to
  // the liveness phase's transactions, each client's retried in vain under the variant.
  const seed = 1;
  t.log(`seed ${seed}, 2 clients, 1,000 ms of faults`);
  const r = await runOneSeed({
    seed,
    mode: 'active',
    workload: 'txn',
    commits: ['2pc'],
    txnUnsafe: 'vote-before-prepare-durable',
    clients: 2,
    faultMs: 1_000,
  });
  t.log(r.failures.join('\n'));
  t.is(r.outcome, 'fail');
  t.regex(r.verdict, /assertion failed \(in r\d\/\d: /);
  t.true(
    r.failures.some((f) => /^assertion failed: 2pc: in r\d\/\d: participant: /.test(f)),
    'a failure names the assertion',
  );
  t.false(r.failures.includes('not serializable'), 'the history was strict serializable');
});

test('sim: a restarted coordinator recovers from its log, compacted on restart', async (t) => {
  const seed = 31;
  t.log(`seed ${seed}`);
  const cluster = await startCluster({
    regions: [
      { name: 'us-east', servers: 1 },
      { name: 'eu-west', servers: 1 },
      { name: 'ap-south', servers: 1 },
    ],
    transport: 'sim',
    seed,
    commit: '2pc',
    replication: { mode: 'active', factor: 3 },
    shards: 8,
  });
  try {
    const clients = Array.from({ length: 20 }, () => cluster.client({ region: 'us-east' }));
    let committed = 0;
    await Promise.all(
      clients.map(async (c, i) => {
        for (let k = 0; k < 30; k++) {
          await c.transaction([
            { op: 'append', key: `a${i}-${k}`, value: k },
            { op: 'append', key: `b${i}-${k}`, value: k },
          ]);
          committed++;
        }
      }),
    );
    const recovered = async (): Promise<number> => (await cluster.collectStats()).actors['coordinator/us-east']?.counters['coordinator-recovered-records'] ?? 0;
    await cluster.crash('coordinator/us-east');
    await cluster.restart('coordinator/us-east');
    const first = await recovered();
    t.log(`${committed} committed; first restart read ${first} records`);
    // 2PC writes a commit and an end record per committed transaction, after the coordinator's
    // own record of its request id (begun). Those answered just before the crash may not have
    // ended yet (the end record waits for the participants' acks): what a restart needs is
    // their commit records, which the restart's checkpoint keeps, with one record listing the
    // request ids begun.
    t.true(first >= 2 * committed, 'the first restart read the whole log');
    const unfinished = 3 * committed - first;
    t.log(`${unfinished} transactions had not ended at the crash`);
    // The restarted coordinator ends them (one end record each), then crashes again.
    await cluster.sleep(1_000);
    await cluster.crash('coordinator/us-east');
    await cluster.restart('coordinator/us-east');
    const second = (await recovered()) - first;
    t.log(`second restart read ${second} records`);
    t.true(unfinished >= 0 && second <= 2 * unfinished + 5 && second < first / 10, 'the log was compacted to what a restart needs');
    // It still works, and its history is clean.
    const c = cluster.client({ region: 'us-east' });
    t.deepEqual(
      await c.transaction([
        { op: 'get', key: 'a0-0' },
        { op: 'append', key: 'a0-0', value: 99 },
      ]),
      [[0], undefined],
    );
    const check = checkTransactions(cluster.history({ format: 'elle' }) as Parameters<typeof checkTransactions>[0], {
      model: 'list-append',
      consistency: 'strict-serializable',
    });
    t.true(check.ok, JSON.stringify(check.anomalies.slice(0, 2)));
  } finally {
    await cluster.stop();
  }
});

test('txn workload: commits [] is refused before any seed runs (every seed passed, checking nothing)', async (t) => {
  const message = (root: string): string =>
    `${root}.commits: expected at least one of 2pc, paxos-commit, 3pc with workload 'txn' (it runs once per protocol named), or left out for 2pc and paxos-commit, got an array of 0`;
  const error = await t.throwsAsync(runChecks({ seeds: 3, workers: 1, workload: 'txn', commits: [] }), {
    instanceOf: ConfigError,
    message: message('options'),
  });
  t.is((error as ConfigError).field, 'commits');
  await t.throwsAsync(shrinkSeed({ seed: 1, mode: 'active', workload: 'txn', commits: [] }), { instanceOf: ConfigError, message: message('task') });
});

test("kv workload: commits names its transactions' protocol; bad ones fail before any seed runs", async (t) => {
  t.is(scenarioOptions({ seed: 1, mode: 'active', commits: ['paxos-commit'] }).commit, 'paxos-commit');
  t.is(scenarioOptions({ seed: 1, mode: 'active' }).commit, undefined, "the cluster's default, 2pc");
  const bad: Array<[Parameters<typeof runChecks>[0], RegExp]> = [
    [{ seeds: 1, commits: ['2pc', 'paxos-commit'] }, /one of 2pc, paxos-commit, 3pc for the kv workload/],
    [{ seeds: 1, commits: ['4pc' as '2pc'] }, /^options\.commits: expected 2pc, paxos-commit, 3pc, got "4pc"$/],
    [{ seeds: 1, commits: ['paxos-commit'], unsafe: '2pc-commit-on-timeout' }, /'2pc' with unsafe '2pc-commit-on-timeout'/],
  ];
  for (const [options, message] of bad) {
    const error = await t.throwsAsync(runChecks(options), { instanceOf: ConfigError }, JSON.stringify(options));
    t.is((error as ConfigError).field, 'commits');
    t.regex(error!.message, message);
  }
});

test('the cluster shape (regions, servers, factor, shards) is checked before any seed runs, for either workload', async (t) => {
  const bad: Array<[Parameters<typeof runChecks>[0], string, RegExp]> = [
    [{ seeds: 1, servers: 0 }, 'servers', /an integer from 1 to 5/],
    [{ seeds: 1, regions: 6 }, 'regions', /an integer from 2 to 5/],
    [{ seeds: 1, regions: 5, factor: 11 }, 'factor', /an integer from 1 to 10 \(the servers of the cluster\)/],
    [{ seeds: 1, servers: 2, factor: 7 }, 'factor', /an integer from 1 to 6 \(the servers of the cluster\)/],
    [{ seeds: 1, factor: 1.5 }, 'factor', /an integer from 1 to 6/],
    [{ seeds: 1, shards: 17 }, 'shards', /an integer from 1 to 16/],
    [{ seeds: 1, workload: 'txn', txnShare: 0.5 }, 'workload', /txnShare mixes transactions into the kv scenario's calls/],
    [{ seeds: 1, workload: 'txn', keys: 0 }, 'keys', /./],
    [{ seeds: 1, workload: 'txn', schedule: 'builtin', faults: ['crash'] }, 'faults', /not with schedule 'builtin'/],
    [{ seeds: 1, workload: 'txn', factor: 9 }, 'factor', /an integer from 1 to 6/],
    [{ seeds: 1, randomShape: true, servers: 2 }, 'randomShape', /not with regions, servers, factor or shards/],
  ];
  for (const [options, field, message] of bad) {
    const error = await t.throwsAsync(runChecks(options), { instanceOf: ConfigError }, JSON.stringify(options));
    t.is((error as ConfigError).field, field);
    t.regex(error!.message, message);
  }
  // A misspelt option is named before any seed runs, not ignored.
  await t.throwsAsync(runChecks({ seeds: 1, txnshare: 0.5 } as never), { message: /^options\.txnshare: not an option here/ });
  const o = scenarioOptions({ seed: 1, mode: 'hybrid', regions: 4, servers: 3, factor: 5, shards: 8 });
  t.deepEqual([o.regions, o.servers, o.factor, o.shards], [4, 3, 5, 8]);
  // The builtin schedule crashes the servers there are (it named r1/1 .. r3/1 whatever the shape: every seed threw).
  const one = await runOneSeed({ seed: 1, mode: 'active', schedule: 'builtin', servers: 1 });
  t.is(one.error, undefined, one.error);
  t.is(one.outcome, 'pass', one.failures.join('; '));
});

test('txn workload: the cluster shape reaches the transactional scenario; a broken layer is still caught in a group of 5', async (t) => {
  const shaped = await runOneSeed({ seed: 1, mode: 'active', workload: 'txn', commits: ['2pc'], servers: 3, factor: 5 });
  const plain = await txnSeed1Report();
  t.is(shaped.outcome, 'pass', shaped.failures.join('; '));
  t.not(shaped.traceHash, plain.traceHash, 'another cluster, another run');
  const { runTxnScenario } = await import('../src/harness/txn-scenario.js');
  const again = await runTxnScenario({ seed: 1, commit: '2pc', servers: 3, factor: 5 });
  t.is(again.traceHash, shaped.traceHash, 'the runner passes the shape through');
  await t.throwsAsync(runTxnScenario({ seed: 1, commit: '2pc', servers: 9 }), { instanceOf: ConfigError, message: /servers/ });
  const broken = await runOneSeed({ seed: 1, mode: 'active', workload: 'txn', commits: ['2pc'], txnUnsafe: 'release-locks-at-prepare', servers: 3, factor: 5 });
  t.is(broken.outcome, 'fail', 'seed 1 catches release-locks-at-prepare at factor 5 (20 of 20 seeds did, 2026-12-01)');
});

test('runTxnScenario refuses an unknown option, a missing or bad commit, seed, mode, variant, size or transport before its cluster starts', async (t) => {
  const { runTxnScenario } = await import('../src/harness/txn-scenario.js');
  // Before: a misspelt option or no commit ran the defaults (and passed); keys 100 failed as
  // not live (the final read, one transaction of 100 gets, is refused); the rest failed inside
  // startCluster under the cluster's field names.
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [
      { seed: 1, commit: '2pc', fautMs: 100 },
      'options.fautMs',
      /^options\.fautMs: not an option here \(seed, commit, .*nemesis, transport, nats, checkBudget are\)$/,
    ],
    [{ seed: 1 }, 'commit', /^options\.commit: expected one of 2pc, paxos-commit, 3pc$/],
    [{ seed: 1, commit: '4pc' }, 'commit', /^options\.commit: expected one of 2pc, paxos-commit, 3pc, got "4pc"$/],
    [{ seed: -1, commit: '2pc' }, 'seed', /^options\.seed: expected an integer from 0 to 2\^32 - 1, got -1$/],
    [{ seed: 1, commit: '2pc', mode: 'fast' }, 'mode', /^options\.mode: expected one of none, passive, active, hybrid, got "fast"$/],
    [{ seed: 1, commit: '2pc', unsafe: 'forget-promises' }, 'unsafe', /^options\.unsafe: expected one of release-locks-at-prepare, .*, got "forget-promises"$/],
    [
      { seed: 1, commit: '2pc', keys: 100 },
      'keys',
      /^options\.keys: expected an integer from 1 to 64 \(the final read gets every key in one transaction\), got 100$/,
    ],
    [{ seed: 1, commit: '2pc', opsMax: 0 }, 'opsMax', /^options\.opsMax: expected an integer from 1 to 64/],
    [{ seed: 1, commit: '2pc', livenessTxns: -1 }, 'livenessTxns', /^options\.livenessTxns: expected an integer from 0 to 1000/],
    [{ seed: 1, commit: '2pc', limits: 'tiny' }, 'limits', /^options\.limits: expected drawn, small, default, got "tiny"$/],
    [{ seed: 1, commit: '2pc', nemesis: 'builtin' }, 'nemesis', /^options\.nemesis: expected an object of nemesis options/],
    [{ seed: 1, commit: '2pc', nemesis: { crashes: 2 } }, 'nemesis.crashes', /^options\.nemesis\.crashes: expected one of the options/],
    [{ seed: 1, commit: '2pc', regions: 4, servers: 4, factor: 16 }, 'factor', /^options\.factor: expected an integer from 1 to 15/],
    [{ seed: 1, commit: '2pc', transport: 'pigeon' }, 'transport', /^options\.transport: expected one of sim, threads, nats \(default sim\), got "pigeon"$/],
    [{ seed: 1, commit: '2pc', transport: 'threads', trace: true }, 'trace', /^options\.trace: expected false or absent with transport 'threads'/],
    [{ seed: 1, commit: '2pc', nats: { servers: 'nats://127.0.0.1:4222' } }, 'nats', /^options\.nats: expected absent unless transport is 'nats'/],
    [{ seed: 1, commit: '2pc', transport: 'nats' }, 'nats', /^options\.nats: expected/],
  ];
  for (const [options, field, message] of cases) {
    const error = await t.throwsAsync(runTxnScenario(options as never), { message }, JSON.stringify(options));
    t.is((error as { field?: string } | undefined)?.field, field, JSON.stringify(options));
  }
});

test('drawShape: the same seed draws the same shape; over many seeds every size the flags allow is drawn, the factor never past the servers', (t) => {
  t.deepEqual(drawShape(7), drawShape(7));
  const shapes = Array.from({ length: 400 }, (_, i) => drawShape(i + 1));
  for (const s of shapes) t.true(s.factor <= s.regions * s.servers, JSON.stringify(s));
  const seen = (f: (s: (typeof shapes)[number]) => number): number[] => [...new Set(shapes.map(f))].sort((a, b) => a - b);
  t.deepEqual(
    seen((s) => s.regions),
    [2, 3, 4, 5],
  );
  t.deepEqual(
    seen((s) => s.servers),
    [1, 2, 3],
  );
  t.deepEqual(
    seen((s) => s.factor),
    [1, 2, 3, 4, 5],
  );
  t.deepEqual(
    seen((s) => s.shards),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  t.deepEqual(scenarioOptions({ seed: 7, mode: 'active', randomShape: true }), { seed: 7, mode: 'active', ...drawShape(7) });
});

test('txn workload, 16 clients on 3 keys: after healing every client commits (backoff that grows), where a fixed 50-150 ms wait left some without a commit', async (t) => {
  // Seed 709200 was "not live" before 2026-12-03 (as were 28 of 40 from it): aborts under no-wait
  // locking, every client retrying at the same pace.
  for (const seed of [709200]) {
    const r = await runOneSeed({ seed, mode: 'active', workload: 'txn', clients: 16, keys: 3 });
    t.log(`seed ${seed}: ${r.verdict}`);
    t.true(r.live, `seed ${seed}: ${r.failures.join('; ')}`);
    t.is(r.outcome, 'pass', `seed ${seed}: ${r.failures.join('; ')}`);
  }
});

test('livenessBackoffMs: from 50 ms up, the bound doubling with each attempt up to a cap', (t) => {
  const seed = 7;
  t.log(`seed ${seed}`);
  const rng = new Prng(seed);
  for (let attempt = 0; attempt < 12; attempt++) {
    const bound = Math.min(LIVENESS_BACKOFF_MS_BASE * 2 ** attempt, LIVENESS_BACKOFF_MS_CAP);
    let max = 0;
    for (let i = 0; i < 400; i++) {
      const ms = livenessBackoffMs(attempt, rng);
      t.true(ms >= LIVENESS_BACKOFF_MS_MIN && ms < LIVENESS_BACKOFF_MS_MIN + bound, `attempt ${attempt}: ${ms}`);
      max = Math.max(max, ms);
    }
    // The draws reach the top half of their range: the bound grows, not only the floor.
    t.true(max >= LIVENESS_BACKOFF_MS_MIN + bound / 2, `attempt ${attempt}: max ${max}`);
  }
});
