/**
 * Fault schedules (a "nemesis", after Jepsen): a loop on the cluster's own clock that starts
 * faults, ends each after a while, and heals everything at the end. Every choice comes from
 * one seed, and the loop waits only through `cluster.sleep`, so in the simulator a schedule
 * runs in virtual time and the same seed and calls give the same faults at the same times.
 *
 * The caller awaits `run(durationMs)` beside its workload (`Promise.all`), which is what keeps
 * virtual time moving in sim; on threads the same code runs in real time.
 *
 * Faults aimed where protocols are weak (after Jepsen's leader-aware nemeses and FoundationDB's
 * and TigerBeetle's simulators): the current leader of a shard, read from the cluster
 * (`shardLeaders()`), is crashed (preferably while it has commands in flight: accepted by it,
 * not yet chosen) or cut off with the old ballot in a minority; a shard's replicas are
 * restarted one after another (a restart storm, which makes leaders duel); a power loss
 * crashes a server and loses what its disk had not synced (nothing with `fsync: true`).
 * Clock skew ('clock-skew', asked for in `faults`) offsets one server's `ctx.now()` through `cluster.setClockSkew`.
 */
import { ConfigError, ValidationError, describe, namedAs } from '../core/errors.js';
import { checkOptions, firstRepeated, waitMs } from '../core/validate.js';
import { Prng, hashString } from '../core/prng.js';
import type { NetworkConfig, PartitionOptions } from '../net/model.js';
import { validateNetworkChange } from '../cluster/config.js';
import { SimRuntime } from '../runtime/transports/sim-runtime.js';

export type FaultKind =
  | 'crash'
  | 'partition'
  | 'majority-minority'
  | 'one-way'
  | 'loss'
  | 'duplicate'
  | 'latency-spike'
  | 'clock-skew'
  | 'crash-leader'
  | 'isolate-leader'
  | 'restart-storm'
  | 'power-loss'
  | 'reorder'
  | 'leader-handover'
  | 'strand-leader'
  | 'checkpoint-crash'
  | 'crash-coordinator'
  | 'blackout'
  | 'pause'
  | 'leader-duel'
  | 'late-copies'
  | 'log-hole'
  | 'lost-accepts'
  | 'lost-commits';

/**
 * crash: crash a server, restart it when the fault ends (at most `crashMax` down at once).
 * partition: a random split of the servers into two sides, both ways.
 * majority-minority: a minority side (one region, or fewer than half of the servers) cut off both ways.
 * one-way: a random split where only traffic from the first side to the second is lost.
 * loss: raise the network's loss rate.
 * duplicate: raise the network's duplication rate, each copy up to `spikeMs` late (a
 * retransmission: network duplicateDelayMs).
 * latency-spike: add latency to every link of one region, or to every message into one server.
 * clock-skew: jump one server's clock (what its actors read from ctx.now()) ahead or back by
 * NEMESIS_SKEW_MS_DEFAULT, until the fault ends.
 * crash-leader: crash the current leader of a shard, one with commands in flight or a
 * transaction prepared and in doubt if any (the same "busy" leader for every leader fault)
 * (sim; elsewhere, where leaders cannot be read, a random server); restart it when the fault ends.
 * isolate-leader: cut the current leader of a shard off from every other server, both ways,
 * so the rest elect a new one while the old one still believes it leads.
 * restart-storm: crash and restart a shard's replicas one after another, the leader first,
 * each once and up to two more times, each down for a few tens of ms (half of them power
 * losses, in sim).
 * power-loss: crash a server (the leader of a shard half of the time) with a power loss: its
 * log keeps only what was synced (sim only; see Cluster.crash).
 * reorder: raise the network's jitter to `spikeMs`, which delays and reorders messages.
 * leader-handover: isolate a shard's leader (one with commands in flight if any; in sim with
 * its timers slowed, so its quorum check comes late) until the rest elect a new one; at once crash a majority less one of the replicas that voted for it (one in
 * a group of 3, two in a group of 5; within crashMax), move the isolation from the old leader
 * to the new one and the voters still up, restart the crashed voters a few ms later and keep
 * the new leader cut off briefly before healing. The old leader, which may still believe it
 * leads, and the restarted voters make a majority again: a voter that remembers its promise refuses the old ballot, and
 * a new leader's late accepts meet what was chosen meanwhile (duelling leaders, after Jepsen's
 * leader-aware nemeses). Sim only (it reads leaders); elsewhere an isolate-leader.
 * strand-leader: cut a shard's leader off from the shard's other replicas only (it still takes
 * requests from every other server and client) until they elect a new leader, and a little
 * longer: what it answers before its log is replicated is lost. In sim its timers run 5-20x
 * slow meanwhile (it goes on leading in its own view), it is a quiet leader (nothing in
 * flight, no transaction prepared; elsewhere one with commands in flight), and once the new
 * leader leads, the first commit decision of a coordinator at that shard (within
 * NEMESIS_STRAND_COMMIT_WAIT_MS; `atNextCommit`) cuts that coordinator off from the shard's
 * replicas but the stranded one, both ways, before the commit messages leave, for
 * NEMESIS_STRAND_COMMIT_HOLD_MS_MIN to _MAX ms: its retries turn to the stranded leader, which
 * never saw the transaction (the stale leader's ack found on NATS). Where leaders cannot be
 * read (threads, NATS), a random server is cut off from every other for the fault's length.
 * checkpoint-crash: make a shard's leader (one with commands in flight if any) checkpoint its
 * log at its next write, in the middle of its drain (`Cluster.requestCheckpoint`), then crash
 * it 30-150 ms after the checkpoint (a power loss half of the time); restart it when the
 * fault ends. A quarter of the time (when no coordinator is down already) the same is done
 * to a coordinator with transactions open, if there is one. A restart then reads a fresh
 * checkpoint and the records after it, where a store that loses or misorders either is
 * caught (FoundationDB's BUGGIFY: a rare path made common). Sim only (it reads the log).
 * crash-coordinator: crash a region's transaction coordinator (`coordinator/<region>`), one at a
 * time: in sim one with transactions open (`Cluster.openTransactions`, waited for a few ms at
 * a time), right after its next durable write and before that step's messages leave
 * (`Cluster.crashAfterNextWrite`): a commit record written whose commit messages never left,
 * which recovery must send; elsewhere a random one, at once. Restarted when the fault ends.
 * blackout: every server down at once (power losses, in sim; beyond crashMax by design: a
 * site losing power) for 50-400 ms, then all restarted, while the network duplicates (rate at
 * least 0.3) and reorders (jitter at least spikeMs) until a jitter's length after the restart.
 * Only from a quiet start (no server or coordinator down). Not in FAULT_KINDS (see
 * ALL_FAULT_KINDS).
 * pause: stop a server, as SIGSTOP or a long GC would (`Cluster.pause`): the leader of a shard
 * with commands in flight half of the time (in sim; elsewhere a random server), else a random server, or a quarter of
 * the time a coordinator with transactions open; resumed when the fault ends, it takes up
 * what queued meanwhile (old messages, late timers) with the state it had, while the others
 * may have elected a new leader or decided without it (Jepsen's pause nemesis). A paused
 * server counts towards `crashMax`. Not in FAULT_KINDS (see ALL_FAULT_KINDS).
 * leader-duel: two leaders' values for one log slot, met by a third leader (sim only). A quiet
 * leader is stranded as by strand-leader (cut from its shard's other replicas, its timers
 * slowed): the requests it still takes are accepted by it alone. Once the rest elect a new
 * leader and it has a slot in flight (the stranded one's first slot, which it never saw), its
 * messages to the other replicas are cut one way: their acceptances reach it, it counts the
 * slot chosen and answers, but they never learn it was chosen. It is crashed as soon as its
 * slot is chosen (within NEMESIS_DUEL_CHOSEN_WAIT_MS), the cuts heal, and it is restarted
 * NEMESIS_DUEL_DOWN_MS_MIN to _MAX ms later. The stranded leader and the others then elect a
 * leader whose promises report both values for that slot, at two ballots: only the higher one
 * may be chosen again. Not in FAULT_KINDS (see ALL_FAULT_KINDS).
 * late-copies: requests that come again after a restart (sim only). The network duplicates
 * every message, each copy NEMESIS_LATE_COPY_MS_MIN to _MAX ms late, for
 * NEMESIS_LATE_COPY_WINDOW_MS_MIN to _MAX ms and then until the victim's next durable write:
 * half of the time a coordinator with transactions open, else the leader of a shard with
 * commands in flight. It is crashed right after that write, before its messages leave, and
 * restarted NEMESIS_LATE_COPY_DOWN_MS_MIN to _MAX ms later, so copies of what it
 * took before the crash (a transaction request it began, a client request it logged) reach it
 * restarted. What it recovers must tell it they were taken: a coordinator that forgot the
 * requests it began would begin one again (the transaction applied twice). Not in FAULT_KINDS
 * (see ALL_FAULT_KINDS).
 * log-hole: holes in a leader's log under slots the rest of its group accepted (sim only). A
 * busy leader's messages to the other replicas of its shard are cut one way for
 * NEMESIS_HOLE_MUTE_MS_MIN to _MAX ms (their answers still reach it) while its timers run
 * NEMESIS_SLOW_MIN to _MAX times slow: the slots it proposes meanwhile are accepted by it
 * alone. The cut heals, and the slots it proposes next reach the others (its re-sends of the
 * first ones wait for a slowed heartbeat tick); NEMESIS_HOLE_AFTER_MS_MIN to _MAX ms later it
 * is crashed, and restarted NEMESIS_DUEL_DOWN_MS_MIN to _MAX ms after that. The next leader's
 * promises report later slots but not the earlier ones: it must fill the holes with no-ops
 * and propose again what was reported (and a passive backup must not apply a later effect of
 * the old reign over a hole). Counts towards `crashMax` and as a partition. Not in
 * FAULT_KINDS (see ALL_FAULT_KINDS); `meridian check`'s default schedule does not draw it.
 * lost-accepts: a busy leader's Multi-Paxos accepts are lost for NEMESIS_ACCEPTS_LOST_MS_MIN
 * to _MAX ms while the rest of what it sends gets through, its timers NEMESIS_SLOW_MIN to _MAX
 * times slow (sim only, Cluster.loseAccepts). Its heartbeats still confirm its reads, so it
 * answers reads beside slots no follower has; it is crashed before it sends them again (they
 * are lost with it: their calls' outcomes unknown) and restarted NEMESIS_DUEL_DOWN_MS_MIN to
 * _MAX ms later. A leader that reads what it has not got chosen answers a write that never
 * happens (docs/findings.md). Counts towards `crashMax`. Not in FAULT_KINDS (see
 * ALL_FAULT_KINDS); `meridian check`'s default schedule does not draw it.
 * lost-commits: what a busy leader got chosen in its last moments is known to it alone, and
 * its successor cannot propose it again for a while (sim only). A leader with a slot in flight
 * has its messages to the other replicas of its shard cut one way for
 * NEMESIS_COMMITS_MUTE_MS_MIN to _MAX ms (the answers to the accepts it sent before still
 * reach it: it learns those slots chosen and answers their clients, but the news of it, in
 * commits, heartbeats and later accepts, is lost), then the cut heals and it is crashed at
 * the same instant. From then the other replicas' accepts are lost (the successor's first
 * ones included), until NEMESIS_SUCCESSOR_LOST_MS_MIN to _MAX ms after one of them leads (its
 * heartbeats get through and confirm its reads); the old leader restarts
 * NEMESIS_DUEL_DOWN_MS_MIN to _MAX ms after the accepts flow again. A successor that answers reads at its commit index, below the slots its
 * promises reported, answers without writes its predecessor acknowledged. Counts towards
 * `crashMax` and as a partition. Not in FAULT_KINDS (see ALL_FAULT_KINDS); `meridian check`'s
 * default schedule does not draw it.
 */
export const FAULT_KINDS: readonly FaultKind[] = Object.freeze([
  'crash',
  'partition',
  'majority-minority',
  'one-way',
  'loss',
  'duplicate',
  'latency-spike',
  'clock-skew',
  'crash-leader',
  'isolate-leader',
  'restart-storm',
  'power-loss',
  'reorder',
  'leader-handover',
  'strand-leader',
  'checkpoint-crash',
  'crash-coordinator',
]);
/** How long a blackout keeps every server down: a draw from [MIN, MAX) ms. */
export const NEMESIS_BLACKOUT_MS_MIN = 50;
export const NEMESIS_BLACKOUT_MS_MAX = 400;
/** The network's duplication rate during a blackout, at least (links flapping: retransmissions). */
export const NEMESIS_BLACKOUT_DUPLICATE = 0.3;

/**
 * Every kind a plan may name: FAULT_KINDS and the kinds after it, which a Nemesis and swarm draw
 * only when `faults` names them (so their seeds' plans stay as they were); `meridian check`'s
 * default schedule (SCENARIO_NEMESIS) names all of them but 'log-hole', 'lost-accepts' and 'lost-commits'.
 */
export const ALL_FAULT_KINDS: readonly FaultKind[] = Object.freeze([
  ...FAULT_KINDS,
  'blackout',
  'pause',
  'leader-duel',
  'late-copies',
  'log-hole',
  'lost-accepts',
  'lost-commits',
]);
/** The kinds that start only in the simulator (they read or cut into actors' state, or its store); elsewhere a schedule naming them never draws them. */
export const SIM_ONLY_FAULT_KINDS: readonly FaultKind[] = Object.freeze([
  'power-loss',
  'checkpoint-crash',
  'leader-duel',
  'late-copies',
  'log-hole',
  'lost-accepts',
  'lost-commits',
]);
/** crash-leader waits up to this many times this long for a leader with commands in flight. */
export const NEMESIS_BUSY_WAITS = 50;
export const NEMESIS_BUSY_WAIT_MS = 2;
/** Restarts in one restart storm, at most (a storm goes through every replica, and up to two more). */
export const NEMESIS_STORM_RESTARTS_MAX = 5;
/** strand-leader (sim) waits up to this many times NEMESIS_BUSY_WAIT_MS for a quiet leader (nothing in flight, no transaction prepared). */
export const NEMESIS_QUIET_WAITS = 150;
/** strand-leader slows the stranded leader's timers by a factor drawn from [MIN, MAX] (sim). */
export const NEMESIS_SLOW_MIN = 5;
export const NEMESIS_SLOW_MAX = 20;
/**
 * strand-leader (sim), once the rest of the group elected a new leader, waits up to this long
 * for a coordinator to decide the commit of a transaction at the stranded shard.
 */
export const NEMESIS_STRAND_COMMIT_WAIT_MS = 1_500;
/**
 * ...then keeps that coordinator cut off from the shard's replicas but the stranded leader for
 * a time drawn from [MIN, MAX] ms: past its commit retries' turn to the stranded leader (a
 * coordinator sends to the replica it heard from last, and to the next one of the group each
 * time that one has been silent 50 ticks of 10 ms; the stranded leader may be third in turn).
 */
export const NEMESIS_STRAND_COMMIT_HOLD_MS_MIN = 1_500;
export const NEMESIS_STRAND_COMMIT_HOLD_MS_MAX = 2_500;
/** leader-duel waits up to this long for the new leader to have a slot in flight, and then up to NEMESIS_DUEL_CHOSEN_WAIT_MS for it to be chosen. */
export const NEMESIS_DUEL_INFLIGHT_WAIT_MS = 1_000;
export const NEMESIS_DUEL_CHOSEN_WAIT_MS = 300;
/** leader-duel keeps the new leader down for a time drawn from [MIN, MAX] ms after the cuts heal. */
export const NEMESIS_DUEL_DOWN_MS_MIN = 100;
export const NEMESIS_DUEL_DOWN_MS_MAX = 600;
/** leader-handover waits up to this long (polling every NEMESIS_HANDOVER_POLL_MS) for a new leader. */
export const NEMESIS_HANDOVER_WAIT_MS = 1_200;
export const NEMESIS_HANDOVER_POLL_MS = 1;
/** leader-handover's voters, asked to checkpoint before they go down, are waited for at most this many polls. */
export const NEMESIS_HANDOVER_CHECKPOINT_WAITS = 15;
/** checkpoint-crash waits up to this many times NEMESIS_BUSY_WAIT_MS for the checkpoint it asked for. */
export const NEMESIS_CHECKPOINT_WAITS = 50;
/** checkpoint-crash crashes its server this many ms after the checkpoint (drawn between the two): past a round trip, so records written after the checkpoint (the commits of slots accepted in its step) are in the log the restart reads. */
export const NEMESIS_CHECKPOINT_CRASH_MS_MIN = 30;
export const NEMESIS_CHECKPOINT_CRASH_MS_MAX = 150;
/** late-copies: how late a copy may come (the network's duplicateDelayMs, drawn between the two per fault). */
export const NEMESIS_LATE_COPY_MS_MIN = 150;
export const NEMESIS_LATE_COPY_MS_MAX = 400;
/** late-copies: how long every message is copied before the victim's next write crashes it (drawn between the two). */
export const NEMESIS_LATE_COPY_WINDOW_MS_MIN = 30;
export const NEMESIS_LATE_COPY_WINDOW_MS_MAX = 120;
/** late-copies: how long the victim stays down (drawn between the two): less than most copies are late. */
export const NEMESIS_LATE_COPY_DOWN_MS_MIN = 10;
export const NEMESIS_LATE_COPY_DOWN_MS_MAX = 80;
/** log-hole: how long the leader's messages to its group are lost (drawn between the two). */
export const NEMESIS_HOLE_MUTE_MS_MIN = 10;
export const NEMESIS_HOLE_MUTE_MS_MAX = 60;
/** log-hole: how long after its messages get through again the leader is crashed (drawn between the two). */
export const NEMESIS_HOLE_AFTER_MS_MIN = 5;
export const NEMESIS_HOLE_AFTER_MS_MAX = 40;
/** lost-accepts: how long the leader's accepts are lost before it is crashed (drawn between the two). */
export const NEMESIS_ACCEPTS_LOST_MS_MIN = 200;
export const NEMESIS_ACCEPTS_LOST_MS_MAX = 600;
/** lost-commits: how long the leader's messages to its group are lost before it is crashed (drawn between the two). */
export const NEMESIS_COMMITS_MUTE_MS_MIN = 30;
export const NEMESIS_COMMITS_MUTE_MS_MAX = 120;
/** lost-commits: how long the successor's accepts are lost (drawn between the two). */
export const NEMESIS_SUCCESSOR_LOST_MS_MIN = 1_500;
export const NEMESIS_SUCCESSOR_LOST_MS_MAX = 2_500;
/** How far a clock-skew fault moves a server's clock, by default. */
export const NEMESIS_SKEW_MS_DEFAULT = 2_000;

export const NEMESIS_DEFAULTS = {
  /** Mean time between nemesis steps; each step starts at most one fault. */
  intervalMs: 300,
  /** Mean time a fault lasts before the nemesis undoes it. */
  faultMs: 1_000,
  /**
   * Servers down at once (a minority of any shard's replicas with factor 3). With a
   * replication factor of 4 or more, when the target tells it, the default is a majority less
   * one of a group instead (`defaultCrashMax`).
   */
  crashMax: 1,
  /** Partitions active at once, all partition kinds together. */
  partitionsMax: 1,
  lossRate: 0.05,
  duplicateRate: 0.05,
  spikeMs: 200,
} as const;

/** Bounds on the options: a schedule is a test tool, not a way to stall a run for hours. */
export const NEMESIS_INTERVAL_MS_MAX = 600_000;
export const NEMESIS_FAULT_MS_MAX = 3_600_000;
export const NEMESIS_SPIKE_MS_MAX = 60_000;
export const NEMESIS_PARTITIONS_MAX = 8;
/** Log entries kept; later ones are counted in `dropped` (a long threads run would grow without end). */
export const NEMESIS_LOG_MAX = 10_000;

export interface NemesisOptions {
  /** Fault kinds to draw from (default: FAULT_KINDS; any of ALL_FAULT_KINDS). With `swarm`, the pool the swarm draws from. */
  faults?: FaultKind[];
  /** Draw the fault mix (which kinds, rates, interval, durations) from the seed. */
  swarm?: boolean;
  /** Default: derived from the cluster's seed. */
  seed?: number;
  intervalMs?: number;
  faultMs?: number;
  crashMax?: number;
  partitionsMax?: number;
  lossRate?: number;
  duplicateRate?: number;
  spikeMs?: number;
  /**
   * How often each kind is drawn, relative to the others (default 1 each; 0 leaves a kind out).
   * Kinds aimed where a protocol is weak can be drawn more often than the rest.
   */
  weights?: Partial<Record<FaultKind, number>>;
  /**
   * Carry out only these fault episodes (numbered from 0 in the order they are drawn); the
   * others are drawn and left out. Shrinking leaves faults out this way; each episode's own
   * choices come from its own stream, so leaving one out does not change what the others pick
   * as long as the same kinds can start (a crash slot left free, or a cluster in another
   * state, may change the draw).
   */
  only?: number[];
  /**
   * The network settings to restore when a fault ends. Default: the settings in force when
   * the nemesis is created (`cluster.currentNetwork()`; the configured network for a target without it).
   */
  baseline?: NetworkConfig;
}

/** A schedule with every choice made: what `swarm` draws, or the options with defaults. */
export interface NemesisPlan {
  seed: number;
  faults: FaultKind[];
  intervalMs: number;
  faultMs: number;
  crashMax: number;
  partitionsMax: number;
  lossRate: number;
  duplicateRate: number;
  spikeMs: number;
  /** Kinds drawn more or less often than 1 (absent: every kind alike). */
  weights?: Partial<Record<FaultKind, number>>;
}

export interface FaultEvent {
  /** Cluster time since the nemesis was created. */
  atMs: number;
  kind: FaultKind | 'heal';
  action: 'start' | 'end' | 'heal';
  detail: string;
}

/** What the nemesis needs of a cluster (a structural type, so tests can pass a fake). */
export interface NemesisTarget {
  readonly seed: number;
  readonly config: {
    regions: ReadonlyArray<{ name: string; servers: number }>;
    network: NetworkConfig;
    /**
     * The shards' replication factor: sets the default crashMax (see defaultCrashMax). Whether
     * Multi-Paxos pre-vote is on (default true, as the cluster's): leader-handover's cut.
     */
    replication?: { factor: number; preVote?: boolean };
  };
  readonly isStopped: boolean;
  /** The network settings in force now; without it, the configured ones. */
  currentNetwork?(): NetworkConfig;
  /** 'sim' allows power-loss crashes. */
  readonly transport?: 'sim' | 'threads' | 'nats';
  crash(id: string, options?: { powerLoss?: boolean }): Promise<void>;
  /** Each shard's replicas, current leader and commands in flight; without it, leader faults hit random servers. */
  shardLeaders?(): ShardView[];
  /** One shard's entry of `shardLeaders()` (what a wait for one shard's election polls); without it, found in `shardLeaders()`. */
  shardLeader?(shard: number): ShardView;
  restart(id: string): Promise<void>;
  /** The three network changes: a promise resolves once every host applied the change (Cluster's do). */
  partition(a: string[], b: string[], options?: PartitionOptions): void | Promise<void>;
  heal(): void | Promise<void>;
  setNetwork(change: NetworkConfig): void | Promise<void>;
  /** Make a server or coordinator checkpoint its log soon (false: it is down); without it (or off sim), 'checkpoint-crash' never starts. */
  requestCheckpoint?(id: string, options?: { at?: 'write' | 'step' }): boolean;
  /** Checkpoints a server or coordinator has written since it (re)started. */
  checkpointsOf?(id: string): number;
  /** Transactions a coordinator has open; without it (or off sim), 'crash-coordinator' picks a random one. */
  openTransactions?(id: string): number;
  /** Crash a server or coordinator after its next durable write, before that step's messages leave (sim). */
  crashAfterNextWrite?(id: string): boolean;
  /** Whether a server or coordinator is down. */
  isDown?(id: string): boolean;
  /** Stop a server or coordinator until `resume`; without them, 'pause' never starts. */
  pause?(id: string): Promise<void>;
  resume?(id: string): Promise<void>;
  /** Offset one server's clock; without it, 'clock-skew' never starts. */
  setClockSkew?(id: string, ms: number): void;
  /** Slow a server's timers by a factor (1 restores); without it, 'strand-leader' slows nothing (sim only). */
  slowTimers?(id: string, factor: number): void;
  /** Lose a server's Multi-Paxos accepts (false: send them again); without it (or off sim), 'lost-accepts' never starts. */
  loseAccepts?(id: string, lost: boolean): void;
  /**
   * Call `hook` at a coordinator's next commit record of a transaction at `shard`, before that
   * step's messages leave (undefined clears it; false: the coordinator is down); without it
   * (or off sim), 'strand-leader' cuts no coordinator off.
   */
  atNextCommit?(id: string, shard: number, hook: ((txn: string) => void) | undefined): boolean;
  sleep(ms: number): Promise<void>;
  now(): number;
  /** The cluster's runtime (Cluster.internals): in the simulator, the polls below are its own (see pollEvery). */
  readonly internals?: { readonly runtime: unknown };
}

/** A shard as `NemesisTarget.shardLeaders` reports it. */
export interface ShardView {
  shard: number;
  replicas: string[];
  leader: string | undefined;
  inflight: number;
  /** Transactions prepared and not finished at the leader (absent: not known). */
  openTxns?: number;
  /** The leader's commit index (absent: not known; leader-duel then waits its whole NEMESIS_DUEL_CHOSEN_WAIT_MS). */
  commitIndex?: number;
  candidates?: string[];
}

/**
 * A busy shard leader: commands in flight, or a transaction prepared and in doubt (where a
 * crash meets a participant that must remember its vote). The leader faults look for one;
 * strand-leader, in sim, for one that is not.
 */
function isBusy(s: ShardView): boolean {
  return s.inflight > 0 || (s.openTxns ?? 0) > 0;
}

interface ActiveFault {
  kind: FaultKind;
  endsAtMs: number;
  detail: string;
  undo: () => Promise<void>;
}

interface PartitionCut {
  a: string[];
  b: string[];
  oneWay: boolean;
}

/** Swarm testing (Groce et al., ISSTA 2012): each seed leaves some fault kinds out entirely. */
export function drawSwarm(seed: number, pool: readonly FaultKind[] = FAULT_KINDS): NemesisPlan {
  // As nemesis.seed and nemesis.faults take them (a bad seed drew a plan with seed null; an empty pool failed an assertion).
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ValidationError('seed', `an integer from 0 to 2^32 - 1, got ${describe(seed)}`);
  if (!Array.isArray(pool) || pool.length === 0)
    throw new ValidationError('pool', `a non-empty array of fault kinds from ${ALL_FAULT_KINDS.join(', ')}, got ${describe(pool)}`);
  // Each element by index: `some` skips holes, so [, , 'crash'] passed and could draw a plan of
  // faults [undefined], which describePlan refuses (found by an audit, session 55).
  for (let i = 0; i < pool.length; i++) {
    if (!ALL_FAULT_KINDS.includes(pool[i]!))
      throw new ValidationError(`pool[${i}]`, `a fault kind from ${ALL_FAULT_KINDS.join(', ')}, got ${i in pool ? describe(pool[i]) : 'a hole (no element)'}`);
  }
  const rng = new Prng((seed ^ hashString('nemesis/swarm')) >>> 0);
  let faults = pool.filter(() => rng.chance(0.5));
  if (faults.length === 0) faults = [rng.pick(pool)];
  return {
    seed,
    faults,
    intervalMs: 100 + rng.int(600),
    faultMs: 200 + rng.int(1_800),
    crashMax: 1 + rng.int(2),
    partitionsMax: 1 + rng.int(2),
    lossRate: 0.01 + rng.next() * 0.1,
    duplicateRate: 0.01 + rng.next() * 0.1,
    spikeMs: 20 + rng.int(480),
  };
}

/**
 * Servers down at once by default for shards of `factor` replicas: 1 up to a factor of 3, else
 * a majority less one (factor / 2, rounded down: 2 for 4 and 5). That many crashed voters of a
 * new leader (leader-handover) leave the old leader a majority of acceptors that may have
 * forgotten their promise; with 1, `check --factor 5` caught forget-promises in 0 of 100 seeds
 * and `--factor 4` in 0 of 40. In a group of 4 it is half the group: no majority until they
 * restart.
 */
export function defaultCrashMax(factor: number | undefined): number {
  if (factor !== undefined && (!Number.isInteger(factor) || factor < 1))
    throw new ValidationError('factor', `undefined or a replication factor (an integer >= 1), got ${describe(factor)}`);
  return factor === undefined || factor < 4 ? NEMESIS_DEFAULTS.crashMax : Math.floor(factor / 2);
}

/** Validates options and makes every choice; the plan is plain data (it goes into logs and reports). */
/**
 * A ConfigError naming `field` when `faults` names kinds that run only in the simulator and
 * `transport` is a real-time one (undefined: the simulator). Nemesis and the scenarios took
 * them there and ran no fault, and the run passed (an audit, session 57); runChecks refused.
 */
export function checkSimOnlyFaults(faults: readonly unknown[] | undefined, transport: string | undefined, field: string): void {
  if (transport === undefined || transport === 'sim' || faults === undefined) return;
  const simOnly = SIM_ONLY_FAULT_KINDS.filter((k) => faults.includes(k));
  if (simOnly.length > 0)
    throw new ConfigError(field, `kinds that run in real time with transport '${transport}' (not ${simOnly.join(', ')}: sim only)`, faults);
}

/**
 * `options` without the simulator-only kinds (in `faults` and `weights`), for a schedule of
 * one's own that names them whatever the transport (the scenarios' SCENARIO_NEMESIS) run on a
 * real-time one, where a caller naming them is refused (checkSimOnlyFaults).
 */
export function realTimeKinds(options: NemesisOptions): NemesisOptions {
  if (options.faults === undefined) return options;
  const out: NemesisOptions = { ...options, faults: options.faults.filter((k) => !SIM_ONLY_FAULT_KINDS.includes(k)) };
  if (options.weights !== undefined)
    out.weights = Object.fromEntries(Object.entries(options.weights).filter(([k]) => !SIM_ONLY_FAULT_KINDS.includes(k as FaultKind)));
  return out;
}

/** `transport`: the cluster's, which sim-only kinds in `faults` need to be 'sim' (checkSimOnlyFaults). */
export function resolvePlan(options: NemesisOptions, clusterSeed: number, factor?: number, transport?: string): NemesisPlan {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new ConfigError('nemesis', 'an object of options', options);
  const known = [
    'faults',
    'swarm',
    'seed',
    'intervalMs',
    'faultMs',
    'crashMax',
    'partitionsMax',
    'lossRate',
    'duplicateRate',
    'spikeMs',
    'weights',
    'only',
    'baseline',
  ];
  if (options.only !== undefined && (!Array.isArray(options.only) || options.only.some((n) => !Number.isInteger(n) || n < 0)))
    throw new ConfigError('nemesis.only', 'an array of episode numbers (integers >= 0)', options.only);
  // As onlyFaults and `--only-faults`: an episode named twice is a slip, maybe for another one (it ran once).
  const twice = firstRepeated(options.only);
  if (twice !== undefined) throw new ConfigError('nemesis.only', `each episode once, got ${twice} twice`, options.only);
  for (const key of Object.keys(options)) if (!known.includes(key)) throw new ConfigError(`nemesis.${key}`, `one of the options ${known.join(', ')}`);
  // null is no default (as nowhere else): it is refused below.
  const seed = options.seed === undefined ? (clusterSeed ^ hashString('nemesis')) >>> 0 : options.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ConfigError('nemesis.seed', 'an integer from 0 to 2^32 - 1', seed);
  let pool: FaultKind[] = [...FAULT_KINDS];
  if (options.faults !== undefined) {
    if (!Array.isArray(options.faults) || options.faults.length === 0)
      throw new ConfigError('nemesis.faults', `a non-empty array of ${ALL_FAULT_KINDS.join(', ')}`, options.faults);
    for (const kind of options.faults as unknown[]) {
      if (!ALL_FAULT_KINDS.includes(kind as FaultKind)) throw new ConfigError('nemesis.faults', `fault kinds from ${ALL_FAULT_KINDS.join(', ')}`, kind);
    }
    // In ALL_FAULT_KINDS' order, whatever the order given: the kinds are a set, and the weighted
    // pick goes through them in order, so `loss,crash` and `crash,loss` drew different runs of one
    // seed (found by an audit, session 58).
    pool = ALL_FAULT_KINDS.filter((kind) => (options.faults as readonly FaultKind[]).includes(kind));
    checkSimOnlyFaults(pool, transport, 'nemesis.faults');
  }
  if (options.swarm !== undefined && typeof options.swarm !== 'boolean') throw new ConfigError('nemesis.swarm', 'true or false', options.swarm);
  const base: NemesisPlan = options.swarm === true ? drawSwarm(seed, pool) : { seed, faults: pool, ...NEMESIS_DEFAULTS, crashMax: defaultCrashMax(factor) };
  const num = (value: number | undefined, field: Exclude<keyof NemesisPlan, 'faults' | 'seed'>, min: number, max: number, integer: boolean): void => {
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new ConfigError(`nemesis.${field}`, `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`, value);
    }
    base[field] = value;
  };
  num(options.intervalMs, 'intervalMs', 1, NEMESIS_INTERVAL_MS_MAX, false);
  num(options.faultMs, 'faultMs', 1, NEMESIS_FAULT_MS_MAX, false);
  num(options.crashMax, 'crashMax', 0, Number.MAX_SAFE_INTEGER, true);
  num(options.partitionsMax, 'partitionsMax', 0, NEMESIS_PARTITIONS_MAX, true);
  num(options.lossRate, 'lossRate', 0, 1, false);
  num(options.duplicateRate, 'duplicateRate', 0, 1, false);
  num(options.spikeMs, 'spikeMs', 0, NEMESIS_SPIKE_MS_MAX, false);
  if (options.weights !== undefined) {
    if (typeof options.weights !== 'object' || options.weights === null || Array.isArray(options.weights))
      throw new ConfigError('nemesis.weights', 'an object of fault kind to weight', options.weights);
    const weights: Partial<Record<FaultKind, number>> = {};
    for (const [kind, weight] of Object.entries(options.weights) as Array<[string, unknown]>) {
      if (!ALL_FAULT_KINDS.includes(kind as FaultKind)) throw new ConfigError('nemesis.weights', `fault kinds from ${ALL_FAULT_KINDS.join(', ')}`, kind);
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1_000)
        throw new ConfigError(`nemesis.weights.${kind}`, 'a number from 0 to 1000', weight);
      weights[kind as FaultKind] = weight;
    }
    // Weight 0 leaves a kind out: with every kind of the pool left out the nemesis drew nothing,
    // and a run meant to be under faults passed with none (an audit, session 66).
    if (pool.every((kind) => weights[kind] === 0))
      throw new ConfigError(
        'nemesis.weights',
        `a weight above 0 for at least one kind of ${options.faults === undefined ? 'the default faults' : 'nemesis.faults'} (${pool.join(', ')}): 0 leaves a kind out`,
        options.weights,
      );
    base.weights = weights;
  }
  return base;
}

/** The fault log's first line: `plan <describePlan>`, and `; only episodes ...` when a run carries out only some. */
export function planLine(plan: NemesisPlan, only?: readonly number[]): string {
  return `plan ${formatPlan(plan)}${only === undefined ? '' : `; only episodes ${only.length === 0 ? 'none' : only.join(',')}`}`;
}

/** The numbers of a NemesisPlan, each printed by describePlan. */
const PLAN_NUMBERS = ['seed', 'intervalMs', 'faultMs', 'crashMax', 'partitionsMax', 'lossRate', 'duplicateRate', 'spikeMs'] as const;

/**
 * `plan` as describePlan prints it: a plan from drawSwarm or `nemesis.plan`. Anything else
 * (undefined, a seed) failed with a TypeError reading `faults` or `join`, or printed NaN.
 */
function checkPlan(plan: unknown): NemesisPlan {
  if (typeof plan !== 'object' || plan === null || Array.isArray(plan))
    throw new ValidationError('plan', `a fault plan (what drawSwarm returns, or nemesis.plan), got ${describe(plan)}`);
  const p = plan as Record<string, unknown>;
  if (!Array.isArray(p.faults)) throw new ValidationError('plan.faults', `an array of fault kinds, got ${describe(p.faults)}`);
  // Kinds that exist, at least one (a plan of `['bogus']` or of none was described as if drawn).
  if (p.faults.length === 0) throw new ValidationError('plan.faults', `at least one fault kind (a plan draws from them), got an empty array`);
  for (let i = 0; i < p.faults.length; i++) {
    if (!ALL_FAULT_KINDS.includes(p.faults[i] as FaultKind))
      throw new ValidationError(
        `plan.faults[${i}]`,
        `a fault kind from ${ALL_FAULT_KINDS.join(', ')}, got ${i in p.faults ? describe(p.faults[i]) : 'a hole (no element)'}`,
      );
  }
  for (const field of PLAN_NUMBERS) {
    const value = p[field];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(`plan.${field}`, `a finite number, got ${describe(value)}`);
  }
  if (p.weights !== undefined && (typeof p.weights !== 'object' || p.weights === null || Array.isArray(p.weights)))
    throw new ValidationError('plan.weights', `undefined or an object of weights by fault kind, got ${describe(p.weights)}`);
  return plan as NemesisPlan;
}

/** One line: `crash, loss every ~340 ms, each ~900 ms (seed 7, crashMax 1, partitionsMax 1, loss 0.050, duplicate 0.050, spike 200 ms)` */
export function describePlan(plan: NemesisPlan): string {
  return formatPlan(checkPlan(plan));
}

function formatPlan(p: NemesisPlan): string {
  return (
    `${p.faults.join(', ')} every ~${p.intervalMs.toFixed(0)} ms, each ~${p.faultMs.toFixed(0)} ms ` +
    `(seed ${p.seed}, crashMax ${p.crashMax}, partitionsMax ${p.partitionsMax}, loss ${p.lossRate.toFixed(3)}, ` +
    `duplicate ${p.duplicateRate.toFixed(3)}, spike ${p.spikeMs.toFixed(0)} ms` +
    `${
      p.weights === undefined
        ? ''
        : `, weights ${Object.entries(p.weights)
            .map(([k, w]) => `${k} ${w}`)
            .join(', ')}`
    })`
  );
}

const FAULT_ACTIONS: readonly FaultEvent['action'][] = ['start', 'end', 'heal'];

/** `   812 ms  start crash r1/0` */
export function formatFaultEvent(event: FaultEvent): string {
  // A caller's value, whatever its type says (undefined failed with a TypeError reading `atMs`).
  const given: unknown = event;
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw new ValidationError('event', `a fault event (an entry of nemesis.log), got ${describe(given)}`);
  const e = given as Record<string, unknown>;
  if (typeof e.atMs !== 'number' || !Number.isFinite(e.atMs))
    throw new ValidationError('event.atMs', `a finite number of milliseconds, got ${describe(e.atMs)}`);
  if (!FAULT_ACTIONS.includes(e.action as FaultEvent['action']))
    throw new ValidationError('event.action', `one of ${FAULT_ACTIONS.join(', ')}, got ${describe(e.action)}`);
  if (typeof e.kind !== 'string') throw new ValidationError('event.kind', `a fault kind, got ${describe(e.kind)}`);
  if (e.kind !== 'heal' && !ALL_FAULT_KINDS.includes(e.kind as FaultKind))
    throw new ValidationError('event.kind', `a fault kind from ${ALL_FAULT_KINDS.join(', ')}, or 'heal', got ${describe(e.kind)}`);
  if (typeof e.detail !== 'string') throw new ValidationError('event.detail', `a string, got ${describe(e.detail)}`);
  return formatEvent(event);
}

function formatEvent(e: FaultEvent): string {
  return `${e.atMs.toFixed(0).padStart(6)} ms  ${e.action === 'heal' ? 'heal' : `${e.action} ${e.kind}`} ${e.detail}`.trimEnd();
}

/**
 * Crash `victim` (a server or coordinator) right after its next durable write, before that
 * step's messages leave (`crashAfterNextWrite`, sim), waiting for the write
 * NEMESIS_BUSY_WAIT_MS at a time, up to NEMESIS_BUSY_WAITS times; with no write by then
 * ('no-write'), or where the target cannot cut a step ('at-once'), it crashes at once.
 * Returns the ms waited for a crash after a write, else how it crashed ('stopped': the
 * cluster stopped meanwhile, nothing done). The nemesis's crash-coordinator and the
 * transactional workload's crashes use it.
 */
export async function crashAfterWrite(c: NemesisTarget, victim: string): Promise<number | 'no-write' | 'at-once' | 'stopped'> {
  if (c.transport === 'sim' && c.crashAfterNextWrite !== undefined && c.isDown !== undefined && c.crashAfterNextWrite(victim)) {
    const isDown = c.isDown.bind(c);
    let waits = 0;
    let down = false;
    if (!c.isStopped)
      await pollEvery(c, NEMESIS_BUSY_WAIT_MS, () => {
        waits++;
        if (c.isStopped) return true;
        down = isDown(victim);
        return down || waits >= NEMESIS_BUSY_WAITS;
      });
    if (c.isStopped) return 'stopped';
    if (down) return waits * NEMESIS_BUSY_WAIT_MS;
    await c.crash(victim);
    return 'no-write';
  }
  await c.crash(victim);
  return 'at-once';
}

/**
 * `step` after every `ms` of `c`'s time until it returns true: what `for (;;) { await
 * c.sleep(ms); if (step()) return; }` does, and does off the simulator. In it, the simulator's
 * own poll (SimRuntime.poll) runs each step at the same instant and place among the events as
 * that loop did, so a seed runs the same and keeps its trace hash, at a third of the CPU a step:
 * the waits for a leader (elected, busy, quiet, its slot chosen) were about 1,450 sleeps of 1-2
 * ms a `meridian check` seed, 8% of its events. `step` must not wait for anything. Not async:
 * the promise is the poll's own, so the caller's continuation runs as many microtask turns
 * after the last step as it did after the last sleep (see SIM_QUIET_TURNS).
 */
export function pollEvery(c: Pick<NemesisTarget, 'sleep' | 'internals'>, ms: number, step: () => boolean): Promise<void> {
  const runtime = c.internals?.runtime;
  if (runtime instanceof SimRuntime) return runtime.poll(ms, step);
  return sleepPoll(c, ms, step);
}

async function sleepPoll(c: Pick<NemesisTarget, 'sleep'>, ms: number, step: () => boolean): Promise<void> {
  for (;;) {
    await c.sleep(ms);
    if (step()) return;
  }
}

/**
 * The most fault episodes a run() of `durationMs` under `plan` can draw: a step comes only after
 * a wait of at least half the plan's interval (run()'s spacing) and before the end. How many a run
 * draws is known only once it ran: a step draws none when no kind can start, and what can start
 * depends on the episodes carried out before it (so on `only`). Floored: the exact quotient
 * allows one more than can be, which covers rounding in the clock's sums.
 */
export function episodesMax(plan: Pick<NemesisPlan, 'intervalMs'>, durationMs: number): number {
  return Math.max(0, Math.floor(durationMs / (plan.intervalMs * 0.5)));
}

/**
 * A fault schedule on one cluster. Create it with `new Nemesis(cluster, options)`; await
 * `run()` beside the workload; `heal()` ends every fault.
 */
export class Nemesis {
  readonly plan: NemesisPlan;
  /** Every fault started and ended, and every heal, in order (the first NEMESIS_LOG_MAX). */
  readonly log: FaultEvent[] = [];
  /** Log entries left out past NEMESIS_LOG_MAX. */
  dropped = 0;
  /** Fault episodes drawn so far (started or skipped). */
  episodes = 0;
  private readonly only: Set<number> | undefined;
  /** The schedule's own draws (when, which kind, how long). */
  private readonly schedule: Prng;
  /** The current episode's draws (its targets): a stream per episode. */
  private rng: Prng;
  private readonly t0: number;
  private readonly servers: string[];
  private readonly regions: string[];
  /** Every region's coordinator (`coordinator/<region>`). */
  private readonly coordinators: string[];
  private readonly baseline: NetworkConfig;
  private readonly activeFaults: ActiveFault[] = [];
  private readonly down = new Set<string>();
  /** The coordinator crashed by 'crash-coordinator', if any (one at a time, apart from `crashMax`). */
  private coordinatorDown: string | undefined;
  private cuts: PartitionCut[] = [];
  private readonly touchedPairs = new Set<string>();
  private readonly touchedNodes = new Set<string>();
  private readonly skewed = new Set<string>();
  /** Servers and coordinators paused by 'pause' and not yet resumed. */
  private readonly paused = new Set<string>();
  private jitterTouched = false;
  /**
   * Network changes made where nothing awaits them (a fault's start or end, built synchronously),
   * awaited before the fault counts as started or ended: off sim a change reaches the other
   * hosts a moment after the call (an audit, session 59).
   */
  private readonly unsettled: Array<Promise<void>> = [];
  private stopped = false;
  private running = false;
  /** heal() calls so far: a step whose fault was starting when one came ends that fault too. */
  private heals = 0;

  constructor(
    private readonly cluster: NemesisTarget,
    options: NemesisOptions = {},
  ) {
    // A caller's value, whatever its type says: checked as unknown.
    const given: unknown = cluster;
    const c = typeof given === 'object' && given !== null ? (given as Record<string, unknown>) : undefined;
    if (c === undefined || typeof c.now !== 'function' || typeof c.config !== 'object' || c.config === null)
      throw new ValidationError('cluster', `a cluster (what startCluster returns), got ${given === null ? 'null' : typeof given}`);
    if (cluster.isStopped) throw new ValidationError('cluster', 'the cluster is stopped');
    // Frozen: it says what was drawn, and edits to it changed what run() did (an audit, session 57).
    // Named from the options (`nemesis.faults`), not as a cluster's config (`config.nemesis.faults`, which they are not).
    const plan = namedAs('', () => resolvePlan(options, cluster.seed, cluster.config.replication?.factor, cluster.transport));
    Object.freeze(plan.faults);
    if (plan.weights !== undefined) Object.freeze(plan.weights);
    this.plan = Object.freeze(plan);
    this.schedule = new Prng(this.plan.seed);
    this.rng = this.schedule;
    this.only = options.only === undefined ? undefined : new Set(options.only);
    this.t0 = cluster.now();
    this.regions = cluster.config.regions.map((r) => r.name);
    this.coordinators = this.regions.map((r) => `coordinator/${r}`);
    this.servers = cluster.config.regions.flatMap((r) => Array.from({ length: r.servers }, (_, i) => `${r.name}/${i}`));
    // A baseline is checked as setNetwork would check it, here: a bad one threw only at the
    // heal, after the faults had been forgotten and before the crashed servers were restarted.
    this.baseline =
      options.baseline === undefined
        ? (cluster.currentNetwork?.() ?? cluster.config.network)
        : namedAs('', () => validateNetworkChange(options.baseline!, new Set(this.regions), new Set(this.servers), 'nemesis.baseline'));
  }

  /** Descriptions of the faults in force now. */
  active(): Array<{ kind: FaultKind; detail: string }> {
    return this.activeFaults.map((f) => ({ kind: f.kind, detail: f.detail }));
  }

  /** The log as text lines, one per event. */
  lines(): string[] {
    return this.log.map(formatEvent);
  }

  /**
   * Run the schedule for `durationMs` of cluster time (0 to WAIT_MS_MAX, an hour), then heal
   * (unless `heal: false`).
   * Resolves with the log. Ends early, quietly, after `stop()` (at its next wake-up) or when
   * the cluster is stopped.
   */
  async run(durationMs: number, options: { heal?: boolean } = {}): Promise<FaultEvent[]> {
    waitMs(durationMs, 'durationMs');
    checkOptions(options, 'options', ['heal']);
    if (options.heal !== undefined && typeof options.heal !== 'boolean')
      throw new ValidationError('options.heal', `true or false, got ${describe(options.heal)}`);
    if (this.running) throw new ValidationError('run', 'one run() at a time: this nemesis is running one (await it, or stop() it)');
    this.running = true;
    this.stopped = false;
    const end = this.cluster.now() + durationMs;
    try {
      while (!this.stopped && this.cluster.now() < end) {
        // Exponential-ish spacing (0.5x to 1.5x the mean) so faults do not line up with timers;
        // episodesMax counts on the 0.5x least wait.
        const waitMs = Math.min(this.plan.intervalMs * (0.5 + this.schedule.next()), end - this.cluster.now());
        await this.cluster.sleep(waitMs);
        if (this.stopped || this.cluster.isStopped || this.cluster.now() >= end) break;
        await this.step();
      }
      if (options.heal !== false && !this.cluster.isStopped) await this.heal();
    } catch (error) {
      // A cluster stopped under a running schedule (a test body that threw) is not an error here.
      if (!this.cluster.isStopped) throw error;
    } finally {
      this.running = false;
    }
    // A copy: the log itself goes on growing with the next run (an audit, session 57).
    return this.log.map((e) => ({ ...e }));
  }

  /** Make `run()` end at its next wake-up (it heals then, unless told not to). */
  stop(): void {
    this.stopped = true;
  }

  /** One nemesis step: end the faults that are due, then start one fault if any kind can start. */
  async step(): Promise<void> {
    const now = this.cluster.now();
    for (const fault of [...this.activeFaults]) {
      if (fault.endsAtMs > now) continue;
      this.activeFaults.splice(this.activeFaults.indexOf(fault), 1);
      await fault.undo();
      await this.settled();
      this.record(fault.kind, 'end', fault.detail);
    }
    const startable = this.plan.faults.filter((kind) => this.weightOf(kind) > 0 && this.canStart(kind));
    if (startable.length === 0) return;
    const kind = this.pickKind(startable);
    const lastsMs = this.plan.faultMs * (0.5 + this.schedule.next());
    const episode = this.episodes++;
    // Forked whether or not the episode runs, so the schedule's draws do not depend on `only`.
    const stream = this.schedule.fork(`episode${episode}`);
    if (this.only !== undefined && !this.only.has(episode)) return;
    this.rng = stream;
    const startedAt = this.cluster.now();
    const heals = this.heals;
    const started = await this.start(kind);
    await this.settled();
    this.record(kind, 'start', `${started.detail} [#${episode}]`, startedAt);
    if (this.heals !== heals) {
      // A heal() came while the fault was starting: it may have ended before the fault took
      // effect (a crash applied after the heal's restarts), and "heal() ends every fault".
      await started.undo();
      await this.settled();
      this.record(kind, 'end', started.detail);
      return;
    }
    this.activeFaults.push({ kind, endsAtMs: this.cluster.now() + lastsMs, ...started });
  }

  /** End every fault: restart every crashed server, remove every partition, restore the network. */
  async heal(): Promise<void> {
    this.heals++;
    this.activeFaults.length = 0;
    this.cuts = [];
    // Superseded by the heal's own changes, made after them (see track).
    this.unsettled.length = 0;
    await this.cluster.heal();
    await this.cluster.setNetwork(this.restoredNetwork());
    for (const server of this.skewed) this.cluster.setClockSkew?.(server, 0);
    this.skewed.clear();
    const resumed = [...this.paused];
    for (const id of resumed) await this.cluster.resume?.(id);
    this.paused.clear();
    const restarted: string[] = [];
    for (const id of this.servers) {
      // restart() is a no-op for a server that is up; this also restarts servers crashed by the
      // caller (said in the heal line too: it said only the nemesis's own).
      if ((this.down.has(id) || this.cluster.isDown?.(id) === true) && !resumed.includes(id)) restarted.push(id);
      await this.cluster.restart(id);
    }
    this.down.clear();
    if (this.coordinatorDown !== undefined) {
      if (!resumed.includes(this.coordinatorDown)) restarted.push(this.coordinatorDown);
      await this.cluster.restart(this.coordinatorDown);
      this.coordinatorDown = undefined;
    }
    // Coordinators the caller crashed, as servers (a heal left them down: an audit, session 57).
    // Only those down are asked, so a heal of a cluster without them awaits nothing more.
    for (const id of this.coordinators) {
      if (this.cluster.isDown?.(id) !== true) continue;
      restarted.push(id);
      await this.cluster.restart(id);
    }
    const said = [...(restarted.length > 0 ? [`restarted ${restarted.join(', ')}`] : []), ...(resumed.length > 0 ? [`resumed ${resumed.join(', ')}`] : [])];
    this.record('heal', 'heal', said.length > 0 ? `(${said.join('; ')})` : '');
  }

  private weightOf(kind: FaultKind): number {
    return this.plan.weights?.[kind] ?? 1;
  }

  /** A kind drawn by weight (uniformly, with one draw, when no weights are set). */
  private pickKind(startable: FaultKind[]): FaultKind {
    if (this.plan.weights === undefined) return this.schedule.pick(startable);
    const total = startable.reduce((sum, kind) => sum + this.weightOf(kind), 0);
    let x = this.schedule.next() * total;
    for (const kind of startable) {
      x -= this.weightOf(kind);
      if (x < 0) return kind;
    }
    return startable[startable.length - 1]!;
  }

  private canStart(kind: FaultKind): boolean {
    if (this.cluster.transport !== 'sim' && SIM_ONLY_FAULT_KINDS.includes(kind)) return false;
    switch (kind) {
      case 'crash':
      case 'crash-leader':
      case 'restart-storm':
      case 'power-loss':
        return this.down.size < this.plan.crashMax && this.down.size < this.servers.length;
      case 'crash-coordinator':
        return this.coordinatorDown === undefined;
      case 'pause':
        return (
          this.cluster.pause !== undefined && this.cluster.resume !== undefined && this.down.size < this.plan.crashMax && this.down.size < this.servers.length
        );
      case 'blackout':
        // The whole cluster (beyond crashMax, by design), from a quiet start.
        return this.down.size === 0 && this.coordinatorDown === undefined && this.servers.length > 0;
      case 'checkpoint-crash':
        return (
          this.cluster.requestCheckpoint !== undefined &&
          this.cluster.checkpointsOf !== undefined &&
          this.down.size < this.plan.crashMax &&
          this.down.size < this.servers.length
        );
      case 'isolate-leader':
        return this.cuts.length < this.plan.partitionsMax && this.servers.length >= 3;
      case 'leader-handover':
        return this.cuts.length < this.plan.partitionsMax && this.down.size < this.plan.crashMax && this.servers.length >= 3;
      case 'strand-leader':
        return this.cuts.length < this.plan.partitionsMax && this.regions.length >= 3;
      case 'late-copies':
        // The duplication rate is the network's: not while another fault sets it.
        return (
          (this.coordinatorDown === undefined || (this.down.size < this.plan.crashMax && this.down.size < this.servers.length)) &&
          !this.activeFaults.some((f) => f.kind === 'duplicate' || f.kind === 'blackout')
        );
      // Both cut a leader off (a partition) and crash one (sim: they read leaders).
      case 'leader-duel':
      case 'log-hole':
        return (
          this.cluster.shardLeaders !== undefined &&
          this.cuts.length < this.plan.partitionsMax &&
          this.down.size < this.plan.crashMax &&
          this.servers.length >= 3
        );
      // Both crash a leader they find (sim: they read leaders, and filter what servers send);
      // lost-commits first cuts it off one way (a partition).
      case 'lost-accepts':
      case 'lost-commits':
        return (
          this.cluster.shardLeaders !== undefined &&
          this.cluster.loseAccepts !== undefined &&
          (kind === 'lost-accepts' || this.cuts.length < this.plan.partitionsMax) &&
          this.down.size < this.plan.crashMax &&
          this.servers.length >= 3
        );
      case 'partition':
      case 'one-way':
        return this.cuts.length < this.plan.partitionsMax && this.servers.length >= 2;
      case 'majority-minority':
        return this.cuts.length < this.plan.partitionsMax && this.servers.length >= 3;
      case 'loss':
      case 'duplicate':
      case 'latency-spike':
      case 'reorder':
        // One of each at a time, so ending one restores the baseline and nothing else.
        return !this.activeFaults.some((f) => f.kind === kind);
      case 'clock-skew':
        return this.cluster.setClockSkew !== undefined && !this.activeFaults.some((f) => f.kind === kind);
    }
  }

  private async start(kind: FaultKind): Promise<{ detail: string; undo: () => Promise<void> }> {
    switch (kind) {
      case 'crash':
        return this.crashServer(this.rng.pick(this.servers.filter((s) => !this.down.has(s))), false);
      case 'crash-leader': {
        const target = await this.busyLeader();
        return this.crashServer(target.server, false, target.note);
      }
      case 'power-loss': {
        const target = this.rng.chance(0.5) ? await this.busyLeader() : { server: this.rng.pick(this.servers.filter((s) => !this.down.has(s))), note: '' };
        return this.crashServer(target.server, true, target.note);
      }
      case 'isolate-leader': {
        return this.isolateFromAll(this.pickLeader(false));
      }
      case 'restart-storm':
        return this.storm();
      case 'blackout':
        return this.blackout();
      case 'pause':
        return this.pause();
      case 'leader-handover':
        return this.handover();
      case 'strand-leader':
        return this.strand();
      case 'leader-duel':
        return this.duel();
      case 'late-copies':
        return this.lateCopies();
      case 'log-hole':
        return this.hole();
      case 'lost-accepts':
        return this.lostAccepts();
      case 'lost-commits':
        return this.lostCommits();
      case 'checkpoint-crash':
        return this.checkpointCrash();
      case 'crash-coordinator': {
        const { victim, note } = await this.busyCoordinator();
        const undo = this.coordinatorGoesDown(victim);
        const torn = await crashAfterWrite(this.cluster, victim);
        const how =
          typeof torn === 'number'
            ? `, crashed after a write ${torn} ms later, before its messages left`
            : torn === 'no-write'
              ? `, no write within ${NEMESIS_BUSY_WAITS * NEMESIS_BUSY_WAIT_MS} ms: crashed`
              : '';
        return { detail: `${victim}${note}${how}`, undo };
      }
      case 'reorder': {
        this.jitterTouched = true;
        this.track(this.cluster.setNetwork({ jitterMs: (this.baseline.jitterMs ?? 0) + this.plan.spikeMs }));
        return {
          detail: `jitter +${this.plan.spikeMs.toFixed(0)} ms`,
          undo: async () => {
            this.track(this.cluster.setNetwork({ jitterMs: this.baseline.jitterMs ?? 0 }));
          },
        };
      }
      case 'partition':
      case 'one-way': {
        const [a, b] = this.randomSplit();
        return this.cut({ a, b, oneWay: kind === 'one-way' });
      }
      case 'majority-minority': {
        const [a, b] = this.minoritySplit();
        return this.cut({ a, b, oneWay: false });
      }
      case 'loss':
        return this.rate('loss', this.plan.lossRate);
      case 'duplicate':
        return this.duplicates();
      case 'latency-spike':
        return this.spike();
      case 'clock-skew': {
        const server = this.rng.pick(this.servers);
        const skewMs = (this.rng.chance(0.5) ? 1 : -1) * NEMESIS_SKEW_MS_DEFAULT;
        this.cluster.setClockSkew!(server, skewMs);
        this.skewed.add(server);
        return {
          detail: `${server} ${skewMs > 0 ? '+' : ''}${skewMs} ms`,
          undo: async () => {
            this.skewed.delete(server);
            this.cluster.setClockSkew!(server, 0);
          },
        };
      }
    }
  }

  /**
   * Every server down at once (power losses, in sim) for NEMESIS_BLACKOUT_MS_MIN..MAX ms, then
   * all restarted, while the network duplicates (at least the plan's duplicate rate) and
   * reorders (jitter at least spikeMs) until a jitter's length after the restart: a site's
   * power event, links flapping as it comes back. While every server is down a balancer that
   * knows it refuses every request; copies of those requests land after the restart.
   */
  private async blackout(): Promise<{ detail: string; undo: () => Promise<void> }> {
    const before = this.cluster.currentNetwork?.() ?? this.baseline;
    const duplicate = Math.max(before.duplicate ?? 0, NEMESIS_BLACKOUT_DUPLICATE);
    const jitterMs = Math.max(before.jitterMs ?? 0, this.plan.spikeMs);
    this.jitterTouched = true;
    this.track(this.cluster.setNetwork({ duplicate, jitterMs }));
    const powerLoss = this.cluster.transport === 'sim';
    const undos: Array<() => Promise<void>> = [];
    for (const server of this.servers) undos.push((await this.crashServer(server, powerLoss)).undo);
    const downMs = NEMESIS_BLACKOUT_MS_MIN + this.rng.int(NEMESIS_BLACKOUT_MS_MAX - NEMESIS_BLACKOUT_MS_MIN);
    await this.cluster.sleep(downMs);
    for (const undo of undos) await undo();
    await this.cluster.sleep(jitterMs);
    this.track(this.cluster.setNetwork({ duplicate: before.duplicate ?? 0, jitterMs: before.jitterMs ?? 0 }));
    return {
      detail: `every server down ${downMs} ms (${this.servers.length}${powerLoss ? ', power losses' : ''}), duplicate ${duplicate.toFixed(3)}, jitter ${jitterMs.toFixed(0)} ms`,
      undo: async () => undefined,
    };
  }

  /** See 'pause' above. */
  private async pause(): Promise<{ detail: string; undo: () => Promise<void> }> {
    const c = this.cluster;
    if (this.coordinatorDown === undefined && this.rng.chance(0.25)) {
      const { victim, note } = await this.busyCoordinator();
      // A coordinator the workload crashed itself (the transactional scenario does) is left alone.
      if (!c.isStopped && c.isDown?.(victim) !== true) {
        this.coordinatorDown = victim;
        this.paused.add(victim);
        await c.pause!(victim);
        return {
          detail: `${victim}${note}`,
          undo: async () => {
            this.coordinatorDown = undefined;
            this.paused.delete(victim);
            if (!c.isStopped) await c.resume!(victim);
          },
        };
      }
    }
    const target = this.rng.chance(0.5) ? await this.busyLeader() : { server: this.rng.pick(this.servers.filter((s) => !this.down.has(s))), note: '' };
    this.down.add(target.server);
    this.paused.add(target.server);
    if (!c.isStopped) await c.pause!(target.server);
    return {
      detail: `${target.server}${target.note}`,
      undo: async () => {
        this.down.delete(target.server);
        this.paused.delete(target.server);
        if (!c.isStopped) await c.resume!(target.server);
      },
    };
  }

  private async crashServer(victim: string, powerLoss: boolean, note = ''): Promise<{ detail: string; undo: () => Promise<void> }> {
    this.down.add(victim);
    await this.cluster.crash(victim, powerLoss ? { powerLoss: true } : {});
    return {
      detail: `${victim}${note}`,
      undo: async () => {
        this.down.delete(victim);
        await this.cluster.restart(victim);
      },
    };
  }

  /**
   * The leader of a random shard (with `busy`, of a shard whose leader has commands in flight,
   * when there is one), up and not already hit; a random live server when no leader is known.
   */
  private pickLeader(busy: boolean, slots = false): { server: string; note: string; busy: boolean; shard?: number } {
    const shards = (this.cluster.shardLeaders?.() ?? []).filter((s) => s.leader !== undefined && !this.down.has(s.leader));
    const targeted = slots ? (s: ShardView): boolean => s.inflight > 0 : isBusy;
    const preferred = busy ? shards.filter(targeted) : [];
    const pool = preferred.length > 0 ? preferred : shards;
    if (pool.length === 0) return { server: this.rng.pick(this.servers.filter((s) => !this.down.has(s))), note: ' (no leader known)', busy: false };
    const s = this.rng.pick(pool);
    return {
      server: s.leader!,
      note: ` (leader of shard ${s.shard}${s.inflight > 0 ? `, ${s.inflight} in flight` : ''}${(s.openTxns ?? 0) > 0 ? `, ${s.openTxns} prepared` : ''})`,
      busy: targeted(s),
      shard: s.shard,
    };
  }

  /**
   * Right after a leader accepted new commands: wait (a few ms at a time, briefly) for a
   * leader with commands in flight, so a crash lands between accept and chosen. With `slots`,
   * only commands in its log's slots count (not transactions prepared).
   */
  private async busyLeader(slots = false): Promise<{ server: string; note: string; busy: boolean; shard?: number }> {
    let target = this.pickLeader(true, slots);
    let waits = 0;
    const more = (): boolean => waits < NEMESIS_BUSY_WAITS && !target.busy && !this.cluster.isStopped && this.cluster.shardLeaders !== undefined;
    if (more())
      await pollEvery(this.cluster, NEMESIS_BUSY_WAIT_MS, () => {
        target = this.pickLeader(true, slots);
        waits++;
        return !more();
      });
    return target;
  }

  /**
   * A leader with no commands in flight and no transaction prepared (nothing of its shard's
   * log pending, no commit of its own to come), waited for a few ms at a time, briefly; else
   * the leader of a random shard.
   */
  private async quietLeader(): Promise<{ server: string; note: string; busy: boolean; shard?: number }> {
    const found: Array<{ server: string; note: string; busy: boolean; shard?: number }> = [];
    const look = (): boolean => {
      const quiet = (this.cluster.shardLeaders?.() ?? []).filter((s) => s.leader !== undefined && !this.down.has(s.leader) && !isBusy(s));
      if (quiet.length === 0) return false;
      const s = this.rng.pick(quiet);
      found.push({ server: s.leader!, note: ` (leader of shard ${s.shard}, quiet)`, busy: false, shard: s.shard });
      return true;
    };
    let waits = 0;
    if (!this.cluster.isStopped && !look())
      await pollEvery(this.cluster, NEMESIS_BUSY_WAIT_MS, () => {
        waits++;
        return look() || waits >= NEMESIS_QUIET_WAITS || this.cluster.isStopped;
      });
    return found[0] ?? this.pickLeader(false);
  }

  /** Crash and restart a shard's replicas in turn, the leader first; one down at a time. */
  private async storm(): Promise<{ detail: string; undo: () => Promise<void> }> {
    const shards = this.cluster.shardLeaders?.() ?? [];
    let replicas: string[];
    let label: string;
    if (shards.length > 0) {
      const busy = await this.busyLeader();
      const s = shards.find((x) => x.leader === busy.server) ?? this.rng.pick(shards);
      replicas = s.leader === undefined ? [...s.replicas] : [s.leader, ...s.replicas.filter((r) => r !== s.leader)];
      label = `shard ${s.shard}`;
    } else {
      replicas = this.rng.shuffle(this.servers).slice(0, Math.min(3, this.servers.length));
      label = 'servers';
    }
    replicas = replicas.filter((r) => !this.down.has(r));
    // A rolling restart through every replica, and up to two more.
    const restarts = Math.min(NEMESIS_STORM_RESTARTS_MAX, replicas.length + this.rng.int(3));
    const hit: string[] = [];
    for (let i = 0; i < restarts && replicas.length > 0 && !this.cluster.isStopped; i++) {
      const victim = replicas[i % replicas.length]!;
      const powerLoss = this.cluster.transport === 'sim' && this.rng.chance(0.5);
      this.down.add(victim);
      await this.cluster.crash(victim, powerLoss ? { powerLoss: true } : {});
      hit.push(`${victim}${powerLoss ? '!' : ''}`);
      await this.cluster.sleep(20 + this.rng.int(130));
      if (this.cluster.isStopped) break;
      this.down.delete(victim);
      await this.cluster.restart(victim);
      await this.cluster.sleep(this.rng.int(80));
    }
    return { detail: `${label}: ${hit.join(' ')}`, undo: async () => undefined };
  }

  /** See 'leader-handover' above. Carried out inline: when it returns, everything is healed. */
  private async handover(): Promise<{ detail: string; undo: () => Promise<void> }> {
    const target = await this.busyLeader();
    const old = target.server;
    const shard = (this.cluster.shardLeaders?.() ?? []).find((s) => s.leader === old && (target.shard === undefined || s.shard === target.shard));
    if (shard === undefined || shard.replicas.length < 3) return this.isolateFromAll(target);
    const poll = (): { leader: string | undefined; candidates: string[] } => {
      const s = this.shardNow(shard.shard);
      return { leader: s?.leader, candidates: s?.candidates ?? [] };
    };
    // First cut the leader from one follower only: that one stops hearing heartbeats and
    // campaigns while the leader, still heard by the other, keeps leading. Once it campaigns,
    // isolate the leader, so none of its accepts reach the voter after its promise. With
    // Multi-Paxos pre-vote (the default since 2026-12-03) that follower never campaigns: the
    // other still hears the leader and says no. So in sim the leader is isolated at once and its
    // timers slowed, as strand-leader does: its quorum check comes late, and it still leads in
    // its own view when the others have elected (forget-promises was caught in 0 of 100 seeds
    // with pre-vote and the one-follower cut). 3-5x slower, not strand-leader's 5-20x: enough
    // to put its quorum check past the election, while its flush timer still cuts the commands
    // clients keep sending it into slots the others never see (seeds 1-100 of forget-promises:
    // 41 caught at 5-20x, 45 at 3-5x; with factor 5, of seeds 1-60, 20 and 30; 2026-12-03).
    const others = shard.replicas.filter((r) => r !== old);
    const follower = this.rng.pick(others.filter((r) => !this.down.has(r)));
    const c = this.cluster;
    const slowBy = c.slowTimers === undefined || c.transport !== 'sim' ? 1 : 3 + this.rng.int(3);
    // Off sim, with pre-vote, the leader is isolated at once too (no slowed timers: its quorum
    // check may depose it first, but a new leader is elected and the voters crashed all the same).
    const atOnce = slowBy > 1 || c.config.replication?.preVote !== false;
    let isolation = this.cut({ a: [old], b: atOnce ? others : [follower], oneWay: false });
    let whole = atOnce;
    if (slowBy > 1) c.slowTimers!(old, slowBy);
    const restoreTimers = (): void => {
      if (slowBy > 1 && !c.isStopped) c.slowTimers!(old, 1);
    };
    const deadline = this.cluster.now() + NEMESIS_HANDOVER_WAIT_MS;
    let fresh: string | undefined;
    while (fresh === undefined && !this.cluster.isStopped && this.cluster.now() < deadline) {
      // Polled until there is something to do (the cut widened, which waits, so not in a step; a
      // new leader) or the wait is over.
      let now = { leader: undefined as string | undefined, candidates: [] as string[] };
      await pollEvery(this.cluster, NEMESIS_HANDOVER_POLL_MS, () => {
        now = poll();
        const widen = !whole && now.candidates.some((c) => c !== old);
        return widen || (now.leader !== undefined && now.leader !== old) || this.cluster.isStopped || this.cluster.now() >= deadline;
      });
      if (!whole && now.candidates.some((c) => c !== old)) {
        await isolation.undo();
        isolation = this.cut({ a: [old], b: shard.replicas.filter((r) => r !== old), oneWay: false });
        whole = true;
      }
      if (now.leader !== undefined && now.leader !== old) fresh = now.leader;
    }
    if (fresh === undefined || this.cluster.isStopped) {
      restoreTimers();
      return { detail: `${isolation.detail}${target.note}${slowBy > 1 ? `, its timers ${slowBy}x slower` : ''}, no new leader`, undo: isolation.undo };
    }
    // The voters crashed: a majority less one of them (one in a group of 3, two in a group of
    // 5), within crashMax. Every other replica promised the new leader too (its prepare reached
    // them all), so the old leader's accepts make a majority only with as many forgetful
    // acceptors as that: crashing one voter of a group of 5 caught forget-promises in 0 of 100
    // seeds of `check --servers 3 --factor 5` (2026-12-01).
    let candidates = shard.replicas.filter((r) => r !== old && r !== fresh && !this.down.has(r));
    const want = Math.min(Math.floor(shard.replicas.length / 2), this.plan.crashMax - this.down.size);
    const crashed: string[] = [];
    while (crashed.length < want && candidates.length > 0) {
      const voter = this.rng.pick(candidates);
      candidates = candidates.filter((r) => r !== voter);
      crashed.push(voter);
      // Counted down from here: no other fault picks it while it checkpoints.
      this.down.add(voter);
    }
    // In sim the voters checkpoint their logs first, at their next step, and go down right
    // after: a restart then reads its promise to the new leader back from a checkpoint written
    // after it (with no accept of that ballot yet to imply it), not from the promise's own
    // record. Seeds 1-50 of the mutants checkpoint-omits-promise and
    // shardlog-keeps-lower-promise (scripts/mutants.mjs): 0 and 0 caught without it, 9 and 9
    // with it half the time, 16 and 16 every time; forget-promises 45, 49 and 45 of 100
    // (2026-12-04).
    let checkpointed = '';
    if (crashed.length > 0 && c.requestCheckpoint !== undefined && c.checkpointsOf !== undefined) {
      const r = await this.checkpointsTaken(crashed, 'step', NEMESIS_HANDOVER_POLL_MS, NEMESIS_HANDOVER_CHECKPOINT_WAITS);
      if (r === undefined) return { detail: '', undo: async () => undefined };
      checkpointed = `, ${r.taken} of ${crashed.length} checkpointed within ${r.waits * NEMESIS_HANDOVER_POLL_MS} ms first`;
    }
    for (const voter of crashed) await c.crash(voter);
    await isolation.undo();
    restoreTimers();
    // The new leader is cut off with the voters that remember their promise (none in a group
    // of 3): the old leader and the crashed voters, back up, are then a majority of their own,
    // and no promise it cannot see refuses the old leader's accepts (a nack would depose it).
    const side = [fresh, ...candidates];
    const moved = this.cut({ a: side, b: shard.replicas.filter((r) => !side.includes(r)), oneWay: false });
    // Down past the new leader's accepts already on their way (a cut drops only what is sent after it).
    const regionOf = (id: string): string => id.split('/')[0]!;
    let flightMs = 0;
    for (const voter of crashed) flightMs = Math.max(flightMs, this.baseLatency(regionOf(fresh), regionOf(voter)) + (this.baseline.jitterMs ?? 0) + 2);
    const downMs = Math.ceil(flightMs) + this.rng.int(30);
    const holdMs = 20 + this.rng.int(200);
    if (crashed.length > 0) {
      await this.cluster.sleep(downMs);
      if (this.cluster.isStopped) return { detail: '', undo: async () => undefined };
      for (const voter of crashed) {
        this.down.delete(voter);
        await this.cluster.restart(voter);
      }
    }
    // The new leader stays cut off until shortly before its quorum check would depose it (an
    // election timeout after it led), so that it still leads when the cut heals.
    await this.cluster.sleep(holdMs);
    if (!this.cluster.isStopped) await moved.undo();
    return {
      detail: `shard ${shard.shard}: ${old} ${atOnce ? `isolated${slowBy > 1 ? `, its timers ${slowBy}x slower,` : ''}` : `cut from ${follower}${whole ? ', then isolated,' : ''}`} until ${fresh} led, then ${crashed.length === 0 ? 'no voter' : `${crashed.join(', ')} down ${downMs} ms${checkpointed}`}, ${side.join(', ')} isolated ${holdMs} ms${target.note}`,
      undo: async () => undefined,
    };
  }

  /** See 'strand-leader' above. Carried out inline when leaders are known: it returns healed. */
  private async strand(): Promise<{ detail: string; undo: () => Promise<void> }> {
    // In sim a quiet leader (nothing in flight, no transaction prepared), for the commit cut
    // below: a stranded leader with entries of its own pending holds every later message of its
    // shard's participant behind them, a stale ack among them, which then never leaves (of the
    // faults that cut at a commit in seeds 1-60 with the bug put back, 1 of 8 with a busy
    // leader was in a seed that failed, 14 of 18 with a quiet one; 2026-12-02).
    const commitCut = this.cluster.transport === 'sim' && this.cluster.atNextCommit !== undefined && this.cluster.shardLeaders !== undefined;
    const target = commitCut ? await this.quietLeader() : await this.busyLeader();
    // No known group, or a group of one (factor 1, or hybrid with one server a region): the
    // leader is cut from every other server instead (there is no rest of the group to elect).
    const stranded = this.strandFromGroup(target, 2);
    if (stranded === undefined) return this.isolateFromAll(target);
    const { shard, cut, slowBy } = stranded;
    const fresh = await this.newLeader(shard.shard, target.server);
    // In sim, the stale leader is then brought a commit of a transaction it never saw, as on
    // NATS: at the moment a coordinator decides the commit of a transaction at this shard (its
    // commit record written, its commit messages not sent yet), that coordinator is cut off
    // from the shard's other replicas, the new leader that voted among them, both ways (one
    // way, the new leader's questions about the outcome would keep it in the coordinator's
    // view). The coordinator's commit and its retries are lost until, the replica it believes
    // leads silent, it turns to the next ones and reaches the stranded leader, which must not
    // acknowledge a commit its log does not hold.
    const atCommit = fresh !== undefined && commitCut && !this.cluster.isStopped ? await this.cutAtCommit(shard.shard, target.server) : undefined;
    let then: string;
    if (atCommit === undefined) {
      const holdMs = 50 + this.rng.int(300);
      if (!this.cluster.isStopped) await this.cluster.sleep(holdMs);
      then = `then ${holdMs} ms`;
    } else then = atCommit;
    if (slowBy > 1 && !this.cluster.isStopped) this.cluster.slowTimers!(target.server, 1);
    if (!this.cluster.isStopped) await cut.undo();
    return {
      detail: `${cut.detail}${target.note}${slowBy > 1 ? `, its timers ${slowBy}x slower` : ''}, ${fresh === undefined ? 'no new leader' : `until ${fresh} led`}, ${then}`,
      undo: async () => undefined,
    };
  }

  /**
   * strand-leader's and leader-duel's first step: cut `target` (a leader) off from its shard's
   * other replicas, both ways, and slow its timers (sim), as a starved process's are: its
   * quorum check comes late, so it goes on leading in its own view while the rest elect a new
   * leader, and the coordinators and clients (not cut off) may still reach it. Real-time NATS
   * runs met such a stale leader, which acknowledged a commit its log never held
   * (test/bug-stale-leader-ack.part.ts). Undefined (nothing done) when its shard is not known
   * or has fewer than `minReplicas` replicas. The caller restores the timers (slowBy > 1) and
   * undoes the cut.
   */
  private strandFromGroup(
    target: { server: string; shard?: number },
    minReplicas: number,
  ): { shard: ShardView; cut: { detail: string; undo: () => Promise<void> }; slowBy: number } | undefined {
    const c = this.cluster;
    const shard = (c.shardLeaders?.() ?? []).find((s) => s.shard === target.shard && s.leader === target.server);
    if (shard === undefined || shard.replicas.length < minReplicas) return undefined;
    const cut = this.cut({ a: [target.server], b: shard.replicas.filter((r) => r !== target.server), oneWay: false });
    const slowBy = c.slowTimers === undefined || c.transport !== 'sim' ? 1 : NEMESIS_SLOW_MIN + this.rng.int(NEMESIS_SLOW_MAX - NEMESIS_SLOW_MIN + 1);
    if (slowBy > 1) c.slowTimers!(target.server, slowBy);
    return { shard, cut, slowBy };
  }

  /** `target` cut off from every other server until the fault ends (isolate-leader; a leader fault with no group to aim at). */
  private isolateFromAll(target: { server: string; note: string }): { detail: string; undo: () => Promise<void> } {
    const cut = this.cut({ a: [target.server], b: this.servers.filter((s) => s !== target.server), oneWay: false });
    return { detail: `${cut.detail}${target.note}`, undo: cut.undo };
  }

  /** The first leader of `shard` other than `old` (polled every NEMESIS_HANDOVER_POLL_MS), or undefined after NEMESIS_HANDOVER_WAIT_MS. */
  private async newLeader(shard: number, old: string): Promise<string | undefined> {
    const deadline = this.cluster.now() + NEMESIS_HANDOVER_WAIT_MS;
    let fresh: string | undefined;
    if (!this.cluster.isStopped && this.cluster.now() < deadline)
      await pollEvery(this.cluster, NEMESIS_HANDOVER_POLL_MS, () => {
        const leader = this.shardNow(shard)?.leader;
        if (leader !== undefined && leader !== old) fresh = leader;
        return fresh !== undefined || this.cluster.isStopped || this.cluster.now() >= deadline;
      });
    return fresh;
  }

  /** See 'leader-duel' above. Carried out inline: when it returns, everything is healed. */
  private async duel(): Promise<{ detail: string; undo: () => Promise<void> }> {
    const c = this.cluster;
    const target = await this.quietLeader();
    const old = target.server;
    const stranded = this.strandFromGroup(target, 3);
    if (stranded === undefined) return this.isolateFromAll(target);
    const { shard, cut: strand, slowBy } = stranded;
    const parts: string[] = [`${strand.detail}${target.note}${slowBy > 1 ? `, its timers ${slowBy}x slower` : ''}`];
    const fresh = await this.newLeader(shard.shard, old);
    let muted: { detail: string; undo: () => Promise<void> } | undefined;
    let crashed: string | undefined;
    if (fresh === undefined) parts.push('no new leader');
    else {
      // Its first slot in flight: its accepts are on their way (a cut drops only what is sent
      // after it), and what it sends next (the slot chosen, in commits, heartbeats and later
      // accepts) never reaches the others.
      const rest = shard.replicas.filter((r) => r !== old && r !== fresh);
      let deadline = c.now() + NEMESIS_DUEL_INFLIGHT_WAIT_MS;
      // True once waiting is over: the leader changed, or its slot is in flight and it is muted.
      const inflight = (): boolean => {
        const now = this.shardNow(shard.shard);
        if (now?.leader !== fresh) return true;
        if (now.inflight > 0) muted = this.cut({ a: [fresh], b: rest, oneWay: true });
        return muted !== undefined;
      };
      if (!c.isStopped && c.now() < deadline && !inflight())
        await pollEvery(c, NEMESIS_HANDOVER_POLL_MS, () => c.isStopped || c.now() >= deadline || inflight());
      if (muted === undefined) parts.push(`${fresh} led, no slot in flight`);
      else {
        const at = c.now();
        const committed = this.shardNow(shard.shard)?.commitIndex;
        deadline = at + NEMESIS_DUEL_CHOSEN_WAIT_MS;
        if (!c.isStopped && c.now() < deadline)
          await pollEvery(c, NEMESIS_HANDOVER_POLL_MS, () => {
            const now = this.shardNow(shard.shard);
            if (now?.leader !== fresh || now.inflight === 0) return true;
            if (committed !== undefined && now.commitIndex !== undefined && now.commitIndex > committed) return true;
            return c.isStopped || c.now() >= deadline;
          });
        if (!c.isStopped && this.down.size < this.plan.crashMax) {
          crashed = fresh;
          this.down.add(fresh);
          await c.crash(fresh);
        }
        parts.push(`${fresh} led, then ${muted.detail}, ${crashed === undefined ? 'not crashed' : 'crashed'} ${Math.round(c.now() - at)} ms later`);
      }
    }
    if (slowBy > 1 && !c.isStopped) c.slowTimers!(old, 1);
    if (muted !== undefined && !c.isStopped) await muted.undo();
    if (!c.isStopped) await strand.undo();
    if (crashed !== undefined) {
      const downMs = NEMESIS_DUEL_DOWN_MS_MIN + this.rng.int(NEMESIS_DUEL_DOWN_MS_MAX - NEMESIS_DUEL_DOWN_MS_MIN + 1);
      if (!c.isStopped) await c.sleep(downMs);
      this.down.delete(crashed);
      if (!c.isStopped) await c.restart(crashed);
      parts.push(`restarted ${downMs} ms after the heal`);
    }
    return { detail: parts.join(', '), undo: async () => undefined };
  }

  /**
   * strand-leader's commit cut (sim): arm every live coordinator's `atNextCommit` for `shard`;
   * at the first commit decision there, cut that coordinator off from the shard's replicas but
   * `stale` (both ways), for NEMESIS_STRAND_COMMIT_HOLD_MS_MIN to _MAX ms, then heal that cut.
   * Without a commit within NEMESIS_STRAND_COMMIT_WAIT_MS, nothing is cut (the wait was the
   * hold). Says what happened.
   */
  private async cutAtCommit(shard: number, stale: string): Promise<string> {
    const c = this.cluster;
    const group = this.shardNow(shard)?.replicas ?? [];
    const others = group.filter((r) => r !== stale);
    const started = c.now();
    if (others.length === 0) return 'no other replica';
    const at: { txn?: string; ms?: number; cut?: { detail: string; undo: () => Promise<void> } } = {};
    const armed: string[] = [];
    for (const coordinator of this.coordinators) {
      const armedHere = c.atNextCommit!(coordinator, shard, (txn) => {
        if (at.cut !== undefined) return;
        at.txn = txn;
        at.ms = Math.round(c.now() - started);
        at.cut = this.cut({ a: [coordinator], b: others, oneWay: false });
      });
      if (armedHere) armed.push(coordinator);
    }
    const deadline = started + NEMESIS_STRAND_COMMIT_WAIT_MS;
    if (at.cut === undefined && !c.isStopped && c.now() < deadline)
      await pollEvery(c, NEMESIS_HANDOVER_POLL_MS, () => at.cut !== undefined || c.isStopped || c.now() >= deadline);
    for (const coordinator of armed) if (!c.isStopped && c.isDown?.(coordinator) !== true) c.atNextCommit!(coordinator, shard, undefined);
    if (at.cut === undefined) return `no commit at shard ${shard} within ${Math.round(c.now() - started)} ms`;
    const holdMs = NEMESIS_STRAND_COMMIT_HOLD_MS_MIN + this.rng.int(NEMESIS_STRAND_COMMIT_HOLD_MS_MAX - NEMESIS_STRAND_COMMIT_HOLD_MS_MIN + 1);
    if (!c.isStopped) await c.sleep(holdMs);
    if (!c.isStopped) await at.cut.undo();
    return `then at a commit decision of ${at.txn!} ${at.ms!} ms later ${at.cut.detail} for ${holdMs} ms`;
  }

  /** A coordinator with transactions open, waited for a few ms at a time, briefly; else a random one. */
  private async busyCoordinator(): Promise<{ victim: string; note: string }> {
    const all = this.coordinators;
    const open = this.cluster.transport === 'sim' ? this.cluster.openTransactions?.bind(this.cluster) : undefined;
    if (open === undefined) return { victim: this.rng.pick(all), note: '' };
    for (let i = 0; i <= NEMESIS_BUSY_WAITS && !this.cluster.isStopped; i++) {
      if (i > 0) await this.cluster.sleep(NEMESIS_BUSY_WAIT_MS);
      const busy = all.filter((id) => open(id) > 0);
      if (busy.length > 0) {
        const victim = this.rng.pick(busy);
        return { victim, note: ` (${open(victim)} open)` };
      }
    }
    return { victim: this.rng.pick(all), note: ' (none open)' };
  }

  /** See 'log-hole' above: over by the time it returns (nothing to undo). */
  private async hole(): Promise<{ detail: string; undo: () => Promise<void> }> {
    const c = this.cluster;
    const target = await this.busyLeader();
    const leader = target.server;
    const shard = (c.shardLeaders?.() ?? []).find((s) => s.leader === leader && (target.shard === undefined || s.shard === target.shard));
    const rest = shard?.replicas.filter((r) => r !== leader && !this.down.has(r)) ?? [];
    if (shard === undefined || shard.replicas.length < 3 || rest.length === 0) return this.crashServer(leader, false, target.note);
    const slowBy = c.slowTimers === undefined ? 1 : NEMESIS_SLOW_MIN + this.rng.int(NEMESIS_SLOW_MAX - NEMESIS_SLOW_MIN + 1);
    if (slowBy > 1) c.slowTimers!(leader, slowBy);
    const muteMs = NEMESIS_HOLE_MUTE_MS_MIN + this.rng.int(NEMESIS_HOLE_MUTE_MS_MAX - NEMESIS_HOLE_MUTE_MS_MIN + 1);
    const afterMs = NEMESIS_HOLE_AFTER_MS_MIN + this.rng.int(NEMESIS_HOLE_AFTER_MS_MAX - NEMESIS_HOLE_AFTER_MS_MIN + 1);
    const muted = this.cut({ a: [leader], b: rest, oneWay: true });
    await c.sleep(muteMs);
    if (!c.isStopped) await muted.undo();
    if (!c.isStopped) await c.sleep(afterMs);
    if (slowBy > 1 && !c.isStopped) c.slowTimers!(leader, 1);
    this.down.add(leader);
    if (!c.isStopped) await c.crash(leader);
    const downMs = NEMESIS_DUEL_DOWN_MS_MIN + this.rng.int(NEMESIS_DUEL_DOWN_MS_MAX - NEMESIS_DUEL_DOWN_MS_MIN + 1);
    if (!c.isStopped) await c.sleep(downMs);
    this.down.delete(leader);
    if (!c.isStopped) await c.restart(leader);
    return {
      detail: `${muted.detail}${target.note} for ${muteMs} ms, its timers ${slowBy}x slower; crashed ${afterMs} ms after, restarted ${downMs} ms later`,
      undo: async () => undefined,
    };
  }

  /** See 'lost-accepts' above: over by the time it returns (nothing to undo). */
  private async lostAccepts(): Promise<{ detail: string; undo: () => Promise<void> }> {
    const c = this.cluster;
    const target = await this.busyLeader();
    const leader = target.server;
    const slowBy = c.slowTimers === undefined ? 1 : NEMESIS_SLOW_MIN + this.rng.int(NEMESIS_SLOW_MAX - NEMESIS_SLOW_MIN + 1);
    const lostMs = NEMESIS_ACCEPTS_LOST_MS_MIN + this.rng.int(NEMESIS_ACCEPTS_LOST_MS_MAX - NEMESIS_ACCEPTS_LOST_MS_MIN + 1);
    const downMs = NEMESIS_DUEL_DOWN_MS_MIN + this.rng.int(NEMESIS_DUEL_DOWN_MS_MAX - NEMESIS_DUEL_DOWN_MS_MIN + 1);
    if (slowBy > 1) c.slowTimers!(leader, slowBy);
    c.loseAccepts!(leader, true);
    this.down.add(leader);
    try {
      if (!c.isStopped) await c.sleep(lostMs);
      if (!c.isStopped) await c.crash(leader);
    } finally {
      // Down (or the run over): it sends nothing, and restarts sending all.
      if (!c.isStopped) {
        c.loseAccepts!(leader, false);
        if (slowBy > 1) c.slowTimers!(leader, 1);
      }
    }
    if (!c.isStopped) await c.sleep(downMs);
    this.down.delete(leader);
    if (!c.isStopped) await c.restart(leader);
    return {
      detail: `${leader}${target.note}: its accepts lost for ${lostMs} ms, its timers ${slowBy}x slower; crashed, restarted ${downMs} ms later`,
      undo: async () => undefined,
    };
  }

  /** See 'lost-commits' above: over by the time it returns (nothing to undo). */
  private async lostCommits(): Promise<{ detail: string; undo: () => Promise<void> }> {
    const c = this.cluster;
    const target = await this.busyLeader(true);
    const old = target.server;
    const shard = (c.shardLeaders?.() ?? []).find((s) => s.leader === old && (target.shard === undefined || s.shard === target.shard));
    const rest = shard?.replicas.filter((r) => r !== old && !this.down.has(r)) ?? [];
    // A successor needs a majority without the old leader.
    if (shard === undefined || shard.replicas.length < 3 || rest.length < shard.replicas.length - 1) return this.crashServer(old, false, target.note);
    const muteMs = NEMESIS_COMMITS_MUTE_MS_MIN + this.rng.int(NEMESIS_COMMITS_MUTE_MS_MAX - NEMESIS_COMMITS_MUTE_MS_MIN + 1);
    const lostMs = NEMESIS_SUCCESSOR_LOST_MS_MIN + this.rng.int(NEMESIS_SUCCESSOR_LOST_MS_MAX - NEMESIS_SUCCESSOR_LOST_MS_MIN + 1);
    const downMs = NEMESIS_DUEL_DOWN_MS_MIN + this.rng.int(NEMESIS_DUEL_DOWN_MS_MAX - NEMESIS_DUEL_DOWN_MS_MIN + 1);
    const muted = this.cut({ a: [old], b: rest, oneWay: true });
    this.down.add(old);
    let fresh: string | undefined;
    try {
      if (!c.isStopped) await c.sleep(muteMs);
    } finally {
      // Healed first, at the same instant: the runtime's crash notice reaches the peers (a
      // peer that holds the old leader alive passes requests to it, and they are lost).
      if (!c.isStopped) await muted.undo();
    }
    if (!c.isStopped) await c.crash(old);
    // Whichever replica leads next, the accepts it sends on its election are lost too.
    if (!c.isStopped) for (const r of rest) c.loseAccepts!(r, true);
    try {
      if (!c.isStopped) fresh = await this.newLeader(shard.shard, old);
      if (fresh !== undefined && !c.isStopped) await c.sleep(lostMs);
    } finally {
      if (!c.isStopped) for (const r of rest) c.loseAccepts!(r, false);
    }
    if (!c.isStopped) await c.sleep(downMs);
    this.down.delete(old);
    if (!c.isStopped) await c.restart(old);
    return {
      detail: `${muted.detail}${target.note} for ${muteMs} ms, then crashed; ${
        fresh === undefined ? 'no new leader' : `its successor ${fresh}'s accepts lost for ${lostMs} ms`
      }; restarted ${downMs} ms later`,
      undo: async () => undefined,
    };
  }

  /** See 'late-copies' above: over by the time it returns (nothing to undo). */
  private async lateCopies(): Promise<{ detail: string; undo: () => Promise<void> }> {
    const serverFree = this.down.size < this.plan.crashMax && this.down.size < this.servers.length;
    const coordinator = this.coordinatorDown === undefined && this.coordinators.length > 0 && (!serverFree || this.rng.chance(0.5));
    const lateMs = NEMESIS_LATE_COPY_MS_MIN + this.rng.int(NEMESIS_LATE_COPY_MS_MAX - NEMESIS_LATE_COPY_MS_MIN + 1);
    const downMs = NEMESIS_LATE_COPY_DOWN_MS_MIN + this.rng.int(NEMESIS_LATE_COPY_DOWN_MS_MAX - NEMESIS_LATE_COPY_DOWN_MS_MIN + 1);
    let victim: string;
    let note: string;
    if (coordinator) {
      ({ victim, note } = await this.busyCoordinator());
      this.coordinatorDown = victim;
    } else {
      ({ server: victim, note } = await this.busyLeader());
      this.down.add(victim);
    }
    const windowMs = NEMESIS_LATE_COPY_WINDOW_MS_MIN + this.rng.int(NEMESIS_LATE_COPY_WINDOW_MS_MAX - NEMESIS_LATE_COPY_WINDOW_MS_MIN + 1);
    this.track(this.cluster.setNetwork({ duplicate: 1, duplicateDelayMs: lateMs }));
    let torn: Awaited<ReturnType<typeof crashAfterWrite>>;
    try {
      await this.cluster.sleep(windowMs);
      torn = this.cluster.isStopped ? 'stopped' : await crashAfterWrite(this.cluster, victim);
    } finally {
      // The copies already sent keep their delays; what is sent from now on is as before.
      this.track(this.cluster.setNetwork({ duplicate: this.baseline.duplicate ?? 0, duplicateDelayMs: this.baseline.duplicateDelayMs ?? 0 }));
    }
    if (torn !== 'stopped') {
      await this.cluster.sleep(downMs);
      await this.cluster.restart(victim);
    }
    if (coordinator) this.coordinatorDown = undefined;
    else this.down.delete(victim);
    const how = typeof torn === 'number' ? `crashed after a write ${torn} ms later` : torn === 'no-write' ? 'no write: crashed' : 'crashed';
    return {
      detail: `${victim}${note}, every message copied up to ${lateMs} ms late for ${windowMs} ms; ${how}, restarted ${downMs} ms later`,
      undo: async () => {},
    };
  }

  /** `coordinatorDown` is `victim` until the returned undo restarts it. */
  private coordinatorGoesDown(victim: string): () => Promise<void> {
    this.coordinatorDown = victim;
    return async () => {
      this.coordinatorDown = undefined;
      await this.cluster.restart(victim);
    };
  }

  /** See 'checkpoint-crash' above. */
  private async checkpointCrash(): Promise<{ detail: string; undo: () => Promise<void> }> {
    const c = this.cluster;
    // A quarter of the time a coordinator with transactions open, whose log checkpoints too.
    if (this.coordinatorDown === undefined && c.openTransactions !== undefined && this.rng.chance(0.25)) {
      const open = this.coordinators.filter((id) => c.openTransactions!(id) > 0);
      if (open.length > 0) {
        const victim = this.rng.pick(open);
        const how = await this.checkpointThenWait(victim);
        const powerLoss = this.rng.chance(0.5);
        const undo = this.coordinatorGoesDown(victim);
        await c.crash(victim, powerLoss ? { powerLoss: true } : {});
        return { detail: `${victim} (${how}${powerLoss ? ', power loss' : ''})`, undo };
      }
    }
    const target = await this.busyLeader();
    const how = await this.checkpointThenWait(target.server);
    const powerLoss = this.rng.chance(0.5);
    return this.crashServer(target.server, powerLoss, `${target.note} (${how}${powerLoss ? ', power loss' : ''})`);
  }

  /** Ask `victim` for a checkpoint, wait for it (briefly), then NEMESIS_CHECKPOINT_CRASH_MS_MIN to _MAX ms; says what happened. */
  private async checkpointThenWait(victim: string): Promise<string> {
    const c = this.cluster;
    const r = await this.checkpointsTaken([victim], 'write', NEMESIS_BUSY_WAIT_MS, NEMESIS_CHECKPOINT_WAITS);
    const afterMs = NEMESIS_CHECKPOINT_CRASH_MS_MIN + this.rng.int(NEMESIS_CHECKPOINT_CRASH_MS_MAX - NEMESIS_CHECKPOINT_CRASH_MS_MIN + 1);
    if (!c.isStopped) await c.sleep(afterMs);
    return r !== undefined && r.taken === 1 ? `checkpoint within ${r.waits * NEMESIS_BUSY_WAIT_MS} ms, crash ${afterMs} ms later` : 'no checkpoint yet';
  }

  /**
   * Ask each of `ids` for a checkpoint (`requestCheckpoint`'s `at`) and poll every `pollMs`, at
   * most `polls` times, until every one asked has written it: how many did, and the polls
   * waited; undefined when the cluster stopped meanwhile.
   */
  private async checkpointsTaken(
    ids: readonly string[],
    at: 'write' | 'step',
    pollMs: number,
    polls: number,
  ): Promise<{ taken: number; waits: number } | undefined> {
    const c = this.cluster;
    const before = ids.map((id) => c.checkpointsOf!(id));
    const asked = ids.map((id) => c.requestCheckpoint!(id, { at }));
    let waits = 0;
    const waiting = (): boolean => waits < polls && !c.isStopped && ids.some((id, i) => asked[i] && c.checkpointsOf!(id) === before[i]);
    if (waiting())
      await pollEvery(c, pollMs, () => {
        waits++;
        return !waiting();
      });
    if (c.isStopped) return undefined;
    return { taken: ids.filter((id, i) => asked[i] && c.checkpointsOf!(id) > before[i]!).length, waits };
  }

  /** One shard as the cluster reports it now (one shard read when the target can, else all). */
  private shardNow(shard: number): ShardView | undefined {
    if (this.cluster.shardLeader !== undefined) return this.cluster.shardLeader(shard);
    return this.cluster.shardLeaders!().find((x) => x.shard === shard);
  }

  /**
   * Keep a network change's promise for `settled()`, which rejects with what it rejects with. One
   * that nothing awaits (a `heal()` made while a step is under way forgets the changes it
   * supersedes) is not an unhandled rejection: before, one that rejected later (a host that did
   * not answer it in time) ended the process on Node 20 (noticed by a helper, session 69).
   */
  private track(change: void | Promise<void>): void {
    if (change === undefined) return;
    Promise.resolve(change).catch(() => {});
    this.unsettled.push(change);
  }

  /** Every tracked network change applied on every host. */
  private async settled(): Promise<void> {
    while (this.unsettled.length > 0) await Promise.all(this.unsettled.splice(0));
  }

  private cut(cut: PartitionCut): { detail: string; undo: () => Promise<void> } {
    this.cuts.push(cut);
    this.track(this.cluster.partition(cut.a, cut.b, { oneWay: cut.oneWay }));
    return {
      detail: `${cut.a.join(' ')} ${cut.oneWay ? '->' : '|'} ${cut.b.join(' ')}`,
      undo: async () => {
        // Partitions only add up in the cluster, so ending one means healing and re-cutting the rest.
        this.cuts = this.cuts.filter((c) => c !== cut);
        this.track(this.cluster.heal());
        for (const c of this.cuts) this.track(this.cluster.partition(c.a, c.b, { oneWay: c.oneWay }));
      },
    };
  }

  private randomSplit(): [string[], string[]] {
    const shuffled = this.rng.shuffle(this.servers);
    const at = 1 + this.rng.int(shuffled.length - 1);
    return [shuffled.slice(0, at), shuffled.slice(at)];
  }

  /** One region when regions are at least three (so it is a minority), else a random minority of servers. */
  private minoritySplit(): [string[], string[]] {
    if (this.regions.length >= 3 && this.rng.chance(0.5)) {
      const region = this.rng.pick(this.regions);
      return [[region], this.regions.filter((r) => r !== region)];
    }
    const shuffled = this.rng.shuffle(this.servers);
    const minority = 1 + this.rng.int(Math.ceil(shuffled.length / 2) - 1);
    return [shuffled.slice(0, minority), shuffled.slice(minority)];
  }

  private rate(field: 'loss', value: number): { detail: string; undo: () => Promise<void> } {
    this.track(this.cluster.setNetwork({ [field]: value }));
    return {
      detail: value.toFixed(3),
      undo: async () => {
        this.track(this.cluster.setNetwork({ [field]: this.baseline[field] ?? 0 }));
      },
    };
  }

  /**
   * Duplication raised to the plan's rate, each copy up to `spikeMs` later than it would come
   * otherwise (network duplicateDelayMs; at least the baseline's): a retransmission after a
   * timeout, which lands after later messages, not a twin in the same instant. A store that
   * applies a duplicate twice was caught in 8 of 100 seeds of the default check with copies on
   * time, 22 of 100 with copies up to 300 ms late (2026-12-01, the dedup of both the balancer
   * and the state machine removed in a scratch build).
   */
  private duplicates(): { detail: string; undo: () => Promise<void> } {
    const lateMs = Math.max(this.baseline.duplicateDelayMs ?? 0, this.plan.spikeMs);
    this.track(this.cluster.setNetwork({ duplicate: this.plan.duplicateRate, duplicateDelayMs: lateMs }));
    return {
      detail: `${this.plan.duplicateRate.toFixed(3)}, copies up to ${lateMs.toFixed(0)} ms late`,
      undo: async () => {
        this.track(this.cluster.setNetwork({ duplicate: this.baseline.duplicate ?? 0, duplicateDelayMs: this.baseline.duplicateDelayMs ?? 0 }));
      },
    };
  }

  private spike(): { detail: string; undo: () => Promise<void> } {
    const extraMs = this.plan.spikeMs;
    if (this.regions.length >= 2 && this.rng.chance(0.5)) {
      const region = this.rng.pick(this.regions);
      const spiked: Record<string, number> = {};
      for (const other of this.regions) {
        if (other === region) continue;
        const key = `${region}~${other}`;
        spiked[key] = this.baseLatency(region, other) + extraMs;
        this.touchedPairs.add(key);
      }
      this.track(this.cluster.setNetwork({ latencyMs: spiked }));
      return {
        detail: `${region} +${extraMs.toFixed(0)} ms`,
        undo: async () => {
          const restored: Record<string, number> = {};
          for (const key of Object.keys(spiked)) {
            const [a, b] = key.split('~') as [string, string];
            restored[key] = this.baseLatency(a, b);
          }
          this.track(this.cluster.setNetwork({ latencyMs: restored }));
        },
      };
    }
    const server = this.rng.pick(this.servers);
    this.touchedNodes.add(server);
    this.track(this.cluster.setNetwork({ nodeDelayMs: { [server]: (this.baseline.nodeDelayMs?.[server] ?? 0) + extraMs } }));
    return {
      detail: `${server} +${extraMs.toFixed(0)} ms`,
      undo: async () => {
        this.track(this.cluster.setNetwork({ nodeDelayMs: { [server]: this.baseline.nodeDelayMs?.[server] ?? 0 } }));
      },
    };
  }

  private baseLatency(a: string, b: string): number {
    const table = this.baseline.latencyMs ?? {};
    return table[`${a}~${b}`] ?? table[`${b}~${a}`] ?? this.baseline.defaultLatencyMs ?? 0;
  }

  private restoredNetwork(): NetworkConfig {
    const latencyMs: Record<string, number> = {};
    for (const key of this.touchedPairs) {
      const [a, b] = key.split('~') as [string, string];
      latencyMs[key] = this.baseLatency(a, b);
    }
    const nodeDelayMs: Record<string, number> = {};
    for (const node of this.touchedNodes) nodeDelayMs[node] = this.baseline.nodeDelayMs?.[node] ?? 0;
    const out: NetworkConfig = {
      loss: this.baseline.loss ?? 0,
      duplicate: this.baseline.duplicate ?? 0,
      duplicateDelayMs: this.baseline.duplicateDelayMs ?? 0,
    };
    if (this.jitterTouched) out.jitterMs = this.baseline.jitterMs ?? 0;
    if (this.touchedPairs.size > 0) out.latencyMs = latencyMs;
    if (this.touchedNodes.size > 0) out.nodeDelayMs = nodeDelayMs;
    return out;
  }

  private record(kind: FaultKind | 'heal', action: FaultEvent['action'], detail: string, atMs = this.cluster.now()): void {
    if (this.log.length >= NEMESIS_LOG_MAX) {
      this.dropped++;
      return;
    }
    this.log.push({ atMs: atMs - this.t0, kind, action, detail });
  }
}
