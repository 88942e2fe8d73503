/**
 * What the 2PC and 3PC cores do alike: a coordinator's check of a new transaction (Paxos
 * Commit's leader makes the same one) and its soonest timeout, and a participant's table of
 * transactions (every one it remembers in `txns`,
 * the undecided ones also in `open`, which is what its ticks walk). The protocols' own steps
 * (messages, records, decisions) stay in twopc.ts and threepc.ts.
 */
import { ValidationError } from '../core/errors.js';
import { boundWhy } from './commit.js';

/**
 * Checks a coordinator's `begin(txn, participants)` and returns the participants' addresses in
 * order: `txn` is a non-empty string not in `active`, there is at least one participant, and the
 * addresses are distinct. With `activeMax`, `active` may hold at most that many transactions
 * (the check comes before the addresses', so which error a bad call gets does not change).
 * `field` names the participants in errors (Paxos Commit calls them `rms`).
 */
export function beginAddresses(
  txn: string,
  participants: ReadonlyArray<{ to: string }>,
  active: ReadonlyMap<string, unknown>,
  activeMax?: number,
  field = 'participants',
): string[] {
  if (typeof txn !== 'string' || txn.length === 0) throw new ValidationError('txn', 'must be a non-empty string');
  if (active.has(txn)) throw new ValidationError('txn', `transaction ${txn} is already active`);
  if (participants.length === 0) throw new ValidationError(field, 'must not be empty');
  if (activeMax !== undefined && active.size >= activeMax) throw new ValidationError('txn', 'too many active transactions');
  const addresses = participants.map((p) => p.to);
  if (new Set(addresses).size !== addresses.length) throw new ValidationError(field, 'addresses must be distinct');
  return addresses;
}

/**
 * A coordinator's `ticksUntilDue`: the fewest ticks until a transaction of `states` reaches its
 * timeout (`firstTimeout` while in `firstPhase`, `laterTimeout` after it), at least 1; Infinity
 * when there is none. No callback: it runs on every step of a coordinator.
 */
export function ticksUntilTimeout(
  states: Iterable<{ phase: string; elapsedTicks: number }>,
  firstPhase: string,
  firstTimeout: number,
  laterTimeout: number,
): number {
  let k = Number.POSITIVE_INFINITY;
  for (const state of states) k = Math.min(k, (state.phase === firstPhase ? firstTimeout : laterTimeout) - state.elapsedTicks);
  return Math.max(1, k);
}

/**
 * A participant learns of transaction `txn`: it goes into `txns`, and into `open` unless
 * `decided`. Beyond `max` remembered transactions the oldest decided one is forgotten (an
 * undecided one never is: its outcome is still to come).
 */
export function rememberTxn<T>(txns: Map<string, T>, open: Map<string, T>, max: number, decided: (t: T) => boolean, txn: string, t: T): void {
  txns.set(txn, t);
  if (!decided(t)) open.set(txn, t);
  if (txns.size <= max) return;
  for (const [old, s] of txns) {
    if (decided(s)) {
      txns.delete(old);
      return;
    }
  }
}

/**
 * A participant's `forget(txn)`: drops a transaction the host has not voted on yet (`unvoted`);
 * false, and nothing dropped, for any other.
 */
export function forgetUnvoted<T>(txns: Map<string, T>, open: Map<string, T>, unvoted: (t: T) => boolean, txn: string): boolean {
  const t = txns.get(txn);
  if (t === undefined || !unvoted(t)) return false;
  txns.delete(txn);
  open.delete(txn);
  return true;
}

/** A coordinator's `why` for votes that did not all arrive in time: whose are missing. */
export function silentVoters(participants: readonly string[], voted: ReadonlySet<string>): string {
  return boundWhy(`no vote in time from ${participants.filter((p) => !voted.has(p)).join(', ')}`)!;
}

/**
 * A participant's no vote (2PC's and 3PC's `vote` message), with its `why` if it has one (an
 * absent field, not an undefined one, when it has none).
 */
export function noVote(txn: string, why: string | undefined): { type: 'vote'; txn: string; yes: false; why?: string } {
  return why === undefined ? { type: 'vote', txn, yes: false } : { type: 'vote', txn, yes: false, why };
}
