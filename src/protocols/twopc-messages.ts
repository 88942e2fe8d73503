/**
 * Wire messages, durable records and decisions of two-phase commit (presumed abort).
 * Plain data with a string-literal `type`, so they survive the codec.
 */
export type TwoPcMessage =
  /** Coordinator -> participant: phase 1, carrying what the participant must do if it commits. */
  | { type: 'prepare'; txn: string; payload: unknown }
  /** Participant -> coordinator: its vote. A yes vote is durable before it is sent. */
  | { type: 'vote'; txn: string; yes: boolean }
  /** Coordinator -> participant: the outcome. Only commit is logged and acknowledged. */
  | { type: 'commit'; txn: string }
  | { type: 'abort'; txn: string }
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

export type TwoPcCoordinatorDecision = { kind: 'commit'; txn: string } | { kind: 'abort'; txn: string; reason: 'vote-no' | 'timeout' };

export type TwoPcParticipantDecision =
  /** The host must answer with `participant.vote(txn, yes)`: check locks and conditions. */
  | { kind: 'prepare'; txn: string; payload: unknown }
  | { kind: 'commit'; txn: string; payload: unknown }
  | { kind: 'abort'; txn: string; payload: unknown; reason: 'coordinator' | 'vote-no' | 'timeout' };
