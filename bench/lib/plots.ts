/** Chart data shared by the suites: latency distributions and sweeps. */
import { percentileSorted, round } from './stats.js';
import type { Chart } from './suite.js';

/** The percentiles a distribution curve is drawn through. */
export const CURVE_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.9, 100] as const;

/**
 * A latency distribution as a line: x the percentile (on a "nines" axis, so the tail has room),
 * y the value at it (nearest rank, on a log axis: a tail 100 times the median would flatten the
 * rest). One series per sample; `scale` converts (1000: ms to µs).
 */
export function distributionChart(title: string, yLabel: string, samples: Array<{ name: string; values: readonly number[] }>, scale = 1): Chart {
  return {
    title,
    kind: 'line',
    xLabel: 'percentile',
    yLabel,
    xScale: 'nines',
    yScale: 'log',
    series: samples.map(({ name, values }) => {
      const sorted = [...values].sort((a, b) => a - b);
      return { name, points: sorted.length === 0 ? [] : CURVE_PERCENTILES.map((p): [number, number] => [p, round(percentileSorted(sorted, p) * scale, 4)]) };
    }),
  };
}

/** A figure measured at several in-flight windows, per contender: one line each. */
export interface SweepPoint {
  window: number;
  perSecond: number;
  cpuUsPerOp: number;
}

export function sweepCharts(what: string, unit: string, sweeps: Array<{ name: string; points: readonly SweepPoint[] }>): Chart[] {
  return [
    {
      title: `${what}: throughput against requests in flight`,
      kind: 'line',
      xLabel: 'requests in flight',
      yLabel: `${unit} per second`,
      xScale: 'log',
      yScale: 'log',
      series: sweeps.map((s) => ({ name: s.name, points: s.points.map((p): [number, number] => [p.window, round(p.perSecond, 4)]) })),
    },
    {
      title: `${what}: CPU per ${unit.replace(/s$/, '')} against requests in flight (all threads)`,
      kind: 'line',
      xLabel: 'requests in flight',
      yLabel: 'us',
      xScale: 'log',
      yScale: 'log',
      series: sweeps.map((s) => ({ name: s.name, points: s.points.map((p): [number, number] => [p.window, round(p.cpuUsPerOp, 4)]) })),
    },
  ];
}
