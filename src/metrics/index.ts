/** Metrics: counters, gauges, log-linear histograms, Prometheus text and a loopback HTTP endpoint. */
export {
  Registry,
  Counter,
  Gauge,
  Histogram,
  sampleValue,
  histogramSeries,
  LATENCY_BUCKETS_SECONDS,
  METRIC_SERIES_MAX,
  HISTOGRAM_BUCKETS_MAX,
} from './registry.js';
export type { MetricType, Labels, SampleSeries, HistogramSeries, MetricFamily, MetricsSnapshot, MetricOptions, HistogramMetricOptions } from './registry.js';
export { LogLinearHistogram, DEFAULT_HISTOGRAM_OPTIONS, HISTOGRAM_SIGNIFICANT_FIGURES_MAX, HISTOGRAM_RANGE_MAX } from './histogram.js';
export type { HistogramOptions } from './histogram.js';
export { toPrometheusText, escapeHelp, escapeLabelValue, formatValue, PROMETHEUS_CONTENT_TYPE } from './prometheus.js';
export { buildClusterMetrics, MEMBER_STATE_VALUES } from './cluster-metrics.js';
export type { ClusterMetricsInput } from './cluster-metrics.js';
export { startMetricsServer, isLoopbackHost, METRICS_PATH } from './http.js';
export type { MetricsServer, MetricsServerOptions } from './http.js';
