/**
 * Paxos ballots: (round, proposer id), totally ordered by round, then by id. Two proposers
 * never share a ballot because the id is part of it, and a proposer never reuses a round
 * because it persists the highest round it used (or promised) before sending with it.
 * Plain data so it survives the codec.
 */
export interface Ballot {
  round: number;
  id: string;
}

/** The ballot below every real one. Round 0 with an empty id is reserved (Paxos Commit's RM ballot). */
export const BALLOT_ZERO: Ballot = { round: 0, id: '' };

export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

export function ballotEquals(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.id === b.id;
}

export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

/** The next ballot `id` may use after having seen `seen`: strictly above it. */
export function nextBallot(seen: Ballot, id: string): Ballot {
  return { round: seen.round + 1, id };
}

export function formatBallot(b: Ballot): string {
  return `${b.round}.${b.id}`;
}
