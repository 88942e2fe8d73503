/**
 * Wire messages, durable records and decisions of Paxos Commit (Gray & Lamport, "Consensus on
 * Transaction Commit", 2004). One Paxos instance per resource manager (RM) decides whether that
 * RM is `prepared` or `aborted`; the transaction commits iff every instance chose `prepared`.
 */
import type { Ballot } from './ballot.js';
import type { CommitParticipantDecision, ParticipantAbortReason } from './commit.js';

export type PaxosCommitValue = 'prepared' | 'aborted';

export interface PaxosCommitAccepted {
  ballot: Ballot;
  value: PaxosCommitValue;
  /** An `aborted` value's `why`, as its phase 2a said it (see boundWhy): a recovery leader proposes it again. */
  why?: string;
}

export type PaxosCommitMessage =
  /** Leader -> RM: the transaction's RMs, acceptors and leader travel with it. */
  | { type: 'prepare'; txn: string; rms: string[]; payload: unknown }
  /**
   * Phase 2a for instance `rm`. At ballot 0 the RM itself sends it (the fast path, allowed
   * because ballot 0 belongs to the RM alone); at higher ballots a (recovery) leader does.
   * `leader` is where acceptors send their phase 2b. An `aborted` value may say why (`why`, see
   * boundWhy: the RM's reason for its no vote), which the acceptors pass on in their phase 2b
   * and the leader in its decision.
   */
  | { type: 'phase2a'; txn: string; rm: string; ballot: Ballot; value: PaxosCommitValue; leader: string; rms: string[]; why?: string }
  /** Phase 2b, acceptor -> leader (`why`: the phase 2a's, passed on). */
  | { type: 'phase2b'; txn: string; rm: string; ballot: Ballot; value: PaxosCommitValue; why?: string }
  /** Phase 1a for every instance of the transaction at once (one ballot for all). */
  | { type: 'phase1a'; txn: string; ballot: Ballot; rms: string[] }
  /** Phase 1b: what the acceptor accepted in each instance (null: nothing), an `aborted` value with its `why`. */
  | { type: 'phase1b'; txn: string; ballot: Ballot; accepted: { rm: string; accepted: PaxosCommitAccepted | null }[] }
  /** The acceptor promised a higher ballot for this transaction. */
  | { type: 'nack'; txn: string; ballot: Ballot; promised: Ballot }
  /**
   * The decided outcome, leader -> every RM (and the coordinator that began the transaction).
   * An abort a recovery leader decided says why (`why`) to that coordinator, which answers
   * the caller with it; the RMs' copies carry none.
   */
  | { type: 'outcome'; txn: string; commit: boolean; why?: string };

export type PaxosCommitRecord =
  /** Acceptor: forced before its phase 1b leaves. */
  | { type: 'promise'; txn: string; ballot: Ballot }
  /** Acceptor: forced before its phase 2b leaves (an `aborted` value with its `why`, if it has one). */
  | { type: 'accepted'; txn: string; rm: string; ballot: Ballot; value: PaxosCommitValue; why?: string }
  /** RM: forced before its `prepared` phase 2a leaves (the payload it will apply on commit). */
  | { type: 'prepared'; txn: string; coordinator: string; rms: string[]; payload: unknown }
  | { type: 'decided'; txn: string; commit: boolean }
  /**
   * RM: forced before an `aborted` phase 2a leaves (vote no, or vote timeout), so that a restarted
   * RM never proposes a second, different value at its ballot 0.
   */
  | { type: 'aborted'; txn: string; coordinator: string; rms: string[] }
  /** Leader: the round it runs phase 1 with, forced first, so a restarted leader never reuses it. */
  | { type: 'round'; txn: string; round: number }
  /**
   * Acceptor, in its host's checkpoints (PaxosCommitNode.checkpointRecords): per source of
   * transaction ids, the highest number whose state it forgot (see acceptorForgotten).
   */
  | { type: 'forgotten'; marks: Array<[string, number]> };

export type PaxosCommitDecision =
  /** RM: `prepare` (the host must answer with `vote(txn, yes)`), then the outcome for this RM's part. */
  | CommitParticipantDecision<ParticipantAbortReason | 'outcome'>
  /**
   * Leader (the coordinator that began it, or a recovery leader): the transaction's outcome.
   * An abort's `why`: what the phase 2b that chose `aborted` said, or, when another leader's
   * outcome came first, what that outcome said (none if it said nothing).
   */
  | { kind: 'outcome'; txn: string; commit: boolean; why?: string };
