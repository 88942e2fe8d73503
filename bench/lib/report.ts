/**
 * A self-contained HTML report of a bench run: the machine, each suite's figures and tables,
 * and plots drawn as inline SVG (no scripts, no external files), so the report opens in any
 * browser from disk.
 */
import type { Chart, SuiteResult } from './suite.js';
import { esc } from '../../src/harness/timeline.js';

export interface BenchReport {
  machine: Record<string, unknown>;
  quick: boolean;
  skipped: string[];
  results: Array<Pick<SuiteResult, 'suite' | 'figures' | 'table' | 'charts'>>;
  /** Set when Ctrl-C or SIGTERM stopped the run: `results` are the suites that finished before it. */
  interrupted?: Interruption;
  /** Suites that threw (the run went on without them), with their errors. */
  failed?: Array<{ suite: string; error: string }>;
}

/**
 * Where Ctrl-C or SIGTERM stopped a run: the signal, the suite it cut short, that suite's
 * progress lines so far, and the suites never started.
 */
export interface Interruption {
  /** The signal that stopped the run (a caller's own AbortSignal counts as SIGINT). The report said Ctrl-C for either (found by a review, session 57). */
  signal: 'SIGINT' | 'SIGTERM';
  suite: string;
  lines: string[];
  notRun: string[];
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4d7c0f', '#be185d'];

/**
 * A number for a chart or a table: three or four significant figures, k and M above 10,000.
 * The unit is chosen by the number as rounded for the unit below it: 999,960 is `1.00M`, not
 * `1000.0k`, 9,999.7 `10.0k`, not `10000`, 99.999 `100`, not `100.00` (found by an audit,
 * session 67). @internal exported for a test.
 */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const reaches = (text: string, limit: number): boolean => Math.abs(Number(text)) >= limit;
  if (reaches((n / 1e3).toFixed(1), 1e3)) return `${(n / 1e6).toFixed(2)}M`;
  if (reaches(n.toFixed(0), 1e4)) return `${(n / 1e3).toFixed(1)}k`;
  if (reaches(n.toFixed(2), 100)) return n.toFixed(0);
  if (reaches(n.toPrecision(2), 1)) return n.toFixed(2);
  return n.toPrecision(2);
}

/** Nice tick values from 0 (or min) to max. */
function ticks(min: number, max: number, count = 5): number[] {
  if (max <= min) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  // The round step nearest above three quarters of the even one: 1,000 for a span of 5,400 in
  // 5 (six ticks), where the first step not below 1,080 was 2,000 (three).
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.75) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(v);
  return out;
}

/** A tick's label: fmt without trailing zeros (10, not 10.00; 1.5M, not 1.50M; 150k, not 150.0k). */
function tickLabel(n: number): string {
  return fmt(n)
    .replace(/(\.\d*?)0+(?=[kM]?$)/, '$1')
    .replace(/\.(?=[kM]?$)/, '');
}

/** Ticks of a log axis over [lo, hi] (both above 0): the powers of ten, with 2 and 5 times them when it spans fewer than three decades. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const multiples = Math.log10(hi / lo) < 3 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of multiples) {
      const v = m * 10 ** e;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

/** Where a value sits along an axis, as a fraction from 0 (its start) to 1, and the ticks to label. */
interface Scale {
  at(v: number): number;
  ticks: number[];
  label(v: number): string;
}

function linearScale(lo: number, hi: number): Scale {
  return { at: (v) => (hi === lo ? 0.5 : (v - lo) / (hi - lo)), ticks: ticks(lo, hi), label: tickLabel };
}

/**
 * A log axis over the positive values given (widened to whole decades with `wholeDecades`, as a
 * y axis is; an x axis ends at its first and last points); a value at or below 0 sits at the start.
 * `barFloor`: the axis starts below the smallest value, where bars rise from: a smallest value
 * that was a power of ten (10 ms beside 500) was the axis's start and drew a bar of height 0, as
 * if it had no value (found by an audit, session 69).
 */
function logScale(values: readonly number[], wholeDecades: boolean, barFloor = false): Scale {
  const positive = values.filter((v) => v > 0);
  const min = positive.length === 0 ? 1 : Math.min(...positive);
  const max = positive.length === 0 ? 10 : Math.max(...positive);
  const lo = wholeDecades ? 10 ** (barFloor ? Math.ceil(Math.log10(min)) - 1 : Math.floor(Math.log10(min))) : min;
  let hi = wholeDecades ? 10 ** Math.ceil(Math.log10(max)) : max;
  if (hi <= lo) hi = lo * 10;
  const span = Math.log10(hi / lo);
  return { at: (v) => (v <= lo ? 0 : Math.log10(v / lo) / span), ticks: logTicks(lo, hi), label: tickLabel };
}

/** Percentiles on a "nines" axis (see Chart.xScale): p at -log10(1 - p/100), 100 one step past 99.9. */
const NINES_TICKS = [0, 90, 99, 99.9, 100];
const ninesOf = (p: number): number => (p >= 100 ? 4 : -Math.log10(1 - p / 100));

function ninesScale(pMax: number): Scale {
  const hi = ninesOf(pMax);
  return {
    at: (p) => (hi === 0 ? 0.5 : ninesOf(p) / hi),
    ticks: NINES_TICKS.filter((p) => p <= pMax),
    label: (p) => (p >= 100 ? 'max' : tickLabel(p)),
  };
}

const W = 640;
const H = 300;
const M = { left: 64, right: 16, top: 28, bottom: 48 };

/** Slanted category labels: at most this many characters (the whole name in the label's title). */
const SLANT_CHARS_MAX = 24;
/** Height a slanted label of n characters takes below the axis (10px text at 35 degrees). */
const slantDrop = (n: number): number => Math.ceil(n * 6 * Math.sin((35 * Math.PI) / 180));

/** One legend row's height; entries wrap to a new row rather than run into each other. */
const LEGEND_ROW = 16;

/** Where each legend entry goes (its x and row), from the lengths of the names. */
function legendLayout(names: readonly string[]): { at: Array<{ x: number; row: number }>; rows: number } {
  let x = M.left;
  let row = 0;
  const at = names.map((name) => {
    const width = 14 + name.length * 6.5 + 20;
    if (x > M.left && x + width > W - M.right) {
      row++;
      x = M.left;
    }
    const place = { x, row };
    x += width;
    return place;
  });
  return { at, rows: row + 1 };
}

/**
 * Characters of a title line: 13px bold text is some 7 to 8 pixels a character, and the plot is
 * 640 wide. A title was one line whatever its length: the sim suite's (113 characters) ran off
 * both sides of the plot (found by an audit, session 69).
 */
export const TITLE_LINE_CHARS_MAX = 80;
const TITLE_LINE = 16;

/** A title in lines of at most TITLE_LINE_CHARS_MAX characters, broken at spaces (a longer word has a line of its own). */
function titleLines(title: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of title.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > TITLE_LINE_CHARS_MAX) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

function frame(chart: Chart, body: string, legend: string[], extra = 0, note = ''): string {
  const layout = legendLayout(legend);
  const title = titleLines(chart.title);
  // The plot moves down by the title's lines past the first.
  const drop = (title.length - 1) * TITLE_LINE;
  const height = H + extra + (layout.rows - 1) * LEGEND_ROW + drop;
  const legendSvg = legend
    .map((name, i) => {
      const { x, row } = layout.at[i]!;
      return `<g transform="translate(${x},${H + extra - 6 + row * LEGEND_ROW})"><rect width="10" height="10" y="-9" fill="${COLORS[i % COLORS.length]}"/><text x="14" font-size="11">${esc(name)}</text></g>`;
    })
    .join('');
  return `<figure><svg viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${esc(chart.title)}" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif">
${title.map((line, i) => `<text x="${W / 2}" y="${16 + i * TITLE_LINE}" text-anchor="middle" font-size="13" font-weight="600">${esc(line)}</text>`).join('')}
<g transform="translate(0,${drop})">
${body}
<text x="14" y="${M.top + (H - M.top - M.bottom) / 2}" font-size="11" transform="rotate(-90 14 ${M.top + (H - M.top - M.bottom) / 2})" text-anchor="middle">${esc(chart.yLabel)}</text>
${legendSvg}
</g>
</svg>${note === '' ? '' : `<figcaption class="muted">${esc(note)}</figcaption>`}</figure>`;
}

/**
 * The chart with only the points it can draw, and a note naming the others: a value that is not
 * a finite number (a figure of a run with no sample is NaN), or one at or below 0 on a log axis
 * (an x too on a line chart). One NaN made every bar's height NaN and one Infinity flattened a
 * line chart: the whole plot was blank or wrong, and nothing said why (found by an audit,
 * session 69).
 */
function drawable(chart: Chart): { chart: Chart; note: string } {
  const drawn = (v: number, log: boolean): boolean => Number.isFinite(v) && (!log || v > 0);
  const leftOut: string[] = [];
  const series = chart.series.map((s) => ({
    ...s,
    points: s.points.filter(([x, v]) => {
      const ok = drawn(v, chart.yScale === 'log') && (chart.kind === 'bar' || drawn(Number(x), chart.xScale === 'log'));
      if (!ok) leftOut.push(`${s.name} at ${String(x)}: ${String(v)}`);
      return ok;
    }),
  }));
  return {
    chart: { ...chart, series },
    note: leftOut.length === 0 ? '' : `Not drawn (not a number, or not above 0 on a log axis): ${leftOut.join('; ')}.`,
  };
}

/** The chart's y axis over all its values: from 0, or by decades with `yScale: 'log'`. */
function yScaleOf(chart: Chart): Scale {
  const values = chart.series.flatMap((s) => s.points.map(([, v]) => v));
  return chart.yScale === 'log' ? logScale(values, true, chart.kind === 'bar') : linearScale(0, Math.max(1e-9, ...values) * 1.1);
}

/** The axes: `y` places a value, `bottom` is the x axis's y (where bars rise from). */
function axes(yScale: Scale, xLabel: string, extra = 0): { y: (v: number) => number; bottom: number; svg: string } {
  const plotH = H - M.top - M.bottom;
  const y = (v: number): number => M.top + plotH - yScale.at(v) * plotH;
  const lines = yScale.ticks
    .map(
      (t) =>
        `<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e7eb"/><text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="10">${yScale.label(t)}</text>`,
    )
    .join('');
  const svg = `${lines}<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="#111"/><line x1="${M.left}" x2="${W - M.right}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#111"/><text x="${(M.left + W - M.right) / 2}" y="${H - 20 + extra}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`;
  return { y, bottom: M.top + plotH, svg };
}

/** The chart with `(log scale)` after its y label when its y axis is logarithmic. */
function logLabelled(chart: Chart): Chart {
  return chart.yScale === 'log' ? { ...chart, yLabel: `${chart.yLabel} (log scale)` } : chart;
}

export function renderChart(given: Chart): string {
  const { chart, note } = drawable(given);
  if (chart.series.every((s) => s.points.length === 0)) {
    return `<figure><figcaption><strong>${esc(chart.title)}</strong>: nothing to draw.${note === '' ? '' : ` ${esc(note)}`}</figcaption></figure>`;
  }
  const plotW = W - M.left - M.right;
  if (chart.kind === 'bar') {
    const names = chart.series.map((s) => s.name);
    const categories = [...new Set(chart.series.flatMap((s) => s.points.map(([x]) => String(x))))];
    // A log axis's bars rise from the power of ten below the smallest value (see logScale).
    const yScale = yScaleOf(chart);
    const groupW = plotW / Math.max(1, categories.length);
    // Many or long labels would overlap: slant them.
    const slant = categories.length > 5 || categories.some((c) => c.length * 6 > groupW);
    const shown = (c: string): string => (slant && c.length > SLANT_CHARS_MAX ? `${c.slice(0, SLANT_CHARS_MAX - 1)}…` : c);
    // Room below the axis for the longest slanted label, then the axis's name, then the legend.
    const extra = slant ? Math.max(40, slantDrop(Math.max(...categories.map((c) => shown(c).length))) + 24) : 0;
    const { y, bottom, svg } = axes(yScale, chart.xLabel, slant ? extra - 10 : 0);
    const barW = Math.max(2, (groupW * 0.8) / Math.max(1, chart.series.length));
    let bars = '';
    categories.forEach((cat, ci) => {
      chart.series.forEach((s, si) => {
        const point = s.points.find(([x]) => String(x) === cat);
        if (point === undefined) return;
        const x = M.left + ci * groupW + groupW * 0.1 + si * barW;
        bars += `<rect x="${x}" y="${y(point[1])}" width="${barW - 1}" height="${Math.max(0, bottom - y(point[1]))}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${s.name} ${cat}: ${fmt(point[1])}`)}</title></rect>`;
      });
      const lx = M.left + ci * groupW + groupW / 2;
      const ly = H - M.bottom + 14;
      bars += slant
        ? `<text x="${lx}" y="${ly}" text-anchor="end" font-size="10" transform="rotate(-35 ${lx} ${ly})"><title>${esc(cat)}</title>${esc(shown(cat))}</text>`
        : `<text x="${lx}" y="${ly}" text-anchor="middle" font-size="10">${esc(cat)}</text>`;
    });
    return frame(logLabelled(chart), svg + bars, names, extra, note);
  }
  const xs = chart.series.flatMap((s) => s.points.map(([x]) => Number(x)));
  const xScale =
    chart.xScale === 'log' ? logScale(xs, false) : chart.xScale === 'nines' ? ninesScale(Math.max(...xs)) : linearScale(Math.min(...xs), Math.max(...xs));
  const yScale = yScaleOf(chart);
  const { y, svg } = axes(yScale, chart.xScale === 'log' ? `${chart.xLabel} (log scale)` : chart.xLabel);
  const x = (v: number): number => M.left + xScale.at(v) * plotW;
  const xTicks = xScale.ticks.map((t) => `<text x="${x(t)}" y="${H - M.bottom + 14}" text-anchor="middle" font-size="10">${xScale.label(t)}</text>`).join('');
  const paths = chart.series
    .map((s, i) => {
      const pts = [...s.points].sort((a, b) => Number(a[0]) - Number(b[0]));
      const d = pts.map(([px, py], k) => `${k === 0 ? 'M' : 'L'}${x(Number(px)).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
      const dots = pts
        .map(
          ([px, py]) =>
            `<circle cx="${x(Number(px)).toFixed(1)}" cy="${y(py).toFixed(1)}" r="2.5" fill="${COLORS[i % COLORS.length]}"><title>${esc(`${s.name} ${px}: ${fmt(py)}`)}</title></circle>`,
        )
        .join('');
      return `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>${dots}`;
    })
    .join('');
  return frame(
    logLabelled(chart),
    svg + xTicks + paths,
    chart.series.map((s) => s.name),
    0,
    note,
  );
}

/**
 * Bars whose largest value is this many times their smallest (above 0) go on a log axis: on a
 * linear one an unloaded p50 of 0.5 ms beside a loaded p99 of 300 ms is no bar at all.
 */
export const BAR_LOG_SPAN = 30;

/** `chart` on a log y axis when its values span BAR_LOG_SPAN or more. */
function spanScaled(chart: Chart): Chart {
  const positive = chart.series.flatMap((s) => s.points.map(([, v]) => v)).filter((v) => v > 0);
  return positive.length > 1 && Math.max(...positive) >= BAR_LOG_SPAN * Math.min(...positive) ? { ...chart, yScale: 'log' } : chart;
}

/**
 * Charts derived from well-known figures, drawn after a suite's own: messages per operation,
 * throughput, and p50 and p99 latency as bars for a suite that draws no latency distribution
 * of its own (no chart on a 'nines' axis).
 */
export function derivedCharts(result: Pick<SuiteResult, 'suite' | 'figures' | 'charts'>): Chart[] {
  const charts: Chart[] = [];
  const f = result.figures;
  const msgs = f.msgs_per_op as Record<string, { measured?: number; analytic?: number }> | undefined;
  if (msgs !== undefined && typeof msgs === 'object') {
    const names = Object.keys(msgs);
    charts.push({
      title: `${result.suite}: messages per operation by protocol`,
      kind: 'bar',
      xLabel: 'protocol / mode',
      yLabel: 'messages',
      series: [
        { name: 'measured', points: names.filter((n) => typeof msgs[n]?.measured === 'number').map((n) => [n, msgs[n]!.measured!]) },
        { name: 'analytic', points: names.filter((n) => typeof msgs[n]?.analytic === 'number').map((n) => [n, msgs[n]!.analytic!]) },
      ],
    });
  }
  // Per second of time: a rate per CPU second (elle_cpu_txn_per_s, transactions over the CPU time
  // they took) is not a throughput, and was drawn as the tallest bar of elle's (found by an audit,
  // session 69).
  const rates = Object.entries(f).filter(([k, v]) => typeof v === 'number' && /_(ops|txn)_per_s$/.test(k) && !/(^|_)cpu_/.test(k)) as Array<[string, number]>;
  if (rates.length > 1) {
    charts.push(
      spanScaled({
        title: `${result.suite}: throughput`,
        kind: 'bar',
        xLabel: 'figure',
        yLabel: 'per second',
        series: [{ name: 'throughput', points: rates.map(([k, v]) => [k.replace(/_per_s$/, ''), v]) }],
      }),
    );
  }
  const p50 = Object.entries(f).filter(([k, v]) => typeof v === 'number' && /_p50_ms$/.test(k)) as Array<[string, number]>;
  // Two points of a distribution, named as such: titled "latency distribution", these bars read as
  // the nines plot the README promises (found by an audit, session 61). A suite that draws its
  // distribution has no need of them.
  const drawsDistribution = (result.charts ?? []).some((c) => c.xScale === 'nines');
  if (p50.length > 0 && !drawsDistribution) {
    const names = p50.map(([k]) => k.replace(/_p50_ms$/, ''));
    charts.push(
      spanScaled({
        title: `${result.suite}: latency p50 and p99`,
        kind: 'bar',
        xLabel: 'configuration',
        yLabel: 'ms',
        series: [
          { name: 'p50', points: names.map((n) => [n, Number(f[`${n}_p50_ms`])]) },
          { name: 'p99', points: names.filter((n) => typeof f[`${n}_p99_ms`] === 'number').map((n) => [n, Number(f[`${n}_p99_ms`])]) },
        ],
      }),
    );
  }
  return charts.filter((c) => c.series.some((s) => s.points.length > 0));
}

/** A figure in the table: a count as it is (`9`, `10,000`; fmt made them `9.00` and `10.0k`: found by an audit, session 55), other numbers as fmt rounds them. */
function figureText(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : fmt(v);
}

/**
 * The figures as rows of the report's table. No value (null, as failover's `delayed` with no
 * sample, or NaN, which the JSON writes as null) is `-`, as the suites' tables print it: the
 * report said `null` and `NaN` (found by an audit, session 69).
 */
function figureRows(figures: Record<string, unknown>, prefix = ''): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(figures)) {
    const name = prefix === '' ? k : `${prefix}.${k}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) rows.push(...figureRows(v as Record<string, unknown>, name));
    else if (v === null || v === undefined || Number.isNaN(v)) rows.push([name, '-']);
    else rows.push([name, typeof v === 'number' ? figureText(v) : Array.isArray(v) ? `[${v.length} rows]` : String(v)]);
  }
  return rows;
}

function interruptedNotice(i: Interruption, finished: number): string {
  const lines = i.lines.length === 0 ? '' : `<p>Its progress lines until then:</p><pre>${esc(i.lines.join('\n'))}</pre>`;
  const how = i.signal === 'SIGTERM' ? 'Terminated (SIGTERM)' : 'Interrupted (Ctrl-C)';
  return `<p><strong>${how} during ${esc(i.suite)}</strong>: ${finished} suite${finished === 1 ? '' : 's'} finished and ${finished === 1 ? 'is' : 'are'} below; ${esc(i.suite)} has no figures${i.notRun.length > 0 ? `, and ${esc(i.notRun.join(', '))} never started` : ''}.</p>${lines}`;
}

/** Suites that threw: a report without them read as a clean run (found by an audit, session 55). */
function failedNotice(failed: ReadonlyArray<{ suite: string; error: string }>): string {
  if (failed.length === 0) return '';
  const items = failed.map((f) => `<li><strong>${esc(f.suite)}</strong>: ${esc(f.error)}</li>`).join('');
  return `<p><strong>${failed.length} ${failed.length === 1 ? 'suite' : 'suites'} failed</strong> and ${failed.length === 1 ? 'has' : 'have'} no figures below:</p><ul>${items}</ul>`;
}

/**
 * How to read the figures, above every report. It said every figure was a ratio to a baseline of
 * the same run, when most (the commit suite's transactions per second, for one) are absolute
 * (found by an audit, session 61).
 */
export const FIGURES_NOTE =
  'A figure named as a ratio (ratio, _vs_, the "x raw", "x bare" and "x direct" columns) divides by a baseline measured in the same run ' +
  '(bare worker threads, comlink, piscina, the bare NATS client, requests sent straight to a server, the bare event heap) or, _vs_target, by the target. ' +
  "Every other figure is absolute (per second, ms, us of CPU, MB, message counts): a cluster's puts, transactions, failovers and memory have no bare " +
  'counterpart to divide by. Read those against the machine below, the load average each suite prints and, where a table gives one, its raw baseline, ' +
  'and compare them only with runs on the same machine (--compare).';

export function renderHtml(report: BenchReport): string {
  const machine = Object.entries(report.machine)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'object' ? JSON.stringify(v) : String(v))}</td></tr>`)
    .join('');
  const sections = report.results
    .map((r) => {
      const charts = [...(r.charts ?? []), ...derivedCharts(r)].map(renderChart).join('\n');
      const rows = figureRows(r.figures)
        .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
        .join('');
      const table = r.table === undefined ? '' : `<pre>${esc(r.table)}</pre>`;
      return `<section id="${esc(r.suite)}"><h2>${esc(r.suite)}</h2>${charts}${table}<details><summary>all figures</summary><table class="figures">${rows}</table></details></section>`;
    })
    .join('\n');
  // Empty when no suite finished: the header then ends without a separator (it ended in a bare " · ": found by an audit, session 60).
  const nav = report.results.map((r) => `<a href="#${esc(r.suite)}">${esc(r.suite)}</a>`).join(' · ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Meridian bench report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 980px; color: #111; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
pre { background: #f6f8fa; padding: 0.8rem; overflow-x: auto; font-size: 12px; }
table { border-collapse: collapse; font-size: 13px; } th, td { text-align: left; padding: 2px 10px; border-bottom: 1px solid #eee; }
figure { margin: 1rem 0; } svg { max-width: 100%; height: auto; background: #fff; }
.muted { color: #666; }
</style></head>
<body>
<h1>Meridian bench report</h1>
<p class="muted">${report.quick ? 'quick mode (small sizes)' : 'full mode'}${report.skipped.length > 0 ? `; skipped: ${esc(report.skipped.join(', '))}` : ''}${nav === '' ? '' : ` · ${nav}`}</p>
${report.interrupted === undefined ? '' : interruptedNotice(report.interrupted, report.results.length)}
${failedNotice(report.failed ?? [])}
<p>${esc(FIGURES_NOTE)}</p>
<h2>machine</h2><table>${machine}</table>
${sections}
</body></html>
`;
}
