// Calls every value src/index.ts exports (functions, constructors, and the methods of a
// cluster, a client and a nemesis) with undefined, null, a wrong type and an out-of-range
// value, one argument at a time (the others valid), and lists every call that throws
// anything but a MeridianError (ValidationError, ConfigError, ...) or does not settle, or whose
// error reports NaN as null (JSON.stringify's way: "got null" for a NaN given).
// Run after a build: node scripts/audit-inputs.mjs [--all] (--all lists the good ones too).
import { readFileSync } from 'node:fs';
import { setTimeout, clearTimeout } from 'node:timers';
import * as api from '../dist/src/index.js';
// The option keys each one checks against (not exported by the package): every field is probed, new ones too.
import { SCENARIO_OPTION_KEYS } from '../dist/src/harness/scenario.js';
import { TXN_SCENARIO_OPTION_KEYS } from '../dist/src/harness/txn-scenario.js';
import { TOP_LEVEL_KEYS } from '../dist/src/cluster/config.js';
import { CHECK_RUN_OPTION_FIELDS, SCENARIO_TASK_FIELDS } from '../dist/src/harness/check-runner.js';

/** The cluster's private methods (TypeScript's `private`, still on the prototype at run time): not probed. */
const PRIVATE = new Set(
  [...readFileSync(new URL('../dist/src/cluster/cluster.d.ts', import.meta.url), 'utf8').matchAll(/^\s+private (?:readonly )?(\w+)/gm)].map((m) => m[1]),
);

const HANG_MS = 3_000;
const all = process.argv.includes('--all');
const BAD = [
  ['undefined', undefined],
  ['null', null],
  ['a string', 'x'],
  ['a number', 42],
  ['-1', -1],
  ['NaN', Number.NaN],
  ['an object', {}],
  ['an array', []],
];
const found = [];
let calls = 0;

/** Runs fn(); a throw, a rejection or a hang that is no MeridianError is a finding, and so is "got null" for a NaN given (`what`). */
async function probe(label, fn, hangMs = HANG_MS, what = '') {
  calls++;
  let outcome;
  try {
    const value = fn();
    if (value !== null && typeof value === 'object' && typeof value.then === 'function') {
      let timer;
      const hang = new Promise((resolve) => (timer = setTimeout(() => resolve('HANG'), hangMs)));
      const settled = await Promise.race([
        value.then(
          () => 'ok',
          (e) => e,
        ),
        hang,
      ]);
      clearTimeout(timer);
      outcome = settled;
    } else outcome = 'ok';
  } catch (error) {
    outcome = error;
  }
  if (outcome === 'HANG') found.push(`${label}: did not settle in ${hangMs} ms`);
  else if (outcome !== 'ok' && !(outcome instanceof api.MeridianError))
    found.push(`${label}: ${outcome?.constructor?.name ?? typeof outcome}: ${String(outcome?.message ?? outcome).split('\n')[0]}`);
  else if (what === 'NaN' && outcome !== 'ok' && /\bgot null\b/.test(outcome.message))
    found.push(`${label}: reports the NaN given as null: ${outcome.message}`);
  else if (all) console.log(`  ${label}: ${outcome === 'ok' ? 'accepted' : `${outcome.name}: ${outcome.message}`}`);
}

/** Each argument of `good` replaced in turn by each bad value. */
async function each(name, good, call) {
  for (let i = 0; i < Math.max(good.length, 1); i++) {
    for (const [what, bad] of BAD) {
      const args = [...good];
      args[i] = bad;
      await probe(`${name} arg ${i} = ${what}`, () => call(...args), HANG_MS, what);
    }
  }
  // No arguments at all.
  await probe(`${name}()`, () => call());
}

/** Each field of the options object `base` (the call's argument `at`) set in turn to each bad value but undefined (which means the default). */
async function fields(name, args, at, names, call, hangMs = HANG_MS) {
  for (const field of names) {
    for (const [what, bad] of BAD) {
      if (bad === undefined) continue;
      const given = [...args];
      given[at] = { ...args[at], [field]: bad };
      await probe(`${name} ${field} = ${what}`, () => call(...given), hangMs, what);
    }
  }
}

const plan = api.drawSwarm(1);
const event = { atMs: 1, kind: 'crash', action: 'start', detail: 'r/0' };
const history = [{ id: 1, client: 'c', key: 'k', kind: 'put', input: 1, output: undefined, outcome: 'ok', invokeMs: 0, completeMs: 1 }];
const elle = [
  { type: 'invoke', process: 0, f: 'txn', value: [['append', 'k', 1]], index: 0 },
  { type: 'ok', process: 0, f: 'txn', value: [['append', 'k', 1]], index: 1 },
];

await each('describePlan', [plan], (p) => api.describePlan(p));
await each('formatFaultEvent', [event], (e) => api.formatFaultEvent(e));
await each('drawSwarm', [1], (...a) => api.drawSwarm(...a));
await each('drawShape', [1], (s) => api.drawShape(s));
await each('defaultCrashMax', [3], (f) => api.defaultCrashMax(f));
await each('checkHistory', [history, 'register'], (h, m, o) => api.checkHistory(h, m, o));
await each('checkHistory options', [history, 'register', {}], (h, m, o) => api.checkHistory(h, m, o));
await each('checkLinearizable', [history, 'register', { inline: true }], (h, m, o) => api.checkLinearizable(h, m, o));
await each('checkTransactions', [elle, { model: 'list-append', consistency: 'serializable' }], (h, o) => api.checkTransactions(h, o));
await each('checkTransactionsParallel', [elle, { model: 'list-append', consistency: 'serializable', workers: 1 }], (h, o) =>
  api.checkTransactionsParallel(h, o),
);
await each('new HistoryRecorder', [{ now: () => 0 }], (c) => new api.HistoryRecorder(c));
const recorder = new api.HistoryRecorder({ now: () => 0 });
let nextClient = 0;
await each('historyRecorder.invoke', [{ client: 'c', key: 'k', kind: 'put', input: 1 }], (call) => recorder.invoke(call));
await fields('historyRecorder.invoke', [{ client: 'c', key: 'k', kind: 'put', input: 1 }], 0, ['client', 'key', 'kind'], (call) =>
  recorder.invoke({ ...call, client: call.client === 'c' ? `c${nextClient++}` : call.client }),
);
await each('historyRecorder.complete', [0, 'ok'], (id, outcome) =>
  recorder.complete(id === 0 ? recorder.invoke({ client: `c${nextClient++}`, key: 'k', kind: 'put', input: 1 }) : id, outcome),
);
await each('new ProgressWatch', [{ copyProgress: () => [], now: () => 0 }, 0], (c, t0) => new api.ProgressWatch(c, t0));
await each('new ProgressWatch(...).sample()', [{ copyProgress: () => [], now: () => 0 }, 0], (c, t0) => new api.ProgressWatch(c, t0).sample());
await each('new Client', [{}, { region: 'r' }], (d, o) => new api.Client(d, o));
await each('new Cluster', [], (...a) => new api.Cluster(...a));
await each('startCluster', [{ regions: [{ name: 'r', servers: 1 }], transport: 'sim', seed: 1 }], async (c) => (await api.startCluster(c)).stop());
await each('runScenario', [{ seed: 1, transport: 'sim', durationMs: 10 }], (o) => api.runScenario(o));
await each('runBankScenario', [{ seed: 1, durationMs: 10 }], (o) => api.runBankScenario(o));
const TXN = { seed: 1, commit: '2pc', clients: 1, keys: 1, faultMs: 10, livenessTxns: 0, regions: 2, servers: 1, factor: 1, shards: 1 };
await each('runTxnScenario', [TXN], (o) => api.runTxnScenario(o));
const snapshot = { families: [] };
await each('sampleValue', [snapshot, 'x', {}], (s, n, l) => api.sampleValue(s, n, l));
await each('histogramSeries', [snapshot, 'x', {}], (s, n, l) => api.histogramSeries(s, n, l));
const t = { log() {}, teardown() {} };
await each('withCluster', [t, { regions: [{ name: 'r', servers: 1 }], transport: 'sim', seed: 1 }, async () => 1], (tt, c, b) => api.withCluster(tt, c, b));
for (const E of [
  'MeridianError',
  'ConfigError',
  'ValidationError',
  'UnavailableError',
  'NatsUnreachableError',
  'ControlError',
  'TimeoutError',
  'AbortedError',
  'StoppedError',
  'HostExitedError',
]) {
  await each(`new ${E}`, [], (...a) => new api[E](...a));
}
await each('new SimulationStalledError', [1, 2], (a, b) => new api.SimulationStalledError(a, b));
await each('new InvariantFailure', ['x'], (...a) => new api.InvariantFailure(...a));

// Options, field by field.
const SCENARIO = { seed: 1, mode: 'none', clients: 1, keys: 1, faultMs: 10, livenessOps: 0, regions: 2, servers: 1, factor: 1, shards: 1 };
await fields('runScenario', [SCENARIO], 0, SCENARIO_OPTION_KEYS, (o) => api.runScenario(o), 60_000);
await fields('runTxnScenario', [TXN], 0, TXN_SCENARIO_OPTION_KEYS, (o) => api.runTxnScenario(o), 60_000);
await fields(
  'runBankScenario',
  [{ seed: 1, mode: 'active', commit: '2pc', accounts: 2, clients: 1, faultMs: 10 }],
  0,
  ['seed', 'mode', 'commit', 'accounts', 'clients', 'faultMs', 'partitions', 'crashes', 'loss', 'transport', 'nats'],
  (o) => api.runBankScenario(o),
  60_000,
);
await fields('checkTransactions', [elle, { model: 'list-append', consistency: 'serializable' }], 1, ['model', 'consistency'], (h, o) =>
  api.checkTransactions(h, o),
);
await fields(
  'checkTransactionsParallel',
  [elle, { model: 'list-append', consistency: 'serializable', workers: 1 }],
  1,
  ['model', 'consistency', 'workers', 'inline'],
  (h, o) => api.checkTransactionsParallel(h, o),
);
await fields('checkHistory', [history, 'register', {}], 2, ['stepsMax', 'shrink', 'unseenFirst'], (h, m, o) => api.checkHistory(h, m, o));
await fields('checkLinearizable', [history, 'register', { inline: true }], 2, ['stepsMax', 'shrink', 'unseenFirst', 'workers', 'inline'], (h, m, o) =>
  api.checkLinearizable(h, m, o),
);
await fields(
  'startCluster',
  [{ regions: [{ name: 'r', servers: 1 }], transport: 'sim', seed: 1 }],
  0,
  [...TOP_LEVEL_KEYS],
  async (c) => (await api.startCluster(c)).stop(),
  30_000,
);

// Many seeds (a pool thread each run), a pool (closed at once), a shrink (one run of the safe code: nothing to shrink).
const CHECK = { seeds: 1, workers: 1, faultMs: 500 };
await each('runChecks', [CHECK], (o) => api.runChecks(o));
await fields('runChecks', [CHECK], 0, CHECK_RUN_OPTION_FIELDS, (o) => api.runChecks(o), 60_000);
await each('createCheckPool', [{ workers: 1 }], (o) => api.createCheckPool(o).close());
await fields('createCheckPool', [{ workers: 1 }], 0, ['workers'], (o) => api.createCheckPool(o).close());
const TASK = { seed: 1, mode: 'active', faultMs: 500 };
await each('shrinkSeed', [TASK, { maxRuns: 1 }], (t, o) => api.shrinkSeed(t, o));
await fields('shrinkSeed', [TASK, { maxRuns: 1 }], 0, SCENARIO_TASK_FIELDS, (t, o) => api.shrinkSeed(t, o), 60_000);
await fields('shrinkSeed', [TASK, { maxRuns: 1 }], 1, ['maxRuns', 'onProgress', 'signal'], (t, o) => api.shrinkSeed(t, o), 60_000);

// Methods of a live (simulated) cluster, a client and a nemesis.
const cluster = await api.startCluster({ regions: [{ name: 'r', servers: 1 }], transport: 'sim', seed: 1 });
try {
  await each('eventually', [cluster, () => true, { timeoutMs: 100 }], (c, f, o) => api.eventually(c, f, o));
  await each('new Nemesis', [cluster, {}], (c, o) => new api.Nemesis(c, o));
  await fields(
    'new Nemesis',
    [cluster, { seed: 1 }],
    1,
    ['faults', 'swarm', 'seed', 'intervalMs', 'faultMs', 'crashMax', 'partitionsMax', 'lossRate', 'duplicateRate', 'spikeMs', 'weights', 'only', 'baseline'],
    (c, o) => new api.Nemesis(c, o),
  );
  await fields('eventually', [cluster, () => true, { timeoutMs: 100 }], 2, ['timeoutMs', 'intervalMs', 'message'], (c, f, o) => api.eventually(c, f, o));
  await fields('cluster.serveMetrics', [{ port: 0 }], 0, ['port', 'host'], async (o) => (await cluster.serveMetrics(o)).close());
  const nemesis = new api.Nemesis(cluster, { seed: 1 });
  await each('nemesis.run', [0, {}], (d, o) => nemesis.run(d, o));
  const client = cluster.client({ region: 'r' });
  await each('cluster.client', [{ region: 'r' }], (o) => cluster.client(o));
  await each('client.put', ['k', 1], (k, v) => client.put(k, v));
  await each('client.get', ['k', {}], (k, o) => client.get(k, o));
  await each('client.delete', ['k'], (k) => client.delete(k));
  await each('client.cas', ['k', 1, 2], (k, e, n) => client.cas(k, e, n));
  await each('client.transaction', [[{ op: 'put', key: 'k', value: 1 }]], (ops) => client.transaction(ops));
  const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(cluster)).filter(
    (m) => m !== 'constructor' && typeof cluster[m] === 'function' && !['stop', 'client', 'onHostEvent'].includes(m) && !PRIVATE.has(m),
  );
  for (const m of methods) {
    // One argument at a time, the second call given one valid-looking first argument.
    for (const [what, bad] of BAD) await probe(`cluster.${m}(${what})`, () => cluster[m](bad), HANG_MS, what);
    await probe(`cluster.${m}('r/0', NaN)`, () => cluster[m]('r/0', Number.NaN), HANG_MS, 'NaN');
    // Restart anything a probe crashed or paused, so the next probes see a live cluster.
    for (const id of ['r/0', 'coordinator/r']) {
      try {
        if (cluster.isDown?.(id)) await cluster.restart(id);
      } catch {
        /* not down or not restartable */
      }
    }
  }
} finally {
  await cluster.stop();
}

console.log(`${calls} calls; ${found.length} threw something other than a MeridianError, did not settle or reported a NaN as null:`);
for (const line of found) console.log(`  ${line}`);
