/** Meridian's public API: an explicit export list, nothing else. */
export { startCluster, Cluster, CLUSTER_EVENTS_KEPT_MAX } from './cluster/cluster.js';
export type { Member, MemberEvent, ClusterStats, PartitionOptions } from './cluster/cluster.js';
export { Client } from './cluster/client.js';
export type { ClientOptions, GetOptions } from './cluster/client.js';
export type {
  ClusterConfig,
  RegionConfig,
  ReplicationConfig,
  ReplicationMode,
  CommitProtocol,
  BalancerConfig,
  HeartbeatConfig,
  TransportName,
  PlacementName,
} from './cluster/config.js';
export type { TxnOp } from './cluster/messages.js';
export type { NetworkConfig, DropCause } from './net/model.js';
export {
  MeridianError,
  ConfigError,
  ValidationError,
  UnavailableError,
  TimeoutError,
  AbortedError,
  StoppedError,
} from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export type { History, HistoryOp, OpKind, OpOutcome } from './harness/history.js';
export { HistoryRecorder } from './harness/history.js';
export { checkHistory } from './harness/linearizability.js';
export type { CheckResult, CheckOptions, Violation, Verdict } from './harness/linearizability.js';
export { checkLinearizable } from './harness/parallel.js';
export type { ParallelCheckOptions } from './harness/parallel.js';
export type { ModelName } from './harness/models.js';
export { runScenario, runBankScenario } from './harness/scenario.js';
export type { ScenarioOptions, ScenarioResult, BankOptions, BankResult } from './harness/scenario.js';
export { Nemesis, FAULT_KINDS, NEMESIS_DEFAULTS, drawSwarm, describePlan, formatFaultEvent, type NemesisOptions, type NemesisPlan, type FaultKind, type FaultEvent } from './harness/nemesis.js';
export { withCluster, eventually, InvariantFailure, type TestContextLike, type EventuallyOptions } from './harness/ava.js';
export type { Behavior, ActorContext, ActorSpec } from './runtime/actor.js';
export type { TraceEntry } from './runtime/transports/sim.js';
export { Registry, Counter, Gauge, Histogram, LogLinearHistogram, toPrometheusText, buildClusterMetrics, sampleValue, histogramSeries, LATENCY_BUCKETS_SECONDS, PROMETHEUS_CONTENT_TYPE, type MetricsSnapshot, type MetricFamily, type SampleSeries, type HistogramSeries, type Labels, type MetricType, type MetricOptions, type HistogramMetricOptions, type HistogramOptions, type MetricsServer, type MetricsServerOptions, type ClusterMetricsInput } from './metrics/index.js';
