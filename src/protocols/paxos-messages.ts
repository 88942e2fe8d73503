/**
 * Wire messages, durable records and decisions of single-decree Paxos (Lamport, "Paxos Made
 * Simple", 2001). Plain data; ballots are `{ round, id }` objects.
 */
import type { Ballot } from './ballot.js';

export interface PaxosAcceptedValue {
  ballot: Ballot;
  value: unknown;
}

export type PaxosMessage =
  /** Phase 1a, proposer -> acceptors. */
  | { type: 'prepare'; ballot: Ballot }
  /** Phase 1b: the promise, with the acceptor's highest-ballot accepted value (or null). */
  | { type: 'promise'; ballot: Ballot; accepted: PaxosAcceptedValue | null }
  /** Phase 2a, proposer -> acceptors. */
  | { type: 'accept'; ballot: Ballot; value: unknown }
  /** Phase 2b, acceptor -> proposer (the distinguished learner). */
  | { type: 'accepted'; ballot: Ballot }
  /** Refusal of `ballot`, naming the higher ballot the acceptor promised, so the proposer can outbid it. */
  | { type: 'nack'; ballot: Ballot; promised: Ballot }
  /** The distinguished learner tells the other learners, again and again until each acknowledges. */
  | { type: 'chosen'; value: unknown }
  /** Learner -> the node that told it: it has the value (durable), so the telling can stop. */
  | { type: 'chosen-ack' };

export type PaxosRecord =
  /** Acceptor: forced before the promise leaves. */
  | { type: 'promise'; ballot: Ballot }
  /** Acceptor: forced before the accepted message leaves (it implies a promise of `ballot`). */
  | { type: 'accepted'; ballot: Ballot; value: unknown }
  /** Proposer: the highest round it has used, forced before its prepare leaves, so it is never reused. */
  | { type: 'round'; round: number }
  /** Learner: the value it learned. */
  | { type: 'learned'; value: unknown };

export type PaxosDecision = { kind: 'chosen'; value: unknown };
