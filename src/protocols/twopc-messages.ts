/**
 * Wire messages, durable records and decisions of two-phase commit (presumed abort).
 * Plain data with a string-literal `type`, so they survive the codec.
 */
import type { CommitCoordinatorDecision, CommitParticipantDecision, ParticipantAbortReason } from './commit.js';

export type TwoPcMessage =
  /** Coordinator -> participant: phase 1, carrying what the participant must do if it commits. */
  | { type: 'prepare'; txn: string; payload: unknown }
  /**
   * Participant -> coordinator: its vote. A yes vote is durable before it is sent. A no vote
   * may say why (`why`, see boundWhy): the coordinator's abort tells the client.
   */
  | { type: 'vote'; txn: string; yes: boolean; why?: string }
  /**
   * Coordinator -> participant: the outcome. Only commit is logged and acknowledged.
   * `presumed`: not a decision the coordinator made, but its answer to a vote or decision
   * request for a transaction it has no record of (presumed abort). It holds for a participant
   * still in doubt; a participant that committed asked a stale question (a request or a
   * duplicated vote overtaken by its own ack, after which the coordinator forgot the commit).
   */
  | { type: 'commit'; txn: string }
  | { type: 'abort'; txn: string; presumed?: true }
  /** Participant -> coordinator: commit applied durably; lets the coordinator forget the txn. */
  | { type: 'ack'; txn: string }
  /** An uncertain participant (voted yes, no outcome yet) asking the coordinator again. */
  | { type: 'decision-request'; txn: string };

export type TwoPcCoordinatorRecord =
  /** Forced before any commit message leaves: the commit point of the transaction. */
  | { type: 'commit'; txn: string; participants: string[] }
  /** Every participant acknowledged: the commit record may be forgotten. */
  | { type: 'end'; txn: string };

export type TwoPcParticipantRecord =
  /** Forced before the yes vote leaves: from here on the participant may not abort alone. */
  { type: 'voted'; txn: string; coordinator: string; payload: unknown } | { type: 'decided'; txn: string; commit: boolean };

export type TwoPcCoordinatorDecision = CommitCoordinatorDecision;

/** `prepare`: the host must answer with `participant.vote(txn, yes)`: check locks and conditions. */
export type TwoPcParticipantDecision = CommitParticipantDecision<ParticipantAbortReason | 'coordinator'>;
