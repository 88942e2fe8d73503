import test from 'ava';
import { compareReports } from '../bench/lib/compare.js';
import { derivedCharts, FIGURES_NOTE, renderChart, renderHtml } from '../bench/lib/report.js';
import { esc } from '../src/harness/timeline.js';

test('the HTML report is self-contained and draws every chart as SVG', (t) => {
  const html = renderHtml({
    machine: { cpus: 2, node: 'v20' },
    quick: true,
    skipped: [],
    results: [
      {
        suite: 'commit',
        figures: {
          twopc_txn_per_s: 1000,
          threepc_txn_per_s: 700,
          msgs_per_op: { '2pc': { measured: 12, analytic: 12 }, '3pc': { measured: 20, analytic: 20 } },
        },
        table: 'a table <with> markup',
        charts: [
          {
            title: 'throughput against clients',
            kind: 'line',
            xLabel: 'clients',
            yLabel: 'ops/s',
            series: [
              {
                name: 'active',
                points: [
                  [1, 10],
                  [8, 70],
                  [64, 300],
                ],
              },
            ],
          },
        ],
      },
    ],
  });
  t.true(html.startsWith('<!doctype html>'));
  t.false(/<script|src="http|href="http/.test(html), 'no scripts or external resources');
  t.is((html.match(/<svg /g) ?? []).length, 3, 'the suite chart plus two derived ones (messages per op, throughput)');
  t.true(html.includes('a table &lt;with&gt; markup'), 'text is escaped');
  t.true(html.includes('messages per operation'));
  // The figures table: counts as they are (they read 1.0k and 12.0 before), other numbers rounded.
  t.true(html.includes('<tr><th>twopc_txn_per_s</th><td>1,000</td></tr>'), 'a count is shown whole');
  t.true(html.includes('<tr><th>msgs_per_op.2pc.measured</th><td>12</td></tr>'));
});

test('the figures table shows a count whole and rounds the rest', (t) => {
  const html = renderHtml({
    machine: {},
    quick: true,
    skipped: [],
    results: [{ suite: 's', figures: { trials: 9, round_trips: 100_000, ratio: 0.61234, cpu_us: 11.345 } }],
  });
  for (const [k, v] of [
    ['trials', '9'],
    ['round_trips', '100,000'],
    ['ratio', '0.61'],
    ['cpu_us', '11.35'],
  ])
    t.true(html.includes(`<tr><th>${k}</th><td>${v}</td></tr>`), `${k} ${v}`);
});

test('a report where no suite finished has a header without a trailing separator (it ended in " · ": found by an audit, session 60)', (t) => {
  const html = renderHtml({ machine: {}, quick: true, skipped: [], results: [] });
  t.true(html.includes('<p class="muted">quick mode (small sizes)</p>'), html);
  const one = renderHtml({ machine: {}, quick: true, skipped: [], results: [{ suite: 's', figures: { a: 1 } }] });
  t.true(one.includes('<p class="muted">quick mode (small sizes) · <a href="#s">s</a></p>'));
});

test('a line chart places its points in order and labels its series', (t) => {
  const svg = renderChart({
    title: 't',
    kind: 'line',
    xLabel: 'x',
    yLabel: 'y',
    series: [
      {
        name: 'a',
        points: [
          [2, 4],
          [1, 1],
        ],
      },
      { name: 'b', points: [[1, 2]] },
    ],
  });
  t.is((svg.match(/<circle /g) ?? []).length, 3);
  t.true(svg.includes('>a</text>') && svg.includes('>b</text>'));
});

test('axes: a log axis labels powers of ten with their values, a nines axis its percentiles up to max, ticks without trailing zeros; legend entries never overlap', (t) => {
  const names = ['raw (one array per frame)', 'meridian', 'comlink', 'another long series name', 'fifth'];
  const sweep = renderChart({
    title: 'sweep',
    kind: 'line',
    xLabel: 'requests in flight',
    yLabel: 'per second',
    xScale: 'log',
    yScale: 'log',
    series: names.map((name, i) => ({
      name,
      points: [
        [1, 27_000 + i],
        [10, 220_000],
        [1000, 2_000_000],
      ],
    })),
  });
  const labels = [...sweep.matchAll(/font-size="10">([^<]*)<\/text>/g)].map((m) => m[1]);
  for (const x of ['1', '10', '100', '1000']) t.true(labels.includes(x), `x tick ${x} in ${labels.join(' ')}`);
  for (const y of ['10k', '100k', '1M', '10M']) t.true(labels.includes(y), `y tick ${y} in ${labels.join(' ')}`);
  t.true(sweep.includes('requests in flight (log scale)') && sweep.includes('per second (log scale)'));
  // Each legend entry starts right of the previous one's text, or on a row below.
  const entries = [...sweep.matchAll(/<g transform="translate\(([\d.]+),([\d.]+)\)"><rect[^>]*\/><text x="14" font-size="11">([^<]*)<\/text>/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    name: m[3]!,
  }));
  t.is(entries.length, names.length);
  for (let i = 1; i < entries.length; i++) {
    const a = entries[i - 1]!;
    const b = entries[i]!;
    t.true(b.y > a.y || b.x >= a.x + 14 + a.name.length * 6, `${a.name} and ${b.name} overlap`);
    t.true(b.x + 14 + b.name.length * 6 <= 640, `${b.name} runs off the chart`);
  }
  t.true(
    entries.some((e) => e.y > entries[0]!.y),
    'five long names wrap to a second row',
  );
  const dist = renderChart({
    title: 'd',
    kind: 'line',
    xLabel: 'percentile',
    yLabel: 'us',
    xScale: 'nines',
    yScale: 'log',
    series: [
      {
        name: 'a',
        points: [
          [0, 30],
          [50, 40],
          [99, 200],
          [99.9, 3000],
          [100, 3800],
        ],
      },
    ],
  });
  const dLabels = [...dist.matchAll(/font-size="10">([^<]*)<\/text>/g)].map((m) => m[1]);
  for (const x of ['0', '90', '99', '99.9', 'max', '10', '100', '1000', '10k']) t.true(dLabels.includes(x), `${x} in ${dLabels.join(' ')}`);
  const bar = renderChart({
    title: 'b',
    kind: 'bar',
    xLabel: 'path',
    yLabel: 'us',
    series: [
      {
        name: 'cpu',
        points: [
          ['direct', 9],
          ['client', 25],
        ],
      },
    ],
  });
  const bLabels = [...bar.matchAll(/text-anchor="end" font-size="10">([^<]*)<\/text>/g)].map((m) => m[1]);
  t.deepEqual(bLabels, ['0', '5', '10', '15', '20', '25']);
});

test('bars on a log axis: heights by decade from the lowest power of ten; derived latency and throughput bars go log when their values span 30x or more', (t) => {
  const heights = (svg: string): number[] => [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill/g)].map((m) => Number(m[1]));
  const bar = renderChart({
    title: 'b',
    kind: 'bar',
    xLabel: 'configuration',
    yLabel: 'ms',
    yScale: 'log',
    series: [
      {
        name: 'p50',
        points: [
          ['unloaded', 0.5],
          ['loaded', 5],
          ['overloaded', 50],
        ],
      },
    ],
  });
  const [a, b, c] = heights(bar);
  t.true(a! > 0, 'the smallest value still has a bar');
  // Each value ten times the last: the same step up a log axis.
  t.true(Math.abs(b! - a! - (c! - b!)) < 0.5, `${a} ${b} ${c}`);
  t.true(bar.includes('ms (log scale)'));
  const labels = [...bar.matchAll(/text-anchor="end" font-size="10">([^<]*)<\/text>/g)].map((m) => m[1]);
  t.deepEqual(labels, ['0.1', '1', '10', '100']);
  const charts = derivedCharts({
    suite: 's',
    figures: { lone_p50_ms: 0.5, lone_p99_ms: 1.2, loaded_p50_ms: 40, loaded_p99_ms: 300, a_ops_per_s: 1000, b_ops_per_s: 1500 },
  });
  const latency = charts.find((ch) => ch.title === 's: latency p50 and p99')!;
  const throughput = charts.find((ch) => ch.title === 's: throughput')!;
  t.is(latency.yScale, 'log', '0.5 to 300 ms');
  t.is(throughput.yScale, undefined, '1,000 to 1,500 per second stay linear');
});

test('p50 and p99 bars are titled as such, and left out for a suite that draws its latency distribution (found by an audit, session 61)', (t) => {
  const figures = { a_p50_ms: 1, a_p99_ms: 9, b_p50_ms: 2, b_p99_ms: 20 };
  const bars = derivedCharts({ suite: 's', figures }).filter((c) => /latency/.test(c.title));
  t.deepEqual(
    bars.map((c) => c.title),
    ['s: latency p50 and p99'],
  );
  const distribution = { title: 'd', kind: 'line' as const, xLabel: 'percentile', yLabel: 'ms', xScale: 'nines' as const, yScale: 'log' as const, series: [] };
  t.deepEqual(
    derivedCharts({ suite: 's', figures, charts: [distribution] }).filter((c) => /latency/.test(c.title)),
    [],
  );
  // A sweep (log x) is no distribution: the bars stay.
  t.is(derivedCharts({ suite: 's', figures, charts: [{ ...distribution, xScale: 'log' }] }).filter((c) => /latency/.test(c.title)).length, 1);
});

test('the report says which figures are ratios to a baseline and which are absolute (it called every figure a ratio: found by an audit, session 61)', (t) => {
  const html = renderHtml({ machine: {}, quick: true, skipped: [], results: [] });
  t.false(html.includes('Every figure is measured in the same run as its baseline'));
  t.true(html.includes(`<p>${esc(FIGURES_NOTE)}</p>`));
  t.regex(FIGURES_NOTE, /Every other figure is absolute/);
});

test('--compare prints the ratio of every numeric figure both runs have', (t) => {
  const { rows } = compareReports(
    { results: [{ suite: 's', figures: { a: 10, nested: { b: 3 }, text: 'x', only_new: 1 } }] },
    { results: [{ suite: 's', figures: { a: 5, nested: { b: 6 }, text: 'y' } }] },
  );
  t.deepEqual(
    rows.map((r) => [r.figure, r.ratio]),
    [
      ['a', 2],
      ['nested.b', 0.5],
    ],
  );
});

test('--compare says which suites the old report lacks (an empty table said nothing: found by an audit, session 55)', (t) => {
  const none = compareReports({ results: [{ suite: 'balancer', figures: { a: 1 } }] }, { results: [{ suite: 'sim', figures: { a: 1 } }] });
  t.deepEqual(none.rows, []);
  // No suite in common is said plainly ("which has sim: balancer" read as sim missing: found by an audit, session 60).
  t.regex(none.table, /\n\(the two reports share no suite: this run has balancer, the old report sim\)$/);
  t.regex(
    compareReports({ results: [{ suite: 'sim', figures: { a: 1 } }] }, { results: [] }).table,
    /share no suite: this run has sim, the old report no suite\)$/,
  );
  const some = compareReports(
    {
      results: [
        { suite: 'sim', figures: { a: 1 } },
        { suite: 'balancer', figures: { a: 1 } },
      ],
    },
    { results: [{ suite: 'sim', figures: { a: 1 } }] },
  );
  t.regex(some.table, /\n\(not in the old report, which has sim: balancer\)$/);
  const zero = compareReports({ results: [{ suite: 'sim', figures: { a: 1 } }] }, { results: [{ suite: 'sim', figures: { a: 0 } }] });
  t.regex(zero.table, /\n\(no figure in common with a nonzero old value\)$/);
  const both = compareReports({ results: [{ suite: 'sim', figures: { a: 2 } }] }, { results: [{ suite: 'sim', figures: { a: 1 } }] });
  t.false(both.table.includes('('), 'nothing to say when every suite compares');
});
