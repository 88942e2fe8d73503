/**
 * The replication layer's wire wrappers: how a shard group's Paxos messages, its learners'
 * feed and the transaction participant's protocol messages travel between actors. Plain data
 * with a string-literal `type`; the protocol messages inside are their cores' own.
 */
import type { MultiPaxosMessage } from '../protocols/multipaxos-messages.js';
import type { TxnReads } from './ops.js';
import type { Command, Snapshot } from './state-machine.js';

/** server -> server: a Multi-Paxos message of shard `s`'s group. */
export interface ShardPaxosWire {
  type: 'px';
  s: number;
  m: MultiPaxosMessage;
}

/**
 * server -> server: the Multi-Paxos messages of several shards' groups that one step of the
 * sender produced for this peer, in order: `m[i]` is for shard `s[i]` (one message per peer
 * and step instead of one per shard: a server's leaders beat on one grid). The keys are
 * ShardPaxosWire's, so the codec's shared record shape serves both.
 */
export interface ShardPaxosBatchWire {
  type: 'pxs';
  s: number[];
  m: MultiPaxosMessage[];
}

/**
 * Hybrid mode, a shard's leader -> a remote learner: the commands it applied from `entries[0]`'s
 * index on (or a snapshot first, for a learner too far behind); and the learner's answer.
 * A snapshot too large for one message goes in `learn-piece`s instead (piece `at` of `of` of
 * the snapshot at applied count `index`, see snapshot-pieces.ts); the learner's answer to one
 * names, in `piece`, the pieces it holds of it (all before `next`).
 */
export type LearnMessage =
  | { type: 'learn'; s: number; entries: Array<[number, Command]>; snapshot: Snapshot | null }
  | { type: 'learn-piece'; s: number; index: number; hash: number; size: number; of: number; at: number; text: string }
  | { type: 'learn-ack'; s: number; applied: number; piece?: LearnPieceAck };

/** A learner's pieces of a snapshot (see LearnMessage): every piece before `next` of the snapshot of `index` and `hash`. */
export interface LearnPieceAck {
  index: number;
  hash: number;
  next: number;
}

/** coordinator -> server (or participant -> participant): a commit-protocol message for the participant of shard `s`. */
export interface ParticipantWire {
  type: 'tx';
  s: number;
  m: { type: string; txn: string; [field: string]: unknown };
  /**
   * More messages for the same participant from the same sender, after `m`, in order: a
   * coordinator sends what one turn produced for a shard as one wire, or as several that each
   * fit under messageBytesMax (absent: none; see coordinator.ts sendWithin).
   */
  more?: Array<{ type: string; txn: string; [field: string]: unknown }>;
  /** The logical sender when it is another shard's participant (`shard/<n>`); else the actor. */
  f?: string;
  /** Times a replica passed it on to its leader hint (absent: 0); bounded by WIRE_FORWARD_HOPS_MAX. */
  h?: number;
}

/** server -> coordinator (or another protocol role): a message from the participant of shard `s`. */
export interface ParticipantReply {
  type: 'tx-r';
  s: number;
  m: unknown;
  /** With a yes vote to the transaction's coordinator: what the transaction read at this shard. */
  r?: TxnReads;
  /**
   * More messages from the same participant to the same address, after `m`, in order (each with
   * its reads as `r`): the messages released by one log entry travel as one wire, or as several
   * that each fit under messageBytesMax (absent: none; see Participants.within).
   */
  more?: Array<{ m: unknown; r?: TxnReads }>;
}

/** coordinator -> server: what did `txn` read at shard `s`? (It missed the vote that carried it.) */
export interface ReadsQuery {
  type: 'tx-q';
  s: number;
  txn: string;
  /** Times a replica passed it on to its leader hint (absent: 0); bounded by WIRE_FORWARD_HOPS_MAX. */
  h?: number;
}

/** server -> coordinator: the answer; `r` absent when this replica no longer knows. */
export interface ReadsAnswer {
  type: 'tx-a';
  s: number;
  txn: string;
  r?: TxnReads;
}

/**
 * server -> coordinator: what `txn` read at shard `s` is over messageBytesMax (`max`): the wire
 * that carried it (a yes vote's `tx-r`, or a `tx-a`), `bytes` long, came back undelivered, or
 * its reply was measured at `bytes` without its envelope and not sent (Participants.within). A
 * vote goes again without the reads (see Participants.tooLarge).
 */
export interface ReadsTooLarge {
  type: 'tx-big';
  s: number;
  txn: string;
  bytes: number;
  max: number;
}
