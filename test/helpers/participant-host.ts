/**
 * One shard (shard 0) of three servers and its transaction participants
 * (src/replication/participant.ts) on a model of the shard's replicated log, with the real 2PC
 * coordinator and a network, for the randomized participant tests: test/helpers/participant-random.ts
 * and participant-indoubt.ts drive it with their own faults and checks (test/helpers/core-mutant.ts
 * runs them on a scratch copy of dist/ with a bug put in, so the imports here are relative).
 *
 * The shard: each server with its `Participants`; the shard's log is a model of what Multi-Paxos
 * chooses: the current leader's proposals wait, unchosen, and are chosen in the order proposed,
 * a few at a time (or all at once when settling); every chosen command is applied by one
 * KvStateMachine (every replica applies the same prefix), and its outputs go to every server's
 * participant as server.ts hands them over (onGroupOutput, then afterOutputs). A leader change:
 * each unchosen proposal of the old leader is chosen or lost, at random; an election with no
 * leader for 1-5 ticks, or none; the new leader, another server or after an election maybe the
 * same one, catches up after 0-3 ticks and rebuilds its core from what the state machine holds;
 * a leader re-elected at once keeps its proposals, which its own acceptor accepted. The
 * coordinator is the real TwoPcCoordinator (commit retry 20 ticks), with a second participant
 * `x` whose votes are the model's (it acknowledges commits). Transactions `r1:i1:<n>` append
 * their id to some keys at the shard.
 *
 * Checked here, whatever drives it:
 * - the coordinator decides once, and never aborts what the shard committed; the shard commits
 *   only what the coordinator committed and finishes a prepared transaction once;
 * - once quiet (`checkQuiet`): nothing is prepared at the shard (no key locked), the coordinator
 *   waits on no transaction, what the coordinator committed the shard committed and what it did
 *   not commit the shard did not, and a committed transaction's appends are in the shard's data
 *   exactly once, an uncommitted one's not at all;
 * - no assertion of the code under test fails (`run`: a throw fails the seed).
 */
import type { Prng } from '../../src/core/prng.js';
import { TwoPcCoordinator } from '../../src/protocols/twopc.js';
import type { TwoPcMessage } from '../../src/protocols/twopc.js';
import { KvStateMachine, type Command, type Completion } from '../../src/replication/state-machine.js';
import { Participants, participantAddress, type ParticipantEffect } from '../../src/replication/participant.js';
import type { ParticipantReply, ParticipantWire } from '../../src/replication/messages.js';
import type { GroupOutput, GroupReplica } from '../../src/replication/group.js';
import type { TxnOp } from '../../src/replication/ops.js';

export const SHARD = 0;
export const SHARD_ADDRESS = participantAddress(SHARD);
export const SERVERS = ['a', 'b', 'd'];

export type ServerMsg = { to: 'server'; server: string; wire: ParticipantWire; from: string };
export type Msg = ServerMsg | { to: 'c'; from: string; m: TwoPcMessage } | { to: 'x'; m: TwoPcMessage };

/** The shard's log as Multi-Paxos runs it, seen by every replica alike. */
interface Log {
  sm: KvStateMachine;
  /** The current leader's proposals, not chosen yet, in the order proposed. */
  pending: Command[];
  leader: string | undefined;
  caughtUpAt: number;
  now: number;
}

function fakeGroup(self: string, log: Log, refuse: ShardOptions['refuse']): GroupReplica {
  const propose = (c: Command): boolean => {
    if (log.leader !== self || refuse?.(self, c) === true) return false;
    log.pending.push(c);
    return true;
  };
  const group = {
    sm: log.sm,
    isLeader: () => log.leader === self,
    leaderCaughtUp: () => log.leader === self && log.now >= log.caughtUpAt,
    leaderHint: () => log.leader,
    proposePrepare: (txn: string, ops: TxnOp[]) => propose({ k: 'prepare', txn, ops }),
    prepareTooLarge: () => false,
    proposeOutcome: (txn: string, outcome: 'commit' | 'abort', records?: unknown[], tag?: string) => {
      const c: Extract<Command, { k: 'commit' | 'abort' }> = records === undefined ? { k: outcome, txn } : { k: outcome, txn, pc: records };
      if (tag !== undefined) c.tag = tag;
      return propose(c);
    },
    proposeRecord: (txn: string, record: unknown) => propose({ k: 'pc', txn, record }),
  };
  return group as unknown as GroupReplica;
}

export interface ShardOptions {
  /** Finished transactions the shard's state machine remembers. */
  finishedTxns: number;
  /** The coordinator's vote timeout, in ticks. */
  voteTimeoutTicks: number;
  /** The 'forget-prepared' variant (replication `unsafe: 'forget-prepared'`): a rebuilt core forgets in-doubt transactions. */
  forgetPrepared?: boolean | undefined;
  /**
   * A proposal the log refuses although `server` leads (its queue full), when this says so; it
   * may change the leader first (leadership lost between the participant's look and its proposal).
   */
  refuse?: ((server: string, c: Command) => boolean) | undefined;
  /** Debugging: called with each event that names this transaction (messages, chosen commands, leader changes). */
  trace?: { txn: string; log: (line: string) => void } | undefined;
}

/** What a model adds to the shard: `x`'s votes, and what it watches. */
export interface ShardHooks {
  /** A prepare reached `x`: the model votes (or not yet). */
  xPrepare: (txn: string) => void;
  /** A message was sent (put in flight). */
  sent?: (m: Msg) => void;
  /** A message is handed to a server, before it receives it. */
  toServer?: (m: ServerMsg) => void;
  /** A message the shard sends its coordinator, before it leaves. */
  shardSends?: (m: TwoPcMessage) => void;
  /** The shard's state machine voted on a prepare it applied, before the vote is handed on. */
  voted?: (txn: string, yes: boolean) => void;
  /** The shard's state machine finished the transaction of the command it applied (before the check that it was prepared there). */
  finished?: (txn: string) => void;
  /** A command was applied (its outputs gathered, not yet handed to the participants). */
  applied?: (c: Command) => void;
}

/** What every participant seed reports. */
export interface ShardSeedResult {
  problems: string[];
  /** Transactions begun; of them, committed by the coordinator, and aborted or never decided. */
  txns: number;
  committed: number;
  aborted: number;
  /** Leader changes (or elections) while a transaction was in doubt at the shard (prepared, its vote record chosen). */
  inDoubtChanges: number;
  /** Ticks the quiet phase took until nothing moved. */
  quietTicks: number;
}

/** The shard, its log, the coordinator and the network: see the module comment. */
export class ShardModel {
  readonly problems: string[] = [];
  readonly log: Log;
  readonly parts: Map<string, Participants>;
  readonly coordinator: TwoPcCoordinator;
  /** Each transaction's ops, as begun. */
  readonly ops = new Map<string, TxnOp[]>();
  readonly coordOutcome = new Map<string, 'commit' | 'abort'>();
  /** Outcome of a transaction the shard finished while it was prepared there. */
  readonly shardOutcome = new Map<string, 'commit' | 'abort'>();
  inflight: Msg[] = [];
  /** Messages sent (the first 2,000 while not fair), for late copies. */
  readonly history: Msg[] = [];
  /** A fair network: messages to the shard go to its leader, and none is kept for late copies. */
  fair = false;
  /** Transactions begun. */
  begun = 0;
  /** Leader changes to another server. */
  leaderChanges = 0;
  /** Leader changes (or elections) while a transaction was in doubt at the shard (prepared, its vote record chosen). */
  inDoubtChanges = 0;
  /** Transactions in doubt at the shard at a leader change or election. */
  readonly inDoubtAtChange = new Set<string>();
  /** Proposals lost in leader changes. */
  lost = 0;
  private electionEnds = -1;
  private nextLeader = 'a';
  private lastLeader = 'a';

  constructor(
    private readonly prng: Prng,
    private readonly options: ShardOptions,
    private readonly hooks: ShardHooks,
  ) {
    this.log = {
      sm: new KvStateMachine({ seenRequests: 8, finishedTxns: options.finishedTxns, begunRequests: 8, routedRequests: 8 }),
      pending: [],
      leader: 'a',
      caughtUpAt: 0,
      now: 0,
    };
    const groups = new Map(SERVERS.map((s) => [s, fakeGroup(s, this.log, options.refuse)]));
    this.parts = new Map(
      SERVERS.map((s) => [
        s,
        new Participants({
          self: s,
          incarnation: `${s}-life`,
          commit: '2pc',
          acceptors: [],
          groupOf: () => SERVERS,
          groups: new Map([[SHARD, groups.get(s)!]]),
          down: new Set(),
          ...(options.forgetPrepared === true ? { forgetPrepared: true } : {}),
        }),
      ]),
    );
    this.coordinator = new TwoPcCoordinator({ self: 'c', voteTimeoutTicks: options.voteTimeoutTicks, commitRetryTicks: 20 });
  }

  /** A problem (the first 20 are kept). */
  problem(p: string): void {
    if (this.problems.length < 20) this.problems.push(p);
  }

  private trace(what: () => string, txn: string | undefined): void {
    const trace = this.options.trace;
    if (trace !== undefined && (txn === undefined || txn === trace.txn)) trace.log(`t${this.log.now} leader ${this.log.leader ?? '-'}: ${what()}`);
  }

  send(m: Msg): void {
    this.inflight.push(m);
    if (!this.fair && this.history.length < 2_000) this.history.push(m);
    this.hooks.sent?.(m);
  }

  /** The coordinator's message to the shard: to its leader most often (always if fair), else to any server. */
  private toShard(m: TwoPcMessage, from: string): void {
    const server = this.log.leader !== undefined && (this.fair || this.prng.chance(0.85)) ? this.log.leader : this.prng.pick(SERVERS);
    this.send({ to: 'server', server, wire: { type: 'tx', s: SHARD, m: m as ParticipantWire['m'] }, from });
  }

  /** Transactions in doubt at the shard: prepared there, its vote record chosen. */
  inDoubt(): string[] {
    return this.log.sm.openTransactions().filter((t) => this.log.sm.pc.has(t));
  }

  private flushCoordinator(): void {
    if (!this.coordinator.hasReady()) return;
    const r = this.coordinator.ready();
    for (const d of r.decisions) {
      const before = this.coordOutcome.get(d.txn);
      if (before !== undefined && before !== d.kind) this.problem(`coordinator decided ${d.kind} of ${d.txn} after ${before}`);
      this.coordOutcome.set(d.txn, d.kind);
      if (d.kind === 'abort' && this.shardOutcome.get(d.txn) === 'commit') this.problem(`coordinator aborted ${d.txn}, which the shard committed`);
    }
    for (const { to, msg } of r.messages) {
      if (to === SHARD_ADDRESS) this.toShard(msg, 'c');
      else this.send({ to: 'x', m: msg });
    }
  }

  private carryOut(server: string, effects: ParticipantEffect[], from: string): void {
    for (const e of effects) {
      if (e.kind === 'send') {
        const reply = e.msg as ParticipantReply;
        this.trace(() => `${server} sends ${JSON.stringify(reply)}`, (reply.m as { txn?: string }).txn);
        if (e.to !== 'c') {
          this.problem(`participant sent to ${e.to}`);
          continue;
        }
        for (const m of [reply.m, ...(reply.more ?? []).map((x) => x.m)] as TwoPcMessage[]) {
          this.hooks.shardSends?.(m);
          this.send({ to: 'c', from: SHARD_ADDRESS, m });
        }
      } else if (e.kind === 'drain') {
        this.trace(() => `${server} drains: pending ${JSON.stringify(this.log.pending)}`, undefined);
      } else if (e.kind === 'forward') {
        this.send({ to: 'server', server: e.to, wire: e.msg as ParticipantWire, from: e.from ?? from });
      }
      // 'drain': the proposals are in the log's pending list already; 'reply': no reads queries here.
    }
  }

  /** Commands chosen (in order): applied, their outputs handed to every server's participant. */
  apply(commands: Command[]): void {
    if (commands.length === 0) return;
    const sm = this.log.sm;
    const outputs: GroupOutput[] = [];
    for (const c of commands) {
      this.trace(() => `chosen ${JSON.stringify(c)}`, 'txn' in c ? c.txn : undefined);
      const txn = c.k === 'prepare' || c.k === 'commit' || c.k === 'abort' ? c.txn : undefined;
      const wasOpen = txn !== undefined && sm.openTransactions().includes(txn);
      const completions: Completion[] = sm.apply(c);
      for (const comp of completions) {
        if ('vote' in comp) {
          this.hooks.voted?.(comp.txn, comp.vote);
          outputs.push(
            comp.reason === undefined
              ? { kind: 'vote', txn: comp.txn, vote: comp.vote }
              : { kind: 'vote', txn: comp.txn, vote: comp.vote, reason: comp.reason },
          );
        } else if ('done' in comp) {
          if (comp.txn === txn) {
            this.hooks.finished?.(comp.txn);
            if (wasOpen) {
              const before = this.shardOutcome.get(comp.txn);
              if (before !== undefined) this.problem(`the shard finished ${comp.txn} twice (${before}, then ${comp.done})`);
              this.shardOutcome.set(comp.txn, comp.done);
              if (comp.done === 'commit' && this.coordOutcome.get(comp.txn) !== 'commit')
                this.problem(`the shard committed ${comp.txn}, which the coordinator has not committed`);
            }
          }
          outputs.push({ kind: 'txn-done', txn: comp.txn, outcome: comp.done });
        }
      }
      outputs.push({ kind: 'applied', index: sm.applied, command: c });
      this.hooks.applied?.(c);
    }
    for (const s of SERVERS) {
      const p = this.parts.get(s)!;
      for (const out of outputs) {
        if (out.kind === 'applied' && !(out.command.k === 'pc' || ((out.command.k === 'commit' || out.command.k === 'abort') && out.command.tag !== undefined)))
          continue;
        this.carryOut(s, p.onGroupOutput(SHARD, out), s);
      }
      this.carryOut(s, p.afterOutputs(SHARD), s);
    }
  }

  deliver(m: Msg): void {
    this.trace(() => `deliver ${JSON.stringify(m)}`, m.to === 'server' ? m.wire.m.txn : m.m.txn);
    if (m.to === 'c') {
      this.coordinator.step(m.from, m.m);
      this.flushCoordinator();
    } else if (m.to === 'x') {
      if (m.m.type === 'prepare') this.hooks.xPrepare(m.m.txn);
      else if (m.m.type === 'commit') this.send({ to: 'c', from: 'x', m: { type: 'ack', txn: m.m.txn } });
    } else {
      this.hooks.toServer?.(m);
      this.carryOut(m.server, this.parts.get(m.server)!.receive(m.wire, m.from), m.from);
    }
  }

  /** A vote of `x` to the coordinator. */
  xVote(txn: string, yes: boolean): void {
    this.send({ to: 'c', from: 'x', m: { type: 'vote', txn, yes } });
  }

  /** A new transaction appending its id to each of `keys` with chance `share` (at least one), begun at the coordinator. */
  beginTxn(keys: readonly string[], share: number): void {
    const txn = `r1:i1:${this.begun++}`;
    const chosen = keys.filter(() => this.prng.chance(share));
    if (chosen.length === 0) chosen.push(this.prng.pick(keys));
    const txnOps: TxnOp[] = chosen.map((key) => ({ op: 'append', key, value: txn }));
    this.ops.set(txn, txnOps);
    this.coordinator.begin(txn, [
      { to: SHARD_ADDRESS, payload: txnOps },
      { to: 'x', payload: null },
    ]);
    this.flushCoordinator();
  }

  changeLeader(): void {
    const log = this.log;
    this.nextLeader = this.prng.pick(SERVERS);
    if (this.nextLeader === log.leader && this.prng.chance(0.5)) {
      // Re-elected at once at a higher ballot: its own acceptor accepted its proposals, so its
      // phase 1 finds them and they are all chosen in the end (none is lost; nothing changes here).
      return;
    }
    const doubt = this.inDoubt();
    if (doubt.length > 0) this.inDoubtChanges++;
    for (const t of doubt) this.inDoubtAtChange.add(t);
    const chosen: Command[] = [];
    for (const c of log.pending) {
      if (this.prng.chance(0.5)) chosen.push(c);
      else this.lost++;
    }
    this.trace(() => `leader change: chosen ${chosen.length}, lost ${log.pending.length - chosen.length}`, undefined);
    log.pending = [];
    if (this.nextLeader !== log.leader && this.prng.chance(0.5)) {
      log.leader = this.nextLeader;
      log.caughtUpAt = log.now + this.prng.int(4);
      if (this.lastLeader !== this.nextLeader) this.leaderChanges++;
    } else {
      log.leader = undefined;
      this.electionEnds = log.now + 1 + this.prng.int(5);
    }
    this.apply(chosen);
  }

  /** The start of tick `t`: an election that ends now elects its leader. */
  startTick(t: number): void {
    const log = this.log;
    log.now = t;
    if (log.leader === undefined && t >= this.electionEnds) {
      log.leader = this.nextLeader;
      log.caughtUpAt = t + this.prng.int(4);
      if (this.nextLeader !== this.lastLeader) this.leaderChanges++;
    }
    if (log.leader !== undefined) this.lastLeader = log.leader;
  }

  /**
   * A noisy tick's faults and traffic: a leader change (chance `leaderChangeP`), a few proposals
   * chosen, up to five messages in flight delivered in any order (each copied with chance
   * `copyP`, lost if `drop` says so), and a late copy (chance `lateP`) of what `late` picks.
   */
  noisy(o: { leaderChangeP: number; copyP: number; drop: (m: Msg) => boolean; lateP: number; late: () => Msg }): void {
    const prng = this.prng;
    if (prng.chance(o.leaderChangeP)) this.changeLeader();
    if (this.log.pending.length > 0 && prng.chance(0.5)) this.apply(this.log.pending.splice(0, 1 + prng.int(3)));
    for (let i = prng.int(6); i > 0 && this.inflight.length > 0; i--) {
      const m = this.inflight.splice(prng.int(this.inflight.length), 1)[0]!;
      if (prng.chance(o.copyP)) this.inflight.push(m);
      if (o.drop(m)) continue;
      this.deliver(m);
    }
    if (prng.chance(o.lateP) && this.history.length > 0) this.deliver(o.late());
  }

  /** Every proposal chosen, every message delivered (a fair tick's traffic). */
  settle(): void {
    const log = this.log;
    while (log.pending.length > 0) this.apply(log.pending.splice(0, log.pending.length));
    const now = this.inflight;
    this.inflight = [];
    for (const m of now) this.deliver(m);
    while (log.pending.length > 0) this.apply(log.pending.splice(0, log.pending.length));
  }

  /** Nothing moves: no message in flight, no proposal, nothing prepared, the coordinator idle, the leader's core not due soon. */
  isQuiet(): boolean {
    const log = this.log;
    return (
      this.inflight.length === 0 &&
      log.pending.length === 0 &&
      !log.sm.hasOpenTransactions() &&
      this.coordinator.active().length === 0 &&
      log.leader !== undefined &&
      this.parts.get(log.leader)!.ticksUntilDue() > 1
    );
  }

  /** The end of a tick: the coordinator's and every server's participant's. */
  tick(): void {
    this.coordinator.tick();
    this.flushCoordinator();
    for (const s of SERVERS) {
      const p = this.parts.get(s)!;
      for (const h of p.takeHeld()) this.carryOut(s, p.receive(h.wire, h.from, h.ticks), h.from);
      this.carryOut(s, p.tickShard(SHARD), s);
    }
  }

  /** Runs the seed's ticks: false (a problem) if they threw. */
  run(ticks: () => void): boolean {
    try {
      ticks();
      return true;
    } catch (error) {
      this.problem(`threw: ${(error as Error).message}`);
      return false;
    }
  }

  /**
   * The checks once quiet (see the module comment); counts the transactions committed, aborted
   * (or never decided), and of those in doubt at a leader change the ones not committed.
   */
  checkQuiet(): { committed: number; aborted: number; inDoubtAborts: number } {
    const counts = { committed: 0, aborted: 0, inDoubtAborts: 0 };
    const sm = this.log.sm;
    for (const txn of sm.openTransactions())
      this.problem(`${txn} is still prepared at the shard (its keys locked) once quiet (coordinator: ${this.coordOutcome.get(txn) ?? 'no outcome'})`);
    for (const { txn, phase } of this.coordinator.active()) this.problem(`the coordinator still waits on ${txn} (${phase}) once quiet`);
    for (const [txn, txnOps] of this.ops) {
      const c = this.coordOutcome.get(txn);
      const s = this.shardOutcome.get(txn);
      if (c === 'commit') counts.committed++;
      else counts.aborted++;
      if (c !== 'commit' && this.inDoubtAtChange.has(txn)) counts.inDoubtAborts++;
      if (c === 'commit' && s !== 'commit') this.problem(`${txn} committed at the coordinator, ${s ?? 'not finished'} at the shard`);
      if (c !== 'commit' && s === 'commit') this.problem(`${txn} committed at the shard, ${c ?? 'not decided'} at the coordinator`);
      for (const op of txnOps) {
        const list = sm.data.get(op.key);
        const n = Array.isArray(list) ? list.filter((v) => v === txn).length : 0;
        const want = c === 'commit' ? 1 : 0;
        if (n !== want) this.problem(`${txn} (${c ?? 'no outcome'}) is in ${op.key} ${n} times, not ${want}`);
      }
    }
    return counts;
  }
}
