/**
 * Paxos Commit (Gray & Lamport, "Consensus on Transaction Commit", 2004), as one pure core per
 * node. A node plays any mix of three roles:
 *
 * - RM (resource manager, the participant): gets `prepare` from the leader, asks its host
 *   (decision `prepare`; the host answers `vote(txn, yes)`), forces its prepared record, and
 *   sends phase 2a with ballot 0 for its own instance straight to the acceptors (the fast path:
 *   ballot 0 belongs to the RM alone, so it needs no phase 1). An RM that has not voted within
 *   `voteTimeoutTicks` aborts on its own. A prepared RM that has not learned the outcome within
 *   `recoveryTicks` (plus a random extra, so RMs do not all start at once) becomes a recovery
 *   leader for the transaction.
 * - Acceptor (if `self` is in `acceptors`, 2F+1 of them): one Paxos acceptor per transaction
 *   and RM instance (a single promise per transaction, since phase 1 always covers every
 *   instance); forces promises and accepted values before replying; sends phase 2b to the
 *   leader named in the phase 2a.
 * - Leader: the coordinator that called `begin`, or a recovery leader (`recover`, or an RM
 *   that timed out). It counts phase 2b messages; an instance is chosen when F+1 acceptors
 *   accepted it at one ballot. Commit iff every instance chose `prepared`; abort as soon as one
 *   chose `aborted`. If the fast path has not decided within `leaderTimeoutTicks`, the leader
 *   runs phase 1 with a higher ballot for the transaction and proposes, per instance, the
 *   highest-ballot value a majority reported, or `aborted` where none was accepted. That is
 *   what makes Paxos Commit non-blocking: any node can finish a transaction whose leader died,
 *   as long as F+1 acceptors are up. The leader writes nothing but the round of its ballot.
 *
 * With F = 0 (one acceptor, on the coordinator's node) the messages are those of 2PC and the
 * coordinator's node is again a single point of blocking.
 */
import { assert } from '../core/assert.js';
import { Prng } from '../core/prng.js';
import { FifoOrder } from '../core/fifo-order.js';
import { ForgottenMarks } from '../core/forgotten-marks.js';
import { beginAddresses } from './commit-common.js';
import { ballotEquals, BALLOT_ZERO, compareBallots, formatBallot } from './ballot.js';
import type { Ballot } from './ballot.js';
import { requireAddresses, requireNonEmptyString, requirePositiveInt } from './config.js';
import { Outbox } from './types.js';
import type { Ready } from './types.js';
import { boundWhy } from './commit.js';
import type { CommitCoordinatorCore, CommitParticipantCore, CommitPhase } from './commit.js';
import type { PaxosCommitAccepted, PaxosCommitDecision, PaxosCommitMessage, PaxosCommitRecord, PaxosCommitValue } from './paxoscommit-messages.js';

export type { PaxosCommitAccepted, PaxosCommitDecision, PaxosCommitMessage, PaxosCommitRecord, PaxosCommitValue } from './paxoscommit-messages.js';

/**
 * Transactions an acceptor or RM remembers, and transactions whose phase-1 round a node
 * remembers; beyond it the oldest is forgotten. Forgetting an acceptor's state for a
 * transaction still in progress would be unsafe, so the bound is far above the number of
 * transactions a cluster keeps open at once.
 */
export const PAXOS_COMMIT_REMEMBERED_TXNS_MAX = 100_000;
/** Sources of transaction ids (coordinator incarnations) whose forgotten mark an acceptor keeps. */
export const PAXOS_COMMIT_FORGOTTEN_SOURCES_MAX = 65_536;

export interface PaxosCommitConfig {
  self: string;
  /** The 2F+1 acceptors, the same list on every node. */
  acceptors: string[];
  /** RM: abort unilaterally if the host has not voted this many ticks after the prepare. */
  voteTimeoutTicks: number;
  /** Leader: run phase 1 (higher ballot) if the transaction is undecided after this many ticks. */
  leaderTimeoutTicks: number;
  /** RM: prepared with no outcome for recoveryTicks + random(recoveryTicks): lead a recovery. */
  recoveryTicks: number;
  prng?: Prng;
}

interface AcceptorTxn {
  promised: Ballot;
  accepted: Map<string, PaxosCommitAccepted>;
}

type RmPhase = 'voting' | 'prepared' | 'committed' | 'aborted';

interface RmTxn {
  phase: RmPhase;
  /**
   * The value this RM sent at its ballot 0 (none while voting). A transaction aborted by the
   * outcome may have 'prepared' here: a duplicate prepare must repeat this value, never the
   * phase, or the ballot would carry two values.
   */
  voted: PaxosCommitValue | undefined;
  coordinator: string;
  rms: string[];
  payload: unknown;
  elapsedTicks: number;
  timeoutTicks: number;
  /** Why this RM voted `aborted` (see boundWhy): said again to a duplicate prepare. */
  why?: string;
}

interface Tally {
  value: PaxosCommitValue;
  acceptors: Set<string>;
  why?: string;
}

type LeaderPhase = 'fast' | 'phase1' | 'phase2' | 'backoff';

interface LeaderTxn {
  rms: string[];
  /** Who began the transaction: told the outcome even if it is not an RM. */
  coordinator: string;
  phase: LeaderPhase;
  ballot: Ballot;
  roundSeen: number;
  /** Per instance, per ballot: the value, the acceptors that accepted it, and the first `why` one passed on. */
  tallies: Map<string, Map<string, Tally>>;
  chosen: Map<string, PaxosCommitValue>;
  promises: Map<string, Map<string, PaxosCommitAccepted | null>>;
  elapsedTicks: number;
  backoffTicks: number;
}

export class PaxosCommitNode
  implements
    CommitParticipantCore<PaxosCommitMessage, PaxosCommitRecord, PaxosCommitDecision>,
    CommitCoordinatorCore<PaxosCommitMessage, PaxosCommitRecord, PaxosCommitDecision>
{
  private readonly config: PaxosCommitConfig;
  private readonly quorum: number;
  private readonly prng: Prng;
  private readonly out = new Outbox<PaxosCommitMessage, PaxosCommitRecord, PaxosCommitDecision>();
  private readonly acceptorTxns = new Map<string, AcceptorTxn>();
  private readonly rmTxns = new Map<string, RmTxn>();
  /** Insertion orders of acceptorTxns and rmTxns: which transaction `remember` forgets first. */
  private readonly acceptorOrder = new FifoOrder<string>(PAXOS_COMMIT_REMEMBERED_TXNS_MAX);
  private readonly rmOrder = new FifoOrder<string>(PAXOS_COMMIT_REMEMBERED_TXNS_MAX);
  /** The RM transactions of `rmTxns` still voting or prepared, in the same order: what ticks look at (see TwoPcParticipant.open). */
  private readonly rmOpen = new Map<string, RmTxn>();
  private readonly leaderTxns = new Map<string, LeaderTxn>();
  /**
   * Highest phase-1 round this node used per transaction (durable), for the last
   * PAXOS_COMMIT_REMEMBERED_TXNS_MAX transactions it ran a phase 1 for (see noteRound). It was
   * never pruned: one entry per transaction that ever ran a phase 1 here (a slow one at its
   * coordinator, a recovery at an RM), for as long as the node ran (found by an audit, session
   * 64). Not pruned when the transaction is decided: `recover` may be called for it again (a
   * backup coordinator), and a round used twice would propose two values at one ballot.
   */
  private readonly roundsUsed = new Map<string, number>();
  private readonly roundsOrder = new FifoOrder<string>(PAXOS_COMMIT_REMEMBERED_TXNS_MAX);
  /**
   * The highest round `roundsUsed` forgot (0: none): a transaction it does not hold starts above
   * it, so a leader of one whose round was forgotten still takes a ballot this node never used
   * for it. Below the bound (every run short of that many phase 1s) nothing changes.
   */
  private roundsForgottenMax = 0;
  /**
   * Acceptor: per source of transaction ids (`<source>:<n>`: a coordinator incarnation), the
   * highest n whose state `acceptorTxns` forgot. A phase 1a or 2a at or below it, for a
   * transaction not remembered, is dropped: the acceptor no longer knows what it promised or
   * accepted, and answering as if nothing (a promise with no value accepted) would let a late
   * recovery leader choose 'aborted' for an RM whose 'prepared' was chosen, the transaction
   * committed elsewhere. Such a recovery (an RM cut off for more than the transactions
   * remembered) then waits for ever instead of deciding wrongly. Durable through the host's
   * checkpoints (`checkpointRecords`); between them the log's records rebuild it.
   */
  private readonly acceptorForgotten = new ForgottenMarks(PAXOS_COMMIT_FORGOTTEN_SOURCES_MAX);

  constructor(config: PaxosCommitConfig, recovered?: PaxosCommitRecord[]) {
    requireNonEmptyString('self', config.self);
    const acceptors = requireAddresses('acceptors', config.acceptors, 1);
    requirePositiveInt('voteTimeoutTicks', config.voteTimeoutTicks);
    requirePositiveInt('leaderTimeoutTicks', config.leaderTimeoutTicks);
    requirePositiveInt('recoveryTicks', config.recoveryTicks);
    this.config = { ...config, acceptors };
    this.quorum = Math.floor(acceptors.length / 2) + 1;
    this.prng = config.prng ?? new Prng(`paxoscommit:${config.self}`);
    for (const record of recovered ?? []) this.replay(record);
    for (const [txn, rm] of this.rmTxns) if (rm.phase === 'voting' || rm.phase === 'prepared') this.rmOpen.set(txn, rm);
  }

  // Host API -----------------------------------------------------------------------------

  /** Coordinator: starts the transaction, sending prepare to every RM. */
  begin(txn: string, rms: ReadonlyArray<{ to: string; payload: unknown }>): void {
    const addresses = beginAddresses(txn, rms, this.leaderTxns, undefined, 'rms');
    this.leaderTxns.set(txn, this.newLeaderTxn(txn, addresses, this.config.self));
    for (const r of rms) this.out.send(r.to, { type: 'prepare', txn, rms: addresses, payload: r.payload });
  }

  /** RM: the host's answer to a `prepare` decision. False if the RM is no longer waiting for it. */
  vote(txn: string, yes: boolean, why?: string): boolean {
    const rm = this.rmTxns.get(txn);
    if (rm === undefined || rm.phase !== 'voting') return false;
    if (yes) {
      rm.phase = 'prepared';
      rm.voted = 'prepared';
      rm.elapsedTicks = 0;
      rm.timeoutTicks = this.drawRecoveryTimeout();
      this.out.persist({ type: 'prepared', txn, coordinator: rm.coordinator, rms: rm.rms, payload: rm.payload });
      this.sendFastPath(txn, rm, 'prepared');
    } else {
      this.abortRm(txn, rm, 'vote-no', boundWhy(why));
    }
    return true;
  }

  forget(txn: string): boolean {
    const rm = this.rmTxns.get(txn);
    if (rm === undefined || rm.phase !== 'voting') return false;
    this.rmTxns.delete(txn);
    this.rmOpen.delete(txn);
    return true;
  }

  /**
   * Leads a recovery for `txn` now: phase 1 with a higher ballot over every instance. Any node
   * may call it (a backup coordinator, say); RMs call it themselves when they time out.
   */
  recover(txn: string, rms: string[], coordinator: string): void {
    if (this.leaderTxns.has(txn)) return;
    const leader = this.newLeaderTxn(txn, [...rms], coordinator);
    this.leaderTxns.set(txn, leader);
    this.startPhase1(txn, leader);
  }

  /** RM: transactions voted prepared whose outcome this RM does not know yet. */
  inDoubt(): { txn: string; payload: unknown }[] {
    const list: { txn: string; payload: unknown }[] = [];
    for (const [txn, rm] of this.rmOpen) if (rm.phase === 'prepared') list.push({ txn, payload: rm.payload });
    return list;
  }

  /**
   * As an RM: waiting for the host's vote ('voting'), prepared without the outcome
   * ('uncertain'), or decided. As the leader of a transaction it is not an RM of: 'voting'
   * until it decides (then it forgets it). Acceptor state is no phase.
   */
  phaseOf(txn: string): CommitPhase | undefined {
    const rm = this.rmTxns.get(txn);
    if (rm !== undefined) return rm.phase === 'prepared' ? 'uncertain' : rm.phase;
    return this.leaderTxns.has(txn) ? 'voting' : undefined;
  }

  step(from: string, msg: PaxosCommitMessage): void {
    switch (msg.type) {
      case 'prepare':
        return this.onPrepare(from, msg.txn, msg.rms, msg.payload);
      case 'phase2a':
        return this.onPhase2a(from, msg);
      case 'phase1a':
        return this.onPhase1a(from, msg.txn, msg.ballot, msg.rms);
      case 'phase2b':
        return this.onPhase2b(from, msg.txn, msg.rm, msg.ballot, msg.value, boundWhy(msg.why));
      case 'phase1b':
        return this.onPhase1b(from, msg.txn, msg.ballot, msg.accepted);
      case 'nack':
        return this.onNack(msg.txn, msg.ballot, msg.promised);
      case 'outcome':
        return this.onOutcome(msg.txn, msg.commit, msg.commit ? undefined : boundWhy(msg.why));
    }
  }

  ticksUntilDue(): number {
    let k = Number.POSITIVE_INFINITY;
    for (const [txn, rm] of this.rmOpen) {
      if (rm.phase === 'voting') k = Math.min(k, this.config.voteTimeoutTicks - rm.elapsedTicks);
      else if (rm.phase === 'prepared' && !this.leaderTxns.has(txn)) k = Math.min(k, rm.timeoutTicks - rm.elapsedTicks);
    }
    for (const leader of this.leaderTxns.values()) {
      k = Math.min(k, leader.phase === 'backoff' ? leader.backoffTicks : this.config.leaderTimeoutTicks - leader.elapsedTicks);
    }
    return Math.max(1, k);
  }

  advance(n: number): void {
    if (n <= 0) return;
    for (const [txn, rm] of this.rmOpen) {
      if (rm.phase === 'voting' || (rm.phase === 'prepared' && !this.leaderTxns.has(txn))) rm.elapsedTicks += n;
    }
    for (const leader of this.leaderTxns.values()) {
      if (leader.phase === 'backoff') leader.backoffTicks -= n;
      else leader.elapsedTicks += n;
    }
  }

  tick(): void {
    // An RM that times out leaves `rmOpen` as it is visited: a Map iterates on past a deleted entry.
    for (const [txn, rm] of this.rmOpen) {
      if (rm.phase === 'voting' && ++rm.elapsedTicks >= this.config.voteTimeoutTicks) {
        this.abortRm(txn, rm, 'timeout', `${this.config.self} did not vote in time`);
      } else if (rm.phase === 'prepared' && !this.leaderTxns.has(txn) && ++rm.elapsedTicks >= rm.timeoutTicks) {
        rm.elapsedTicks = 0;
        rm.timeoutTicks = this.drawRecoveryTimeout();
        this.recover(txn, rm.rms, rm.coordinator);
      }
    }
    for (const [txn, leader] of this.leaderTxns) {
      if (leader.phase === 'backoff') {
        if (--leader.backoffTicks <= 0) this.startPhase1(txn, leader);
      } else if (++leader.elapsedTicks >= this.config.leaderTimeoutTicks) {
        this.startPhase1(txn, leader);
      }
    }
  }

  ready(): Ready<PaxosCommitMessage, PaxosCommitRecord, PaxosCommitDecision> {
    return this.out.take();
  }

  /**
   * Records a host's checkpoint must keep beside those of the transactions it keeps: what
   * this acceptor forgot (the records of those transactions are not in the checkpoint).
   */
  checkpointRecords(): PaxosCommitRecord[] {
    return this.acceptorForgotten.size === 0 ? [] : [{ type: 'forgotten', marks: this.acceptorForgotten.entries() }];
  }

  hasReady(): boolean {
    return this.out.has();
  }

  // Recovery -----------------------------------------------------------------------------

  private replay(record: PaxosCommitRecord): void {
    switch (record.type) {
      case 'promise':
        this.acceptorTxn(record.txn).promised = record.ballot;
        return;
      case 'accepted': {
        const a = this.acceptorTxn(record.txn);
        a.accepted.set(record.rm, acceptedOf(record.ballot, record.value, record.why));
        if (compareBallots(record.ballot, a.promised) > 0) a.promised = record.ballot;
        return;
      }
      case 'prepared':
        if (!this.rmTxns.has(record.txn)) this.rmOrder.added(record.txn, 0);
        this.rmTxns.set(record.txn, {
          phase: 'prepared',
          voted: 'prepared',
          coordinator: record.coordinator,
          rms: record.rms,
          payload: record.payload,
          elapsedTicks: 0,
          timeoutTicks: this.drawRecoveryTimeout(),
        });
        return;
      case 'decided': {
        const rm = this.rmTxns.get(record.txn);
        assert(rm !== undefined, `paxos commit: decided record for ${record.txn} without its prepared record`);
        rm.phase = record.commit ? 'committed' : 'aborted';
        return;
      }
      case 'aborted':
        if (!this.rmTxns.has(record.txn)) this.rmOrder.added(record.txn, 0);
        this.rmTxns.set(record.txn, {
          phase: 'aborted',
          voted: 'aborted',
          coordinator: record.coordinator,
          rms: record.rms,
          payload: null,
          elapsedTicks: 0,
          timeoutTicks: 0,
        });
        return;
      case 'round':
        this.noteRound(record.txn, Math.max(this.roundsUsed.get(record.txn) ?? 0, record.round));
        return;
      case 'forgotten':
        for (const [source, n] of record.marks) this.acceptorForgotten.raise(source, n);
        return;
    }
  }

  // RM -----------------------------------------------------------------------------------

  private onPrepare(from: string, txn: string, rms: string[], payload: unknown): void {
    const rm = this.rmTxns.get(txn);
    if (rm === undefined) {
      const fresh: RmTxn = { phase: 'voting', voted: undefined, coordinator: from, rms, payload, elapsedTicks: 0, timeoutTicks: 0 };
      this.rmOpen.set(txn, fresh);
      this.rememberRm(txn, fresh);
      this.out.decide({ kind: 'prepare', txn, payload });
    } else if (rm.voted !== undefined && rm.phase !== 'committed') {
      // A duplicate prepare, or our phase 2a was lost: say it again. What we said, not the
      // phase: an RM that prepared and then learned an abort (another RM voted no) sent
      // 'prepared' at ballot 0 (found by test/paxoscommit-random.ts, seed 1369: a second value
      // at ballot 0 failed a leader's assertion).
      this.sendFastPath(txn, rm, rm.voted);
    }
  }

  private sendFastPath(txn: string, rm: RmTxn, value: PaxosCommitValue): void {
    const why = value === 'aborted' && rm.why !== undefined ? { why: rm.why } : {};
    for (const a of this.config.acceptors) {
      this.out.send(a, { type: 'phase2a', txn, rm: this.config.self, ballot: BALLOT_ZERO, value, leader: rm.coordinator, rms: rm.rms, ...why });
    }
  }

  private abortRm(txn: string, rm: RmTxn, reason: 'vote-no' | 'timeout', why: string | undefined): void {
    // Never prepared, so `prepared` can never be chosen for this instance: deciding alone is safe.
    rm.phase = 'aborted';
    rm.voted = 'aborted';
    if (why !== undefined) rm.why = why;
    this.rmOpen.delete(txn);
    this.out.persist({ type: 'aborted', txn, coordinator: rm.coordinator, rms: rm.rms });
    this.sendFastPath(txn, rm, 'aborted');
    this.out.decide({ kind: 'abort', txn, payload: rm.payload, reason });
  }

  private onOutcome(txn: string, commit: boolean, why: string | undefined): void {
    const leader = this.leaderTxns.get(txn);
    if (leader !== undefined) {
      // Another leader finished it first (we began it, or were recovering it too).
      this.leaderTxns.delete(txn);
      this.out.decide(why === undefined ? { kind: 'outcome', txn, commit } : { kind: 'outcome', txn, commit, why });
    }
    const rm = this.rmTxns.get(txn);
    if (rm === undefined) return; // Not an RM of this transaction (or it forgot it long ago).
    if (rm.phase === 'committed' || rm.phase === 'aborted') {
      assert((rm.phase === 'committed') === commit, `paxos commit: ${txn} decided both ways at ${this.config.self}`);
      return;
    }
    // Committed while this RM waits for its vote: it prepared in an earlier state of the
    // transaction, since forgotten, and the vote waited for is a late prepare copy's, which
    // finds the transaction ended (forget). As for a transaction it does not know: nothing to do.
    if (commit && rm.phase === 'voting') return;
    if (rm.phase === 'prepared') this.out.persist({ type: 'decided', txn, commit });
    rm.phase = commit ? 'committed' : 'aborted';
    this.rmOpen.delete(txn);
    if (commit) this.out.decide({ kind: 'commit', txn, payload: rm.payload });
    else this.out.decide({ kind: 'abort', txn, payload: rm.payload, reason: 'outcome' });
  }

  // Acceptor -----------------------------------------------------------------------------

  private acceptorTxn(txn: string): AcceptorTxn {
    let a = this.acceptorTxns.get(txn);
    if (a === undefined) {
      a = { promised: BALLOT_ZERO, accepted: new Map() };
      const forgotten = this.remember(this.acceptorTxns, this.acceptorOrder, txn, a);
      if (forgotten !== undefined) this.acceptorForgotten.forgot(forgotten[0]);
    }
    return a;
  }

  /** Acceptor: `txn`'s state was forgotten (see acceptorForgotten): it must not answer for it. */
  private acceptorForgot(txn: string): boolean {
    return !this.acceptorTxns.has(txn) && this.acceptorForgotten.covers(txn);
  }

  private isAcceptor(): boolean {
    return this.config.acceptors.includes(this.config.self);
  }

  private onPhase2a(from: string, msg: Extract<PaxosCommitMessage, { type: 'phase2a' }>): void {
    if (!this.isAcceptor() || this.acceptorForgot(msg.txn)) return;
    const a = this.acceptorTxn(msg.txn);
    if (compareBallots(msg.ballot, a.promised) < 0) {
      // An RM's ballot-0 message needs no answer: the recovery leader will decide its instance.
      if (msg.ballot.round > 0) this.out.send(from, { type: 'nack', txn: msg.txn, ballot: msg.ballot, promised: a.promised });
      return;
    }
    a.promised = msg.ballot;
    const held = a.accepted.get(msg.rm);
    if (held === undefined || !ballotEquals(held.ballot, msg.ballot)) {
      // An `aborted` value keeps its `why`: a recovery leader's phase 1 finds it with the value.
      const accepted = acceptedOf(msg.ballot, msg.value, msg.value === 'aborted' ? boundWhy(msg.why) : undefined);
      a.accepted.set(msg.rm, accepted);
      this.out.persist({ type: 'accepted', txn: msg.txn, rm: msg.rm, ...accepted });
    }
    // Accepted at msg.ballot, which carries one value only: the phase 2a's, and its `why` (or
    // the one kept, if this copy says none).
    const accepted = a.accepted.get(msg.rm)!;
    const value = accepted.value;
    const why = value === 'aborted' ? (boundWhy(msg.why) ?? accepted.why) : undefined;
    this.out.send(msg.leader, { type: 'phase2b', txn: msg.txn, rm: msg.rm, ballot: msg.ballot, value, ...(why === undefined ? {} : { why }) });
  }

  private onPhase1a(from: string, txn: string, ballot: Ballot, rms: string[]): void {
    if (!this.isAcceptor() || this.acceptorForgot(txn)) return;
    const a = this.acceptorTxn(txn);
    if (compareBallots(ballot, a.promised) < 0) {
      this.out.send(from, { type: 'nack', txn, ballot, promised: a.promised });
      return;
    }
    if (compareBallots(ballot, a.promised) > 0) {
      a.promised = ballot;
      this.out.persist({ type: 'promise', txn, ballot });
    }
    const accepted = rms.map((rm) => ({ rm, accepted: a.accepted.get(rm) ?? null }));
    this.out.send(from, { type: 'phase1b', txn, ballot, accepted });
  }

  // Leader -------------------------------------------------------------------------------

  private newLeaderTxn(txn: string, rms: string[], coordinator: string): LeaderTxn {
    return {
      rms,
      coordinator,
      phase: 'fast',
      ballot: BALLOT_ZERO,
      roundSeen: this.roundUsed(txn),
      tallies: new Map(),
      chosen: new Map(),
      promises: new Map(),
      elapsedTicks: 0,
      backoffTicks: 0,
    };
  }

  private startPhase1(txn: string, leader: LeaderTxn): void {
    const round = Math.max(leader.roundSeen, this.roundUsed(txn)) + 1;
    this.noteRound(txn, round);
    leader.roundSeen = round;
    leader.ballot = { round, id: this.config.self };
    leader.phase = 'phase1';
    leader.elapsedTicks = 0;
    leader.promises.clear();
    this.out.persist({ type: 'round', txn, round });
    for (const a of this.config.acceptors) this.out.send(a, { type: 'phase1a', txn, ballot: leader.ballot, rms: leader.rms });
  }

  private onPhase1b(from: string, txn: string, ballot: Ballot, accepted: { rm: string; accepted: PaxosCommitAccepted | null }[]): void {
    const leader = this.leaderTxns.get(txn);
    if (leader === undefined || leader.phase !== 'phase1' || !ballotEquals(ballot, leader.ballot)) return;
    leader.promises.set(from, new Map(accepted.map((x) => [x.rm, x.accepted])));
    if (leader.promises.size < this.quorum) return;
    leader.phase = 'phase2';
    leader.elapsedTicks = 0;
    for (const rm of leader.rms) {
      if (leader.chosen.has(rm)) continue;
      let best: PaxosCommitAccepted | null = null;
      for (const promise of leader.promises.values()) {
        const a = promise.get(rm) ?? null;
        if (a !== null && (best === null || compareBallots(a.ballot, best.ballot) > 0)) best = a;
      }
      // No acceptor of a majority accepted anything: `prepared` was never chosen, so abort is safe.
      // An `aborted` value accepted goes on with the `why` it was accepted with (the RM's reason).
      const value: PaxosCommitValue = best === null ? 'aborted' : best.value;
      const why =
        best === null
          ? { why: `${rm} had not voted when a leader recovered the transaction` }
          : best.value === 'aborted' && best.why !== undefined
            ? { why: best.why }
            : {};
      for (const a of this.config.acceptors) {
        this.out.send(a, { type: 'phase2a', txn, rm, ballot: leader.ballot, value, leader: this.config.self, rms: leader.rms, ...why });
      }
    }
  }

  private onPhase2b(from: string, txn: string, rm: string, ballot: Ballot, value: PaxosCommitValue, why: string | undefined): void {
    const leader = this.leaderTxns.get(txn);
    if (leader === undefined || leader.chosen.has(rm) || !leader.rms.includes(rm)) return;
    const byBallot = leader.tallies.get(rm) ?? new Map<string, Tally>();
    leader.tallies.set(rm, byBallot);
    const key = formatBallot(ballot);
    const tally: Tally = byBallot.get(key) ?? { value, acceptors: new Set<string>() };
    byBallot.set(key, tally);
    assert(tally.value === value, `paxos commit: two values at ballot ${key} for ${txn}/${rm}`);
    tally.acceptors.add(from);
    tally.why ??= why;
    if (tally.acceptors.size < this.quorum) return;
    leader.chosen.set(rm, value);
    if (value === 'aborted') this.finish(txn, leader, false, tally.why ?? `${rm} voted to abort`);
    else if (leader.chosen.size === leader.rms.length) this.finish(txn, leader, true);
  }

  private onNack(txn: string, ballot: Ballot, promised: Ballot): void {
    const leader = this.leaderTxns.get(txn);
    if (leader === undefined || !ballotEquals(ballot, leader.ballot)) return;
    if (leader.phase !== 'phase1' && leader.phase !== 'phase2') return;
    leader.roundSeen = Math.max(leader.roundSeen, promised.round);
    leader.phase = 'backoff';
    leader.backoffTicks = 1 + this.prng.int(this.config.leaderTimeoutTicks);
  }

  private finish(txn: string, leader: LeaderTxn, commit: boolean, why?: string): void {
    this.leaderTxns.delete(txn);
    const told = new Set(leader.rms);
    if (leader.coordinator !== this.config.self) told.add(leader.coordinator);
    // A coordinator told by a recovery leader hears why it aborted: it answers the caller with
    // it. The RMs act on the outcome alone.
    const whyTold = !commit && why !== undefined && leader.coordinator !== this.config.self ? leader.coordinator : undefined;
    for (const to of told) this.out.send(to, to === whyTold ? { type: 'outcome', txn, commit, why } : { type: 'outcome', txn, commit });
    this.out.decide(why === undefined ? { kind: 'outcome', txn, commit } : { kind: 'outcome', txn, commit, why });
  }

  private drawRecoveryTimeout(): number {
    return this.config.recoveryTicks + this.prng.int(this.config.recoveryTicks);
  }

  /**
   * As `remember` for an RM's transactions, but one still open (voting, or prepared without an
   * outcome) is passed over: forgotten, its outcome would be ignored when it came, and the host
   * would hold the transaction's locks for ever. It goes to the back of the order; only when
   * every transaction remembered is open does the oldest go anyway.
   */
  private rememberRm(txn: string, rm: RmTxn): void {
    const known = this.rmTxns.has(txn);
    this.rmTxns.set(txn, rm);
    if (known) return;
    const has = (key: string): boolean => this.rmTxns.has(key);
    let oldest = this.rmOrder.addedLive(txn, this.rmTxns.size, has);
    for (let tries = this.rmOpen.size; oldest !== undefined && oldest !== txn && this.rmOpen.has(oldest) && tries > 0; tries--) {
      oldest = this.rmOrder.addedLive(oldest, this.rmTxns.size, has);
    }
    if (oldest === undefined) return;
    this.rmTxns.delete(oldest);
    this.rmOpen.delete(oldest);
  }

  /** The highest round this node may have used for `txn` (see roundsForgottenMax). */
  private roundUsed(txn: string): number {
    return this.roundsUsed.get(txn) ?? this.roundsForgottenMax;
  }

  /** `round` is the highest this node used for `txn`; past PAXOS_COMMIT_REMEMBERED_TXNS_MAX transactions the oldest one's round is forgotten. */
  private noteRound(txn: string, round: number): void {
    const forgotten = this.remember(this.roundsUsed, this.roundsOrder, txn, round);
    if (forgotten !== undefined) this.roundsForgottenMax = Math.max(this.roundsForgottenMax, forgotten[1]);
  }

  /** Sets txn in `map`, forgetting the oldest entry past PAXOS_COMMIT_REMEMBERED_TXNS_MAX: returns the one forgotten (key and value), if any. */
  private remember<T>(map: Map<string, T>, order: FifoOrder<string>, txn: string, value: T): [string, T] | undefined {
    const known = map.has(txn);
    map.set(txn, value);
    if (known) return undefined;
    // Keys leave these maps here and in `forget` (an RM's): the order skips those.
    const oldest = order.addedLive(txn, map.size, (key) => map.has(key));
    if (oldest === undefined) return undefined;
    const forgotten: [string, T] = [oldest, map.get(oldest)!];
    map.delete(oldest);
    return forgotten;
  }
}

/** An acceptor's accepted value: an `aborted` one with its `why`, if it has one (no undefined field). */
function acceptedOf(ballot: Ballot, value: PaxosCommitValue, why: string | undefined): PaxosCommitAccepted {
  return why === undefined || value !== 'aborted' ? { ballot, value } : { ballot, value, why };
}
