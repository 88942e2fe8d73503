/** Meridian's public API: an explicit export list, nothing else. Internals are imported by path. */
export { startCluster, Cluster } from './cluster/cluster.js';
export type {
  Member,
  MemberEvent,
  ClusterStats,
  CopyProgress,
  ClusterEvents,
  ClusterListener,
  CrashOptions,
  ShardLeader,
  ReplicaState,
  AssertionFailure,
} from './cluster/cluster.js';
// What the calls above return or take, named so that a caller can annotate them.
export type { Snapshot as ReplicaSnapshot } from './replication/state-machine.js';
export type { MemberState } from './cluster/messages.js';
export type { Ballot } from './protocols/ballot.js';
export type { ActorSummary } from './runtime/cell.js';
export type { MemoryLimits } from './core/limits.js';
export type { TxnUnsafe } from './replication/ops.js';
export { Client } from './cluster/client.js';
export type { ClientOptions, GetOptions, Value } from './cluster/client.js';
export type {
  ClusterConfig,
  RegionConfig,
  ReplicationConfig,
  ReplicationMode,
  CommitProtocol,
  BalancerConfig,
  BalancerLocalityConfig,
  BalancerOutlierConfig,
  HeartbeatConfig,
  TransportName,
  PlacementName,
  NatsConfig,
} from './cluster/config.js';
export type { StrategyName } from './balance/types.js';
export type { TxnOp } from './cluster/messages.js';
export type { TxnHistoryOp, TxnMicroOp } from './core/history.js';
export type { NetworkConfig, DropCause, PartitionOptions, PartitionRule } from './net/model.js';
export {
  MeridianError,
  ConfigError,
  ValidationError,
  UnavailableError,
  TimeoutError,
  AbortedError,
  StoppedError,
  HostExitedError,
  SimulationStalledError,
  NatsUnreachableError,
  AnswerTooLargeError,
  ControlError,
} from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export type { HostEvent } from './runtime/host.js';
export type { TraceEntry } from './runtime/transports/sim.js';
export type { History, HistoryOp, OpKind, OpOutcome } from './core/history.js';
export { HistoryRecorder, historyFromJson, historyToJson } from './cluster/history.js';
export { checkHistory } from './harness/linearizability.js';
export type { CheckResult, CheckOptions, Violation, Verdict } from './harness/linearizability.js';
export { checkLinearizable } from './harness/parallel.js';
export type { ParallelCheckOptions } from './harness/parallel.js';
export type { ModelName } from './harness/models.js';
export { checkTransactions, checkTransactionsParallel } from './harness/elle/index.js';
export type {
  ElleOp,
  ElleOpType,
  MicroOp,
  Anomaly,
  CycleEdge,
  EdgeKind,
  TxnCheckResult,
  TxnCheckOptions,
  TxnParallelCheckOptions,
  TxnCheckStats,
  TxnModel,
  TxnConsistency,
  TxnKey,
  TxnValue,
  TxnHistoryInput,
} from './harness/elle/index.js';
export { runScenario, runBankScenario, drawShape, ProgressWatch, SeedRunError } from './harness/scenario.js';
// The transactional workload (`meridian check --workload txn`), one seed and commit protocol a run.
export { runTxnScenario } from './harness/txn-scenario.js';
export type { TxnScenarioOptions, TxnScenarioResult } from './harness/txn-scenario.js';
export type { TxnCommit } from './harness/txn-commits.js';
// Many seeds at once, as `meridian check` runs them (docs/testing.md, section 4), and a failing one shrunk.
export { runChecks, createCheckPool } from './harness/check-runner.js';
export type {
  CheckRunOptions,
  CheckRunSummary,
  UnknownShares,
  CheckPool,
  CheckPoolOptions,
  ScenarioReport,
  ScenarioTask,
  SeedOptions,
  CheckMode,
  UnsafeVariant,
  ScheduleName,
  Workload,
  CheckTransport,
  CheckNats,
} from './harness/check-runner.js';
export { shrinkSeed } from './harness/shrink.js';
export type { ShrinkOptions, ShrinkResult } from './harness/shrink.js';
export type {
  ScenarioOptions,
  ScenarioResult,
  ScenarioShape,
  ScenarioInspection,
  LimitsChoice,
  BalancerChoice,
  BankOptions,
  BankResult,
} from './harness/scenario.js';
export {
  Nemesis,
  FAULT_KINDS,
  ALL_FAULT_KINDS,
  SIM_ONLY_FAULT_KINDS,
  drawSwarm,
  defaultCrashMax,
  describePlan,
  formatFaultEvent,
  type NemesisOptions,
  type NemesisPlan,
  type FaultKind,
  type FaultEvent,
  type ShardView,
  type NemesisTarget,
} from './harness/nemesis.js';
export { withCluster, eventually, InvariantFailure, type TestContextLike, type EventuallyOptions, type WithClusterOptions } from './harness/ava.js';
// Metrics: what cluster.metrics() and serveMetrics() return, and two readers of a snapshot.
export { sampleValue, histogramSeries } from './metrics/index.js';
export type { MetricsSnapshot, MetricFamily, SampleSeries, HistogramSeries, Labels, MetricType, MetricsServer, MetricsServerOptions } from './metrics/index.js';
