import { startCluster } from '../cluster/cluster.js';
import { checkInt, type ClusterConfig, type ReplicationConfig } from '../cluster/config.js';
import { serverId } from '../cluster/topology.js';
import { TXN_OPS_MAX } from '../cluster/client.js';
import { AbortedError, AnswerTooLargeError, ConfigError, namedAs } from '../core/errors.js';
import { Prng } from '../core/prng.js';
import { allKeys, checkOptions, definedOnly } from '../core/validate.js';
import { TXN_UNSAFE_VARIANTS, type TxnUnsafe } from '../replication/ops.js';
import { checkTransactions, describeAnomaly, type TxnCheckResult } from './elle/index.js';
import { searchBudgetFor } from './check-budget.js';
import { ActorErrorWatch } from './actor-errors.js';
import type { TxnHistoryOp } from '../core/history.js';
import { TXN_COMMITS, type TxnCommit } from './txn-commits.js';
import {
  checkScenarioBasics,
  checkScenarioMode,
  checkScenarioTransport,
  checkScenarioNemesis,
  checkScenarioSizes,
  copiesBehind,
  ProgressWatch,
  withoutAssertPrefix,
  describeBalancer,
  applyLimits,
  describeLimits,
  drawBalancer,
  drawLimits,
  realTime,
  replicaStateDiffs,
  resolveShape,
  SCENARIO_CHECKPOINT_EVERY,
  SCENARIO_DUPLICATE_DELAY_MS,
  SCENARIO_SNAPSHOT_EVERY,
  scenarioFactor,
  TXN_SCENARIO_KEYS_MAX,
  withSeed,
  type BalancerChoice,
  type LimitsChoice,
} from './scenario.js';
import { crashAfterWrite, Nemesis, planLine, type NemesisOptions } from './nemesis.js';
import type { NatsConfig } from '../cluster/validate-nats.js';
import type { StartCluster } from './seed-stop.js';

/**
 * The transactional workload behind `meridian check --workload txn`: clients in every region
 * run read/append transactions over a few hot keys while a seeded schedule crashes and
 * restarts servers and coordinators, splits regions off and loses messages; then everything
 * heals and every client must commit again (liveness). The history, in Elle's shape, is
 * checked for strict serializability with `checkTransactions` (list-append).
 */
export interface TxnScenarioOptions {
  seed: number;
  commit: TxnCommit;
  mode?: ReplicationConfig['mode'];
  /** A broken transaction layer, which the check must catch. */
  unsafe?: TxnUnsafe;
  clients?: number;
  keys?: number;
  /** Micro-ops per transaction, at most. */
  opsMax?: number;
  /** Length of the fault phase, ms (virtual in the simulator). */
  faultMs?: number;
  /** Transactions each client must commit once healed. */
  livenessTxns?: number;
  /** The cluster's shape, as the kv scenario's (ScenarioOptions): regions, servers per region, replicas per shard, shards. */
  regions?: number;
  servers?: number;
  factor?: number;
  shards?: number;
  trace?: boolean;
  /** The cluster's memory bounds, as the kv scenario's (ScenarioOptions.limits; default 'drawn'). */
  limits?: LimitsChoice;
  /** The balancers, as the kv scenario's (ScenarioOptions.balancer; default 'round-robin'). */
  balancer?: BalancerChoice;
  /**
   * The fault schedule: absent, the workload's own (crashes and pauses of servers and
   * coordinators, region cuts; see runTxnScenario); else the kv scenario's Nemesis with these
   * options (targeted faults: leaders crashed, stranded and dueling, power loss, delays...).
   */
  nemesis?: NemesisOptions;
  /**
   * 'sim' (default: reproducible) or 'threads' / 'nats' (the same scenario in real time, as the
   * kv scenario's: no trace, and the checks that read actors' state in place are left out:
   * stateDiffs, behind and wentBack stay empty).
   */
  transport?: 'sim' | 'threads' | 'nats';
  /** With transport 'nats': its servers and host processes. */
  nats?: NatsConfig;
  /**
   * The checker's search budget, as the kv scenario's (ScenarioOptions.checkBudget): a multiple
   * of CYCLE_SEARCH_BUDGET edges per cycle search; past it the run is undecided.
   */
  checkBudget?: number;
}

export interface TxnScenarioResult {
  seed: number;
  commit: TxnCommit;
  ok: boolean;
  /**
   * 'unknown' when the checker's search ran out of budget (check.undecided) and nothing else
   * failed: neither a pass nor a catch. `ok` is outcome === 'pass'.
   */
  outcome: 'pass' | 'fail' | 'unknown';
  live: boolean;
  /**
   * Why the run is not live (absent when live): each client that could not commit a
   * transaction of the liveness phase in LIVENESS_ATTEMPTS attempts (its region, how its
   * attempts ended, the last one's error), and a final read that failed (its last error).
   */
  notLive?: string;
  /** What the checker found (strict serializability, list-append): its anomalies with their cycles, or `undecided`. */
  check: TxnCheckResult;
  /** 'strict serializable', the anomaly types found, or 'not decided (...)'. */
  verdict: string;
  /** A line or two per anomaly (type, cycle, explanation). */
  anomalies: string[];
  /** Transactions invoked, and how they ended. */
  transactions: number;
  committed: number;
  aborted: number;
  indefinite: number;
  faults: string[];
  /** Fault episodes the Nemesis drew (0 with the workload's own schedule), those left out by `nemesis.only` included. */
  faultEpisodes: number;
  /** Copies of a shard at one log index or command count whose state machines differ (replicaStateDiffs). */
  stateDiffs: string[];
  /** Transactions applied in part, as a final read of every key shows them (partiallyApplied). */
  partial: string[];
  /**
   * Copies of a shard (participant replicas, hybrid learners) that had applied fewer commands
   * than the one furthest ahead after the final read and SCENARIO_CONVERGENCE_TRIES quiet
   * seconds with every server up and the network healed (copiesBehind of the kv scenario).
   */
  behind: string[];
  /** Copies that went back with no restart, lost a promise, or applied other commands than another copy (ProgressWatch of the kv scenario). */
  wentBack: string[];
  /** Assertions that failed inside actors (`in <address>: <message>`); any fails the seed. */
  assertions: string[];
  traceHash: number;
  history?: TxnHistoryOp[];
  trace?: Array<{ at: number; from: string; to: string; type: string }>;
}

/**
 * Transactions whose appends a final read shows in part: all of a committed transaction's
 * appends must be there, none of an aborted one's, and all or none of one whose outcome the
 * client never learned ('info'). The last is what a history check cannot see: a transaction
 * committed at one shard and aborted at another, whose client timed out, leaves its appends on
 * some keys only, and unless some read ties a missing append into an order, list-append
 * inference finds no cycle (a Paxos Commit recovery leader that proposed 'aborted' for every
 * resource manager was caught in 2 of 100 seeds without this). `history` in Elle's shape,
 * `finalLists` what a transaction that read every key after the run read (a missing key: []).
 */
export function partiallyApplied(history: readonly TxnHistoryOp[], finalLists: ReadonlyMap<string, readonly unknown[]>): string[] {
  const invoked = new Map<number | string, TxnHistoryOp>();
  const out: string[] = [];
  for (const op of history) {
    if (op.type === 'invoke') {
      invoked.set(op.process, op);
      continue;
    }
    const invocation = invoked.get(op.process);
    invoked.delete(op.process);
    if (invocation === undefined) continue;
    const appends = invocation.value.filter((m) => m[0] === 'append');
    if (appends.length === 0) continue;
    const present = appends.map(([, key, value]) => (finalLists.get(key) ?? []).includes(value));
    const visible = present.filter((p) => p).length;
    const expected = op.type === 'ok' ? appends.length : op.type === 'fail' ? 0 : visible === 0 ? 0 : appends.length;
    if (visible === expected) continue;
    const shown = appends.map(([, key, value], i) => `${key}:${String(value)}${present[i] ? '' : ' (missing)'}`);
    const what =
      op.type === 'ok'
        ? `committed, yet ${appends.length - visible} of its ${appends.length} appends are missing from the final read`
        : op.type === 'fail'
          ? `aborted, yet ${visible} of its ${appends.length} appends are in the final read`
          : `of unknown outcome, applied in part: ${visible} of its ${appends.length} appends in the final read`;
    out.push(`transaction ${invocation.index} ${what} (${shown.join(', ')})`);
  }
  return out;
}

export const TXN_SCENARIO_DEFAULTS = { clients: 6, keys: 6, opsMax: 4, faultMs: 2_500, livenessTxns: 2 } as const;

/**
 * The liveness phase's wait after a failed attempt (an abort, mostly): capped exponential
 * backoff with jitter, LIVENESS_BACKOFF_MS_MIN plus a draw below
 * min(LIVENESS_BACKOFF_MS_BASE * 2^attempt, LIVENESS_BACKOFF_MS_CAP). Locks are taken without
 * waiting, so transactions on the same keys abort one another; with a fixed 50-150 ms wait,
 * 16 clients on 3 keys left some client without a commit in 20 attempts in 28 of 40 seeds
 * (709200-709239, 2026-12-03), a cluster that was live counted as not live; with this, 0 of 40.
 */
export const LIVENESS_BACKOFF_MS_MIN = 50;
export const LIVENESS_BACKOFF_MS_BASE = 100;
export const LIVENESS_BACKOFF_MS_CAP = 3_200;

/** Attempts a liveness-phase transaction gets before its client counts as not live. */
export const LIVENESS_ATTEMPTS = 20;
/** Attempts the final read of every key gets before the run counts as not live. */
export const FINAL_READ_ATTEMPTS = 40;

/**
 * How a run of failed attempts ended, for the not-live cause: its errors by kind (class and
 * message with its numbers left out: a transaction's id, a size), each kind with how many
 * attempts ended so and its latest error in full, the most frequent first (ties in first-seen
 * order), at most `shown` kinds; then, when there were several kinds, the last attempt's error.
 */
export function attemptsLine(errors: readonly unknown[], shown = 3): string {
  const kinds = new Map<string, { n: number; latest: string }>();
  for (const e of errors) {
    const said = errorLine(e);
    const kind = said.replace(/\d+/g, '#');
    const seen = kinds.get(kind);
    if (seen === undefined) kinds.set(kind, { n: 1, latest: said });
    else {
      seen.n++;
      seen.latest = said;
    }
  }
  const ranked = [...kinds.values()].sort((a, b) => b.n - a.n);
  const more = ranked.length - shown;
  const parts = ranked.slice(0, shown).map((k) => `${k.n}x ${k.latest}`);
  if (more > 0) parts.push(`${more} other kind${more === 1 ? '' : 's'}`);
  if (ranked.length > 1) parts.push(`the last: ${errorLine(errors.at(-1))}`);
  return parts.join('; ');
}

/** Whether two lists a final read read are the same: their values, in order (the workload's are numbers). */
function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** An attempt's error as the not-live cause names it: its class and message. */
function errorLine(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `threw ${String(error)}`;
}

export function livenessBackoffMs(attempt: number, rng: Prng): number {
  return LIVENESS_BACKOFF_MS_MIN + rng.int(Math.min(LIVENESS_BACKOFF_MS_BASE * 2 ** attempt, LIVENESS_BACKOFF_MS_CAP));
}

/** The keys of TxnScenarioOptions (all of them: allKeys checks it at compile time); anything else is refused (a misspelt option would run the default). */
export const TXN_SCENARIO_OPTION_KEYS = allKeys<TxnScenarioOptions>()([
  'seed',
  'commit',
  'mode',
  'unsafe',
  'clients',
  'keys',
  'opsMax',
  'faultMs',
  'livenessTxns',
  'regions',
  'servers',
  'factor',
  'shards',
  'trace',
  'limits',
  'balancer',
  'nemesis',
  'transport',
  'nats',
  'checkBudget',
]);

/** The transactional scenario's options, before its cluster starts: a ConfigError naming the first bad field (as runScenario's). */
function checkTxnScenarioOptions(options: TxnScenarioOptions): void {
  checkOptions(options, 'options', TXN_SCENARIO_OPTION_KEYS);
  const o = options;
  checkScenarioBasics(o);
  checkScenarioTransport({ transport: o.transport, nats: o.nats, trace: o.trace });
  if (!TXN_COMMITS.includes(o.commit)) throw new ConfigError('commit', `one of ${TXN_COMMITS.join(', ')}`, o.commit);
  if (o.mode !== undefined) checkScenarioMode(o.mode, o.factor);
  if (o.unsafe !== undefined && !TXN_UNSAFE_VARIANTS.includes(o.unsafe)) throw new ConfigError('unsafe', `one of ${TXN_UNSAFE_VARIANTS.join(', ')}`, o.unsafe);
  // Before the kv scenario's sizes, which say 1 to 1000 of a null or 0.5 (an audit, session 57).
  if (o.keys !== undefined)
    checkInt(o.keys, 'keys', 1, TXN_SCENARIO_KEYS_MAX, `an integer from 1 to ${TXN_SCENARIO_KEYS_MAX} (the final read gets every key in one transaction)`);
  checkScenarioSizes(o);
  if (o.opsMax !== undefined) checkInt(o.opsMax, 'opsMax', 1, TXN_OPS_MAX, `an integer from 1 to ${TXN_OPS_MAX} (micro-ops of a transaction)`);
  if (o.livenessTxns !== undefined) checkInt(o.livenessTxns, 'livenessTxns', 0, 1_000);
  checkScenarioNemesis(o.nemesis, o.seed, false, o.transport);
}

/**
 * A transactional run's outcome from its check and whether anything else failed (liveness, a
 * replica's state, an assertion...): a check left undecided (its cycle search out of budget,
 * nothing proscribed found) with nothing else wrong is 'unknown', neither a pass nor a catch.
 */
export function txnRunOutcome(check: Pick<TxnCheckResult, 'ok' | 'undecided'>, othersFailed: boolean): 'pass' | 'fail' | 'unknown' {
  if (othersFailed) return 'fail';
  if (check.ok) return 'pass';
  return check.undecided === undefined ? 'fail' : 'unknown';
}

/** `start`: how the run starts its cluster (a SeedStop's: `meridian check`'s workers stop a seed they drop). */
export async function runTxnScenario(options: TxnScenarioOptions, start: StartCluster = startCluster): Promise<TxnScenarioResult> {
  namedAs('options', () => checkTxnScenarioOptions(options));
  const o = { ...TXN_SCENARIO_DEFAULTS, ...definedOnly(options) };
  const shape = resolveShape(o);
  const prng = new Prng(`txn:${o.seed}`);
  const regions = Array.from({ length: shape.regions }, (_, i) => `r${i + 1}`);
  const latencyMs: Record<string, number> = {};
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) latencyMs[`${regions[i]}~${regions[j]}`] = 5 + prng.int(25);
  }
  // Jitter at least 1 ms, as in the kv scenario: with none, a client whose transactions all
  // stay in one region could loop at one virtual instant (SimulationStalledError).
  const network = {
    latencyMs,
    jitterMs: Math.max(1, prng.int(8)),
    loss: prng.chance(0.5) ? prng.next() * 0.03 : 0,
    duplicate: prng.chance(0.5) ? prng.next() * 0.03 : 0,
    duplicateDelayMs: SCENARIO_DUPLICATE_DELAY_MS,
  };
  const threads = realTime(o.transport);
  const config: ClusterConfig = {
    regions: regions.map((name) => ({ name, servers: shape.servers })),
    transport: o.transport ?? 'sim',
    seed: o.seed,
    network,
    // As the kv scenario: servers checkpoint often, so that crashes meet checkpointed logs.
    replication: {
      mode: o.mode ?? 'active',
      factor: scenarioFactor(o.mode, shape),
      checkpointEvery: SCENARIO_CHECKPOINT_EVERY,
      snapshotEvery: SCENARIO_SNAPSHOT_EVERY,
    },
    commit: o.commit,
    shards: shape.shards,
    requestTimeoutMs: 1_500,
    heartbeat: { intervalMs: 100 },
    // As in the kv scenario: a power-loss fault (the Nemesis's) loses nothing acknowledged
    // (sim; on threads and nats there are none).
    fsync: !threads,
    trace: o.trace ?? false,
  };
  if (o.unsafe !== undefined) config.transactions = { unsafe: o.unsafe };
  if (o.nats !== undefined) config.nats = o.nats;
  const limits = drawLimits(o.seed, o.limits);
  applyLimits(config, limits);
  const balancer = drawBalancer(o.seed, o.balancer ?? 'round-robin', regions, shape.servers);
  if (balancer !== undefined) config.balancer = balancer;
  const cluster = await start(config);
  const t0 = cluster.now();
  const at = (): string => (cluster.now() - t0).toFixed(0);
  const faults: string[] = limits === undefined ? [] : [describeLimits(limits)];
  if (balancer !== undefined) faults.push(describeBalancer(balancer));
  const servers = regions.flatMap((r) => Array.from({ length: shape.servers }, (_, i) => serverId(r, i)));
  const coordinators = regions.map((r) => `coordinator/${r}`);
  let nextValue = 1;
  let faultEpisodes = 0;
  try {
    const keys = Array.from({ length: o.keys }, (_, i) => `k${i}`);
    const clients = Array.from({ length: o.clients }, (_, i) => cluster.client({ region: regions[i % regions.length]! }));
    const txnOps = (rng: Prng): Array<{ op: 'get'; key: string } | { op: 'append'; key: string; value: number }> =>
      Array.from({ length: 1 + rng.int(o.opsMax) }, () => {
        const key = rng.pick(keys);
        // Values are unique across the run: Elle's list-append needs that.
        return rng.chance(0.5) ? { op: 'get' as const, key } : { op: 'append' as const, key, value: nextValue++ };
      });
    let faulting = true;
    // In sim, every copy's progress after every transaction and before every crash (see ProgressWatch).
    const watch = threads ? undefined : ProgressWatch.attach(cluster, t0);
    // An error other than an assert in an actor fails the seed as one does (see ActorErrorWatch).
    const actorErrors = ActorErrorWatch.attach(cluster, t0);
    const workload = async (index: number): Promise<void> => {
      const client = clients[index]!;
      const rng = prng.fork(`client${index}`);
      while (faulting) {
        try {
          await client.transaction(txnOps(rng));
        } catch (error) {
          // Aborts are definite and frequent (no-wait locking); anything else: back off a little.
          if (!(error instanceof AbortedError)) await cluster.sleep(20);
        }
        watch?.sample();
      }
    };
    const schedule = async (): Promise<void> => {
      const n = new Nemesis(cluster, { seed: o.seed, ...o.nemesis });
      await n.run(o.faultMs);
      faultEpisodes = n.episodes;
      faults.push(planLine(n.plan, o.nemesis?.only), ...n.lines());
      faulting = false;
    };
    const nemesis = async (): Promise<void> => {
      const down = new Set<string>();
      // The victims of `down` that are paused rather than crashed.
      const paused = new Set<string>();
      const end = cluster.now() + o.faultMs;
      while (cluster.now() < end) {
        await cluster.sleep(100 + prng.int(300));
        const roll = prng.next();
        const upServers = servers.filter((s) => !down.has(s));
        const upCoordinators = coordinators.filter((c) => !down.has(c));
        if (roll < 0.25 && down.size < 2) {
          // At most one server down, so every shard keeps a majority when no partition cuts it.
          const pool = [...(upServers.length === servers.length ? upServers : []), ...(upCoordinators.length === coordinators.length ? upCoordinators : [])];
          if (pool.length > 0) {
            const victim = prng.pick(pool);
            down.add(victim);
            // Half of the crashes land right after a durable write, before that step's messages
            // leave (a commit record on disk whose commit messages never left; a vote recorded
            // and never sent): what recovery must finish. Polled briefly; then a plain crash.
            // A quarter of them are pauses instead: the victim keeps its state and,
            // resumed, takes up what queued meanwhile (a coordinator's late decisions, a
            // participant's late votes) after the others went on without it.
            let torn = false;
            if (prng.chance(0.25)) {
              paused.add(victim);
              await cluster.pause(victim);
              faults.push(`${at()} pause ${victim}`);
            } else {
              if (prng.chance(0.5)) torn = typeof (await crashAfterWrite(cluster, victim)) === 'number';
              else await cluster.crash(victim);
              faults.push(`${at()} crash ${victim}${torn ? ' (after a write, before its messages)' : ''}`);
            }
          }
        } else if (roll < 0.5 && down.size > 0) {
          const back = prng.pick([...down]);
          down.delete(back);
          if (paused.delete(back)) {
            faults.push(`${at()} resume ${back}`);
            await cluster.resume(back);
          } else {
            faults.push(`${at()} restart ${back}`);
            await cluster.restart(back);
          }
        } else if (roll < 0.75) {
          const a = prng.pick(regions);
          faults.push(`${at()} partition ${a} | rest`);
          await cluster.partition(
            [a],
            regions.filter((r) => r !== a),
          );
        } else {
          faults.push(`${at()} heal`);
          await cluster.heal();
        }
      }
      faults.push(`${at()} heal all`);
      await cluster.heal();
      for (const s of down) {
        if (paused.has(s)) await cluster.resume(s);
        else await cluster.restart(s);
      }
      faulting = false;
    };
    await Promise.all([o.nemesis === undefined ? nemesis() : schedule(), ...clients.map((_, i) => workload(i))]);
    // Liveness: once healed, every client commits again (aborts under contention are retried).
    await cluster.setNetwork({ loss: 0, duplicate: 0 });
    await cluster.sleep(1_000);
    // Why not live, per client (by index: in real time clients finish in any order).
    const stuck: Array<string | undefined> = clients.map(() => undefined);
    await Promise.all(
      clients.map(async (client, i) => {
        const rng = prng.fork(`live${i}`);
        const failed: string[] = [];
        for (let k = 0; k < o.livenessTxns; k++) {
          let done = false;
          const errors: unknown[] = [];
          for (let attempt = 0; attempt < LIVENESS_ATTEMPTS && !done; attempt++) {
            try {
              await client.transaction(txnOps(rng));
              done = true;
            } catch (error) {
              errors.push(error);
              await cluster.sleep(livenessBackoffMs(attempt, rng));
            }
          }
          if (!done) failed.push(`transaction ${k + 1} of ${o.livenessTxns} failed all ${LIVENESS_ATTEMPTS} attempts (${attemptsLine(errors)})`);
        }
        if (failed.length > 0) stuck[i] = `client ${i} (${client.region}): ${failed.join('; ')}`;
      }),
    );
    const notLive = stuck.filter((s) => s !== undefined);
    // A final read of every key, in one transaction (retried while locks of transactions still
    // finishing refuse it): what partiallyApplied compares every transaction with.
    const readLists = async (some: string[]): Promise<Map<string, unknown[]>> => {
      const read = await clients[0]!.transaction(some.map((key) => ({ op: 'get' as const, key })));
      return new Map(some.map((key, i) => [key, Array.isArray(read[i]) ? (read[i] as unknown[]) : []]));
    };
    let finalLists: Map<string, unknown[]> | undefined;
    const readErrors: unknown[] = [];
    // Once the lists together are over messageBytesMax (a seed's small one: the cluster refuses
    // such a read, as documented), a key a transaction, in rounds, until two rounds in a row
    // read the same lists: lists only grow, so each stayed so from its read in the first round
    // to its read in the second, and all of them at once between the two rounds, a snapshot
    // as the one transaction's. Every key in one transaction, seed 2320075 (2PC: 306 commits,
    // messageBytesMax 758) failed as not live with a live cluster: its final read, 979 bytes.
    let oneByOne = false;
    let lastRound: Map<string, unknown[]> | undefined;
    let attempts = 0;
    while (attempts < FINAL_READ_ATTEMPTS && finalLists === undefined) {
      attempts++;
      try {
        if (!oneByOne) finalLists = await readLists(keys);
        else {
          const round = new Map<string, unknown[]>();
          for (const key of keys) round.set(key, (await readLists([key])).get(key)!);
          const before = lastRound;
          if (before !== undefined && keys.every((key) => sameList(before.get(key)!, round.get(key)!))) finalLists = round;
          lastRound = round;
        }
      } catch (error) {
        readErrors.push(error);
        const tooLarge = error instanceof AnswerTooLargeError;
        // One key's list alone too large: no smaller read to try.
        if (tooLarge && oneByOne) break;
        if (tooLarge) oneByOne = true;
        else await cluster.sleep(50 + prng.int(100));
      }
    }
    if (finalLists === undefined) {
      const how = oneByOne ? ', a key a transaction once every key was too large' : '';
      notLive.push(
        `the final read of every key (client 0, ${clients[0]!.region}${how}) failed ${attempts === FINAL_READ_ATTEMPTS ? 'all ' : ''}${attempts} attempts (${attemptsLine(readErrors)})`,
      );
    }
    const live = notLive.length === 0;
    const history = cluster.history({ format: 'elle' });
    const partial = finalLists === undefined ? [] : partiallyApplied(history, finalLists);
    const check = checkTransactions(history, {
      model: 'list-append',
      consistency: 'strict-serializable',
      searchBudget: searchBudgetFor(o.checkBudget),
    });
    const count = (type: TxnHistoryOp['type']): number => history.filter((e) => e.type === type).length;
    // In sim: the replicated state itself, and (below) copies left behind. On threads and nats
    // an actor's state is in another thread or process, not to be read in place.
    const stateDiffs = threads ? [] : replicaStateDiffs(cluster, shape.shards);
    // Every server is up and the network healed (both schedules end so): after quiet seconds
    // with no transaction, every copy of a shard must have applied as many commands as the one
    // furthest ahead. Same-index comparison (replicaStateDiffs) cannot see a copy that never
    // catches up after a restart or a cut; then the copies compared again, now further along.
    const behind = threads ? [] : await copiesBehind(cluster, shape.shards);
    if (!threads) for (const d of replicaStateDiffs(cluster, shape.shards)) if (!stateDiffs.includes(d)) stateDiffs.push(`after the quiet seconds: ${d}`);
    // A failed assertion inside an actor fails the seed, as in the key-value scenario (the actor
    // was restarted, and the run may well have gone on serializable).
    const assertions = cluster.assertionFailures().map((a) => `in ${a.address}: ${withoutAssertPrefix(a.message)}`);
    const wentBack = watch?.lines() ?? [];
    const thrown = actorErrors.lines();
    const verdict =
      (check.ok
        ? 'strict serializable'
        : check.undecided !== undefined
          ? `not decided (the search for ${check.undecided.join(', ')} ran out of its budget)`
          : [...new Set(check.anomalies.map((a) => a.type))].join(', ')) +
      (stateDiffs.length > 0 ? `, replica state differs (${stateDiffs.join('; ')})` : '') +
      (behind.length > 0 ? `, copy stayed behind: ${behind.join('; ')}` : '') +
      (wentBack.length > 0 ? `, ${wentBack.join('; ')}` : '') +
      (partial.length > 0 ? `, ${partial.length} transactions applied in part or not at all as decided (${partial.slice(0, 3).join('; ')})` : '') +
      (assertions.length > 0 ? `, assertion failed (${assertions.slice(0, 2).join('; ')})` : '') +
      (thrown.length > 0 ? `, ${thrown.join('; ')}` : '');
    const othersFailed =
      !live || stateDiffs.length > 0 || behind.length > 0 || wentBack.length > 0 || partial.length > 0 || assertions.length > 0 || thrown.length > 0;
    const outcome = txnRunOutcome(check, othersFailed);
    const result: TxnScenarioResult = {
      seed: o.seed,
      commit: o.commit,
      ok: outcome === 'pass',
      outcome,
      check,
      live,
      verdict,
      anomalies: check.anomalies.slice(0, 5).map(describeAnomaly),
      transactions: count('invoke'),
      committed: count('ok'),
      aborted: count('fail'),
      indefinite: count('info'),
      faults,
      faultEpisodes,
      stateDiffs,
      partial,
      behind,
      wentBack,
      assertions,
      traceHash: threads ? 0 : cluster.traceHash(),
    };
    if (!live) result.notLive = notLive.join('; ');
    // Kept when it failed, and for a replay (trace: `meridian check --history` writes it).
    if (!result.ok || o.trace === true) result.history = history;
    if (o.trace) result.trace = cluster.trace();
    return result;
  } catch (error) {
    throw withSeed('runTxnScenario', o.seed, cluster.transport, error);
  } finally {
    await cluster.stop();
  }
}
