/**
 * `meridian check` samples every copy's applied count after each call of its workload
 * (ProgressWatch in src/harness/scenario.ts, on Cluster.copyProgress): a replica or hybrid
 * learner that goes back while its server keeps its incarnation fails the seed. Its local
 * reads went back in time with it, and it catches up before the end, so neither the history
 * nor the final-state checks see it: `learner-restores-older-snapshot` of scripts/mutants.mjs
 * (a learner installs any snapshot it is fed) was caught in 0 of 100 seeds before the watch.
 * The watch also holds each replica's promised ballot to never fall, restarts included (a
 * promise is durable), and copies of a shard that applied as many commands to have applied the
 * same ones (KvStateMachine.digest). Each rule is shown here on a real cluster or a scripted
 * one; then the watch embedded in a test as docs/testing.md shows it. The check's mutant run
 * (`check --mode hybrid` with `learner-restores-older-snapshot`) is in
 * test/catch-up-mutant.part.ts of test/fault-power.test.ts (seeds 64..66: the first two seeds it
 * fails, and the one between).
 */
import test, { type ExecutionContext } from 'ava';
import { Nemesis, ProgressWatch, startCluster, ValidationError, withCluster, type Cluster } from '../src/index.js';
import { PROGRESS_WATCH_LINES } from '../src/harness/scenario.js';
import type { ServerState } from '../src/cluster/server.js';
import { DIGEST_START, KvStateMachine, type Command } from '../src/replication/state-machine.js';

/** Three regions of one server, two shards, hybrid: each shard's group in its home region, learners in the other two. */
async function hybrid(seed: number): Promise<Cluster> {
  return startCluster({
    regions: ['r1', 'r2', 'r3'].map((name) => ({ name, servers: 1 })),
    transport: 'sim',
    seed,
    network: { jitterMs: 1 },
    shards: 2,
    // Groups of one: a region's servers (factor 2 was taken, and cut to 1, before session 59).
    replication: { mode: 'hybrid', factor: 1 },
  });
}

test('copyProgress lists every replica and learner with its applied count; a copy set back in place is reported, a restarted one is not', async (t) => {
  const seed = 7;
  t.log(`seed ${seed}`);
  const c = await hybrid(seed);
  try {
    const watch = new ProgressWatch(c, c.now());
    const client = c.client({ region: 'r1' });
    const before = c.copyProgress();
    t.is(before.filter((p) => p.learner).length, 4, 'two learners per shard');
    t.is(before.filter((p) => !p.learner).length, 2, 'one replica per shard');
    watch.sample();
    for (let i = 0; i < 10; i++) await client.put(`k${i}`, i);
    await c.sleep(500);
    watch.sample();
    const after = c.copyProgress();
    t.true(
      after.every((p) => p.applied > 0),
      'every copy applied commands',
    );
    t.deepEqual(watch.lines(), [], 'nothing went back');
    // A learner set back to an empty state (what installing an older snapshot does) is named.
    const learner = after.find((p) => p.learner)!;
    const state = c.internals.runtime.host.cell(learner.id)!.peekState() as ServerState;
    const sm = state.learners.get(learner.shard)!.sm;
    sm.restore({ ...sm.snapshot(), applied: 0, digest: DIGEST_START });
    watch.sample();
    const lines = watch.lines();
    t.is(lines.length, 1);
    t.regex(
      lines[0]!,
      new RegExp(`^${learner.id}'s learner of shard ${learner.shard} went back from ${learner.applied} to 0 applied commands at \\d+ ms, with no restart$`),
    );
    // A restart starts the server over (a new incarnation): its copies may begin lower.
    const replica = after.find((p) => !p.learner && p.id !== learner.id)!;
    // 'crashing' comes just before the server goes down: its copies are still there to read.
    const seen: Array<{ id: string; down: boolean; copies: number }> = [];
    c.on('crashing', (id: string) => seen.push({ id, down: c.isDown(id), copies: c.copyProgress().filter((p) => p.id === id).length }));
    await c.crash(replica.id);
    t.deepEqual(seen, [{ id: replica.id, down: false, copies: after.filter((p) => p.id === replica.id).length }]);
    t.is(c.copyProgress().filter((p) => p.id === replica.id).length, 0, 'a server down has no copies to read');
    watch.sample();
    await c.restart(replica.id);
    const again = c.copyProgress().find((p) => p.id === replica.id && p.shard === replica.shard)!;
    t.not(again.incarnation, replica.incarnation);
    watch.sample();
    t.is(watch.lines().length, 1, 'the restart is no regression');
  } finally {
    await c.stop();
  }
});

test('a ProgressWatch reports the first few regressions in full and counts the rest', (t) => {
  let applied = 10;
  const fake = {
    now: () => 5,
    copyProgress: () => [
      { id: 'r1/0', incarnation: 'a', shard: 0, learner: false, applied, digest: 0, promised: undefined },
      { id: 'r2/0', incarnation: 'b', shard: 0, learner: true, applied, digest: 0, promised: undefined },
    ],
  };
  const watch = new ProgressWatch(fake, 0);
  watch.sample();
  applied = 9;
  watch.sample();
  applied = 8;
  watch.sample();
  const lines = watch.lines();
  t.is(lines.length, PROGRESS_WATCH_LINES + 1);
  t.is(lines[0], "r1/0's replica of shard 0 went back from 10 to 9 applied commands at 5 ms, with no restart");
  t.is(lines[1], "r2/0's learner of shard 0 went back from 10 to 9 applied commands at 5 ms, with no restart");
  t.is(lines.at(-1), 'and 1 more time a copy went back, lost a promise or applied other commands');
});

test('a replica whose promised ballot falls is reported, across a restart too; a learner back after a restart is not', (t) => {
  let incarnation = 'a';
  let applied = 10;
  let promised: { round: number; id: string } | undefined = { round: 3, id: 'r2/0' };
  let up = true;
  const fake = {
    now: () => 40,
    copyProgress: () =>
      up
        ? [
            { id: 'r1/0', incarnation, shard: 1, learner: false, applied, digest: 0, promised },
            { id: 'r1/0', incarnation, shard: 2, learner: true, applied, digest: 0, promised: undefined },
          ]
        : [],
  };
  const watch = new ProgressWatch(fake, 0);
  watch.sample();
  // Down, then up again with a new incarnation: it may apply less (recovering), and promise as much.
  up = false;
  watch.sample();
  up = true;
  incarnation = 'b';
  applied = 2;
  watch.sample();
  t.deepEqual(watch.lines(), []);
  // A restart that recovers a lower promise forgot one.
  up = false;
  watch.sample();
  up = true;
  incarnation = 'c';
  promised = { round: 2, id: 'r3/0' };
  watch.sample();
  t.deepEqual(watch.lines(), ["r1/0's replica of shard 1 had promised ballot 3.r2/0 and after a restart only 2.r3/0 at 40 ms: a promise was lost"]);
});

test('copies of a shard that applied as many commands but other ones are reported once each', (t) => {
  let digests = [7, 7, 7];
  const fake = {
    now: () => 12,
    copyProgress: () =>
      digests.map((digest, i) => ({ id: `r${i + 1}/0`, incarnation: 'a', shard: 3, learner: i === 2, applied: 5, digest, promised: undefined })),
  };
  const watch = new ProgressWatch(fake, 0);
  watch.sample();
  t.deepEqual(watch.lines(), []);
  digests = [7, 9, 7];
  watch.sample();
  watch.sample();
  t.deepEqual(watch.lines(), [
    "r2/0's replica of shard 3 applied other commands than r1/0's replica of shard 3: their first 5 differ (digests 0x00000009 and 0x00000007) at 12 ms",
  ]);
});

test('a digest follows the commands applied, and a snapshot carries it', (t) => {
  const a = new KvStateMachine();
  const b = new KvStateMachine();
  t.is(a.digest, DIGEST_START);
  const put = (id: string, value: number): Command => ({ k: 'op', id, body: { op: 'put', key: 'k', value } });
  a.apply(put('c1#1', 1));
  b.apply(put('c1#1', 1));
  t.is(a.digest, b.digest);
  a.apply(put('c1#2', 2));
  b.apply({ k: 'noop' });
  t.is(a.applied, b.applied);
  t.not(a.digest, b.digest, 'another command in the same slot');
  const c = new KvStateMachine();
  c.restore(a.snapshot());
  t.is(c.digest, a.digest);
  c.apply(put('c2#1', 3));
  a.apply(put('c2#1', 3));
  t.is(c.digest, a.digest, 'a restored copy goes on like the one it was restored from');
});

/** The embedded run of docs/testing.md section 1 with a watch: calls from three regions while servers crash and restart. */
async function embeddedRun(t: ExecutionContext, seed: number, unsafe?: 'amnesia'): Promise<{ lines: string[]; crashes: number }> {
  const config = {
    regions: ['us-east', 'eu-west', 'ap-south'].map((name) => ({ name, servers: 2 })),
    transport: 'sim' as const,
    seed,
    fsync: true,
    network: { latencyMs: { 'us-east~eu-west': 40, 'us-east~ap-south': 90, 'eu-west~ap-south': 110 }, jitterMs: 2 },
    replication: { mode: 'active' as const, factor: 3, ...(unsafe === undefined ? {} : { unsafe }) },
    heartbeat: { intervalMs: 100 },
    requestTimeoutMs: 600,
  };
  return withCluster(t, config, async (cluster) => {
    const watch = ProgressWatch.attach(cluster);
    let crashes = 0;
    cluster.on('crashing', () => crashes++);
    const nemesis = new Nemesis(cluster, { seed, faults: ['crash', 'crash-leader', 'restart-storm', 'partition'] });
    let faulting = true;
    let calls = 0;
    const workload = async (region: string): Promise<void> => {
      const client = cluster.client({ region });
      for (let i = 0; faulting; i++) {
        try {
          await (i % 2 === 0 ? client.put(`k${i % 4}`, i) : client.get(`k${i % 4}`));
        } catch {
          await cluster.sleep(20);
        }
        calls++;
        watch.sample();
      }
    };
    await Promise.all([
      nemesis.run(3_000).then(() => {
        faulting = false;
      }),
      ...['us-east', 'eu-west', 'ap-south'].map(workload),
    ]);
    watch.sample();
    t.log(
      `${unsafe ?? 'correct'}: ${calls} calls, ${crashes} crashes looked at; ${watch.lines().length} lines${watch.lines().length > 0 ? `, first: ${watch.lines()[0]}` : ''}`,
    );
    return { lines: watch.lines(), crashes };
  });
}

test('embedded in a test (withCluster, as docs/testing.md shows it): a correct cluster under faults gives the watch nothing to say; with amnesia it names a lost promise', async (t) => {
  const seed = 3;
  const right = await embeddedRun(t, seed);
  t.true(right.crashes > 0, 'the faults crashed servers');
  t.deepEqual(right.lines, []);
  const wrong = await embeddedRun(t, seed, 'amnesia');
  t.true(
    wrong.lines.some((line) => line.endsWith('a promise was lost')),
    wrong.lines.join('\n'),
  );
});

test('a ProgressWatch refuses a threads cluster when made (its first crash ended the process)', async (t) => {
  const c = await startCluster({ regions: [{ name: 'r1', servers: 1 }], transport: 'threads' });
  try {
    const message = `cluster: a cluster with transport 'sim' (a ProgressWatch reads every copy's state in place, copyProgress()), got transport "threads"`;
    t.throws(() => ProgressWatch.attach(c), { instanceOf: ValidationError, message });
    t.throws(() => new ProgressWatch(c, 0), { instanceOf: ValidationError, message });
    t.is(c.listenerCount('crashing'), 0, 'attach left no listener behind');
    await c.crash('r1/0');
  } finally {
    await c.stop();
  }
});

test('copyProgress needs the simulator', async (t) => {
  const c = await startCluster({ regions: [{ name: 'r1', servers: 1 }], transport: 'threads' });
  try {
    const error = t.throws(() => c.copyProgress(), { instanceOf: ValidationError });
    t.regex(error!.message, /transport/);
  } finally {
    await c.stop();
  }
});
