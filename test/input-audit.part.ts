/**
 * Public inputs an audit of every public input found taken without a word (session 66), and
 * one taken by design that did more than asked. A partition naming a region on one side and one
 * of its servers (or its coordinator) on the other cut that node off from itself too. A second
 * argument to the calls that take one id or one change was ignored (`restart('r1/0', 'r1/1')`
 * restarted r1/0 alone). Nemesis weights leaving every kind out made a nemesis that drew
 * nothing. A plan or fault event naming a kind that does not exist was described. A misspelt
 * MERIDIAN_TICKS ran lazy ticks. Arguments after `meridian --version` or `meridian help` were
 * ignored. A fault episode or a commit protocol named twice was taken. Each error names the
 * field.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  describePlan,
  formatFaultEvent,
  Nemesis,
  runChecks,
  runScenario,
  shrinkSeed,
  startCluster,
  ValidationError,
  type Cluster,
  type FaultKind,
} from '../src/index.js';
import { Partitions, type Location } from '../src/net/model.js';

const config = {
  regions: [
    { name: 'r1', servers: 2 },
    { name: 'r2', servers: 1 },
  ],
  transport: 'sim',
  seed: 1,
  shards: 2,
} as const;

async function withSim(body: (cluster: Cluster) => Promise<void>): Promise<void> {
  const cluster = await startCluster({ ...config, regions: [...config.regions] });
  try {
    await body(cluster);
  } finally {
    await cluster.stop();
  }
}

test('a partition of a region against one of its servers (or its coordinator) leaves the node its messages to itself', (t) => {
  const partitions = new Partitions();
  partitions.add({ from: ['r1', 'r2'], to: ['r1/0', 'coordinator/r2'], oneWay: false });
  const at = (region: string, node: string): Location => ({ region, node });
  // r1/0 is cut off from the rest of r1 both ways, and from the front's balancer of r1 ...
  t.true(partitions.blocks(at('r1', 'r1/1'), at('r1', 'r1/0')));
  t.true(partitions.blocks(at('r1', 'r1/0'), at('r1', 'r1')));
  t.true(partitions.blocks(at('r1', 'front'), at('r1', 'r1/0')));
  // ... but not from itself (its heartbeat actor, its own messages): those were dropped as partitioned.
  t.false(partitions.blocks(at('r1', 'r1/0'), at('r1', 'r1/0')));
  t.false(partitions.blocks(at('r2', 'coordinator/r2'), at('r2', 'coordinator/r2')));
  // The front node holds every region's balancer: a cut between regions still parts them.
  const regions = new Partitions();
  regions.add({ from: ['r1'], to: ['r2'], oneWay: false });
  t.true(regions.blocks(at('r1', 'front'), at('r2', 'front')));
});

test('the calls that take one id or one change refuse a further argument, naming it (it was ignored)', async (t) => {
  await withSim(async (cluster) => {
    const extra = 'r1/1' as never;
    const message = /^arguments\[\d\]: nothing: \w+\(.*\) takes \d arguments?, got \d \("r1\/1" after \w+\)$/;
    for (const [name, call] of [
      ['restart', () => cluster.restart('r1/0', extra)],
      ['crash', () => cluster.crash('r1/0', {}, extra)],
      ['pause', () => cluster.pause('r1/0', extra)],
      ['resume', () => cluster.resume('r1/0', extra)],
      ['sleep', () => cluster.sleep(1, extra)],
    ] as const) {
      await t.throwsAsync(call(), { instanceOf: ValidationError, message }, name);
    }
    for (const [name, call] of [
      ['client', () => cluster.client({ region: 'r1' }, extra)],
      ['isDown', () => cluster.isDown('r1/0', extra)],
      ['isPaused', () => cluster.isPaused('r1/0', extra)],
      ['setClockSkew', () => cluster.setClockSkew('r1/0', 5, extra)],
      ['slowTimers', () => cluster.slowTimers('r1/0', 2, extra)],
      ['loseAccepts', () => cluster.loseAccepts('r1/0', true, extra)],
      ['requestCheckpoint', () => cluster.requestCheckpoint('r1/0', {}, extra)],
      ['crashAfterNextWrite', () => cluster.crashAfterNextWrite('r1/0', extra)],
      ['partition', () => cluster.partition(['r1'], ['r2'], {}, extra)],
      ['setNetwork', () => cluster.setNetwork({ loss: 0 }, extra)],
    ] as const) {
      t.throws(call, { instanceOf: ValidationError, message }, name);
    }
    t.false(cluster.isDown('r1/0'), 'nothing was done');
    t.deepEqual(cluster.currentPartitions(), []);
  });
});

test('nemesis weights that leave every kind of the pool out are refused, naming nemesis.weights (the nemesis drew nothing)', async (t) => {
  await withSim(async (cluster) => {
    t.throws(() => new Nemesis(cluster, { faults: ['crash', 'loss'], weights: { crash: 0, loss: 0 } }), {
      instanceOf: ConfigError,
      message: /^nemesis\.weights: expected a weight above 0 for at least one kind of nemesis\.faults \(crash, loss\)/,
    });
    // One kind left in is a schedule.
    t.deepEqual(new Nemesis(cluster, { faults: ['crash', 'loss'], weights: { crash: 0 } }).plan.weights, { crash: 0 });
  });
  // A scenario refuses it before its cluster starts.
  await t.throwsAsync(runScenario({ seed: 1, mode: 'active', nemesis: { faults: ['crash'], weights: { crash: 0 } } }), {
    instanceOf: ConfigError,
    message: /nemesis\.weights: expected a weight above 0/,
  });
});

test('a fault episode or a protocol named twice is refused, naming the field (each ran once, or twice the same run)', async (t) => {
  await t.throwsAsync(runScenario({ seed: 1, mode: 'active', onlyFaults: [1, 1] }), {
    instanceOf: ConfigError,
    message: 'options.onlyFaults: expected each fault episode once, got 1 twice, got an array of 2',
  });
  await t.throwsAsync(shrinkSeed({ seed: 1, mode: 'active', onlyFaults: [0, 2, 0] }), {
    instanceOf: ConfigError,
    message: /^task\.onlyFaults: expected each fault episode once, got 0 twice/,
  });
  await t.throwsAsync(runChecks({ seeds: 1, workload: 'txn', commits: ['2pc', 'paxos-commit', '2pc'] }), {
    instanceOf: ConfigError,
    message: /^options\.commits: expected each protocol once \(the txn workload runs once per protocol named\), got '2pc' twice/,
  });
  await withSim(async (cluster) => {
    t.throws(() => new Nemesis(cluster, { only: [3, 3] }), { instanceOf: ConfigError, message: /^nemesis\.only: expected each episode once, got 3 twice/ });
  });
});

test('describePlan and formatFaultEvent refuse a fault kind that does not exist, naming the field', (t) => {
  const plan = {
    seed: 1,
    faults: ['crash'] as FaultKind[],
    intervalMs: 1,
    faultMs: 1,
    crashMax: 1,
    partitionsMax: 1,
    lossRate: 0,
    duplicateRate: 0,
    spikeMs: 0,
  };
  t.regex(describePlan(plan), /^crash every ~1 ms/);
  t.throws(() => describePlan({ ...plan, faults: ['crash', 'bogus' as FaultKind] }), {
    instanceOf: ValidationError,
    message: /^plan\.faults\[1\]: a fault kind from crash, .*got "bogus"$/,
  });
  t.throws(() => describePlan({ ...plan, faults: [] }), {
    instanceOf: ValidationError,
    message: 'plan.faults: at least one fault kind (a plan draws from them), got an empty array',
  });
  t.regex(formatFaultEvent({ atMs: 1, action: 'heal', kind: 'heal', detail: '' }), /heal$/);
  t.throws(() => formatFaultEvent({ atMs: 1, action: 'start', kind: 'bogus' as FaultKind, detail: '' }), {
    instanceOf: ValidationError,
    message: /^event\.kind: a fault kind from crash, .*or 'heal', got "bogus"$/,
  });
});

/** `node ARGS` with MERIDIAN_TICKS set to `ticks` (or left out), its exit code and stderr. */
function node(args: readonly string[], ticks?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.MERIDIAN_TICKS;
  if (ticks !== undefined) env.MERIDIAN_TICKS = ticks;
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr }),
    );
  });
}

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const index = new URL('../src/index.js', import.meta.url).href;

test('a MERIDIAN_TICKS that names no mode is refused by the commands (exit 2) and by startCluster, naming it (lazy ticks ran)', async (t) => {
  const run = await node([cli, 'check', '--seed', '1'], 'Eager');
  t.is(run.code, 2, run.stdout + run.stderr);
  t.is(run.stderr, 'meridian check: environment.MERIDIAN_TICKS: expected one of lazy, eager, verify, or unset (lazy): a testing setting, got "Eager"\n');
  t.is(run.stdout, '', 'no seed ran');
  const script = `const { startCluster } = await import(${JSON.stringify(index)});
    await startCluster({ regions: [{ name: 'a', servers: 1 }], transport: 'sim' }).then(() => console.log('started'), (e) => console.log(e.constructor.name, e.message));`;
  const lib = await node(['--input-type=module', '-e', script], 'eagr');
  t.is(lib.stdout, 'ConfigError environment.MERIDIAN_TICKS: expected one of lazy, eager, verify, or unset (lazy): a testing setting, got "eagr"\n', lib.stderr);
});

test('meridian --version and meridian help refuse arguments after them (exit 2; they were ignored)', async (t) => {
  const version = await node([cli, '--version', '--json']);
  t.is(version.code, 2, version.stdout + version.stderr);
  t.regex(version.stderr, /^meridian: --version takes no arguments, got "--json"\n/);
  const help = await node([cli, 'help', 'check']);
  t.is(help.code, 2, help.stdout + help.stderr);
  t.regex(help.stderr, /^meridian: help takes no arguments, got "check" \(meridian COMMAND --help lists a command's flags\)\n/);
});
