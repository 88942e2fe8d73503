/**
 * Three-phase commit (Skeen 1981) with the termination protocol, as pure cores:
 * `ThreePcCoordinator` and `ThreePcParticipant`.
 *
 * SAFE UNDER CRASH-STOP ONLY. 3PC assumes that a node that stops answering has crashed for
 * good (a perfect failure detector) and that the network does not partition. Under a partition
 * each side runs the termination protocol with the participants it can reach and presumes the
 * others crashed: a side holding a pre-committed participant commits, a side holding only
 * uncertain ones aborts. That split brain is shown by a scripted test. Use Paxos Commit when
 * partitions are possible. Restarts are outside the model too: a participant back from its
 * records, pre-committed, after the others aborted and crashed, terminates alone and commits
 * (test/threepc-random.part.ts runs 3PC inside its model: crash-stop and synchrony).
 *
 * Normal case: can-commit -> votes -> pre-commit (all voted yes) -> acks -> do-commit. The
 * coordinator aborts if votes do not all arrive within `voteTimeoutTicks`, and commits anyway if
 * acks do not all arrive within `ackTimeoutTicks` (the silent ones are presumed crashed; being
 * pre-committed, they would commit on termination anyway). It writes nothing: under crash-stop
 * it never comes back, and termination replaces its recovery.
 *
 * Participants force their yes vote, their pre-commit and their decision. One that has voted
 * and hears nothing from its coordinator for `coordinatorTimeoutTicks` suspects it and turns
 * to the lowest-addressed participant it does not suspect (itself, possibly): that candidate
 * runs termination with a new, higher epoch. It asks every participant for its state, waits
 * `terminationTicks` for the reports (a silent participant is presumed crashed), and decides:
 *   - any committed -> commit;  any aborted (or not yet voted) -> abort;
 *   - some pre-committed -> pre-commit the uncertain ones, then commit;
 *   - all uncertain -> abort (nobody can have committed: commit needs a pre-commit first).
 * A participant follows the highest epoch it has seen and ignores coordinator messages from
 * lower ones. If the candidate is silent too, it is suspected in turn, and so on: the lowest
 * live participant that answers ends up terminating. A decided participant asked for help
 * answers with its decision.
 */
import { assert } from '../core/assert.js';
import { boundWhy } from './commit.js';
import { beginAddresses, forgetUnvoted, noVote, rememberTxn, silentVoters, ticksUntilTimeout } from './commit-common.js';
import { requireNonEmptyString, requirePositiveInt } from './config.js';
import { Outbox } from './types.js';
import type { Ready } from './types.js';
import type { CommitCoordinatorCore, CommitParticipantCore, CommitPhase, CoordinatorAbortReason } from './commit.js';
import type { ThreePcCoordinatorDecision, ThreePcMessage, ThreePcParticipantDecision, ThreePcRecord, ThreePcState } from './threepc-messages.js';

export type { ThreePcCoordinatorDecision, ThreePcMessage, ThreePcParticipantDecision, ThreePcRecord, ThreePcState } from './threepc-messages.js';

/** Transactions a participant remembers; beyond it the oldest decided one is forgotten. */
export const THREEPC_REMEMBERED_TXNS_MAX = 10_000;

export interface ThreePcCoordinatorConfig {
  self: string;
  voteTimeoutTicks: number;
  ackTimeoutTicks: number;
}

interface CoordinatorTxn {
  phase: 'voting' | 'precommitting';
  participants: string[];
  yes: Set<string>;
  acks: Set<string>;
  elapsedTicks: number;
}

export class ThreePcCoordinator implements CommitCoordinatorCore<ThreePcMessage, never, ThreePcCoordinatorDecision> {
  private readonly config: ThreePcCoordinatorConfig;
  private readonly txns = new Map<string, CoordinatorTxn>();
  private readonly out = new Outbox<ThreePcMessage, never, ThreePcCoordinatorDecision>();

  /** `recovered` is accepted for symmetry; a 3PC coordinator writes nothing (crash-stop). */
  constructor(config: ThreePcCoordinatorConfig, _recovered?: never[]) {
    requireNonEmptyString('self', config.self);
    requirePositiveInt('voteTimeoutTicks', config.voteTimeoutTicks);
    requirePositiveInt('ackTimeoutTicks', config.ackTimeoutTicks);
    this.config = { ...config };
  }

  begin(txn: string, participants: ReadonlyArray<{ to: string; payload: unknown }>): void {
    const addresses = beginAddresses(txn, participants, this.txns);
    this.txns.set(txn, { phase: 'voting', participants: addresses, yes: new Set(), acks: new Set(), elapsedTicks: 0 });
    for (const p of participants) {
      this.out.send(p.to, { type: 'can-commit', txn, participants: addresses, payload: p.payload });
    }
  }

  step(from: string, msg: ThreePcMessage): void {
    const state = this.txns.get(msg.txn);
    if (state === undefined) return;
    if (msg.type === 'vote' && state.phase === 'voting') {
      if (!msg.yes) return this.abort(msg.txn, state, 'vote-no', boundWhy(msg.why) ?? `${from} voted no`);
      state.yes.add(from);
      if (state.yes.size < state.participants.length) return;
      state.phase = 'precommitting';
      state.elapsedTicks = 0;
      for (const p of state.participants) this.out.send(p, { type: 'pre-commit', txn: msg.txn, epoch: 0 });
    } else if (msg.type === 'ack' && msg.epoch === 0 && state.phase === 'precommitting') {
      state.acks.add(from);
      if (state.acks.size === state.participants.length) this.commit(msg.txn, state);
    }
  }

  ticksUntilDue(): number {
    return ticksUntilTimeout(this.txns.values(), 'voting', this.config.voteTimeoutTicks, this.config.ackTimeoutTicks);
  }

  advance(n: number): void {
    for (const state of this.txns.values()) state.elapsedTicks += n;
  }

  tick(): void {
    for (const [txn, state] of [...this.txns]) {
      if (++state.elapsedTicks < (state.phase === 'voting' ? this.config.voteTimeoutTicks : this.config.ackTimeoutTicks)) continue;
      if (state.phase === 'voting') this.abort(txn, state, 'timeout', silentVoters(state.participants, state.yes));
      else this.commit(txn, state);
    }
  }

  /** Collecting votes ('voting'), or pre-committing ('uncertain'); decided transactions are forgotten at once. */
  phaseOf(txn: string): CommitPhase | undefined {
    const phase = this.txns.get(txn)?.phase;
    return phase === undefined ? undefined : phase === 'voting' ? 'voting' : 'uncertain';
  }

  ready(): Ready<ThreePcMessage, never, ThreePcCoordinatorDecision> {
    return this.out.take();
  }

  hasReady(): boolean {
    return this.out.has();
  }

  private commit(txn: string, state: CoordinatorTxn): void {
    this.txns.delete(txn);
    for (const p of state.participants) this.out.send(p, { type: 'do-commit', txn, epoch: 0 });
    this.out.decide({ kind: 'commit', txn });
  }

  private abort(txn: string, state: CoordinatorTxn, reason: CoordinatorAbortReason, why: string): void {
    this.txns.delete(txn);
    for (const p of state.participants) this.out.send(p, { type: 'abort', txn, epoch: 0 });
    this.out.decide({ kind: 'abort', txn, reason, why });
  }
}

export interface ThreePcParticipantConfig {
  self: string;
  /** Abort unilaterally if the host has not voted this many ticks after can-commit. */
  voteTimeoutTicks: number;
  /** Suspect the current coordinator after this many ticks without a message from it. */
  coordinatorTimeoutTicks: number;
  /** As termination coordinator: how long to wait for state reports, then for acks. */
  terminationTicks: number;
}

interface Termination {
  epoch: number;
  phase: 'collecting' | 'precommitting';
  reports: Map<string, ThreePcState>;
  awaitingAcks: Set<string>;
  elapsedTicks: number;
}

interface ParticipantTxn {
  state: ThreePcState;
  /** Who we currently wait on: the coordinator, or the termination coordinator. */
  coordinator: string;
  participants: string[];
  payload: unknown;
  epoch: number;
  elapsedTicks: number;
  suspected: Set<string>;
  termination: Termination | null;
  /** Why this participant voted no (see boundWhy): said again to a duplicate can-commit. */
  why?: string;
}

export class ThreePcParticipant implements CommitParticipantCore<ThreePcMessage, ThreePcRecord, ThreePcParticipantDecision> {
  private readonly config: ThreePcParticipantConfig;
  private readonly txns = new Map<string, ParticipantTxn>();
  /** The transactions of `txns` not decided yet, in the same order: what ticks look at (see TwoPcParticipant.open). */
  private readonly open = new Map<string, ParticipantTxn>();
  private readonly out = new Outbox<ThreePcMessage, ThreePcRecord, ThreePcParticipantDecision>();

  constructor(config: ThreePcParticipantConfig, recovered?: ThreePcRecord[]) {
    requireNonEmptyString('self', config.self);
    requirePositiveInt('voteTimeoutTicks', config.voteTimeoutTicks);
    requirePositiveInt('coordinatorTimeoutTicks', config.coordinatorTimeoutTicks);
    requirePositiveInt('terminationTicks', config.terminationTicks);
    this.config = { ...config };
    for (const record of recovered ?? []) {
      if (record.type === 'voted') {
        this.txns.set(record.txn, this.newTxn('uncertain', record.coordinator, record.participants, record.payload));
        continue;
      }
      const txn = this.txns.get(record.txn);
      if (txn === undefined) continue;
      if (record.type === 'precommitted') {
        txn.state = 'precommitted';
        txn.epoch = Math.max(txn.epoch, record.epoch);
      } else {
        txn.state = record.commit ? 'committed' : 'aborted';
      }
    }
    for (const [txn, t] of this.txns) if (t.state !== 'committed' && t.state !== 'aborted') this.open.set(txn, t);
  }

  /** The host's answer to a `prepare` decision; false if no longer waiting for it. */
  vote(txn: string, yes: boolean, why?: string): boolean {
    const t = this.txns.get(txn);
    if (t === undefined || t.state !== 'initial') return false;
    if (yes) {
      t.state = 'uncertain';
      t.elapsedTicks = 0;
      this.out.persist({ type: 'voted', txn, coordinator: t.coordinator, participants: t.participants, payload: t.payload });
      this.out.send(t.coordinator, { type: 'vote', txn, yes: true });
    } else {
      this.decide(txn, t, false, 'vote-no');
      this.voteNo(txn, t, boundWhy(why));
    }
    return true;
  }

  forget(txn: string): boolean {
    return forgetUnvoted(this.txns, this.open, unvoted, txn);
  }

  /** The common answer (see CommitPhase): not voted yet is 'voting'; pre-committed is still 'uncertain'. */
  phaseOf(txn: string): CommitPhase | undefined {
    const state = this.txns.get(txn)?.state;
    if (state === undefined) return undefined;
    if (state === 'initial') return 'voting';
    return state === 'precommitted' ? 'uncertain' : state;
  }

  /** 3PC's own, finer state of `txn` (it tells pre-committed from uncertain); hosts ask `phaseOf`. */
  stateOf(txn: string): ThreePcState | undefined {
    return this.txns.get(txn)?.state;
  }

  step(from: string, msg: ThreePcMessage): void {
    const t = this.txns.get(msg.txn);
    switch (msg.type) {
      case 'can-commit':
        if (t === undefined) {
          this.remember(msg.txn, this.newTxn('initial', from, msg.participants, msg.payload));
          this.out.decide({ kind: 'prepare', txn: msg.txn, payload: msg.payload });
        } else if (t.state === 'uncertain') {
          this.out.send(from, { type: 'vote', txn: msg.txn, yes: true });
        } else if (t.state === 'aborted') {
          this.out.send(from, noVote(msg.txn, t.why));
        }
        return;
      case 'pre-commit':
        if (t === undefined || !this.follow(t, from, msg.epoch)) return;
        if (t.state === 'uncertain') {
          t.state = 'precommitted';
          this.out.persist({ type: 'precommitted', txn: msg.txn, epoch: msg.epoch });
        }
        if (t.state === 'precommitted' || t.state === 'committed') this.out.send(from, { type: 'ack', txn: msg.txn, epoch: msg.epoch });
        return;
      case 'do-commit':
        if (t === undefined || !this.follow(t, from, msg.epoch)) return;
        if (t.state === 'uncertain' || t.state === 'precommitted') this.decide(msg.txn, t, true, 'coordinator');
        return;
      case 'abort':
        if (t === undefined || !this.follow(t, from, msg.epoch)) return;
        if (t.state !== 'committed' && t.state !== 'aborted') this.decide(msg.txn, t, false, msg.epoch === 0 ? 'coordinator' : 'termination');
        return;
      case 'decision':
        if (t !== undefined && t.state !== 'committed' && t.state !== 'aborted') {
          this.decide(msg.txn, t, msg.commit, 'termination');
        }
        return;
      case 'help':
        return this.onHelp(from, msg.txn, msg.participants);
      case 'state-request':
        return this.onStateRequest(from, msg.txn, msg.epoch);
      case 'state-report':
        return this.onStateReport(from, msg.txn, msg.epoch, msg.state);
      case 'ack': {
        const term = t?.termination;
        if (t === undefined || term === null || term === undefined || term.epoch !== msg.epoch || term.phase !== 'precommitting') return;
        term.awaitingAcks.delete(from);
        if (term.awaitingAcks.size === 0) this.terminate(msg.txn, t, true);
        return;
      }
      case 'vote':
        return; // Coordinator-bound.
    }
  }

  /** Every tick of an undecided transaction counts for this core (its termination protocol included): 1 while one is open. */
  ticksUntilDue(): number {
    return this.open.size > 0 ? 1 : Number.POSITIVE_INFINITY;
  }

  advance(n: number): void {
    assert(n <= 0 || this.ticksUntilDue() === Number.POSITIVE_INFINITY, '3pc: advance() skips only ticks that do nothing');
  }

  tick(): void {
    // A transaction decided here leaves `open` as it is visited: a Map iterates on past a deleted entry.
    for (const [txn, t] of this.open) {
      if (t.state === 'committed' || t.state === 'aborted') continue;
      if (t.termination !== null) {
        this.tickTermination(txn, t, t.termination);
        continue;
      }
      t.elapsedTicks++;
      if (t.state === 'initial') {
        if (t.elapsedTicks < this.config.voteTimeoutTicks) continue;
        this.decide(txn, t, false, 'timeout');
        this.voteNo(txn, t, `${this.config.self} did not vote in time`);
        continue;
      }
      if (t.elapsedTicks < this.config.coordinatorTimeoutTicks) continue;
      t.elapsedTicks = 0;
      t.suspected.add(t.coordinator);
      let candidate = [...t.participants].sort().find((p) => !t.suspected.has(p));
      if (candidate === undefined) {
        // Everyone is suspected: start over from the lowest (crash-stop says someone is alive).
        t.suspected.clear();
        candidate = [...t.participants].sort()[0]!;
      }
      t.coordinator = candidate;
      if (candidate === this.config.self) this.startTermination(txn, t);
      else this.out.send(candidate, { type: 'help', txn, participants: t.participants });
    }
  }

  ready(): Ready<ThreePcMessage, ThreePcRecord, ThreePcParticipantDecision> {
    return this.out.take();
  }

  hasReady(): boolean {
    return this.out.has();
  }

  // Termination --------------------------------------------------------------------------

  private onHelp(from: string, txn: string, participants: string[]): void {
    let t = this.txns.get(txn);
    if (t === undefined) {
      // Never asked to vote: commit is impossible, and we must never vote yes later.
      t = this.newTxn('aborted', from, participants, null);
      this.remember(txn, t);
    }
    if (t.state === 'committed' || t.state === 'aborted') {
      this.out.send(from, { type: 'decision', txn, commit: t.state === 'committed' });
      return;
    }
    if (t.termination === null) this.startTermination(txn, t);
  }

  private startTermination(txn: string, t: ParticipantTxn): void {
    if (t.state === 'initial') this.decide(txn, t, false, 'termination'); // Not voted: abort alone.
    // Epochs are unique per candidate: the next one above ours that is ours by rank.
    const sorted = [...t.participants].sort();
    const rank = Math.max(0, sorted.indexOf(this.config.self));
    let epoch = t.epoch + 1;
    while (epoch % sorted.length !== rank) epoch++;
    t.epoch = epoch;
    t.coordinator = this.config.self;
    t.termination = { epoch, phase: 'collecting', reports: new Map(), awaitingAcks: new Set(), elapsedTicks: 0 };
    for (const p of t.participants) this.out.send(p, { type: 'state-request', txn, epoch });
  }

  private onStateRequest(from: string, txn: string, epoch: number): void {
    let t = this.txns.get(txn);
    if (t === undefined) {
      t = this.newTxn('aborted', from, [], null);
      this.remember(txn, t);
    }
    if (epoch < t.epoch) return;
    if (t.termination !== null && t.termination.epoch < epoch) t.termination = null; // A higher epoch took over.
    t.epoch = epoch;
    t.coordinator = from;
    t.elapsedTicks = 0;
    if (t.state === 'initial') this.decide(txn, t, false, 'termination');
    this.out.send(from, { type: 'state-report', txn, epoch, state: t.state });
  }

  private onStateReport(from: string, txn: string, epoch: number, state: ThreePcState): void {
    const t = this.txns.get(txn);
    const term = t?.termination;
    if (t === undefined || term === null || term === undefined || term.epoch !== epoch || term.phase !== 'collecting') return;
    term.reports.set(from, state);
    if (term.reports.size === t.participants.length) this.decideTermination(txn, t, term);
  }

  private tickTermination(txn: string, t: ParticipantTxn, term: Termination): void {
    if (++term.elapsedTicks < this.config.terminationTicks) return;
    // Whoever has not answered is presumed crashed: the crash-stop assumption, right here.
    if (term.phase === 'collecting') this.decideTermination(txn, t, term);
    else this.terminate(txn, t, true);
  }

  private decideTermination(txn: string, t: ParticipantTxn, term: Termination): void {
    const states = [...term.reports.values()];
    if (states.includes('committed')) return this.terminate(txn, t, true);
    if (states.includes('aborted') || states.includes('initial')) return this.terminate(txn, t, false);
    if (!states.includes('precommitted')) return this.terminate(txn, t, false);
    const uncertain = [...term.reports].filter(([, s]) => s === 'uncertain').map(([p]) => p);
    if (uncertain.length === 0) return this.terminate(txn, t, true);
    term.phase = 'precommitting';
    term.elapsedTicks = 0;
    term.awaitingAcks = new Set(uncertain);
    for (const p of uncertain) this.out.send(p, { type: 'pre-commit', txn, epoch: term.epoch });
  }

  private terminate(txn: string, t: ParticipantTxn, commit: boolean): void {
    const epoch = t.termination!.epoch;
    t.termination = null;
    for (const p of t.participants) this.out.send(p, commit ? { type: 'do-commit', txn, epoch } : { type: 'abort', txn, epoch });
  }

  // Helpers ------------------------------------------------------------------------------

  /** Joins `epoch` if it is not stale; the sender becomes the coordinator we wait on. */
  private follow(t: ParticipantTxn, from: string, epoch: number): boolean {
    if (epoch < t.epoch) return false;
    t.epoch = epoch;
    t.coordinator = from;
    t.elapsedTicks = 0;
    return true;
  }

  private decide(txn: string, t: ParticipantTxn, commit: boolean, reason: 'coordinator' | 'vote-no' | 'timeout' | 'termination'): void {
    // Under a partition two sides may decide differently; a decided participant stays decided.
    if (t.state === 'committed' || t.state === 'aborted') return;
    if (t.state !== 'initial') this.out.persist({ type: 'decided', txn, commit });
    t.state = commit ? 'committed' : 'aborted';
    this.open.delete(txn);
    if (commit) this.out.decide({ kind: 'commit', txn, payload: t.payload });
    else this.out.decide({ kind: 'abort', txn, payload: t.payload, reason });
  }

  /** Votes no, saying why (kept, for a duplicate can-commit) if it knows. */
  private voteNo(txn: string, t: ParticipantTxn, why: string | undefined): void {
    if (why !== undefined) t.why = why;
    this.out.send(t.coordinator, noVote(txn, why));
  }

  private newTxn(state: ThreePcState, coordinator: string, participants: string[], payload: unknown): ParticipantTxn {
    return { state, coordinator, participants, payload, epoch: 0, elapsedTicks: 0, suspected: new Set(), termination: null };
  }

  private remember(txn: string, t: ParticipantTxn): void {
    rememberTxn(this.txns, this.open, THREEPC_REMEMBERED_TXNS_MAX, decided, txn, t);
  }
}

/** A participant's transaction it has not voted on yet (see forgetUnvoted). */
function unvoted(t: ParticipantTxn): boolean {
  return t.state === 'initial';
}

/** A participant's transaction whose outcome it knows (see rememberTxn). */
function decided(t: ParticipantTxn): boolean {
  return t.state === 'committed' || t.state === 'aborted';
}
