import test from 'ava';
import { sample } from '../bench/soak.js';
import { ClientMetrics, buildClusterMetrics } from '../src/metrics/cluster-metrics.js';
import { METRIC_SERIES_MAX, Registry, sampleValue } from '../src/metrics/registry.js';
import { ValidationError } from '../src/core/errors.js';
import { derivedCharts, renderChart, renderHtml, TITLE_LINE_CHARS_MAX } from '../bench/lib/report.js';
import { undecidedLine, undecidedWhy } from '../src/cli/format.js';
import { CHECK_RECORD_WORDS_MAX } from '../src/harness/linearizability.js';

// Session 69's audit of what the bench report and the metrics show.

// The soak suite (and scale's `rss +MB`) divided bytes by 2^20 and said MB: every memory
// figure was a MiB figure, 4.9% below the same memory in MB (10^6 bytes).
test('soak: a worker heap of 5,000,000 bytes is 5 MB', async (t) => {
  const m = await sample({ ping: () => Promise.resolve([{ host: 1, actors: 1, nowMs: 0, heapUsedBytes: 5_000_000 }]) }, 0, 0);
  t.is(m.workerHeapMb[1], 5);
});

// The checker's memory bound is 2^26 words of 4 bytes: 2^28 bytes, 256 MiB (268 MB). `check`
// and `verify` said "256 MB".
test('check: the memory bound a key filled is said in MiB, as it is 2^28 bytes', (t) => {
  t.regex(undecidedWhy(['x'], ['x']), /\(256 MiB of records,/);
  t.regex(undecidedLine(['x'], ['x']), /memory bound of 256 MiB,/);
  t.is(CHECK_RECORD_WORDS_MAX * 4, 256 * 2 ** 20);
});

// A figure of a run with no sample is NaN (percentile and median of nothing), and a rate over
// no time Infinity. One such value in a chart made every bar's height NaN (no bar drawn at all)
// and a line chart's axis end at Infinity: the whole plot was blank, and nothing said why.
const numbersIn = (svg: string, attribute: string): string[] => [...svg.matchAll(new RegExp(` ${attribute}="([^"]*)"`, 'g'))].map((m) => m[1]!);

test('report: a NaN or an Infinity in a chart is named under it, and the other points are drawn', (t) => {
  const bars = renderChart({
    title: 'p50',
    kind: 'bar',
    xLabel: 'configuration',
    yLabel: 'ms',
    series: [
      {
        name: 'p50',
        points: [
          ['a', 5],
          ['b', Number.NaN],
          ['c', 10],
        ],
      },
    ],
  });
  const heights = numbersIn(bars, 'height').map(Number);
  t.true(heights.length > 0 && heights.every((h) => Number.isFinite(h)), `bar heights ${heights.join(', ')}`);
  t.true(
    numbersIn(bars, 'y').every((y) => Number.isFinite(Number(y))),
    'every y a number',
  );
  t.regex(bars, /<figcaption[^>]*>Not drawn[^<]*p50 at b: NaN/);
  const line = renderChart({
    title: 'throughput',
    kind: 'line',
    xLabel: 'window',
    yLabel: 'per second',
    xScale: 'log',
    yScale: 'log',
    series: [
      {
        name: 'meridian',
        points: [
          [1, 100],
          [10, Number.POSITIVE_INFINITY],
          [100, 1000],
          [1000, 0],
        ],
      },
    ],
  });
  t.false(/NaN|Infinity/.test(line.replace(/<figcaption[\s\S]*<\/figcaption>/, '')), 'no NaN or Infinity in the drawing');
  t.regex(line, /meridian at 10: Infinity; meridian at 1000: 0\./);
  const empty = renderChart({ title: 'nothing', kind: 'line', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [[1, Number.NaN]] }] });
  t.false(empty.includes('<svg'), 'no empty axes drawn as a plot');
  t.regex(empty, /nothing<\/strong>: nothing to draw\. Not drawn/);
});

// Bars on a log axis rise from its lowest power of ten; when the smallest value was itself a
// power of ten (10 ms beside 500 ms), the axis began at it and its bar had height 0.
test('report: on a log axis the smallest bar has a height when its value is a power of ten', (t) => {
  const svg = renderChart({
    title: 'p50',
    kind: 'bar',
    xLabel: 'configuration',
    yLabel: 'ms',
    yScale: 'log',
    series: [
      {
        name: 'p50',
        points: [
          ['lone', 10],
          ['loaded', 500],
        ],
      },
    ],
  });
  // The bars' rects (each with its value as a title), not the legend's or the svg's.
  const heights = [...svg.matchAll(/<rect x="[^"]*" y="[^"]*" width="[^"]*" height="([^"]*)" fill="[^"]*"><title>/g)].map((m) => Number(m[1]));
  t.is(heights.length, 2);
  t.true(heights[0]! > 0, `bar heights ${heights.join(', ')}`);
});

// Every metric held at most 10,000 label combinations, the registry's guard against labels
// that grow without bound; the config allows 64 regions of 10,000 servers, and a cluster of
// 10,001 servers failed every metrics() read (ValidationError: meridian_server_requests_total
// already has 10000 label combinations; seen on a sim cluster of 5,001 + 5,000 servers). The
// cluster's metrics are built here from made-up counters of that shape.
test('metrics: a cluster of 10,001 servers, two balancers routing to each, has its metrics', (t) => {
  const ids = Array.from({ length: 10_001 }, (_, i) => (i < 5_001 ? `a/${i}` : `b/${i - 5_001}`));
  const routed = Object.fromEntries(ids.map((id) => [`routed:${id}`, 1]));
  const m = buildClusterMetrics({
    stats: {
      sent: 0,
      delivered: 0,
      bytes: 0,
      errors: 0,
      dropped: {},
      actors: {
        'balancer/a': { sent: 0, received: 0, restarts: 0, counters: routed },
        'balancer/b': { sent: 0, received: 0, restarts: 0, counters: routed },
      },
      links: {},
      types: {},
      servers: Object.fromEntries(ids.map((id) => [id, { requests: 1 }])),
    },
    members: ids.map((id) => ({ id, region: id.split('/')[0]!, state: 'up' as const })),
    regions: ['a', 'b'],
    coordinators: [],
    info: { transport: 'sim', replication: 'none', commit: '2pc' },
    client: new ClientMetrics().snapshot(),
  });
  const seriesOf = (name: string): number => m.families.find((f) => f.name === name)!.series.length;
  t.is(seriesOf('meridian_server_requests_total'), 10_001);
  t.is(seriesOf('meridian_member_state'), 10_001);
  t.is(seriesOf('meridian_balancer_routed_total'), 20_002);
  t.is(sampleValue(m, 'meridian_server_requests_total', { server: 'b/4999', region: 'b' }), 1);
});

test('metrics: seriesMax bounds a metric of the registry, and is checked', (t) => {
  const r = new Registry();
  const c = r.counter({ name: 'keyed_total', help: 'h', labelNames: ['k'], seriesMax: 2 });
  c.inc({ k: 'a' });
  c.inc({ k: 'b' });
  t.throws(() => c.inc({ k: 'c' }), { instanceOf: ValidationError, message: /keyed_total already has 2 label combinations/ });
  t.throws(() => r.gauge({ name: 'g', help: 'h', seriesMax: 0 }), { instanceOf: ValidationError, message: /seriesMax/ });
  t.throws(() => r.gauge({ name: 'g2', help: 'h', seriesMax: 1.5 }), { instanceOf: ValidationError, message: /seriesMax/ });
  t.is(r.gauge({ name: 'g3', help: 'h' }).seriesMax, METRIC_SERIES_MAX);
});

// The elle suite's elle_cpu_txn_per_s is transactions over the CPU time they took: under load
// twice its wall rate, it was the tallest bar of "elle: throughput" (per second).
test('report: the derived throughput bars leave out a rate per CPU second', (t) => {
  const charts = derivedCharts({ suite: 'elle', figures: { elle_txn_per_s: 69_137, elle_cpu_txn_per_s: 162_317, elle_pool_txn_per_s: 11_078 } });
  const throughput = charts.find((c) => c.title === 'elle: throughput')!;
  t.deepEqual(
    throughput.series[0]!.points.map(([x]) => x),
    ['elle_txn', 'elle_pool_txn'],
  );
});

// A figure with no value is null in the JSON (failover's `delayed` with no sample; a NaN is
// written as null too) and `-` in the suites' tables; the report's table of figures said
// `null` and `NaN`.
test('report: a figure with no value reads "-" in the table of figures, as the suites print it', (t) => {
  const html = renderHtml({
    machine: {},
    quick: true,
    skipped: [],
    results: [{ suite: 'failover', figures: { scenarios: { server_crash: { delayed: null, lost: 0 } }, p50_ms: Number.NaN } }],
  });
  t.regex(html, /<th>scenarios\.server_crash\.delayed<\/th><td>-<\/td>/);
  t.regex(html, /<th>scenarios\.server_crash\.lost<\/th><td>0<\/td>/);
  t.regex(html, /<th>p50_ms<\/th><td>-<\/td>/);
  t.false(/<td>(null|NaN)<\/td>/.test(html));
});

// A chart's title was one line of 13px bold text across a plot 640 wide: the sim suite's, 113
// characters (some 800 pixels), ran off both sides.
test('report: a long title wraps into lines that fit the plot, and the plot moves down under them', (t) => {
  const title = 'sim: speed against its target (300 simulated s per CPU s, 40,000 calls per CPU s, 50 seeds per s; 1 is the target)';
  const chart = { kind: 'bar' as const, xLabel: 'figure', yLabel: 'figure / target', series: [{ name: 'this run', points: [['a', 1] as [string, number]] }] };
  const long = renderChart({ ...chart, title });
  const short = renderChart({ ...chart, title: 'sim: speed' });
  const lines = [...long.matchAll(/<text [^>]*font-weight="600">([^<]*)<\/text>/g)].map((m) => m[1]!);
  t.true(lines.length === 2 && lines.every((l) => l.length <= TITLE_LINE_CHARS_MAX), JSON.stringify(lines));
  t.is(lines.join(' '), title);
  const heightOf = (svg: string): number => Number(/<svg viewBox="0 0 \d+ (\d+)"/.exec(svg)![1]);
  t.is(heightOf(long), heightOf(short) + 16);
});
