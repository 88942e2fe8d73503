/**
 * The host of a commit protocol's participant core in the randomized core tests
 * (test/helpers/twopc-random.ts, twopc-stale.ts, paxoscommit-random.ts, paxoscommit-duel.ts): what the shard's state
 * machine knows, which outlives a rebuilt core. Relative imports only (see core-mutant.ts).
 */
import type { Prng } from '../../src/core/prng.js';

export interface CommitHost {
  /** Outcome per transaction, as the shard's state machine applied it (kept across core rebuilds). */
  finished: Map<string, 'commit' | 'abort'>;
  /** Prepares proposed to the shard's log, not yet applied, each with the step it may be applied from (lost if the core is rebuilt). */
  pending: Array<{ txn: string; due: number }>;
}

/**
 * The host applies a prepare whose step has come (any, with `all`), at random, taken off
 * `pending`: a transaction it finished is handed to `forget` (a late copy: the core drops it,
 * as the real host answers it), any other is returned for the host's vote. Undefined if there
 * is none to vote on.
 */
export function takeDuePrepare(host: CommitHost, now: number, prng: Prng, all: boolean, forget: (txn: string) => void): string | undefined {
  const due = host.pending.filter((p) => all || p.due <= now);
  if (due.length === 0) return undefined;
  const { txn } = prng.pick(due);
  host.pending.splice(
    host.pending.findIndex((p) => p.txn === txn),
    1,
  );
  if (!host.finished.has(txn)) return txn;
  forget(txn);
  return undefined;
}

/** What a host's vote needs of a participant core (a 2PC participant, a Paxos Commit node). */
export interface VotingCore {
  forget(txn: string): void;
  /** False when the core no longer waits for this vote. */
  vote(txn: string, yes: boolean): boolean;
}

/**
 * The host of an up participant votes on one prepare whose step has come (takeDuePrepare; any,
 * with `all`): yes with chance `yesChance`, drawn after the prepare is picked. A no the core took
 * is added to `noVotes` as `txn/id`. `act` runs a function on the participant's core.
 */
export function voteOnDuePrepare(
  host: CommitHost,
  o: { id: string; now: number; prng: Prng; all: boolean; yesChance: number; noVotes: Set<string>; act: (use: (core: VotingCore) => void) => void },
): void {
  const txn = takeDuePrepare(host, o.now, o.prng, o.all, (finished) => o.act((core) => core.forget(finished)));
  if (txn === undefined) return;
  const yes = o.prng.chance(o.yesChance);
  o.act((core) => {
    if (core.vote(txn, yes) && !yes) o.noVotes.add(`${txn}/${o.id}`);
  });
}
