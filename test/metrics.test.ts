import test from 'ava';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Prng } from '../src/core/prng.js';
import { StoppedError, ValidationError } from '../src/core/errors.js';
import { histogramSeries, sampleValue, startCluster, type ClusterConfig, type MetricsSnapshot } from '../src/index.js';
import { LogLinearHistogram, PROMETHEUS_CONTENT_TYPE, Registry, toPrometheusText } from '../src/metrics/index.js';
import { METRIC_SERIES_MAX } from '../src/metrics/registry.js';
import { isLoopbackHost, startMetricsServer } from '../src/metrics/http.js';
import { seedRange } from './helpers/seeds.js';

// --- the log-linear histogram -------------------------------------------------------------

/** The exact value at percentile p with the histogram's rank rule: the ceil(p% * n)-th smallest. */
function exactPercentile(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

for (const seed of seedRange(3)) {
  for (const significantFigures of [1, 2, 3]) {
    test(`histogram: percentiles within 10^-${significantFigures} relative error (seed ${seed})`, (t) => {
      t.log(`seed ${seed}`);
      const prng = new Prng(seed);
      const lowest = 1e-6;
      const h = new LogLinearHistogram({ lowest, highest: 3600, significantFigures });
      const bytes = h.footprintBytes;
      // Log-uniform over 10 decades plus a cluster of equal values and some zeros: every
      // magnitude of slot, the linear range and ties.
      const values: number[] = [];
      for (let i = 0; i < 5_000; i++) values.push(10 ** (-6 + 8 * prng.next()));
      for (let i = 0; i < 200; i++) values.push(0.0421);
      for (let i = 0; i < 20; i++) values.push(0);
      for (const v of values) h.record(v);
      const sorted = [...values].sort((a, b) => a - b);
      const bound = 10 ** -significantFigures;
      for (const p of [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100]) {
        const exact = exactPercentile(sorted, p);
        const got = h.valueAtPercentile(p);
        t.true(got >= exact, `p${p}: ${got} does not understate ${exact}`);
        t.true(got - exact <= Math.max(exact * bound, lowest), `p${p}: ${got} vs ${exact}: error ${(got - exact) / exact} > ${bound}`);
      }
      t.is(h.count, values.length);
      t.is(h.min, 0);
      t.is(h.max, sorted[sorted.length - 1]);
      t.true(Math.abs(h.sum - values.reduce((a, b) => a + b, 0)) < 1e-9);
      t.is(h.footprintBytes, bytes, 'fixed memory: recording allocates no slots');
    });
  }
}

test('histogram: a coarse histogram is measurably coarse (the error test can fail)', (t) => {
  const h = new LogLinearHistogram({ lowest: 1, highest: 1e6, significantFigures: 1 });
  h.record(1030);
  h.record(1080);
  // With one figure both values share the slot [1024, 1088) and p50 reads as the slot's end,
  // clamped to the largest value: an error of 5%, far over what 3 figures would allow.
  t.is(h.valueAtPercentile(50), 1080);
  const fine = new LogLinearHistogram({ lowest: 1, highest: 1e6, significantFigures: 3 });
  fine.record(1030);
  fine.record(1080);
  t.is(fine.valueAtPercentile(50), 1031);
});

test('histogram: saturation, empty, reset and bad input', (t) => {
  const h = new LogLinearHistogram({ lowest: 0.001, highest: 10 });
  t.true(Number.isNaN(h.valueAtPercentile(50)));
  t.true(Number.isNaN(h.min));
  h.record(50);
  h.record(1, 3);
  t.is(h.saturated, 1);
  t.is(h.count, 4);
  t.is(h.max, 50);
  t.true(h.valueAtPercentile(100) <= 50);
  t.true(Math.abs(h.valueAtPercentile(50) - 1) <= 0.01);
  h.reset();
  t.is(h.count, 0);
  t.throws(() => h.record(-1), { instanceOf: ValidationError, message: /value/ });
  t.throws(() => h.record(Number.NaN), { instanceOf: ValidationError });
  t.throws(() => h.record(1, 0), { instanceOf: ValidationError, message: /count/ });
  t.throws(() => h.valueAtPercentile(101), { instanceOf: ValidationError });
  t.throws(() => new LogLinearHistogram({ significantFigures: 5 }), { message: /significantFigures/ });
  t.throws(() => new LogLinearHistogram({ lowest: 0 }), { message: /lowest/ });
  t.throws(() => new LogLinearHistogram({ lowest: 1e-9, highest: 1e9 }), { message: /highest/ });
});

// --- the registry and the exposition format ------------------------------------------------

test('registry: counters, gauges and histograms with labels', (t) => {
  const r = new Registry();
  const c = r.counter({ name: 'jobs_total', help: 'Jobs.', labelNames: ['kind'] });
  c.inc({ kind: 'a' });
  c.inc({ kind: 'a' }, 2);
  c.inc({ kind: 'b' }, 0);
  const g = r.gauge({ name: 'depth', help: 'Depth.' });
  g.set(undefined, 5);
  g.inc(undefined, -2);
  const h = r.histogram({ name: 'wait_seconds', help: 'Wait.', buckets: [0.1, 1] });
  for (const v of [0.05, 0.1, 0.5, 3]) h.observe(undefined, v);
  const s = r.snapshot();
  t.is(sampleValue(s, 'jobs_total', { kind: 'a' }), 3);
  t.is(sampleValue(s, 'jobs_total', { kind: 'b' }), 0);
  t.is(sampleValue(s, 'jobs_total', { kind: 'c' }), undefined);
  t.is(sampleValue(s, 'depth'), 3);
  const w = histogramSeries(s, 'wait_seconds')!;
  t.deepEqual(
    w.buckets,
    [
      { le: 0.1, count: 2 },
      { le: 1, count: 3 },
      { le: Infinity, count: 4 },
    ],
    'le is inclusive and counts are cumulative',
  );
  t.is(w.count, 4);
  t.true(Math.abs(w.sum - 3.65) < 1e-12);
  t.true(Math.abs(w.percentiles.p50 - 0.1) <= 0.1 * 0.01);
  t.is(w.max, 3);

  t.throws(() => c.inc({ kind: 'a' }, -1), { instanceOf: ValidationError, message: /only go up/ });
  t.throws(() => c.inc({}), { instanceOf: ValidationError, message: /kind/ });
  t.throws(() => c.inc({ kind: 'a', extra: 'x' }), { instanceOf: ValidationError });
  t.throws(() => r.counter({ name: 'jobs', help: '' }), { message: /_total/ });
  t.throws(() => r.counter({ name: 'jobs_total', help: '' }), { message: /taken/ });
  t.throws(() => r.gauge({ name: 'wait_seconds_count', help: '' }), { message: /clashes/ });
  t.throws(() => r.gauge({ name: '1bad', help: '' }), { message: /metric name/ });
  t.throws(() => r.gauge({ name: 'ok', help: '', labelNames: ['__x'] }), { message: /label names/ });
  t.throws(() => r.histogram({ name: 'h', help: '', labelNames: ['le'] }), { message: /le/ });
  t.throws(() => r.histogram({ name: 'h2', help: '', buckets: [1, 1] }), { message: 'buckets[1]: above buckets[0] (1): bounds in ascending order, got 1' });
  // The wrong bound named as given (JSON would have written NaN and Infinity as null).
  t.throws(() => r.histogram({ name: 'h2', help: '', buckets: [0.1, Number.POSITIVE_INFINITY] }), {
    instanceOf: ValidationError,
    message: 'buckets[1]: a finite number (bounds in ascending order), got Infinity',
  });
  t.throws(() => r.histogram({ name: 'h2', help: '', buckets: [Number.NaN] }), { message: 'buckets[0]: a finite number (bounds in ascending order), got NaN' });
  t.throws(() => r.histogram({ name: 'h2', help: '', buckets: ['1' as unknown as number] }), {
    message: 'buckets[0]: a finite number (bounds in ascending order), got "1"',
  });
  t.throws(() => r.histogram({ name: 'h3_sum', help: '' }), { message: /_sum/ });
  t.throws(() => g.set(undefined, Number.NaN), { instanceOf: ValidationError });
});

test('sampleValue and histogramSeries: a wrong snapshot, name or labels is a ValidationError naming it', (t) => {
  const r = new Registry();
  r.counter({ name: 'jobs_total', help: 'Jobs.', labelNames: ['kind'] }).inc({ kind: 'a' });
  const s = r.snapshot();
  // Labels as null threw a bare TypeError; a number as a label value, or the cluster instead of its snapshot, read as "no such series" or a TypeError.
  for (const read of [sampleValue, histogramSeries] as Array<(s: unknown, n: unknown, l?: unknown) => unknown>) {
    t.throws(() => read(s, 'jobs_total', null), { instanceOf: ValidationError, message: /^labels: an object of label values as strings.*, got null$/ });
    t.throws(() => read(s, 'jobs_total', { kind: 1 }), { instanceOf: ValidationError, message: /^labels: .*, got \{"kind":1\}$/ });
    // Labels JSON cannot write (a BigInt) were a TypeError from JSON.stringify.
    t.throws(() => read(s, 'jobs_total', { kind: 1n }), { instanceOf: ValidationError, message: /^labels: .*, got an object$/ });
    t.throws(() => read({}, 'jobs_total'), { instanceOf: ValidationError, message: /^snapshot: a metrics snapshot/ });
    t.throws(() => read(undefined, 'jobs_total'), { instanceOf: ValidationError, message: /^snapshot: / });
    t.throws(() => read(s, 7), { instanceOf: ValidationError, message: 'name: a metric name, got 7' });
  }
  t.is(sampleValue(s, 'jobs_total', { kind: 'a' }), 1);
});

test('sampleValue and histogramSeries: a snapshot of the wrong shape is a ValidationError naming the path (a bare TypeError)', (t) => {
  const family = 'snapshot.families[0]: a metric family { name, type, series } (what cluster.metrics() holds), got';
  const bad: Array<[typeof sampleValue | typeof histogramSeries, unknown, string]> = [
    [sampleValue, { families: [null] }, `${family} null`],
    // A hole reads as undefined.
    // eslint-disable-next-line no-sparse-arrays -- the hole is the case under test
    [sampleValue, { families: [, { name: 'x', type: 'counter', series: [] }] }, `${family} undefined`],
    [sampleValue, { families: [{ name: 'x', type: 'counter' }] }, 'snapshot.families[0].series: an array of series, got undefined'],
    [
      histogramSeries,
      {
        families: [
          { name: 'y', type: 'gauge', series: [] },
          { name: 'x', type: 'summary', series: [] },
        ],
      },
      'snapshot.families[1].type: counter, gauge or histogram, got "summary"',
    ],
    [sampleValue, { families: [{ name: 'x', type: 'counter', series: [null] }] }, 'snapshot.families[0].series[0]: a series { labels, ... }, got null'],
    [
      histogramSeries,
      { families: [{ name: 'x', type: 'histogram', series: [{}] }] },
      'snapshot.families[0].series[0].labels: an object of label values, got undefined',
    ],
    [
      sampleValue,
      { families: [{ name: 'x', type: 'gauge', series: [{ labels: {}, value: '3' }] }] },
      'snapshot.families[0].series[0].value: a number (a gauge\'s value), got "3"',
    ],
  ];
  for (const [read, snapshot, message] of bad) t.throws(() => read(snapshot as MetricsSnapshot, 'x'), { instanceOf: ValidationError, message }, message);
  // Only what the reader walks is read: a family of another type, or a series after the one found, is not.
  t.is(histogramSeries({ families: [{ name: 'x', type: 'counter', series: [{ labels: {}, value: 1 }] }] } as never, 'x'), undefined);
  t.is(sampleValue({ families: [{ name: 'x', type: 'counter', series: [{ labels: {}, value: 1 }, null] }] } as never, 'x'), 1);
});

test('registry: the number of label combinations is bounded', (t) => {
  const r = new Registry();
  const g = r.gauge({ name: 'per_key', help: '', labelNames: ['key'] });
  for (let i = 0; i < METRIC_SERIES_MAX; i++) g.set({ key: String(i) }, i);
  t.throws(() => g.set({ key: 'one-more' }, 1), { instanceOf: ValidationError, message: /label combinations/ });
  g.set({ key: '7' }, 1); // an existing series is still fine
  t.is(sampleValue(r.snapshot(), 'per_key', { key: '7' }), 1);
});

test('prometheus: the exact text of a small registry (format 0.0.4)', (t) => {
  const r = new Registry();
  r.counter({ name: 'meridian_requests_total', help: 'Requests\nper "server" \\ path.', labelNames: ['server', 'code'] }).inc(
    { server: 'us-east/0', code: 'a"b\\c\nd' },
    7,
  );
  r.gauge({ name: 'meridian_lag', help: 'Lag.' }).set(undefined, -1.5);
  r.gauge({ name: 'meridian_empty', help: 'No series yet.', labelNames: ['x'] });
  const h = r.histogram({ name: 'meridian_latency_seconds', help: 'Latency.', labelNames: ['op'], buckets: [0.01, 0.1] });
  h.observe({ op: 'get' }, 0.005);
  h.observe({ op: 'get' }, 0.25);
  r.gauge({ name: 'meridian_special', help: 'Special values.', labelNames: ['v'] }).set({ v: 'inf' }, Infinity);
  const expected = [
    '# HELP meridian_requests_total Requests\\nper "server" \\\\ path.',
    '# TYPE meridian_requests_total counter',
    'meridian_requests_total{server="us-east/0",code="a\\"b\\\\c\\nd"} 7',
    '# HELP meridian_lag Lag.',
    '# TYPE meridian_lag gauge',
    'meridian_lag -1.5',
    '# HELP meridian_empty No series yet.',
    '# TYPE meridian_empty gauge',
    '# HELP meridian_latency_seconds Latency.',
    '# TYPE meridian_latency_seconds histogram',
    'meridian_latency_seconds_bucket{op="get",le="0.01"} 1',
    'meridian_latency_seconds_bucket{op="get",le="0.1"} 1',
    'meridian_latency_seconds_bucket{op="get",le="+Inf"} 2',
    'meridian_latency_seconds_sum{op="get"} 0.255',
    'meridian_latency_seconds_count{op="get"} 2',
    '# HELP meridian_special Special values.',
    '# TYPE meridian_special gauge',
    'meridian_special{v="inf"} +Inf',
    '',
  ].join('\n');
  t.is(toPrometheusText(r.snapshot()), expected);
  t.is(toPrometheusText({ families: [] }), '');
});

// --- cluster.metrics() ----------------------------------------------------------------------

function simConfig(extra: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    regions: [
      { name: 'us-east', servers: 2 },
      { name: 'eu-west', servers: 2 },
    ],
    transport: 'sim',
    seed: 11,
    network: { latencyMs: { 'us-east~eu-west': 5 } },
    heartbeat: { intervalMs: 50 },
    replication: { mode: 'active', factor: 2 },
    ...extra,
  };
}

function counterSum(m: MetricsSnapshot, name: string): number {
  const f = m.families.find((x) => x.name === name);
  if (f === undefined || f.type === 'histogram') return Number.NaN;
  return f.series.reduce((n, s) => n + s.value, 0);
}

test('cluster.metrics() on sim: values match the cluster stats and history', async (t) => {
  const seed = 11;
  t.log(`seed ${seed}`);
  const cluster = await startCluster(simConfig({ seed }));
  try {
    const c = cluster.client({ region: 'eu-west' });
    const puts = 40;
    for (let i = 0; i < puts; i++) await c.put(`k${i}`, i);
    for (let i = 0; i < 10; i++) t.is(await c.get(`k${i}`), i);
    t.true(await c.cas('k0', 0, 100));
    await c.transaction([
      { op: 'put', key: 'a', value: 1 },
      { op: 'put', key: 'b', value: 2 },
    ]);
    await t.throwsAsync(
      c.transaction([
        { op: 'check', key: 'a', value: 9 },
        { op: 'put', key: 'b', value: 3 },
      ]),
    );
    // A silent phase: nothing runs on the cluster between these reads, so they agree.
    const m = await cluster.metrics();
    const stats = await cluster.collectStats();

    for (const [server, s] of Object.entries(stats.servers)) {
      t.is(sampleValue(m, 'meridian_server_requests_total', { server, region: server.split('/')[0]! }), s.requests, server);
    }
    t.true(counterSum(m, 'meridian_server_requests_total') >= puts + 11);
    t.is(sampleValue(m, 'meridian_messages_sent_total'), stats.sent);
    t.is(sampleValue(m, 'meridian_messages_delivered_total'), stats.delivered);
    for (const [type, n] of Object.entries(stats.types)) t.is(sampleValue(m, 'meridian_messages_by_type_total', { type }), n, type);
    t.is(counterSum(m, 'meridian_messages_dropped_total'), stats.droppedTotal);
    t.is(sampleValue(m, 'meridian_messages_dropped_total', { cause: 'partition' }), stats.dropped.partition ?? 0, 'every cause has a series');
    t.is(counterSum(m, 'meridian_transactions_total'), 2);
    const txn = m.families.find((f) => f.name === 'meridian_transactions_total')!;
    t.is(txn.type === 'histogram' ? -1 : txn.series.filter((s) => s.labels.outcome === 'commit').reduce((n, s) => n + s.value, 0), 1);
    for (const region of ['us-east', 'eu-west']) t.is(sampleValue(m, 'meridian_replication_lag_commands', { region }), cluster.replicationLag()[region]);
    for (const member of cluster.members()) {
      t.is(sampleValue(m, 'meridian_member_state', { server: member.id, region: member.region }), { up: 0, suspect: 1, down: 2 }[member.state]);
    }
    t.is(sampleValue(m, 'meridian_members', { state: 'up' }), 4);
    t.is(sampleValue(m, 'meridian_cluster_info', { transport: 'sim', replication: 'active', commit: '2pc' }), 1);

    t.is(sampleValue(m, 'meridian_client_operations_total', { op: 'put', outcome: 'ok' }), puts);
    t.is(sampleValue(m, 'meridian_client_operations_total', { op: 'get', outcome: 'ok' }), 10);
    const putLatency = histogramSeries(m, 'meridian_client_latency_seconds', { op: 'put' })!;
    t.is(putLatency.count, puts);
    t.is(putLatency.buckets.at(-1)!.count, puts);
    // The first `puts` put operations are the client's puts (the transaction's parts come later).
    const history = cluster
      .history()
      .filter((op) => op.kind === 'put')
      .slice(0, puts);
    const latencies = history.map((op) => (op.completeMs! - op.invokeMs) / 1000).sort((a, b) => a - b);
    t.true(Math.abs(putLatency.sum - latencies.reduce((a, b) => a + b, 0)) < 1e-9);
    t.true(latencies[0]! > 0, 'a put crosses regions, so it takes virtual time');
    const p99 = exactPercentile(latencies, 99);
    t.true(putLatency.percentiles.p99 >= p99 && putLatency.percentiles.p99 <= p99 * 1.01 + 1e-6, `p99 ${putLatency.percentiles.p99} vs ${p99}`);

    const text = await cluster.metricsText();
    t.regex(text, /^# TYPE meridian_server_requests_total counter$/m);
    t.regex(text, new RegExp(`^meridian_client_operations_total\\{op="put",outcome="ok"\\} ${puts}$`, 'm'));
    t.regex(text, /^meridian_client_latency_seconds_bucket\{op="put",le="\+Inf"\} 40$/m);
  } finally {
    await cluster.stop();
  }
  await t.throwsAsync(cluster.metrics(), { instanceOf: StoppedError, message: /stopped/ });
});

test('cluster.metrics() on sim: a crashed server reads as down', async (t) => {
  const cluster = await startCluster(simConfig({ seed: 5 }));
  try {
    await cluster.crash('us-east/1');
    await cluster.sleep(2_000);
    const m = await cluster.metrics();
    t.is(sampleValue(m, 'meridian_member_state', { server: 'us-east/1', region: 'us-east' }), 2);
    t.is(sampleValue(m, 'meridian_members', { state: 'down' }), 1);
    t.is(sampleValue(m, 'meridian_members', { state: 'up' }), 3);
  } finally {
    await cluster.stop();
  }
});

test('cluster.metrics() on sim: meridian_server_restarts_total counts restart() after a crash (it counted supervision restarts only: found by an audit, session 54)', async (t) => {
  const cluster = await startCluster(simConfig({ seed: 5 }));
  try {
    for (let round = 0; round < 2; round++) {
      await cluster.crash('us-east/1');
      await cluster.sleep(200);
      await cluster.restart('us-east/1');
      await cluster.sleep(200);
    }
    const m = await cluster.metrics();
    t.is(sampleValue(m, 'meridian_server_restarts_total', { server: 'us-east/1', region: 'us-east' }), 2);
    t.is(sampleValue(m, 'meridian_server_restarts_total', { server: 'us-east/0', region: 'us-east' }), 0);
  } finally {
    await cluster.stop();
  }
});

// --- the HTTP endpoint ------------------------------------------------------------------------

test('serveMetrics: GET /metrics on loopback, errors for other paths and methods, closed by stop()', async (t) => {
  const cluster = await startCluster(simConfig({ seed: 3 }));
  let url = '';
  try {
    const c = cluster.client({ region: 'us-east' });
    for (let i = 0; i < 5; i++) await c.put(`x${i}`, i);
    const server = await cluster.serveMetrics({ port: 0 });
    url = server.url;
    t.regex(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(url);
    t.is(res.status, 200);
    t.is(res.headers.get('content-type'), PROMETHEUS_CONTENT_TYPE);
    const body = await res.text();
    t.regex(body, /^meridian_client_operations_total\{op="put",outcome="ok"\} 5$/m);
    t.regex(body, /^# TYPE meridian_client_latency_seconds histogram$/m);
    t.is((await fetch(url.replace('/metrics', '/other'))).status, 404);
    const post = await fetch(url, { method: 'POST', body: 'x' });
    t.is(post.status, 405);
    t.is(post.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(url, { method: 'HEAD' });
    t.is(head.status, 200);
    // Two overlapping scrapes share one render and both succeed.
    const both = await Promise.all([fetch(url), fetch(url)]);
    t.deepEqual(
      both.map((r) => r.status),
      [200, 200],
    );
    await Promise.all(both.map((r) => r.text()));

    await t.throwsAsync(cluster.serveMetrics({ host: '0.0.0.0' }), { instanceOf: ValidationError, message: /loopback/ });
    await t.throwsAsync(cluster.serveMetrics({ host: '10.0.0.1' }), { instanceOf: ValidationError, message: /loopback/ });
    await t.throwsAsync(cluster.serveMetrics({ port: 70_000 }), { instanceOf: ValidationError, message: /port/ });
    const second = await cluster.serveMetrics({ host: 'localhost' });
    t.is((await fetch(second.url)).status, 200);
    await second.close();
    await t.throwsAsync(fetch(second.url), undefined, 'closed by its own close()');
  } finally {
    await cluster.stop();
  }
  await t.throwsAsync(fetch(url), undefined, 'stop() closed the endpoint');
});

test('loopback hosts', (t) => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) t.true(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '192.168.1.1', '127.0.0.256', '128.0.0.1', 'example.com', '']) t.false(isLoopbackHost(h), h);
});

test('serveMetrics: after stop() the process exits by itself (no handle left)', async (t) => {
  const index = fileURLToPath(new URL('../src/index.js', import.meta.url));
  const script = `
    const { startCluster } = await import(${JSON.stringify(index)});
    const cluster = await startCluster({ regions: [{ name: 'r', servers: 1 }], transport: 'sim', seed: 1 });
    const server = await cluster.serveMetrics();
    const res = await fetch(server.url, { headers: { connection: 'keep-alive' } });
    await res.text();
    await cluster.stop();
    console.log('stopped ' + res.status);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // A bound on the wait, not a timing assertion: a leaked server keeps the child alive forever.
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('still running after 20 s: a handle was left open');
    }, 20_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c ?? -1);
    });
  });
  t.is(code, 0, out);
  t.regex(out, /stopped 200/);
});

test('serveMetrics: a port in use is a ValidationError naming options.port; a render that throws is a 500; nothing listens after close()', async (t) => {
  const first = await startMetricsServer({}, () => Promise.resolve('up 1\n'));
  const port = Number(new URL(first.url).port);
  const cluster = await startCluster(simConfig({ seed: 3 }));
  try {
    // Was the bare 'listen EADDRINUSE: address already in use 127.0.0.1:PORT', naming no option.
    const taken = await t.throwsAsync(cluster.serveMetrics({ port }), { instanceOf: ValidationError });
    t.is(taken!.field, 'options.port');
    t.is(taken!.message, `options.port: ${port} is in use on 127.0.0.1 (EADDRINUSE): pass another port, or 0 for any free one`);
    t.is((await fetch(first.url)).status, 200, 'the server holding the port is untouched');
    // NaN read as null.
    await t.throwsAsync(cluster.serveMetrics({ port: Number.NaN }), {
      instanceOf: ValidationError,
      message: 'options.port: an integer from 0 to 65535, got NaN',
    });
  } finally {
    await cluster.stop();
    await first.close();
  }
  // Nothing listens on the port any more.
  const refused = await new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
  t.is(refused, 'ECONNREFUSED');
  // A render that throws before returning its promise crashed the process from the request handler.
  await t.throwsAsync(startMetricsServer({}, 5 as unknown as () => Promise<string>), { instanceOf: ValidationError, message: /^render: a function/ });
  const throwing = await startMetricsServer({}, () => {
    throw new Error('no metrics');
  });
  try {
    const res = await fetch(throwing.url);
    t.is(res.status, 500);
    t.is(await res.text(), 'metrics failed: no metrics\n');
  } finally {
    await throwing.close();
  }
});
