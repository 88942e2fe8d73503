/**
 * The protocol cores, for the actors in cluster/ and replication/ that host them. Each is a
 * pure state machine with the shape in types.ts: step / tick / proposals in, `ready()` out.
 */
export { Outbox } from './types.js';
export type { Core, Envelope, Ready } from './types.js';
export { BALLOT_ZERO, ballotEquals, compareBallots, formatBallot, maxBallot, nextBallot } from './ballot.js';
export type { Ballot } from './ballot.js';

export type {
  CommitCore,
  CommitCoordinatorCore,
  CommitCoordinatorDecision,
  CommitOutcome,
  CommitParticipantCore,
  CommitParticipantDecision,
  CommitPhase,
  CommitProtocolName,
  CoordinatorAbortReason,
  ParticipantAbortReason,
} from './commit.js';

export { TwoPcCoordinator, TwoPcParticipant } from './twopc.js';
export type {
  TwoPcCoordinatorConfig,
  TwoPcCoordinatorDecision,
  TwoPcCoordinatorRecord,
  TwoPcMessage,
  TwoPcParticipantConfig,
  TwoPcParticipantDecision,
  TwoPcParticipantRecord,
} from './twopc.js';

export { ThreePcCoordinator, ThreePcParticipant } from './threepc.js';
export type {
  ThreePcCoordinatorConfig,
  ThreePcCoordinatorDecision,
  ThreePcMessage,
  ThreePcParticipantConfig,
  ThreePcParticipantDecision,
  ThreePcRecord,
  ThreePcState,
} from './threepc.js';

export { PaxosNode } from './paxos.js';
export type { PaxosAcceptedValue, PaxosConfig, PaxosDecision, PaxosMessage, PaxosRecord } from './paxos.js';

export { MultiPaxos, MULTIPAXOS_CATCHUP_SLOTS_MAX, MULTIPAXOS_PENDING_MAX } from './multipaxos.js';
export type {
  MultiPaxosConfig,
  MultiPaxosDecision,
  MultiPaxosMessage,
  MultiPaxosRecord,
  MultiPaxosRole,
  MultiPaxosSlot,
  MultiPaxosSnapshot,
} from './multipaxos.js';

export { PaxosCommitNode } from './paxoscommit.js';
export type { PaxosCommitAccepted, PaxosCommitConfig, PaxosCommitDecision, PaxosCommitMessage, PaxosCommitRecord, PaxosCommitValue } from './paxoscommit.js';

export { analyticMessages, multiPaxosElectionCost, multiPaxosSlotCost, paxosCommitCost, paxosCost, threePcCost, twoPcCost } from './costs.js';
export type { AnalyticCost } from './costs.js';
