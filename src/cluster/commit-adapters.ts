import { Prng } from '../core/prng.js';
import { PaxosCommitNode } from '../protocols/paxoscommit.js';
import type { PaxosCommitMessage, PaxosCommitRecord } from '../protocols/paxoscommit-messages.js';
import { ThreePcCoordinator, ThreePcParticipant } from '../protocols/threepc.js';
import type { ThreePcMessage, ThreePcRecord } from '../protocols/threepc-messages.js';
import { TwoPcCoordinator, TwoPcParticipant } from '../protocols/twopc.js';
import type { TwoPcCoordinatorRecord, TwoPcMessage, TwoPcParticipantRecord } from '../protocols/twopc-messages.js';

/**
 * One shape over the commit-protocol cores, so the coordinator actor and the server's
 * participant side are written once. Ticks are the server's replication tick.
 */
export type CommitProtocolName = '2pc' | '3pc' | 'paxos-commit';

export type ParticipantPhase = 'voting' | 'uncertain' | 'committed' | 'aborted';

export type ParticipantDecision = { kind: 'prepare'; txn: string; payload: unknown } | { kind: 'commit'; txn: string } | { kind: 'abort'; txn: string };

export interface CoreReady<D> {
  persist: unknown[];
  messages: Array<{ to: string; msg: unknown }>;
  decisions: D[];
}

export interface ParticipantCore {
  step(from: string, msg: unknown): void;
  tick(): void;
  vote(txn: string, yes: boolean): void;
  /**
   * Where the core stands on `txn`: waiting for the host's vote, voted yes and waiting for the
   * outcome ('uncertain'; 3PC's pre-committed counts), decided, or not tracking it.
   */
  phase(txn: string): ParticipantPhase | undefined;
  ready(): CoreReady<ParticipantDecision>;
  hasReady(): boolean;
}

export type CoordinatorDecision = { kind: 'commit'; txn: string } | { kind: 'abort'; txn: string; reason: string };

export interface CoordinatorCore {
  begin(txn: string, participants: Array<{ to: string; payload: unknown }>): void;
  step(from: string, msg: unknown): void;
  tick(): void;
  ready(): CoreReady<CoordinatorDecision>;
  hasReady(): boolean;
}

/** Decisions a Paxos Commit participant adapter remembers. */
export const DECIDED_REMEMBERED_MAX = 10_000;

/** Timeouts in ticks of the coordinator and participants (10 ms each by default). */
export const VOTE_TIMEOUT_TICKS = 100;
export const RETRY_TICKS = 30;
/** 3PC: suspect the coordinator after this long without a word; termination phases. */
export const COORDINATOR_TIMEOUT_TICKS = 150;
export const TERMINATION_TICKS = 50;
/** Paxos Commit: the leader runs phase 1 after this long; an RM leads recovery after this (plus random). */
export const LEADER_TIMEOUT_TICKS = 100;
export const RECOVERY_TICKS = 150;

export interface AdapterOptions {
  /** Paxos Commit: the 2F+1 acceptors (the region coordinators), the same list everywhere. */
  acceptors: string[];
  seed: number;
  /** 2PC coordinator, testing only: commit when the votes time out. */
  unsafeCommitOnTimeout?: boolean;
}

export function createParticipantCore(protocol: CommitProtocolName, self: string, records: unknown[], options: AdapterOptions): ParticipantCore {
  switch (protocol) {
    case '2pc': {
      const core = new TwoPcParticipant(
        { self, voteTimeoutTicks: VOTE_TIMEOUT_TICKS, decisionRetryTicks: RETRY_TICKS },
        unwrap(records) as TwoPcParticipantRecord[],
      );
      return {
        step: (from, msg) => core.step(from, msg as TwoPcMessage),
        tick: () => core.tick(),
        vote: (txn, yes) => void core.vote(txn, yes),
        phase: (txn) => core.phaseOf(txn),
        ready: () => participantReady(core.ready()),
        hasReady: () => core.hasReady(),
      };
    }
    case '3pc': {
      const core = new ThreePcParticipant(
        { self, voteTimeoutTicks: VOTE_TIMEOUT_TICKS, coordinatorTimeoutTicks: COORDINATOR_TIMEOUT_TICKS, terminationTicks: TERMINATION_TICKS },
        unwrap(records) as ThreePcRecord[],
      );
      return {
        step: (from, msg) => core.step(from, msg as ThreePcMessage),
        tick: () => core.tick(),
        vote: (txn, yes) => void core.vote(txn, yes),
        phase: (txn) => {
          const state = core.stateOf(txn);
          if (state === undefined) return undefined;
          if (state === 'initial') return 'voting';
          return state === 'precommitted' ? 'uncertain' : state;
        },
        ready: () => participantReady(core.ready()),
        hasReady: () => core.hasReady(),
      };
    }
    case 'paxos-commit': {
      const core = new PaxosCommitNode(
        {
          self,
          acceptors: options.acceptors,
          voteTimeoutTicks: VOTE_TIMEOUT_TICKS,
          leaderTimeoutTicks: LEADER_TIMEOUT_TICKS,
          recoveryTicks: RECOVERY_TICKS,
          prng: new Prng(options.seed),
        },
        unwrap(records) as PaxosCommitRecord[],
      );
      const awaiting = new Set<string>();
      // The core does not say what it decided; the adapter remembers (from its records too).
      const decided = new Map<string, 'committed' | 'aborted'>();
      for (const r of unwrap(records) as PaxosCommitRecord[]) {
        if (r.type === 'decided') decided.set(r.txn, r.commit ? 'committed' : 'aborted');
      }
      return {
        step: (from, msg) => core.step(from, msg as PaxosCommitMessage),
        tick: () => core.tick(),
        vote: (txn, yes) => {
          awaiting.delete(txn);
          core.vote(txn, yes);
        },
        phase: (txn) => (awaiting.has(txn) ? 'voting' : (decided.get(txn) ?? (core.inDoubt().some((d) => d.txn === txn) ? 'uncertain' : undefined))),
        ready: () => {
          const r = core.ready();
          const decisions: ParticipantDecision[] = [];
          for (const d of r.decisions) {
            if (d.kind === 'prepare') {
              awaiting.add(d.txn);
              decisions.push({ kind: 'prepare', txn: d.txn, payload: d.payload });
            } else if (d.kind === 'commit' || d.kind === 'abort') {
              awaiting.delete(d.txn);
              decided.set(d.txn, d.kind === 'commit' ? 'committed' : 'aborted');
              if (decided.size > DECIDED_REMEMBERED_MAX) decided.delete(decided.keys().next().value as string);
              decisions.push({ kind: d.kind, txn: d.txn });
            }
            // 'outcome' is a leader's decision; this RM learns its own part as commit/abort.
          }
          return { persist: r.persist, messages: r.messages, decisions };
        },
        hasReady: () => core.hasReady(),
      };
    }
  }
}

export function createCoordinatorCore(protocol: CommitProtocolName, self: string, records: unknown[], options: AdapterOptions): CoordinatorCore {
  switch (protocol) {
    case '2pc': {
      const core = new TwoPcCoordinator(
        { self, voteTimeoutTicks: VOTE_TIMEOUT_TICKS, commitRetryTicks: RETRY_TICKS, unsafeCommitOnTimeout: options.unsafeCommitOnTimeout === true },
        records as TwoPcCoordinatorRecord[],
      );
      return {
        begin: (txn, participants) => core.begin(txn, participants),
        step: (from, msg) => core.step(from, msg as TwoPcMessage),
        tick: () => core.tick(),
        ready: () => coordinatorReady(core.ready()),
        hasReady: () => core.hasReady(),
      };
    }
    case '3pc': {
      // Crash-stop: the 3PC coordinator writes nothing; termination replaces its recovery.
      const core = new ThreePcCoordinator({ self, voteTimeoutTicks: VOTE_TIMEOUT_TICKS, ackTimeoutTicks: VOTE_TIMEOUT_TICKS });
      return {
        begin: (txn, participants) => core.begin(txn, participants),
        step: (from, msg) => core.step(from, msg as ThreePcMessage),
        tick: () => core.tick(),
        ready: () => coordinatorReady(core.ready()),
        hasReady: () => core.hasReady(),
      };
    }
    case 'paxos-commit': {
      // The region coordinators are the acceptors of every transaction and lead their own.
      const core = new PaxosCommitNode(
        {
          self,
          acceptors: options.acceptors,
          voteTimeoutTicks: VOTE_TIMEOUT_TICKS,
          leaderTimeoutTicks: LEADER_TIMEOUT_TICKS,
          recoveryTicks: RECOVERY_TICKS,
          prng: new Prng(options.seed),
        },
        records as PaxosCommitRecord[],
      );
      const decided = new Set<string>();
      return {
        begin: (txn, participants) => core.begin(txn, participants),
        step: (from, msg) => core.step(from, msg as PaxosCommitMessage),
        tick: () => core.tick(),
        ready: () => {
          const r = core.ready();
          const decisions: CoordinatorDecision[] = [];
          for (const d of r.decisions) {
            if (d.kind !== 'outcome' || decided.has(d.txn)) continue;
            decided.add(d.txn);
            if (decided.size > 100_000) decided.delete(decided.values().next().value as string);
            decisions.push(d.commit ? { kind: 'commit', txn: d.txn } : { kind: 'abort', txn: d.txn, reason: 'a participant voted no or timed out' });
          }
          return { persist: r.persist, messages: r.messages, decisions };
        },
        hasReady: () => core.hasReady(),
      };
    }
  }
}

/** 2PC's and 3PC's coordinator output in the common shape. */
function coordinatorReady(r: {
  persist: unknown[];
  messages: Array<{ to: string; msg: unknown }>;
  decisions: Array<{ kind: 'commit'; txn: string } | { kind: 'abort'; txn: string; reason: string }>;
}): CoreReady<CoordinatorDecision> {
  return {
    persist: r.persist,
    messages: r.messages,
    decisions: r.decisions.map((d): CoordinatorDecision =>
      d.kind === 'commit' ? { kind: 'commit', txn: d.txn } : { kind: 'abort', txn: d.txn, reason: d.reason },
    ),
  };
}

/** 2PC's and 3PC's participant output in the common shape. */
function participantReady(r: {
  persist: unknown[];
  messages: Array<{ to: string; msg: unknown }>;
  decisions: Array<{ kind: 'prepare' | 'commit' | 'abort'; txn: string; payload: unknown }>;
}): CoreReady<ParticipantDecision> {
  return {
    persist: r.persist,
    messages: r.messages,
    decisions: r.decisions.map((d): ParticipantDecision =>
      d.kind === 'prepare' ? { kind: 'prepare', txn: d.txn, payload: d.payload } : { kind: d.kind, txn: d.txn },
    ),
  };
}

/** Records replicated through a shard log are wrapped as `{ record, tag? }`. */
function unwrap(records: unknown[]): unknown[] {
  return records.map((r) => (typeof r === 'object' && r !== null && 'record' in r ? (r as { record: unknown }).record : r));
}
