import test from 'ava';
import { ValidationError } from '../src/core/errors.js';
import { sampleValue, startCluster, type MetricsSnapshot } from '../src/index.js';

// Found by an audit (session 61): the metrics calls ignored extra arguments (`metrics({ name })`
// returned every metric as if filtered), and counter series of a known set of outcomes appeared
// only with their first event, so rate() and increase() missed it.

const regions = [
  { name: 'us-east', servers: 2 },
  { name: 'eu-west', servers: 1 },
];

test('metrics(), metricsText() and serveMetrics() refuse an argument they do not take, naming it', async (t) => {
  const cluster = await startCluster({ regions, transport: 'sim', seed: 1 });
  try {
    const refuse = (call: Promise<unknown>, message: string): Promise<unknown> => t.throwsAsync(call, { instanceOf: ValidationError, message });
    // @ts-expect-error metrics() takes no argument
    await refuse(cluster.metrics({ name: 'nope' }), 'arguments[0]: nothing: metrics() takes no arguments, got 1 (an object)');
    // @ts-expect-error metricsText() takes no argument
    await refuse(cluster.metricsText('meridian_nope'), 'arguments[0]: nothing: metricsText() takes no arguments, got 1 ("meridian_nope")');
    // @ts-expect-error serveMetrics() takes one argument
    await refuse(cluster.serveMetrics({ port: 0 }, 'x'), 'arguments[1]: nothing: serveMetrics(options) takes 1 argument, got 2 ("x" after options)');
    // An explicit undefined is an argument too, as it is for put().
    // @ts-expect-error metrics() takes no argument
    await refuse(cluster.metrics(undefined), 'arguments[0]: nothing: metrics() takes no arguments, got 1 (undefined)');
    // Without them the calls work.
    t.true((await cluster.metrics()).families.length > 0);
    t.regex(await cluster.metricsText(), /^# TYPE meridian_transactions_total counter$/m);
    const server = await cluster.serveMetrics({ port: 0 });
    t.is((await fetch(server.url)).status, 200);
    await server.close();
  } finally {
    await cluster.stop();
  }
});

/** Every series of a counter family as `labels => value`, labels written in their order. */
function seriesOf(m: MetricsSnapshot, name: string): Map<string, number> {
  const family = m.families.find((f) => f.name === name);
  if (family === undefined || family.type === 'histogram') throw new Error(`no counter ${name}`);
  return new Map(family.series.map((s) => [JSON.stringify(s.labels), s.value]));
}

test('every outcome of transactions and client calls has a series at 0 before its first event, the same series after', async (t) => {
  const cluster = await startCluster({ regions, transport: 'sim', seed: 2 });
  try {
    const before = await cluster.metrics();
    const txns = seriesOf(before, 'meridian_transactions_total');
    const expected: string[] = [];
    for (const coordinator of ['coordinator/eu-west', 'coordinator/us-east']) {
      for (const outcome of ['commit', 'abort']) expected.push(JSON.stringify({ coordinator, outcome }));
    }
    t.deepEqual([...txns.keys()], expected);
    t.deepEqual([...txns.values()], [0, 0, 0, 0]);
    const ops = seriesOf(before, 'meridian_client_operations_total');
    t.is(ops.size, 6 * 3, 'get, get-local, put, delete, cas, txn by ok, fail, unknown');
    t.deepEqual(new Set(ops.values()), new Set([0]));

    // One transaction that commits and one that aborts (its check fails), from us-east.
    const c = cluster.client({ region: 'us-east' });
    await c.transaction([{ op: 'put', key: 'a', value: 1 }]);
    await t.throwsAsync(
      c.transaction([
        { op: 'check', key: 'a', value: 9 },
        { op: 'put', key: 'b', value: 2 },
      ]),
    );
    const after = await cluster.metrics();
    t.deepEqual([...seriesOf(after, 'meridian_transactions_total').keys()], expected, 'no series appeared or went');
    t.deepEqual([...seriesOf(after, 'meridian_client_operations_total').keys()], [...ops.keys()], 'no series appeared or went');
    t.is(sampleValue(after, 'meridian_transactions_total', { coordinator: 'coordinator/us-east', outcome: 'commit' }), 1);
    t.is(sampleValue(after, 'meridian_transactions_total', { coordinator: 'coordinator/us-east', outcome: 'abort' }), 1);
    t.is(sampleValue(after, 'meridian_transactions_total', { coordinator: 'coordinator/eu-west', outcome: 'abort' }), 0);
    t.is(sampleValue(after, 'meridian_client_operations_total', { op: 'txn', outcome: 'ok' }), 1);
    t.is(sampleValue(after, 'meridian_client_operations_total', { op: 'txn', outcome: 'fail' }), 1);
    t.is(sampleValue(after, 'meridian_client_operations_total', { op: 'put', outcome: 'ok' }), 0);
  } finally {
    await cluster.stop();
  }
});
