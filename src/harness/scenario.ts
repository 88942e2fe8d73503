import { startCluster, type AssertionFailure, type Cluster, type CopyProgress } from '../cluster/cluster.js';
import { TXN_OPS_MAX, type Client } from '../cluster/client.js';
import { ActorErrorWatch } from './actor-errors.js';
import {
  COMMIT_PROTOCOLS,
  REPLICATION_FACTOR_MAX,
  REPLICATION_MODES,
  REQUEST_TIMEOUT_MS_MAX,
  SEED_MAX,
  UNSAFE_VARIANT_MODES,
  UNSAFE_VARIANTS,
  checkInt,
  checkNumber,
  isPlainObject,
  quotedList,
  type BalancerConfig,
  type ClusterConfig,
  type NatsConfig,
  type ReplicationConfig,
  type ReplicationMode,
  type UnsafeVariant,
} from '../cluster/config.js';
import { validateNats } from '../cluster/validate-nats.js';
import { allServers, balancerAddress, coordinatorAddress, regionOfServer, serverId } from '../cluster/topology.js';
import { ConfigError, MeridianError, UnavailableError, ValidationError, describe, namedAs } from '../core/errors.js';
import { allKeys, checkOptions, definedOnly, firstRepeated } from '../core/validate.js';
import { Prng } from '../core/prng.js';
import { answerWithin } from '../runtime/transports/runtime.js';
import { compareBallots, formatBallot, type Ballot } from '../protocols/ballot.js';
import { MEMORY_LIMIT_MIN, type MemoryLimits } from '../core/limits.js';
import { STRATEGY_NAMES, type StrategyName } from '../balance/types.js';
import type { History } from '../core/history.js';
import { checkHistory, type CheckResult } from './linearizability.js';
import { checkCheckBudget, stepsMaxFor } from './check-budget.js';
import { FAULT_KINDS, Nemesis, planLine, realTimeKinds, resolvePlan, type NemesisOptions } from './nemesis.js';
import type { StartCluster } from './seed-stop.js';

/**
 * One seeded fault-injection run in the simulator, then the checks: the harness behind the
 * randomized tests and `meridian check`. Everything — the fault mix, the network, the
 * workload — is drawn from the seed, so a failing seed is a reproducible bug report. Nothing
 * here looks at `unsafe`: a broken variant runs the same faults and workload as the real thing.
 *
 * A run has a safety phase (faults on: by default the targeted nemesis — leaders crashed and
 * isolated, restart storms, power loss, partitions, loss, duplication, reordering, clock
 * skew — under a mixed workload of reads, puts, deletes, cas and two-key transactions) and a
 * liveness phase (everything healed: every client must complete operations). Then:
 * - the history must be linearizable (key by key; transactions are checked through their
 *   per-key projections);
 * - every actor assertion must have held (a failed `assert` fails the seed);
 * - the replicas must have converged: after a quiet second, a local read in every region
 *   returns what a linearizable read returns.
 */
export interface ScenarioOptions {
  seed: number;
  mode: ReplicationConfig['mode'];
  commit?: ClusterConfig['commit'];
  unsafe?: ReplicationConfig['unsafe'];
  clients?: number;
  keys?: number;
  /** Length of the safety phase, virtual ms. */
  faultMs?: number;
  /** Operations each client runs in the liveness phase. */
  livenessOps?: number;
  /**
   * The cluster's shape: regions (default 3: r1, r2, r3, ...), servers in each region
   * (default 2), replicas of each shard
   * (`replication.factor`, default 3; hybrid gets at most a region's servers: scenarioFactor)
   * and shards (default 4). With a factor of 4 or more the targeted nemesis may have a
   * majority less one of a group down at once, not one (`defaultCrashMax` in nemesis.ts).
   */
  regions?: number;
  servers?: number;
  factor?: number;
  shards?: number;
  /** Share of workload calls that are two-key transactions (0 to 1). */
  txnShare?: number;
  /**
   * Clients beside `clients` that run two-key transactions and reads on keys of their own
   * (`txnKeys` of them, apart from `keys`): transactions in flight through every fault, whose
   * locks do not hold up the single-key workload. Default SCENARIO_DEFAULTS.txnClients (as
   * many as fit in 64 clients in all), or none when `txnShare` is 0.
   */
  txnClients?: number;
  /** Keys the transaction clients use (default SCENARIO_DEFAULTS.txnKeys). */
  txnKeys?: number;
  /** Client call timeout (default SCENARIO_REQUEST_TIMEOUT_MS; 1 ms to REQUEST_TIMEOUT_MS_MAX). */
  requestTimeoutMs?: number;
  /** Keep the message trace (for `meridian check --trace`; sim only: true is refused on threads and nats). */
  trace?: boolean;
  /** 'sim' (default: reproducible) or 'threads' / 'nats' (the same scenario in real time). */
  transport?: 'sim' | 'threads' | 'nats';
  /** With transport 'nats': its servers and hosts. */
  nats?: NatsConfig;
  /**
   * More faults of the caller's own beside the schedule during the safety phase (e.g. killing
   * a host process); lines it pushes onto `faults` are reported with the others.
   */
  during?: (cluster: Cluster, faults: string[]) => Promise<void>;
  /**
   * Fault schedule: absent, the default targeted nemesis (SCENARIO_NEMESIS); nemesis options
   * (e.g. `{ swarm: true }`); or 'builtin', the older fixed schedule (crashes, region
   * partitions, heals) that earlier seeds were pinned to.
   */
  nemesis?: NemesisOptions | 'builtin';
  /**
   * Carry out only these fault episodes (numbered from 0 in the order the nemesis draws them;
   * the fault log tags each with `[#n]`): what shrinking keeps. Not with 'builtin'.
   */
  onlyFaults?: number[];
  /**
   * The cluster's memory bounds (ClusterConfig.limits) and messageBytesMax: 'drawn' (default)
   * gives a share SCENARIO_SMALL_LIMITS_SHARE of seeds small ones (drawLimits), 'small' every
   * seed, 'default' none.
   */
  limits?: LimitsChoice;
  /**
   * How each region's balancer places requests (ClusterConfig.balancer): a strategy for every
   * seed ('round-robin', the default, leaves the section out: the cluster's defaults), or
   * 'drawn', a strategy and its options drawn from the seed (drawBalancer).
   */
  balancer?: BalancerChoice;
  /**
   * The checker's search budget, as a multiple of its default (CHECK_STEPS_MAX search steps per
   * key; at least one step): past it a key is undecided and the seed 'unknown', unless
   * something else failed. Above 1 for histories too long to decide, below 1 to see an
   * undecided seed's report.
   */
  checkBudget?: number;
}

/** How a scenario picks its cluster's memory bounds and messageBytesMax (ScenarioOptions.limits). */
export type LimitsChoice = 'drawn' | 'small' | 'default';
export const LIMITS_CHOICES: readonly LimitsChoice[] = ['drawn', 'small', 'default'];

/**
 * Share of seeds whose cluster gets small memory bounds and a small messageBytesMax
 * (drawLimits), as FoundationDB's simulator shrinks knobs: the state machines and coordinators
 * then forget within a seed, and what they forgot must still be refused when a late copy of it
 * arrives; promises, catch-ups and accept batches go in parts.
 */
export const SCENARIO_SMALL_LIMITS_SHARE = 0.25;
/**
 * Small bounds are below this. A shard of the default scenario gets some 20 requests a second,
 * so a copy 300 ms late (SCENARIO_DUPLICATE_DELAY_MS) comes some 6 requests after its original.
 * With `--limits small` (2026-12-01, scripts/mutants.mjs, 100 seeds): a state machine without
 * its per-client marks failed 1 seed with bounds of 8-63 and 6 with bounds of 1-15; a
 * coordinator without them 0 and 1; a shard without its transaction marks 0 and 0 (those
 * three fail tests of the suite instead: test/limits-config.test.ts, bug-refused-duplicate,
 * bug-late-prepare). Correct code passed 150 seeds of each mode and of each commit protocol's
 * transactional workload with small bounds in every seed.
 */
export const SCENARIO_SMALL_LIMIT_MAX = 16;

/**
 * A small seed's messageBytesMax is drawn from this to SCENARIO_SMALL_MESSAGE_BYTES_MAX: at
 * the default (1 MiB) no message of a seed came near it, so the paths that split a message
 * too large for one never ran under the checker and the nemesis. Measured (2026-12-07, active,
 * passive, hybrid and txn seeds 1-9, counters in a scratch build): at 4 KiB and above nothing
 * split; at 2 KiB a promise in one seed of 3; at 512 B-1 KiB each seed cut catch-ups,
 * batches or promises 1-13 times (snapshots, coordinator wires and region digests did not
 * split even at 512 B: the scenarios' data and clusters are too small). The largest command
 * a seed replicated was 180 bytes (a transaction's outcome with its records; a client's
 * request, under 100), and commandBytesMax at 512 B is some 330: no request was refused as
 * too large, which the checker would accept as a definite error while the workload it
 * should have run went untested.
 */
export const SCENARIO_SMALL_MESSAGE_BYTES_MIN = 512;
export const SCENARIO_SMALL_MESSAGE_BYTES_MAX = 2 * 1024;

/** A seed's small bounds (drawLimits): the cluster's memory bounds and its messageBytesMax. */
export interface ScenarioLimits {
  memory: MemoryLimits;
  messageBytesMax: number;
}

/**
 * The small bounds of a seed (its own stream: the scenario's other draws do not move):
 * undefined (the defaults) unless `choice` is 'small', or 'drawn' and the seed draws small
 * ones; small memory bounds are each MEMORY_LIMIT_MIN to SCENARIO_SMALL_LIMIT_MAX - 1, and
 * messageBytesMax SCENARIO_SMALL_MESSAGE_BYTES_MIN to SCENARIO_SMALL_MESSAGE_BYTES_MAX,
 * drawn after them (a seed's memory bounds stay those it drew before messageBytesMax was).
 */
export function drawLimits(seed: number, choice: LimitsChoice = 'drawn'): ScenarioLimits | undefined {
  if (choice === 'default') return undefined;
  const rng = new Prng(`limits:${seed}`);
  if (choice === 'drawn' && !rng.chance(SCENARIO_SMALL_LIMITS_SHARE)) return undefined;
  const small = (): number => MEMORY_LIMIT_MIN + rng.int(SCENARIO_SMALL_LIMIT_MAX - MEMORY_LIMIT_MIN);
  const memory = { seenRequests: small(), finishedTxns: small(), begunRequests: small(), routedRequests: small() };
  const messageBytesMax = SCENARIO_SMALL_MESSAGE_BYTES_MIN + rng.int(SCENARIO_SMALL_MESSAGE_BYTES_MAX - SCENARIO_SMALL_MESSAGE_BYTES_MIN + 1);
  return { memory, messageBytesMax };
}

/** Sets a seed's small bounds (drawLimits) on its cluster's config; both scenarios' one way. */
export function applyLimits(config: ClusterConfig, limits: ScenarioLimits | undefined): void {
  if (limits === undefined) return;
  config.limits = limits.memory;
  config.messageBytesMax = limits.messageBytesMax;
}

/** The line a run's fault log gets for small bounds. */
export function describeLimits(limits: ScenarioLimits): string {
  const m = limits.memory;
  return `limits: seenRequests ${m.seenRequests}, finishedTxns ${m.finishedTxns}, begunRequests ${m.begunRequests}, routedRequests ${m.routedRequests}, messageBytesMax ${limits.messageBytesMax}`;
}

/** How a scenario picks its balancers (ScenarioOptions.balancer). */
export type BalancerChoice = StrategyName | 'drawn';
export const BALANCER_CHOICES: readonly BalancerChoice[] = [...STRATEGY_NAMES, 'drawn'];

/**
 * The balancer section of a seed's cluster (its own stream: the scenario's other draws do not
 * move): undefined for 'round-robin' (so a default run is what it was before the choice
 * existed), the strategy alone for another name, and for 'drawn' a strategy with, each in some
 * seeds, its own options, weights per server, outlier ejection off or quick enough to act
 * within a fault (after 1-4 failures, for 100-999 ms at first), zone-aware routing's knobs with
 * a failover order, and weights scaled by the servers' reported load. Every draw is one a user
 * may write (validateBalancerConfig takes it: test/check-balancer.part.ts).
 */
export function drawBalancer(seed: number, choice: BalancerChoice, regions: readonly string[], servers: number): BalancerConfig | undefined {
  if (choice === 'round-robin') return undefined;
  if (choice !== 'drawn') return { strategy: choice };
  const rng = new Prng(`balancer:${seed}`);
  const strategy = rng.pick(STRATEGY_NAMES);
  const b: BalancerConfig = { strategy };
  const tuned = rng.chance(0.5);
  if (tuned && strategy === 'least-request') {
    b.choiceCount = 2 + rng.int(3);
    b.activeRequestBias = rng.int(3);
  } else if (tuned && strategy === 'consistent-hash') {
    b.virtualNodes = 1 + rng.int(200);
    if (rng.chance(0.5)) b.boundedLoadFactor = 1 + rng.int(5) / 4;
  } else if (tuned && strategy === 'maglev') {
    b.maglevTableSize = rng.pick([7, 13, 251, 4_099]);
  } else if (tuned && strategy === 'least-latency') {
    b.decayTimeMs = 50 + rng.int(2_000);
  }
  if (strategy === 'weighted-round-robin' || (strategy !== 'round-robin' && rng.chance(0.3))) {
    b.weights = {};
    for (const r of regions) for (let i = 0; i < servers; i++) b.weights[serverId(r, i)] = 1 + rng.int(4);
  }
  const outlier = rng.int(3);
  if (outlier === 1) b.outlier = false;
  else if (outlier === 2) {
    const base = 100 + rng.int(900);
    b.outlier = {
      consecutiveFailures: 1 + rng.int(4),
      baseEjectionTimeMs: base,
      maxEjectionTimeMs: base * (1 + rng.int(3)),
      // At least one of all the servers (the same draw, raised where it would allow none).
      maxEjectionPercent: Math.max(rng.pick([34, 50, 100]), Math.ceil(100 / (regions.length * servers))),
      ejectionDecayMs: 500 + rng.int(4_500),
    };
  }
  if (rng.chance(0.3)) {
    const priority = rng.shuffle(regions);
    b.locality = { overprovisioningFactor: 1 + rng.int(9) / 4, panicThresholdPercent: rng.int(101), priority };
  }
  // Drawn for every strategy (the draws after it stay those of before), kept where weights count.
  if (rng.chance(0.3) && strategy !== 'round-robin') b.dynamicWeights = true;
  return b;
}

/** The line a run's fault log gets for a balancer section: the section itself, as a config would hold it. */
export function describeBalancer(balancer: BalancerConfig): string {
  return `balancer: ${JSON.stringify(balancer)}`;
}

export interface ScenarioResult {
  seed: number;
  mode: string;
  ok: boolean;
  /**
   * 'pass'; 'fail' (a violation, a failed assertion, divergence, not live; runChecks also
   * reports a run that threw as a failed seed, where runScenario rejects with the error);
   * 'unknown' (the checker ran out of budget on some key and nothing else failed).
   */
  outcome: 'pass' | 'fail' | 'unknown';
  /** What failed, one phrase per failure (empty on a pass). */
  failures: string[];
  /** The liveness phases completed: every client finished its operations after healing, and the catch-up phase's puts finished. */
  live: boolean;
  check: CheckResult;
  operations: number;
  /** Operations whose outcome stayed unknown (timed out), as a share of all operations. */
  unknownShare: number;
  /** Assertions that failed inside actors. */
  assertions: AssertionFailure[];
  /** Keys whose local reads disagreed with a linearizable read after the quiet second. */
  diverged: string[];
  /** Fault episodes the nemesis drew (including ones left out by `onlyFaults`). */
  faultEpisodes: number;
  /** Wall time the linearizability check took (not a function of the seed). */
  checkMs: number;
  faults: string[];
  traceHash: number;
  history?: History;
  trace?: Array<{ at: number; from: string; to: string; type: string }>;
  /**
   * Off sim, when the run did not pass: what the cluster looked like at the end, before it
   * stopped (a real-time run does not replay from its seed, so this is all there is to read).
   */
  inspection?: ScenarioInspection;
}

/** The end of a real-time run that did not pass (ScenarioResult.inspection). */
export interface ScenarioInspection {
  /** Cluster time of the look, ms since the scenario started. */
  atMs: number;
  /** Each host's answer to a ping, or the error (a host that did not answer within SCENARIO_INSPECT_TIMEOUT_MS). */
  hosts: unknown;
  /** Each server's, coordinator's, balancer's and region actor's control-plane summary (`cluster.inspect`), or the error. */
  actors: Record<string, unknown>;
  /** The servers' liveness as the cluster sees it (`cluster.members()`). */
  members: unknown;
  stats: unknown;
  /** Actor errors and warnings the hosts reported (`cluster.errors()`). */
  errors: unknown;
}

/** How long the inspection of a failed real-time run waits for each answer. */
export const SCENARIO_INSPECT_TIMEOUT_MS = 2_000;

/** `p`, or the error it failed with or a timeout's, as a value (an inspection reports, never throws). */
function answerOf(p: Promise<unknown>, ms: number): Promise<unknown> {
  return answerWithin(ms, p, () => new Error(`no answer within ${ms} ms`)).catch((error: unknown) => ({
    error: error instanceof Error ? error.message : String(error),
  }));
}

/** See ScenarioInspection; `t0` is the cluster time the scenario started. */
export async function inspectCluster(cluster: Cluster, t0 = 0): Promise<ScenarioInspection> {
  const regions = cluster.config.regions.map((r) => r.name);
  const addresses = [...allServers({ regions: cluster.config.regions }), ...regions.map(coordinatorAddress), ...regions.map(balancerAddress), ...regions];
  const actors: Record<string, unknown> = {};
  for (const address of addresses) actors[address] = await answerOf(cluster.inspect(address), SCENARIO_INSPECT_TIMEOUT_MS);
  const safely = (f: () => unknown): unknown => {
    try {
      return f();
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  };
  return {
    atMs: cluster.now() - t0,
    hosts: await answerOf(cluster.ping(), SCENARIO_INSPECT_TIMEOUT_MS),
    actors,
    members: safely(() => cluster.members()),
    stats: safely(() => cluster.stats()),
    errors: safely(() => cluster.errors()),
  };
}

export const SCENARIO_DEFAULTS = { clients: 12, keys: 8, faultMs: 4_000, livenessOps: 3, txnShare: 0.1, txnClients: 2, txnKeys: 8 } as const;
/** Records a server appends between checkpoints of its log in the scenario (the cluster's default is 8,000). */
export const SCENARIO_CHECKPOINT_EVERY = 256;
/**
 * Log slots a shard applies between snapshots of its state in the scenarios (the cluster's
 * default is 1,000, which a seed's few hundred operations never reach): with it, replicas
 * compact their logs, and one that fell behind or restarted catches up from a snapshot, a
 * few to 25 times a seed. At the default no seed restored a snapshot, and a snapshot that
 * lost the request ids it remembered (a scratch build) failed 0 of 100 seeds; at 8, with
 * replicaStateDiffs, 96 of 100 (2026-12-01).
 */
export const SCENARIO_SNAPSHOT_EVERY = 8;
/** Share of a transaction client's calls that are transactions (the rest are reads of its keys). */
export const SCENARIO_TXN_CLIENT_SHARE = 0.5;
/**
 * How a seed's report begins a failure that says the cluster did not come back (liveness): what
 * the shrink tells from one of safety (shrink.ts, failedOnSafety). Every such failure starts
 * with one of these, in this file and check-runner.ts's transaction report.
 */
export const LIVENESS_FAILURES = {
  unreadable: 'reads refused or timed out after healing',
  notLive: 'not live',
  behind: 'copy stayed behind',
  unstable: 'no stable leader',
} as const;

/** Liveness-phase puts write values from here up (workload values are client index x 100,000 + n). */
const LIVENESS_VALUE_BASE = 1_000_000_000;
/** Clients whose liveness-phase puts run at once (the default scenario's 14 in one wave). */
export const LIVENESS_WAVE_CLIENTS = 16;
/** Liveness-phase puts of one key that run at once, at most (the default scenario's: 14). */
export const LIVENESS_WAVE_PUTS_PER_KEY = 16;

/**
 * The liveness phase's waves: client indices, in order, at most LIVENESS_WAVE_CLIENTS a wave
 * and at most LIVENESS_WAVE_PUTS_PER_KEY puts of one key (client i puts keys k mod `keys`,
 * k < `ops`). With few keys a client puts one key more than once: 10 clients, 2 keys and 3
 * puts each were 20 concurrent puts of key0, and with the faults' unknown writes beside them
 * more orders than the search could rule out in 50 million steps (hybrid swarm seeds with
 * `--clients 8 --keys 2` were 'unknown').
 */
export function livenessWaves(clients: number, keys: number, ops: number): number[][] {
  const perClient = new Array<number>(keys).fill(0);
  for (let k = 0; k < ops; k++) perClient[k % keys]!++;
  const waves: number[][] = [];
  let wave: number[] = [];
  for (let i = 0; i < clients; i++) {
    const full = wave.length >= LIVENESS_WAVE_CLIENTS || perClient.some((n) => (wave.length + 1) * n > LIVENESS_WAVE_PUTS_PER_KEY);
    if (full && wave.length > 0) {
      waves.push(wave);
      wave = [];
    }
    wave.push(i);
  }
  if (wave.length > 0) waves.push(wave);
  return waves;
}
/**
 * The default fault schedule: every fault kind, blackouts and pauses too, one step every ~600 ms, each
 * lasting ~500 ms. Blackouts (weight 6, since 2026-12-01): a balancer that refused requests
 * while every server was down and routed their late duplicates after the restart (the bug of
 * seed 255280, put back on purpose) failed 0 of 300 seeds of this schedule without them, 5 of
 * 60 with them (every seed of them alone: 23 of 40); the broken variants' catch rates stayed
 * where they were (50 seeds each: 24, 27, 35, 49, 35, 37, 43, 22). Pauses (weight 6, since
 * 2026-12-01 19:50): of 100 seeds each, the mutants no-dedup 20 -> 24, noop-reproposal 71 -> 82
 * and lowest-ballot 0 -> 1 (npm run mutants); the variants 51, 63, 80, 95, 66, 75, 80, 41 ->
 * 46, 61, 78, 96, 74, 74, 76, 38 (weight 15: 42, 60, 73, 96: more pauses, fewer of the rest).
 * strand-leader 12 (10 before 2026-12-02, when it began to cut a coordinator off at a commit
 * decision, and so to last 2-4 s more): the mutant stale-leader-acks was caught in 28 of 100
 * seeds of `--txn-share 0.3 --mode passive` with 10, 33 with 12 and 43 with 15, while
 * checkpoint-drops-tail was caught in 33 with 12 and 31 with 15 (38 before the change).
 * late-copies 4, checkpoint-crash 16 (13 before; 2026-12-02, session 21): the variants were
 * caught in 45, 48, 57, 97, 80, 45, 76, 36 of 100 (51, 47, 59, 99, 77, 37, 83, 36 without
 * late-copies); late-copies 6 with 13 left checkpoint-drops-tail at 29, and 3 with 13 at 32.
 * The dedup mutants of scripts/mutants.mjs went from 18, 12 to 25, 18 of 100.
 */
export const SCENARIO_NEMESIS: NemesisOptions = {
  intervalMs: 600,
  faultMs: 500,
  faults: [...FAULT_KINDS, 'blackout', 'pause', 'leader-duel', 'late-copies'],
  weights: {
    'leader-handover': 24,
    'strand-leader': 12,
    'checkpoint-crash': 16,
    'crash-coordinator': 4,
    blackout: 6,
    pause: 6,
    'leader-duel': 10,
    'late-copies': 4,
  },
};
/**
 * How much later than its original a duplicated message may come in the scenarios' network
 * (NetworkConfig.duplicateDelayMs). With copies on time a duplicate lands next to its twin,
 * where applying it twice changes nothing a history shows: a store with the duplicate checks
 * of both its balancer and its state machine removed (a scratch build) failed 8 of 100 seeds
 * of the default check; with copies up to 300 ms late, 22 of 100 (2026-12-01).
 */
export const SCENARIO_DUPLICATE_DELAY_MS = 300;
/** Client call timeout in the scenario: past an election (~300-600 ms) and a typical fault's end. */
export const SCENARIO_REQUEST_TIMEOUT_MS = 1_500;
/** Quiet time before the convergence reads. */
export const SCENARIO_QUIET_MS = 1_000;
/** Rounds of convergence reads of a key that differs (a quiet second between rounds) before it counts as diverged. */
export const SCENARIO_CONVERGENCE_TRIES = 3;
/** Linearizable reads of a key the convergence reads try, 200 ms apart, before the key counts as unreadable. */
const READ_TRIES = 5;
/** How long the catch-up phase's second server stays down (nothing is written meanwhile). */
export const SCENARIO_CATCH_UP_DOWN_MS = 300;

/** Most regions, servers per region and shards a scenario may ask for (and fewest regions: a region cut needs two). */
export const SCENARIO_REGIONS_MIN = 2;
export const SCENARIO_REGIONS_MAX = 5;
export const SCENARIO_SERVERS_MAX = 5;
export const SCENARIO_SHARDS_MAX = 16;
/** Most replicas of a shard: the cluster's own cap, so a scenario asking for more fails up front. */
export const SCENARIO_FACTOR_MAX = REPLICATION_FACTOR_MAX;
/**
 * The default shape. Its factor, 3, is at most the cluster's servers (2 regions of 1 server: 2)
 * and 1 with mode 'none' (resolveShape), as the cluster's own default.
 */
export const SCENARIO_SHAPE_DEFAULTS = { regions: 3, servers: 2, factor: 3, shards: 4 } as const;
/** Keys of the transactional scenario, at most: its final read gets every key in one transaction. */
export const TXN_SCENARIO_KEYS_MAX = TXN_OPS_MAX;

/**
 * The scenario's replication mode, and the factor it takes (given): a ConfigError naming the
 * field. Mode 'none' keeps one copy of each shard, so its factor is 1 (resolveShape's default).
 */
export function checkScenarioMode(mode: unknown, factor: number | undefined): void {
  if (!REPLICATION_MODES.includes(mode as ReplicationMode)) throw new ConfigError('mode', `one of ${REPLICATION_MODES.join(', ')}`, mode);
  if (mode === 'none' && factor !== undefined && factor !== 1)
    throw new ConfigError('factor', "1 with mode 'none' (one copy of each shard; choose a replication mode for more)", factor);
}

/**
 * A broken variant of the kv scenario, with the mode and commit protocol it acts in (the
 * cluster refuses it in the others once the run has begun): a ConfigError naming the field.
 */
export function checkScenarioVariant(o: { mode: ReplicationMode; unsafe?: unknown; commit?: unknown }): void {
  if (o.commit !== undefined && !COMMIT_PROTOCOLS.includes(o.commit as (typeof COMMIT_PROTOCOLS)[number]))
    throw new ConfigError('commit', `one of ${COMMIT_PROTOCOLS.join(', ')}`, o.commit);
  if (o.unsafe === undefined) return;
  if (!UNSAFE_VARIANTS.includes(o.unsafe as UnsafeVariant)) throw new ConfigError('unsafe', `one of ${UNSAFE_VARIANTS.join(', ')}`, o.unsafe);
  const needs = UNSAFE_VARIANT_MODES[o.unsafe as UnsafeVariant];
  if (needs !== undefined && !needs.modes.includes(o.mode))
    throw new ConfigError('mode', `${quotedList(needs.modes)} with unsafe '${String(o.unsafe)}' (${needs.why})`, o.mode);
  if (o.unsafe === '2pc-commit-on-timeout' && o.commit !== undefined && o.commit !== '2pc')
    throw new ConfigError('commit', "'2pc' with unsafe '2pc-commit-on-timeout' (a 2PC coordinator's bug)", o.commit);
}

/**
 * The fault schedule option of a scenario, before its cluster starts: 'builtin' (kv only,
 * `builtin`), or nemesis options as the Nemesis checks them (a ConfigError naming
 * `nemesis.<field>`); `only` the episodes to carry out.
 */
export function checkScenarioNemesis(nemesis: unknown, seed: number, builtin: boolean, transport: string | undefined, only?: number[]): void {
  if (nemesis === undefined || (builtin && nemesis === 'builtin')) return;
  if (typeof nemesis !== 'object' || nemesis === null || Array.isArray(nemesis))
    throw new ConfigError('nemesis', `${builtin ? "'builtin' or " : ''}an object of nemesis options ({ swarm: true }, { faults: [...] }, ...)`, nemesis);
  resolvePlan({ ...(nemesis as NemesisOptions), ...(only === undefined ? {} : { only }) }, seed, undefined, transport);
}

/** A cluster shape of the scenarios: regions, servers in each, replicas per shard, shards. */
export interface ScenarioShape {
  regions: number;
  servers: number;
  factor: number;
  shards: number;
}

/**
 * A shape drawn from the seed (`meridian check --shape random`): 2-5 regions of 1-3 servers,
 * a factor of 3 or 5 most often (else 1, 2 or 4; at most the cluster's servers), 1-8 shards.
 * Its own stream: the scenario's draws are the same as with the shape given by flags.
 */
export function drawShape(seed: number): ScenarioShape {
  if (!Number.isInteger(seed) || seed < 0 || seed > SEED_MAX) throw new ValidationError('seed', `an integer from 0 to ${SEED_MAX}, got ${describe(seed)}`);
  const rng = new Prng(`shape:${seed}`);
  const regions = SCENARIO_REGIONS_MIN + rng.int(SCENARIO_REGIONS_MAX - SCENARIO_REGIONS_MIN + 1);
  const servers = 1 + rng.int(3);
  const factors = [3, 3, 3, 5, 5, 4, 2, 1].filter((f) => f <= regions * servers);
  return { regions, servers, factor: rng.pick(factors), shards: 1 + rng.int(8) };
}

/**
 * The replication factor a scenario's cluster is given: the shape's, and with mode 'hybrid' at
 * most the servers of a region (a hybrid group lives in its shard's home region, and the
 * cluster refuses more): `check --mode hybrid` on the default 2 servers a region runs groups
 * of 2, `--servers 1` groups of one, and a drawn factor of 4 or 5 groups of the region's servers.
 */
export function scenarioFactor(mode: string | undefined, shape: Pick<ScenarioShape, 'servers' | 'factor'>): number {
  return mode === 'hybrid' ? Math.min(shape.factor, shape.servers) : shape.factor;
}

/** The shape fields of `o` that are set. */
export function shapeFieldsOf(o: {
  regions?: number | undefined;
  servers?: number | undefined;
  factor?: number | undefined;
  shards?: number | undefined;
}): Partial<ScenarioShape> {
  const shape: Partial<ScenarioShape> = {};
  if (o.regions !== undefined) shape.regions = o.regions;
  if (o.servers !== undefined) shape.servers = o.servers;
  if (o.factor !== undefined) shape.factor = o.factor;
  if (o.shards !== undefined) shape.shards = o.shards;
  return shape;
}

/**
 * The shape `o` asks for, validated (a ConfigError naming the field), the defaults filling the
 * rest; the default factor is at most the cluster's servers, and 1 with `mode` 'none' (as the
 * cluster's own default).
 */
export function resolveShape(o: Parameters<typeof shapeFieldsOf>[0] & { mode?: string | undefined }): ScenarioShape {
  const given = shapeFieldsOf(o);
  checkScenarioSizes(given);
  const shape = { ...SCENARIO_SHAPE_DEFAULTS, ...given };
  const factor = o.mode === 'none' ? 1 : Math.min(SCENARIO_SHAPE_DEFAULTS.factor, shape.regions * shape.servers);
  return { ...shape, factor: given.factor ?? factor };
}

/** The scenario's sizes, those given: a ConfigError naming the first one out of range. */
export function checkScenarioSizes(o: {
  clients?: number | undefined;
  keys?: number | undefined;
  faultMs?: number | undefined;
  txnShare?: number | undefined;
  regions?: number | undefined;
  servers?: number | undefined;
  factor?: number | undefined;
  shards?: number | undefined;
}): void {
  if (o.clients !== undefined) checkInt(o.clients, 'clients', 1, 64);
  if (o.keys !== undefined) checkInt(o.keys, 'keys', 1, 1_000);
  if (o.faultMs !== undefined) checkNumber(o.faultMs, 'faultMs', 0, 600_000, 'a number of ms from 0 to 600000');
  if (o.txnShare !== undefined) checkNumber(o.txnShare, 'txnShare', 0, 1);
  if (o.regions !== undefined) checkInt(o.regions, 'regions', SCENARIO_REGIONS_MIN, SCENARIO_REGIONS_MAX);
  if (o.servers !== undefined) checkInt(o.servers, 'servers', 1, SCENARIO_SERVERS_MAX, `an integer from 1 to ${SCENARIO_SERVERS_MAX} (servers in each region)`);
  const total = (o.regions ?? SCENARIO_SHAPE_DEFAULTS.regions) * (o.servers ?? SCENARIO_SHAPE_DEFAULTS.servers);
  const factorMax = Math.min(total, SCENARIO_FACTOR_MAX);
  if (o.factor !== undefined)
    checkInt(
      o.factor,
      'factor',
      1,
      factorMax,
      `an integer from 1 to ${factorMax} (${total > SCENARIO_FACTOR_MAX ? "the cluster's most replicas of a shard" : 'the servers of the cluster'})`,
    );
  if (o.shards !== undefined) checkInt(o.shards, 'shards', 1, SCENARIO_SHARDS_MAX);
}

/** `onlyFaults`, when given: fault episode numbers (a scenario's, or a task's for `meridian check`). */
export function checkOnlyFaults(onlyFaults: unknown): void {
  // Array.from: some() skips holes (`[, 1]` ran as if the hole were not there).
  if (onlyFaults !== undefined && (!Array.isArray(onlyFaults) || Array.from(onlyFaults).some((n) => !Number.isInteger(n) || n < 0)))
    throw new ConfigError('onlyFaults', 'an array of fault episode indexes (integers >= 0)', onlyFaults);
  // As `--only-faults 1,1` is refused: [1, 1] is a slip, maybe for another number (it ran as [1]).
  const twice = firstRepeated(onlyFaults as number[] | undefined);
  if (twice !== undefined) throw new ConfigError('onlyFaults', `each fault episode once, got ${twice} twice`, onlyFaults);
}

/**
 * What every scenario takes alike, before its cluster starts: `seed` (0 to SEED_MAX), and
 * `limits`, `balancer`, `trace` and `checkBudget` when given; a ConfigError naming the field.
 */
export function checkScenarioBasics(o: { seed: unknown; limits?: unknown; balancer?: unknown; trace?: unknown; checkBudget?: unknown }): void {
  checkInt(o.seed, 'seed', 0, SEED_MAX, 'an integer from 0 to 2^32 - 1');
  checkCheckBudget(o.checkBudget);
  if (o.limits !== undefined && !LIMITS_CHOICES.includes(o.limits as LimitsChoice)) throw new ConfigError('limits', LIMITS_CHOICES.join(', '), o.limits);
  if (o.balancer !== undefined && !BALANCER_CHOICES.includes(o.balancer as BalancerChoice))
    throw new ConfigError('balancer', BALANCER_CHOICES.join(', '), o.balancer);
  if (o.trace !== undefined && typeof o.trace !== 'boolean') throw new ConfigError('trace', 'true or false', o.trace);
}

/** The transports a scenario runs on: 'sim' (its default) first. */
export const SCENARIO_TRANSPORTS = ['sim', 'threads', 'nats'] as const;

/**
 * A seeded run (runScenario, runTxnScenario, runBankScenario) that threw once its cluster had
 * started: a `during` hook of the caller's, a nemesis or a workload call that failed, a stalled
 * simulation. It rejected with the bare error, which named no seed, so the run could not be
 * replayed (an audit, session 62). `seed` is the run's, `cause` what it threw (its code kept
 * when a MeridianError, else INTERNAL), and the stack the cause's.
 */
export class SeedRunError extends MeridianError {
  readonly seed: number;
  constructor(run: string, seed: number, transport: string, cause: unknown) {
    super(
      cause instanceof MeridianError ? cause.code : 'INTERNAL',
      `${run}: the run with seed ${seed} threw (${transport === 'sim' ? `replay with seed ${seed}` : `transport ${transport}, real time: the seed draws the same choices, but does not replay the run`}): ${cause instanceof Error ? cause.message : String(cause)}`,
      false,
    );
    this.seed = seed;
    this.cause = cause;
    // The cause's frames, where it was thrown (this one's say only where the run rejected).
    if (cause instanceof Error && cause.stack !== undefined) this.stack = `${this.name}: ${this.message}\nCaused by: ${cause.stack}`;
  }
}

/** `error`, with the seed of the run it ended (see SeedRunError). */
export function withSeed(run: string, seed: number, transport: string, error: unknown): SeedRunError {
  return error instanceof SeedRunError ? error : new SeedRunError(run, seed, transport, error);
}

/**
 * The transports whose runs are in real time: a failing seed does not replay on them, and a
 * scenario there leaves out what reads actors' state in place (the kv and txn scenarios, the
 * check runner's rules).
 */
export function realTime(transport: (typeof SCENARIO_TRANSPORTS)[number] | undefined): boolean {
  return transport === 'threads' || transport === 'nats';
}

/**
 * A scenario's transport options, before its cluster starts (startCluster would check them
 * only once the scenario built its config, under the cluster's names): `transport`, `nats`
 * (with transport 'nats' only, as the cluster checks it), `trace` true on 'sim' only (only
 * the simulator records a trace: on threads or nats the scenario would ignore it), and
 * `requestTimeoutMs`; a ConfigError naming the option.
 */
export function checkScenarioTransport(o: { transport?: unknown; nats?: unknown; trace?: unknown; requestTimeoutMs?: unknown }): void {
  if (o.transport !== undefined && !SCENARIO_TRANSPORTS.includes(o.transport as never))
    throw new ConfigError('transport', `one of ${SCENARIO_TRANSPORTS.join(', ')} (default sim)`, o.transport);
  const transport = (o.transport as (typeof SCENARIO_TRANSPORTS)[number] | undefined) ?? 'sim';
  // The cores only set the default number of host processes, which this check does not keep.
  if (transport === 'nats') validateNats(o.nats, 1, isPlainObject);
  else if (o.nats !== undefined) throw new ConfigError('nats', `absent unless transport is 'nats' (the scenario runs on '${transport}')`, o.nats);
  if (o.trace === true && transport !== 'sim')
    throw new ConfigError('trace', `false or absent with transport '${transport}' (only transport 'sim' records a trace)`, o.trace);
  if (o.requestTimeoutMs !== undefined)
    checkNumber(
      o.requestTimeoutMs,
      'requestTimeoutMs',
      1,
      REQUEST_TIMEOUT_MS_MAX,
      `a number of ms from 1 to ${REQUEST_TIMEOUT_MS_MAX} (a client call's timeout)`,
    );
}

function checkScenarioOptions(
  o: ScenarioOptions & { clients: number; keys: number; faultMs: number; livenessOps: number; txnShare: number; txnClients: number; txnKeys: number },
): void {
  checkScenarioBasics(o);
  checkScenarioTransport(o);
  checkScenarioMode(o.mode, o.factor);
  checkScenarioVariant(o);
  checkScenarioSizes(o);
  checkInt(o.livenessOps, 'livenessOps', 0, 1_000);
  checkInt(o.txnClients, 'txnClients', 0, 64 - o.clients, 'an integer from 0 to 64 - clients');
  checkInt(o.txnKeys, 'txnKeys', 2, 1_000);
  checkOnlyFaults(o.onlyFaults);
  if (o.onlyFaults !== undefined && o.nemesis === 'builtin')
    throw new ConfigError('onlyFaults', "a nemesis schedule (not 'builtin', which has no episodes)", o.onlyFaults);
  checkScenarioNemesis(o.nemesis, o.seed, true, o.transport, o.onlyFaults);
  if (o.during !== undefined && typeof o.during !== 'function')
    throw new ConfigError('during', 'a function (cluster, faults) => Promise<void> that adds faults of its own', o.during);
}

/** The keys of ScenarioOptions (all of them: allKeys checks it at compile time); anything else is refused (a misspelt option would run the default). */
export const SCENARIO_OPTION_KEYS = allKeys<ScenarioOptions>()([
  'seed',
  'mode',
  'commit',
  'unsafe',
  'clients',
  'keys',
  'faultMs',
  'livenessOps',
  'regions',
  'servers',
  'factor',
  'shards',
  'txnShare',
  'txnClients',
  'txnKeys',
  'requestTimeoutMs',
  'trace',
  'transport',
  'nats',
  'during',
  'nemesis',
  'onlyFaults',
  'limits',
  'balancer',
  'checkBudget',
]);

export function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  return runScenarioOn(options, startCluster);
}

/** runScenario, its cluster started by `start` (a SeedStop's: `meridian check`'s workers stop a seed they drop). */
export async function runScenarioOn(options: ScenarioOptions, start: StartCluster): Promise<ScenarioResult> {
  checkOptions(options, 'options', SCENARIO_OPTION_KEYS);
  const o = { ...SCENARIO_DEFAULTS, ...definedOnly(options) };
  // Left out, the transaction clients fit beside `clients` (64 in all): `clients: 64` threw a
  // ConfigError naming txnClients, an option its caller never gave (found by an audit, session 55).
  if (options.txnClients === undefined) o.txnClients = o.txnShare === 0 ? 0 : Math.max(0, Math.min(o.txnClients, 64 - o.clients));
  // Its fields named as the caller wrote them: options.x.
  namedAs('options', () => checkScenarioOptions(o));
  const prng = new Prng(o.seed);
  const shape = resolveShape(o);
  const regions = Array.from({ length: shape.regions }, (_, i) => `r${i + 1}`);
  const latencyMs: Record<string, number> = {};
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) latencyMs[`${regions[i]}~${regions[j]}`] = 5 + prng.int(40);
  }
  // Background loss stays low (calls are not retried: every lost request or answer is an
  // unknown outcome); the nemesis raises it in bursts.
  // Jitter at least 1 ms: with none, calls answered inside one region take 0 ms, and a client
  // whose every call is answered so (few keys, their leaders in its region) loops without
  // letting virtual time move (SimulationStalledError; seed 6, hybrid, swarm, 8 clients, 2 keys).
  const network = {
    latencyMs,
    jitterMs: Math.max(1, prng.int(10)),
    loss: prng.chance(0.5) ? prng.next() * 0.01 : 0,
    duplicate: prng.chance(0.5) ? prng.next() * 0.05 : 0,
    // A copy comes up to this much later than its original would (a retransmission), so it
    // can land after later writes to its key: see SCENARIO_DUPLICATE_DELAY_MS.
    duplicateDelayMs: SCENARIO_DUPLICATE_DELAY_MS,
  };
  // Servers checkpoint their logs every SCENARIO_CHECKPOINT_EVERY records, not every 8,000:
  // crashes then meet checkpointed logs (about 4 checkpoints a seed). A checkpoint that lost
  // records (fixed in 478d88d) went unseen by this scenario before; with this it failed 4%.
  const replication: ReplicationConfig = {
    mode: o.mode,
    factor: scenarioFactor(o.mode, shape),
    checkpointEvery: SCENARIO_CHECKPOINT_EVERY,
    snapshotEvery: SCENARIO_SNAPSHOT_EVERY,
  };
  // A drawn shape of factor 1 cannot run 'forget-promises' (a group of one has no other
  // proposer; the cluster refuses it): that seed runs the correct code, as it did in effect.
  if (o.unsafe !== undefined && !(o.unsafe === 'forget-promises' && replication.factor === 1)) replication.unsafe = o.unsafe;
  const threads = realTime(o.transport);
  const config: ClusterConfig = {
    regions: regions.map((name) => ({ name, servers: shape.servers })),
    transport: o.transport ?? 'sim',
    seed: o.seed,
    network,
    replication,
    shards: shape.shards,
    requestTimeoutMs: o.requestTimeoutMs ?? SCENARIO_REQUEST_TIMEOUT_MS,
    heartbeat: { intervalMs: 100 },
    // Power-loss faults lose nothing acknowledged with fsync (sim; on threads there are none).
    fsync: !threads,
    // Refused up front on threads and nats (checkScenarioTransport).
    trace: o.trace ?? false,
  };
  if (o.commit !== undefined) config.commit = o.commit;
  if (o.nats !== undefined) config.nats = o.nats;
  const limits = drawLimits(o.seed, o.limits);
  applyLimits(config, limits);
  const balancer = drawBalancer(o.seed, o.balancer ?? 'round-robin', regions, shape.servers);
  if (balancer !== undefined) config.balancer = balancer;
  const cluster = await start(config);
  const t0 = cluster.now();
  const faults: string[] = limits === undefined ? [] : [describeLimits(limits)];
  if (balancer !== undefined) faults.push(describeBalancer(balancer));
  let faultEpisodes = 0;
  try {
    const keys = Array.from({ length: o.keys }, (_, i) => `key${i}`);
    const txnKeys = o.txnClients === 0 ? [] : Array.from({ length: o.txnKeys }, (_, i) => `tkey${i}`);
    // The first `clients` run the mixed workload; the `txnClients` after them, transactions and reads on `txnKeys`.
    const clients = Array.from({ length: o.clients + o.txnClients }, (_, i) => cluster.client({ region: regions[i % regions.length]! }));
    let faulting = true;
    // In sim, every copy of every shard after every call and before every crash (see ProgressWatch).
    const watch = threads ? undefined : ProgressWatch.attach(cluster, t0);
    const actorErrors = ActorErrorWatch.attach(cluster, t0);
    const workload = async (index: number): Promise<void> => {
      const client = clients[index]!;
      const rng = prng.fork(`client${index}`);
      const txnClient = index >= o.clients;
      const pool = txnClient ? txnKeys : keys;
      const txnShare = txnClient ? SCENARIO_TXN_CLIENT_SHARE : o.txnShare;
      // The last value this client saw per key: what its cas expects, so some cas swap.
      const seen = new Map<string, number | undefined>();
      let n = 0;
      while (faulting) {
        const key = rng.pick(pool);
        const roll = rng.next();
        const value = index * 100_000 + n;
        try {
          if (roll < txnShare && pool.length > 1) {
            const other = rng.pick(pool.filter((k) => k !== key));
            await client.transaction([
              { op: 'put', key, value },
              rng.chance(0.25) ? { op: 'delete', key: other } : { op: 'put', key: other, value: value + 1 },
            ]);
          } else {
            const r = (roll - txnShare) / (1 - txnShare);
            if (txnClient || r < 0.4) seen.set(key, (await client.get(key)) as number | undefined);
            else if (r < 0.7) await client.put(key, value);
            else if (r < 0.9) await client.cas(key, seen.get(key), value);
            else await client.delete(key);
          }
        } catch {
          // Failures are part of the history (definite or not); keep going.
          await cluster.sleep(20);
        }
        n++;
        watch?.sample();
      }
    };
    const schedule = async (): Promise<void> => {
      if (o.nemesis === 'builtin') {
        await builtinNemesis(cluster, prng, o.faultMs, faults);
      } else {
        const n = new Nemesis(cluster, {
          seed: o.seed,
          // The schedule's own simulator-only kinds left out in real time (they never started there).
          ...(o.nemesis ?? (cluster.transport === 'sim' ? SCENARIO_NEMESIS : realTimeKinds(SCENARIO_NEMESIS))),
          ...(o.onlyFaults === undefined ? {} : { only: o.onlyFaults }),
        });
        await n.run(o.faultMs);
        faultEpisodes = n.episodes;
        faults.push(planLine(n.plan, o.onlyFaults), ...n.lines());
      }
      faulting = false;
    };
    const extra = o.during === undefined ? [] : [o.during(cluster, faults)];
    await Promise.all([schedule(), ...extra, ...clients.map((_, i) => workload(i))]);
    // Liveness: a healed cluster converges and answers every client.
    await cluster.setNetwork({ loss: 0, duplicate: 0 });
    await cluster.sleep(1_000);
    let live = true;
    // Every client's puts at once (each with its own retries): they wait on nothing but the
    // cluster. Clients go in waves (livenessWaves): with 24 clients, 26 concurrent puts of
    // one key were more orders than the linearizability search could rule out (the seed was
    // 'unknown'). Values above every workload value, one per client and put.
    for (const wave of livenessWaves(clients.length, keys.length, o.livenessOps)) {
      await Promise.all(
        wave.flatMap((i) =>
          Array.from({ length: o.livenessOps }, async (_, k) => {
            const client = clients[i]!;
            let done = false;
            for (let attempt = 0; attempt < 10 && !done; attempt++) {
              try {
                await client.put(keys[k % keys.length]!, LIVENESS_VALUE_BASE + i * (o.livenessOps + 1) + k);
                done = true;
              } catch {
                await cluster.sleep(200);
              }
            }
            if (!done) live = false;
          }),
        ),
      );
    }
    const { diverged, failed: unreadable } = live ? await convergence(cluster, regions, [...keys, ...txnKeys]) : { diverged: [], failed: [] };
    // In sim, the replicated state itself (not only what reads show): see replicaStateDiffs.
    const stateDiffs = live && !threads ? replicaStateDiffs(cluster, shape.shards) : [];
    // Catch-up: a server down during the last writes, restarted while every shard is idle.
    // After the convergence reads: its restarts and leader changes would feed copies that a
    // bug left behind (feed-never-resends of scripts/mutants.mjs: 77 of 100 seeds caught with
    // the phase after the reads, 51 with it before them; 2026-12-02).
    const catchUp: string[] = [];
    let catchUpLive = true;
    if (live && !threads) {
      const base = LIVENESS_VALUE_BASE + clients.length * (o.livenessOps + 1);
      const restarted = await catchUpPhase(cluster, prng.fork('catch-up'), clients, keys, base);
      if (restarted === false) {
        catchUpLive = false;
        catchUp.push(`${LIVENESS_FAILURES.notLive} (a put of the catch-up phase could not finish with one server down)`);
      } else {
        faults.push(`catch-up: ${restarted}`);
        for (const b of await copiesBehind(cluster, shape.shards)) catchUp.push(`${LIVENESS_FAILURES.behind}: ${b}`);
        for (const d of replicaStateDiffs(cluster, shape.shards)) if (!stateDiffs.includes(d)) stateDiffs.push(`after the catch-up phase: ${d}`);
        // Gray: one server that runs but cannot hear, or be heard, or hears late.
        const gray = await grayPhase(cluster, prng.fork('gray'), clients, keys, base + keys.length);
        faults.push(`gray: ${gray.line}`);
        if (gray.unstable.length > 0) catchUp.push(`${LIVENESS_FAILURES.unstable} during a gray failure (${gray.line}): ${gray.unstable.join('; ')}`);
        else for (const b of await copiesBehind(cluster, shape.shards)) catchUp.push(`${LIVENESS_FAILURES.behind} after a gray failure (${gray.line}): ${b}`);
      }
    }
    const recorded = cluster.history();
    // An answer no correct cluster gives (a cas answered with something other than true or
    // false: a broken variant's replicas applied another command at the request's slot) is a
    // failure of its own, and the operation is checked as one whose outcome is unknown. Left
    // in, it made the checker throw on the history, and the seed failed as "the run threw"
    // (seed 18 of `--unsafe forget-promises`, 2026-12-03).
    const malformed: string[] = [];
    const history = recorded.map((op) => {
      if (op.kind !== 'cas' || op.outcome !== 'ok' || typeof op.output === 'boolean') return op;
      malformed.push(`${op.client}'s cas of ${op.key} was answered ${JSON.stringify(op.output) ?? String(op.output)}, neither true nor false`);
      // Without its completion time too: an unknown operation has none (the checker refuses one).
      const { completeMs: _answered, ...invoked } = op;
      return { ...invoked, outcome: 'unknown' as const, output: undefined };
    });
    const checkStarted = performance.now();
    const check = checkHistory(history, 'register', { stepsMax: stepsMaxFor(o.checkBudget) });
    const checkMs = performance.now() - checkStarted;
    const assertions = cluster.assertionFailures();
    const failures: string[] = [...malformed];
    if (!check.ok && check.verdict === 'not-linearizable') failures.push('not-linearizable');
    for (const a of assertions) failures.push(`assertion failed in ${a.address} at ${(a.atMs - t0).toFixed(0)} ms: ${withoutAssertPrefix(a.message)}`);
    failures.push(...actorErrors.lines());
    if (diverged.length > 0) failures.push(`replicas diverged on ${diverged.join(', ')}`);
    if (unreadable.length > 0) failures.push(`${LIVENESS_FAILURES.unreadable}: ${unreadable.join(', ')}`);
    for (const d of stateDiffs) failures.push(`replica state differs: ${d}`);
    if (watch !== undefined) failures.push(...watch.lines());
    failures.push(...catchUp);
    if (!live) failures.push(`${LIVENESS_FAILURES.notLive} (clients could not finish after healing)`);
    const outcome = failures.length > 0 ? 'fail' : check.verdict === 'unknown' ? 'unknown' : 'pass';
    const unknown = history.filter((op) => op.outcome === 'unknown').length;
    const result: ScenarioResult = {
      seed: o.seed,
      mode: o.mode,
      ok: outcome === 'pass',
      outcome,
      failures,
      // A catch-up phase that could not finish is not live either: the verdict line said "live"
      // under its "not live" failure (found by an audit, session 58).
      live: live && catchUpLive,
      check,
      operations: history.length,
      unknownShare: history.length === 0 ? 0 : unknown / history.length,
      assertions,
      diverged,
      faultEpisodes,
      checkMs,
      faults,
      traceHash: threads ? 0 : cluster.traceHash(),
    };
    // Kept when it failed, and for a replay (trace: `meridian check --history` writes it).
    if (!result.ok || o.trace === true) result.history = recorded;
    if (o.trace) result.trace = cluster.trace();
    if (!result.ok && threads) result.inspection = await inspectCluster(cluster, t0);
    return result;
  } catch (error) {
    throw withSeed('runScenario', o.seed, cluster.transport, error);
  } finally {
    await cluster.stop();
  }
}

/**
 * Replicas of a shard at one log index, and all its copies (hybrid learners too) that applied
 * as many of the shard's commands, must hold the same state machine, field by field: data, the request ids remembered with
 * their results (and the marks of those forgotten), finished and prepared transactions,
 * locks, queued operations. What the convergence reads compare is the data only; a replica
 * that restored a snapshot missing the remembered request ids, say, holds the same data and
 * would answer a late duplicate differently (a scratch build with that bug failed 0 of 100
 * seeds without this check). Returns one line per pair that differs, naming the fields.
 */
export function replicaStateDiffs(cluster: Cluster, shards: number): string[] {
  const out: string[] = [];
  for (let shard = 0; shard < shards; shard++) {
    /** Pairs already reported (by the first pass): one line a pair. */
    const reported = new Set<string>();
    const copies = cluster.replicaStates(shard).map((c) => ({
      ...c,
      name: c.learner ? `${c.id} (learner)` : c.id,
      fields: new Map(Object.entries(c.state).map(([field, value]) => [field, JSON.stringify(value)])),
    }));
    // Replicas at one log index (a slot filled differently leaves them at one index with
    // different command counts), then every copy, learners too, at one command count: each
    // pass keys a copy by a phrase (undefined: not in this pass).
    const passes: Array<(c: (typeof copies)[number]) => string | undefined> = [
      (c) => (c.index === undefined ? undefined : `at index ${c.index}`),
      (c) => `after ${c.state.applied} commands`,
    ];
    for (const whereOf of passes) {
      const first = new Map<string, (typeof copies)[number]>();
      for (const copy of copies) {
        const where = whereOf(copy);
        if (where === undefined) continue;
        const other = first.get(where);
        if (other === undefined) {
          first.set(where, copy);
          continue;
        }
        const names = new Set([...copy.fields.keys(), ...other.fields.keys()]);
        const differ = [...names].filter((field) => copy.fields.get(field) !== other.fields.get(field));
        const pair = `${other.name} and ${copy.name}`;
        if (differ.length > 0 && !reported.has(pair)) {
          reported.add(pair);
          out.push(`shard ${shard} ${where}: ${pair} differ in ${differ.join(', ')}`);
        }
      }
    }
  }
  return out;
}

/** A copy as a failure line names it: `r2/0's learner of shard 3`. */
function copyName(c: Pick<CopyProgress, 'id' | 'learner' | 'shard'>): string {
  return `${c.id}'s ${c.learner ? 'learner' : 'replica'} of shard ${c.shard}`;
}

/** A ProgressWatch's `cluster`: an object with these methods (a cluster has them all), or a ValidationError. */
function checkWatched(cluster: unknown, methods: readonly string[]): void {
  const c = typeof cluster === 'object' && cluster !== null ? (cluster as Record<string, unknown>) : undefined;
  if (c === undefined || methods.some((m) => typeof c[m] !== 'function'))
    throw new ValidationError('cluster', `a cluster (what startCluster returns; an object with ${methods.join('(), ')}()), got ${describe(cluster)}`);
  // Sim only, refused here: a threads or nats cluster was accepted, and the first crash then
  // ended the process, copyProgress() throwing from the 'crashing' listener (found by an audit,
  // session 55). A stand-in with no `transport` (a test's fake) is taken as it is.
  const transport = c.transport;
  if (transport !== undefined && transport !== 'sim')
    throw new ValidationError(
      'cluster',
      `a cluster with transport 'sim' (a ProgressWatch reads every copy's state in place, copyProgress()), got transport ${describe(transport)}`,
    );
}

/** Lines a ProgressWatch reports in full; the rest are counted. */
export const PROGRESS_WATCH_LINES = 3;

/**
 * What no copy of a shard may do at any moment, looked at (Cluster.copyProgress) after every
 * call of the workload and just before every crash.
 * - Go back: a replica's or hybrid learner's applied count must not fall below what it was at
 *   the last look while its server kept its incarnation. One that did went back in time, and
 *   its local reads with it (a learner that installs a snapshot older than what it applied:
 *   learner-restores-older-snapshot of scripts/mutants.mjs, which no history or final-state
 *   check sees, since the copy catches up again before the end: 0 of 100 seeds before this
 *   watch, 5 with it, 2026-12-04).
 * - Lose a promise: a replica's promised ballot must never fall, restarts included. An
 *   acceptor persists a promise before it answers with it (with `fsync: true` a crash loses
 *   nothing written), so a restart that recovers a lower one forgot it.
 * - Apply other commands: copies of a shard that applied as many commands must have applied
 *   the same ones (their digests, a running hash of what they applied, agree). A slot chosen
 *   twice with different commands shows at the first look after both copies applied it,
 *   though a snapshot installed later may hide it from the final comparison of states
 *   (replicaStateDiffs).
 * Reading state adds no event, so runs stay as they were (their trace hashes too). Looking on
 * a timer instead (every 1 to 5 ms of virtual time) caught the learner in 9 to 11 of 100, but
 * its sleeps are waits of their own, which move where the driver stops and so change the
 * runs; looking also after the calls of the liveness, catch-up and gray phases, or before the
 * step a crashAfterNextWrite cuts, caught no more. None of these kept.
 */
export class ProgressWatch {
  private readonly last = new Map<string, { incarnation: string; applied: number; promised: Ballot | undefined }>();
  /** Per shard, the digest first seen at each applied count, and which copy had it. */
  private readonly digests = new Map<number, Map<number, { digest: number; copy: CopyProgress }>>();
  /** Shard and copy of each divergence reported: one line each, not one a sample. */
  private readonly diverged = new Set<string>();
  private readonly found: string[] = [];
  private count = 0;

  constructor(
    private readonly cluster: Pick<Cluster, 'copyProgress' | 'now'>,
    private readonly t0: number,
  ) {
    // Checked here, not at the first sample(): new ProgressWatch(null, 0) was accepted and
    // sample() then failed with a TypeError reading 'copyProgress'.
    checkWatched(cluster, ['copyProgress', 'now']);
    if (typeof t0 !== 'number' || !Number.isFinite(t0))
      throw new ValidationError('t0', `a finite number (cluster time, as cluster.now() gives it), got ${describe(t0)}`);
  }

  /**
   * A watch on `cluster` that already looks just before every crash (its `'crashing'` event),
   * when a server's promises must be what its restart will recover; the caller looks after its
   * own calls with `sample()`. Times in its lines count from `t0` (by default, now).
   */
  static attach(cluster: Cluster, t0?: number): ProgressWatch {
    checkWatched(cluster, ['copyProgress', 'now', 'on']);
    const watch = new ProgressWatch(cluster, t0 ?? cluster.now());
    cluster.on('crashing', () => watch.sample());
    return watch;
  }

  sample(): void {
    for (const c of this.cluster.copyProgress()) {
      const key = `${c.id}#${c.shard}${c.learner ? 'L' : ''}`;
      this.compareDigest(c);
      const before = this.last.get(key);
      if (before === undefined) {
        this.last.set(key, { incarnation: c.incarnation, applied: c.applied, promised: c.promised });
        continue;
      }
      const restarted = before.incarnation !== c.incarnation;
      if (!restarted && c.applied < before.applied)
        this.report(`${copyName(c)} went back from ${before.applied} to ${c.applied} applied commands ${this.at()}, with no restart`);
      if (c.promised !== undefined && before.promised !== undefined && compareBallots(c.promised, before.promised) < 0)
        this.report(
          `${copyName(c)} had promised ballot ${formatBallot(before.promised)} and ${restarted ? 'after a restart' : 'then'} ${c.promised.round === 0 ? 'none' : `only ${formatBallot(c.promised)}`} ${this.at()}: a promise was lost`,
        );
      before.incarnation = c.incarnation;
      before.applied = c.applied;
      // The highest promise seen, kept while the copy is down (its server gives none then).
      if (c.promised !== undefined && (before.promised === undefined || compareBallots(c.promised, before.promised) > 0)) before.promised = c.promised;
    }
  }

  /** Copies that applied as many commands of a shard must have applied the same ones (KvStateMachine.digest). */
  private compareDigest(c: CopyProgress): void {
    let seen = this.digests.get(c.shard);
    if (seen === undefined) this.digests.set(c.shard, (seen = new Map()));
    const first = seen.get(c.applied);
    if (first === undefined) seen.set(c.applied, { digest: c.digest, copy: c });
    else if (first.digest !== c.digest && !this.diverged.has(copyName(c))) {
      this.diverged.add(copyName(c));
      const hex = (d: number): string => `0x${d.toString(16).padStart(8, '0')}`;
      this.report(
        `${copyName(c)} applied other commands than ${copyName(first.copy)}: their first ${c.applied} differ (digests ${hex(c.digest)} and ${hex(first.digest)}) ${this.at()}`,
      );
    }
  }

  /** When a finding was made, for its line (built only then: most looks find nothing). */
  private at(): string {
    return `at ${(this.cluster.now() - this.t0).toFixed(0)} ms`;
  }

  private report(line: string): void {
    this.count++;
    if (this.found.length < PROGRESS_WATCH_LINES) this.found.push(line);
  }

  /** One failure line per finding (the first PROGRESS_WATCH_LINES), and a count of the rest. */
  lines(): string[] {
    const more = this.count - this.found.length;
    return more > 0
      ? [...this.found, `and ${more} more time${more === 1 ? '' : 's'} a copy went back, lost a promise or applied other commands`]
      : [...this.found];
  }
}

/**
 * The catch-up phase, after the convergence reads: one server crashes, each key whose shard
 * keeps a majority of its replicas is put once while it is down, and it restarts with no write
 * after it; a quiet second later a second server (perhaps the same) goes down and up with
 * nothing written meanwhile. Every copy they hold, replicas and hybrid learners, must then
 * catch up with no new command to carry the news (see copiesBehind). Returns a line for the
 * faults, or false when a put could not finish (not live).
 */
async function catchUpPhase(cluster: Cluster, rng: Prng, clients: Client[], keys: string[], valueBase: number): Promise<string | false> {
  const servers = allServers(cluster.config);
  const victim = rng.pick(servers);
  await cluster.crash(victim);
  // The keys whose shard keeps a majority of its replicas up (in hybrid a shard's replicas
  // share one region: a server down there leaves none of its shards a majority).
  const writable = keys.filter((key) => keepsMajorityWithout(cluster.replicasOf(cluster.shardOf(key)), victim));
  let live = true;
  await Promise.all(
    writable.map(async (key, k) => {
      const client = clients[k % clients.length]!;
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          await client.put(key, valueBase + k);
          return;
        } catch {
          await cluster.sleep(200);
        }
      }
      live = false;
    }),
  );
  await cluster.restart(victim);
  if (!live) return false;
  // Then one (perhaps the same) goes down and comes back with nothing written meanwhile: a
  // hybrid learner keeps no log, so it restarts empty while its leader's feed believes it
  // acknowledged everything.
  await cluster.sleep(SCENARIO_QUIET_MS);
  const second = rng.pick(servers);
  await cluster.crash(second);
  await cluster.sleep(SCENARIO_CATCH_UP_DOWN_MS);
  await cluster.restart(second);
  const each = writable.length === 1 ? 'the 1 key' : `each of ${writable.length} keys`;
  return `${victim} down during one put of ${each}, then ${second} down ${SCENARIO_CATCH_UP_DOWN_MS} ms with none`;
}

/** How long the gray phase's fault lasts before its first look at the shards' leaders: past election timeouts (300-600 ms), a pre-vote and a failover. */
export const GRAY_SETTLE_MS = 1_500;
/** Between the gray phase's two looks at the leaders: more than an election timeout (a replica that campaigns again and again does so within it). */
export const GRAY_WATCH_MS = 1_000;
/** How late what reaches the gray phase's server comes, when that is its fault. */
const GRAY_LATE_MS = 5_000;

/**
 * The gray phase (sim, after the catch-up phase): one server drawn from `rng` runs but hears
 * nothing (deaf), or nothing it sends reaches another server (mute), or what reaches it comes
 * GRAY_LATE_MS late; or (cut) a follower and its shard's leader stop hearing each other, both
 * ways, while each hears every other server (a partial partition). No crash notice tells
 * anyone. Every shard whose group keeps a majority without that server must have a leader
 * other than it, the same one (same ballot) at two looks GRAY_WATCH_MS apart, the first
 * GRAY_SETTLE_MS into the fault; with a cut link, every shard but a group of the two alone, led
 * by either or another (the follower's pre-votes are refused by the others, which still hear
 * the leader: a replica that grants them anyway lets the two depose each other in turn). Meanwhile each key is put once
 * (its client drawn in turn, none of a region whose only server is the gray one), so that the
 * gray server misses commands it must catch up with after the fault heals, and the history
 * checks what they did; whether they get through is not asked (a balancer or a forwarder moves
 * off a server that answers but does not get requests through only after timeouts of its own:
 * design.md, "Gray failures"). The rest of `meridian check` asks for liveness only once the
 * faults are over, so it could not see a server that could send but not hear deposing every
 * leader of its groups while the fault lasted (no Multi-Paxos pre-vote), or a candidate that
 * heard late doing the same (both fixed 2026-12-03). Returns what it did, for the fault log,
 * and one line per shard without a stable leader.
 */
async function grayPhase(cluster: Cluster, rng: Prng, clients: Client[], keys: string[], valueBase: number): Promise<{ line: string; unstable: string[] }> {
  const servers = allServers(cluster.config);
  let victim = rng.pick(servers);
  let fault: 'deaf' | 'mute' | 'late' | 'cut' = rng.pick(['deaf', 'mute', 'late', 'cut'] as const);
  // cut: the link between a shard's leader and one of its followers only (a group of 3 or more).
  const pair = fault === 'cut' ? leaderLink(cluster, rng, victim) : undefined;
  // No group of 3 with a leader (hybrid's groups stay in a region of 2 servers): one of the others.
  if (fault === 'cut' && pair === undefined) fault = rng.pick(['deaf', 'mute', 'late'] as const);
  if (pair !== undefined) victim = pair.follower;
  const others = servers.filter((s) => s !== victim);
  const delayBefore = cluster.currentNetwork().nodeDelayMs?.[victim] ?? 0;
  if (others.length > 0 && fault === 'deaf') await cluster.partition(others, [victim], { oneWay: true });
  else if (others.length > 0 && fault === 'mute') await cluster.partition([victim], others, { oneWay: true });
  else if (fault === 'late') await cluster.setNetwork({ nodeDelayMs: { [victim]: delayBefore + GRAY_LATE_MS } });
  else if (pair !== undefined) await cluster.partition([pair.follower], [pair.leader]);
  const line =
    pair !== undefined
      ? `${pair.follower} and ${pair.leader} (shard ${pair.shard}'s leader) cut from each other`
      : `${victim} ${fault === 'late' ? `hears ${GRAY_LATE_MS} ms late` : fault}`;
  const unstable: string[] = [];
  try {
    await cluster.sleep(GRAY_SETTLE_MS);
    // The shards that keep a majority of their replicas without the gray server (with a cut
    // link: a majority that hears itself whole, so every shard but a group of the two alone).
    const shards: number[] = [];
    for (let shard = 0; shard < cluster.config.shards; shard++) {
      const group = cluster.replicasOf(shard);
      if (pair === undefined ? keepsMajorityWithout(group, victim) : !(group.length < 3 && group.includes(pair.follower) && group.includes(pair.leader)))
        shards.push(shard);
    }
    const look = (): Map<number, string | undefined> => {
      const out = new Map<number, string | undefined>();
      for (const shard of shards) {
        const view = cluster.shardLeader(shard);
        out.set(shard, view.leader === undefined ? undefined : `${view.leader} at ballot ${view.ballot?.round ?? '?'}.${view.ballot?.id ?? '?'}`);
      }
      return out;
    };
    const first = look();
    const usable = pair !== undefined ? clients : clients.filter((c) => servers.some((s) => s !== victim && regionOfServer(s) === c.region));
    const puts = usable.length === 0 ? [] : keys.map((key, k) => usable[k % usable.length]!.put(key, valueBase + k).catch(() => undefined));
    await cluster.sleep(GRAY_WATCH_MS);
    const second = look();
    await Promise.all(puts);
    for (const shard of shards) {
      const a = first.get(shard);
      const b = second.get(shard);
      // A cut link leaves both ends whole otherwise: either may lead.
      if (a === undefined || b === undefined || a !== b || (pair === undefined && a.startsWith(`${victim} `)))
        unstable.push(`shard ${shard}: ${a ?? 'no leader'}, ${GRAY_WATCH_MS} ms later ${b ?? 'no leader'}`);
    }
  } finally {
    if (fault === 'late') await cluster.setNetwork({ nodeDelayMs: { [victim]: delayBefore } });
    else await cluster.heal();
  }
  return { line, unstable };
}

/**
 * For the gray phase's `cut`: a shard of 3 or more replicas with a leader, preferring those
 * `victim` is a follower of, then those it leads, then any; and a follower of it (`victim` when
 * it is one). undefined when no shard has a group of 3 or more with a leader. The follower, cut
 * from its leader alone, stops hearing it while the group's others still do: with pre-vote
 * they refuse it an election (etcd's pre-vote, against a partial partition).
 */
function leaderLink(cluster: Cluster, rng: Prng, victim: string): { shard: number; leader: string; follower: string } | undefined {
  const led = cluster.shardLeaders().filter((s) => s.replicas.length >= 3 && s.leader !== undefined);
  const follows = led.filter((s) => s.leader !== victim && s.replicas.includes(victim));
  const leads = led.filter((s) => s.leader === victim);
  const pool = follows.length > 0 ? follows : leads.length > 0 ? leads : led;
  if (pool.length === 0) return undefined;
  const s = rng.pick(pool);
  const leader = s.leader!;
  const follower = s.replicas.includes(victim) && victim !== leader ? victim : rng.pick(s.replicas.filter((r) => r !== leader));
  return { shard: s.shard, leader, follower };
}

/** Whether a shard's replication group keeps a majority without `server` (not a member, or one of more than a majority). */
export function keepsMajorityWithout(group: readonly string[], server: string): boolean {
  return !group.includes(server) || group.length - 1 > group.length / 2;
}

/** An assertion's message without the `assertion failed: ` that `assert` puts first (the line that quotes it says so already). */
export function withoutAssertPrefix(message: string): string {
  return message.replace(/^assertion failed: /, '');
}

/**
 * Every copy of a shard (replicas and hybrid learners on live servers) must have applied as
 * many of its commands as the one furthest ahead, after quiet seconds with no command: a
 * learner a leader's feed never probes again, or a restarted replica nobody tells of the
 * slots chosen while it was down, stays behind for good and answers local reads with old
 * values. Looks again after each of SCENARIO_CONVERGENCE_TRIES quiet seconds; returns one
 * line per shard still behind after the last. Sim only (replicaStates); every server up and
 * the network healed, else a copy cut off stays behind rightly. The transactional scenario
 * (txn-scenario.ts) calls it too, after its final read.
 */
export async function copiesBehind(cluster: Cluster, shards: number): Promise<string[]> {
  let out: string[] = [];
  for (let attempt = 1; attempt <= SCENARIO_CONVERGENCE_TRIES; attempt++) {
    await cluster.sleep(SCENARIO_QUIET_MS);
    out = [];
    for (let shard = 0; shard < shards; shard++) {
      const copies = cluster.replicaStates(shard);
      const most = Math.max(...copies.map((c) => c.state.applied));
      const late = copies.filter((c) => c.state.applied < most).map((c) => `${c.id}${c.learner ? ' (learner)' : ''} at ${c.state.applied}`);
      if (late.length > 0) out.push(`shard ${shard}: ${late.join(', ')} of ${most} command${most === 1 ? '' : 's'}`);
    }
    if (out.length === 0) return out;
  }
  return out;
}

/**
 * After a quiet second, a local read of each key in every region must return what a
 * linearizable read returns (all keys at once): replicas and learners that applied the same
 * log agree. Returns the keys where some region disagreed (as `key (r2: 5 vs 7)`), and, as
 * `failed`, those the cluster did not read: a linearizable read refused (UnavailableError) or
 * timed out READ_TRIES times in a row, or a local read that some region refused, or that timed out
 * READ_TRIES times in a row, in every round (as `key (r1: local read refused (...))`). Every
 * server runs then and the network is healed, so either is refused for good (a server that
 * missed the restart notices of a shard's copies refused its local reads so; see server.ts
 * probeDown). A single timeout says nothing: with small memory limits (`--limits small`) a
 * balancer drops a request of a client that comes after newer ones it has forgotten, and the
 * reads of all keys go at once from one client per region; so a timed-out read is tried again
 * from a new client, which has no other request out (before, a local read that timed out
 * counted as agreeing, and a linearizable read that timed out five times left its key
 * unchecked; retried from the same client, they timed out five times in 4 of 300 seeds of
 * `check --limits small`).
 */
export async function convergence(cluster: Cluster, regions: string[], keys: string[]): Promise<{ diverged: string[]; failed: string[] }> {
  await cluster.sleep(SCENARIO_QUIET_MS);
  const reader = cluster.client({ region: regions[0]! });
  const locals = regions.map((region) => ({ region, client: cluster.client({ region }) }));
  /** A linearizable read, tried READ_TRIES times; `failed`: how every try failed (refused or timed out, the last one's message). */
  const read = async (key: string): Promise<{ known: true; value: unknown } | { known: false; failed: string }> => {
    let refusals = 0;
    let last = '';
    let client = reader;
    for (let attempt = 0; attempt < READ_TRIES; attempt++) {
      try {
        return { known: true, value: await client.get(key) };
      } catch (e) {
        if (e instanceof UnavailableError) refusals++;
        // A timeout: the next try from a client of its own (see above).
        else client = cluster.client({ region: regions[0]! });
        last = (e as Error).message;
        await cluster.sleep(200);
      }
    }
    const how = refusals === READ_TRIES ? 'refused' : refusals === 0 ? 'timed out' : 'refused or timed out';
    return { known: false, failed: `${how} ${READ_TRIES} times: ${last}` };
  };
  const unread = (key: string, failed: string): Verdict => ({ failed: true, text: `${key} (a linearizable read ${failed})` });
  // Every key at once (each key's reads in their order, its local reads side by side): the
  // keys are independent, and one after another they took a third of a seed's simulated time.
  const verdicts = await Promise.all(
    keys.map(async (key): Promise<Verdict | undefined> => {
      for (let attempt = 1; ; attempt++) {
        const before = await read(key);
        if (!before.known) return unread(key, before.failed);
        const truth = before.value;
        let refused = 0;
        const answers = await Promise.all(
          locals.map(async ({ region, client }): Promise<string | undefined> => {
            // A timeout says nothing by itself (see above): the read is tried again, 200 ms
            // apart, from a client of its own. One that timed out READ_TRIES times in a row
            // counts as refused.
            let from = client;
            for (let tries = 1; ; tries++) {
              try {
                const local = await from.get(key, { consistency: 'local' });
                return local === truth ? undefined : `${region}: ${JSON.stringify(local ?? null)} vs ${JSON.stringify(truth ?? null)}`;
              } catch (error) {
                if (error instanceof UnavailableError) {
                  refused++;
                  return `${region}: local read refused (${error.message})`;
                }
                if (tries >= READ_TRIES) {
                  refused++;
                  return `${region}: local read timed out ${READ_TRIES} times (${(error as Error).message})`;
                }
                from = cluster.client({ region });
                await cluster.sleep(200);
              }
            }
          }),
        );
        const wrong = answers.filter((w): w is string => w !== undefined);
        if (wrong.length === 0) return undefined;
        // Refused only: no value to hold still, so the next round, after a quiet second.
        if (refused === wrong.length) {
          if (attempt >= SCENARIO_CONVERGENCE_TRIES) return { failed: true, text: `${key} (${wrong.join('; ')})` };
          await cluster.sleep(SCENARIO_QUIET_MS);
          continue;
        }
        // A write that landed meanwhile (an in-doubt transaction resolved late) is not divergence:
        // only a value that stood still across the local reads counts.
        const after = await read(key);
        if (!after.known) return unread(key, after.failed);
        if (after.value !== truth) return undefined;
        // It may have landed just before the first read, with a learner a few ms behind (an
        // orphaned prepare's locks are released after ORPHAN_TICKS of leadership, which can
        // fall in the quiet second): look again after another quiet second. A replica that
        // applied the log differently, or a learner that stopped, still differs then.
        if (attempt >= SCENARIO_CONVERGENCE_TRIES) return { failed: false, text: `${key} (${wrong.join('; ')})` };
        await cluster.sleep(SCENARIO_QUIET_MS);
      }
    }),
  );
  const diverged: string[] = [];
  const failed: string[] = [];
  for (const v of verdicts) if (v !== undefined) (v.failed ? failed : diverged).push(v.text);
  return { diverged, failed };
}

/** Convergence's verdict on a key: its regions disagreed, or (`failed`) it could not be read. */
interface Verdict {
  failed: boolean;
  text: string;
}

/** The older fixed schedule (crashes, restarts, region partitions, heals), for seeds pinned to it. */
async function builtinNemesis(cluster: Cluster, prng: Prng, faultMs: number, faults: string[]): Promise<void> {
  const t0 = cluster.now();
  const regions = cluster.config.regions.map((r) => r.name);
  const servers = cluster.config.regions.flatMap((r) => Array.from({ length: r.servers }, (_, i) => serverId(r.name, i)));
  const down = new Set<string>();
  const end = cluster.now() + faultMs;
  while (cluster.now() < end) {
    await cluster.sleep(100 + prng.int(400));
    const roll = prng.next();
    if (roll < 0.3 && down.size < 2) {
      const victim = prng.pick(servers.filter((s) => !down.has(s)));
      down.add(victim);
      faults.push(`${(cluster.now() - t0).toFixed(0)} crash ${victim}`);
      await cluster.crash(victim);
    } else if (roll < 0.55 && down.size > 0) {
      const back = prng.pick([...down]);
      down.delete(back);
      faults.push(`${(cluster.now() - t0).toFixed(0)} restart ${back}`);
      await cluster.restart(back);
    } else if (roll < 0.9) {
      const a = prng.pick(regions);
      const oneWay = prng.chance(0.3);
      faults.push(`${(cluster.now() - t0).toFixed(0)} partition ${a} | rest${oneWay ? ' (one-way)' : ''}`);
      await cluster.partition(
        [a],
        regions.filter((r) => r !== a),
        { oneWay },
      );
    } else {
      faults.push(`${(cluster.now() - t0).toFixed(0)} heal`);
      await cluster.heal();
    }
  }
  faults.push(`${(cluster.now() - t0).toFixed(0)} heal all`);
  await cluster.heal();
  for (const s of down) await cluster.restart(s);
}

export interface BankOptions {
  seed: number;
  mode: ReplicationConfig['mode'];
  commit: NonNullable<ClusterConfig['commit']>;
  accounts?: number;
  clients?: number;
  faultMs?: number;
  /** Inject partitions (default true). */
  partitions?: boolean;
  /** Crash and restart servers (default true). */
  crashes?: boolean;
  /** Lose 1% of messages in half of the seeds (default true). */
  loss?: boolean;
  transport?: 'sim' | 'threads' | 'nats';
  /** With transport 'nats': its servers and hosts. */
  nats?: NatsConfig;
}

export interface BankResult {
  seed: number;
  ok: boolean;
  total: number;
  expected: number;
  committed: number;
  aborted: number;
  unknown: number;
  faults: string[];
}

/**
 * Transfers between accounts in transactions (read both balances, then a transaction that
 * checks both and writes both) under crashes and partitions. Whatever commits or aborts, the
 * total never changes: a transaction applied at one shard and not another would change it.
 */
/** The keys of BankOptions (all of them: allKeys checks it at compile time). */
const BANK_OPTION_KEYS = allKeys<BankOptions>()([
  'seed',
  'mode',
  'commit',
  'accounts',
  'clients',
  'faultMs',
  'partitions',
  'crashes',
  'loss',
  'transport',
  'nats',
]);

/** The bank's accounts, at most: its setup puts every account in one transaction. */
export const BANK_ACCOUNTS_MAX = TXN_OPS_MAX;
/** The bank's clients, at most (as the kv scenario's). */
export const BANK_CLIENTS_MAX = 64;
/** The bank's fault phase, at most (ms; as the kv scenario's). */
export const BANK_FAULT_MS_MAX = 600_000;

/** The bank's options, before its cluster starts: a ConfigError naming the first bad field. */
function checkBankOptions(o: BankOptions): void {
  checkOptions(o, 'options', BANK_OPTION_KEYS);
  checkScenarioBasics({ seed: o.seed });
  checkScenarioTransport({ transport: o.transport, nats: o.nats });
  // Its shards keep 3 copies each: mode 'none' keeps one.
  const modes: readonly ReplicationMode[] = REPLICATION_MODES.filter((m) => m !== 'none');
  if (!modes.includes(o.mode)) throw new ConfigError('mode', `one of ${modes.join(', ')} (the bank keeps 3 copies of each shard)`, o.mode);
  if (!COMMIT_PROTOCOLS.includes(o.commit)) throw new ConfigError('commit', `one of ${COMMIT_PROTOCOLS.join(', ')}`, o.commit);
  if (o.accounts !== undefined)
    checkInt(
      o.accounts,
      'accounts',
      2,
      BANK_ACCOUNTS_MAX,
      `an integer from 2 to ${BANK_ACCOUNTS_MAX} (a transfer moves between two accounts; the setup puts every account in one transaction)`,
    );
  if (o.clients !== undefined) checkInt(o.clients, 'clients', 1, BANK_CLIENTS_MAX);
  // The transfers run while the faults do: with none, nothing is checked.
  if (o.faultMs !== undefined)
    checkNumber(
      o.faultMs,
      'faultMs',
      Number.MIN_VALUE,
      BANK_FAULT_MS_MAX,
      `a number of ms above 0, at most ${BANK_FAULT_MS_MAX} (the transfers run while the faults do)`,
    );
  for (const field of ['partitions', 'crashes', 'loss'] as const)
    if (o[field] !== undefined && typeof o[field] !== 'boolean') throw new ConfigError(field, 'true or false', o[field]);
}

export async function runBankScenario(options: BankOptions): Promise<BankResult> {
  namedAs('options', () => checkBankOptions(options));
  const accounts = options.accounts ?? 4;
  const clientsN = options.clients ?? 4;
  const faultMs = options.faultMs ?? 3_000;
  const prng = new Prng(options.seed ^ 0x5eed);
  const regions = ['r1', 'r2', 'r3'];
  const cluster = await startCluster({
    regions: regions.map((name) => ({ name, servers: 2 })),
    transport: options.transport ?? 'sim',
    seed: options.seed,
    network: { latencyMs: { 'r1~r2': 5 + prng.int(20), 'r1~r3': 5 + prng.int(20), 'r2~r3': 5 + prng.int(20) }, jitterMs: prng.int(5) },
    // Hybrid: the home region's 2 servers (scenarioFactor).
    replication: { mode: options.mode, factor: scenarioFactor(options.mode, { servers: 2, factor: 3 }) },
    commit: options.commit,
    shards: 4,
    requestTimeoutMs: 3_000,
    ...(options.nats === undefined ? {} : { nats: options.nats }),
  });
  const t0 = cluster.now();
  const faults: string[] = [];
  const keys = Array.from({ length: accounts }, (_, i) => `acct${i}`);
  let committed = 0;
  let aborted = 0;
  let unknown = 0;
  try {
    const setup = cluster.client({ region: 'r1' });
    for (let attempt = 0; ; attempt++) {
      try {
        await setup.transaction(keys.map((key) => ({ op: 'put' as const, key, value: 100 })));
        break;
      } catch (error) {
        // Before any fault; the puts are idempotent, so a retry is harmless.
        if (attempt >= 5) throw error;
      }
    }
    // Faults start after the setup: message loss first.
    const loss = prng.chance(0.5) && options.loss !== false ? 0.01 : 0;
    if (loss > 0) faults.push(`loss ${loss}`);
    await cluster.setNetwork({ loss });
    let faulting = true;
    const transfer = async (index: number): Promise<void> => {
      const client = cluster.client({ region: regions[index % regions.length]! });
      const rng = prng.fork(`client${index}`);
      while (faulting) {
        const a = rng.pick(keys);
        const b = rng.pick(keys.filter((k) => k !== a));
        try {
          const va = (await client.get(a)) as number;
          const vb = (await client.get(b)) as number;
          const amount = 1 + rng.int(10);
          await client.transaction([
            { op: 'check', key: a, value: va },
            { op: 'check', key: b, value: vb },
            { op: 'put', key: a, value: va - amount },
            { op: 'put', key: b, value: vb + amount },
          ]);
          committed++;
        } catch (error) {
          if ((error as { code?: string }).code === 'ABORTED') aborted++;
          else unknown++;
          await cluster.sleep(20);
        }
      }
    };
    const nemesis = async (): Promise<void> => {
      const servers = regions.flatMap((r) => [`${r}/0`, `${r}/1`]);
      const down = new Set<string>();
      const end = cluster.now() + faultMs;
      while (cluster.now() < end) {
        await cluster.sleep(150 + prng.int(400));
        const roll = prng.next();
        if (roll < 0.35 && down.size < 1 && options.crashes !== false) {
          const victim = prng.pick(servers);
          down.add(victim);
          faults.push(`${(cluster.now() - t0).toFixed(0)} crash ${victim}`);
          await cluster.crash(victim);
        } else if (roll < 0.65 && down.size > 0) {
          const back = [...down][0]!;
          down.delete(back);
          faults.push(`${(cluster.now() - t0).toFixed(0)} restart ${back}`);
          await cluster.restart(back);
        } else if (roll < 0.85 && options.partitions !== false) {
          const a = prng.pick(regions);
          faults.push(`${(cluster.now() - t0).toFixed(0)} partition ${a} | rest`);
          await cluster.partition(
            [a],
            regions.filter((r) => r !== a),
          );
        } else if (options.partitions !== false) {
          faults.push(`${(cluster.now() - t0).toFixed(0)} heal`);
          await cluster.heal();
        }
      }
      await cluster.heal();
      for (const s of down) await cluster.restart(s);
      faulting = false;
    };
    await Promise.all([nemesis(), ...Array.from({ length: clientsN }, (_, i) => transfer(i))]);
    // Let in-doubt transactions finish (uncertain participants ask their coordinator again).
    await cluster.sleep(6_000);
    const reader = cluster.client({ region: 'r2' });
    let total = 0;
    for (const key of keys) {
      let value: number | undefined;
      for (let attempt = 0; attempt < 10 && value === undefined; attempt++) {
        try {
          value = (await reader.get(key)) as number;
        } catch {
          await cluster.sleep(300);
        }
      }
      total += value ?? Number.NaN;
    }
    const expected = 100 * accounts;
    return { seed: options.seed, ok: total === expected, total, expected, committed, aborted, unknown, faults };
  } catch (error) {
    throw withSeed('runBankScenario', options.seed, cluster.transport, error);
  } finally {
    await cluster.stop();
  }
}
