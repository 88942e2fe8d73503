/**
 * Two-phase commit with presumed abort (Mohan, Lindsay & Obermarck 1986), as two pure cores:
 * `TwoPcCoordinator` and `TwoPcParticipant`. Each handles many transactions at once, keyed by
 * `txn`.
 *
 * - The coordinator forces a commit record before sending commit; it never logs aborts. A
 *   coordinator that finds no commit record for a transaction (after a crash, or because it
 *   aborted and forgot it) answers "abort": that is the presumption.
 * - A participant forces its yes vote (with the payload it will apply) before sending it. From
 *   then on it is uncertain: it may not decide alone, and keeps sending decision requests to the
 *   coordinator every `decisionRetryTicks` until it learns the outcome. This is 2PC's blocking
 *   window: while the coordinator is down, uncertain participants wait.
 * - Before voting, a participant may abort unilaterally: if the host has not voted within
 *   `voteTimeoutTicks` of the prepare, it votes no.
 * - The coordinator aborts a transaction whose votes have not all arrived within
 *   `voteTimeoutTicks`, and resends commit every `commitRetryTicks` until every participant
 *   acknowledged it, then logs an end record.
 */
import { ConfigError } from '../core/errors.js';
import { assert } from '../core/assert.js';
import { boundWhy } from './commit.js';
import { beginAddresses, forgetUnvoted, noVote, rememberTxn, silentVoters, ticksUntilTimeout } from './commit-common.js';
import { requireNonEmptyString, requirePositiveInt } from './config.js';
import { Outbox } from './types.js';
import type { Ready } from './types.js';
import type { CommitCoordinatorCore, CommitParticipantCore, CommitPhase, CoordinatorAbortReason } from './commit.js';
import type { TwoPcCoordinatorDecision, TwoPcCoordinatorRecord, TwoPcMessage, TwoPcParticipantDecision, TwoPcParticipantRecord } from './twopc-messages.js';

export type { TwoPcCoordinatorDecision, TwoPcCoordinatorRecord, TwoPcMessage, TwoPcParticipantDecision, TwoPcParticipantRecord } from './twopc-messages.js';

/** How many decided transactions a participant remembers to answer duplicates correctly. */
export const TWOPC_REMEMBERED_DECISIONS_MAX = 10_000;
/** How many transactions a coordinator may run at once; `begin` refuses more. */
export const TWOPC_ACTIVE_TXNS_MAX = 100_000;

export interface TwoPcCoordinatorConfig {
  self: string;
  /** Abort a transaction whose votes have not all arrived after this many ticks. */
  voteTimeoutTicks: number;
  /** Resend commit to participants that have not acknowledged it every this many ticks. */
  commitRetryTicks: number;
  /** Testing only: commit, instead of abort, when the votes time out. */
  unsafeCommitOnTimeout?: boolean;
}

interface CoordinatorTxn {
  phase: 'collecting' | 'committed';
  participants: string[];
  yes: Set<string>;
  acked: Set<string>;
  elapsedTicks: number;
}

export class TwoPcCoordinator implements CommitCoordinatorCore<TwoPcMessage, TwoPcCoordinatorRecord, TwoPcCoordinatorDecision> {
  private readonly config: TwoPcCoordinatorConfig;
  private readonly txns = new Map<string, CoordinatorTxn>();
  private readonly out = new Outbox<TwoPcMessage, TwoPcCoordinatorRecord, TwoPcCoordinatorDecision>();

  constructor(config: TwoPcCoordinatorConfig, recovered?: TwoPcCoordinatorRecord[]) {
    requireNonEmptyString('self', config.self);
    requirePositiveInt('voteTimeoutTicks', config.voteTimeoutTicks);
    requirePositiveInt('commitRetryTicks', config.commitRetryTicks);
    this.config = { ...config };
    for (const record of recovered ?? []) {
      if (record.type === 'commit') {
        this.txns.set(record.txn, {
          phase: 'committed',
          participants: [...record.participants],
          yes: new Set(record.participants),
          acked: new Set(),
          elapsedTicks: 0,
        });
      } else {
        this.txns.delete(record.txn);
      }
    }
    // A recovered commit may never have reached its participants: resend it now. Transactions
    // that were collecting votes are forgotten, which is the abort that presumed abort implies.
    for (const [txn, state] of this.txns) {
      for (const p of state.participants) this.out.send(p, { type: 'commit', txn });
    }
  }

  /** Starts phase 1: sends prepare to every participant. Addresses must be distinct. */
  begin(txn: string, participants: ReadonlyArray<{ to: string; payload: unknown }>): void {
    const addresses = beginAddresses(txn, participants, this.txns, TWOPC_ACTIVE_TXNS_MAX);
    this.txns.set(txn, {
      phase: 'collecting',
      participants: addresses,
      yes: new Set(),
      acked: new Set(),
      elapsedTicks: 0,
    });
    for (const p of participants) this.out.send(p.to, { type: 'prepare', txn, payload: p.payload });
  }

  step(from: string, msg: TwoPcMessage): void {
    const state = this.txns.get(msg.txn);
    switch (msg.type) {
      case 'vote':
        if (state === undefined) {
          // Aborted and forgotten, or lost in a crash, or committed and ended (a duplicated
          // or late vote): presumed abort.
          if (msg.yes) this.out.send(from, { type: 'abort', txn: msg.txn, presumed: true });
          return;
        }
        if (state.phase !== 'collecting' || !state.participants.includes(from)) return;
        if (!msg.yes) {
          this.abort(msg.txn, state, 'vote-no', boundWhy(msg.why) ?? `${from} voted no`, from);
          return;
        }
        state.yes.add(from);
        if (state.yes.size === state.participants.length) this.commit(msg.txn, state);
        return;
      case 'ack':
        if (state === undefined || state.phase !== 'committed') return;
        state.acked.add(from);
        if (state.acked.size === state.participants.length) {
          this.out.persist({ type: 'end', txn: msg.txn });
          this.txns.delete(msg.txn);
        }
        return;
      case 'decision-request':
        // No record: aborted, or committed and ended (every participant acknowledged, so a
        // request from one of them was overtaken by its ack): presumed abort.
        if (state === undefined) this.out.send(from, { type: 'abort', txn: msg.txn, presumed: true });
        else if (state.phase === 'committed') this.out.send(from, { type: 'commit', txn: msg.txn });
        // Still collecting votes: the answer is not known yet; the vote timeout bounds the wait.
        return;
      case 'prepare':
      case 'commit':
      case 'abort':
        return; // Participant-bound messages; a coordinator ignores them.
    }
  }

  ticksUntilDue(): number {
    return ticksUntilTimeout(this.txns.values(), 'collecting', this.config.voteTimeoutTicks, this.config.commitRetryTicks);
  }

  advance(n: number): void {
    for (const state of this.txns.values()) state.elapsedTicks += n;
  }

  tick(): void {
    for (const [txn, state] of [...this.txns]) {
      state.elapsedTicks++;
      if (state.phase === 'collecting') {
        if (state.elapsedTicks >= this.config.voteTimeoutTicks) {
          if (this.config.unsafeCommitOnTimeout === true) this.commit(txn, state);
          else this.abort(txn, state, 'timeout', silentVoters(state.participants, state.yes), undefined);
        }
      } else if (state.elapsedTicks >= this.config.commitRetryTicks) {
        state.elapsedTicks = 0;
        for (const p of state.participants) {
          if (!state.acked.has(p)) this.out.send(p, { type: 'commit', txn });
        }
      }
    }
  }

  /** Transactions this coordinator still tracks (collecting votes, or committed and not fully acknowledged). */
  active(): { txn: string; phase: 'collecting' | 'committed' }[] {
    return [...this.txns].map(([txn, s]) => ({ txn, phase: s.phase }));
  }

  /** Collecting votes ('voting'), or committed and not yet acknowledged by all; else not tracked (presumed abort). */
  phaseOf(txn: string): CommitPhase | undefined {
    const phase = this.txns.get(txn)?.phase;
    return phase === undefined ? undefined : phase === 'collecting' ? 'voting' : 'committed';
  }

  ready(): Ready<TwoPcMessage, TwoPcCoordinatorRecord, TwoPcCoordinatorDecision> {
    return this.out.take();
  }

  hasReady(): boolean {
    return this.out.has();
  }

  private commit(txn: string, state: CoordinatorTxn): void {
    state.phase = 'committed';
    state.elapsedTicks = 0;
    // The Ready rule makes this record durable before the commit messages below leave.
    this.out.persist({ type: 'commit', txn, participants: [...state.participants] });
    for (const p of state.participants) this.out.send(p, { type: 'commit', txn });
    this.out.decide({ kind: 'commit', txn });
  }

  private abort(txn: string, state: CoordinatorTxn, reason: CoordinatorAbortReason, why: string, noVoter: string | undefined): void {
    // Presumed abort: nothing is logged, the transaction is simply forgotten.
    this.txns.delete(txn);
    for (const p of state.participants) {
      if (p !== noVoter) this.out.send(p, { type: 'abort', txn });
    }
    this.out.decide({ kind: 'abort', txn, reason, why });
  }
}

export interface TwoPcParticipantConfig {
  self: string;
  /** Abort unilaterally (vote no) if the host has not voted this many ticks after the prepare. */
  voteTimeoutTicks: number;
  /** While uncertain, ask the coordinator for the outcome every this many ticks. */
  decisionRetryTicks: number;
}

interface ParticipantTxn {
  phase: CommitPhase;
  coordinator: string;
  payload: unknown;
  elapsedTicks: number;
  /**
   * Aborted in a way a later commit overrides (see the commit case): on the vote timeout, with
   * no vote sent before, or on a presumed abort while uncertain.
   */
  abortYields?: boolean;
  /** Why this participant voted no (see boundWhy): said again to a duplicate prepare. */
  why?: string;
}

export class TwoPcParticipant implements CommitParticipantCore<TwoPcMessage, TwoPcParticipantRecord, TwoPcParticipantDecision> {
  private readonly config: TwoPcParticipantConfig;
  private readonly txns = new Map<string, ParticipantTxn>();
  /**
   * The transactions of `txns` still voting or uncertain, in the same order: what ticks look
   * at. `txns` also remembers up to TWOPC_REMEMBERED_DECISIONS_MAX decided ones, which every
   * tick walked through (measured: a participant's tick among the busiest functions of a
   * loaded 2PC run).
   */
  private readonly open = new Map<string, ParticipantTxn>();
  private readonly out = new Outbox<TwoPcMessage, TwoPcParticipantRecord, TwoPcParticipantDecision>();

  constructor(config: TwoPcParticipantConfig, recovered?: TwoPcParticipantRecord[]) {
    requireNonEmptyString('self', config.self);
    requirePositiveInt('voteTimeoutTicks', config.voteTimeoutTicks);
    requirePositiveInt('decisionRetryTicks', config.decisionRetryTicks);
    this.config = { ...config };
    for (const record of recovered ?? []) {
      if (record.type === 'voted') {
        this.txns.set(record.txn, {
          phase: 'uncertain',
          coordinator: record.coordinator,
          payload: record.payload,
          elapsedTicks: 0,
        });
      } else {
        const state = this.txns.get(record.txn);
        if (state === undefined) throw new ConfigError('recovered', 'a decided record after its voted record', record);
        state.phase = record.commit ? 'committed' : 'aborted';
      }
    }
    for (const [txn, state] of this.txns) if (state.phase === 'uncertain') this.open.set(txn, state);
    // Uncertain after a restart: ask right away rather than after a full retry period.
    for (const [txn, state] of this.open) this.out.send(state.coordinator, { type: 'decision-request', txn });
  }

  /**
   * The host's answer to a `prepare` decision. Returns false if the transaction is no longer
   * waiting for a vote (it timed out and was aborted, or was never prepared).
   */
  vote(txn: string, yes: boolean, why?: string): boolean {
    const state = this.txns.get(txn);
    if (state === undefined || state.phase !== 'voting') return false;
    if (yes) {
      state.phase = 'uncertain';
      state.elapsedTicks = 0;
      this.out.persist({ type: 'voted', txn, coordinator: state.coordinator, payload: state.payload });
      this.out.send(state.coordinator, { type: 'vote', txn, yes: true });
    } else {
      this.decideAbort(txn, state, 'vote-no');
      this.voteNo(txn, state, boundWhy(why));
    }
    return true;
  }

  forget(txn: string): boolean {
    return forgetUnvoted(this.txns, this.open, unvoted, txn);
  }

  step(from: string, msg: TwoPcMessage): void {
    const state = this.txns.get(msg.txn);
    switch (msg.type) {
      case 'prepare':
        if (state === undefined) {
          this.remember(msg.txn, { phase: 'voting', coordinator: from, payload: msg.payload, elapsedTicks: 0 });
          this.out.decide({ kind: 'prepare', txn: msg.txn, payload: msg.payload });
        } else if (state.phase === 'uncertain' || state.phase === 'committed') {
          this.out.send(from, { type: 'vote', txn: msg.txn, yes: true }); // A duplicate, or our vote was lost.
        } else if (state.phase === 'aborted') {
          this.out.send(from, noVote(msg.txn, state.why));
        }
        return;
      case 'commit':
        if (state?.phase === 'committed') {
          // A copy: the commit decided here before (the host holds this ack behind it).
          this.out.send(from, { type: 'ack', txn: msg.txn });
          return;
        }
        // A core that aborted on its vote timeout, never having voted, may have met a late prepare
        // copy of a transaction that committed here in an earlier state of it, whose prepare
        // did not go through the shard's log within the timeout; a later copy of the commit then
        // met the abort (test/twopc-random.part.ts, seed 732: this assertion failed). A commit
        // comes only if every participant voted yes, and this core did not: the yes was an
        // earlier state's, so the transaction committed here, as in the case below (the host's
        // abort of it was a no-op). The same for an abort on a presumed abort while uncertain: a
        // core behind its shard's log (a replica that leads in its own view only), uncertain
        // about a transaction that committed and ended, whose late vote copy drew a presumed
        // abort, then met a copy of the commit (test/helpers/twopc-random.ts, stale replicas:
        // seeds 1582 and 1777 of 2,000). The coordinator sends a commit only after logging it
        // and forgets it only once every participant acknowledged, so that abort was never the
        // shard's (its log entry is not chosen). Any other abort here stands.
        assert(state?.phase !== 'aborted' || state.abortYields === true, `2pc: commit for ${msg.txn}, which this participant aborted`);
        if (state === undefined || state.phase === 'voting' || state.phase === 'aborted') {
          // The coordinator committed, so this participant voted yes in an earlier state of the
          // transaction that this core does not hold: it committed here and was forgotten (a
          // core rebuilt from records, where a finished transaction has none), or this core
          // never saw it (a replica that leads only in its own view, its log behind the
          // shard's: seen on NATS, 2026-12-02). Only the host knows which, so the commit is
          // decided again (with no payload if unknown): the host applies it where it applies
          // outcomes (a no-op where the transaction finished, the writes where it is still
          // prepared), and the ack, which lets the coordinator forget the transaction, leaves
          // only once that is durable. Acknowledged at once, a stale leader told the coordinator
          // that a commit its shard never applied was done; the coordinator forgot it, the
          // shard's real leader asked, was answered with a presumed abort, and the
          // transaction's writes there were lost (three real-time NATS runs, passive, 2PC).
          // A vote waited for now (voting) is a late prepare copy's: not sent (vote() is
          // refused once committed).
          if (state === undefined) this.remember(msg.txn, { phase: 'committed', coordinator: from, payload: null, elapsedTicks: 0 });
          else {
            state.phase = 'committed';
            this.open.delete(msg.txn);
          }
          this.out.decide({ kind: 'commit', txn: msg.txn, payload: state?.payload ?? null });
          this.out.send(from, { type: 'ack', txn: msg.txn });
          return;
        }
        state.phase = 'committed';
        this.open.delete(msg.txn);
        this.out.persist({ type: 'decided', txn: msg.txn, commit: true });
        this.out.decide({ kind: 'commit', txn: msg.txn, payload: state.payload });
        this.out.send(from, { type: 'ack', txn: msg.txn });
        return;
      case 'abort':
        if (state === undefined) {
          // A presumed abort for a transaction this participant does not know answers a vote or
          // decision request of an earlier state of it, since forgotten (the transaction ended
          // here, or a new shard leader rebuilt its core after the outcome was applied): the
          // coordinator has no record, so the transaction may as well have committed, with a
          // late commit still in flight. It is no outcome to remember; a late prepare is voted
          // on and its vote answered with presumed abort again.
          if (msg.presumed === true) return;
          // Abort overtook the prepare: remember it, so a late prepare gets a no vote.
          this.remember(msg.txn, { phase: 'aborted', coordinator: from, payload: null, elapsedTicks: 0 });
          return;
        }
        if (state.phase === 'voting' && msg.presumed === true) {
          // Nor is it one while this core is still voting: it has sent no yes vote for the
          // transaction, so the presumption answers an earlier state's (a vote or decision
          // request of a core since rebuilt, or a duplicate of one). This prepare may well be a
          // late copy of a transaction that committed here and ended; aborting it now, a late
          // copy of that commit then met an abort (seen with late copies, hybrid, 2PC:
          // `check --workload txn --faults late-copies`). The host's vote settles it: a
          // prepare of a transaction finished here is forgotten; a yes vote to a coordinator
          // with no record is answered with presumed abort again, now from the uncertain phase.
          return;
        }
        if (state.phase === 'committed' && msg.presumed === true) {
          // The coordinator has no record of a transaction this participant committed: it
          // forgot the commit once every participant acknowledged it, this one included. The
          // presumption answers a stale question (a decision request or a duplicated vote that
          // our ack overtook); it is no outcome, and this participant knows the outcome.
          return;
        }
        assert(state.phase !== 'committed', `2pc: abort for ${msg.txn}, which this participant committed`);
        if (state.phase === 'uncertain' && msg.presumed === true) state.abortYields = true;
        if (state.phase !== 'aborted') this.decideAbort(msg.txn, state, 'coordinator');
        return;
      case 'vote':
      case 'ack':
      case 'decision-request':
        return; // Coordinator-bound messages.
    }
  }

  ticksUntilDue(): number {
    let k = Number.POSITIVE_INFINITY;
    for (const state of this.open.values()) {
      if (state.phase === 'voting') k = Math.min(k, this.config.voteTimeoutTicks - state.elapsedTicks);
      else if (state.phase === 'uncertain') k = Math.min(k, this.config.decisionRetryTicks - state.elapsedTicks);
    }
    return Math.max(1, k);
  }

  advance(n: number): void {
    for (const state of this.open.values()) state.elapsedTicks += n;
  }

  tick(): void {
    // A timed-out vote leaves `open` as it is visited: a Map iterates on past a deleted entry.
    for (const [txn, state] of this.open) {
      if (state.phase === 'voting') {
        if (++state.elapsedTicks >= this.config.voteTimeoutTicks) {
          state.abortYields = true;
          this.decideAbort(txn, state, 'timeout');
          this.voteNo(txn, state, `${this.config.self} did not vote in time`);
        }
      } else if (state.phase === 'uncertain') {
        if (++state.elapsedTicks >= this.config.decisionRetryTicks) {
          state.elapsedTicks = 0;
          this.out.send(state.coordinator, { type: 'decision-request', txn });
        }
      }
    }
  }

  /** Transactions voted yes whose outcome is unknown: the host keeps their locks. */
  inDoubt(): { txn: string; coordinator: string; payload: unknown }[] {
    const list: { txn: string; coordinator: string; payload: unknown }[] = [];
    for (const [txn, s] of this.open) {
      if (s.phase === 'uncertain') list.push({ txn, coordinator: s.coordinator, payload: s.payload });
    }
    return list;
  }

  phaseOf(txn: string): CommitPhase | undefined {
    return this.txns.get(txn)?.phase;
  }

  ready(): Ready<TwoPcMessage, TwoPcParticipantRecord, TwoPcParticipantDecision> {
    return this.out.take();
  }

  hasReady(): boolean {
    return this.out.has();
  }

  private decideAbort(txn: string, state: ParticipantTxn, reason: 'coordinator' | 'vote-no' | 'timeout'): void {
    // Only an abort after a yes vote needs a record: without one, recovery presumes abort anyway.
    if (state.phase === 'uncertain') this.out.persist({ type: 'decided', txn, commit: false });
    state.phase = 'aborted';
    this.open.delete(txn);
    this.out.decide({ kind: 'abort', txn, payload: state.payload, reason });
  }

  /** Votes no, saying why (kept, for a duplicate prepare) if it knows. */
  private voteNo(txn: string, state: ParticipantTxn, why: string | undefined): void {
    if (why !== undefined) state.why = why;
    this.out.send(state.coordinator, noVote(txn, why));
  }

  private remember(txn: string, state: ParticipantTxn): void {
    rememberTxn(this.txns, this.open, TWOPC_REMEMBERED_DECISIONS_MAX, decided, txn, state);
  }
}

/** A participant's transaction it has not voted on yet (see forgetUnvoted). */
function unvoted(t: ParticipantTxn): boolean {
  return t.phase === 'voting';
}

/** A participant's transaction whose outcome it knows (see rememberTxn). */
function decided(t: ParticipantTxn): boolean {
  return t.phase === 'committed' || t.phase === 'aborted';
}
