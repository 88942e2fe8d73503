import { TwoPcCoordinator, TwoPcParticipant } from '../protocols/twopc.js';
import type { TwoPcCoordinatorRecord, TwoPcMessage, TwoPcParticipantRecord } from '../protocols/twopc-messages.js';

/**
 * One shape over the commit-protocol cores, so the coordinator actor and the server's
 * participant side are written once. Ticks are the server's replication tick.
 */
export type CommitProtocolName = '2pc' | '3pc' | 'paxos-commit';

export type ParticipantDecision =
  | { kind: 'prepare'; txn: string; payload: unknown }
  | { kind: 'commit'; txn: string }
  | { kind: 'abort'; txn: string };

export interface CoreReady<D> {
  persist: unknown[];
  messages: Array<{ to: string; msg: unknown }>;
  decisions: D[];
}

export interface ParticipantCore {
  step(from: string, msg: unknown): void;
  tick(): void;
  vote(txn: string, yes: boolean): void;
  /** Whether the core is tracking `txn` (voting, uncertain or decided). */
  knows(txn: string): boolean;
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

/** Timeouts in ticks of the coordinator and participants (10 ms each by default). */
export const VOTE_TIMEOUT_TICKS = 100;
export const RETRY_TICKS = 30;

export function createParticipantCore(protocol: CommitProtocolName, self: string, records: unknown[]): ParticipantCore {
  switch (protocol) {
    case '2pc': {
      const core = new TwoPcParticipant({ self, voteTimeoutTicks: VOTE_TIMEOUT_TICKS, decisionRetryTicks: RETRY_TICKS }, unwrap(records) as TwoPcParticipantRecord[]);
      return {
        step: (from, msg) => core.step(from, msg as TwoPcMessage),
        tick: () => core.tick(),
        vote: (txn, yes) => void core.vote(txn, yes),
        knows: (txn) => core.phaseOf(txn) !== undefined,
        ready: () => {
          const r = core.ready();
          return {
            persist: r.persist,
            messages: r.messages,
            decisions: r.decisions.map((d): ParticipantDecision => (d.kind === 'prepare' ? { kind: 'prepare', txn: d.txn, payload: d.payload } : { kind: d.kind, txn: d.txn })),
          };
        },
        hasReady: () => core.hasReady(),
      };
    }
    default:
      throw new Error(`commit protocol ${protocol} has no participant adapter yet`);
  }
}

export function createCoordinatorCore(protocol: CommitProtocolName, self: string, records: unknown[]): CoordinatorCore {
  switch (protocol) {
    case '2pc': {
      const core = new TwoPcCoordinator({ self, voteTimeoutTicks: VOTE_TIMEOUT_TICKS, commitRetryTicks: RETRY_TICKS }, records as TwoPcCoordinatorRecord[]);
      return {
        begin: (txn, participants) => core.begin(txn, participants),
        step: (from, msg) => core.step(from, msg as TwoPcMessage),
        tick: () => core.tick(),
        ready: () => {
          const r = core.ready();
          return {
            persist: r.persist,
            messages: r.messages,
            decisions: r.decisions.map((d): CoordinatorDecision => (d.kind === 'commit' ? { kind: 'commit', txn: d.txn } : { kind: 'abort', txn: d.txn, reason: d.reason })),
          };
        },
        hasReady: () => core.hasReady(),
      };
    }
    default:
      throw new Error(`commit protocol ${protocol} has no coordinator adapter yet`);
  }
}

/** Records replicated through a shard log are wrapped as `{ record, tag? }`. */
function unwrap(records: unknown[]): unknown[] {
  return records.map((r) => (typeof r === 'object' && r !== null && 'record' in r ? (r as { record: unknown }).record : r));
}
