import test from 'ava';
import { fileURLToPath } from 'node:url';
import {
  MeridianError,
  StoppedError,
  ValidationError,
  checkHistory,
  eventually,
  historyFromJson,
  historyToJson,
  runChecks,
  runScenario,
  runTxnScenario,
  SeedRunError,
  startCluster,
  type Cluster,
  type ClusterConfig,
} from '../src/index.js';
import type { History } from '../src/core/history.js';
import { createCheckPoolOf } from '../src/harness/check-runner.js';

/**
 * What an audit of session 62 found using the harness's helpers as a test suite would: history
 * files that did not read back as written, a seed missing from a run's failure, and `eventually`
 * calling a stopped cluster a timeout.
 */

const put = (id: number, input: unknown, at: number): History[number] => ({
  id,
  client: 'a',
  key: 'x',
  kind: 'put',
  input,
  invokeMs: at,
  outcome: 'ok',
  completeMs: at + 1,
});
const get = (id: number, output: unknown, at: number): History[number] => ({
  id,
  client: 'b',
  key: 'x',
  kind: 'get',
  input: undefined,
  invokeMs: at,
  outcome: 'ok',
  completeMs: at + 1,
  output,
});

test('historyToJson keeps an array hole a hole: it was written null, and a stale read passed once saved', (t) => {
  // The read of [1, null, 3] follows the put of [1, , 3], which the checker tells apart.
  // eslint-disable-next-line no-sparse-arrays
  const history: History = [put(0, [1, , 3], 0), get(1, [1, null, 3], 2)];
  t.is(checkHistory(history, 'register').verdict, 'not-linearizable');
  const back = historyFromJson(historyToJson(history)) as History;
  t.false(1 in (back[0]!.input as unknown[]), 'the hole is read back a hole');
  t.is((back[0]!.input as unknown[]).length, 3);
  t.is(checkHistory(back, 'register').verdict, 'not-linearizable');
  // A hole's tag anywhere but in an array is no value historyToJson wrote.
  t.throws(() => historyFromJson({ format: 'meridian-history', version: 1, history: [{ ...put(0, 1, 0), input: { $meridian: 'hole' } }] }), {
    instanceOf: ValidationError,
    message: /^history\[0\]\.input: expected an array element, the only place historyToJson writes a hole/,
  });
});

test('historyToJson refuses what the checker refuses, the field named: a Date was written {}, which verify took', (t) => {
  class Point {
    x = 1;
  }
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  for (const [value, message] of [
    [new Date(0), /^history\[1\]\.input: plain data .*, got Date$/],
    [new Set([1]), /^history\[1\]\.input: plain data .*, got Set$/],
    [{ at: new Point() }, /^history\[1\]\.input\.at: plain data .*, got Point$/],
    // It overflowed the stack (a RangeError).
    [cycle, /^history\[1\]\.input\.self: plain data .* without cycles/],
  ] as Array<[unknown, RegExp]>) {
    const history: History = [put(0, 1, 0), put(1, value, 2)];
    t.throws(() => checkHistory(history, 'register'), { instanceOf: ValidationError, message }, 'the checker');
    t.throws(() => historyToJson(history), { instanceOf: ValidationError, message }, 'historyToJson');
  }
});

test('historyToJson refuses a value verify would refuse as nested too deep as written (its tags count), the field named; historyFromJson names one too', (t) => {
  // 400 Maps, each written as three levels: the checker takes it, verify refused the file.
  let nested: unknown = 1;
  for (let i = 0; i < 400; i++) nested = new Map([['m', nested]]);
  const history: History = [put(0, nested, 0)];
  t.is(checkHistory(history, 'register').verdict, 'linearizable');
  t.throws(() => historyToJson(history), {
    instanceOf: ValidationError,
    message: /^history\[0\]\.input\.entries\[0\]\[1\]\..*\.\.\.: a value nested at most 1000 deep as written/,
  });
  // 300 Maps fit, and read back.
  nested = 1;
  for (let i = 0; i < 300; i++) nested = new Map([['m', nested]]);
  t.deepEqual(historyFromJson(historyToJson([put(0, nested, 0)])), [put(0, nested, 0)]);
  // A document nested 100,000 deep: named, not a RangeError from the reader's recursion.
  const deep = `{"format":"meridian-history","version":1,"history":[{"id":0,"input":${'['.repeat(100_000)}1${']'.repeat(100_000)}}]}`;
  t.throws(() => historyFromJson(deep), {
    instanceOf: ValidationError,
    message: /^history\[0\]\.input\[0\]\[0\].*\.\.\.: nested at most 1000 deep, got one deeper$/,
  });
});

test('a seeded run that throws once its cluster started rejects with its seed (a throwing during hook rejected with the bare error)', async (t) => {
  const broke = new Error('my fault injector broke');
  const during = async (cluster: Cluster): Promise<void> => {
    await cluster.sleep(50);
    throw broke;
  };
  const error = await t.throwsAsync(runScenario({ seed: 7, mode: 'active', faultMs: 300, during }), {
    instanceOf: SeedRunError,
    message: 'runScenario: the run with seed 7 threw (replay with seed 7): my fault injector broke',
  });
  t.is(error?.seed, 7);
  t.is(error?.cause, broke);
  t.regex(error?.stack ?? '', /\nCaused by: Error: my fault injector broke\n/);
  // The transactional run too, whose cluster here fails its first client() call.
  const failingClients = async (config: ClusterConfig): Promise<Cluster> => {
    const cluster = await startCluster(config);
    cluster.client = () => {
      throw new ValidationError('region', 'a region of the cluster (a test of session 62 refuses every one)');
    };
    return cluster;
  };
  const txn = await t.throwsAsync(runTxnScenario({ seed: 9, commit: '2pc', faultMs: 200 }, failingClients), {
    instanceOf: SeedRunError,
    message: /^runTxnScenario: the run with seed 9 threw \(replay with seed 9\): region: a region of the cluster/,
  });
  t.is(txn?.code, 'VALIDATION', "a MeridianError's code is kept");
});

test('eventually: a cluster stopped during a try that ends past the deadline rejects as stopped, not as a timeout', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'r1', servers: 1 }], transport: 'sim', seed: 62 });
  t.log(`cluster seed ${cluster.seed}`);
  try {
    // The try outlasts the 100 ms allowed, and the cluster stops meanwhile (a real-time
    // cluster's clock runs on after stop(): a test of the threads transport met it).
    const error = await t.throwsAsync(
      eventually(
        cluster,
        async () => {
          await cluster.sleep(200);
          await cluster.stop();
          throw new StoppedError('the cluster is stopped');
        },
        { timeoutMs: 100, message: 'k is 2' },
      ),
      { instanceOf: StoppedError, message: 'eventually (k is 2): the cluster stopped after 1 try; last: the cluster is stopped' },
    );
    t.true(error?.cause instanceof StoppedError, "the last try's error is the cause");
    // A check that returned false while the cluster stopped past the deadline: stopped too.
    await t.throwsAsync(
      eventually({ sleep: () => Promise.resolve(), now: () => 1_000, isStopped: true } as Pick<Cluster, 'sleep' | 'now'>, () => false, { timeoutMs: 0 }),
      {
        instanceOf: StoppedError,
        message: 'eventually: the cluster stopped after 1 try; last: it returned false',
      },
    );
  } finally {
    await cluster.stop();
  }
});

test('runChecks: a pool thread that a seed ended names the seed (the error named none)', async (t) => {
  const pool = createCheckPoolOf(fileURLToPath(new URL('./fixtures/dies-under-seed-worker.js', import.meta.url)), 1);
  try {
    const error = await t.throwsAsync(runChecks({ seeds: 1, from: 41, pool }), {
      instanceOf: MeridianError,
      message:
        'runChecks: a pool thread failed under seed 41 (its run ended the thread: replay that seed), and the pool runs nothing more: a bug in the run ended its thread',
    });
    t.log(error?.message);
  } finally {
    await pool.close();
  }
});
