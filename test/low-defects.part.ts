/**
 * Low findings left by sessions 64-66 (docs/findings.md's "Noticed" and "Left" lines), fixed in
 * session 67: each test fails on the code before its fix.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnswerTooLargeError, eventually, Nemesis, startCluster, TimeoutError, UnavailableError, ValidationError } from '../src/index.js';
import { WAIT_MS_MAX } from '../src/core/limits.js';
import { FileDurableStore } from '../src/runtime/durable-file.js';
import { checkHostLayout, checkLayout } from '../src/cluster/data-dir.js';
import { ConfigError } from '../src/index.js';
import { runPoolTasks } from '../src/harness/pool-tasks.js';
import { MeridianError } from '../src/index.js';
import { stalledHostOne } from './helpers/stalled-host.js';

// The transactional scenario's final read told an answer too large from the other refusals by
// a phrase of its message; the client dropped the answer's `tooLarge` flag, so nothing else
// could. Now the client makes such a read's error an AnswerTooLargeError.
test('a read whose answer is over messageBytesMax fails with AnswerTooLargeError; a write refused as too large does not', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'a', servers: 1 }], transport: 'sim', seed: 1, shards: 1, messageBytesMax: 4096 });
  try {
    const client = cluster.client({ region: 'a' });
    for (let i = 0; i < 6; i++) await client.transaction([{ op: 'append', key: 'L', value: 'x'.repeat(1_000) }]);
    for (const [what, call] of [
      ['get', () => client.get('L')],
      ['transaction of a get', () => client.transaction([{ op: 'get', key: 'L' }])],
    ] as const) {
      const error = await t.throwsAsync(call(), { instanceOf: AnswerTooLargeError }, what);
      t.true(error instanceof UnavailableError && error.definite, `${what}: still a definite UnavailableError`);
    }
    // One that wrote committed: not a read refused, a TimeoutError as before.
    const wrote = await t.throwsAsync(
      client.transaction([
        { op: 'get', key: 'L' },
        { op: 'put', key: 'w', value: 1 },
      ]),
    );
    t.true(wrote instanceof TimeoutError && !(wrote instanceof AnswerTooLargeError), wrote?.name);
  } finally {
    await cluster.stop();
  }
});

// sleep, Nemesis.run and eventually took any finite wait: 3_000_000 (ms for s) held a test for
// most of an hour, and sleep(1e300) in sim ran for ever (session 64's input audit).
test('sleep, Nemesis.run and eventually refuse a wait over an hour, naming the field and the range; an hour itself is taken by eventually', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'r', servers: 1 }], transport: 'sim', seed: 1 });
  try {
    const range = (min: number, got: string): string => `a number of milliseconds from ${min} to ${WAIT_MS_MAX} (an hour), got ${got}`;
    const over = WAIT_MS_MAX + 1;
    await t.throwsAsync(cluster.sleep(over), { instanceOf: ValidationError, message: `ms: ${range(0, String(over))}` });
    await t.throwsAsync(cluster.sleep(1e300), { instanceOf: ValidationError, message: `ms: ${range(0, '1e+300')}` });
    await t.throwsAsync(new Nemesis(cluster, { seed: 1 }).run(over), { instanceOf: ValidationError, message: `durationMs: ${range(0, String(over))}` });
    await t.throwsAsync(
      eventually(cluster, () => true, { timeoutMs: over }),
      { instanceOf: ValidationError, message: `options.timeoutMs: ${range(0, String(over))}` },
    );
    await t.throwsAsync(
      eventually(cluster, () => true, { intervalMs: over }),
      { instanceOf: ValidationError, message: `options.intervalMs: ${range(1, String(over))}` },
    );
    // The bound itself is taken (a check true at once: no wait).
    t.is(await eventually(cluster, () => 7, { timeoutMs: WAIT_MS_MAX, intervalMs: WAIT_MS_MAX }), 7);
  } finally {
    await cluster.stop();
  }
});

/** A temporary folder, removed at the test's end. */
function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-low-fixes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// A checkpoint whose write failed left `<log>.tmp` beside the log (its descriptor open), and the
// store went on: the actor's pending records, dropped for the checkpoint, never reached disk
// while later syncs let the messages that depend on them leave (session 66's resources audit).
test('FileDurableStore: a checkpoint that fails to write leaves no .tmp, and fails the store as a failed sync does', (t) => {
  const dir = tempDir(t);
  const store = new FileDurableStore(dir, false);
  store.append('a/0', [{ n: 1 }]);
  store.sync();
  store.append('a/0', [{ n: 2 }]);
  // A record msgpack cannot encode: the write fails after the copy was opened.
  const failed = t.throws(() => store.replace('a/0', [{ n: 2n ** 70n }]));
  t.regex(failed?.message ?? '', /^durable store: writing the checkpoint .*a_0\.log\.tmp failed \(.*too large.*\); no record is written from now on/);
  t.false(existsSync(`${store.fileOf('a/0')}.tmp`), 'the half-written copy is gone');
  t.throws(() => store.sync(), { is: failed });
  t.throws(() => store.replace('a/0', [{ n: 3 }]), { is: failed });
  store.close();
  // The old log is whole: what was synced before the failure.
  t.deepEqual(new FileDurableStore(dir, false).load('a/0'), [{ n: 1 }]);
});

test('FileDurableStore: a .tmp a crash left beside a log is never read, and goes when its actor loads', (t) => {
  const dir = tempDir(t);
  const store = new FileDurableStore(dir, false);
  store.append('a/0', [{ n: 1 }]);
  store.close();
  const tmp = `${store.fileOf('a/0')}.tmp`;
  writeFileSync(tmp, 'half a checkpoint');
  const reopened = new FileDurableStore(dir, false);
  t.deepEqual(reopened.load('a/0'), [{ n: 1 }]);
  t.false(existsSync(tmp));
  reopened.close();
});

// The pools of checkLinearizable and checkTransactionsParallel had no 'error' listener: a thread
// that failed with no task on it made piscina emit 'error', which ended the process (a module
// that throws as it loads, 3 tasks on 2 threads on piscina alone: the thread started in place of
// a failed one fails too, with no task, and the process died 1 run in 6); and a task's own
// thread failing rejected with the bare error, saying nothing of what the thread checked.
for (const [kind, module, keys, doing, thrown] of [
  [
    'whose task module throws as it loads',
    "throw new Error('this task module does not load');\n",
    ['k1', 'k2', 'k3'],
    /( with no task on it| \(checking key k\d\))/,
    'this task module does not load',
  ],
  [
    'whose thread dies under its task (an exception nothing catches)',
    "export default () => new Promise(() => { setTimeout(() => { throw new Error('a pool thread died'); }, 0); });\n",
    ['k1'],
    / \(checking key k1\)/,
    'a pool thread died',
  ],
] as const) {
  test(`a checker pool ${kind}: the call rejects naming what failed and what the thread checked; the process goes on`, async (t) => {
    const file = join(tempDir(t), 'task.mjs');
    writeFileSync(file, module);
    const error = await t.throwsAsync(
      runPoolTasks('checkTest', { filename: file, minThreads: 2, maxThreads: 2 }, keys, (key) => `checking key ${key}`),
      { instanceOf: MeridianError },
    );
    t.is((error as MeridianError).code, 'INTERNAL');
    t.regex(error?.message ?? '', new RegExp(`^checkTest: a pool thread failed${doing.source}: ${thrown}$`));
    t.log(error?.message);
  });
}

// The threads runtime's crash, restart and pause of a node awaited each host's answer with no
// bound: a host held in a step for good left the call pending for ever, and a crash of a node
// elsewhere waited as long for that host to hear of it.
test('threads: a pause of a node whose host never answers rejects naming the operation, the node and the host; a crash elsewhere is not held by it', async (t) => {
  const { rt, holds, held, late, release } = await stalledHostOne();
  try {
    t.true(holds, 'the host of echo/a holds');
    // On the code before, the pause waited for the stall's 5 s, then resolved.
    await t.throwsAsync(rt.pauseNode('echo/a', true), { instanceOf: TimeoutError, message: late('pause of node echo/a') });
    // Host 1 is told echo/b is dead when it runs again (its admin port keeps the call in order).
    await rt.crashNode('echo/b');
    t.true(held(), 'host 1 still held when the crash returned');
  } finally {
    await release();
  }
});

// A dataDir recorded the layout, replication and commit protocol, not messageBytesMax: a restart
// under a smaller one was taken, and a slot or command its logs hold, sized for the old limit,
// could no longer be sent alone (an accept, a catch-up, a part of a promise), so a shard could
// elect nobody.
test('a dataDir records the largest messageBytesMax its data was written under; a start with less is refused naming messageBytesMax, one with more taken', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'meridian-layout.json');
  const recorded = (): unknown => (JSON.parse(readFileSync(file, 'utf8')) as { messageBytesMax?: unknown }).messageBytesMax;
  const config = {
    regions: [{ name: 'a', servers: 1 }],
    shards: 2,
    replication: { mode: 'active', factor: 1 },
    commit: '2pc',
    messageBytesMax: 65_536,
  } as const;
  checkLayout(dir, config);
  t.is(recorded(), 65_536);
  const error = t.throws(() => checkLayout(dir, { ...config, messageBytesMax: 4_096 }), { instanceOf: ConfigError });
  t.is(error?.field, 'messageBytesMax');
  t.is(
    error?.message,
    `config.messageBytesMax: expected 65536 or more, as recorded in ${file} (its logs may hold slots and commands sized for a limit of 65536 bytes, ` +
      'which could no longer be sent to a replica catching up or a candidate: a shard could elect no leader; ' +
      'start with messageBytesMax 65536 or more, or on a new dataDir), got 4096',
  );
  t.is(recorded(), 65_536, 'a refused start changes nothing');
  // A larger limit takes everything a smaller one let through; going back is refused after it.
  checkLayout(dir, { ...config, messageBytesMax: 131_072 });
  t.is(recorded(), 131_072);
  t.throws(() => checkLayout(dir, config), { instanceOf: ConfigError, message: /^config\.messageBytesMax: expected 131072 or more/ });
  // A file an earlier version wrote (no limit recorded) is taken, and this start's recorded.
  const earlier = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  delete earlier['messageBytesMax'];
  writeFileSync(file, JSON.stringify(earlier));
  checkLayout(dir, config);
  t.is(recorded(), 65_536);
  // One that is not a limit Meridian takes is not its file: refused, not overwritten.
  writeFileSync(file, JSON.stringify({ ...earlier, messageBytesMax: 'big' }));
  t.throws(() => checkLayout(dir, config), { instanceOf: ConfigError, message: /\(meridian-layout\.json there is not one Meridian wrote\)/ });
});

test("a 'meridian host' data directory records the largest messageBytesMax of its assignments, and refuses one with less naming messageBytesMax", (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'meridian-layout.json');
  const recorded = (): unknown => (JSON.parse(readFileSync(file, 'utf8')) as { messageBytesMax?: unknown }).messageBytesMax;
  const record = {
    cluster: 'shop',
    layout: { shards: 2, regions: [{ name: 'a', servers: 1 }] },
    replication: { mode: 'active', factor: 1 } as const,
    nodes: ['a/0'],
  };
  checkHostLayout(dir, { ...record, messageBytesMax: 65_536 })();
  t.is(recorded(), 65_536);
  const error = t.throws(() => checkHostLayout(dir, { ...record, messageBytesMax: 4_096 }), { instanceOf: ConfigError });
  t.is(error?.field, 'messageBytesMax');
  t.regex(error?.message ?? '', /^config\.messageBytesMax: expected 65536 or more, as recorded in \S+ \(.* or on a new --data-dir\), got 4096$/);
  checkHostLayout(dir, { ...record, messageBytesMax: 131_072 })();
  t.is(recorded(), 131_072);
});
