/**
 * Fault-free costs of each core as implemented here, derived by counting what the code sends,
 * so that tests can run each core without faults and check the counts exactly.
 *
 * Conventions (the same for every protocol):
 * - `messages` counts messages between distinct addresses; a message a node sends to itself
 *   (a co-located role) costs nothing.
 * - `messageDelays` counts network hops on the longest causal chain from the first message to
 *   the moment every participant (or replica) knows the outcome; the host's own answers (a vote)
 *   take no time.
 * - `stableWrites` counts records handed to `persist`, over all nodes.
 *
 * Gray & Lamport ("Consensus on Transaction Commit", 2004, table 1) count a different flow:
 * from an RM's BeginCommit message, with acceptors bundling their phase 2b messages, and with
 * co-located roles (their 2PC: 3N-1 messages, 4 delays). The cores here start at the
 * coordinator (no BeginCommit hop), acknowledge 2PC commits so the coordinator can forget them,
 * and do not bundle, so the formulas below are derived for these cores, not copied.
 */
export interface AnalyticCost {
  messages: number;
  messageDelays: number;
  stableWrites: number;
}

function requireCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}`);
}

/**
 * 2PC, presumed abort, N participants, coordinator on its own node, every vote yes.
 *   messages = N prepare + N vote + N commit + N ack = 4N
 *   delays   = 3: prepare, vote, commit (the acks only let the coordinator forget)
 *   writes   = N yes votes + 1 commit record + N participant decisions + 1 end record = 2N + 2
 */
export function twoPcCost(participants: number): AnalyticCost {
  requireCount('participants', participants, 1);
  const n = participants;
  return { messages: 4 * n, messageDelays: 3, stableWrites: 2 * n + 2 };
}

/**
 * Single-decree Paxos, n nodes that are each acceptor and learner, one of them proposing,
 * no contention (ballot round 1 wins).
 *   messages = (n-1) prepare + (n-1) promise + (n-1) accept + (n-1) accepted + (n-1) chosen
 *              + (n-1) chosen-ack = 6(n-1) (the proposer's own acceptor and learner are local)
 *   delays   = 5 for every learner (the proposer itself learns after 4; the acks only let it
 *              stop resending); 0 when n = 1
 *   writes   = 1 round record + n promises + n accepted + n learned = 3n + 1
 */
export function paxosCost(nodes: number): AnalyticCost {
  requireCount('nodes', nodes, 1);
  return { messages: 6 * (nodes - 1), messageDelays: nodes === 1 ? 0 : 5, stableWrites: 3 * nodes + 1 };
}

/**
 * Multi-Paxos, one slot through a stable leader (no ticks in between), n replicas.
 *   messages = (n-1) accept + (n-1) accepted + (n-1) commit = 3(n-1)
 *              (the commit index rides on the next accept when there is one: with a busy
 *              leader the commit messages disappear and the cost tends to 2(n-1) per slot)
 *   delays   = 3 until every replica applied (the leader applies after 2)
 *   writes   = n accept records + n commit records = 2n
 * Batching divides all three by the number of commands per slot.
 */
export function multiPaxosSlotCost(replicas: number): AnalyticCost {
  requireCount('replicas', replicas, 1);
  return { messages: 3 * (replicas - 1), messageDelays: replicas === 1 ? 0 : 3, stableWrites: 2 * replicas };
}

/**
 * Multi-Paxos election with empty logs and no contention, n replicas.
 *   messages = (n-1) prepare + (n-1) promise + (n-1) heartbeat + (n-1) heartbeat-ack = 4(n-1)
 *   delays   = 3 until every replica knows the leader (the leader knows after 2)
 *   writes   = the candidate's promise to itself + (n-1) promises = n
 */
export function multiPaxosElectionCost(replicas: number): AnalyticCost {
  requireCount('replicas', replicas, 1);
  return { messages: 4 * (replicas - 1), messageDelays: replicas === 1 ? 0 : 3, stableWrites: replicas };
}

/**
 * Paxos Commit, N RMs, 2F+1 acceptors, a coordinator (leader) that is not an RM, every vote
 * yes; `acceptorsWithLeader` (0 or 1) acceptors share the leader's address, the others are on
 * nodes of their own. No bundling: each acceptor sends one phase 2b per instance.
 *   messages = N prepare + N(2F+1) phase 2a + N(2F+1-c) phase 2b + N outcome = N(4F+4-c)
 *              (F = 0, c = 1: 3N, the messages of 2PC without its acks)
 *   delays   = 4: prepare, 2a, 2b, outcome; 3 when the 2b is local (F = 0, c = 1)
 *   writes   = N prepared records + N(2F+1) accepted records + N decided records = N(2F+3)
 */
export function paxosCommitCost(rms: number, f: number, acceptorsWithLeader: 0 | 1 = 0): AnalyticCost {
  requireCount('rms', rms, 1);
  requireCount('f', f, 0);
  const c = acceptorsWithLeader;
  return {
    messages: rms * (4 * f + 4 - c),
    messageDelays: f === 0 && c === 1 ? 3 : 4,
    stableWrites: rms * (2 * f + 3),
  };
}

/**
 * 3PC, N participants, coordinator on its own node, every vote yes.
 *   messages = N can-commit + N vote + N pre-commit + N ack + N do-commit = 5N
 *   delays   = 5 until every participant committed (the coordinator decides after 4)
 *   writes   = N yes votes + N pre-commits + N decisions = 3N (the coordinator writes nothing)
 */
export function threePcCost(participants: number): AnalyticCost {
  requireCount('participants', participants, 1);
  return { messages: 5 * participants, messageDelays: 5, stableWrites: 3 * participants };
}

/** Every formula above, by protocol: fault-free message counts, message delays and writes. */
export const analyticMessages = {
  twoPc: twoPcCost,
  threePc: threePcCost,
  paxos: paxosCost,
  multiPaxosSlot: multiPaxosSlotCost,
  multiPaxosElection: multiPaxosElectionCost,
  paxosCommit: paxosCommitCost,
};
