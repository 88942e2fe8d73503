/** What every bench suite module (`bench/<suite>.ts`) exports and returns. */

import { round } from './stats.js';

export interface SuiteOptions {
  /** CI mode: small sizes, about a minute of CPU per suite (sim and soak more). */
  quick: boolean;
  /** Smaller still, for the smoke test: proves the code path works, measures nothing useful. */
  tiny?: boolean;
  /** Progress lines (to stderr by default, so stdout holds only tables and JSON lines). */
  log?: (line: string) => void;
}

export interface SuiteResult {
  suite: string;
  /** Flat figures: numbers, strings, or small objects. Printed as one JSON line. */
  figures: Record<string, unknown>;
  /** A human-readable table, printed before the JSON line. */
  table?: string;
  /** Plots for the HTML report. */
  charts?: Chart[];
}

/** A plot: lines over a numeric x, or grouped bars over categories. */
export interface Chart {
  title: string;
  kind: 'line' | 'bar';
  xLabel: string;
  yLabel: string;
  series: Array<{ name: string; points: Array<[number | string, number]> }>;
  /**
   * A line chart's x axis: 'linear' (the default), 'log' (in-flight windows of 1 to 1,000) or
   * 'nines' (percentiles from 0 to 100, spaced by -log10(1 - p/100) so that p90, p99 and p99.9
   * are as far apart as p0 and p90; 100 drawn as 'max' one step past p99.9).
   */
  xScale?: 'linear' | 'log' | 'nines';
  /**
   * The y axis: 'linear' (the default, from 0) or 'log' (latencies whose tail is 100x their
   * median; a bar chart's bars then rise from the power of ten below its smallest value).
   */
  yScale?: 'linear' | 'log';
}

/**
 * Grouped bars over `categories`: one series per entry, a category left out of a series where
 * its value is undefined (the run did not happen in this mode), values rounded to 4 places.
 */
export function barChart<C extends string>(
  categories: readonly C[],
  xLabel: string,
  title: string,
  yLabel: string,
  series: Array<{ name: string; value: (c: C) => number | undefined }>,
): Chart {
  return {
    title,
    kind: 'bar',
    xLabel,
    yLabel,
    series: series.map((x) => ({
      name: x.name,
      points: categories.flatMap((c): Array<[string, number]> => {
        const v = x.value(c);
        return v === undefined ? [] : [[c, round(v, 4)]];
      }),
    })),
  };
}

export type SuiteRun = (opts: SuiteOptions) => Promise<SuiteResult>;

/** The sizes a suite picks from, by mode. */
export type Mode = 'full' | 'quick' | 'tiny';

export function modeOf(opts: SuiteOptions): Mode {
  if (opts.tiny === true) return 'tiny';
  return opts.quick ? 'quick' : 'full';
}

export function logger(opts: SuiteOptions): (line: string) => void {
  return opts.log ?? ((line) => process.stderr.write(`${line}\n`));
}
