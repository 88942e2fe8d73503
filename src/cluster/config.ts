import { ConfigError } from '../core/errors.js';
import {
  MAILBOX_CAPACITY_DEFAULT,
  MEMORY_LIMIT_MIN,
  MEMORY_LIMITS_DEFAULT,
  MESSAGE_BYTES_MAX_DEFAULT,
  REQUEST_TIMEOUT_MS_DEFAULT,
  SEED_MAX,
  WORKER_HEAP_MB_DEFAULT,
  type MemoryLimits,
} from '../core/limits.js';
import type { NetworkConfig } from '../net/model.js';
import {
  checkInt,
  checkKeys,
  checkMailboxCapacity,
  checkMessageBytesMax,
  checkNumber,
  checkOneOf,
  checkReplicationFactor,
  replicationFactorMax,
  checkSeed,
  checkShards,
  isPlainObject,
  REPLICATION_FACTOR_MAX,
  REPLICATION_MODES,
  serverIdsOf,
  validateNetwork,
  validateRegions,
  type RegionConfig,
  type ReplicationMode,
} from '../runtime/validate.js';
import type { BalancerConfig as ResolvedBalancer } from '../balance/validate.js';
import type { HeartbeatConfig as ResolvedHeartbeat } from '../liveness/validate.js';
import { NATS_PROCESSES_MAX, validateNats, type NatsConfig, type ResolvedNats } from './validate-nats.js';
import { TXN_UNSAFE_VARIANTS, type TxnUnsafe } from '../replication/ops.js';
import { CHECKPOINT_EVERY_RECORDS } from '../replication/shard-log.js';
import type { StrategyName } from '../balance/types.js';
import type { OutlierOptions } from '../balance/outlier.js';

export type { NatsConfig, ResolvedNats, RegionConfig };
// The checks a NATS host's assignment shares (runtime/validate.ts), under their old names here.
export { checkInt, checkKeys, checkNumber, checkOneOf, isPlainObject };
export { REGION_NAME_PATTERN, REGIONS_MAX, RESERVED_REGION_NAMES, SERVERS_PER_REGION_MAX, SHARDS_MAX } from '../runtime/validate.js';

export type TransportName = 'threads' | 'sim' | 'nats';
export type PlacementName = 'dedicated' | 'packed';
export type CommitProtocol = '2pc' | '3pc' | 'paxos-commit';

export interface ReplicationConfig {
  mode: ReplicationMode;
  /**
   * Servers holding each shard, spread over regions: 1 to the cluster's servers (at most 15;
   * 1 with 'none'); with 'hybrid' at most the servers of a shard's home region, where its
   * group lives. Default 3, or the most allowed if fewer.
   */
  factor?: number;
  /**
   * passive and hybrid (refused with the other modes): the primary acknowledges a write once it
   * is chosen (true, the default) or once the primary applied it (false).
   */
  sync?: boolean;
  /**
   * passive and hybrid with sync: false (refused otherwise): most writes a primary acknowledges
   * before they are chosen (default 100). Hybrid learners' lag is not bounded by it.
   */
  lagBound?: number;
  /** Commands per Multi-Paxos slot; 1 disables batching. */
  batch?: number;
  /**
   * Applied log slots between snapshots of a shard's state (default SNAPSHOT_EVERY_DEFAULT).
   * A replica compacts its log there; one that fell behind the snapshot catches up from it.
   */
  snapshotEvery?: number;
  /**
   * Durable records a server appends before it replaces its log by a checkpoint of what a
   * restart needs (default CHECKPOINT_EVERY_DEFAULT). Tests set it low, so that crashes meet
   * checkpointed logs: `meridian check`'s scenario does.
   */
  checkpointEvery?: number;
  /**
   * Multi-Paxos pre-vote (default true): a replica whose election timer expires campaigns only
   * once a majority of its group says it would follow, i.e. none of them hears from a live
   * leader. Without it, a replica that cannot hear its leader (a one-way cut, messages into it
   * delayed past the election timeout) outbids every leader of its groups again and again
   * while the fault lasts: in a 3 x 1 cluster with r2/0 cut off one way, 38 of 40 puts failed.
   * Refused with mode 'none' (a group of one elects itself; nothing to pre-vote in). Taken with
   * factor 1 in the other modes, where it changes nothing either (a group of one is its own
   * majority: MultiPaxos campaigns at once): the default factor is 1 on a cluster of one server
   * (and hybrid's on regions of one), so a caller that sets it for every shape is not refused
   * on those (test/availability-oneway.part.ts draws such shapes with it).
   */
  preVote?: boolean;
  /**
   * Testing only: run a deliberately broken variant, to prove the tests catch it.
   * 'ack-before-chosen': a primary that acknowledges before its backups have the write.
   * 'forget-promises': acceptors that forget their promises on restart (factor 2 or more: a
   *   group of one has no other proposer for a forgotten promise to let in).
   * 'amnesia': acceptors that forget their promises and accepted values on restart (a lost disk).
   * 'stale-reads': linearizable reads answered from whichever replica (or learner) gets them,
   *   as local reads are: local reads presented as linearizable.
   * 'learner-out-of-order': hybrid learners that apply whatever arrives past their index,
   *   skipping the gaps a lost or late batch leaves (on two regions or more: a shard's learners
   *   are in the regions other than its home, so one region has none).
   * 'forget-prepared': a shard's participant that, rebuilt on a new leader (a restart of the
   *   participant), forgets the transactions it voted yes on and has no outcome for.
   * '2pc-commit-on-timeout': a 2PC coordinator that commits when a vote timed out (as if the
   *   missing vote were yes) instead of aborting.
   * 'checkpoint-drops-tail': a server whose log checkpoint, taken in the middle of a step,
   *   loses the records the same step persists after it (they stay in memory only), as a
   *   store that replaced the log after the step's appends once did (fixed in 478d88d).
   */
  unsafe?: UnsafeVariant;
}

export type UnsafeVariant =
  | 'ack-before-chosen'
  | 'forget-promises'
  | 'amnesia'
  | 'stale-reads'
  | 'learner-out-of-order'
  | 'forget-prepared'
  | '2pc-commit-on-timeout'
  | 'checkpoint-drops-tail';

/** Every deliberately broken variant (`replication.unsafe`). */
export const UNSAFE_VARIANTS: readonly UnsafeVariant[] = [
  'ack-before-chosen',
  'forget-promises',
  'amnesia',
  'stale-reads',
  'learner-out-of-order',
  'forget-prepared',
  '2pc-commit-on-timeout',
  'checkpoint-drops-tail',
];

/**
 * The replication modes a broken variant acts in, for those that do not act in every mode
 * (the cluster refuses them in the others: a variant that cannot act would be a check that
 * cannot fail), and why; the first is the mode `meridian check` runs it in when none is given.
 */
export const UNSAFE_VARIANT_MODES: Readonly<Partial<Record<UnsafeVariant, { modes: readonly ReplicationMode[]; why: string }>>> = {
  'ack-before-chosen': { modes: ['passive', 'hybrid'], why: 'it breaks the primary' },
  'learner-out-of-order': { modes: ['hybrid'], why: 'the other modes have no learners' },
};

export type ResolvedReplication = Required<Omit<ReplicationConfig, 'unsafe'>> & Pick<ReplicationConfig, 'unsafe'>;

/**
 * The `balancer` section. Every field is optional; `startCluster` checks the section (a
 * ConfigError names the field) and fills in the defaults. Options read by one strategy only
 * are refused with any other.
 */
export interface BalancerConfig {
  /** How a region's balancer picks a server (default 'round-robin'). */
  strategy?: StrategyName;
  /** Server id ('region/index') -> weight > 0; servers not listed weigh 1. Not with 'round-robin'. */
  weights?: Record<string, number>;
  /** least-request: servers sampled per pick (integer >= 2). */
  choiceCount?: number;
  /** least-request: how strongly in-flight requests count against a server (0..10). */
  activeRequestBias?: number;
  /** consistent-hash: ring points per server. */
  virtualNodes?: number;
  /** consistent-hash: bounded loads, at most this factor (>= 1) times the mean load per server. */
  boundedLoadFactor?: number;
  /** maglev: lookup table size, a prime. */
  maglevTableSize?: number;
  /** least-latency: decay time of the peak-EWMA latency estimate. */
  decayTimeMs?: number;
  locality?: BalancerLocalityConfig;
  /** Outlier ejection of servers that keep failing; false turns it off. */
  outlier?: BalancerOutlierConfig | false;
  /** Scale weights by the load servers report on their heartbeats (default false). Not with 'round-robin' (it ignores weights). */
  dynamicWeights?: boolean;
}

/** Zone-aware routing: how much a region's healthy share is stretched before traffic spills over. */
export interface BalancerLocalityConfig {
  overprovisioningFactor?: number;
  /** Below this percentage of healthy servers everywhere, all servers take traffic (0..100). */
  panicThresholdPercent?: number;
  /** Failover order after the home region: region names, or arrays of names for one level. */
  priority?: Array<string | string[]>;
}

/**
 * Outlier ejection: consecutiveFailures, baseEjectionTimeMs, maxEjectionTimeMs, maxEjectionPercent,
 * ejectionDecayMs. maxEjectionPercent (default 50) caps the servers out at once at that share of
 * all the cluster's servers, not rounded up (as Envoy without `always_eject_one_host`): a section
 * given must allow at least one, 100 / servers or more (50 on 2 servers, 100 on one), or
 * startCluster refuses it; `outlier: false` turns ejection off.
 */
export type BalancerOutlierConfig = Partial<OutlierOptions>;

/**
 * The `heartbeat` section (phi-accrual failure detection). Every field is optional. A region
 * actor convicts a silent server when phi reaches `phiThreshold`: at 8, a silence of about
 * the mean interval plus 5.2 standard deviations, the deviation at least `minStdDeviationMs`.
 * With the defaults that is about 620 ms after the last heartbeat, and a crash is down in
 * every balancer 0.6 to 0.7 s after it happened. The deviation floor sets most of it, not
 * `intervalMs` (docs/design.md, "Liveness in two levels").
 */
export interface HeartbeatConfig {
  /** How often each server sends a heartbeat, and how often monitors check (ms; 1 to 60,000; default 100). */
  intervalMs?: number;
  /** phi at which a node is convicted 'down': at 8, a 1e-8 chance that its heartbeat is only late (1 to 1,000; default 8). */
  phiThreshold?: number;
  /** phi at which a node becomes 'suspect' and is routed around (0.5 to phiThreshold; default phiThreshold / 2). */
  suspectThreshold?: number;
  /** Inter-arrival samples kept per monitored node, the window the distribution is fitted to (integer, 2 to 100,000; default 1,000). */
  maxSampleSize?: number;
  /**
   * The least standard deviation phi assumes, however regular the heartbeats (ms; above 0, at
   * most 3,600,000; default 100). It keeps a late heartbeat from convicting a node, and it is
   * what detection time is mostly made of: about 5.2 times it at phiThreshold 8.
   */
  minStdDeviationMs?: number;
  /** Added to the mean interval before phi is computed: a pause tolerated on top of the statistics, and added to detection time one for one (ms; 0 to 3,600,000; default 0). */
  acceptableHeartbeatPauseMs?: number;
  /**
   * The interval a monitor assumes for a node heard from once, before any real interval is
   * known: it decides how long a server silent since it joined (or restarted) stays up in its
   * region actor's view, and a region silent since start in a balancer's (at phiThreshold 8,
   * about the estimate plus 5.2 times the larger of estimate / 4 and minStdDeviationMs). The
   * first two real intervals replace it (ms; above 0, at most 3,600,000; default intervalMs).
   */
  firstHeartbeatEstimateMs?: number;
  /** A gap over this many intervals between a monitor's own checks is its own stall, not the nodes' silence (above 1, at most 1,000; default 3). */
  stallFactor?: number;
}

/** What `startCluster` accepts. Every field but `regions` has a default. */
export interface ClusterConfig {
  regions: RegionConfig[];
  /** Where the actors run: 'threads' (the default: worker threads), 'sim' (the simulator, one thread) or 'nats' (host processes). */
  transport?: TransportName;
  /** The run's seed, 0 to 2^32 - 1 (default: a random one; `cluster.seed` says which). */
  seed?: number;
  /** threads: 'dedicated' (the default: a thread per server and per region) or 'packed' (`threads` of them). */
  placement?: PlacementName;
  /**
   * packed: number of worker threads (default: the number of cores), at most one per region
   * and server (a thread past those would run no actor, and none is started).
   */
  threads?: number;
  /** transport 'nats': servers, and host processes to spawn or hosts to wait for. */
  nats?: NatsConfig;
  network?: NetworkConfig;
  replication?: ReplicationConfig;
  /** How multi-shard transactions commit: '2pc' (the default), '3pc' or 'paxos-commit'. */
  commit?: CommitProtocol;
  /**
   * Testing only: `unsafe` runs a deliberately broken transaction layer, to prove the
   * transactional check catches it: 'release-locks-at-prepare' or 'vote-before-prepare-durable'.
   */
  transactions?: { unsafe?: TxnUnsafe };
  /**
   * Testing: smaller memory bounds for replicated state (each an integer from
   * MEMORY_LIMIT_MIN to its default: `seenRequests` 4,096, `finishedTxns` 10,000,
   * `begunRequests` 10,000, `routedRequests` 4,096), so a short run forgets and must refuse
   * late copies of what it forgot, as a long one does (see MemoryLimits).
   */
  limits?: Partial<MemoryLimits>;
  balancer?: BalancerConfig;
  heartbeat?: HeartbeatConfig;
  /** Shards the keys hash to, 1 to 4,096 (default 16). */
  shards?: number;
  /** How long a client call (a transaction too) waits for its answer before it fails with a TimeoutError (ms; 1 to 3,600,000; default 5,000). */
  requestTimeoutMs?: number;
  /** Messages an actor's mailbox holds (1 to 10,000,000; default 10,000): one past it is dropped, counted as `mailbox-full` in `stats().dropped`. */
  mailboxCapacity?: number;
  /**
   * The largest message in bytes, encoded (64 to 64 MiB; default 1 MiB; with transport 'nats',
   * at most the server's max_payload less a frame header, and that when unset). A write that
   * does not fit one replication message is refused, and a read whose answer does not fit
   * fails with an AnswerTooLargeError.
   */
  messageBytesMax?: number;
  /**
   * threads only (refused with sim, which has no worker threads, and nats, whose hosts are
   * processes): each worker thread's V8 old-generation maximum in MiB (2^20 bytes: V8's
   * `maxOldGenerationSizeMb` counts in those; default 1024, from 64 to 65536). A worker that outgrows it ends (ERR_WORKER_OUT_OF_MEMORY) like any dead host;
   * lower keeps RSS flat, higher suits servers with large state.
   */
  workerHeapMb?: number;
  /**
   * threads and nats (refused with sim, and with `nats.hosts`: hosts started elsewhere use
   * their own `--data-dir`): where servers keep their logs (default: a temporary directory
   * removed by stop()). One running cluster at a time: it is locked until stop(). A folder
   * written by a cluster of other shards or regions is refused, and one written with a
   * replication mode and factor that gave some shard another Paxos group (see checkLayout).
   */
  dataDir?: string;
  /**
   * Sync every log append to the device before the step's messages leave (default false). On
   * sim it decides what a power-loss crash loses (MemoryDurableStore).
   */
  fsync?: boolean;
  /** sim only (true is refused with threads and nats): keep every delivered message for `cluster.trace()`. */
  trace?: boolean;
  /**
   * Record client operations for `cluster.history()` (default true). At most
   * HISTORY_OPS_MAX operations are kept (a transaction's count one a key it touches; about 250
   * bytes each, so a full history is some 250 MB: false for a long run that does not check it);
   * after that recording stops (see `historyTruncated`). A truncated history is not one to
   * check: a read recorded before the cap may return a write invoked after it, which is not in
   * the history, and a checker takes that for a violation.
   */
  history?: boolean;
}

/** Applied slots between snapshots of a shard, by default. */
export const SNAPSHOT_EVERY_DEFAULT = 1_000;
/** Records a server appends between checkpoints of its durable log, by default (ShardLogs' own). */
export const CHECKPOINT_EVERY_DEFAULT = CHECKPOINT_EVERY_RECORDS;

/** Operations the history keeps; a long-running cluster stops recording there. */
export const HISTORY_OPS_MAX = 1_000_000;

export { SEED_MAX, REPLICATION_FACTOR_MAX, REPLICATION_MODES, type ReplicationMode };
export const SHARDS_DEFAULT = 16;
export const THREADS_MAX = 256;
/** The longest client call timeout (`requestTimeoutMs`), an hour. */
export const REQUEST_TIMEOUT_MS_MAX = 3_600_000;

export const TRANSPORTS: readonly TransportName[] = ['threads', 'sim', 'nats'];
export const PLACEMENTS: readonly PlacementName[] = ['dedicated', 'packed'];
export const COMMIT_PROTOCOLS: readonly CommitProtocol[] = ['2pc', '3pc', 'paxos-commit'];
/** The replication modes whose primary reads `replication.sync` (and, with sync: false, `lagBound`). */
export const SYNC_MODES: readonly ReplicationMode[] = ['passive', 'hybrid'];

/** `'passive' or 'hybrid'` (or with `and`): values as an error's allowed text lists them. */
export function quotedList(values: readonly string[], word: 'or' | 'and' = 'or'): string {
  return values.map((v) => `'${v}'`).join(` ${word} `);
}

export const TOP_LEVEL_KEYS = new Set([
  'regions',
  'transport',
  'seed',
  'placement',
  'threads',
  'network',
  'replication',
  'commit',
  'transactions',
  'limits',
  'balancer',
  'heartbeat',
  'shards',
  'requestTimeoutMs',
  'mailboxCapacity',
  'messageBytesMax',
  'workerHeapMb',
  'dataDir',
  'fsync',
  'trace',
  'history',
  'nats',
]);

/** A network change while running: the same rules as at start. */
/** Network settings given while a cluster runs (setNetwork, a nemesis's baseline): a ConfigError naming `field`. */
export function validateNetworkChange(network: unknown, regionNames: ReadonlySet<string>, servers: ReadonlySet<string>, field = 'network'): NetworkConfig {
  return validateNetwork(network, regionNames, field, servers);
}

export interface ResolvedConfig {
  regions: RegionConfig[];
  transport: TransportName;
  seed: number;
  placement: PlacementName;
  threads: number;
  /** transport 'nats' only; placement and threads then follow from it. */
  nats: ResolvedNats | undefined;
  network: NetworkConfig;
  replication: ResolvedReplication;
  commit: CommitProtocol;
  transactions: { unsafe?: TxnUnsafe };
  limits: Readonly<MemoryLimits>;
  balancer: ResolvedBalancer;
  heartbeat: ResolvedHeartbeat;
  shards: number;
  requestTimeoutMs: number;
  mailboxCapacity: number;
  messageBytesMax: number;
  workerHeapMb: number;
  dataDir: string | undefined;
  fsync: boolean;
  trace: boolean;
  history: boolean;
}

export interface ValidateHooks {
  balancer(value: unknown, servers: Set<string>, regions: Set<string>): ResolvedBalancer;
  heartbeat(value: unknown): ResolvedHeartbeat;
  cores: number;
  randomSeed(): number;
}

/** `limits`: absent, the defaults; else each field given an integer from MEMORY_LIMIT_MIN to its default. */
function validateLimits(value: unknown): Readonly<MemoryLimits> {
  if (value === undefined) return MEMORY_LIMITS_DEFAULT;
  if (!isPlainObject(value)) throw new ConfigError('limits', 'an object { seenRequests?, finishedTxns?, begunRequests?, routedRequests? }', value);
  const fields = Object.keys(MEMORY_LIMITS_DEFAULT) as Array<keyof MemoryLimits>;
  checkKeys(value, fields, 'limits');
  const out = { ...MEMORY_LIMITS_DEFAULT };
  for (const field of fields) {
    if (value[field] !== undefined) out[field] = checkInt(value[field], `limits.${field}`, MEMORY_LIMIT_MIN, MEMORY_LIMITS_DEFAULT[field]);
  }
  return Object.freeze(out);
}

/** Validates everything before any thread starts; the first bad field throws a ConfigError naming it. */
export function validateConfig(config: unknown, hooks: ValidateHooks): ResolvedConfig {
  if (!isPlainObject(config)) throw new ConfigError('(root)', 'a plain object', config);
  checkKeys(config, TOP_LEVEL_KEYS, '');
  const regions = validateRegions(config.regions);
  const names = new Set(regions.map((r) => r.name));
  const transport = config.transport === undefined ? 'threads' : checkOneOf(config.transport, 'transport', TRANSPORTS);
  const seed = config.seed === undefined ? hooks.randomSeed() : checkSeed(config.seed);
  let placement = config.placement === undefined ? 'dedicated' : checkOneOf(config.placement, 'placement', PLACEMENTS);
  const totalServers = regions.reduce((n, r) => n + r.servers, 0);
  // A packed placement deals regions and servers over its hosts, one each at most: a host past
  // that count runs no actor, yet was started (threads: 40 for one server booted 40 worker
  // threads in 7 s, and the default, the machine's cores, as many on a large machine).
  const hostsUsable = totalServers + regions.length;
  let threads = Math.min(hostsUsable, config.threads === undefined ? hooks.cores : checkInt(config.threads, 'threads', 1, THREADS_MAX));
  if (config.threads !== undefined && placement !== 'packed' && transport !== 'nats')
    throw new ConfigError('threads', "only with placement: 'packed'", config.threads);
  let nats: ResolvedNats | undefined;
  if (transport === 'nats') {
    if (config.placement !== undefined) throw new ConfigError('placement', "absent with transport 'nats' (nats.processes places servers)", config.placement);
    if (config.threads !== undefined) throw new ConfigError('threads', "absent with transport 'nats' (see nats.processes)", config.threads);
    nats = validateNats(config.nats, hooks.cores, isPlainObject);
    // processes: N and hosts: N deal servers over N hosts as 'packed' does; 'dedicated', one each.
    if (nats.processes === 'dedicated') {
      placement = 'dedicated';
      if (hostsUsable > NATS_PROCESSES_MAX) {
        throw new ConfigError(
          'nats.processes',
          `a number for more than ${NATS_PROCESSES_MAX} servers and regions ('dedicated' spawns one process each)`,
          'dedicated',
        );
      }
    } else {
      placement = 'packed';
      // Spawned processes as packed threads (at most one per region and server); hosts started
      // elsewhere are as many as the launcher waits for.
      threads = nats.processes === undefined ? nats.hosts! : Math.min(hostsUsable, nats.processes);
    }
  } else if (config.nats !== undefined) {
    throw new ConfigError('nats', "absent unless transport is 'nats'", config.nats);
  }
  const serverIds = serverIdsOf(regions);
  const network = config.network === undefined ? {} : validateNetwork(config.network, names, 'network', serverIds);

  // Before replication: a hybrid factor is checked against the regions that are shards' homes.
  const shards = config.shards === undefined ? SHARDS_DEFAULT : checkShards(config.shards);
  let replication: ResolvedReplication;
  {
    // Replicated by default: state-machine replication over up to three servers.
    const r = config.replication === undefined ? { mode: 'active' } : config.replication;
    if (!isPlainObject(r)) throw new ConfigError('replication', 'an object { mode, factor }', r);
    checkKeys(r, ['mode', 'factor', 'sync', 'lagBound', 'batch', 'snapshotEvery', 'checkpointEvery', 'preVote', 'unsafe'], 'replication');
    // Required in a replication object (the type says so): said, rather than 'expected' alone.
    const mode = checkOneOf(
      r.mode,
      'replication.mode',
      REPLICATION_MODES,
      "a replication object names its mode (leave replication out for 'active' at the default factor)",
    );
    // Hybrid: at most the servers of the smallest home region (replicationFactorMax).
    const defaultFactor = Math.min(3, replicationFactorMax(mode, regions, shards).max);
    const factor = r.factor === undefined ? defaultFactor : checkReplicationFactor(r.factor, mode, regions, shards);
    const sync = r.sync === undefined ? true : r.sync;
    if (typeof sync !== 'boolean') throw new ConfigError('replication.sync', 'true or false', sync);
    const lagBound = r.lagBound === undefined ? 100 : checkInt(r.lagBound, 'replication.lagBound', 1, 1_000_000);
    // Only a passive or hybrid primary reads `sync` (active and none answer once a command is
    // chosen), and `lagBound` only with sync: false (GroupReplica.executeEffect); given anywhere
    // else, either would be ignored.
    if (r.sync !== undefined && !SYNC_MODES.includes(mode))
      throw new ConfigError('replication.sync', `absent with mode '${mode}' (only modes ${quotedList(SYNC_MODES, 'and')} read it)`, r.sync);
    if (r.lagBound !== undefined && (!SYNC_MODES.includes(mode) || sync))
      throw new ConfigError(
        'replication.lagBound',
        `absent ${SYNC_MODES.includes(mode) ? `with sync: true${r.sync === undefined ? ' (the default)' : ''}` : `with mode '${mode}'`} (only sync: false in mode ${quotedList(SYNC_MODES)} reads it)`,
        r.lagBound,
      );
    const batch = r.batch === undefined ? 64 : checkInt(r.batch, 'replication.batch', 1, 10_000);
    const snapshotEvery = r.snapshotEvery === undefined ? SNAPSHOT_EVERY_DEFAULT : checkInt(r.snapshotEvery, 'replication.snapshotEvery', 1, 1_000_000);
    const checkpointEvery =
      r.checkpointEvery === undefined ? CHECKPOINT_EVERY_DEFAULT : checkInt(r.checkpointEvery, 'replication.checkpointEvery', 16, 10_000_000);
    const preVote = r.preVote === undefined ? true : r.preVote;
    if (typeof preVote !== 'boolean') throw new ConfigError('replication.preVote', 'true or false', preVote);
    // Mode 'none' is a group of one: its replica is its own majority and elects itself without
    // asking anyone, so a pre-vote there would be ignored (as sync and lagBound are refused
    // where no primary reads them).
    if (r.preVote !== undefined && mode === 'none')
      throw new ConfigError(
        'replication.preVote',
        "absent with mode 'none' (a group of one elects itself: only modes 'passive', 'active' and 'hybrid' run a pre-vote)",
        r.preVote,
      );
    replication = { mode, factor, sync, lagBound, batch, snapshotEvery, checkpointEvery, preVote };
    if (r.unsafe !== undefined) replication.unsafe = checkOneOf(r.unsafe, 'replication.unsafe', UNSAFE_VARIANTS);
  }
  const commit = config.commit === undefined ? '2pc' : checkOneOf(config.commit, 'commit', COMMIT_PROTOCOLS);
  const transactions: { unsafe?: TxnUnsafe } = {};
  if (config.transactions !== undefined) {
    if (!isPlainObject(config.transactions)) throw new ConfigError('transactions', 'an object { unsafe? }', config.transactions);
    checkKeys(config.transactions, ['unsafe'], 'transactions');
    if (config.transactions.unsafe !== undefined) transactions.unsafe = checkOneOf(config.transactions.unsafe, 'transactions.unsafe', TXN_UNSAFE_VARIANTS);
  }
  // A broken variant that cannot act in the chosen setup would be a test that cannot fail.
  const needs = replication.unsafe === undefined ? undefined : UNSAFE_VARIANT_MODES[replication.unsafe];
  if (needs !== undefined && !needs.modes.includes(replication.mode))
    throw new ConfigError('replication.unsafe', `'${replication.unsafe!}' only with mode ${quotedList(needs.modes)} (${needs.why})`, replication.unsafe);
  // A group of one has no other proposer to outbid it: a promise it forgets on restart cannot
  // let a competing ballot in (check --factor 1: the same trace hashes with and without it).
  if (replication.unsafe === 'forget-promises' && replication.factor === 1)
    throw new ConfigError(
      'replication.unsafe',
      `'forget-promises' only with replication.factor 2 or more (a group of one has no other proposer, so a forgotten promise changes nothing; factor is 1)`,
      replication.unsafe,
    );
  // Hybrid learners live in the regions other than a shard's home (learnersOf): on one region
  // there are none, and a variant that breaks them has nothing to break.
  if (replication.unsafe === 'learner-out-of-order' && regions.length === 1)
    throw new ConfigError(
      'replication.unsafe',
      `'learner-out-of-order' only with two regions or more (hybrid learners live in the regions other than a shard's home; regions has one, ${regions[0]!.name})`,
      replication.unsafe,
    );
  if (replication.unsafe === '2pc-commit-on-timeout' && commit !== '2pc')
    throw new ConfigError('replication.unsafe', "'2pc-commit-on-timeout' only with commit '2pc'", replication.unsafe);
  const balancer = hooks.balancer(config.balancer === undefined ? {} : config.balancer, serverIds, names);
  const heartbeat = hooks.heartbeat(config.heartbeat === undefined ? {} : config.heartbeat);
  const requestTimeoutMs =
    config.requestTimeoutMs === undefined ? REQUEST_TIMEOUT_MS_DEFAULT : checkNumber(config.requestTimeoutMs, 'requestTimeoutMs', 1, REQUEST_TIMEOUT_MS_MAX);
  const mailboxCapacity = config.mailboxCapacity === undefined ? MAILBOX_CAPACITY_DEFAULT : checkMailboxCapacity(config.mailboxCapacity);
  const messageBytesMax = config.messageBytesMax === undefined ? MESSAGE_BYTES_MAX_DEFAULT : checkMessageBytesMax(config.messageBytesMax);
  const workerHeapMb = config.workerHeapMb === undefined ? WORKER_HEAP_MB_DEFAULT : checkInt(config.workerHeapMb, 'workerHeapMb', 64, 65_536);
  // Each worker thread of transport 'threads' runs with it; sim has no worker threads, and nats
  // hosts are processes (spawned with no heap limit, or started elsewhere).
  if (config.workerHeapMb !== undefined && transport !== 'threads')
    throw new ConfigError('workerHeapMb', `absent with transport '${transport}' (only transport 'threads' uses it: each worker thread's heap)`, workerHeapMb);
  if (config.dataDir !== undefined && (typeof config.dataDir !== 'string' || config.dataDir === ''))
    throw new ConfigError('dataDir', 'a directory path', config.dataDir);
  if (config.dataDir !== undefined && transport === 'sim')
    throw new ConfigError(
      'dataDir',
      "absent with transport 'sim' (only transports 'threads' and 'nats' keep logs on disk; sim keeps them in memory)",
      config.dataDir,
    );
  // Remote hosts keep their logs where `meridian host --data-dir` says; the launcher's own
  // thread runs only balancers and clients, which write no log.
  if (config.dataDir !== undefined && nats?.hosts !== undefined)
    throw new ConfigError('dataDir', "absent with nats.hosts (hosts started elsewhere keep their logs where 'meridian host --data-dir' says)", config.dataDir);
  if (config.fsync !== undefined && typeof config.fsync !== 'boolean') throw new ConfigError('fsync', 'true or false', config.fsync);
  if (config.trace !== undefined && typeof config.trace !== 'boolean') throw new ConfigError('trace', 'true or false', config.trace);
  if (config.trace === true && transport !== 'sim')
    throw new ConfigError('trace', `false or absent with transport '${transport}' (only transport 'sim' records a trace)`, config.trace);
  if (config.history !== undefined && typeof config.history !== 'boolean') throw new ConfigError('history', 'true or false', config.history);
  if (transport === 'threads' && placement === 'dedicated' && totalServers + regions.length > THREADS_MAX) {
    throw new ConfigError('placement', `'packed' for more than ${THREADS_MAX} servers and regions on threads (dedicated gives each its own thread)`, placement);
  }
  return {
    regions,
    transport,
    seed,
    placement,
    threads,
    nats,
    network,
    replication,
    commit,
    transactions,
    limits: validateLimits(config.limits),
    balancer,
    heartbeat,
    shards,
    requestTimeoutMs,
    mailboxCapacity,
    messageBytesMax,
    workerHeapMb,
    dataDir: config.dataDir as string | undefined,
    fsync: (config.fsync as boolean | undefined) ?? false,
    trace: (config.trace as boolean | undefined) ?? false,
    history: (config.history as boolean | undefined) ?? true,
  };
}
