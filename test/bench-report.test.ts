import test from 'ava';
import { compareReports } from '../bench/lib/compare.js';
import { renderChart, renderHtml } from '../bench/lib/report.js';

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
