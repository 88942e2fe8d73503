import { Prng } from '../core/prng.js';
import { PaxosCommitNode } from '../protocols/paxoscommit.js';
import type { PaxosCommitMessage, PaxosCommitRecord } from '../protocols/paxoscommit-messages.js';
import { ThreePcCoordinator, ThreePcParticipant } from '../protocols/threepc.js';
import type { ThreePcMessage, ThreePcRecord } from '../protocols/threepc-messages.js';
import { TwoPcCoordinator, TwoPcParticipant } from '../protocols/twopc.js';
import type { TwoPcCoordinatorRecord, TwoPcMessage, TwoPcParticipantRecord } from '../protocols/twopc-messages.js';
import type {
  CommitCore,
  CommitCoordinatorCore,
  CommitCoordinatorDecision,
  CommitParticipantCore,
  CommitParticipantDecision,
  CommitProtocolName,
} from '../protocols/commit.js';
import type { Ready } from '../protocols/types.js';

export type { CommitPhase, CommitProtocolName } from '../protocols/commit.js';

/**
 * The commit-protocol cores as the replication layer hosts them: chosen by name, with the
 * timeouts of a cluster (ticks are the replication tick), records unwrapped from the shard
 * log's `{ record, tag? }`, and messages and records type-erased (the wire carries them as
 * data). Everything else, the phase of a transaction included, is the cores' common interface
 * (protocols/commit.ts).
 */

/** A participant's decision as the host acts on it (the payload of commit and abort is in the log). */
export type ParticipantDecision = { kind: 'prepare'; txn: string; payload: unknown } | { kind: 'commit'; txn: string } | { kind: 'abort'; txn: string };

export type CoordinatorDecision = CommitCoordinatorDecision<string>;

export type ParticipantCore = CommitParticipantCore<unknown, unknown, ParticipantDecision>;
export type CoordinatorCore = CommitCoordinatorCore<unknown, unknown, CoordinatorDecision> & {
  /** Records the host's checkpoints must keep beside the transactions' (Paxos Commit: what its acceptor forgot). */
  checkpointRecords?: () => unknown[];
};

/** Timeouts in ticks of the coordinator and participants (10 ms each by default). */
export const VOTE_TIMEOUT_TICKS = 100;
export const RETRY_TICKS = 30;
/** 3PC: suspect the coordinator after this long without a word; termination phases. */
export const COORDINATOR_TIMEOUT_TICKS = 150;
export const TERMINATION_TICKS = 50;
/** Paxos Commit: the leader runs phase 1 after this long; an RM leads recovery after this (plus random). */
export const LEADER_TIMEOUT_TICKS = 100;
export const RECOVERY_TICKS = 150;

export interface CommitCoreOptions {
  /** Paxos Commit: the 2F+1 acceptors (the region coordinators), the same list everywhere. */
  acceptors: string[];
  seed: number;
  /** 2PC coordinator, testing only: commit when the votes time out. */
  unsafeCommitOnTimeout?: boolean;
}

/** A Paxos Commit node with the cluster's timeouts: participants and coordinators alike run one. */
function paxosCommitNode(self: string, records: PaxosCommitRecord[], options: CommitCoreOptions): PaxosCommitNode {
  return new PaxosCommitNode(
    {
      self,
      acceptors: options.acceptors,
      voteTimeoutTicks: VOTE_TIMEOUT_TICKS,
      leaderTimeoutTicks: LEADER_TIMEOUT_TICKS,
      recoveryTicks: RECOVERY_TICKS,
      prng: new Prng(options.seed),
    },
    records,
  );
}

export function createParticipantCore(protocol: CommitProtocolName, self: string, records: unknown[], options: CommitCoreOptions): ParticipantCore {
  switch (protocol) {
    case '2pc': {
      const core = new TwoPcParticipant(
        { self, voteTimeoutTicks: VOTE_TIMEOUT_TICKS, decisionRetryTicks: RETRY_TICKS },
        unwrap(records) as TwoPcParticipantRecord[],
      );
      return participantOf(core, (msg) => msg as TwoPcMessage);
    }
    case '3pc': {
      const core = new ThreePcParticipant(
        { self, voteTimeoutTicks: VOTE_TIMEOUT_TICKS, coordinatorTimeoutTicks: COORDINATOR_TIMEOUT_TICKS, terminationTicks: TERMINATION_TICKS },
        unwrap(records) as ThreePcRecord[],
      );
      return participantOf(core, (msg) => msg as ThreePcMessage);
    }
    case 'paxos-commit': {
      const core = paxosCommitNode(self, unwrap(records) as PaxosCommitRecord[], options);
      return participantOf(core, (msg) => msg as PaxosCommitMessage);
    }
  }
}

export function createCoordinatorCore(protocol: CommitProtocolName, self: string, records: unknown[], options: CommitCoreOptions): CoordinatorCore {
  switch (protocol) {
    case '2pc': {
      const core = new TwoPcCoordinator(
        { self, voteTimeoutTicks: VOTE_TIMEOUT_TICKS, commitRetryTicks: RETRY_TICKS, unsafeCommitOnTimeout: options.unsafeCommitOnTimeout === true },
        records as TwoPcCoordinatorRecord[],
      );
      return coordinatorOf(core, (msg) => msg as TwoPcMessage, asIs);
    }
    case '3pc': {
      // Crash-stop: the 3PC coordinator writes nothing; termination replaces its recovery.
      const core = new ThreePcCoordinator({ self, voteTimeoutTicks: VOTE_TIMEOUT_TICKS, ackTimeoutTicks: VOTE_TIMEOUT_TICKS });
      return coordinatorOf(core, (msg) => msg as ThreePcMessage, asIs);
    }
    case 'paxos-commit': {
      // The region coordinators are the acceptors of every transaction and lead their own.
      const core = paxosCommitNode(self, records as PaxosCommitRecord[], options);
      // A leader decides each transaction once (it forgets the transaction as it decides); an
      // RM's own decisions do not arise here (a coordinator is no RM).
      const erasedCore = coordinatorOf(
        core,
        (msg) => msg as PaxosCommitMessage,
        (d) =>
          d.kind !== 'outcome'
            ? undefined
            : d.commit
              ? { kind: 'commit', txn: d.txn }
              : { kind: 'abort', txn: d.txn, reason: 'outcome', why: d.why ?? 'a recovery leader aborted it' },
      );
      return { ...erasedCore, checkpointRecords: () => core.checkpointRecords() };
    }
  }
}

/**
 * A participant core with erased types. Paxos Commit's `outcome` decisions are a leader's; a
 * participant learns its own part as commit or abort, so they are dropped here.
 */
function participantOf<M, R>(
  core: CommitParticipantCore<M, R, CommitParticipantDecision<string> | { kind: 'outcome' }>,
  asMessage: (msg: unknown) => M,
): ParticipantCore {
  const due = new DueCache(core);
  return {
    ...erased(core, asMessage, participantDecision, due),
    vote: (txn, yes, why) => {
      due.changed();
      return core.vote(txn, yes, why);
    },
    forget: (txn) => {
      due.changed();
      return core.forget(txn);
    },
  };
}

function participantDecision(d: CommitParticipantDecision<string> | { kind: 'outcome' }): ParticipantDecision | undefined {
  if (d.kind === 'prepare') return { kind: 'prepare', txn: d.txn, payload: d.payload };
  if (d.kind === 'commit' || d.kind === 'abort') return { kind: d.kind, txn: d.txn };
  return undefined;
}

/** A coordinator core with erased types; `decision` picks and shapes the decisions a coordinator acts on. */
function coordinatorOf<M, R, D>(
  core: CommitCoordinatorCore<M, R, D>,
  asMessage: (msg: unknown) => M,
  decision: (d: D) => CoordinatorDecision | undefined,
): CoordinatorCore {
  const due = new DueCache(core);
  return {
    ...erased(core, asMessage, decision, due),
    begin: (txn, participants) => {
      due.changed();
      core.begin(txn, participants);
    },
  };
}

/**
 * What participants and coordinators erase alike: messages in as `unknown`, decisions out as
 * `decision` shapes them (undefined: dropped), and every call that can move the due tick
 * clearing `due`.
 */
function erased<M, R, D, E>(core: CommitCore<M, R, D>, asMessage: (msg: unknown) => M, decision: (d: D) => E | undefined, due: DueCache) {
  return {
    step: (from: string, msg: unknown): void => {
      due.changed();
      core.step(from, asMessage(msg));
    },
    tick: (): void => {
      due.changed();
      core.tick();
    },
    ticksUntilDue: (): number => due.get(),
    advance: (n: number): void => due.advance(n),
    phaseOf: (txn: string) => core.phaseOf(txn),
    ready: (): Ready<unknown, unknown, E> => {
      const r = core.ready();
      const decisions: E[] = [];
      for (const d of r.decisions) {
        const e = decision(d);
        if (e !== undefined) decisions.push(e);
      }
      return { persist: r.persist, messages: r.messages, decisions };
    },
    hasReady: (): boolean => core.hasReady(),
  };
}

/**
 * A core's `ticksUntilDue()`, kept between the calls that can change it (step, tick, vote,
 * begin): the cores look through every transaction they remember, decided ones included,
 * and the host asks after every message. Counting `n` ticks brings the due tick `n` nearer.
 */
class DueCache {
  private due: number | undefined = undefined;
  constructor(private readonly core: { ticksUntilDue(): number; advance(n: number): void }) {}

  get(): number {
    if (this.due === undefined) this.due = this.core.ticksUntilDue();
    return this.due;
  }

  changed(): void {
    this.due = undefined;
  }

  advance(n: number): void {
    this.core.advance(n);
    if (this.due !== undefined) this.due -= n;
  }
}

/** 2PC's and 3PC's coordinator decisions, as they are. */
function asIs(d: CommitCoordinatorDecision): CoordinatorDecision {
  return d.kind === 'commit' ? { kind: 'commit', txn: d.txn } : { kind: 'abort', txn: d.txn, reason: d.reason, why: d.why };
}

/** Records replicated through a shard log are wrapped as `{ record, tag? }`. */
function unwrap(records: unknown[]): unknown[] {
  return records.map((r) => (typeof r === 'object' && r !== null && 'record' in r ? (r as { record: unknown }).record : r));
}
