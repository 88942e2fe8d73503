import test from 'ava';
import { METRIC_SERIES_MAX, Registry } from '../src/metrics/registry.js';
import { ClientMetrics } from '../src/metrics/cluster-metrics.js';

// Series looked up once (child()) count into the same series as inc()/observe(), and obey the
// same bound on label combinations.

test('a counter child and inc() with the same labels count into one series', (t) => {
  const r = new Registry();
  const c = r.counter({ name: 'x_total', help: 'x', labelNames: ['op'] });
  const put = c.child({ op: 'put' });
  put.inc();
  put.inc();
  c.inc({ op: 'put' });
  c.inc({ op: 'get' });
  const series = r.snapshot().families[0]!.series as Array<{ labels: Record<string, string>; value: number }>;
  t.deepEqual(
    series.map((s) => [s.labels.op, s.value]),
    [
      ['put', 3],
      ['get', 1],
    ],
  );
});

test('a histogram child records like observe()', (t) => {
  const r = new Registry();
  const h = r.histogram({ name: 'lat_seconds', help: 'l', labelNames: ['op'], buckets: [0.001, 0.01] });
  h.child({ op: 'put' }).observe(0.005);
  h.observe({ op: 'put' }, 0.0005);
  const s = (r.snapshot().families[0]!.series as Array<{ count: number; buckets: Array<{ count: number }> }>)[0]!;
  t.is(s.count, 2);
  t.deepEqual(
    s.buckets.map((b) => b.count),
    [1, 2, 2],
  );
});

test(`child() checks its labels and the bound of ${METRIC_SERIES_MAX} label combinations, as inc() does`, (t) => {
  const r = new Registry();
  const c = r.counter({ name: 'y_total', help: 'y', labelNames: ['k'] });
  t.throws(() => c.child({ wrong: 'a' }), { message: /exactly the labels/ });
  for (let i = 0; i < METRIC_SERIES_MAX; i++) c.child({ k: String(i) });
  t.throws(() => c.child({ k: 'one more' }), { message: /label combinations/ });
});

test('client metrics: every outcome of every operation has a series from the start, at 0 (rate() missed the first failure: an audit, session 61)', (t) => {
  const m = new ClientMetrics();
  const counts = (): Array<[string | undefined, string | undefined, number]> =>
    (m.snapshot().families.find((f) => f.name === 'meridian_client_operations_total')!.series as Array<{ labels: Record<string, string>; value: number }>).map(
      (s) => [s.labels.op, s.labels.outcome, s.value],
    );
  const ops = ['get', 'get-local', 'put', 'delete', 'cas', 'txn'];
  const zero = ops.flatMap((op) => ['ok', 'fail', 'unknown'].map((outcome): [string, string, number] => [op, outcome, 0]));
  t.deepEqual(counts(), zero);
  m.record('put', 2, 'ok');
  m.record('put', 3, 'ok');
  m.record('get', 1, 'unknown');
  m.record('put', 4, 'fail');
  t.deepEqual(
    counts(),
    zero.map(([op, outcome]): [string, string, number] => [
      op,
      outcome,
      op === 'put' && outcome === 'ok' ? 2 : (op === 'put' && outcome === 'fail') || (op === 'get' && outcome === 'unknown') ? 1 : 0,
    ]),
  );
  // An operation the list does not name still counts, with its three outcomes made together.
  m.record('scan', 1, 'ok');
  t.deepEqual(counts().slice(zero.length), [
    ['scan', 'ok', 1],
    ['scan', 'fail', 0],
    ['scan', 'unknown', 0],
  ]);
  const latency = m.snapshot().families.find((f) => f.name === 'meridian_client_latency_seconds')!;
  t.deepEqual(
    latency.series.map((s) => s.labels.op),
    ['put', 'scan'],
    'latency only for the ops that completed: none for a call with an unknown outcome',
  );
});
