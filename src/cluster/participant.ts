import type { ActorContext } from '../runtime/actor.js';
import type { GroupOutput } from '../replication/group.js';
import type { TxnOp } from '../replication/ops.js';
import { createParticipantCore, type ParticipantCore, type ParticipantDecision } from './commit-adapters.js';
import type { ServerParams, ServerState } from './server.js';

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

/** coordinator -> server: a protocol message for the participant of shard `s`. */
export interface ParticipantWire {
  type: 'tx';
  s: number;
  m: { type: string; txn: string; [field: string]: unknown };
}

/** server -> coordinator (or another protocol role): a message from the participant of shard `s`. */
export interface ParticipantReply {
  type: 'tx-r';
  s: number;
  m: unknown;
}

/** Ticks an orphaned prepare (locked, never voted) waits before this leader aborts it. */
export const ORPHAN_TICKS = 200;

interface Shard {
  core: ParticipantCore;
  /** Messages held until the records proposed with the same tag are chosen. */
  held: Map<string, Array<{ to: string; msg: unknown }>>;
  /** Decisions whose log proposal failed (leader busy); retried on tick. */
  retry: ParticipantDecision[];
  orphanTicks: Map<string, number>;
  /** Transactions whose prepare this leader proposed and awaits (to vote on apply). */
  awaitingVote: Set<string>;
}

export function participantAddress(shard: number): string {
  return `shard/${shard}`;
}

export class Participants {
  private readonly shards = new Map<number, Shard>();
  private nextTag = 0;

  constructor(
    private readonly params: ServerParams,
    private readonly self: string,
    /** The server's own drain of a shard's group: persist, send, answer. */
    private readonly drainGroup: (state: ServerState, s: number, ctx: ActorContext) => void,
  ) {}

  private shard(state: ServerState, s: number): Shard | undefined {
    const group = state.groups.get(s);
    if (group === undefined || !group.isLeader()) {
      this.shards.delete(s);
      return undefined;
    }
    let shard = this.shards.get(s);
    if (shard === undefined) {
      // This replica leads now: resume from the records the shard's log holds.
      const records: unknown[] = [];
      for (const list of group.sm.pc.values()) records.push(...list);
      shard = { core: createParticipantCore(this.params.commit, participantAddress(s), records), held: new Map(), retry: [], orphanTicks: new Map(), awaitingVote: new Set() };
      this.shards.set(s, shard);
    }
    return shard;
  }

  receive(state: ServerState, wire: ParticipantWire, ctx: ActorContext): void {
    const group = state.groups.get(wire.s);
    if (group === undefined) return;
    if (!group.isLeader()) {
      const hint = group.leaderHint();
      if (hint !== undefined && hint !== this.self) ctx.forward(hint, wire);
      return;
    }
    const shard = this.shard(state, wire.s)!;
    // An abort for a prepare this core never voted on (an earlier leader locked, then died).
    if (wire.m.type === 'abort' && group.sm.openTransactions().includes(wire.m.txn)) {
      if (!group.proposeOutcome(wire.m.txn, 'abort')) shard.retry.push({ kind: 'abort', txn: wire.m.txn });
    }
    shard.core.step(ctx.sender, wire.m);
    this.drain(state, wire.s, ctx);
  }

  /** Carry out the core's output: records through the log, messages after them. */
  drain(state: ServerState, s: number, ctx: ActorContext): void {
    const shard = this.shards.get(s);
    const group = state.groups.get(s);
    if (shard === undefined || group === undefined) return;
    for (let round = 0; round < 4 && shard.core.hasReady(); round++) {
      const r = shard.core.ready();
      const messages = r.messages.map((m) => ({ to: m.to, msg: m.msg }));
      if (r.persist.length > 0) {
        const tag = `${this.self}#${this.nextTag++}`;
        let proposed = true;
        r.persist.forEach((record, i) => {
          const txn = (record as { txn?: string }).txn ?? '';
          proposed = group.proposeRecord(txn, i === r.persist.length - 1 ? { tag, record } : { record }) && proposed;
        });
        if (!proposed) continue; // Not leading any more: the messages must not leave.
        shard.held.set(tag, messages);
      } else {
        for (const m of messages) this.send(s, m.to, m.msg, ctx);
      }
      for (const d of r.decisions) this.decide(state, s, shard, d);
    }
    // The log proposals above are carried out by the group.
    this.drainGroup(state, s, ctx);
  }

  private send(s: number, to: string, msg: unknown, ctx: ActorContext): void {
    const reply: ParticipantReply = { type: 'tx-r', s, m: msg };
    ctx.send(to, reply);
  }

  private decide(state: ServerState, s: number, shard: Shard, d: ParticipantDecision): void {
    const group = state.groups.get(s)!;
    switch (d.kind) {
      case 'prepare':
        shard.awaitingVote.add(d.txn);
        if (!group.proposePrepare(d.txn, d.payload as TxnOp[])) shard.retry.push(d);
        return;
      case 'commit':
      case 'abort':
        if (!group.proposeOutcome(d.txn, d.kind)) shard.retry.push(d);
        return;
    }
  }

  /** What the shard's log produced that concerns transactions. */
  onGroupOutput(state: ServerState, s: number, out: GroupOutput, ctx: ActorContext): void {
    const shard = this.shard(state, s);
    if (shard === undefined) return;
    if (out.kind === 'vote') {
      if (!shard.awaitingVote.delete(out.txn)) return;
      shard.core.vote(out.txn, out.vote);
      this.drain(state, s, ctx);
      return;
    }
    if (out.kind === 'applied' && out.command.k === 'pc') {
      const tag = (out.command.record as { tag?: string }).tag;
      if (tag === undefined) return;
      const held = shard.held.get(tag);
      if (held === undefined) return;
      shard.held.delete(tag);
      for (const m of held) this.send(s, m.to, m.msg, ctx);
    }
  }

  tick(state: ServerState, ctx: ActorContext): void {
    for (const s of state.groups.keys()) {
      const shard = this.shard(state, s);
      if (shard === undefined) continue;
      const group = state.groups.get(s)!;
      shard.core.tick();
      const retry = shard.retry;
      shard.retry = [];
      for (const d of retry) this.decide(state, s, shard, d);
      // Orphans: locked by a prepare whose vote never left (no voted record was chosen).
      const open = new Set(group.sm.openTransactions());
      for (const txn of open) {
        if (shard.awaitingVote.has(txn) || shard.core.knows(txn)) {
          shard.orphanTicks.delete(txn);
          continue;
        }
        const ticks = (shard.orphanTicks.get(txn) ?? 0) + 1;
        shard.orphanTicks.set(txn, ticks);
        if (ticks >= ORPHAN_TICKS) {
          shard.orphanTicks.delete(txn);
          if (!group.proposeOutcome(txn, 'abort')) shard.orphanTicks.set(txn, ORPHAN_TICKS - 1);
        }
      }
      for (const txn of shard.orphanTicks.keys()) if (!open.has(txn)) shard.orphanTicks.delete(txn);
      this.drain(state, s, ctx);
    }
  }
}
