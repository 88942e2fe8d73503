import type { MemoryLimits } from '../core/limits.js';
import type { ActorContext, Behavior, UndeliverableMessage } from '../runtime/actor.js';
import { FifoOrder } from '../core/fifo-order.js';
import { paxosMessageBytes, type MultiPaxosMessage, type MultiPaxosRecord } from '../protocols/multipaxos.js';
import { encodedBytes } from '../protocols/snapshot-pieces.js';
import type { CommitProtocolName } from '../protocols/commit.js';
import { GroupReplica, type GroupOutput, type Origin } from '../replication/group.js';
import type { RequestBody } from '../replication/ops.js';
import { LearnerFeed, LearnerReplica } from '../replication/learner.js';
import type { LearnMessage, ShardPaxosBatchWire, ShardPaxosWire } from '../replication/messages.js';
import { ShardLogs, type ShardRecord } from '../replication/shard-log.js';
import type { UnsafeVariant } from './config.js';
import type { DownMembers, ErrorCodeWire, Load, LoadReport, NotServing, Probe, ProbeAck, Req, Res, ResOk, ServerInbound } from './messages.js';
import { newPart, type Lives, type PartsTaken } from './lives.js';
import { ForwardedRequests, LOAD_REFRESH_REPORTS, Reach, ServerLoad } from './server-load.js';
import type { TxnUnsafe } from '../replication/ops.js';
import { Participants, type ParticipantEffect } from '../replication/participant.js';
import { checkedTick, checkedTicks, LAZY_TICKS_MAX, TickClock, TICKS_MODE } from './tick-clock.js';
import { NodeNotices } from './notices.js';
import { onlyReads, readTooLarge, unknownBody } from './too-large.js';
import { refusingStandIn, type NotServingState } from './stand-in.js';
import {
  coordinatorAddress,
  groupOf,
  shardOf,
  groupShardsOf,
  heartbeatAddress,
  learnersOf,
  learnerShardsOf,
  regionOfServer,
  type Topology,
} from './topology.js';
import { LAG_COUNTER_PREFIX } from '../metrics/cluster-metrics.js';

/** A forwarded request may travel this many hops between servers before it is failed. */
export const FORWARD_HOPS_MAX = 4;
/**
 * A read this server passed on, whose peer then crashed or went silent (its region holds it
 * down), is sent again to another copy this many times at most (see failForwarded; counted as
 * `reads-rerouted`): with three copies, to each once.
 */
export const READ_REROUTES_MAX = 2;
/**
 * Only a read passed on at most this long before its peer went is sent again (failForwarded);
 * an older one is refused as before. The server cannot tell which reads its peers answered
 * already (answers go straight to the caller, which drops a second one), and it tracks up to
 * FORWARDED_TRACKED_MAX of the last 10 s: sending all of them again would be a burst of reads
 * on the other copies just as one fails. A read the peer has not answered in this long was
 * stuck there before it went silent, and is as well refused (definite).
 */
export const READ_REROUTE_WITHIN_MS = 2_000;
/** Ticks a request may wait at a replica that knows no leader before it is refused. */
export const HOLD_TICKS_MAX = 100;
/** Requests held waiting for a leader, per shard. */
export const HELD_PER_SHARD_MAX = 10_000;

export interface ReplicationParams {
  mode: 'none' | 'passive' | 'active' | 'hybrid';
  sync: boolean;
  lagBound: number;
  batch: number;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  maxInflight: number;
  snapshotEvery: number;
  /**
   * A snapshot whose encoding is over twice this many bytes goes to a lagging replica or
   * learner in pieces of this many (see MultiPaxosConfig.snapshotPieceBytes); unset: whole.
   */
  snapshotPieceBytes?: number;
  /** The host's largest message: a step's Paxos messages to one peer go in wires under it (see PaxosOut); unset: one wire per peer. */
  messageBytesMax?: number;
  /** Records appended between checkpoints of the durable log (see ShardLogs). */
  checkpointEvery: number;
  /** Multi-Paxos pre-vote (see MultiPaxosConfig.preVote). */
  preVote: boolean;
  /** Testing only: deliberately broken variants that the checker must catch. */
  unsafe?: UnsafeVariant;
}

export interface ServerParams {
  id: string;
  region: string;
  topology: Topology;
  replication: ReplicationParams;
  commit: CommitProtocolName;
  /** Testing only: a deliberately broken transaction layer (see TxnUnsafe). */
  txnUnsafe?: TxnUnsafe;
  /** The state machines' memory bounds (ClusterConfig.limits; default MEMORY_LIMITS_DEFAULT). */
  limits?: Readonly<MemoryLimits>;
  /** How often the server tells its heartbeat actor its load (on its tick grid: every this many ms rounded to whole ticks, at least one). */
  loadIntervalMs: number;
  /**
   * A node this server probes and has never heard from (since it started, or since the node's
   * last crash or restart notice) counts as down once its first probe has gone unanswered this
   * long (ms): the local reads of a shard whose every copy is down or so are refused. The
   * region actors' detection time for a server that never beats (firstSilenceMs of the
   * heartbeat config): a server that restarted while a shard's copies were down never got
   * their crash notices.
   */
  unheardDownMs: number;
}

interface Held {
  req: Req;
  origin: Origin;
  ticks: number;
}

export interface ServerState {
  params: ServerParams;
  groups: Map<number, GroupReplica>;
  /** The groups' shards, the groups and their learner feeds, in the same order (fixed at init): the hot loops' lists, no Map iteration. */
  shardList: number[];
  groupList: GroupReplica[];
  feedList: Array<LearnerFeed | undefined>;
  learners: Map<number, LearnerReplica>;
  feeds: Map<number, LearnerFeed>;
  held: Map<number, Held[]>;
  participants: Participants;
  /** Requests served, in flight, their latency: the figures of load reports. */
  load: ServerLoad;
  /** Shards whose group has work to carry out at the next flush. */
  dirty: DirtyShards;
  sinceFlush: number;
  flushTimer: boolean;
  /** Nodes the runtime reported dead (refused connections): not forwarded to. */
  downNodes: Set<string>;
  /**
   * When each node in `downNodes` was reported dead. Like every time this server keeps (probe
   * stamps, Reach, memberDown, latencies), on its host's monotonic clock (ctx.monotonicNow): it
   * orders a probe's answer against the notice and times a proof of life, and ctx.now(), which
   * a clock-skew fault jumps 2 s, let a dead node's late message take it back up (a class audit,
   * session 67: test/counter-audit.part.ts).
   */
  downSince: Map<string, number>;
  /** When this server last probed each node in `downNodes` (see probeDown). */
  probedAt: Map<string, number>;
  /** The runtime's notices seen, to drop late ones (see NodeNotices). */
  notices: NodeNotices;
  /**
   * The servers of this region its region actor's membership holds down (silent: paused, cut
   * off, or crashed without a notice here yet), each until when (see downSince's clock): passed
   * over when a request is passed on (see otherMember, DownMembers).
   */
  memberDown: Map<string, number>;
  /** The region actor's lives, to drop a copy or an overtaken DownMembers notice. */
  regionLives: Map<string, Lives>;
  /** The parts taken of the region actor's newest DownMembers notice in parts (see onDownMembers). */
  downParts: Map<string, PartsTaken>;
  /** Requests passed on to another server, until they age out. */
  forwarded: ForwardedRequests;
  /** Round trips of probes to the nodes this server forwards to: which of them are slow (see Reach). */
  reach: Reach;
  /** Whether the reprobe timer is set (see onReprobeTimer). */
  reprobeTimer: boolean;
  /**
   * Transaction requests passed to a coordinator lately, by the client's request id (`rq`),
   * with the coordinator: a copy the network duplicated goes to the same coordinator (which
   * runs a request id once), never to another one (see handleRequest).
   */
  txnCoordinators: Map<string, string>;
  txnOrder: FifoOrder<string>;
  /** What a restart needs of each shard's log (see ShardLog); the checkpoint is built from it. */
  log: ShardLogs;
  /** Each shard's group, nearest first (this region's members, then the rest, in group order). */
  nearest: Map<number, string[]>;
  /** The tick grid: ticks that only count are counted when the next message comes (see tick-clock.ts). */
  ticks: TickClock;
  /** Ticks until the next one that does more than count, as of the end of the last step (checked in eager mode). */
  due: number;
  /**
   * The last step left its due tick for the next message to work out (more were waiting), so
   * the tick timer may be set later than a tick that step made due (a group it made leader
   * heartbeats at the next tick of the grid). See receive.
   */
  dueLeft: boolean;
  /**
   * The groups' Paxos messages of this step, by destination (shards and their messages, in order):
   * sent at the end of the step (and of each tick), one wire message per peer, more if they are too large together (see PaxosOut).
   */
  paxosOut: PaxosOut;
  /** The load last reported to the heartbeat actor (it keeps it): a report the same as it is not sent, but every LOAD_REFRESH_REPORTS. */
  loadSent: Load | undefined;
  /** Reports in a row not sent, the same as `loadSent` (see LOAD_REFRESH_REPORTS). */
  loadUnsent: number;
  /** Ticks until the next load report (a tick's work: the load timer rides on the tick timer). */
  loadIn: number;
  /** What ticksUntilDue knows of the groups' and participants' due ticks (see DueCache). */
  dueCache: DueCache;
}

/** Messages handled before pending group work is carried out even with more waiting. */
export const FLUSH_EVERY_MESSAGES = 64;
/** How long a busy leader lets commands gather before cutting a slot. */
export const FLUSH_DELAY_MS = 0;

/**
 * A message from a node reported dead proves it alive again only this long after the report:
 * earlier, it may have been sent before the crash (the restart notice says so at once).
 */
export const PROOF_OF_LIFE_AFTER_MS = 1_000;
/** A crash notice older than this no longer stops a request when every replica of its shard was reported dead (see nearestUp). */
export const DOWN_NOTICE_STALE_MS = 1_000;
/**
 * How often a server probes the nodes it has held dead for DOWN_NOTICE_STALE_MS or more (see
 * onProbeTimer), and the nodes it probed that never answered (see onReprobeTimer).
 */
export const DOWN_PROBE_MS = 1_000;
/** Transaction request ids a server remembers with the coordinator it passed them to. */
export const TXN_FORWARDS_REMEMBERED_MAX = 4_096;
/** Open transactions a server's summary names (shard:txn), at most. */
export const OPEN_TXN_IDS_SHOWN = 1_000;

/**
 * The server while it cannot start (its durable log is damaged, say: durable.ts refuses it) and
 * its supervisor backs off before the next try (a refusing stand-in, stand-in.ts). Before
 * (found by an audit, session 55), its heartbeat actor, which shares its node, beat on: its
 * region and the balancers counted it up and routed requests to it, which waited in the mailbox
 * of an actor that never started until their callers timed out (an indefinite outcome). Now it
 * tells its heartbeat actor it is not serving, at once and every load interval (NotServing: the
 * beats stop, the region convicts it, the balancers route elsewhere), and refuses each request
 * that reaches it meanwhile at once. A request with no hop came from a balancer, which sends it
 * nowhere else, so the refusal is definite (UNAVAILABLE); one another server passed on may have
 * a copy elsewhere (notDone: a write is TIMEOUT). The host reports each failed try as an
 * 'actor-error', and inspect() shows the reason.
 */
export const serverStandIn = refusingStandIn<ServerParams, ServerInbound>({
  refusal: (req, message) => ((req.hops ?? 0) === 0 ? { ok: false, code: 'UNAVAILABLE', message } : notDone(req.body, message)),
  started: (state, ctx) => notServing(state, ctx),
  timer: (state, key, ctx) => {
    if (key === 'not-serving') notServing(state, ctx);
  },
});

/** Tell the heartbeat actor the server is not serving, and again in a load interval. */
function notServing(state: NotServingState<ServerParams>, ctx: ActorContext): void {
  ctx.send(heartbeatAddress(state.params.id), { type: 'not-serving', reason: state.reason, at: ctx.monotonicNow() } satisfies NotServing);
  ctx.setTimer('not-serving', loadTicks(state.params) * state.params.replication.tickMs);
}

export const serverBehavior: Behavior<ServerState, ServerParams, ServerInbound> = {
  name: 'server',
  standIn: serverStandIn,
  init(ctx, params, recovered) {
    const groups = new Map<number, GroupReplica>();
    const downNodes = new Set<string>();
    const state: ServerState = {
      params,
      groups,
      shardList: [],
      groupList: [],
      feedList: [],
      learners: new Map(),
      feeds: new Map(),
      held: new Map(),
      participants: new Participants({
        self: ctx.self,
        incarnation: ctx.incarnation,
        commit: params.commit,
        acceptors: params.topology.regions.map((r) => coordinatorAddress(r.name)),
        groupOf: (shard) => groupOf(shard, params.topology),
        groups,
        down: downNodes,
        forgetPrepared: params.replication.unsafe === 'forget-prepared',
        ...(params.replication.messageBytesMax === undefined ? {} : { wireBytes: wireBytesOf(ctx.self, params.replication.messageBytesMax) }),
      }),
      load: new ServerLoad(),
      dirty: new DirtyShards(),
      sinceFlush: 0,
      flushTimer: false,
      downNodes,
      downSince: new Map(),
      probedAt: new Map(),
      notices: new NodeNotices(),
      memberDown: new Map(),
      regionLives: new Map(),
      downParts: new Map(),
      forwarded: new ForwardedRequests(),
      reach: new Reach(),
      reprobeTimer: false,
      txnCoordinators: new Map(),
      txnOrder: new FifoOrder(TXN_FORWARDS_REMEMBERED_MAX),
      log: new ShardLogs(params.replication.checkpointEvery, params.replication.unsafe === 'checkpoint-drops-tail'),
      nearest: new Map(),
      ticks: new TickClock(params.replication.tickMs, ctx.monotonicNow()),
      due: 1,
      dueLeft: false,
      paxosOut: new PaxosOut(params.id, params.replication.messageBytesMax),
      loadSent: undefined,
      loadUnsent: 0,
      loadIn: loadTicks(params),
      dueCache: new DueCache(),
    };
    const { topology, replication } = params;
    // This actor's durable log holds nothing but its shard records.
    const byShard = state.log.recover(recovered as ShardRecord[]);
    if (state.log.compactNow(recovered.length)) ctx.checkpoint(state.log.checkpoint());
    {
      for (const shard of groupShardsOf(params.id, topology)) {
        const peers = groupOf(shard, topology);
        const records = forgetful(replication.unsafe, byShard.get(shard) ?? []);
        const group = new GroupReplica(
          {
            shard,
            self: params.id,
            peers,
            // Mode 'none' is a group of one: the same path, without copies.
            mode: replication.mode === 'none' ? 'active' : replication.mode,
            sync: replication.sync,
            lagBound: replication.lagBound,
            electionTicks: replication.electionTicks,
            heartbeatTicks: replication.heartbeatTicks,
            preVote: replication.preVote,
            maxBatch: replication.batch,
            maxInflight: replication.maxInflight,
            snapshotEvery: replication.snapshotEvery,
            ...(replication.snapshotPieceBytes === undefined ? {} : { snapshotPieceBytes: replication.snapshotPieceBytes }),
            seed: Math.floor(ctx.random() * 0x100000000),
            incarnation: ctx.incarnation,
            unsafeAckBeforeChosen: replication.unsafe === 'ack-before-chosen',
            ...(params.limits === undefined ? {} : { limits: params.limits }),
            ...(replication.messageBytesMax === undefined
              ? {}
              : {
                  messageBytesMax: replication.messageBytesMax,
                  commandBytesMax: commandBytesMax(replication.messageBytesMax, shard, [...peers, ...learnersOf(shard, topology)]),
                }),
          },
          records,
        );
        group.sm.unsafe = params.txnUnsafe;
        state.groups.set(shard, group);
        // The preferred leader of a fresh group stands at once instead of waiting out a timeout.
        if (records.length === 0 && peers[0] === params.id) group.core.campaign();
        const learners = learnersOf(shard, topology);
        if (learners.length > 0) state.feeds.set(shard, new LearnerFeed(learners, replication.snapshotPieceBytes));
      }
      for (const shard of learnerShardsOf(params.id, topology))
        state.learners.set(shard, new LearnerReplica(replication.unsafe === 'learner-out-of-order', params.limits));
      for (const [shard, group] of state.groups) {
        state.shardList.push(shard);
        state.groupList.push(group);
        state.feedList.push(state.feeds.get(shard));
      }
      for (const shard of state.shardList) drain(state, shard, ctx);
      state.paxosOut.send(ctx);
      ctx.setTimer('tick', replication.tickMs);
    }
    return state;
  },
  receive(state, msg, ctx) {
    const first = state.log.beginStep();
    if (first !== undefined) ctx.checkpoint(first);
    // Ticks that passed since the last one only count: catch up before anything else.
    const now = ctx.monotonicNow();
    const tickTimer = msg.type === 'timer' && msg.key === 'tick';
    const before = tickTimer ? state.ticks.fired(now) : -1;
    const passed = before >= 0 ? before : state.ticks.elapsed(now);
    // After a step that left its due tick to this one, the ticks that passed since may hold
    // one that does more than count: carried out in full, as an every-tick timer would have.
    // Only on threads and NATS, where time passes between two messages of one mailbox (a
    // thread descheduled, a long step); the simulator's clock stands still between them.
    advanceTicks(state, passed, ctx, state.dueLeft);
    if (before >= 0) onTimerTick(state, ctx);
    else if (!tickTimer) handle(state, msg, ctx);
    // Batching: while more messages wait, proposals and acknowledgements pile up in the
    // groups; they are cut into log slots when the mailbox is empty (or every
    // FLUSH_EVERY_MESSAGES messages), not after each message.
    state.sinceFlush++;
    const flushFired = msg.type === 'timer' && msg.key === 'flush';
    // The flush timer is spent whatever it finds: a drain since it was set (the group's slot
    // chosen) may have left nothing dirty, and a flag left true would stop every later
    // deferral from setting it again (a lone request then waited for the next tick).
    if (flushFired) state.flushTimer = false;
    if (state.dirty.size > 0) flushGroups(state, ctx, flushFired);
    if (state.paxosOut.count > 0) state.paxosOut.send(ctx);
    if (before < 0 && !state.ticks.canMoveEarlier()) return;
    // More messages wait: the last of them works the due tick out. Here it would be 1 for the
    // groups this one left dirty for them (flushGroups), and the timer, once set that early,
    // is not set later again: an idle cluster's heartbeats and their acks, two messages a
    // batch, each cost a tick in full (measured: two of every three server ticks when idle).
    if (before < 0 && TICKS_MODE === 'lazy' && ctx.mailbox() > 0) {
      state.dueLeft = true;
      return;
    }
    state.dueLeft = false;
    state.due = ticksUntilDue(state);
    const delay = state.ticks.rearm(now, state.due, before >= 0);
    if (delay !== undefined) ctx.setTimer('tick', delay);
  },
  summary(state) {
    const groups: Record<string, unknown> = {};
    for (const [shard, g] of state.groups) groups[shard] = g.status();
    // Transactions prepared (holding locks) at the shards this server leads.
    const open: string[] = [];
    for (const [s, g] of state.groups) if (g.isLeader()) for (const txn of g.sm.openTransactions()) open.push(`${s}:${txn}`);
    return {
      requests: state.load.requests,
      groups,
      learners: [...state.learners.keys()],
      down: [...state.downNodes],
      // Servers of this region its region actor holds down, with until when (see DownMembers).
      memberDown: Object.fromEntries(state.memberDown),
      openTxns: open.length,
      openTxnIds: open.slice(0, OPEN_TXN_IDS_SHOWN),
    };
  },
};

/**
 * Nagle's rule for the log: while more messages wait in the mailbox, every group's work waits
 * for the last of them; then a group with nothing in flight carries out its work at once (low
 * latency when idle); a group with slots in flight lets commands gather into one slot until
 * the flush timer (the next turn), or FLUSH_EVERY_MESSAGES messages, whichever comes first.
 */
function flushGroups(state: ServerState, ctx: ActorContext, timerFired: boolean): void {
  const force = timerFired || state.sinceFlush >= FLUSH_EVERY_MESSAGES;
  if (force) state.sinceFlush = 0;
  const dirty = state.dirty;
  // In order of marking; the shards kept keep their order. A drain may mark a shard (the
  // participant's proposals on what it applied): it goes to the end and is visited in this
  // loop too (deferred, or drained), as `dirty.size` is read afresh each round.
  let kept = 0;
  // More messages wait in the mailbox: the last of them carries the work out (each group's
  // commands and acknowledgements of the whole batch together), with no timer.
  const more = !force && ctx.mailbox() > 0;
  for (let i = 0; i < dirty.size; i++) {
    const shard = dirty.shards[i]!;
    const group = state.groups.get(shard);
    if (more && group !== undefined) {
      dirty.shards[kept++] = shard;
      continue;
    }
    if (!force && group !== undefined && group.isLeader() && group.inflight() > 0) {
      if (!state.flushTimer) {
        state.flushTimer = true;
        ctx.setTimer('flush', FLUSH_DELAY_MS);
      }
      dirty.shards[kept++] = shard;
      continue;
    }
    dirty.marked[shard] = false;
    drain(state, shard, ctx);
  }
  dirty.size = kept;
}

/**
 * Shards whose group has work for the next flush, in the order they were marked (each once).
 * Plain lists, not a Set: a Set of a few shards, emptied and filled every step, reallocated
 * its table on deletes (measured: the largest source of promoted garbage when idle).
 */
class DirtyShards {
  /** The shards in [0, size), in order of marking. */
  readonly shards: number[] = [];
  size = 0;
  /** By shard: whether it is in the list. */
  readonly marked: boolean[] = [];

  add(shard: number): void {
    if (this.marked[shard] === true) return;
    this.marked[shard] = true;
    this.shards[this.size++] = shard;
  }

  clear(): void {
    for (let i = 0; i < this.size; i++) this.marked[this.shards[i]!] = false;
    this.size = 0;
  }
}

function handle(state: ServerState, msg: ServerInbound, ctx: ActorContext): void {
  switch (msg.type) {
    case 'req':
      handleRequest(state, msg, ctx);
      return;
    case 'sys': {
      state.dueCache.all = true;
      // The runtime's notice that a node's process died or came back (a refused connection).
      const sys = msg;
      if (!state.notices.current(sys)) return;
      state.reach.forget(sys.node);
      reprobeSettled(state, ctx);
      if (sys.event === 'node-crashed') {
        // The probe timer runs while any node is held dead, and only then (see onProbeTimer).
        if (state.downNodes.size === 0) ctx.setTimer('probe', DOWN_PROBE_MS);
        state.downNodes.add(sys.node);
        state.downSince.set(sys.node, ctx.monotonicNow());
        // Requests this server passed to the dead node will not be answered by it: say so now
        // instead of leaving the client to its timeout. A write's outcome is unknown; a read
        // changed nothing, so it goes to another copy, or is refused, definitely (it was TIMEOUT
        // too: found by an audit, session 59). One the node did answer is already settled, and
        // a second answer is ignored (see failForwarded).
        failForwarded(state, sys.node, `${sys.node} crashed with the read`, `${sys.node} crashed with the request`, ctx);
      } else markUp(state, sys.node);
      return;
    }
    case 'probe':
      ctx.send(ctx.sender, { type: 'probe-ack', at: msg.at } satisfies ProbeAck);
      return;
    case 'down-members':
      onDownMembers(state, msg, ctx);
      return;
    case 'probe-ack':
      // Only an incarnation started after the crash can answer a probe sent after its notice.
      if (msg.at > (state.downSince.get(ctx.sender) ?? Number.POSITIVE_INFINITY)) markUp(state, ctx.sender);
      state.reach.answered(ctx.sender, msg.at, ctx.monotonicNow());
      reprobeSettled(state, ctx);
      return;
    case 'px': {
      const m: ShardPaxosWire = msg;
      proofOfLife(state, ctx);
      const group = state.groups.get(m.s);
      if (group === undefined) return;
      group.step(ctx.sender, m.m);
      state.dirty.add(m.s);
      return;
    }
    case 'pxs': {
      // Several shards' messages from one step of the sender: each stepped in order, as if
      // they had come one by one (the groups' work is carried out at the flush that follows).
      const { s: shards, m: messages }: ShardPaxosBatchWire = msg;
      proofOfLife(state, ctx);
      for (let i = 0; i < shards.length && i < messages.length; i++) {
        const s = shards[i]!;
        const group = state.groups.get(s);
        if (group === undefined) continue;
        group.step(ctx.sender, messages[i]!);
        state.dirty.add(s);
      }
      return;
    }
    case 'learn': {
      const m = msg;
      const learner = state.learners.get(m.s);
      if (learner === undefined) return;
      const applied = learner.receive(m);
      ctx.reply({ type: 'learn-ack', s: m.s, applied } satisfies LearnMessage);
      return;
    }
    case 'learn-piece': {
      const learner = state.learners.get(msg.s);
      if (learner === undefined) return;
      const { applied, piece } = learner.receivePiece(msg);
      ctx.reply((piece === undefined ? { type: 'learn-ack', s: msg.s, applied } : { type: 'learn-ack', s: msg.s, applied, piece }) satisfies LearnMessage);
      return;
    }
    case 'learn-ack':
      state.feeds.get(msg.s)?.ack(ctx.sender, msg.applied, msg.piece);
      state.dueCache.touched.add(msg.s);
      return;
    case 'tx':
      state.dueCache.participants = true;
      carryOut(state, state.participants.receive(msg, msg.f ?? ctx.sender), ctx);
      return;
    case 'tx-q':
      state.dueCache.participants = true;
      carryOut(state, state.participants.answerReads(msg), ctx);
      return;
    case 'timer':
      if (msg.key === 'probe') onProbeTimer(state, ctx);
      else if (msg.key === 'reprobe') onReprobeTimer(state, ctx);
      return;
    case 'undeliverable':
      onUndeliverable(state, msg, ctx);
      return;
    default:
      return;
  }
}

/**
 * A message of this server's own that its host could not send. One over messageBytesMax is
 * handed back (see UndeliverableMessage): an answer too large is a get's, local or not (a put
 * or a delete answers nothing, a cas a boolean), so the read did nothing, and a short definite
 * error for the same request goes where the answer was going (too-large.ts); for a participant's
 * reply carrying what a transaction read, the coordinator is told, and a vote goes again
 * without the reads (Participants.tooLarge); a batch of Paxos messages goes again one by one
 * (PaxosOut keeps a batch under messageBytesMax from its messages' sizes at most: this is for
 * one it misjudged).
 * The rest are ignored, as before.
 */
function onUndeliverable(state: ServerState, msg: UndeliverableMessage, ctx: ActorContext): void {
  if (msg.reason !== 'too-large' || msg.original === null) return;
  const bytes = msg.bytes ?? 0;
  const max = msg.max ?? 0;
  if (msg.original.type === 'res') {
    const res = msg.original as { ok?: unknown; rid?: unknown };
    if (res.ok === true && typeof res.rid === 'number') ctx.send(msg.to, readTooLarge(res.rid, 'the value read', bytes, max));
    return;
  }
  if (msg.original.type === 'pxs') {
    // A step's Paxos messages to one peer, each under messageBytesMax, together over it, which
    // PaxosOut should have sent in several wires (see paxosMessageBytes): each goes again
    // alone, later, as the network might have delayed them. One still over it is dropped.
    const { s, m } = msg.original as Partial<ShardPaxosBatchWire>;
    if (Array.isArray(s) && Array.isArray(m))
      for (let i = 0; i < s.length && i < m.length; i++) ctx.send(msg.to, { type: 'px', s: s[i]!, m: m[i]! } satisfies ShardPaxosWire);
    return;
  }
  carryOut(state, state.participants.tooLarge(msg.to, msg.original, bytes, max), ctx);
}

/**
 * A word from a node is proof of life, whatever notice was missed or reordered; but not one
 * that may have been on its way when the node died (the notice travels like any message, and
 * jitter lets older messages arrive after it). Its age is from when it came, not from when it
 * is handled: a server paused right after the notice handled, at its resume, a message the
 * dead node sent before it died, and took the node back up (a class audit, session 68).
 */
function proofOfLife(state: ServerState, ctx: ActorContext): void {
  if (state.downNodes.size > 0 && ctx.receivedAt() - (state.downSince.get(ctx.sender) ?? Number.NEGATIVE_INFINITY) >= PROOF_OF_LIFE_AFTER_MS)
    markUp(state, ctx.sender);
}

/**
 * The region actor's view of which of this region's servers are down: it replaces the last
 * one (a notice lists them all; of a notice in parts, the first part to come replaces it and
 * each other part of its seq adds the servers it lists), each held until `holdMs` from now.
 * Requests this server passed to a server newly held down are dealt with now, as for a crash
 * notice (a read goes to another copy if one can take it, else is refused; any other request's
 * outcome is unknown): the server is silent, and they would wait out their callers' timeouts.
 */
function onDownMembers(state: ServerState, msg: DownMembers, ctx: ActorContext): void {
  if (ctx.sender !== state.params.region || !Array.isArray(msg.down) || !Number.isFinite(msg.holdMs)) return;
  const fate = newPart(state.regionLives, state.downParts, ctx.sender, msg.incarnation, msg.seq, msg.part);
  if (fate === undefined || fate === 'copy') return;
  const now = ctx.monotonicNow();
  const fresh = msg.down.filter((node) => node !== state.params.id && !heldDown(state, node, now));
  if (fate === 'new') state.memberDown.clear();
  for (const node of msg.down) if (node !== state.params.id) state.memberDown.set(node, now + msg.holdMs);
  for (const node of fresh)
    failForwarded(
      state,
      node,
      `${node} went silent with the read (its region holds it down)`,
      `${node} went silent with the request (its region holds it down)`,
      ctx,
    );
}

/**
 * Deal with the requests this server passed to `node`, which will not answer them (it crashed
 * or went silent; the caller has marked it down or held down already). A request other than a
 * read times out, saying `otherWhy` (its outcome is unknown; a transaction of gets and checks is
 * refused, UNAVAILABLE: it did nothing, unknownBody). A read changed nothing, so it is
 * routed again as it was the first time (routeRequest), to a copy or the owner or leader other
 * than `node` and the nodes held dead or down (see Again), at most READ_REROUTES_MAX times and
 * only if passed on within READ_REROUTE_WITHIN_MS, or
 * served here if it can be now; with no such peer it is refused, saying `readWhy` (UNAVAILABLE,
 * definite). Before (a user audit, session 60), a read passed to a live server its region held
 * down a moment (busy, under CPU load) was refused where another copy could serve it.
 * It goes again with the same origin: the answer goes to the caller, which matches answers by
 * its rid and takes the first (a late one from `node` is dropped, like a network duplicate's),
 * so the caller is answered once.
 */
function failForwarded(state: ServerState, node: string, readWhy: string, otherWhy: string, ctx: ActorContext): void {
  for (const f of state.forwarded.takeFor(node)) {
    const req = f.read;
    if (req === undefined) reply(ctx, f.origin, unknownBody(f.readOnly, otherWhy));
    else if (f.reroutes >= READ_REROUTES_MAX || ctx.monotonicNow() - f.atMs > READ_REROUTE_WITHIN_MS)
      reply(ctx, f.origin, { ok: false, code: 'UNAVAILABLE', message: readWhy });
    else {
      // The hops it had when it came here: this server passes it on once, as before.
      const hops = (req.hops ?? 1) - 1;
      if (hops > 0) req.hops = hops;
      else delete req.hops;
      routeRequest(state, req, f.origin, ctx, { from: node, why: readWhy, reroutes: f.reroutes + 1 });
    }
  }
}

/**
 * A read routed again (failForwarded) because `from`, where it went, crashed or went silent:
 * it goes to no node held dead or held down by the region (`from` is one), and is refused,
 * saying `why`, where the routing would pass it to one. `reroutes`: the times it was sent again.
 */
interface Again {
  from: string;
  why: string;
  reroutes: number;
}

/** Whether the region's membership holds `node` down as of `now` (see ServerState.memberDown). */
function heldDown(state: ServerState, node: string, now: number): boolean {
  if (state.memberDown.size === 0) return false;
  const until = state.memberDown.get(node);
  return until !== undefined && now < until;
}

/** A node reported dead runs again (its restart notice, a word from it, an answer to a probe). */
function markUp(state: ServerState, node: string): void {
  state.downNodes.delete(node);
  state.downSince.delete(node);
  state.probedAt.delete(node);
}

/**
 * Every DOWN_PROBE_MS while any node is held dead: probe those reported dead at least
 * DOWN_NOTICE_STALE_MS ago. A server may hear from a node in no other way (no Paxos group in
 * common: factor 1, a hybrid learner's region), while the node's restart notice may have been
 * lost. Probing only when a local read was refused (the first fix, 945c2a8) left each server
 * of a region to refuse one read of its own before it looked, and a region of three servers
 * refused all three convergence rounds (`meridian check --seed 823270 --shape random --nemesis
 * swarm --mode passive --txn-share 0.2`: 4 regions of 3 servers, factor 1).
 */
function onProbeTimer(state: ServerState, ctx: ActorContext): void {
  if (state.downNodes.size === 0) return;
  const now = ctx.monotonicNow();
  const stale: string[] = [];
  for (const node of state.downNodes) if (now - (state.downSince.get(node) ?? now) >= DOWN_NOTICE_STALE_MS) stale.push(node);
  probeDown(state, stale, ctx);
  ctx.setTimer('probe', DOWN_PROBE_MS);
}

/**
 * Probe `nodes`, held dead, at most once per DOWN_NOTICE_STALE_MS each; an answer to a probe
 * sent after the crash notice takes the node back. Before, a server that missed the restart
 * notice of every replica of a shard refused the local reads of that shard for good (a write
 * goes to a replica reported long enough ago, see nearestUp, but its answer goes to the
 * balancer, not here). Called by the probe timer and by a refused local read.
 */
function probeDown(state: ServerState, nodes: readonly string[], ctx: ActorContext): void {
  const now = ctx.monotonicNow();
  for (const node of nodes) {
    if (!state.downNodes.has(node) || now - (state.probedAt.get(node) ?? Number.NEGATIVE_INFINITY) < DOWN_NOTICE_STALE_MS) continue;
    state.probedAt.set(node, now);
    ctx.send(node, { type: 'probe', at: now } satisfies Probe);
  }
}

/**
 * Probe `node` if it is due (Reach.probeDue). One never heard from is probed again on the
 * reprobe timer until it answers (onReprobeTimer), which is set here if it is not running.
 */
function probe(state: ServerState, node: string, now: number, ctx: ActorContext): void {
  if (!state.reach.probeDue(node, now)) return;
  ctx.send(node, { type: 'probe', at: now } satisfies Probe);
  if (!state.reprobeTimer && state.reach.anyUnanswered()) {
    state.reprobeTimer = true;
    ctx.setTimer('reprobe', DOWN_PROBE_MS);
  }
}

/**
 * Every DOWN_PROBE_MS while a node this server probed has never answered (Reach.reprobeDue):
 * probe it again. A node counts as down once its first probe has gone unanswered for
 * unheardDownMs (Reach.unheard), and its probes went only with requests for it: a probe lost in
 * a partition left it down after healing until a local read of its shard probed it again, and
 * that read was refused (it does not wait for the answer). A node held dead is probed here too:
 * its answer to a probe sent after its crash notice takes it back, as for onProbeTimer's.
 */
function onReprobeTimer(state: ServerState, ctx: ActorContext): void {
  state.reprobeTimer = false;
  const now = ctx.monotonicNow();
  for (const node of state.reach.reprobeDue(now, DOWN_PROBE_MS)) ctx.send(node, { type: 'probe', at: now } satisfies Probe);
  if (!state.reach.anyUnanswered()) return;
  state.reprobeTimer = true;
  ctx.setTimer('reprobe', DOWN_PROBE_MS);
}

/**
 * Cancel the reprobe timer once every node probed has answered or been forgotten (a crash or
 * restart notice): a run whose probes are all answered sets it and never runs it.
 */
function reprobeSettled(state: ServerState, ctx: ActorContext): void {
  if (!state.reprobeTimer || state.reach.anyUnanswered()) return;
  state.reprobeTimer = false;
  ctx.cancelTimer('reprobe');
}

/** Ticks between load reports: loadIntervalMs on the tick grid. */
function loadTicks(params: ServerParams): number {
  return Math.max(1, Math.round(params.loadIntervalMs / params.replication.tickMs));
}

/** The load report to the heartbeat actor (not sent if it is the one it holds, but every LOAD_REFRESH_REPORTS), and forwarded requests aged out. */
function reportLoad(state: ServerState, ctx: ActorContext): void {
  const load = state.load.report(ctx.monotonicNow(), ctx.busyMs(), ctx.mailbox());
  state.forwarded.ageOut(ctx.monotonicNow());
  // The same figures go again now and then: the last report may have been lost.
  if (state.loadSent === undefined || !sameLoad(load, state.loadSent) || ++state.loadUnsent >= LOAD_REFRESH_REPORTS) {
    state.loadSent = load;
    state.loadUnsent = 0;
    ctx.send(heartbeatAddress(state.params.id), { type: 'load', load, at: ctx.monotonicNow() } satisfies LoadReport);
  }
}

function sameLoad(a: Load, b: Load): boolean {
  return a.inflight === b.inflight && a.mailbox === b.mailbox && a.latencyEwmaMs === b.latencyEwmaMs && a.busyMs === b.busyMs && a.requests === b.requests;
}

type ResBody = { ok: true; value?: unknown; by?: string } | { ok: false; code: ErrorCodeWire; message: string };

/** The broken variants: what an acceptor "forgets" on restart. */
function forgetful(unsafe: ReplicationParams['unsafe'], records: MultiPaxosRecord[]): MultiPaxosRecord[] {
  if (unsafe === 'forget-promises') return records.filter((r) => r.type !== 'promise');
  if (unsafe === 'amnesia') return records.filter((r) => r.type === 'snapshot');
  return records;
}

/**
 * The answer for a request this server gives up on. UnavailableError promises the call did
 * not happen, but this copy is not the only one: the network may have duplicated it, and
 * another copy may already hold a log slot (and be applied later). Nothing here can prove
 * otherwise, so a write gets TIMEOUT (outcome unknown). A read changes nothing: refusing
 * it is definite whatever its copies do.
 */
function notDone(body: RequestBody, message: string): ResBody {
  if (body.op === 'get') return { ok: false, code: 'UNAVAILABLE', message };
  return { ok: false, code: 'TIMEOUT', message: `${message}; it may or may not have taken effect (another copy of the request may hold a log slot)` };
}

function reply(ctx: ActorContext, origin: Origin, res: ResBody): void {
  ctx.send(origin.to, { type: 'res', rid: origin.rid, ...res } satisfies Res);
}

/** A success, built as sent (the fields in reply's order: no body object to spread). */
function replyOk(ctx: ActorContext, origin: Origin, by: string, value: unknown): void {
  const res: ResOk = value === undefined ? { type: 'res', rid: origin.rid, ok: true, by } : { type: 'res', rid: origin.rid, ok: true, by, value };
  ctx.send(origin.to, res);
}

/**
 * Carry out what a group produced: persist, then send, then answer and vote. The one drain
 * loop of the server: what the participant asks for (its effects, a group drain among them)
 * is carried out here too.
 */
function drain(state: ServerState, shard: number, ctx: ActorContext): void {
  const group = state.groups.get(shard);
  if (group === undefined) return;
  state.dueCache.touched.add(shard);
  const r = group.ready();
  if (r.persist.length > 0) {
    const { before, append, checkpoint } = state.log.append(shard, r.persist);
    if (before !== undefined) ctx.checkpoint(before);
    for (const record of append) ctx.persist(record);
    if (checkpoint !== undefined) ctx.checkpoint(checkpoint);
  }
  // Indexed loops: the lists are often the shared frozen empty ones, which for-of iterates
  // through an iterator object (measured: the most allocated object of an idle server).
  const messages = r.messages;
  for (let i = 0; i < messages.length; i++) state.paxosOut.add(messages[i]!.to, shard, messages[i]!.msg);
  if (group.outputs.length === 0) return;
  const outputs = group.takeOutputs();
  for (let i = 0; i < outputs.length; i++) onOutput(state, shard, outputs[i]!, ctx);
  // The participant's votes from those outputs, drained together.
  carryOut(state, state.participants.afterOutputs(shard), ctx);
}

/**
 * Room a command keeps for what another leader's copy of the same request may add: a longer
 * id (its counter's digits, see GroupReplica.nextId), a passive primary's longer term and seq.
 */
export const COMMAND_ID_SLACK_BYTES = 24;

/**
 * The most a client's command may encode to (GroupConfig.commandBytesMax) for every message
 * that carries it alone to fit under `messageBytesMax`: an accept, a catch-up's `entries` and
 * a promise (or a part of one, see MultiPaxos.promiseParts) of one slot (each in a `px`), a
 * learner's `learn` of one entry, with the widest numbers (a ballot's round, an index) and the
 * longest of `addresses` (the group's replicas and the shard's learners: the envelope's ends
 * and a ballot's id), less COMMAND_ID_SLACK_BYTES.
 * A command encodes in a message as it does alone (a record shape of its own is defined once
 * either way, see slotBytes), so a larger one would travel in no message: its slot would be
 * re-sent for ever, dropped each time, and the shard's later writes behind it never chosen.
 * Requests in a band a few dozen bytes wide under messageBytesMax did that (found by an
 * audit, session 58): they fit themselves, but not in an accept.
 */
export function commandBytesMax(messageBytesMax: number, shard: number, addresses: readonly string[]): number {
  let longest = '';
  for (const a of addresses) if (a.length > longest.length) longest = a;
  // Rounds and indices past 2^32 - 1 (encoded in 9 bytes, not 5) are out of reach.
  const wide = 0xffffffff;
  const ballot = { round: wide, id: longest };
  // Each carries one command, a null (one byte) in its place here.
  const slot = { index: wide, ballot, commands: [null], chosen: true };
  const paxos = [
    { type: 'accept', ballot, index: wide, commands: [null], commitIndex: wide },
    { type: 'entries', ballot, slots: [slot], commitIndex: wide },
    { type: 'promise', ballot, slots: [slot], snapshot: null },
    // A part of a promise in several (MultiPaxos.promiseParts) may hold that slot alone.
    { type: 'promise', ballot, slots: [slot], snapshot: null, part: { from: wide, until: wide } },
  ];
  let shell = encodedBytes({ to: longest, from: longest, msg: { type: 'learn', s: shard, entries: [[wide, null]], snapshot: null } });
  for (const m of paxos) shell = Math.max(shell, encodedBytes({ to: longest, from: longest, msg: { type: 'px', s: shard, m } }));
  return messageBytesMax - (shell - 1) - COMMAND_ID_SLACK_BYTES;
}

/** A shard number in a `pxs`'s list, at most; and what a wire holds besides its messages' bytes and its addresses' characters, at most. */
const SHARD_BYTES_MAX = 9;
const WIRE_FIELDS_BYTES_MAX = 64;

/**
 * What a wire from `from` to `to` encodes to besides its messages, at most: the envelope (its
 * two addresses, 3 bytes a character at most) and the wire's own fields and list headers.
 */
export function wireShellBytesMax(from: string, to: string): number {
  return WIRE_FIELDS_BYTES_MAX + 3 * (to.length + from.length);
}

/** What the messages of one wire from `self` may encode to together under `max` (messageBytesMax), by destination (ParticipantHost.wireBytes). */
function wireBytesOf(self: string, max: number): { max: number; budget(to: string): number } {
  return { max, budget: (to) => max - wireShellBytesMax(self, to) };
}

/**
 * The Paxos messages a step's drains gathered, by destination in order of first use; `send`
 * sends to each peer one `px` if there is one, else one `pxs` with all of them in order. A
 * snapshot piece goes alone, in a `px` of its own after them: a piece is a good share of
 * messageBytesMax, and a window of them (or pieces of several shards) would not fit in one.
 * With `bytesMax` (the host's messageBytesMax), a peer's messages that could together be over
 * it go in several wires, in order: each message's size at most (paxosMessageBytes, from the
 * sizes kept beside its commands) is added as it comes, and one that would take the wire over
 * starts another (a step's several large accepts to one peer: the wire was refused and sent
 * again one by one, with a warning).
 * Gathering is safe: each drain persisted before it queued (the Ready rule holds a fortiori),
 * and a group's messages keep their order. Plain lists whose slots are emptied after each
 * send: a Map cleared every step left its old (promoted) tables pointing at young messages,
 * which the scavenger then kept alive and promoted (measured: GC 3x the work of the sends).
 */
class PaxosOut {
  /** Wires to send: destinations gathered, and snapshot pieces. */
  count = 0;
  /** Wires gathered (the first `peers` of the lists below): one per destination, more for one whose messages are too large together. */
  private peers = 0;
  private readonly to: Array<string | undefined> = [];
  /** A destination's first message, and its lists only once a second one comes (most steps send one per peer). */
  private readonly firstShard: number[] = [];
  private readonly first: Array<MultiPaxosMessage | undefined> = [];
  private readonly shards: Array<number[] | undefined> = [];
  private readonly messages: Array<MultiPaxosMessage[] | undefined> = [];
  /** With `bytesMax`: a wire's size at most so far, and whether it is full (its destination's next messages go in another). */
  private readonly bytes: number[] = [];
  private readonly full: boolean[] = [];
  /** Snapshot pieces, each sent alone. */
  private alone: Array<{ to: string; wire: ShardPaxosWire }> = [];

  /** `self`: the sender's address (its wires carry it); `bytesMax` unset: one wire per peer whatever its size. */
  constructor(
    private readonly self: string,
    private readonly bytesMax: number | undefined,
  ) {}

  add(to: string, shard: number, msg: MultiPaxosMessage): void {
    if (msg.type === 'snapshot-piece') {
      this.alone.push({ to, wire: { type: 'px', s: shard, m: msg } });
      this.count++;
      return;
    }
    const bytes = this.bytesMax === undefined ? 0 : paxosMessageBytes(msg) + SHARD_BYTES_MAX;
    for (let i = 0; i < this.peers; i++) {
      if (this.to[i] !== to || this.full[i] === true) continue;
      if (this.bytesMax !== undefined) {
        if (this.bytes[i]! + bytes > this.bytesMax) {
          this.full[i] = true;
          continue;
        }
        this.bytes[i]! += bytes;
      }
      const shards = this.shards[i];
      if (shards === undefined) {
        this.shards[i] = [this.firstShard[i]!, shard];
        this.messages[i] = [this.first[i]!, msg];
      } else {
        shards.push(shard);
        this.messages[i]!.push(msg);
      }
      return;
    }
    const i = this.peers++;
    this.count++;
    this.to[i] = to;
    this.firstShard[i] = shard;
    this.first[i] = msg;
    if (this.bytesMax !== undefined) {
      // The envelope and the wire around the messages: addresses, the wire's type, list headers.
      this.bytes[i] = wireShellBytesMax(this.self, to) + bytes;
      this.full[i] = false;
    }
  }

  send(ctx: ActorContext): void {
    for (let i = 0; i < this.peers; i++) {
      const to = this.to[i]!;
      const s = this.shards[i];
      if (s === undefined) ctx.send(to, { type: 'px', s: this.firstShard[i]!, m: this.first[i]! } satisfies ShardPaxosWire);
      else ctx.send(to, { type: 'pxs', s, m: this.messages[i]! } satisfies ShardPaxosBatchWire);
      this.to[i] = undefined;
      this.first[i] = undefined;
      this.shards[i] = undefined;
      this.messages[i] = undefined;
    }
    this.peers = 0;
    if (this.alone.length > 0) {
      for (const { to, wire } of this.alone) ctx.send(to, wire);
      this.alone = [];
    }
    this.count = 0;
  }
}

/** Carry out the participant's effects, in order. */
function carryOut(state: ServerState, effects: readonly ParticipantEffect[], ctx: ActorContext): void {
  for (let i = 0; i < effects.length; i++) {
    const e = effects[i]!;
    switch (e.kind) {
      case 'send':
        ctx.send(e.to, e.msg);
        break;
      case 'forward':
        if (e.from === undefined) ctx.forward(e.to, e.msg);
        else ctx.forward(e.to, e.msg, e.from);
        break;
      case 'reply':
        ctx.reply(e.msg);
        break;
      case 'drain':
        // Not at once: the group's new proposals wait for the flush (Nagle's rule, flushGroups)
        // with every other message's, so records of many transactions share one log slot.
        state.dirty.add(e.s);
        break;
    }
  }
}

function onOutput(state: ServerState, shard: number, out: GroupOutput, ctx: ActorContext): void {
  switch (out.kind) {
    case 'reply': {
      state.load.answered(out.origin, ctx.monotonicNow());
      if (out.ok) {
        state.load.requests++;
        ctx.count('requests');
        replyOk(ctx, out.origin, state.params.id, out.value);
      } else {
        reply(ctx, out.origin, { ok: false, code: out.code, message: out.message });
      }
      return;
    }
    case 'applied':
      if (state.groups.get(shard)?.isLeader()) state.feeds.get(shard)?.record(out.index, out.command);
      if (out.command.k === 'pc' || ((out.command.k === 'commit' || out.command.k === 'abort') && out.command.tag !== undefined)) {
        state.dueCache.participants = true;
        carryOut(state, state.participants.onGroupOutput(shard, out), ctx);
      }
      return;
    case 'vote':
    case 'txn-done':
      state.dueCache.participants = true;
      carryOut(state, state.participants.onGroupOutput(shard, out), ctx);
      return;
  }
}

/**
 * Ticks until the next one that does more than count (at least 1, at most LAZY_TICKS_MAX):
 * 1 while anything is held, pending or behind; else the soonest of the groups' timeouts and
 * heartbeats, the learner feeds' probes, the participants' timeouts and the next load report.
 * Worked out in full (ticksUntilDueInFull) after a tick; after any other step only for the
 * groups the step touched (and the participants if the step reached them, or a touched group
 * changed leadership or applied something): between ticks, a group nothing touched keeps its
 * due tick (the ticks that pass only count, one nearer each). Eager and verify modes check
 * the answer against the full one at every step.
 */
function ticksUntilDue(state: ServerState): number {
  if (state.dirty.size > 0) return 1;
  if (state.held.size > 0) for (const held of state.held.values()) if (held.length > 0) return 1;
  const cache = state.dueCache;
  const t = cache.tick;
  if (cache.all) {
    cache.all = false;
    cache.participants = false;
    cache.touched.clear();
    for (let i = 0; i < state.shardList.length; i++) {
      const shard = state.shardList[i]!;
      const group = state.groupList[i]!;
      cache.setGroup(shard, t + groupTicksUntilDue(state, shard, group), group);
    }
    cache.participantsAt = t + state.participants.ticksUntilDue();
  } else {
    const touched = cache.touched;
    for (let i = 0; i < touched.size; i++) {
      const shard = touched.shards[i]!;
      const group = state.groups.get(shard);
      if (group === undefined) continue;
      // What the participants' due tick reads of a group: its leadership and its state machine.
      if (group.isLeader() !== cache.leader[shard] || group.sm.applied !== cache.applied[shard]) cache.participants = true;
      cache.setGroup(shard, t + groupTicksUntilDue(state, shard, group), group);
    }
    touched.clear();
    if (cache.participants) {
      cache.participants = false;
      cache.participantsAt = t + state.participants.ticksUntilDue();
      for (let i = 0; i < state.shardList.length; i++) cache.setGroup(state.shardList[i]!, cache.at[state.shardList[i]!]!, state.groupList[i]!);
    }
  }
  let k = Math.min(LAZY_TICKS_MAX, state.loadIn, cache.participantsAt - t);
  for (let i = 0; i < cache.shards.length; i++) {
    const d = cache.at[cache.shards[i]!]! - t;
    if (d < k) k = d;
  }
  if (k < 1) k = 1;
  if (TICKS_MODE !== 'lazy') {
    const full = ticksUntilDueInFull(state);
    if (full !== k) throw new Error(`lazy ticks: ${state.params.id} worked out ${k} ticks to the next due one from its cache, ${full} in full`);
  }
  return k;
}

/** One group's (and its learner feed's) ticks until due: 1 if its core has output waiting. */
function groupTicksUntilDue(state: ServerState, shard: number, group: GroupReplica): number {
  if (group.core.hasReady()) return 1;
  let k = group.ticksUntilDue();
  const feed = state.feeds.get(shard);
  if (feed !== undefined && group.isLeader()) k = Math.min(k, feed.ticksUntilDue(group.sm.applied));
  return k;
}

/** ticksUntilDue worked out from every group, feed and participant (ticks; eager and verify checks). */
function ticksUntilDueInFull(state: ServerState): number {
  if (state.dirty.size > 0) return 1;
  if (state.held.size > 0) for (const held of state.held.values()) if (held.length > 0) return 1;
  let k = Math.min(LAZY_TICKS_MAX, state.loadIn, state.participants.ticksUntilDue());
  if (k === 1) return 1;
  for (let i = 0; i < state.shardList.length; i++) {
    k = Math.min(k, groupTicksUntilDue(state, state.shardList[i]!, state.groupList[i]!));
    if (k === 1) return 1;
  }
  return k;
}

/**
 * The due ticks ticksUntilDue keeps between steps, as tick numbers (ticks since the server
 * started): each group's, the participants', and what the participants' was worked out from.
 */
class DueCache {
  /** Ticks since the server started: those counted (advanceTicks) and those carried out (onTick). */
  tick = 0;
  /** Work everything out afresh at the next ticksUntilDue (a tick, a crash notice, the start). */
  all = true;
  /** Work the participants' due tick out afresh (a step reached them). */
  participants = false;
  /** Groups touched since the last ticksUntilDue (stepped, drained, submitted to, acked). */
  readonly touched = new DirtyShards();
  /** By shard: the group's due tick, and its leadership and applied index when the participants' was worked out. */
  readonly at: number[] = [];
  readonly leader: boolean[] = [];
  readonly applied: number[] = [];
  /** The shards of the groups, in order. */
  readonly shards: number[] = [];
  participantsAt = Number.POSITIVE_INFINITY;

  setGroup(shard: number, at: number, group: GroupReplica): void {
    if (this.at[shard] === undefined) this.shards.push(shard);
    this.at[shard] = at;
    if (!this.participants) {
      this.leader[shard] = group.isLeader();
      this.applied[shard] = group.sm.applied;
    }
  }
}

/** `n` ticks that only count (each of them below the `ticksUntilDue` of the last step). */
function advanceTicks(state: ServerState, n: number, ctx: ActorContext, inFull = false): void {
  if (n <= 0) return;
  // `inFull`: the ticks may hold one that does more than count (see ServerState.dueLeft).
  if (inFull) for (let i = 0; i < n; i++) onTick(state, ctx);
  // Testing: each in full, checked to do nothing but count.
  else if (TICKS_MODE === 'verify') checkedTicks(state, n, ctx, onTick, ticksUntilDueInFull);
  else {
    for (let i = 0; i < state.groupList.length; i++) {
      const group = state.groupList[i]!;
      const feed = state.feedList[i];
      if (feed !== undefined && group.isLeader()) feed.advance(n);
      group.advance(n);
    }
    state.participants.advance(n);
    if (state.learners.size > 0) for (const learner of state.learners.values()) learner.age(n);
    state.loadIn -= n;
    state.dueCache.tick += n;
  }
  // Each of them was a message (the tick timer's), as FLUSH_EVERY_MESSAGES counts.
  state.sinceFlush += n;
}

/**
 * The tick timer's tick, in full. In eager mode (testing) a tick that the last step predicted
 * would only count is checked: no effect, and the next due tick one nearer.
 */
function onTimerTick(state: ServerState, ctx: ActorContext): void {
  if (TICKS_MODE === 'eager' && state.due > 1) checkedTick(state, ctx, onTick, ticksUntilDueInFull);
  else onTick(state, ctx);
}

function onTick(state: ServerState, ctx: ActorContext): void {
  // Every group, feed and participant may change: the due ticks are worked out afresh.
  state.dueCache.tick++;
  state.dueCache.all = true;
  for (let i = 0; i < state.shardList.length; i++) {
    const shard = state.shardList[i]!;
    const group = state.groupList[i]!;
    group.tick();
    drain(state, shard, ctx);
    retryHeld(state, shard, ctx);
    const feed = state.feedList[i];
    if (feed !== undefined && group.isLeader()) {
      for (const m of feed.tick(shard, group.sm.applied, group.sm)) ctx.send(m.to, m.msg);
      for (const { learner, delta } of feed.lagChanges(group.sm.applied)) ctx.count(`${LAG_COUNTER_PREFIX}${regionOfServer(learner)}`, delta);
    } else if (feed !== undefined) {
      // No longer leading: what it reported is the new leader's to report now.
      for (const { learner, delta } of feed.withdrawLag()) ctx.count(`${LAG_COUNTER_PREFIX}${regionOfServer(learner)}`, delta);
    }
  }
  if (state.learners.size > 0) for (const learner of state.learners.values()) learner.age(1);
  for (const h of state.participants.takeHeld()) carryOut(state, state.participants.receive(h.wire, h.from, h.ticks), ctx);
  for (let i = 0; i < state.shardList.length; i++) carryOut(state, state.participants.tickShard(state.shardList[i]!), ctx);
  // Sent through this tick's context (eager and verify modes count them as its effects).
  if (state.paxosOut.count > 0) state.paxosOut.send(ctx);
  if (--state.loadIn <= 0) {
    state.loadIn = loadTicks(state.params);
    reportLoad(state, ctx);
  }
}

function retryHeld(state: ServerState, shard: number, ctx: ActorContext): void {
  const held = state.held.get(shard);
  if (held === undefined || held.length === 0) return;
  state.held.delete(shard);
  for (const h of held) {
    h.ticks++;
    // Held for two election timeouts' worth of ticks: this replica may be the one that cannot
    // hear (a gray failure: no crash notice, so the balancer keeps sending here) while the
    // others have a leader. Pass the request to another member of the group once; it forwards
    // it to the leader it knows, or holds it in turn (hops are bounded).
    if (h.ticks === 2 * state.params.replication.electionTicks && (h.req.hops ?? 0) < FORWARD_HOPS_MAX) {
      const other = otherMember(state, shard, ctx.monotonicNow());
      if (other !== undefined) {
        forward(state, other, h.req, h.origin, ctx);
        continue;
      }
    }
    if (h.ticks > HOLD_TICKS_MAX) {
      reply(ctx, h.origin, notDone(h.req.body, `shard ${shard} has had no leader for ${HOLD_TICKS_MAX} ticks`));
      continue;
    }
    routeToGroup(state, shard, h.req, h.origin, ctx, h.ticks);
  }
}

function handleRequest(state: ServerState, req: Req, ctx: ActorContext): void {
  const { topology } = state.params;
  const body = req.body;
  const origin: Origin = { to: ctx.sender, rid: req.rid };
  if (body.op === 'txn') {
    // Transactions are run by the region's coordinator; it answers the same origin. While the
    // runtime reports it crashed, the next region's coordinator takes them. A copy of a request
    // already passed on goes where the first went: a copy delayed past the coordinator's
    // restart once went to the restarted one while the first ran at the next region's, and
    // the two ran one transaction twice, one aborting (the answer the client got) and the
    // other committing (`meridian check --seed 2037 --mode hybrid --nemesis swarm`).
    // (A balancer chooses the coordinator itself and names it in the request: `co`. The copy
    // above could otherwise still reach a second coordinator if it came after this server's
    // restart, which forgets txnCoordinators.)
    const regions = topology.regions;
    if (body.co !== undefined && regions.some((r) => coordinatorAddress(r.name) === body.co)) {
      handToCoordinator(state, body.co, req, origin, ctx);
      return;
    }
    const rq = body.rq;
    const earlier = rq === undefined ? undefined : state.txnCoordinators.get(rq);
    if (earlier !== undefined) {
      handToCoordinator(state, earlier, req, origin, ctx);
      return;
    }
    const home = regions.findIndex((r) => r.name === state.params.region);
    let coordinator = coordinatorAddress(state.params.region);
    for (let k = 0; k < regions.length && state.downNodes.has(coordinator); k++)
      coordinator = coordinatorAddress(regions[(home + k + 1) % regions.length]!.name);
    if (rq !== undefined) {
      state.txnCoordinators.set(rq, coordinator);
      const forgotten = state.txnOrder.added(rq, state.txnCoordinators.size);
      if (forgotten !== undefined) state.txnCoordinators.delete(forgotten);
    }
    handToCoordinator(state, coordinator, req, origin, ctx);
    return;
  }
  routeRequest(state, req, origin, ctx);
}

/**
 * Serve or pass on a request on a key, for `origin`: a local read from a copy here or the
 * nearest one, anything else through the shard's group (routeToGroup). `again`: a read sent
 * again, its first peer gone (see failForwarded).
 */
function routeRequest(state: ServerState, req: Req, origin: Origin, ctx: ActorContext, again?: Again): void {
  const { topology, id, replication } = state.params;
  const body = req.body;
  const shard = shardOfKey(body.key, topology);
  // The 'stale-reads' variant (testing only) answers every read as a local one.
  if (body.op === 'get' && (body.consistency === 'local' || replication.unsafe === 'stale-reads')) {
    // A replica reads its group's copy, else a learner its own: chosen by which it has, not by
    // `??` on the value, which took a stored null for a missing key (found by an audit, session 54).
    const group = state.groups.get(shard);
    const local = group !== undefined ? group.readLocal(body.key) : state.learners.get(shard)?.sm.data.get(body.key);
    if (state.groups.has(shard) || state.learners.has(shard)) {
      state.load.requests++;
      ctx.count('requests');
      replyOk(ctx, origin, id, local);
      return;
    }
    // The nearest replica (or learner) not known to be down: a request is never sent to a
    // node the runtime reported dead, nor to one that never answered this server's probes in
    // the time a region actor gives a server's first heartbeat (unheardDownMs). A server that
    // restarted while every copy of the shard was down never got their crash notices (they
    // went to the live servers), so it forwarded these reads to a dead copy, where they timed
    // out (found by an audit, session 55).
    // (A local read refused here is definite and immediate, whatever the age of the notices:
    // unlike a write, it has no unknown outcome to fall back on; see nearestUp.)
    const now = ctx.monotonicNow();
    const copies = [...groupOf(shard, topology), ...learnersOf(shard, topology)];
    const notDown = copies.filter((s) => !state.downNodes.has(s));
    // Whether each copy is unheard, asked once: it picks the candidates and what to probe.
    const unheard = notDown.map((s) => state.reach.unheard(s, now, state.params.unheardDownMs));
    const candidates = notDown.filter((_, i) => !unheard[i]);
    // The slow and unheard copies are probed (at most every REACH_PROBE_EVERY_MS each): one that
    // answers is read from again, its notices lost or not.
    probeSlow(state, notDown, ctx, unheard);
    if (candidates.length === 0) {
      // A read changes nothing, so refusing it is definite. The next one may find a copy that
      // answered a probe: its restart notice may have been lost, or it came back.
      probeDown(state, copies, ctx);
      const why = notDown.length === 0 ? '' : ` (${notDown.join(', ')} never answered this server's probes)`;
      reply(ctx, origin, { ok: false, code: 'UNAVAILABLE', message: `every replica of shard ${shard} is down${why}` });
      return;
    }
    const here = (s: string): boolean => regionOfServer(s) === state.params.region;
    // A copy the region holds down comes last (it is silent: paused, cut off), but is not refused.
    const fast = (s: string): boolean => !state.reach.slow(s, now) && !heldDown(state, s, now);
    const up = (s: string): boolean => !heldDown(state, s, now);
    const near =
      candidates.find((s) => here(s) && fast(s)) ?? candidates.find(fast) ?? candidates.find((s) => here(s) && up(s)) ?? candidates.find(up) ?? candidates[0]!;
    return forward(state, near, req, origin, ctx, again);
  }
  routeToGroup(state, shard, req, origin, ctx, 0, again);
}

export function shardOfKey(key: string, topology: Topology): number {
  return shardOf(key, topology.shards);
}

/**
 * `again` (a read sent again, see failForwarded): a replica that knows no leader, or only one
 * held dead or down, passes it to another member (otherMember) instead of holding it, so that
 * each time it is sent again is counted.
 */
function routeToGroup(state: ServerState, shard: number, req: Req, origin: Origin, ctx: ActorContext, heldTicks: number, again?: Again): void {
  const group = state.groups.get(shard);
  if (group === undefined) {
    // Not a replica of the shard: pass it to a replica that is not known to be down, nearest
    // first; that replica passes it on to the leader it knows.
    const near = nearestUp(state, shard, ctx);
    // A read is not sent to a copy held dead (nearestUp's last resort for a write): it waited
    // out the caller's timeout (TIMEOUT, outcome unknown) where its refusal is definite (found
    // by an audit, session 59). The copies are probed: one back answers, and the next read goes
    // there (its restart notice, a probe timer's probe, or a word from it take it back too).
    const deadCopy = near !== undefined && req.body.op === 'get' && state.downNodes.has(near);
    if (near === undefined || deadCopy) {
      if (deadCopy) probeDown(state, nearestOrder(state, shard), ctx);
      reply(ctx, origin, notDone(req.body, `every replica of shard ${shard} is down`));
      return;
    }
    return forward(state, near, req, origin, ctx, again);
  }
  if (group.isLeader()) {
    state.load.submitted(origin, ctx.monotonicNow());
    if (!group.submit(req.body, origin)) {
      state.load.refused(origin);
      reply(ctx, origin, notDone(req.body, `shard ${shard}: the leader's queue is full`));
      return;
    }
    state.dirty.add(shard);
    state.dueCache.touched.add(shard);
    return;
  }
  const hint = group.leaderHint();
  if (hint !== undefined && hint !== state.params.id && !state.downNodes.has(hint) && (req.hops ?? 0) < FORWARD_HOPS_MAX) {
    if (again === undefined || !heldDown(state, hint, ctx.monotonicNow())) return forward(state, hint, req, origin, ctx, again);
  }
  if (again !== undefined) {
    const other = otherMember(state, shard, ctx.monotonicNow());
    if (other !== undefined) return forward(state, other, req, origin, ctx, again);
    reply(ctx, origin, { ok: false, code: 'UNAVAILABLE', message: `${again.why}; no other copy can take it` });
    return;
  }
  let held = state.held.get(shard);
  if (held === undefined) state.held.set(shard, (held = []));
  if (held.length >= HELD_PER_SHARD_MAX) {
    reply(ctx, origin, notDone(req.body, `shard ${shard} has no leader and ${HELD_PER_SHARD_MAX} requests waiting`));
    return;
  }
  held.push({ req, origin, ticks: heldTicks });
}

/**
 * The first member of the shard's group not known to be down, nearest first; when every one
 * was reported dead, the first reported at least DOWN_NOTICE_STALE_MS ago. The notice that a
 * node came back travels through the network like any message and can be lost or cut off by
 * a partition; a server that never hears from the node otherwise (not a member of its groups)
 * would then refuse its shards for ever. A write sent to a node reported long enough ago is
 * answered if it is back (the answer goes to the caller, not here); if not, it is lost like one
 * sent just before a crash, and the caller's timeout answers: its outcome was going to be
 * unknown either way ("every replica is down" answers TIMEOUT for a write). A read is not sent
 * to such a copy (routeToGroup refuses it at once, UNAVAILABLE, and probes the copies; a local
 * read does not come here and does the same): the next one is answered by a copy that is back.
 */
function nearestUp(state: ServerState, shard: number, ctx: ActorContext): string | undefined {
  const now = ctx.monotonicNow();
  const up = otherMember(state, shard, now, ctx);
  if (up !== undefined) return up;
  for (const m of nearestOrder(state, shard)) if (now - (state.downSince.get(m) ?? Number.NEGATIVE_INFINITY) >= DOWN_NOTICE_STALE_MS) return m;
  return undefined;
}

/**
 * A member of the shard's group other than this server, not known to be down, nearest first: a
 * slow one (see Reach) is passed over for the next one up, and when every one up is slow, the
 * nearest of them; one the region's membership holds down (memberDown: silent, no crash notice
 * needed) is passed over too, and taken only when no other is left. Before, a paused server
 * (no notice) was chosen by each of its region's servers until its own probes found it slow,
 * the first request of each lost: its region's writes timed out for 10-15 s (found by a
 * failover audit, session 59). With `probeWith`, the slow ones are probed when one was passed over.
 */
function otherMember(state: ServerState, shard: number, now: number, probeWith?: ActorContext): string | undefined {
  const order = nearestOrder(state, shard);
  let slow: string | undefined;
  let silent: string | undefined;
  for (const m of order) {
    if (m === state.params.id || state.downNodes.has(m)) continue;
    if (heldDown(state, m, now)) {
      silent ??= m;
      continue;
    }
    if (!state.reach.slow(m, now)) {
      if (slow !== undefined && probeWith !== undefined) probeSlow(state, order, probeWith);
      return m;
    }
    slow ??= m;
  }
  return slow ?? silent;
}

/** The shard's group, nearest first: this region's members, then the rest, in group order. */
function nearestOrder(state: ServerState, shard: number): readonly string[] {
  let order = state.nearest.get(shard);
  if (order === undefined) {
    const members = groupOf(shard, state.params.topology);
    const here = members.filter((m) => regionOfServer(m) === state.params.region);
    state.nearest.set(shard, (order = [...here, ...members.filter((m) => regionOfServer(m) !== state.params.region)]));
  }
  return order;
}

/**
 * Probe the slow nodes among `nodes` (not held dead), and those never heard from (Reach.unheard,
 * or `unheard[i]` for `nodes[i]` when the caller asked already): a node no longer forwarded to
 * is probed as long as requests might have gone to it, so it is used again once it answers in time.
 */
function probeSlow(state: ServerState, nodes: readonly string[], ctx: ActorContext, unheard?: readonly boolean[]): void {
  const now = ctx.monotonicNow();
  for (let i = 0; i < nodes.length; i++) {
    const m = nodes[i]!;
    if (state.downNodes.has(m)) continue;
    if (!(state.reach.slow(m, now) || (unheard !== undefined ? unheard[i]! : state.reach.unheard(m, now, state.params.unheardDownMs)))) continue;
    probe(state, m, now, ctx);
  }
}

/**
 * Pass a transaction on to `coordinator`, which answers `origin`, remembering where it went:
 * a crash notice for the coordinator fails it at once, outcome unknown, as for a request
 * passed to a server. With a plain forward it waited out the caller's whole timeout (found by
 * a failover audit, session 58).
 */
function handToCoordinator(state: ServerState, coordinator: string, req: Req, origin: Origin, ctx: ActorContext): void {
  if (state.downNodes.has(coordinator)) {
    // Named by the balancer (or where a copy went before) but crashed since: no answer can
    // come from it. Unknown, not refused: an earlier copy may have reached it before.
    // A transaction of gets and checks did nothing either way (unknownBody).
    const readOnly = onlyReads(req.body.ops ?? []);
    const why = `${coordinator} crashed before the transaction reached it`;
    reply(ctx, origin, readOnly ? unknownBody(true, why) : { ok: false, code: 'TIMEOUT', message: `${why}; an earlier copy may have` });
    return;
  }
  ctx.forward(coordinator, req);
  state.forwarded.track(origin, coordinator, ctx.monotonicNow(), undefined, 0, onlyReads(req.body.ops ?? []));
}

/**
 * Pass a request on towards its shard's leader, on behalf of `origin` (the answer goes there).
 * The origin is explicit: a request held through an election is passed on from a tick, whose
 * sender is this server, not the balancer that asked. A read sent `again` is refused instead
 * where `to` is held dead or held down (the routing takes one only when no other is left).
 */
function forward(state: ServerState, to: string, req: Req, origin: Origin, ctx: ActorContext, again?: Again): void {
  const now = ctx.monotonicNow();
  if (again !== undefined && (to === again.from || state.downNodes.has(to) || heldDown(state, to, now))) {
    reply(ctx, origin, { ok: false, code: 'UNAVAILABLE', message: `${again.why}; no other copy can take it` });
    return;
  }
  const hops = (req.hops ?? 0) + 1;
  if (hops > FORWARD_HOPS_MAX) {
    reply(ctx, origin, notDone(req.body, `request for key ${JSON.stringify(req.body.key)} forwarded more than ${FORWARD_HOPS_MAX} times`));
    return;
  }
  // The decoded request is this server's own object: passed on with its hop count, uncopied
  // (a read's is kept, referenced, to send again if `to` goes: see failForwarded).
  req.hops = hops;
  ctx.forward(to, req, origin.to);
  if (again !== undefined) ctx.count('reads-rerouted');
  // Remember where it went, so a crash notice (or the region's word) for that node deals with it at once.
  state.forwarded.track(origin, to, now, req.body.op === 'get' ? req : undefined, again?.reroutes ?? 0);
  // And probe it now and then: its answers go to the caller, so this is how to tell it is slow.
  probe(state, to, now, ctx);
}
