import type { GroupOutput, GroupReplica } from './group.js';
import type { TxnOp, TxnReads } from './ops.js';
import { ALREADY_FINISHED } from './state-machine.js';
import { createParticipantCore, type CommitProtocolName, type ParticipantCore } from './commit-cores.js';
import type { ParticipantReply, ParticipantWire, ReadsAnswer, ReadsQuery, ReadsTooLarge } from './messages.js';
import { hashString } from '../core/prng.js';
import { assert } from '../core/assert.js';
import { chunksWithin, encodedBytes } from '../protocols/snapshot-pieces.js';

export type { ParticipantReply, ParticipantWire, ReadsAnswer, ReadsQuery, ReadsTooLarge } from './messages.js';

/**
 * The participant side of distributed transactions, on a server. The participant for a
 * shard is that shard's replication group, not one server: its protocol core runs on the
 * group's current leader, and everything the core must not forget (its durable records) is
 * written through the shard's Paxos log instead of a local file. A message that depends on a
 * record leaves only once the record is chosen (the Ready rule, with "durable" meaning
 * "chosen by a majority"). A new leader rebuilds the core from the records in its state
 * machine and carries on: uncertain participants ask their coordinator again.
 *
 * Votes are the state machine's: a prepare is a log command that locks the keys and runs the
 * transaction's checks, in log order, on every replica.
 */

/**
 * What the participant asks its host (the server) to do, in order. The participant never
 * acts on the world itself: the server's drain loop carries these out, so the participant
 * neither imports the server nor calls back into it.
 */
export type ParticipantEffect =
  | { kind: 'send'; to: string; msg: ParticipantWire | ParticipantReply | ReadsTooLarge }
  /** Pass on a message with its original sender (`from`, else the sender of the message in hand). */
  | { kind: 'forward'; to: string; msg: ParticipantWire | ReadsQuery; from?: string }
  /** Answer the sender of the message in hand. */
  | { kind: 'reply'; msg: ReadsAnswer }
  /** Shard `s`'s group has proposals to carry out: drain it (persist, send, then its outputs). */
  | { kind: 'drain'; s: number };

/** What the participant needs of its server: read-only views and fixed parameters. */
export interface ParticipantHost {
  /** The server's address. */
  self: string;
  /** Changes on every restart, so this life's tags never match an earlier life's. */
  incarnation: string;
  commit: CommitProtocolName;
  /** Paxos Commit's acceptors (every region's coordinator), the same list everywhere. */
  acceptors: string[];
  /** The replicas of a shard's group (where another shard's participant is reached). */
  groupOf(shard: number): readonly string[];
  /** The server's shard groups, read (and proposed to) but never added or removed here. */
  groups: ReadonlyMap<number, GroupReplica>;
  /** Nodes the server knows dead: not handed messages. */
  down: ReadonlySet<string>;
  /** Testing only: the 'forget-prepared' variant (undecided, voted transactions are forgotten). */
  forgetPrepared?: boolean;
  /**
   * The host's messageBytesMax (`max`), and what the messages of one wire to `to` may encode to
   * together under it (`budget`: less the envelope's bound, server.ts wireShellBytesMax): replies
   * gathered for one address are cut to fit (see within). Absent: none is cut.
   */
  wireBytes?: { max: number; budget(to: string): number };
}

/** A participant wire held for a later tick, with its logical sender and the ticks it waited. */
export interface HeldWire {
  wire: ParticipantWire;
  from: string;
  ticks: number;
}

/**
 * Whether a protocol message is a participant's yes vote to the transaction's coordinator
 * (2PC and 3PC `vote`; Paxos Commit's ballot-0 `prepared` phase 2a to its leader), which
 * carries what the transaction read.
 */
export function isYesVote(to: string, msg: unknown): string | undefined {
  const m = msg as { type?: string; txn?: string; yes?: boolean; value?: string; leader?: string; ballot?: { round: number } };
  if (m.type === 'vote' && m.yes === true) return m.txn;
  if (m.type === 'phase2a' && m.value === 'prepared' && m.ballot?.round === 0 && m.leader === to) return m.txn;
  return undefined;
}

/** Ticks an orphaned prepare (locked, never voted) waits before this leader aborts it. */
export const ORPHAN_TICKS = 200;

interface Shard {
  core: ParticipantCore;
  /** Messages held until the records proposed with the same tag are chosen. */
  held: Map<string, Array<{ to: string; msg: unknown; reads?: TxnReads }>>;
  orphanTicks: Map<string, number>;
  /** Transactions whose prepare this leader proposed and awaits (to vote on apply). */
  awaitingVote: Set<string>;
  /** 'vote-before-prepare-durable' only: what a transaction read when this leader voted early. */
  earlyReads: Map<string, TxnReads>;
}

/**
 * Steps one protocol message into a shard's participant core, but for a late copy of a prepare
 * (or can-commit) of a transaction that finished here and that the core no longer knows (its
 * records went when it finished; the core was rebuilt since): that is dropped. Let through, the
 * core would start voting on it again, and if the shard's log stalled past the vote timeout it
 * would abort on its own: a Paxos Commit RM would then send 'aborted' at the ballot 0 where it
 * had sent 'prepared', and meet the transaction's commit after its abort
 * (test/helpers/paxoscommit-random.ts, seeds 3011 and 5101 of 15,000 without this). The state
 * machine answers such a prepare with ALREADY_FINISHED anyway (onGroupOutput: forget); this
 * only stops it from opening.
 */
function stepCore(core: ParticipantCore, sm: { isFinished(txn: string): boolean }, from: string, m: ParticipantWire['m']): void {
  if ((m.type === 'prepare' || m.type === 'can-commit') && core.phaseOf(m.txn) === undefined && sm.isFinished(m.txn)) return;
  core.step(from, m);
}

/**
 * A record as the shard's log keeps it: without the transaction's payload (its ops), which the
 * prepare entry before it holds already and the state machine applies from there. A core
 * rebuilt from the log gets null for it, and uses it only in the commit and abort decisions,
 * whose payload the participant drops (the log's outcome entry names the transaction only).
 */
function withoutPayload(record: unknown): unknown {
  const r = record as { payload?: unknown } | null;
  if (r === null || typeof r !== 'object' || r.payload === undefined || r.payload === null) return record;
  return { ...r, payload: null };
}

export function participantAddress(shard: number): string {
  return `shard/${shard}`;
}

/** Protocol messages held at a replica that knows no leader yet, per shard, and for how long. */
export const HELD_WIRES_MAX = 1_000;
/** Times a participant wire or reads query may be handed on to a leader hint (as server.ts's FORWARD_HOPS_MAX for requests). */
export const WIRE_FORWARD_HOPS_MAX = 4;
export const HELD_WIRE_TICKS_MAX = 100;

export class Participants {
  private readonly shards = new Map<number, Shard>();
  private readonly heldWires = new Map<number, HeldWire[]>();
  /** Shards whose core took votes from the log's outputs and waits for `afterOutputs` to drain. */
  private readonly voted = new Set<number>();
  private nextTag = 0;
  private readonly self: string;
  private readonly tagPrefix: string;

  constructor(private readonly host: ParticipantHost) {
    this.self = host.self;
    this.tagPrefix = `${host.self}@${host.incarnation}#`;
  }

  private shard(s: number): Shard | undefined {
    const group = this.host.groups.get(s);
    if (group === undefined || !group.isLeader()) {
      this.shards.delete(s);
      return undefined;
    }
    let shard = this.shards.get(s);
    // A new leader builds its core only once it applied what its log held when elected:
    // built earlier, it would answer (e.g. ack a commit) as if it knew no record of a
    // transaction an earlier leader voted on.
    if (shard === undefined && !group.leaderCaughtUp()) return undefined;
    if (shard === undefined) {
      // This replica leads now: resume from the records the shard's log holds.
      const records: unknown[] = [];
      for (const list of group.sm.pc.values()) {
        // The 'forget-prepared' variant (testing only): transactions voted on and undecided are forgotten.
        if (this.host.forgetPrepared === true && !list.some((r) => (r as { record?: { type?: string } } | null)?.record?.type === 'decided')) continue;
        records.push(...list);
      }
      shard = {
        core: createParticipantCore(this.host.commit, participantAddress(s), records, {
          acceptors: this.host.acceptors,
          seed: hashString(`${this.self}/${s}/${this.nextTag}`),
        }),
        held: new Map(),
        orphanTicks: new Map(),
        awaitingVote: new Set(),
        earlyReads: new Map(),
      };
      this.shards.set(s, shard);
    }
    return shard;
  }

  /** A protocol message for shard `wire.s`'s participant, from `from` (the wire's `f`, else the actor that sent it). */
  receive(wire: ParticipantWire, from: string, heldTicks = 0): ParticipantEffect[] {
    const group = this.host.groups.get(wire.s);
    if (group === undefined) return [];
    // Not leading, or leading but not caught up with the log yet: no core to take it.
    const shard = group.isLeader() ? this.shard(wire.s) : undefined;
    if (shard === undefined) return this.defer(group, wire, from, heldTicks);
    stepCore(shard.core, group.sm, from, wire.m);
    // A batch: every message stepped, then one drain (their records share the entries it proposes).
    if (wire.more !== undefined) for (const m of wire.more) stepCore(shard.core, group.sm, from, m);
    const { effects, refused } = this.drainShard(wire.s);
    // The log refused a proposal (its queue full, or this replica stopped leading in between):
    // the core went, with what it was doing for this wire, and the next core rebuilt from the
    // log does not know it. Dropped, a prepare's transaction aborted at its coordinator's vote
    // timeout, an outcome waited for the coordinator's retry (found by an audit, session 60).
    // The wire goes where one goes that no core could take, and is stepped again into the next
    // core: what of it was proposed already is applied once (the state machine answers a
    // prepare it holds with its vote again, one it finished as such, and finishes once).
    if (refused) effects.push(...this.defer(group, wire, from, heldTicks));
    return effects;
  }

  /**
   * A wire no core here takes now: handed on to the leader this replica knows of, else held
   * (no leader known, the hand-offs ran out, or this replica leads but has no core yet) and
   * tried again on a later tick (`takeHeld`).
   */
  private defer(group: GroupReplica, wire: ParticipantWire, from: string, heldTicks: number): ParticipantEffect[] {
    if (!group.isLeader()) {
      const hint = group.leaderHint();
      const hops = wire.h ?? 0;
      // Two replicas can each name the other as leader (stale hints while neither leads); in
      // one region messages take no virtual time, so an unbounded hand-off would bounce the
      // message at one instant for ever. Past the bound it is held here like a message with no
      // leader known, and tried again on a later tick (time has passed) with its count reset.
      if (hint !== undefined && hint !== this.self && !this.host.down.has(hint) && hops < WIRE_FORWARD_HOPS_MAX) {
        return [{ kind: 'forward', to: hint, msg: { ...wire, h: hops + 1 }, from }];
      }
    }
    // Keep the message a while instead of losing it.
    let held = this.heldWires.get(wire.s);
    if (held === undefined) this.heldWires.set(wire.s, (held = []));
    if (held.length < HELD_WIRES_MAX) held.push({ wire, from, ticks: heldTicks });
    return [];
  }

  /**
   * Carry out the core's output. Records go through the shard's log; an outcome and the
   * records written with it are one log entry, so a replica that has the record has applied
   * the outcome too (an acknowledgement never runs ahead of the commit it acknowledges).
   * Messages leave once the last of the entries is chosen. If the log refuses a proposal (its
   * queue is full, or this replica stopped leading), the core is dropped (`refused`): the
   * next one is rebuilt from the log, and `receive` hands the wire in hand to it again.
   * The effects end with the drain of the shard's group, which carries out the proposals, if
   * there are any (`proposed`: the caller proposed some already).
   */
  private drain(s: number, proposed = false): ParticipantEffect[] {
    return this.drainShard(s, proposed).effects;
  }

  /** See drain; `refused`: a proposal was refused, and the core dropped. */
  private drainShard(s: number, proposed = false): { effects: ParticipantEffect[]; refused: boolean } {
    const shard = this.shards.get(s);
    const group = this.host.groups.get(s);
    const effects: ParticipantEffect[] = [];
    if (shard === undefined || group === undefined) return { effects, refused: false };
    let refused = false;
    for (let round = 0; round < 4 && shard.core.hasReady(); round++) {
      const r = shard.core.ready();
      if (r.decisions.some((d) => d.kind === 'commit' && !group.sm.holdsTxn(d.txn))) {
        // A commit of a transaction this replica's state machine neither prepared nor finished:
        // the shard voted yes on it in a log this replica has not applied, so it leads in its
        // own view only (cut off, its ticks late: seen on NATS, 2026-12-02). Its core did not
        // know the transaction either (a 2PC core decides the commit of one it does not hold
        // again, to make its ack wait for the log). Nothing of this round leaves, the ack
        // above all (see TwoPcParticipant's commit): the core is dropped, rebuilt from the log
        // if this replica still leads, and the coordinator sends the commit again elsewhere.
        this.shards.delete(s);
        break;
      }
      const messages = r.messages.map((m): { to: string; msg: unknown; reads?: TxnReads } => {
        const txn = isYesVote(m.to, m.msg);
        const reads = txn === undefined ? undefined : (shard.earlyReads.get(txn) ?? group.sm.readsOf(txn));
        return reads === undefined ? { to: m.to, msg: m.msg } : { to: m.to, msg: m.msg, reads };
      });
      const early = group.sm.unsafe === 'vote-before-prepare-durable';
      const recordsByTxn = new Map<string, unknown[]>();
      for (const record of r.persist) {
        const txn = (record as { txn?: string }).txn ?? '';
        let list = recordsByTxn.get(txn);
        if (list === undefined) recordsByTxn.set(txn, (list = []));
        list.push(withoutPayload(record));
      }
      const tag = `${this.tagPrefix}${this.nextTag++}`;
      // Each entry is proposed with the tag when it is the last one and messages wait on it.
      const entries: Array<{ propose: (tag: string | undefined) => boolean; tags: boolean }> = [];
      for (const d of r.decisions) {
        if (d.kind === 'prepare' && early) {
          // Broken on purpose: vote on the leader's applied state now, not once the prepare is applied.
          const preview = group.sm.votePreview(d.txn, d.payload as TxnOp[]);
          if (preview.vote) shard.earlyReads.set(d.txn, preview.reads);
          if (shard.earlyReads.size > HELD_WIRES_MAX) shard.earlyReads.delete(shard.earlyReads.keys().next().value as string);
          entries.push({ propose: () => group.proposePrepare(d.txn, d.payload as TxnOp[]) && (shard.core.vote(d.txn, preview.vote), true), tags: false });
        } else if (d.kind === 'prepare') {
          if (group.prepareTooLarge(d.txn, d.payload as TxnOp[])) {
            // Its ops would travel in no replication message under messageBytesMax: not
            // proposed (the shard would be wedged behind it), voted no at once (a participant
            // may abort unilaterally before it votes yes; found by an audit, session 58).
            shard.core.vote(d.txn, false, `its ops at shard ${s} are too large for a replication message (messageBytesMax)`);
            continue;
          }
          shard.awaitingVote.add(d.txn);
          entries.push({ propose: () => group.proposePrepare(d.txn, d.payload as TxnOp[]), tags: false });
        } else {
          const records = recordsByTxn.get(d.txn) ?? [];
          recordsByTxn.delete(d.txn);
          entries.push({
            propose: (t) =>
              group.proposeOutcome(
                d.txn,
                d.kind,
                records.map((record) => ({ record })),
                t,
              ),
            tags: true,
          });
        }
      }
      for (const [txn, records] of recordsByTxn) {
        for (const record of records) entries.push({ propose: (t) => group.proposeRecord(txn, t === undefined ? { record } : { tag: t, record }), tags: true });
      }
      if (entries.length === 0 && !early && shard.held.size > 0 && messages.length > 0) {
        // Nothing new to make durable, but the core may answer from a state whose entries are
        // not chosen yet (an ack to a repeated commit whose commit entry is still in flight):
        // the messages wait behind this leader's newest pending entry, which the log applies
        // after everything proposed before it.
        let newest: string | undefined;
        for (const tag of shard.held.keys()) newest = tag;
        shard.held.get(newest!)!.push(...messages);
        continue;
      }
      if (entries.length === 0 || early) {
        // Nothing to make durable: the messages depend on nothing new. (Or, broken on purpose,
        // they leave without waiting for what they depend on.)
        for (const m of messages) effects.push(this.send(s, m.to, m.msg, m.reads));
        if (entries.length === 0) continue;
        proposed = true;
        refused = !entries.every((e) => e.propose(undefined));
        if (refused) break;
        continue;
      }
      // The messages leave when the last entry is chosen: it carries the tag (a prepare cannot,
      // so then a tag entry of its own follows).
      if (messages.length > 0 && !entries[entries.length - 1]!.tags)
        entries.push({ propose: (t) => group.proposeRecord('', { tag: t, record: null }), tags: true });
      proposed = true;
      refused = !entries.every((e, i) => e.propose(i === entries.length - 1 && messages.length > 0 ? tag : undefined));
      if (refused) break;
      if (messages.length > 0) shard.held.set(tag, messages);
    }
    // What this core was doing is lost with it; the next one is rebuilt from the log.
    if (refused) this.shards.delete(s);
    // The log proposals above are carried out by the group.
    if (proposed) effects.push({ kind: 'drain', s });
    return { effects, refused };
  }

  /**
   * Send messages released together: those to one address other than a shard's travel as one
   * wire (the first as `m`, the rest in `more`, in order; as several if together over
   * messageBytesMax, see within); the order of first sends is kept.
   */
  private sendAll(s: number, messages: ReadonlyArray<{ to: string; msg: unknown; reads?: TxnReads }>): ParticipantEffect[] {
    if (messages.length === 1) return [this.send(s, messages[0]!.to, messages[0]!.msg, messages[0]!.reads)];
    const effects: ParticipantEffect[] = [];
    const byTo = new Map<string, ParticipantReply>();
    for (const m of messages) {
      if (m.to.startsWith('shard/')) {
        effects.push(this.send(s, m.to, m.msg, m.reads));
        continue;
      }
      const wire = byTo.get(m.to);
      if (wire === undefined) {
        const effect = this.send(s, m.to, m.msg, m.reads) as Extract<ParticipantEffect, { kind: 'send' }>;
        byTo.set(m.to, effect.msg as ParticipantReply);
        effects.push(effect);
      } else {
        // Merged into the wire already going there: checked as send checks what it sends.
        this.checkAck(s, m.msg);
        const more = m.reads === undefined ? { m: m.msg } : { m: m.msg, r: m.reads };
        if (wire.more === undefined) wire.more = [more];
        else wire.more.push(more);
      }
    }
    return byTo.size === 0
      ? effects
      : effects.flatMap((e) => (e.kind === 'send' && e.msg.type === 'tx-r' && e.msg.more !== undefined ? this.within(e.to, e.msg) : [e]));
  }

  /**
   * `wire`, replies gathered for `to`, in as few wires as keep each under messageBytesMax, in
   * order: whole if it fits, else cut where the next reply would take a wire over (chunksWithin,
   * each reply measured alone: the sum is at least what they encode to together). A reply over
   * it alone carrying what its transaction read goes as the host's bounce of it would have
   * (tooLarge: `tx-big`, then the vote without the reads), known here without sending it. Sent
   * whole, the votes of one log entry's prepares with their reads made a wire over
   * messageBytesMax though each fit alone: the host bounced it, with a 'too-large' warn and a
   * drop counted, a fault to a user's eye, before each went again alone
   * (test/gathered-bytes.part.ts). Measured only for a wire of several replies.
   */
  private within(to: string, wire: ParticipantReply): ParticipantEffect[] {
    const limit = this.host.wireBytes;
    if (limit === undefined || wire.more === undefined) return [{ kind: 'send', to, msg: wire }];
    const budget = limit.budget(to);
    if (encodedBytes(wire) <= budget) return [{ kind: 'send', to, msg: wire }];
    const replies = [wire.r === undefined ? { m: wire.m } : { m: wire.m, r: wire.r }, ...wire.more].map((x) => ({ x, bytes: encodedBytes(x) }));
    const effects: ParticipantEffect[] = [];
    for (const [first, ...more] of chunksWithin(replies, budget, (e) => e.bytes)) {
      const msg: ParticipantReply = { type: 'tx-r', s: wire.s, m: first!.x.m };
      if (first!.x.r !== undefined) msg.r = first!.x.r;
      if (more.length > 0) msg.more = more.map((e) => e.x);
      const alone = more.length === 0 && first!.bytes > budget ? this.readsTooLarge(to, msg, first!.bytes, limit.max) : undefined;
      effects.push(...(alone ?? [{ kind: 'send' as const, to, msg }]));
    }
    return effects;
  }

  /**
   * A 2PC ack lets the coordinator forget the transaction: it must say what the shard's log
   * holds, the commit applied (see TwoPcParticipant's commit; a stale leader's ack from its
   * core's belief alone lost a committed write on NATS). One lookup per ack. Every message sent
   * passes here, also one merged into a wire's `more` (which skipped it before 2026-12-02).
   */
  private checkAck(s: number, msg: unknown): void {
    if (this.host.commit === '2pc' && (msg as { type?: unknown }).type === 'ack') {
      const txn = (msg as { txn: string }).txn;
      assert(this.host.groups.get(s)?.sm.isFinished(txn) === true, `participant: ack of ${txn} for shard ${s}, which its state machine has not finished`);
    }
  }

  private send(s: number, to: string, msg: unknown, reads?: TxnReads): ParticipantEffect {
    this.checkAck(s, msg);
    if (to.startsWith('shard/')) {
      // Another shard's participant (3PC termination, Paxos Commit recovery): any replica of
      // that shard takes it and passes it to its leader.
      const target = Number(to.slice(6));
      const wire: ParticipantWire = { type: 'tx', s: target, m: msg as ParticipantWire['m'], f: participantAddress(s) };
      const group = this.host.groupOf(target);
      return { kind: 'send', to: group.includes(this.self) ? this.self : group[this.nextTag % group.length]!, msg: wire };
    }
    const reply: ParticipantReply = reads === undefined ? { type: 'tx-r', s, m: msg } : { type: 'tx-r', s, m: msg, r: reads };
    return { kind: 'send', to, msg: reply };
  }

  /**
   * A coordinator asks what a transaction read here: any replica answers from its state
   * machine (the reads are fixed once the prepare is applied, and kept a while after commit).
   */
  answerReads(q: ReadsQuery): ParticipantEffect[] {
    const group = this.host.groups.get(q.s);
    if (group === undefined) return [];
    const r = group.sm.readsOf(q.txn);
    if (r === undefined && !group.isLeader()) {
      const hint = group.leaderHint();
      const hops = q.h ?? 0;
      // Bounded as participant wires are; past the bound the answer is "not known here".
      if (hint !== undefined && hint !== this.self && !this.host.down.has(hint) && hops < WIRE_FORWARD_HOPS_MAX) {
        return [{ kind: 'forward', to: hint, msg: { ...q, h: hops + 1 } }];
      }
    }
    const answer: ReadsAnswer = r === undefined ? { type: 'tx-a', s: q.s, txn: q.txn } : { type: 'tx-a', s: q.s, txn: q.txn, r };
    return [{ kind: 'reply', msg: answer }];
  }

  /**
   * A reply of this server's participants that its host could not send, over messageBytesMax
   * (`original`, handed back, `bytes` long; see UndeliverableMessage): what a transaction read,
   * carried by a yes vote (`tx-r`) or by the answer to a coordinator's query (`tx-a`), to `to`.
   * Dropped, the vote went with it: the transaction aborted only at its vote timeout, its
   * client waiting all along (found by an audit, session 55). The coordinator is told instead
   * (`tx-big`), so it answers its client at once, and a vote goes again without the reads. A
   * wire of several messages is split first, as each may fit alone: one not cut to fit before
   * it left (within; no wireBytes given). Only a bounce comes here.
   */
  tooLarge(to: string, original: { type: string }, bytes: number, max: number): ParticipantEffect[] {
    if (original.type === 'tx-a') {
      const a = original as ReadsAnswer;
      if (a.r === undefined) return [];
      return [{ kind: 'send', to, msg: { type: 'tx-big', s: a.s, txn: a.txn, bytes, max } satisfies ReadsTooLarge }];
    }
    if (original.type !== 'tx-r') return [];
    const wire = original as ParticipantReply;
    if (wire.more !== undefined) {
      return [{ m: wire.m, r: wire.r }, ...wire.more].map((x): ParticipantEffect => ({
        kind: 'send',
        to,
        msg: x.r === undefined ? { type: 'tx-r', s: wire.s, m: x.m } : { type: 'tx-r', s: wire.s, m: x.m, r: x.r },
      }));
    }
    return this.readsTooLarge(to, wire, bytes, max) ?? [];
  }

  /**
   * A reply of one message over messageBytesMax (`bytes` long, or at least that): with what its
   * transaction read, the coordinator is told (`tx-big`) and the vote goes without the reads;
   * undefined if it carries no reads (nothing shorter can go in its place).
   */
  private readsTooLarge(to: string, wire: ParticipantReply, bytes: number, max: number): ParticipantEffect[] | undefined {
    const txn = (wire.m as { txn?: unknown } | null)?.txn;
    if (wire.r === undefined || typeof txn !== 'string') return undefined;
    // First: a coordinator that commits on the vote then answers at once (come after it, it
    // answers when it comes; lost, the coordinator asks for the reads, and is told again).
    return [
      { kind: 'send', to, msg: { type: 'tx-big', s: wire.s, txn, bytes, max } satisfies ReadsTooLarge },
      { kind: 'send', to, msg: { type: 'tx-r', s: wire.s, m: wire.m } satisfies ParticipantReply },
    ];
  }

  /** What the shard's log produced that concerns transactions. */
  onGroupOutput(s: number, out: GroupOutput): ParticipantEffect[] {
    const shard = this.shard(s);
    if (shard === undefined) return [];
    if (out.kind === 'vote') {
      if (!shard.awaitingVote.delete(out.txn)) return [];
      // Drained once after all the outputs at hand (afterOutputs): the votes of one log slot's
      // prepares are drained together, their records proposed in one go (a command each, the
      // last one tagged), and the votes leave together once those are chosen. A prepare of a
      // transaction that finished here is a late copy: dropped, not voted no (see forget).
      if (!out.vote && out.reason === ALREADY_FINISHED) shard.core.forget(out.txn);
      else shard.core.vote(out.txn, out.vote, out.reason);
      this.voted.add(s);
      return [];
    }
    if (out.kind === 'applied') {
      const c = out.command;
      const tag = c.k === 'pc' ? (c.record as { tag?: string } | null)?.tag : c.k === 'commit' || c.k === 'abort' ? c.tag : undefined;
      const held = tag === undefined ? undefined : shard.held.get(tag);
      if (held === undefined) {
        // A record this core did not write (an earlier leader's, chosen only now): the core
        // must be rebuilt from the full set of records, or it would act without knowing it.
        if (tag !== undefined && !tag.startsWith(this.tagPrefix)) this.shards.delete(s);
        return [];
      }
      shard.held.delete(tag!);
      return this.sendAll(s, held);
    }
    return [];
  }

  /**
   * The host handed over every output the shard's log produced (one `takeOutputs`): carry out
   * what the votes among them made the core do.
   */
  afterOutputs(s: number): ParticipantEffect[] {
    if (!this.voted.delete(s)) return [];
    return this.drain(s);
  }

  /**
   * A tick, first part: the held wires to try again (the host hands each to `receive`, with
   * its `from` and `ticks`), their hand-off count reset; those held too long are dropped.
   * Taken all at once: receiving may hold a message again, for the next tick.
   */
  takeHeld(): HeldWire[] {
    if (this.heldWires.size === 0) return [];
    const held = [...this.heldWires.values()].flat();
    this.heldWires.clear();
    const out: HeldWire[] = [];
    for (const h of held) {
      if (h.ticks >= HELD_WIRE_TICKS_MAX) continue;
      const { h: _hops, ...wire } = h.wire;
      out.push({ wire, from: h.from, ticks: h.ticks + 1 });
    }
    return out;
  }

  /**
   * Ticks that may pass before one does more than count here: 1 while there are held wires
   * to retry, a core to build or drop, a core with output, transactions to watch for orphans;
   * else the soonest timeout of the cores (Infinity if none counts). Ticks before it only
   * advance the cores' counters (`advance`); `takeHeld` and `tickShard` do nothing else.
   */
  ticksUntilDue(): number {
    if (this.heldWires.size > 0) return 1;
    let k = Number.POSITIVE_INFINITY;
    for (const [s, group] of this.host.groups) {
      const shard = this.shards.get(s);
      // A core to build (this replica leads) or to drop (it no longer does).
      if (group.isLeader() !== (shard !== undefined)) return 1;
      if (shard === undefined) continue;
      if (shard.core.hasReady()) return 1;
      k = Math.min(k, shard.core.ticksUntilDue(), this.orphanTicksUntilDue(shard, group));
      if (k === 1) return 1;
    }
    for (const s of this.shards.keys()) if (!this.host.groups.has(s)) return 1;
    return k;
  }

  /** Ticks until tickShard's orphan watch does more than count (see there): a rebuild, or an orphan's abort. */
  private orphanTicksUntilDue(shard: Shard, group: GroupReplica): number {
    if (!group.sm.hasOpenTransactions()) return Number.POSITIVE_INFINITY;
    let k = Number.POSITIVE_INFINITY;
    for (const txn of group.sm.openTransactions()) {
      const phase = shard.core.phaseOf(txn);
      if (shard.awaitingVote.has(txn) || phase === 'uncertain') continue;
      if (phase === undefined && group.sm.pc.has(txn)) return 1;
      k = Math.min(k, ORPHAN_TICKS - (shard.orphanTicks.get(txn) ?? 0));
    }
    return Math.max(1, k);
  }

  /**
   * `n` ticks that only count (below `ticksUntilDue()`): the cores' counters and the orphan
   * watch's, as `n` calls of `tickShard` would leave them.
   */
  advance(n: number): void {
    for (const [s, shard] of this.shards) {
      shard.core.advance(n);
      const group = this.host.groups.get(s)!;
      if (!group.sm.hasOpenTransactions() && shard.orphanTicks.size === 0) continue;
      const open = new Set(group.sm.openTransactions());
      for (const txn of open) {
        if (shard.awaitingVote.has(txn) || shard.core.phaseOf(txn) === 'uncertain') shard.orphanTicks.delete(txn);
        else shard.orphanTicks.set(txn, (shard.orphanTicks.get(txn) ?? 0) + n);
      }
      for (const txn of shard.orphanTicks.keys()) if (!open.has(txn)) shard.orphanTicks.delete(txn);
    }
  }

  /** A tick, second part, for each of the server's shards: tick the core, settle orphaned transactions. */
  tickShard(s: number): ParticipantEffect[] {
    const shard = this.shard(s);
    if (shard === undefined) return [];
    const group = this.host.groups.get(s)!;
    shard.core.tick();
    // Transactions still locking keys here that nothing is moving on, for ORPHAN_TICKS:
    // - the core voted yes and waits for the outcome: it asks the coordinator; leave it;
    // - the core decided, but the outcome entry was lost (a leader change): propose it again;
    // - the core does not know it, or still waits for a vote that no prepare entry will
    //   bring: no yes vote left this shard (a yes vote leaves only once its record is
    //   chosen, and a new leader's core is built from those records), so abort is safe.
    // Idle (no open transaction, none counted): nothing to settle; no set built.
    if (!group.sm.hasOpenTransactions() && shard.orphanTicks.size === 0) return this.drain(s);
    const open = new Set(group.sm.openTransactions());
    let proposed = false;
    for (const txn of open) {
      const phase = shard.core.phaseOf(txn);
      if (shard.awaitingVote.has(txn) || phase === 'uncertain') {
        shard.orphanTicks.delete(txn);
        continue;
      }
      if (phase === undefined && group.sm.pc.has(txn)) {
        // Records this core was not built from: rebuild it from the log.
        this.shards.delete(s);
        break;
      }
      const ticks = (shard.orphanTicks.get(txn) ?? 0) + 1;
      shard.orphanTicks.set(txn, ticks);
      if (ticks >= ORPHAN_TICKS) {
        // Whether or not the proposal takes (a new leader's barrier), look again later.
        shard.orphanTicks.set(txn, 0);
        group.proposeOutcome(txn, phase === 'committed' ? 'commit' : 'abort');
        proposed = true;
      }
    }
    for (const txn of shard.orphanTicks.keys()) if (!open.has(txn)) shard.orphanTicks.delete(txn);
    return this.drain(s, proposed);
  }
}
