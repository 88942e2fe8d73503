import { firstSilenceMs } from '../liveness/phi.js';
import type { ResolvedConfig } from './config.js';
import type { ServerParams } from './server.js';
import type { Topology } from './topology.js';

/** How often a server reports its load to its heartbeat actor, relative to the heartbeat. */
export const LOAD_REPORTS_PER_HEARTBEAT = 1;

/** The replication tick: Multi-Paxos and commit-protocol timeouts count in these. */
export const TICK_MS = 10;
export const ELECTION_TICKS = 30;
export const HEARTBEAT_TICKS = 5;
export const MAX_INFLIGHT_SLOTS = 64;
/**
 * A snapshot piece is at most messageBytesMax divided by this: a snapshot encoded in more than
 * two such pieces goes in pieces, a smaller one whole (well under messageBytesMax either way,
 * with room for the envelope and the messages it may share a wire with).
 */
export const SNAPSHOT_PIECE_DIVISOR = 4;

export function serverParams(config: ResolvedConfig, topology: Topology, id: string, region: string): ServerParams {
  const hb = config.heartbeat;
  const r = config.replication;
  return {
    id,
    region,
    topology,
    commit: config.commit,
    ...(config.transactions.unsafe === undefined ? {} : { txnUnsafe: config.transactions.unsafe }),
    limits: config.limits,
    replication: {
      mode: r.mode,
      sync: r.sync,
      lagBound: r.lagBound,
      batch: r.batch,
      tickMs: TICK_MS,
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      maxInflight: MAX_INFLIGHT_SLOTS,
      snapshotEvery: r.snapshotEvery,
      snapshotPieceBytes: Math.max(1, Math.floor(config.messageBytesMax / SNAPSHOT_PIECE_DIVISOR)),
      messageBytesMax: config.messageBytesMax,
      checkpointEvery: r.checkpointEvery,
      preVote: r.preVote,
      ...(r.unsafe === undefined ? {} : { unsafe: r.unsafe }),
    },
    loadIntervalMs: Math.max(1, hb.intervalMs / LOAD_REPORTS_PER_HEARTBEAT),
    // As long as a region actor gives a server that never beats (see ServerParams).
    unheardDownMs: firstSilenceMs({
      threshold: hb.phiThreshold,
      minStdDeviationMs: hb.minStdDeviationMs,
      acceptableHeartbeatPauseMs: hb.acceptableHeartbeatPauseMs,
      firstHeartbeatEstimateMs: hb.firstHeartbeatEstimateMs,
      maxSampleSize: hb.maxSampleSize,
    }),
  };
}
