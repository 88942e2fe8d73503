/**
 * Wire messages, durable records and decisions of Multi-Paxos (Lamport, "Paxos Made Simple"
 * section 3; van Renesse & Altinbuken, "Paxos Made Moderately Complex", 2015).
 * One log slot holds a batch of commands; an empty batch is a no-op filling a gap.
 */
import type { Ballot } from './ballot.js';

/** A slot's value as an acceptor holds it. `chosen` is true once it is known to be decided. */
export interface MultiPaxosSlot {
  index: number;
  ballot: Ballot;
  commands: unknown[];
  chosen: boolean;
}

/** The slots one part of a promise accounts for: from `from` to before `until` (to the end without it). */
export interface PromisePart {
  from: number;
  until?: number;
}

export interface MultiPaxosSnapshot {
  index: number;
  data: unknown;
}

export type MultiPaxosMessage =
  /** Phase 1a for every slot from `fromIndex` on (the candidate's first unchosen slot). */
  | { type: 'prepare'; ballot: Ballot; fromIndex: number }
  /**
   * Phase 1b: every slot the acceptor holds from `fromIndex` on, and its snapshot if that
   * already covers `fromIndex` (compacted slots are chosen, but no longer listed). An acceptor
   * whose snapshot covers `fromIndex` and is too large for a message (see
   * MultiPaxosConfig.snapshotPieceBytes) does not promise (see MultiPaxos.onPrepare).
   * `part`: one of several promises answering the same prepare, when together they would be
   * too large for a message (see MultiPaxos.promiseParts): it accounts for the slots from
   * `from` to before `until` (to the end without it), and holds the snapshot if it is the first.
   */
  | { type: 'promise'; ballot: Ballot; slots: MultiPaxosSlot[]; snapshot: MultiPaxosSnapshot | null; part?: PromisePart }
  /**
   * Pre-vote (Ongaro's thesis, section 9.6): would the sender win a campaign at `ballot`? Sent
   * by a replica whose election timer expired, before it promises itself anything. Changes
   * nothing at the receiver.
   */
  | { type: 'pre-prepare'; ballot: Ballot }
  /**
   * The answer: `granted` unless the receiver has heard from a live leader within electionTicks
   * (or leads). `promised` lets a candidate whose rounds are behind outbid it when it campaigns.
   */
  | { type: 'pre-promise'; ballot: Ballot; granted: boolean; promised: Ballot }
  /** Phase 2a for one slot; also carries the leader's commit index. */
  | { type: 'accept'; ballot: Ballot; index: number; commands: unknown[]; commitIndex: number }
  /** Phase 2b. */
  | { type: 'accepted'; ballot: Ballot; index: number }
  /** Refusal of `ballot`: the acceptor promised `promised`. Deposes a stale leader or candidate. */
  | { type: 'nack'; ballot: Ballot; promised: Ballot }
  /** The leader's commit index advanced (sent when no accept carries it). */
  | { type: 'commit'; ballot: Ballot; commitIndex: number }
  /**
   * `read`: the leader's read round (see MultiPaxos.read): a follower that takes the heartbeat
   * at `ballot` echoes it, telling the leader no higher ballot had its promise when it did.
   */
  | { type: 'heartbeat'; ballot: Ballot; commitIndex: number; read?: number }
  | { type: 'heartbeat-ack'; ballot: Ballot; commitIndex: number; read?: number }
  /**
   * A follower missing chosen slots asks the leader for them. `piece`: it holds the pieces
   * before `next` of the snapshot of `index` whose encoding hashes to `hash`, and asks for the
   * following ones (the leader starts its own snapshot over if it has another).
   */
  | { type: 'catchup'; ballot: Ballot; fromIndex: number; piece?: { index: number; hash: number; next: number } }
  /** Chosen slots, leader -> lagging follower. */
  | { type: 'entries'; ballot: Ballot; slots: MultiPaxosSlot[]; commitIndex: number }
  /** The leader's snapshot, when the slots a follower misses were compacted. */
  | { type: 'snapshot'; ballot: Ballot; snapshot: MultiPaxosSnapshot; commitIndex: number }
  /**
   * Piece `at` of `of` of the leader's snapshot of `index`, when it is too large for one message
   * (snapshot-pieces.ts): the follower installs it once it holds every piece. `until`: the end
   * of the window of pieces this one was sent in (the follower asks for more once it holds them).
   */
  | {
      type: 'snapshot-piece';
      ballot: Ballot;
      index: number;
      hash: number;
      size: number;
      of: number;
      at: number;
      until: number;
      text: string;
      commitIndex: number;
    };

export type MultiPaxosRecord =
  /** The acceptor's promise (a candidate's promise to itself, too, before its prepare leaves). */
  | { type: 'promise'; ballot: Ballot }
  /** An accepted slot value (implies a promise of `ballot`). */
  | { type: 'accept'; index: number; ballot: Ballot; commands: unknown[] }
  /** A chosen slot value learned from the leader or from phase 1. */
  | { type: 'chosen'; index: number; ballot: Ballot; commands: unknown[] }
  /** Every slot up to `index` is chosen, and its value is the one held (accepted or chosen record). */
  | { type: 'commit'; index: number }
  /** Every slot up to `index` is folded into `data`; earlier records are obsolete. */
  | { type: 'snapshot'; index: number; data: unknown };

export type MultiPaxosDecision =
  /** Apply `command`, the `offset`-th command of slot `index`. Reported once, in log order. */
  | { kind: 'apply'; index: number; offset: number; command: unknown }
  /**
   * Replace the state machine with `snapshot`, which covers every slot up to `index`: after a
   * restart (the last compacted state), or when a lagging replica installs the leader's.
   */
  | { kind: 'snapshot'; index: number; snapshot: unknown }
  /** `snapshotEvery` slots were applied since the last compaction: call `compact(index, state)`. */
  | { kind: 'snapshot-due'; index: number }
  /** Proposals that never got a slot because this node stopped leading: definitely not applied. */
  | { kind: 'dropped'; commands: unknown[] }
  /**
   * Reads (`MultiPaxos.read`) the host may now answer from its state machine: every slot
   * chosen before each arrived is applied, and this replica still led after it arrived.
   */
  | { kind: 'read'; tokens: unknown[] }
  /** Reads this replica can no longer answer: it stopped leading before they were confirmed. */
  | { kind: 'reads-dropped'; tokens: unknown[] };
