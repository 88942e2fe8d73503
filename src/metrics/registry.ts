import { ValidationError, describe } from '../core/errors.js';
import { LogLinearHistogram, type HistogramOptions } from './histogram.js';

/**
 * Counters, gauges and histograms with labels, kept in a registry whose snapshot is plain
 * data (for code and tests) and which prometheus.ts renders as text. The names follow
 * Prometheus' rules, checked when a metric is made, so any snapshot renders to valid text.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';
export type Labels = Readonly<Record<string, string>>;

/** Label combinations one metric may hold by default (see MetricOptions.seriesMax): a guard against labels that grow without bound. */
export const METRIC_SERIES_MAX = 10_000;
/** Buckets one histogram may export. */
export const HISTOGRAM_BUCKETS_MAX = 64;

/** Latency buckets in seconds, from 0.5 ms to 10 s (Prometheus' client defaults, plus 0.5 ms and 1 ms). */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface SampleSeries {
  labels: Labels;
  value: number;
}

export interface HistogramSeries {
  labels: Labels;
  count: number;
  sum: number;
  /** Cumulative counts, one per bound, the last with `le: Infinity`. */
  buckets: { le: number; count: number }[];
  /** From the log-linear histogram, within its relative error; NaN when empty. */
  percentiles: { p50: number; p90: number; p99: number; p999: number };
  min: number;
  max: number;
}

export type MetricFamily =
  | { name: string; help: string; type: 'counter' | 'gauge'; labelNames: readonly string[]; series: SampleSeries[] }
  | { name: string; help: string; type: 'histogram'; labelNames: readonly string[]; series: HistogramSeries[] };

export interface MetricsSnapshot {
  families: MetricFamily[];
}

export interface MetricOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /**
   * Label combinations this metric may hold, an integer >= 1 (default METRIC_SERIES_MAX): a
   * metric whose labels are bounded by something known, such as the cluster's servers, sets it
   * from that (a cluster of more than 10,000 servers, which the config allows, had no metrics:
   * found by an audit, session 69).
   */
  seriesMax?: number;
}

export interface HistogramMetricOptions extends MetricOptions {
  /** Upper bounds of the exported buckets, ascending and finite; +Inf is added. Default LATENCY_BUCKETS_SECONDS. */
  buckets?: readonly number[];
  /** The log-linear histogram behind the percentiles. */
  histogram?: HistogramOptions;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** What a histogram's own series add to its name: a metric of one of these names would clash. */
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

abstract class Metric<S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly seriesMax: number;
  protected readonly series = new Map<string, { labels: Labels; state: S }>();

  constructor(options: MetricOptions, reserved: readonly string[]) {
    if (typeof options !== 'object' || options === null) throw new ValidationError('options', 'an object { name, help, labelNames? }');
    if (typeof options.name !== 'string' || !METRIC_NAME.test(options.name)) {
      throw new ValidationError('name', `a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), got ${describe(options.name)}`);
    }
    if (typeof options.help !== 'string') throw new ValidationError('help', 'a string');
    const labelNames = options.labelNames ?? [];
    if (!Array.isArray(labelNames)) throw new ValidationError('labelNames', 'an array of label names');
    for (const l of labelNames) {
      if (typeof l !== 'string' || !LABEL_NAME.test(l) || l.startsWith('__') || reserved.includes(l)) {
        throw new ValidationError(
          'labelNames',
          `label names matching [a-zA-Z_][a-zA-Z0-9_]*, not starting with __${reserved.length > 0 ? ` and not ${reserved.join(', ')}` : ''}, got ${describe(l)}`,
        );
      }
    }
    if (new Set(labelNames).size !== labelNames.length) throw new ValidationError('labelNames', 'distinct names');
    const seriesMax = options.seriesMax ?? METRIC_SERIES_MAX;
    if (!Number.isSafeInteger(seriesMax) || seriesMax < 1) throw new ValidationError('seriesMax', `an integer >= 1, got ${describe(options.seriesMax)}`);
    this.seriesMax = seriesMax;
    this.name = options.name;
    this.help = options.help;
    this.labelNames = [...labelNames];
  }

  /** The state of the series with these labels, made on first use. */
  protected stateFor(labels: Labels | undefined, make: () => S): S {
    const given = labels ?? {};
    if (typeof given !== 'object' || given === null) throw new ValidationError('labels', 'an object of label values');
    const keys = Object.keys(given);
    if (keys.length !== this.labelNames.length || !this.labelNames.every((l) => typeof given[l] === 'string')) {
      throw new ValidationError('labels', `${this.name} takes exactly the labels {${this.labelNames.join(', ')}} as strings, got {${keys.join(', ')}}`);
    }
    const values = this.labelNames.map((l) => given[l]!);
    const key = JSON.stringify(values);
    let entry = this.series.get(key);
    if (entry === undefined) {
      if (this.series.size >= this.seriesMax)
        throw new ValidationError('labels', `${this.name} already has ${this.seriesMax} label combinations (its seriesMax)`);
      const own: Record<string, string> = {};
      this.labelNames.forEach((l, i) => (own[l] = values[i]!));
      entry = { labels: own, state: make() };
      this.series.set(key, entry);
    }
    return entry.state;
  }

  abstract snapshot(): MetricFamily;
}

export class Counter extends Metric<{ value: number }> {
  readonly type = 'counter';

  constructor(options: MetricOptions) {
    super(options, []);
    if (!this.name.endsWith('_total')) throw new ValidationError('name', `a counter's name ends in _total, got ${describe(this.name)}`);
  }

  /** Adds `by` (>= 0) to the series with these labels. */
  inc(labels?: Labels, by = 1): void {
    if (typeof by !== 'number' || !(by >= 0) || !Number.isFinite(by))
      throw new ValidationError('by', `a finite number >= 0 (counters only go up), got ${String(by)}`);
    this.stateFor(labels, () => ({ value: 0 })).value += by;
  }

  /**
   * The series with these labels, looked up once: `inc()` on it adds 1 without checking the
   * labels and building their key again (for a hot path that counts the same series often).
   */
  child(labels?: Labels): { inc(): void } {
    const state = this.stateFor(labels, () => ({ value: 0 }));
    return {
      inc: () => {
        state.value++;
      },
    };
  }

  snapshot(): MetricFamily {
    return {
      name: this.name,
      help: this.help,
      type: 'counter',
      labelNames: this.labelNames,
      series: [...this.series.values()].map((s) => ({ labels: s.labels, value: s.state.value })),
    };
  }
}

export class Gauge extends Metric<{ value: number }> {
  readonly type = 'gauge';

  constructor(options: MetricOptions) {
    super(options, []);
  }

  set(labels: Labels | undefined, value: number): void {
    if (typeof value !== 'number' || Number.isNaN(value)) throw new ValidationError('value', `a number, got ${String(value)}`);
    this.stateFor(labels, () => ({ value: 0 })).value = value;
  }

  inc(labels?: Labels, by = 1): void {
    if (typeof by !== 'number' || !Number.isFinite(by)) throw new ValidationError('by', `a finite number, got ${String(by)}`);
    this.stateFor(labels, () => ({ value: 0 })).value += by;
  }

  snapshot(): MetricFamily {
    return {
      name: this.name,
      help: this.help,
      type: 'gauge',
      labelNames: this.labelNames,
      series: [...this.series.values()].map((s) => ({ labels: s.labels, value: s.state.value })),
    };
  }
}

interface HistogramState {
  /** Per bound, observations at or below it and above the previous bound (not cumulative). */
  bucketCounts: number[];
  hdr: LogLinearHistogram;
}

/**
 * Exact counts per exported bucket (what Prometheus aggregates) beside a log-linear histogram
 * (what percentiles are read from): bucket bounds chosen for dashboards are too coarse for p99.
 */
export class Histogram extends Metric<HistogramState> {
  readonly type = 'histogram';
  readonly bounds: readonly number[];
  private readonly hdrOptions: HistogramOptions | undefined;

  constructor(options: HistogramMetricOptions) {
    super(options, ['le']);
    for (const suffix of HISTOGRAM_SUFFIXES) {
      if (this.name.endsWith(suffix))
        throw new ValidationError('name', `a histogram's name must not end in ${suffix} (its series add it), got ${describe(this.name)}`);
    }
    const bounds = options.buckets ?? LATENCY_BUCKETS_SECONDS;
    if (!Array.isArray(bounds) || bounds.length === 0 || bounds.length > HISTOGRAM_BUCKETS_MAX) {
      throw new ValidationError('buckets', `an array of 1 to ${HISTOGRAM_BUCKETS_MAX} bounds`);
    }
    bounds.forEach((b, i) => {
      // The bound that is wrong, named: JSON.stringify(bounds) wrote NaN and Infinity as null.
      if (typeof b !== 'number' || !Number.isFinite(b))
        throw new ValidationError(`buckets[${i}]`, `a finite number (bounds in ascending order), got ${describe(b)}`);
      if (i > 0 && !(b > bounds[i - 1]!))
        throw new ValidationError(`buckets[${i}]`, `above buckets[${i - 1}] (${bounds[i - 1]}): bounds in ascending order, got ${b}`);
    });
    this.bounds = [...bounds];
    this.hdrOptions = options.histogram;
    // Made once here so bad histogram options fail when the metric is made, not on first use.
    new LogLinearHistogram(this.hdrOptions);
  }

  observe(labels: Labels | undefined, value: number): void {
    this.record(this.stateOf(labels), value);
  }

  /** The series with these labels, looked up once (see Counter.child). */
  child(labels?: Labels): { observe(value: number): void } {
    const state = this.stateOf(labels);
    return { observe: (value) => this.record(state, value) };
  }

  private stateOf(labels: Labels | undefined): HistogramState {
    return this.stateFor(labels, () => ({ bucketCounts: new Array<number>(this.bounds.length + 1).fill(0), hdr: new LogLinearHistogram(this.hdrOptions) }));
  }

  private record(state: HistogramState, value: number): void {
    state.hdr.record(value);
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    state.bucketCounts[i]!++;
  }

  snapshot(): MetricFamily {
    const series = [...this.series.values()].map(({ labels, state }): HistogramSeries => {
      let running = 0;
      const buckets = state.bucketCounts.map((n, i) => ({ le: i < this.bounds.length ? this.bounds[i]! : Number.POSITIVE_INFINITY, count: (running += n) }));
      const h = state.hdr;
      return {
        labels,
        count: h.count,
        sum: h.sum,
        buckets,
        percentiles: { p50: h.valueAtPercentile(50), p90: h.valueAtPercentile(90), p99: h.valueAtPercentile(99), p999: h.valueAtPercentile(99.9) },
        min: h.min,
        max: h.max,
      };
    });
    return { name: this.name, help: this.help, type: 'histogram', labelNames: this.labelNames, series };
  }
}

/** Metrics by name, in the order they were made (which is the order they are rendered). */
export class Registry {
  private readonly metrics = new Map<string, Counter | Gauge | Histogram>();

  counter(options: MetricOptions): Counter {
    return this.add(new Counter(options));
  }

  gauge(options: MetricOptions): Gauge {
    return this.add(new Gauge(options));
  }

  histogram(options: HistogramMetricOptions): Histogram {
    return this.add(new Histogram(options));
  }

  private add<M extends Counter | Gauge | Histogram>(metric: M): M {
    const taken = (name: string): boolean => this.metrics.has(name);
    const clash =
      taken(metric.name) ||
      (metric instanceof Histogram && HISTOGRAM_SUFFIXES.some((s) => taken(metric.name + s))) ||
      [...this.metrics.values()].some((m) => m instanceof Histogram && HISTOGRAM_SUFFIXES.some((s) => m.name + s === metric.name));
    if (clash) throw new ValidationError('name', `${JSON.stringify(metric.name)} is taken in this registry (or clashes with a histogram's series)`);
    this.metrics.set(metric.name, metric);
    return metric;
  }

  snapshot(): MetricsSnapshot {
    return { families: [...this.metrics.values()].map((m) => m.snapshot()) };
  }
}

/**
 * The value of one counter or gauge series in a snapshot (labels must match exactly), or
 * undefined when there is no such series.
 */
export function sampleValue(snapshot: MetricsSnapshot, name: string, labels: Labels = {}): number | undefined {
  checkReaderArgs(snapshot, name, labels);
  const found = findFamily(snapshot, name);
  if (found === undefined || found.family.type === 'histogram') return undefined;
  const at = findSeries(found.family.series, found.path, labels);
  if (at === undefined) return undefined;
  const series = found.family.series[at]!;
  if (typeof series.value !== 'number')
    throw new ValidationError(`${found.path}.series[${at}].value`, `a number (a ${found.family.type}'s value), got ${describe(series.value)}`);
  return series.value;
}

/** One histogram series in a snapshot, or undefined. */
export function histogramSeries(snapshot: MetricsSnapshot, name: string, labels: Labels = {}): HistogramSeries | undefined {
  checkReaderArgs(snapshot, name, labels);
  const found = findFamily(snapshot, name);
  if (found === undefined || found.family.type !== 'histogram') return undefined;
  const at = findSeries(found.family.series, found.path, labels);
  return at === undefined ? undefined : found.family.series[at];
}

/**
 * The family named, and its path in the snapshot for errors. Each element read on the way is
 * checked, as checkReaderArgs checks the rest: a snapshot built or parsed by hand with a null
 * family, a family with no series or a series with no labels threw a bare TypeError (found by
 * an audit, session 55). Holes read as undefined, and are refused the same way.
 */
function findFamily(snapshot: MetricsSnapshot, name: string): { family: MetricFamily; path: string } | undefined {
  const families: unknown[] = snapshot.families;
  for (let i = 0; i < families.length; i++) {
    const family = families[i];
    const path = `snapshot.families[${i}]`;
    if (typeof family !== 'object' || family === null || typeof (family as { name?: unknown }).name !== 'string')
      throw new ValidationError(path, `a metric family { name, type, series } (what cluster.metrics() holds), got ${describe(family)}`);
    const f = family as { name: string; type?: unknown; series?: unknown };
    if (f.name !== name) continue;
    if (f.type !== 'counter' && f.type !== 'gauge' && f.type !== 'histogram')
      throw new ValidationError(`${path}.type`, `counter, gauge or histogram, got ${describe(f.type)}`);
    if (!Array.isArray(f.series)) throw new ValidationError(`${path}.series`, `an array of series, got ${describe(f.series)}`);
    return { family: family as MetricFamily, path };
  }
  return undefined;
}

/** The index of the series with exactly these labels, each series read checked (see findFamily). */
function findSeries(series: readonly unknown[], path: string, labels: Labels): number | undefined {
  for (let j = 0; j < series.length; j++) {
    const s = series[j];
    if (typeof s !== 'object' || s === null) throw new ValidationError(`${path}.series[${j}]`, `a series { labels, ... }, got ${describe(s)}`);
    const own = (s as { labels?: unknown }).labels;
    if (typeof own !== 'object' || own === null || Array.isArray(own))
      throw new ValidationError(`${path}.series[${j}].labels`, `an object of label values, got ${describe(own)}`);
    if (sameLabels(own as Labels, labels)) return j;
  }
  return undefined;
}

/**
 * sampleValue's and histogramSeries' arguments: a snapshot (what cluster.metrics() returns),
 * a name, label values as strings. A wrong one would otherwise read as "no such series"
 * (undefined) or throw a bare TypeError.
 */
function checkReaderArgs(snapshot: unknown, name: unknown, labels: unknown): void {
  if (typeof snapshot !== 'object' || snapshot === null || !Array.isArray((snapshot as { families?: unknown }).families))
    throw new ValidationError('snapshot', 'a metrics snapshot { families: [...] } (what cluster.metrics() returns)');
  if (typeof name !== 'string' || name === '') throw new ValidationError('name', `a metric name, got ${describe(name)}`);
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels) || Object.values(labels).some((v) => typeof v !== 'string'))
    throw new ValidationError('labels', `an object of label values as strings, such as { region: 'us-east' }, got ${labelsShown(labels)}`);
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** Labels as a bad-labels error shows them: an object written out (JSON), anything else, or an object JSON cannot write (a BigInt, a cycle), described. */
function labelsShown(labels: unknown): string {
  if (typeof labels !== 'object' || labels === null) return describe(labels);
  try {
    return JSON.stringify(labels);
  } catch {
    return describe(labels);
  }
}
