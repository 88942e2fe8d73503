/**
 * Wire messages, durable records and decisions of three-phase commit with its termination
 * protocol (Skeen 1981; Bernstein, Hadzilacos & Goodman 1987, section 7.5).
 * `epoch` 0 is the original coordinator; each termination run uses a higher epoch, and a
 * participant ignores coordinator messages from epochs below the highest it has joined.
 */
import type { CommitCoordinatorDecision, CommitParticipantDecision, ParticipantAbortReason } from './commit.js';

export type ThreePcState = 'initial' | 'uncertain' | 'precommitted' | 'committed' | 'aborted';

export type ThreePcMessage =
  /** Phase 1, coordinator -> participant; the cohort travels with it for the termination protocol. */
  | { type: 'can-commit'; txn: string; participants: string[]; payload: unknown }
  /** A no vote may say why (`why`, see boundWhy): the coordinator's abort tells the client. */
  | { type: 'vote'; txn: string; yes: boolean; why?: string }
  /** Phase 2: every participant voted yes; it is safe to prepare for commit. */
  | { type: 'pre-commit'; txn: string; epoch: number }
  | { type: 'ack'; txn: string; epoch: number }
  /** Phase 3. */
  | { type: 'do-commit'; txn: string; epoch: number }
  | { type: 'abort'; txn: string; epoch: number }
  /** A decided participant answering `help`: final under crash-stop, so accepted in any epoch. */
  | { type: 'decision'; txn: string; commit: boolean }
  /** A participant that suspects its coordinator asks the next candidate to run termination. */
  | { type: 'help'; txn: string; participants: string[] }
  /** Termination: the new coordinator of `epoch` collects every reachable participant's state. */
  | { type: 'state-request'; txn: string; epoch: number }
  | { type: 'state-report'; txn: string; epoch: number; state: ThreePcState };

export type ThreePcRecord =
  /** Forced before the yes vote leaves. */
  | { type: 'voted'; txn: string; coordinator: string; participants: string[]; payload: unknown }
  /** Forced before the pre-commit ack leaves. */
  | { type: 'precommitted'; txn: string; epoch: number }
  | { type: 'decided'; txn: string; commit: boolean };

export type ThreePcCoordinatorDecision = CommitCoordinatorDecision;

/** `prepare`: the host must answer with `participant.vote(txn, yes)`. */
export type ThreePcParticipantDecision = CommitParticipantDecision<ParticipantAbortReason | 'coordinator' | 'termination'>;
