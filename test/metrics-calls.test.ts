import test from 'ava';
import { ValidationError } from '../src/core/errors.js';
import { startCluster } from '../src/index.js';

// Found by an audit (session 61): the metrics calls ignored extra arguments (`metrics({ name })`
// returned every metric as if filtered).

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
