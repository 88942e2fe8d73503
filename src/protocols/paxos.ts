/**
 * Single-decree Paxos ("Paxos Made Simple"): one node may play proposer, acceptor and learner.
 *
 * - Acceptor (if `self` is in `acceptors`): promises ballots above its promise and accepts values
 *   at ballots not below it, persisting either before replying; refuses with a `nack` naming
 *   its promise, so a losing proposer knows which round to outbid.
 * - Proposer (`propose(value)`): phase 1 with a fresh ballot (round persisted before use), then
 *   phase 2 with the value of the highest-ballot accepted value among a majority of promises,
 *   or its own. A nack makes it back off for a random number of ticks (from the injected Prng,
 *   or a Prng seeded by its own id) before retrying higher, so dueling proposers stop dueling.
 *   A phase that makes no progress in `phaseTimeoutTicks` is retried with a higher ballot.
 * - The proposer is the distinguished learner: when a majority accepted, it decides and tells
 *   the `learners`, resending every `phaseTimeoutTicks` to those that have not acknowledged
 *   (a lost `chosen` would otherwise leave a learner without the value for good). A node that
 *   restarts with a learned value does not know who has it, so it tells every other learner
 *   again. A learner decides once and acknowledges every `chosen`, a repeated one too (its
 *   earlier acknowledgement may be what was lost).
 *
 * `unsafeForgetPromises` is a deliberately broken acceptor for tests: on restart it ignores its
 * promise records (keeping only what it accepted), which lets two different values be chosen.
 */
import { assert } from '../core/assert.js';
import { Prng } from '../core/prng.js';
import { ballotEquals, BALLOT_ZERO, compareBallots, formatBallot, nextBallot } from './ballot.js';
import type { Ballot } from './ballot.js';
import { requireAddresses, requireNonEmptyString, requirePositiveInt } from './config.js';
import { Outbox } from './types.js';
import type { Ready } from './types.js';
import type { PaxosAcceptedValue, PaxosDecision, PaxosMessage, PaxosRecord } from './paxos-messages.js';

export type { PaxosAcceptedValue, PaxosDecision, PaxosMessage, PaxosRecord } from './paxos-messages.js';

export interface PaxosConfig {
  self: string;
  /** Every acceptor, in the same order on every node. */
  acceptors: string[];
  /** Who is told the chosen value; defaults to the acceptors. */
  learners?: string[];
  /** Retry a phase that has not reached a majority after this many ticks. */
  phaseTimeoutTicks: number;
  /** After a nack, wait 1..backoffTicksMax ticks before retrying. */
  backoffTicksMax: number;
  prng?: Prng;
  /** TESTS ONLY: a broken acceptor that forgets its promises on restart. */
  unsafeForgetPromises?: boolean;
}

type ProposerPhase = 'idle' | 'preparing' | 'accepting' | 'backoff' | 'done';

export class PaxosNode {
  private readonly config: PaxosConfig;
  private readonly learners: string[];
  private readonly majority: number;
  private readonly prng: Prng;
  private readonly out = new Outbox<PaxosMessage, PaxosRecord, PaxosDecision>();

  // Acceptor state (durable).
  private promised: Ballot = BALLOT_ZERO;
  private accepted: PaxosAcceptedValue | null = null;

  // Proposer state. `roundUsed` is durable; the rest is rebuilt by retrying.
  private roundUsed = 0;
  private phase: ProposerPhase = 'idle';
  private ballot: Ballot = BALLOT_ZERO;
  private ownValue: unknown = null;
  private proposal: unknown = null;
  private readonly promises = new Map<string, PaxosAcceptedValue | null>();
  private readonly acceptedBy = new Set<string>();
  private elapsedTicks = 0;
  private backoffTicks = 0;

  // Learner state (durable).
  private learned: { value: unknown } | null = null;
  /** Learners still to be told the learned value (not durable: a restart tells them all again). */
  private readonly untold = new Set<string>();
  private resendTicks = 0;

  constructor(config: PaxosConfig, recovered?: PaxosRecord[]) {
    requireNonEmptyString('self', config.self);
    const acceptors = requireAddresses('acceptors', config.acceptors, 1);
    this.learners = requireAddresses('learners', config.learners ?? acceptors, 0);
    requirePositiveInt('phaseTimeoutTicks', config.phaseTimeoutTicks);
    requirePositiveInt('backoffTicksMax', config.backoffTicksMax);
    this.config = { ...config, acceptors };
    this.majority = Math.floor(acceptors.length / 2) + 1;
    this.prng = config.prng ?? new Prng(`paxos:${config.self}`);
    for (const record of recovered ?? []) this.replay(record);
    this.roundUsed = Math.max(this.roundUsed, this.promised.round);
    if (this.learned !== null) this.tell(this.learners);
  }

  /** Starts proposing `value`. Returns false if this node already proposes or has learned a value. */
  propose(value: unknown): boolean {
    if (this.phase !== 'idle' || this.learned !== null) return false;
    this.ownValue = value;
    this.startPhase1();
    return true;
  }

  step(from: string, msg: PaxosMessage): void {
    switch (msg.type) {
      case 'prepare':
        return this.onPrepare(from, msg.ballot);
      case 'accept':
        return this.onAccept(from, msg.ballot, msg.value);
      case 'promise':
        return this.onPromise(from, msg.ballot, msg.accepted);
      case 'accepted':
        return this.onAccepted(from, msg.ballot);
      case 'nack':
        return this.onNack(msg.ballot, msg.promised);
      case 'chosen':
        this.learn(msg.value);
        this.out.send(from, { type: 'chosen-ack' });
        return;
      case 'chosen-ack':
        this.untold.delete(from);
        return;
    }
  }

  tick(): void {
    if (this.untold.size > 0 && ++this.resendTicks >= this.config.phaseTimeoutTicks) this.sendChosen();
    if (this.phase === 'preparing' || this.phase === 'accepting') {
      if (++this.elapsedTicks >= this.config.phaseTimeoutTicks) this.startPhase1();
    } else if (this.phase === 'backoff') {
      if (--this.backoffTicks <= 0) this.startPhase1();
    }
  }

  /** The learned value, if any (`{ value }` so that a learned `null` is distinguishable). */
  chosen(): { value: unknown } | null {
    return this.learned;
  }

  /** For tests and inspection: the acceptor's durable state. */
  acceptorState(): { promised: Ballot; accepted: PaxosAcceptedValue | null } {
    return { promised: this.promised, accepted: this.accepted };
  }

  ready(): Ready<PaxosMessage, PaxosRecord, PaxosDecision> {
    return this.out.take();
  }

  hasReady(): boolean {
    return this.out.has();
  }

  private isAcceptor(): boolean {
    return this.config.acceptors.includes(this.config.self);
  }

  private replay(record: PaxosRecord): void {
    switch (record.type) {
      case 'promise':
        if (!this.config.unsafeForgetPromises) this.promised = record.ballot;
        return;
      case 'accepted':
        this.accepted = { ballot: record.ballot, value: record.value };
        if (compareBallots(record.ballot, this.promised) > 0) this.promised = record.ballot;
        return;
      case 'round':
        this.roundUsed = Math.max(this.roundUsed, record.round);
        return;
      case 'learned':
        this.learned = { value: record.value };
        this.phase = 'done';
        return;
    }
  }

  // Acceptor ----------------------------------------------------------------------------

  private onPrepare(from: string, ballot: Ballot): void {
    if (!this.isAcceptor()) return;
    // Equal is a duplicate of the promise already made: the proposer never reuses a ballot.
    if (compareBallots(ballot, this.promised) < 0) {
      this.out.send(from, { type: 'nack', ballot, promised: this.promised });
      return;
    }
    if (compareBallots(ballot, this.promised) > 0) {
      this.promised = ballot;
      this.out.persist({ type: 'promise', ballot });
    }
    this.out.send(from, { type: 'promise', ballot, accepted: this.accepted });
  }

  private onAccept(from: string, ballot: Ballot, value: unknown): void {
    if (!this.isAcceptor()) return;
    if (compareBallots(ballot, this.promised) < 0) {
      this.out.send(from, { type: 'nack', ballot, promised: this.promised });
      return;
    }
    this.promised = ballot;
    if (this.accepted === null || !ballotEquals(this.accepted.ballot, ballot)) {
      this.accepted = { ballot, value };
      this.out.persist({ type: 'accepted', ballot, value });
    }
    this.out.send(from, { type: 'accepted', ballot });
  }

  // Proposer ----------------------------------------------------------------------------

  private startPhase1(): void {
    if (this.learned !== null) {
      this.phase = 'done';
      return;
    }
    this.ballot = nextBallot({ round: this.roundUsed, id: this.config.self }, this.config.self);
    this.roundUsed = this.ballot.round;
    this.out.persist({ type: 'round', round: this.roundUsed });
    this.phase = 'preparing';
    this.elapsedTicks = 0;
    this.promises.clear();
    this.acceptedBy.clear();
    for (const a of this.config.acceptors) this.out.send(a, { type: 'prepare', ballot: this.ballot });
  }

  private onPromise(from: string, ballot: Ballot, accepted: PaxosAcceptedValue | null): void {
    if (this.phase !== 'preparing' || !ballotEquals(ballot, this.ballot)) return;
    this.promises.set(from, accepted);
    if (this.promises.size < this.majority) return;
    // The value of the highest ballot any promiser accepted is the only safe choice.
    let best: PaxosAcceptedValue | null = null;
    for (const a of this.promises.values()) {
      if (a !== null && (best === null || compareBallots(a.ballot, best.ballot) > 0)) best = a;
    }
    this.proposal = best === null ? this.ownValue : best.value;
    this.phase = 'accepting';
    this.elapsedTicks = 0;
    for (const a of this.config.acceptors) this.out.send(a, { type: 'accept', ballot, value: this.proposal });
  }

  private onAccepted(from: string, ballot: Ballot): void {
    if (this.phase !== 'accepting' || !ballotEquals(ballot, this.ballot)) return;
    this.acceptedBy.add(from);
    if (this.acceptedBy.size < this.majority) return;
    this.phase = 'done';
    this.learn(this.proposal);
    this.tell(this.learners);
  }

  private onNack(ballot: Ballot, promised: Ballot): void {
    if (!ballotEquals(ballot, this.ballot)) return;
    if (this.phase !== 'preparing' && this.phase !== 'accepting') return;
    assert(compareBallots(promised, ballot) > 0, `paxos: nack of ${formatBallot(ballot)} names a lower promise`);
    this.roundUsed = Math.max(this.roundUsed, promised.round);
    this.phase = 'backoff';
    this.backoffTicks = 1 + this.prng.int(this.config.backoffTicksMax);
  }

  // Learner -----------------------------------------------------------------------------

  private learn(value: unknown): void {
    if (this.learned !== null) return;
    this.learned = { value };
    if (this.phase !== 'idle') this.phase = 'done';
    this.out.persist({ type: 'learned', value });
    this.out.decide({ kind: 'chosen', value });
  }

  /** Tells `learners` (but itself) the learned value, and keeps telling them until they acknowledge. */
  private tell(learners: readonly string[]): void {
    for (const l of learners) if (l !== this.config.self) this.untold.add(l);
    this.sendChosen();
  }

  private sendChosen(): void {
    this.resendTicks = 0;
    const value = this.learned!.value;
    for (const l of this.untold) this.out.send(l, { type: 'chosen', value });
  }
}
