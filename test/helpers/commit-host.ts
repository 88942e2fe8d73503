/**
 * The host of a commit protocol's participant core in the randomized core tests
 * (test/helpers/twopc-random.ts, test/helpers/paxoscommit-random.ts): what the shard's state
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
