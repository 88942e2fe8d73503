import { FifoOrder } from '../core/fifo-order.js';
import { ForgottenMarks } from '../core/forgotten-marks.js';
import { BEGUN_REMEMBERED_MAX, SEEN_CLIENTS_MAX } from '../core/limits.js';
import type { ActorContext, Behavior, UndeliverableMessage } from '../runtime/actor.js';
import type { TxnOp, TxnReads } from '../replication/ops.js';
import type { CommitProtocolName } from '../protocols/commit.js';
import { createCoordinatorCore, VOTE_TIMEOUT_TICKS, type CoordinatorCore } from '../replication/commit-cores.js';
import type { ParticipantWire, ReadsQuery, ReadsTooLarge } from '../replication/messages.js';
import type { ResolvedConfig } from './config.js';
import { READ_ONLY, type CoordinatorInbound, type CoordinatorPeerWire, type Probe, type ProbeAck, type Req, type Res, type ResOk } from './messages.js';
import { allServers, coordinatorAddress, groupOf, shardOf, topologyOf, type Topology } from './topology.js';
import { checkedTick, checkedTicks, LAZY_TICKS_MAX, TickClock, TICKS_MODE } from './tick-clock.js';
import { committedTooLarge, onlyReads, outcomeUnknown, readTooLarge, wroteTooLarge } from './too-large.js';
import { refusingStandIn } from './stand-in.js';
import { wireShellBytesMax } from './server.js';
import { chunksWithin, encodedBytes } from '../protocols/snapshot-pieces.js';

/** Transactions one coordinator runs at once; beyond it new ones are refused (UNAVAILABLE). */
export const COORDINATOR_TXNS_MAX = 10_000;
/** Ticks without word from a shard's believed leader before the coordinator tries another replica. */
export const LEADER_SILENCE_TICKS = 50;
/**
 * A coordinator that sent to servers and has heard from none of them for this many ticks (a
 * vote timeout) probes every server (at the next request or balancer probe); if none answers
 * within CUT_OFF_PROBE_WAIT_MS it is cut off: it refuses new transactions (UNAVAILABLE,
 * definite: not begun, so the balancer sends the next ones to another region's coordinator)
 * and answers no balancer's probe until a server answers one of its own. Before (2026-12-03),
 * one whose messages to the servers were lost aborted every transaction of its region while
 * the fault lasted. The probes first: one participant down for a second is no reason to refuse.
 */
export const CUT_OFF_TICKS = VOTE_TIMEOUT_TICKS;
/** How long the probes of a silent coordinator wait for an answer before it counts as cut off (ms). */
export const CUT_OFF_PROBE_WAIT_MS = 300;
/** How often a silent coordinator probes the servers, at most (ms). */
export const CUT_OFF_PROBE_MS = 200;

export interface CoordinatorParams {
  region: string;
  commit: CommitProtocolName;
  topology: Topology;
  tickMs: number;
  /** Paxos Commit: every region's coordinator is an acceptor (2F+1 = the number of regions). */
  acceptors: string[];
  /** Testing only: the '2pc-commit-on-timeout' variant. */
  unsafeCommitOnTimeout?: boolean;
  /** Request ids remembered as begun (ClusterConfig.limits.begunRequests; default BEGUN_REMEMBERED_MAX). */
  begunRemembered?: number;
  /** The host's messageBytesMax: a wire of several messages that would be over it goes as several (see sendWithin); unset, none is split. */
  messageBytesMax?: number;
}

export function coordinatorParams(config: ResolvedConfig, region: string): CoordinatorParams {
  const params: CoordinatorParams = {
    region,
    commit: config.commit,
    topology: topologyOf(config),
    tickMs: 10,
    acceptors: config.regions.map((r) => coordinatorAddress(r.name)),
    messageBytesMax: config.messageBytesMax,
  };
  if (config.replication.unsafe === '2pc-commit-on-timeout') params.unsafeCommitOnTimeout = true;
  if (config.limits.begunRequests !== BEGUN_REMEMBERED_MAX) params.begunRemembered = config.limits.begunRequests;
  return params;
}

/** A transaction this coordinator began and a client waits for. */
interface PendingTxn {
  to: string;
  rid: number;
  /** The client's ops, in its order, and the shard of each. */
  ops: TxnOp[];
  shards: number[];
  /** What it read, per shard with a get (from the yes votes, or asked for after the commit). */
  reads: Map<number, TxnReads>;
  /** Committed, waiting for the reads of these shards; ticks since last asked, tries. */
  missing?: Set<number>;
  /** What it read at a shard is over messageBytesMax (its participant said so): committed, it is answered with an error. */
  tooLarge?: ReadsTooLarge;
  askTicks: number;
  asked: number;
}

/** Ticks between asks for a committed transaction's reads, and asks before giving up. */
export const READS_ASK_TICKS = 30;
export const READS_ASKS_MAX = 20;
/** Records appended before the coordinator replaces its log by a checkpoint. */
export const COORDINATOR_CHECKPOINT_EVERY_RECORDS = 4_096;
/**
 * Transactions whose records the checkpoint keeps, newest first: what the Paxos Commit core
 * itself remembers (PAXOS_COMMIT_REMEMBERED_TXNS_MAX). 2PC's commit records stay until their end.
 */
export const COORDINATOR_LOG_TXNS_MAX = 100_000;
/**
 * Protocol messages for shards wait in the outbox while more messages wait in the mailbox, so
 * what a burst of messages produced for a shard's participant travels as one wire (as several
 * if together over messageBytesMax, see sendWithin); the outbox is sent when the mailbox is
 * empty (no delay when idle), or at this many messages.
 */
export const OUTBOX_MAX = 64;

export interface CoordinatorState {
  params: CoordinatorParams;
  core: CoordinatorCore;
  pending: Map<string, PendingTxn>;
  /** The live part of the durable log, by transaction (insertion order = age). */
  log: Map<string, unknown[]>;
  /** Insertion order of `log` (which transaction to forget first past COORDINATOR_LOG_TXNS_MAX). */
  logOrder: FifoOrder<string>;
  sinceCheckpoint: number;
  /** Checkpoints written since this incarnation began (Cluster.checkpointsOf). */
  checkpoints: number;
  /** A simulator's fault site (Cluster.requestCheckpoint): checkpoint after the next round that persists, else at the end of the next drain. */
  checkpointAsked: boolean;
  /** Per shard: the replica believed to lead, and ticks since it last answered. */
  leaders: Map<number, { server: string; silentTicks: number; rotation: number }>;
  committed: number;
  aborted: number;
  /** Request ids of transactions begun (or refused), so a duplicated request does not run twice (or after its refusal). */
  begun: Map<string, string>;
  /** Insertion order of `begun` (which to forget first). */
  begunOrder: FifoOrder<string>;
  /**
   * Per client, the highest request number `begun` forgot: a copy of a request at or below it
   * that `begun` does not hold is older than what is remembered, and is not begun (again).
   */
  begunForgotten: ForgottenMarks;
  /** Committed transactions (in `pending`) still waiting for what they read at some shard. */
  awaitingReads: Set<string>;
  /** Per destination server, per shard: the wire that carries this turn's messages (see OUTBOX_MAX). */
  outbox: Map<string, Map<number, ParticipantWire>>;
  /** Per peer coordinator (Paxos Commit): the wire that carries this turn's messages to it. */
  peerOutbox: Map<string, CoordinatorPeerWire>;
  outboxCount: number;
  /** The outbox holds a message a server answers (see flushOutbox). */
  outboxAsks: boolean;
  /** The tick grid: ticks that only count are counted when the next message comes (see tick-clock.ts). */
  ticks: TickClock;
  /** Ticks until the next one that does more than count, as of the end of the last step. */
  due: number;
  /**
   * Transaction ids are `<region>:<incarnation>:<n>`, n counting up from 0 in each
   * incarnation (a random id drawn at init): a participant that forgot a finished
   * transaction still refuses a late copy of its prepare (KvStateMachine.forgottenTxns).
   */
  txnPrefix: string;
  txnSeq: number;
  /** When (monotonic ms) it first sent to a server since it last heard from one; undefined: heard since. */
  silentSince: number | undefined;
  /** When it last probed the servers during this silence, and first (monotonic ms; see CUT_OFF_TICKS). */
  probedAt: number;
  probedSince: number | undefined;
  /**
   * The lowest `at` (ctx.now()) of this silence's probes: only an answer to a probe of this
   * silence ends it (see the 'probe-ack' case).
   */
  probesFrom: number;
  /** When (monotonic ms) it last heard from a server (see heardFrom); -Infinity: not yet. */
  heardAt: number;
  /** Balancers whose verify probe waits for a server's answer to this coordinator's probes: by prober, the probe's `at`. */
  verifiers: Map<string, number>;
  /** `<region>:`, how the ids of the transactions this region's coordinator began start (see heardFrom). */
  ownTxns: string;
}

/** Transaction request ids remembered against duplicates (src/core/limits.ts). */
export { BEGUN_REMEMBERED_MAX };

/**
 * The coordinator while it cannot start (its durable log is damaged, say: durable.ts refuses
 * it) and its supervisor backs off before the next try: a refusing stand-in (stand-in.ts), as
 * the server's. Before, it had none: the transactions sent to it waited in its mailbox until
 * their callers timed out (TIMEOUT, outcome unknown), and the balancers, which hold a
 * coordinator down only on a crash notice or a cut-off refusal, kept sending it each new one.
 * Now each is refused at once, UNAVAILABLE with `cutOff`, as a coordinator that hears from no
 * server refuses (see CUT_OFF_TICKS): definite, since the stand-in begins nothing, and the
 * balancer holds it down and sends the next ones to another region's coordinator until it
 * answers a probe, which only a coordinator that started does. It answers nothing else: its
 * participants and peer acceptors hear from it as from a crashed node. (It cannot read the
 * begun requests of the log it failed to load, nor write its refusals there: a late copy of a
 * request an earlier life began is refused all the same. See docs/design.md, Supervision.)
 */
export const coordinatorStandIn = refusingStandIn<CoordinatorParams, CoordinatorInbound>({
  refusal: (_req, message) => ({ ok: false, code: 'UNAVAILABLE', message, cutOff: true }),
});

/**
 * A region's transaction coordinator: splits a transaction's operations by shard, runs the
 * configured commit protocol with each shard's replication group as one participant, and
 * answers the client: success at the commit point, AbortedError when it aborts.
 */
export const coordinatorBehavior: Behavior<CoordinatorState, CoordinatorParams, CoordinatorInbound> = {
  name: 'coordinator',
  standIn: coordinatorStandIn,
  init(ctx, params, recovered) {
    // The request ids begun are the coordinator's own records; the rest are the core's.
    const begunRecords = recovered.filter(isBegunRecord);
    const coreRecords = begunRecords.length === 0 ? recovered : recovered.filter((r) => !isBegunRecord(r));
    const state: CoordinatorState = {
      params,
      core: createCoordinatorCore(params.commit, ctx.self, coreRecords, {
        acceptors: params.acceptors,
        seed: Math.floor(ctx.random() * 0x100000000),
        ...(params.unsafeCommitOnTimeout === true ? { unsafeCommitOnTimeout: true } : {}),
      }),
      pending: new Map(),
      log: new Map(),
      logOrder: new FifoOrder(COORDINATOR_LOG_TXNS_MAX),
      sinceCheckpoint: 0,
      checkpoints: 0,
      checkpointAsked: false,
      leaders: new Map(),
      committed: 0,
      aborted: 0,
      begun: new Map(),
      begunOrder: new FifoOrder(params.begunRemembered ?? BEGUN_REMEMBERED_MAX),
      begunForgotten: new ForgottenMarks(SEEN_CLIENTS_MAX),
      awaitingReads: new Set(),
      outbox: new Map(),
      peerOutbox: new Map(),
      outboxCount: 0,
      outboxAsks: false,
      ticks: new TickClock(params.tickMs, ctx.monotonicNow()),
      due: 1,
      txnPrefix: `${params.region}:${ctx.nextId()}`,
      txnSeq: 0,
      silentSince: undefined,
      probedAt: Number.NEGATIVE_INFINITY,
      probedSince: undefined,
      probesFrom: Number.POSITIVE_INFINITY,
      heardAt: Number.NEGATIVE_INFINITY,
      verifiers: new Map(),
      ownTxns: `${params.region}:`,
    };
    for (const record of begunRecords) {
      for (const [client, n] of record.forgotten ?? []) state.begunForgotten.raise(client, n);
      for (const rq of record.rqs) rememberBegun(state, rq, BEGUN_BEFORE_RESTART);
    }
    for (const record of coreRecords) remember(state, record);
    // A restart that read a long log compacts it at once.
    if (recovered.length > 2 * liveRecords(state) + COORDINATOR_CHECKPOINT_EVERY_RECORDS / 4) ctx.checkpoint(checkpointOf(state));
    if (recovered.length > 0) ctx.count('coordinator-recovered-records', recovered.length);
    drain(state, ctx);
    flushOutbox(state, ctx);
    ctx.setTimer('tick', params.tickMs);
    return state;
  },
  receive(state, msg, ctx) {
    // Ticks that passed since the last one only count: catch up before anything else.
    const now = ctx.monotonicNow();
    const tickTimer = msg.type === 'timer' && msg.key === 'tick';
    const before = tickTimer ? state.ticks.fired(now) : -1;
    advanceTicks(state, before >= 0 ? before : state.ticks.elapsed(now), ctx);
    if (before >= 0) onTimerTick(state, ctx);
    else if (msg.type !== 'timer') handle(state, msg, ctx);
    if (state.outboxCount > 0 && (state.outboxCount >= OUTBOX_MAX || ctx.mailbox() === 0)) flushOutbox(state, ctx);
    if (before < 0 && !state.ticks.canMoveEarlier()) return;
    state.due = ticksUntilDue(state);
    const delay = state.ticks.rearm(now, state.due, before >= 0);
    if (delay !== undefined) ctx.setTimer('tick', delay);
  },
  summary(state) {
    return { commit: state.params.commit, pending: state.pending.size, committed: state.committed, aborted: state.aborted, logTxns: state.log.size };
  },
};

function handle(state: CoordinatorState, msg: CoordinatorInbound, ctx: ActorContext): void {
  switch (msg.type) {
    case 'req':
      begin(state, msg, ctx);
      return;
    case 'tx-r': {
      const m = msg;
      if (heardFrom(state, m.m) || m.more?.some((x) => heardFrom(state, x.m)) === true) heard(state, ctx);
      const leader = state.leaders.get(m.s);
      if (leader !== undefined && leader.server === ctx.sender) leader.silentTicks = 0;
      else state.leaders.set(m.s, { server: ctx.sender, silentTicks: 0, rotation: 0 });
      const from = `shard/${m.s}`;
      fromShard(state, m.s, from, m.m, m.r);
      // A batch: every message stepped, then one drain.
      if (m.more !== undefined) for (const x of m.more) fromShard(state, m.s, from, x.m, x.r);
      drain(state, ctx);
      return;
    }
    case 'tx-a': {
      const m = msg;
      if (heardFrom(state, m)) heard(state, ctx);
      const p = state.pending.get(m.txn);
      if (p === undefined || p.missing === undefined || m.r === undefined) return;
      p.reads.set(m.s, m.r);
      p.missing.delete(m.s);
      if (p.missing.size === 0) answerCommitted(state, m.txn, p, ctx);
      return;
    }
    case 'probe':
      // A balancer or server that missed this coordinator's restart notice asks whether it
      // runs; cut off, it does not serve yet (see CUT_OFF_TICKS), and asks the servers instead.
      // A balancer whose transaction waits on it asks it to verify (Probe.verify): unless a
      // server answered it lately, the answer waits for one (heard), or never comes if none does.
      // A prober waiting already keeps its newest ask, which its answer must name: a copy of an
      // earlier one, come late, answered with its older `at` a doubt the newer ask had opened,
      // which the balancer did not take as answered (it held the coordinator down and failed its
      // transactions: a class audit, session 64).
      if (cutOff(state, ctx, msg.verify === true)) return;
      if (msg.verify === true && state.probedSince !== undefined) {
        if (!(msg.at <= (state.verifiers.get(ctx.sender) ?? Number.NEGATIVE_INFINITY))) state.verifiers.set(ctx.sender, msg.at);
      } else ctx.send(ctx.sender, { type: 'probe-ack', at: msg.at } satisfies ProbeAck);
      return;
    case 'probe-ack':
      // A server answered one of probeServers' probes (a coordinator probes nobody else): it
      // hears this coordinator, and this coordinator hears it. Only an answer to a probe of
      // this silence says so: a copy the network made of an answer to an earlier silence's
      // probe, or one delivered late, says nothing of now. Taken as word from a server, it
      // ended a cut-off coordinator's silence, which then answered its balancer's probe, was
      // taken back and aborted its region's transactions again (a class audit, session 64).
      if (state.probedSince !== undefined && msg.at >= state.probesFrom) heard(state, ctx);
      return;
    case 'tx-c':
      state.core.step(ctx.sender, msg.m);
      if (msg.more !== undefined) for (const m of msg.more) state.core.step(ctx.sender, m);
      drain(state, ctx);
      return;
    case 'tx-big':
      if (heardFrom(state, msg)) heard(state, ctx);
      readsTooLarge(state, msg, ctx);
      return;
    case 'undeliverable':
      onUndeliverable(msg, ctx);
      return;
    default:
      return;
  }
}

/**
 * A message of this coordinator's own that its host could not send. Its answer to a committed
 * transaction over messageBytesMax (what it read, from several shards: each shard's part fit
 * in its vote) is handed back, the very object sent (see UndeliverableMessage), and a short
 * error for the same request goes where it was going (too-large.ts): an answer marked as a
 * read-only transaction's (ResOk's READ_ONLY) did nothing, a definite error; any other may have
 * written (the ops went with the pending entry), TIMEOUT. Before, every one was TIMEOUT: a
 * transaction of gets on two shards whose reads together were too large was recorded unknown
 * though it wrote nothing (left open by an audit, session 55). The rest are ignored, as before.
 */
function onUndeliverable(msg: UndeliverableMessage, ctx: ActorContext): void {
  if (msg.reason !== 'too-large' || msg.original?.type !== 'res') return;
  const res = msg.original as Partial<ResOk>;
  if (res.ok !== true || typeof res.rid !== 'number') return;
  const bytes = msg.bytes ?? 0;
  const max = msg.max ?? 0;
  ctx.send(
    msg.to,
    res[READ_ONLY] === true ? readTooLarge(res.rid, 'the answer of a transaction (what it read)', bytes, max) : committedTooLarge(res.rid, bytes, max),
  );
}

/**
 * A participant says what a transaction read at its shard is over messageBytesMax
 * (Participants.tooLarge): committed and waiting for its reads, it is answered now; still
 * undecided, when it commits (drain), with an error either way. An abort is answered as ever.
 */
function readsTooLarge(state: CoordinatorState, msg: ReadsTooLarge, ctx: ActorContext): void {
  const p = state.pending.get(msg.txn);
  if (p === undefined) return;
  p.tooLarge ??= msg;
  if (p.missing !== undefined) answerTooLarge(state, msg.txn, p, ctx);
}

/**
 * A committed transaction whose reads are too large to send: one that only read (gets and
 * checks) did nothing, a definite error; one that wrote took effect, TIMEOUT (too-large.ts).
 */
function answerTooLarge(state: CoordinatorState, txn: string, p: PendingTxn, ctx: ActorContext): void {
  state.pending.delete(txn);
  state.awaitingReads.delete(txn);
  const t = p.tooLarge!;
  const what = `what transaction ${txn} read at shard ${t.s}`;
  ctx.send(p.to, onlyReads(p.ops) ? readTooLarge(p.rid, what, t.bytes, t.max) : wroteTooLarge(p.rid, what, t.bytes, t.max));
}

/** A participant's message (with what the transaction read there, on a yes vote): to the core. */
function fromShard(state: CoordinatorState, s: number, from: string, m: unknown, r: TxnReads | undefined): void {
  if (r !== undefined) {
    const txn = (m as { txn?: string }).txn;
    const p = txn === undefined ? undefined : state.pending.get(txn);
    if (p !== undefined) p.reads.set(s, r);
  }
  state.core.step(from, m);
}

/** Ticks until the next one that does more than count: the core's timeouts, the next ask for a committed transaction's reads (at most LAZY_TICKS_MAX). */
function ticksUntilDue(state: CoordinatorState): number {
  if (state.core.hasReady()) return 1;
  let k = Math.min(LAZY_TICKS_MAX, state.core.ticksUntilDue());
  for (const txn of state.awaitingReads) k = Math.min(k, READS_ASK_TICKS - state.pending.get(txn)!.askTicks);
  return Math.max(1, k);
}

/** `n` ticks that only count: the believed leaders' silence. */
function advanceTicks(state: CoordinatorState, n: number, ctx: ActorContext): void {
  if (n <= 0) return;
  // Testing: each in full, checked to do nothing but count. The checkpoint a fault site asked
  // for waits for the step's own drain, as here in lazy mode (see withAskedCheckpointHeld).
  if (TICKS_MODE === 'verify') withAskedCheckpointHeld(state, () => checkedTicks(state, n, ctx, onTick, ticksUntilDue));
  else {
    for (const l of state.leaders.values()) l.silentTicks += n;
    state.core.advance(n);
    for (const txn of state.awaitingReads) state.pending.get(txn)!.askTicks += n;
  }
}

function onTick(state: CoordinatorState, ctx: ActorContext): void {
  for (const l of state.leaders.values()) l.silentTicks++;
  state.core.tick();
  drain(state, ctx);
  askForReads(state, ctx);
}

/** The tick timer's tick, in full; in eager mode (testing) a tick predicted to only count is checked to have no effect. */
function onTimerTick(state: CoordinatorState, ctx: ActorContext): void {
  if (TICKS_MODE === 'eager' && state.due > 1) {
    withAskedCheckpointHeld(state, () => checkedTick(state, ctx, onTick, ticksUntilDue));
    // Where the tick's drain takes it in lazy mode: at its end.
    if (state.checkpointAsked) checkpointNow(state, ctx);
  } else onTick(state, ctx);
}

/**
 * Testing (eager and verify modes): `check` (ticks checked to do nothing but count) with the
 * checkpoint Cluster.requestCheckpoint asked for (a fault site, from outside the actor) held
 * back until it returns. It is asked of the next step that drains, not of a tick; a checked
 * tick drained and took it, counted as the tick's effect, and the check threw: in 14 of 100
 * seeds of `MERIDIAN_TICKS=verify meridian check` (an audit, session 67; until then such an
 * error restarted the coordinator and the seed passed).
 */
function withAskedCheckpointHeld(state: CoordinatorState, check: () => void): void {
  const asked = state.checkpointAsked;
  state.checkpointAsked = false;
  try {
    check();
  } finally {
    state.checkpointAsked ||= asked;
  }
}

function begin(state: CoordinatorState, req: Req, ctx: ActorContext): void {
  const origin = { to: ctx.sender, rid: req.rid };
  const ops = req.body.ops ?? [];
  const rq = req.body.rq;
  const earlier = rq === undefined ? undefined : state.begun.get(rq);
  if (earlier === BEGUN_BEFORE_RESTART) {
    // Begun (or refused) by this coordinator before it restarted: the client it answered then
    // is forgotten (a restart keeps decisions, not who waits), so this copy may be the only one
    // left to answer, and all it can say is that the outcome is unknown; a copy carries the
    // transaction's ops, so one of gets and checks is known to have done nothing (outcomeUnknown).
    ctx.reply(outcomeUnknown(req.rid, onlyReads(ops), `coordinator/${state.params.region} restarted since transaction ${rq!} began`));
    return;
  }
  if (earlier !== undefined) return; // A duplicate: the first one answers.
  if (rq !== undefined && state.begunForgotten.covers(rq)) {
    // Older than the BEGUN_REMEMBERED_MAX requests remembered: a late copy of one begun (or
    // refused) long ago, most likely; it must not begin again, and its outcome is not known here
    // (a transaction of gets and checks did nothing, whatever it was).
    ctx.reply(
      outcomeUnknown(
        req.rid,
        onlyReads(ops),
        `transaction request ${rq} is older than coordinator/${state.params.region} remembers: a late copy, not begun again`,
      ),
    );
    return;
  }
  if (cutOff(state, ctx)) {
    refuse(
      state,
      req,
      `coordinator/${state.params.region} hears from no server (for ${Math.round(ctx.monotonicNow() - (state.silentSince ?? state.probedSince!))} ms)`,
      ctx,
      true,
    );
    return;
  }
  if (state.pending.size >= COORDINATOR_TXNS_MAX) {
    refuse(state, req, `coordinator/${state.params.region} runs ${COORDINATOR_TXNS_MAX} transactions already`, ctx, false);
    return;
  }
  const byShard = new Map<number, TxnOp[]>();
  const shards: number[] = [];
  for (const op of ops) {
    const s = shardOf(op.key, state.params.topology.shards);
    shards.push(s);
    let list = byShard.get(s);
    if (list === undefined) byShard.set(s, (list = []));
    list.push(op);
  }
  const txn = `${state.txnPrefix}:${state.txnSeq++}`;
  if (rq !== undefined) persistBegun(state, rq, txn, ctx);
  state.pending.set(txn, { ...origin, ops, shards, reads: new Map(), askTicks: 0, asked: 0 });
  state.core.begin(
    txn,
    [...byShard].map(([s, shardOps]) => ({ to: `shard/${s}`, payload: shardOps })),
  );
  drain(state, ctx);
}

/** What `begun` holds for a request id read back from the log (see BegunRecord). */
const BEGUN_BEFORE_RESTART = '(before the restart)';

/** A client request id begun (`txn`) or refused (''), remembered against its duplicates (BEGUN_REMEMBERED_MAX). */
function rememberBegun(state: CoordinatorState, rq: string, txn: string): void {
  state.begun.set(rq, txn);
  const forgotten = state.begunOrder.added(rq, state.begun.size);
  if (forgotten === undefined) return;
  state.begun.delete(forgotten);
  state.begunForgotten.forgot(forgotten);
}

/**
 * Request ids begun, in the coordinator's log: one record per request as it begins, and one
 * with every id remembered in each checkpoint (oldest first). A restart reads them back, so a
 * copy of a request the network delayed past the restart is still a duplicate. Before, `begun`
 * was memory only: a transaction whose copy arrived after the coordinator restarted ran twice
 * (a duplicated request around a crash of the coordinator: 37 of 217 begins in the test).
 */
export interface BegunRecord {
  type: 'begun';
  rqs: string[];
  /** In a checkpoint: the marks of what `begun` forgot (see CoordinatorState.begunForgotten). */
  forgotten?: Array<[string, number]>;
}

function isBegunRecord(record: unknown): record is BegunRecord {
  return (record as { type?: unknown }).type === 'begun' && Array.isArray((record as { rqs?: unknown }).rqs);
}

function persistBegun(state: CoordinatorState, rq: string, txn: string, ctx: ActorContext): void {
  rememberBegun(state, rq, txn);
  ctx.persist({ type: 'begun', rqs: [rq] } satisfies BegunRecord);
  if (++state.sinceCheckpoint >= COORDINATOR_CHECKPOINT_EVERY_RECORDS) checkpointNow(state, ctx);
}

function target(state: CoordinatorState, shard: number): string {
  const group = groupOf(shard, state.params.topology);
  let leader = state.leaders.get(shard);
  if (leader === undefined) state.leaders.set(shard, (leader = { server: group[0]!, silentTicks: 0, rotation: 0 }));
  if (leader.silentTicks > LEADER_SILENCE_TICKS) {
    // No answer for a while: try the next replica; it forwards to the leader it knows.
    leader.rotation++;
    leader.server = group[leader.rotation % group.length]!;
    leader.silentTicks = 0;
  }
  return leader.server;
}

function drain(state: CoordinatorState, ctx: ActorContext): void {
  for (let round = 0; round < 4 && state.core.hasReady(); round++) {
    const r = state.core.ready();
    for (const record of r.persist) {
      ctx.persist(record);
      remember(state, record);
      state.sinceCheckpoint++;
    }
    if (state.sinceCheckpoint >= COORDINATOR_CHECKPOINT_EVERY_RECORDS || (state.checkpointAsked && r.persist.length > 0)) checkpointNow(state, ctx);
    for (const m of r.messages) {
      if (m.to.startsWith('shard/')) {
        const s = Number(m.to.slice(6));
        const msg = m.msg as ParticipantWire['m'];
        if (msg.type !== 'outcome') state.outboxAsks = true;
        toShard(state, target(state, s), s, msg);
      } else {
        // Another coordinator (Paxos Commit acceptors and leaders): wrapped, so it is not
        // mistaken for a message of the coordinator actor itself.
        const wire = state.peerOutbox.get(m.to);
        if (wire === undefined) state.peerOutbox.set(m.to, { type: 'tx-c', m: m.msg });
        else if (wire.more === undefined) wire.more = [m.msg];
        else wire.more.push(m.msg);
        state.outboxCount++;
      }
    }
    for (const d of r.decisions) {
      const origin = state.pending.get(d.txn);
      if (d.kind === 'commit') state.committed++;
      else state.aborted++;
      ctx.count(d.kind === 'commit' ? 'txn-commit' : 'txn-abort');
      if (origin === undefined) continue; // Recovered after a restart: nobody waits any more.
      if (d.kind === 'abort') {
        state.pending.delete(d.txn);
        // Why, in the core's words: the first no-voter's reason (which key, what failed), or
        // whose votes did not come. It was `(vote-no)` alone, whatever the key or the check.
        ctx.send(origin.to, {
          type: 'res',
          rid: origin.rid,
          ok: false,
          code: 'ABORTED',
          message: `transaction ${d.txn} aborted: ${d.why}`,
          reason: d.why,
        } satisfies Res);
        continue;
      }
      // Committed: answer with what it read; shards whose vote did not bring it are asked.
      const missing = new Set<number>();
      origin.ops.forEach((op, i) => {
        if (op.op === 'get' && !origin.reads.has(origin.shards[i]!)) missing.add(origin.shards[i]!);
      });
      if (missing.size === 0) {
        answerCommitted(state, d.txn, origin, ctx);
        continue;
      }
      origin.missing = missing;
      if (origin.tooLarge !== undefined) {
        answerTooLarge(state, d.txn, origin, ctx);
        continue;
      }
      origin.askTicks = READS_ASK_TICKS;
      state.awaitingReads.add(d.txn);
    }
  }
  // Asked for a checkpoint (a simulator's fault site) and nothing persisted this step: take it now.
  if (state.checkpointAsked) checkpointNow(state, ctx);
}

function checkpointNow(state: CoordinatorState, ctx: ActorContext): void {
  state.sinceCheckpoint = 0;
  state.checkpointAsked = false;
  state.checkpoints++;
  ctx.checkpoint(checkpointOf(state));
}

/** Queue a protocol message for shard `s`'s participant at server `to` (see OUTBOX_MAX). */
function toShard(state: CoordinatorState, to: string, s: number, m: ParticipantWire['m']): void {
  let byShard = state.outbox.get(to);
  if (byShard === undefined) state.outbox.set(to, (byShard = new Map()));
  const wire = byShard.get(s);
  if (wire === undefined) byShard.set(s, { type: 'tx', s, m });
  else if (wire.more === undefined) wire.more = [m];
  else wire.more.push(m);
  state.outboxCount++;
}

/**
 * A definite refusal (UNAVAILABLE: not begun), remembered as begun so that a later copy of the
 * request does not begin it. `cutOff`: this coordinator hears from no server (see CUT_OFF_TICKS).
 */
function refuse(state: CoordinatorState, req: Req, message: string, ctx: ActorContext, cutOff: boolean): void {
  if (req.body.rq !== undefined) persistBegun(state, req.body.rq, '', ctx);
  ctx.reply({ type: 'res', rid: req.rid, ok: false, code: 'UNAVAILABLE', message, ...(cutOff ? { cutOff: true as const } : {}) } satisfies Res);
}

/** Send what the outbox holds, one wire per server and shard, in the order they were first queued. */
function flushOutbox(state: CoordinatorState, ctx: ActorContext): void {
  if (state.outboxCount === 0) return;
  // Silent from a message a server answers: not Paxos Commit's outcome, which no server answers
  // (with acceptor traffic no longer heard, a coordinator idle after one probed the servers at
  // its next request).
  if (state.outboxAsks && state.silentSince === undefined) state.silentSince = ctx.monotonicNow();
  state.outboxAsks = false;
  for (const [to, byShard] of state.outbox) for (const wire of byShard.values()) sendWithin(state, to, wire, ctx);
  for (const [to, wire] of state.peerOutbox) sendWithin(state, to, wire, ctx);
  state.outbox.clear();
  state.peerOutbox.clear();
  state.outboxCount = 0;
}

/**
 * Send `wire`, the messages a burst gathered for one destination (the first as `m`, the rest in
 * `more`), in as few wires as keep each under messageBytesMax, in order: whole if it fits,
 * else cut where the next message would take a wire over (chunksWithin: each message measured
 * alone, the sum is at least what they encode to together). Gathered whole, a burst of transactions for
 * one shard, each prepare carrying the transaction's ops there, made one wire over it that the
 * host dropped: every transaction of the burst aborted at its vote timeout, burst after burst,
 * though each fit alone (test/gathered-bytes.part.ts). A wire of one message goes unmeasured:
 * there is nothing to cut (a prepare too large alone is dropped as before, and its transaction
 * aborts at its vote timeout; its shard could not have logged its ops anyway, see
 * commandBytesMax in server.ts).
 */
function sendWithin<W extends { type: string; m: unknown; more?: unknown[] }>(state: CoordinatorState, to: string, wire: W, ctx: ActorContext): void {
  const max = state.params.messageBytesMax;
  if (wire.more === undefined || max === undefined) return ctx.send(to, wire);
  const budget = max - wireShellBytesMax(ctx.self, to);
  if (encodedBytes(wire) <= budget) return ctx.send(to, wire);
  const { m: first, more, ...shell } = wire;
  for (const [m, ...rest] of chunksWithin([first, ...more], budget)) ctx.send(to, rest.length === 0 ? { ...shell, m } : { ...shell, m, more: rest });
}

/**
 * The client's answer: one entry per op, `[value]` for a get that found one, else `[]`. A
 * read-only transaction's is marked so (READ_ONLY, off the wire), should it be too large to send.
 */
function answerCommitted(state: CoordinatorState, txn: string, p: PendingTxn, ctx: ActorContext): void {
  state.pending.delete(txn);
  state.awaitingReads.delete(txn);
  const next = new Map<number, number>();
  const value: TxnReads = p.ops.map((op, i) => {
    if (op.op !== 'get') return [];
    const s = p.shards[i]!;
    const j = next.get(s) ?? 0;
    next.set(s, j + 1);
    return p.reads.get(s)?.[j] ?? [];
  });
  const res: ResOk = { type: 'res', rid: p.rid, ok: true, value };
  if (onlyReads(p.ops)) res[READ_ONLY] = true;
  ctx.send(p.to, res);
}

/** Committed transactions still missing what they read at some shard: ask again, or give up. */
function askForReads(state: CoordinatorState, ctx: ActorContext): void {
  // Live iteration: only the transaction in hand is deleted.
  for (const txn of state.awaitingReads) {
    const p = state.pending.get(txn)!;
    if (++p.askTicks < READS_ASK_TICKS) continue;
    p.askTicks = 0;
    if (p.asked++ >= READS_ASKS_MAX) {
      state.pending.delete(txn);
      state.awaitingReads.delete(txn);
      // One of gets and checks did nothing: a definite error (UNAVAILABLE), as outcomeUnknown
      // answers; one that wrote took effect, but the caller cannot have what it read (TIMEOUT).
      const what = `transaction ${txn} committed, but what it read could not be learned`;
      ctx.send(
        p.to,
        onlyReads(p.ops)
          ? outcomeUnknown(p.rid, true, what)
          : ({ type: 'res', rid: p.rid, ok: false, code: 'TIMEOUT', message: `${what}; its writes took effect` } satisfies Res),
      );
      continue;
    }
    for (const s of p.missing!) ctx.send(target(state, s), { type: 'tx-q', s, txn } satisfies ReadsQuery);
  }
}

/** Keep a record in the live log (by transaction); a 2PC end record retires its transaction. */
function remember(state: CoordinatorState, record: unknown): void {
  const r = record as { type?: string; txn?: string };
  if (typeof r.txn !== 'string') return;
  if (r.type === 'end' && state.params.commit === '2pc') {
    state.log.delete(r.txn);
    return;
  }
  let list = state.log.get(r.txn);
  if (list === undefined) {
    state.log.set(r.txn, (list = []));
    // (A 2PC end record deletes its transaction, above: the order skips those.)
    const forgotten = state.logOrder.addedLive(r.txn, state.log.size, (txn) => state.log.has(txn));
    if (forgotten !== undefined) state.log.delete(forgotten);
  }
  list.push(record);
}

function liveRecords(state: CoordinatorState): number {
  let n = 0;
  for (const list of state.log.values()) n += list.length;
  return n;
}

/** Everything a restart needs: the request ids begun (one record), then the live records, oldest transaction first. */
function checkpointOf(state: CoordinatorState): unknown[] {
  const out: unknown[] = [];
  if (state.begun.size > 0 || state.begunForgotten.size > 0) {
    const record: BegunRecord = { type: 'begun', rqs: [...state.begun.keys()] };
    if (state.begunForgotten.size > 0) record.forgotten = state.begunForgotten.entries();
    out.push(record);
  }
  if (state.core.checkpointRecords !== undefined) out.push(...state.core.checkpointRecords());
  for (const list of state.log.values()) out.push(...list);
  return out;
}

/**
 * Sent to servers, heard from none of them for CUT_OFF_TICKS, and no answer to the probes it
 * sends then for CUT_OFF_PROBE_WAIT_MS (see CUT_OFF_TICKS). Asked when a transaction request or a
 * probe comes; silent long enough, it probes the servers (at most every CUT_OFF_PROBE_MS).
 * `verify` (a balancer's Probe.verify): heard from no server for CUT_OFF_TICKS, sent or not, it
 * probes them too. A coordinator cut off both ways receives no transaction, so sends nothing and
 * was never silent: it held its region's transactions for as long as the cut lasted, each
 * timing out (found by a failover audit, session 59). Once probing, it probes until one answers.
 */
function cutOff(state: CoordinatorState, ctx: ActorContext, verify = false): boolean {
  const now = ctx.monotonicNow();
  if (state.probedSince === undefined) {
    const quiet = CUT_OFF_TICKS * state.params.tickMs;
    const silent = state.silentSince !== undefined && now - state.silentSince >= quiet;
    if (!silent && !(verify && now - state.heardAt >= quiet)) return false;
  }
  probeServers(state, ctx);
  return now - state.probedSince! >= CUT_OFF_PROBE_WAIT_MS;
}

/**
 * Whether a server's message shows that it hears this coordinator: one about a transaction
 * this region's coordinator began (it got the coordinator's message first), other than 2PC's
 * decision request (a participant asks on its own). Under Paxos Commit every server also sends
 * its votes to every coordinator as an acceptor: those came to a coordinator whose own messages
 * were lost (mute) too, and counted as hearing, so it was never cut off, answered the balancer's
 * probes and was taken back again and again, half its region's transactions timing out (found
 * by a failover audit, session 59).
 */
function heardFrom(state: CoordinatorState, m: unknown): boolean {
  const { type, txn } = m as { type?: unknown; txn?: unknown };
  return typeof txn === 'string' && txn.startsWith(state.ownTxns) && type !== 'decision-request';
}

/** Word from a server (see heardFrom): not silent, not cut off; the verify probes waiting are answered. */
function heard(state: CoordinatorState, ctx: ActorContext): void {
  state.silentSince = undefined;
  state.probedSince = undefined;
  state.heardAt = ctx.monotonicNow();
  if (state.verifiers.size === 0) return;
  for (const [to, at] of state.verifiers) ctx.send(to, { type: 'probe-ack', at } satisfies ProbeAck);
  state.verifiers.clear();
}

/** Silent: a probe to every server, at most every CUT_OFF_PROBE_MS; the first answer ends the silence. */
function probeServers(state: CoordinatorState, ctx: ActorContext): void {
  const now = ctx.monotonicNow();
  if (state.probedSince === undefined) {
    state.probedSince = now;
    state.probesFrom = Number.POSITIVE_INFINITY;
  } else if (now - state.probedAt < CUT_OFF_PROBE_MS) return;
  state.probedAt = now;
  // The first probe's: min() as a guard only (a coordinator's clock is never skewed, so ctx.now() does not go back).
  state.probesFrom = Math.min(state.probesFrom, ctx.now());
  for (const server of allServers(state.params.topology)) ctx.send(server, { type: 'probe', at: ctx.now() } satisfies Probe);
}
