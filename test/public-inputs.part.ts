import test from 'ava';
import {
  Cluster,
  HistoryRecorder,
  InvariantFailure,
  SimulationStalledError,
  checkTransactionsParallel,
  checkHistory,
  checkLinearizable,
  Client,
  ConfigError,
  describePlan,
  drawSwarm,
  formatFaultEvent,
  Nemesis,
  ProgressWatch,
  runChecks,
  shrinkSeed,
  startCluster,
  ValidationError,
} from '../src/index.js';

/**
 * Public values of src/index.ts that failed on a bad argument with a bare TypeError (found by
 * scripts/audit-inputs.mjs): each is now a ValidationError naming the argument and what it takes.
 */

test('describePlan refuses what is not a plan, naming the field (it read `faults` of undefined)', (t) => {
  for (const bad of [undefined, null, 7, 'plan', []]) {
    t.throws(() => describePlan(bad as never), {
      instanceOf: ValidationError,
      message: /^plan: a fault plan \(what drawSwarm returns, or nemesis\.plan\), got /,
    });
  }
  const plan = drawSwarm(7);
  t.throws(() => describePlan({ ...plan, faults: 'crash' } as never), {
    instanceOf: ValidationError,
    message: 'plan.faults: an array of fault kinds, got "crash"',
  });
  t.throws(() => describePlan({ ...plan, intervalMs: undefined } as never), {
    instanceOf: ValidationError,
    message: 'plan.intervalMs: a finite number, got undefined',
  });
  t.throws(() => describePlan({ ...plan, weights: null } as never), { instanceOf: ValidationError, message: /^plan\.weights: .*, got null$/ });
  // A valid plan prints as before.
  t.regex(
    describePlan(plan),
    /^[a-z, -]+ every ~\d+ ms, each ~\d+ ms \(seed 7, crashMax \d, partitionsMax \d, loss 0\.\d{3}, duplicate 0\.\d{3}, spike \d+ ms\)$/,
  );
  t.regex(describePlan({ ...plan, weights: { crash: 2 } }), /, weights crash 2\)$/);
});

test('formatFaultEvent refuses what is not a fault event, naming the field (it read `atMs` of undefined)', (t) => {
  t.throws(() => formatFaultEvent(undefined as never), {
    instanceOf: ValidationError,
    message: 'event: a fault event (an entry of nemesis.log), got undefined',
  });
  t.throws(() => formatFaultEvent(null as never), { instanceOf: ValidationError, message: /^event: .*, got null$/ });
  const event = { atMs: 812, kind: 'crash', action: 'start', detail: 'r1/0' } as const;
  t.throws(() => formatFaultEvent({ ...event, atMs: 'soon' } as never), {
    instanceOf: ValidationError,
    message: 'event.atMs: a finite number of milliseconds, got "soon"',
  });
  t.throws(() => formatFaultEvent({ ...event, action: 'begin' } as never), {
    instanceOf: ValidationError,
    message: 'event.action: one of start, end, heal, got "begin"',
  });
  t.throws(() => formatFaultEvent({ ...event, kind: undefined } as never), { instanceOf: ValidationError, message: 'event.kind: a fault kind, got undefined' });
  t.throws(() => formatFaultEvent({ ...event, detail: 3 } as never), { instanceOf: ValidationError, message: 'event.detail: a string, got 3' });
  t.is(formatFaultEvent(event), '   812 ms  start crash r1/0');
  t.is(formatFaultEvent({ atMs: 900, kind: 'heal', action: 'heal', detail: '' }), '   900 ms  heal');
});

test('checkHistory with options null is a ValidationError (a default parameter read options.shrink first)', (t) => {
  t.throws(() => checkHistory([], 'register', null as never), {
    instanceOf: ValidationError,
    message: 'options: an object { stepsMax?, shrink?, unseenFirst? }, got null',
  });
  t.is(checkHistory([], 'register', { shrink: false }).verdict, 'linearizable');
});

test('ProgressWatch refuses a cluster or t0 it cannot use when made, not at its first sample()', (t) => {
  for (const bad of [undefined, null, 5, {}, { copyProgress: () => [] }]) {
    t.throws(() => new ProgressWatch(bad as never, 0), {
      instanceOf: ValidationError,
      message: /^cluster: a cluster \(what startCluster returns; an object with copyProgress\(\), now\(\)\), got /,
    });
  }
  const fake = { copyProgress: () => [], now: () => 0 };
  for (const bad of [undefined, null, 'x', Number.NaN]) {
    t.throws(() => new ProgressWatch(fake, bad as never), {
      instanceOf: ValidationError,
      message: /^t0: a finite number \(cluster time, as cluster.now\(\) gives it\), got /,
    });
  }
  t.throws(() => ProgressWatch.attach(null as never), { instanceOf: ValidationError, message: /^cluster: .*copyProgress\(\), now\(\), on\(\)\), got null$/ });
  t.throws(() => ProgressWatch.attach(fake as never), { instanceOf: ValidationError, message: /^cluster: .*, got an object$/ });
  const watch = new ProgressWatch(fake, 0);
  watch.sample();
  t.deepEqual(watch.lines(), []);
});

test('new Client() says a client comes from cluster.client() (it failed reading `region` of undefined)', async (t) => {
  t.throws(() => new Client(undefined as never, undefined as never), {
    instanceOf: ValidationError,
    message: "deps: the cluster's own (make a client with cluster.client({ region }), not new Client()), got undefined",
  });
  t.throws(() => new Client({} as never, { region: 'r' }), { instanceOf: ValidationError, message: /^deps: .*, got an object$/ });
  const deps = { runtime: { kind: 'sim' }, host: { addExternal: () => undefined }, newId: () => 'c1' };
  t.throws(() => new Client(deps as never, undefined as never), {
    instanceOf: ValidationError,
    message: "options: { region: a region's name } (make a client with cluster.client({ region })), got undefined",
  });
  const cluster = await startCluster({ regions: [{ name: 'r', servers: 1 }], transport: 'sim', seed: 1 });
  try {
    const client = cluster.client({ region: 'r' });
    t.true(client instanceof Client);
    await client.put('k', 1);
    t.is(await client.get('k'), 1);
  } finally {
    await cluster.stop();
  }
});

test('cluster.sleep rejects a bad duration, and setClockSkew, leaderOf and slowTimers throw on a bad number, each named as given (NaN was reported as "got null", and sleep threw)', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'r', servers: 1 }], transport: 'sim', seed: 1 });
  try {
    for (const [ms, got] of [
      [Number.NaN, 'NaN'],
      [-1, '-1'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      ['5', '"5"'],
    ] as const) {
      await t.throwsAsync(cluster.sleep(ms as number), {
        instanceOf: ValidationError,
        message: `ms: a number of milliseconds from 0 to 3600000 (an hour), got ${got}`,
      });
    }
    await cluster.sleep(0);
    t.throws(() => cluster.setClockSkew('r/0', Number.NaN), {
      instanceOf: ValidationError,
      message: 'ms: a finite offset in ms, at most one day either way, got NaN',
    });
    t.throws(() => cluster.setClockSkew('r/0', 86_400_001), { instanceOf: ValidationError, message: /got 86400001$/ });
    t.throws(() => cluster.leaderOf(Number.NaN), { instanceOf: ValidationError, message: 'shard: an integer from 0 to 15, got NaN' });
    t.throws(() => cluster.slowTimers('r/0', Number.POSITIVE_INFINITY), {
      instanceOf: ValidationError,
      message: /^factor: a number from 1 to \d+, got Infinity$/,
    });
  } finally {
    await cluster.stop();
  }
});

test('checkHistory and checkLinearizable take shrink and unseenFirst as booleans only, and workers null is refused (all were read as the default)', async (t) => {
  for (const flag of ['shrink', 'unseenFirst']) {
    for (const bad of ['false', 0, null]) {
      const message = `options.${flag}: expected a boolean, got ${bad === 'false' ? '"false"' : String(bad)}`;
      t.throws(() => checkHistory([], 'register', { [flag]: bad }), { instanceOf: ValidationError, message });
      await t.throwsAsync(checkLinearizable([], 'register', { [flag]: bad, inline: true }), { instanceOf: ValidationError, message });
    }
  }
  await t.throwsAsync(checkLinearizable([], 'register', { workers: null as never }), {
    instanceOf: ValidationError,
    message: 'options.workers: expected an integer from 1 to 64, got null',
  });
  t.is(checkHistory([], 'register', { shrink: true, unseenFirst: false }).verdict, 'linearizable');
  t.is((await checkLinearizable([], 'register', { shrink: false, inline: true })).verdict, 'linearizable');
});

test('new Nemesis(cluster, []) is refused like any options that are not an object (an array was read as {})', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'r', servers: 1 }], transport: 'sim', seed: 1 });
  try {
    t.throws(() => new Nemesis(cluster, [] as never), { instanceOf: ConfigError, message: 'nemesis: expected an object of options, got an array of 0' });
    t.throws(() => new Nemesis(cluster, 5 as never), { instanceOf: ConfigError, message: 'nemesis: expected an object of options, got 5' });
    t.is(new Nemesis(cluster, { seed: 3 }).plan.seed, 3);
    // run()'s duration is an argument, not a config field: it said config.durationMs.
    const nemesis = new Nemesis(cluster, { seed: 3 });
    await t.throwsAsync(nemesis.run(-5), { instanceOf: ValidationError, message: 'durationMs: a number of milliseconds from 0 to 3600000 (an hour), got -5' });
    await t.throwsAsync(nemesis.run(10, { heal: 'yes' } as never), { instanceOf: ValidationError, message: 'options.heal: true or false, got "yes"' });
  } finally {
    await cluster.stop();
  }
});

test('new Cluster() says a cluster comes from startCluster (it failed reading `seed` of undefined)', (t) => {
  for (const bad of [undefined, null, 7, {}]) {
    t.throws(() => new Cluster(bad as never, undefined as never), {
      instanceOf: ValidationError,
      message: /^config: a resolved configuration from startCluster \(start a cluster with startCluster\(config\), not new Cluster\(\)\), got /,
    });
  }
});

test('HistoryRecorder.invoke and complete check their arguments (invoke(undefined) failed reading `client`)', (t) => {
  const recorder = new HistoryRecorder({ now: () => 5 });
  t.throws(() => recorder.invoke(undefined as never), { instanceOf: ValidationError, message: 'call: { client, key, kind, input? }, got undefined' });
  t.throws(() => recorder.invoke(null as never), { instanceOf: ValidationError, message: 'call: { client, key, kind, input? }, got null' });
  t.throws(() => recorder.invoke({ client: 1, key: 'k', kind: 'get' } as never), { instanceOf: ValidationError, message: 'call.client: a string, got 1' });
  t.throws(() => recorder.invoke({ client: 'c', key: null, kind: 'get' } as never), { instanceOf: ValidationError, message: 'call.key: a string, got null' });
  t.throws(() => recorder.invoke({ client: 'c', key: 'k', kind: 'scan' } as never), {
    instanceOf: ValidationError,
    message: /^call\.kind: one of get, put, .*, got "scan"$/,
  });
  const id = recorder.invoke({ client: 'c', key: 'k', kind: 'put', input: 1 });
  t.throws(() => recorder.complete(id, 'done' as never), { instanceOf: ValidationError, message: 'outcome: one of ok, fail, unknown, got "done"' });
  // A refused call records nothing; a good one records as before.
  recorder.complete(id, 'ok');
  t.deepEqual(recorder.toHistory(), [{ id: 0, client: 'c', key: 'k', kind: 'put', input: 1, invokeMs: 5, completeMs: 5, outcome: 'ok' }]);
});

test('HistoryRecorder refuses a misspelt call field and a clock that gives no finite time, when called (both failed only later, in checkHistory)', (t) => {
  let time: unknown = 5;
  const recorder = new HistoryRecorder({ now: () => time as number });
  t.throws(() => recorder.invoke({ client: 'c', key: 'k', kind: 'put', inptu: 5 } as never), {
    instanceOf: ValidationError,
    message: 'call.inptu: not a field of a call (client, key, kind, input are)',
  });
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, undefined, '5']) {
    time = bad;
    t.throws(() => recorder.invoke({ client: 'c', key: 'k', kind: 'put', input: 1 }), {
      instanceOf: ValidationError,
      message: `clock: an object whose now() gives finite milliseconds; it gave ${typeof bad === 'string' ? '"5"' : String(bad)}`,
    });
  }
  t.is(recorder.pending, 0, 'a refused invoke records nothing');
  time = 5;
  const id = recorder.invoke({ client: 'c', key: 'k', kind: 'put', input: 1 });
  time = Number.NaN;
  t.throws(() => recorder.complete(id, 'ok'), { instanceOf: ValidationError, message: /^clock: .*; it gave NaN$/ });
  t.is(recorder.pending, 1, 'a refused complete leaves the operation open');
  time = 7;
  recorder.complete(id, 'ok');
  t.deepEqual(recorder.toHistory(), [{ id: 0, client: 'c', key: 'k', kind: 'put', input: 1, invokeMs: 5, completeMs: 7, outcome: 'ok' }]);
  t.is(checkHistory(recorder.toHistory(), 'register').verdict, 'linearizable');
});

test('config fields and options given as null are refused, not read as absent (replication, balancer, heartbeat, preVote, metrics port and host, txn check workers)', async (t) => {
  const base = { regions: [{ name: 'r', servers: 1 }], transport: 'sim' as const, seed: 1 };
  for (const field of ['replication', 'balancer', 'heartbeat'] as const) {
    await t.throwsAsync(startCluster({ ...base, [field]: null } as never), {
      instanceOf: ConfigError,
      message: new RegExp(`^config\\.${field}: .*, got null$`),
    });
  }
  await t.throwsAsync(startCluster({ ...base, replication: { mode: 'none', preVote: null } } as never), {
    instanceOf: ConfigError,
    message: 'config.replication.preVote: expected true or false, got null',
  });
  const cluster = await startCluster(base);
  try {
    for (const field of ['port', 'host'] as const) {
      await t.throwsAsync(cluster.serveMetrics({ [field]: null }), { instanceOf: ValidationError, message: new RegExp(`^options\\.${field}: .*, got null$`) });
    }
  } finally {
    await cluster.stop();
  }
  await t.throwsAsync(checkTransactionsParallel([], { model: 'list-append', workers: null } as never), {
    instanceOf: ValidationError,
    message: /^options\.workers: expected an integer from 1 to \d+, got null$/,
  });
});

test('error classes made by hand with the wrong arguments still make an error (they threw TypeErrors)', (t) => {
  t.regex(new SimulationStalledError(undefined as never, 3).message, /^simulation stalled: 3 events ran at virtual time undefined ms/);
  t.regex(new InvariantFailure(undefined as never, 1).message, /^assertions failed inside actors \(seed 1\), but none was given: undefined$/);
  t.regex(new InvariantFailure([] as never, 1).message, /but none was given: an array of 0$/);
  t.regex(new SimulationStalledError(12.5, 3).message, /at virtual time 12\.500 ms/);
});

test('runChecks and shrinkSeed refuse commits that is no array, randomShape that is no boolean, and null for any field (commits: 42 was a TypeError, randomShape: "x" ran, null meant the default)', async (t) => {
  for (const bad of [42, {}, 'x']) {
    await t.throwsAsync(runChecks({ seeds: 1, commits: bad as never }), {
      instanceOf: ConfigError,
      message: /^options\.commits: expected an array of 2pc, paxos-commit/,
    });
    await t.throwsAsync(shrinkSeed({ seed: 1, mode: 'active', commits: bad as never }), {
      instanceOf: ConfigError,
      message: /^task\.commits: expected an array of/,
    });
  }
  for (const bad of ['x', 1, {}]) {
    await t.throwsAsync(runChecks({ seeds: 1, randomShape: bad as never }), {
      instanceOf: ConfigError,
      message: /^options\.randomShape: expected true or false/,
    });
  }
  // null is no default (it was for workers, mode, from, commits...): as in a cluster's config.
  for (const field of ['workers', 'mode', 'from', 'commits', 'randomShape', 'keys']) {
    await t.throwsAsync(runChecks({ seeds: 1, [field]: null }), {
      instanceOf: ConfigError,
      message: new RegExp(`^options\\.${field}: expected (an integer|a value, or left out)`),
    });
  }
  await t.throwsAsync(shrinkSeed({ seed: 1, mode: 'active', faultMs: null as never }), {
    instanceOf: ConfigError,
    message: /^task\.faultMs: expected a value, or left out/,
  });
  await t.throwsAsync(shrinkSeed({ seed: 1, mode: 'active' }, { maxRuns: null as never }), {
    instanceOf: ConfigError,
    message: /^options\.maxRuns: expected a value, or left out/,
  });
});

test('shrinkSeed checks its task and options before any run, as runChecks checks its options', async (t) => {
  await t.throwsAsync(shrinkSeed(undefined as never), { instanceOf: ValidationError, message: /^task: an object/ });
  await t.throwsAsync(shrinkSeed({ seed: 1, mode: 'active', sede: 2 } as never), { instanceOf: ValidationError, message: /^task\.sede: not an option here/ });
  await t.throwsAsync(shrinkSeed({ seed: -1, mode: 'active' }), { instanceOf: ConfigError, message: /^task\.seed: expected an integer from 0 to 2\^32 - 1/ });
  await t.throwsAsync(shrinkSeed({ seed: 1, mode: 'lazy' as never }), { instanceOf: ConfigError, message: /^task\.mode: expected active, passive, hybrid/ });
  await t.throwsAsync(shrinkSeed({ seed: 1, mode: 'active', onlyFaults: [1, -2] }), {
    instanceOf: ConfigError,
    message: /^task\.onlyFaults: expected an array of fault episode indexes/,
  });
  // A hole (some() skipped it: the episodes ran as if it were not there).
  await t.throwsAsync(shrinkSeed({ seed: 1, mode: 'active', onlyFaults: Object.assign([], { 1: 0 }) }), {
    instanceOf: ConfigError,
    message: /^task\.onlyFaults: expected an array of fault episode indexes/,
  });
  await t.throwsAsync(shrinkSeed({ seed: 1, mode: 'active', unsafe: 'nope' as never }), { instanceOf: ConfigError, message: /^task\.unsafe: / });
  await t.throwsAsync(shrinkSeed({ seed: 1, mode: 'active' }, { maxRun: 3 } as never), {
    instanceOf: ValidationError,
    message: /^options\.maxRun: not an option here/,
  });
});

test('runChecks refuses seeds past 2^32 - 1 and faults that are no array or have holes, before any seed runs (each seed past it failed as "the run threw"; faults: "crash" on threads was a TypeError)', async (t) => {
  await t.throwsAsync(runChecks({ seeds: 1, from: 2 ** 32 }), {
    instanceOf: ConfigError,
    message: 'options.from: expected an integer from 0 to 2^32 - 1 (the first seed), got 4294967296',
  });
  await t.throwsAsync(runChecks({ seeds: 3, from: 2 ** 32 - 2 }), {
    instanceOf: ConfigError,
    message: 'options.seeds: expected an integer from 1 to 2 (from seed 4294967294: seeds end at 2^32 - 1), got 3',
  });
  // An array with a hole at 0 (forEach, some and every skip holes).
  const holed = Object.assign([], { 1: 'crash' });
  for (const transport of ['sim', 'threads'] as const) {
    for (const bad of ['crash', {}, [undefined, 'crash'], holed]) {
      await t.throwsAsync(runChecks({ seeds: 1, transport, faults: bad as never }), {
        instanceOf: ConfigError,
        message: /^options\.faults: expected a non-empty array of crash, /,
      });
    }
  }
  await t.throwsAsync(shrinkSeed({ seed: 1, mode: 'active', faults: holed as never }), {
    instanceOf: ConfigError,
    message: /^task\.faults: expected a non-empty array of crash, /,
  });
});
