/**
 * The one shape of the atomic-commit cores (2PC, 3PC, Paxos Commit) and the unions they
 * share. A host drives any of them the same way: `step` / `tick` / `vote` or `begin` in,
 * `ready()` out (see types.ts), and asks where a transaction stands with `phaseOf`.
 */
import type { Core } from './types.js';

export type CommitProtocolName = '2pc' | '3pc' | 'paxos-commit';

/**
 * Where a core stands on one transaction, in the terms every protocol shares:
 * - 'voting': a participant waits for its host's vote; a coordinator collects votes;
 * - 'uncertain': a participant voted yes and does not know the outcome (3PC's pre-committed
 *   state counts); a coordinator is past the votes but has not decided (3PC pre-commit);
 * - 'committed' / 'aborted': decided.
 * `undefined`: the core does not track it (never saw it, or forgot it).
 */
export type CommitPhase = 'voting' | 'uncertain' | 'committed' | 'aborted';

/** A transaction's outcome, as a decision kind. */
export type CommitOutcome = 'commit' | 'abort';

/** Why a coordinator aborted: a participant voted no, or the votes did not all arrive in time. */
export type CoordinatorAbortReason = 'vote-no' | 'timeout';

/** Why a participant aborted (each protocol adds its own reasons to these). */
export type ParticipantAbortReason = 'vote-no' | 'timeout';

/**
 * A coordinator's decision: the transaction's outcome. An abort's `why` says, in a few words,
 * what ended it: the first no-voter's own reason (the host's, as it gave it to `vote`), or
 * what the core saw (a participant that voted no without one, votes that did not all arrive).
 */
export type CommitCoordinatorDecision<Reason extends string = CoordinatorAbortReason> =
  { kind: 'commit'; txn: string } | { kind: 'abort'; txn: string; reason: Reason; why: string };

/** The longest `why` a core sends or decides (characters); a longer one is cut. */
export const ABORT_WHY_CHARS_MAX = 200;

/**
 * `why` as a core sends it on: a string of at most ABORT_WHY_CHARS_MAX characters (cut, with
 * '...', never inside a surrogate pair), or undefined for none (not a string, or empty). It
 * came from a host or off the wire: nothing else about it is trusted.
 */
export function boundWhy(why: unknown): string | undefined {
  if (typeof why !== 'string' || why.length === 0) return undefined;
  if (why.length <= ABORT_WHY_CHARS_MAX) return why;
  let end = ABORT_WHY_CHARS_MAX - 3;
  const last = why.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return why.slice(0, end) + '...';
}

/** A participant's decisions: vote on this (answer with `vote`), then apply or drop the payload. */
export type CommitParticipantDecision<Reason extends string = ParticipantAbortReason> =
  /** The host must answer with `vote(txn, yes)`: check locks and conditions. */
  | { kind: 'prepare'; txn: string; payload: unknown }
  /**
   * Apply the transaction's writes, where they are still prepared (a no-op where it finished).
   * 2PC also decides this for a commit of a transaction it does not hold (payload null): a
   * message the host sends in the same `ready()` (the ack) leaves only once this is durable.
   */
  | { kind: 'commit'; txn: string; payload: unknown }
  | { kind: 'abort'; txn: string; payload: unknown; reason: Reason };

/** What every commit core answers, whatever its role. */
export interface CommitCore<M, R, D> extends Core<M, R, D> {
  /** Where the core stands on `txn` (see CommitPhase); the one way to ask. */
  phaseOf(txn: string): CommitPhase | undefined;
  /**
   * Ticks that may pass before one does more than count: ticks 1..k-1 from now only advance
   * counters (`advance`), tick k may send or decide. At least 1; Infinity when a tick does
   * nothing at all.
   */
  ticksUntilDue(): number;
  /** `n` ticks at once, each of them one that only counts (`n` below `ticksUntilDue()`): the same as `n` calls of `tick()`. */
  advance(n: number): void;
}

/** A participant (2PC, 3PC) or resource manager (Paxos Commit). */
export interface CommitParticipantCore<M, R, D> extends CommitCore<M, R, D> {
  /**
   * The host's answer to a `prepare` decision; false if the core no longer waits for it. A no
   * vote's `why` (which key, what failed) goes with it to the coordinator (see boundWhy).
   */
  vote(txn: string, yes: boolean, why?: string): boolean;
  /**
   * The host's answer to a `prepare` decision that was stale: the transaction ended here
   * already, and this prepare is a late copy of one answered then (the core had forgotten
   * the transaction, or was rebuilt without it). The core drops the transaction as if it had
   * never seen the copy: no decision, no vote, no record. A vote of no would abort here a
   * transaction that may have committed, and a late copy of its commit would then meet an
   * abort. False if the core does not wait for a vote on it.
   */
  forget(txn: string): boolean;
}

/** A coordinator (2PC, 3PC) or the leader that begins a Paxos Commit transaction. */
export interface CommitCoordinatorCore<M, R, D> extends CommitCore<M, R, D> {
  /** Starts the transaction: a prepare to each participant, with its part of the work. */
  begin(txn: string, participants: ReadonlyArray<{ to: string; payload: unknown }>): void;
}
