/**
 * What the tests of the commit protocols' cores share: the 2PC cores on a test Net (their
 * types, a node maker, a stale replica's host, a participant host's record of its core's
 * decisions, a shard leader rebuilt from its log), a Paxos Commit node on a test Net and a
 * record of the outcomes seen, and the check that nobody is left in doubt. Used by
 * test/helpers/twopc-random.ts, twopc-stale.ts, paxoscommit-random.ts, paxoscommit-duel.ts
 * (which test/helpers/core-mutant.ts runs on a scratch copy of dist/, so the imports here are
 * relative), test/protocols-twopc.part.ts and the 2PC regression tests.
 */
import { Prng } from '../../src/core/prng.js';
import { PaxosCommitNode } from '../../src/protocols/paxoscommit.js';
import type { PaxosCommitRecord } from '../../src/protocols/paxoscommit.js';
import { TwoPcCoordinator, TwoPcParticipant } from '../../src/protocols/twopc.js';
import type {
  TwoPcCoordinatorDecision,
  TwoPcCoordinatorRecord,
  TwoPcMessage,
  TwoPcParticipantDecision,
  TwoPcParticipantRecord,
} from '../../src/protocols/twopc.js';
import type { Envelope } from '../../src/protocols/types.js';
import type { Net } from '../protocols-net.js';
import type { CommitHost } from './commit-host.js';

export type TwoPcNode = TwoPcCoordinator | TwoPcParticipant;
export type TwoPcRec = TwoPcCoordinatorRecord | TwoPcParticipantRecord;
export type TwoPcDec = TwoPcCoordinatorDecision | TwoPcParticipantDecision;
export type TwoPcNet = Net<TwoPcMessage, TwoPcRec, TwoPcDec, TwoPcNode>;

/** The timeouts of a 2PC test's cores, in ticks. */
export interface TwoPcTimeouts {
  /** The coordinator's wait for votes. */
  vote: number;
  /** A participant's wait for its host's vote. */
  hostVote: number;
  commitRetry: number;
  decisionRetry: number;
}

/**
 * The 2PC core of node `id` of a Net, from its recovered records: the coordinator for `c`, a
 * participant for any other (`p1~`, a stale replica of p1's shard, speaks as p1).
 */
export function makeTwoPcCore(id: string, recovered: TwoPcRec[] | undefined, timeouts: TwoPcTimeouts): TwoPcNode {
  if (id === 'c') {
    return new TwoPcCoordinator(
      { self: 'c', voteTimeoutTicks: timeouts.vote, commitRetryTicks: timeouts.commitRetry },
      recovered as TwoPcCoordinatorRecord[] | undefined,
    );
  }
  return new TwoPcParticipant(
    { self: id.endsWith('~') ? id.slice(0, -1) : id, voteTimeoutTicks: timeouts.hostVote, decisionRetryTicks: timeouts.decisionRetry },
    recovered as TwoPcParticipantRecord[] | undefined,
  );
}

/**
 * Makes `core` a stale replica's: whatever it would write or decide goes to a log that is no
 * longer chosen, and the messages that wait on it never leave; nor does any later one (the
 * cluster's participant holds messages behind its newest pending entry, an ack to a repeated
 * commit, say). What leaves before that leaves as the shard's.
 */
export function muteAfterWrite(core: TwoPcParticipant): void {
  const ready = core.ready.bind(core);
  let stuck = false;
  core.ready = () => {
    const r = ready();
    if (r.persist.length > 0 || r.decisions.length > 0) stuck = true;
    return stuck ? { ...r, messages: [] } : r;
  };
}

/**
 * A participant's host takes its core's decision `d`: a prepare goes to the shard's log,
 * applied from step `due()`; an outcome is what the shard's state machine applies, and a
 * problem if it undoes an earlier one. The vote timeout of a late prepare copy cannot know the
 * transaction finished here: the host, which does, takes that abort as a no-op. Any other
 * abort of a committed transaction is wrong.
 */
export function hostTakes(host: CommitHost, id: string, d: TwoPcParticipantDecision, due: () => number, problems: string[]): void {
  const before = host.finished.get(d.txn);
  if (d.kind === 'prepare') host.pending.push({ txn: d.txn, due: due() });
  else if (d.kind === 'commit') {
    if (before === 'abort') problems.push(`${id} committed ${d.txn}, which it had aborted`);
    host.finished.set(d.txn, 'commit');
  } else if (d.kind === 'abort') {
    if (before === 'commit' && d.reason !== 'timeout') problems.push(`${id} aborted ${d.txn} (${d.reason}), which it had committed`);
    if (before === undefined) host.finished.set(d.txn, 'abort');
  }
}

/** A shard's new leader: participant `id`'s core rebuilt from the shard's log, finished transactions' records compacted away; prepares not yet applied are lost. */
export function replaceLeader(net: TwoPcNet, host: CommitHost, id: string): void {
  host.pending.length = 0;
  const log = net.logs.get(id)!;
  net.logs.set(
    id,
    log.filter((r) => !host.finished.has(r.txn)),
  );
  net.crash(id);
  net.restart(id);
}

/**
 * Starts `p~`, a stale replica of participant `p`'s shard that believes it leads: its core built
 * from the first `cut(length)` records of the shard's log, those of transactions the shard
 * finished left out (the shard drops them when it finishes one, so a replica never holds them).
 */
export function startStaleReplica(net: TwoPcNet, host: CommitHost, p: string, cut: (length: number) => number): void {
  const log = net.logs.get(p)!;
  net.logs.set(
    `${p}~`,
    log.slice(0, cut(log.length)).filter((r) => !host.finished.has(r.txn)),
  );
  net.restart(`${p}~`);
}

/** A crash of node `id`; its host, if it has one, loses the prepares not yet applied. */
export function crashWithHost(net: { crash(id: string): void }, hosts: Map<string, CommitHost>, id: string): void {
  net.crash(id);
  hosts.get(id)?.pending.splice(0);
}

/** After the phase without faults: each of `participants` still voting on `txn`, or in doubt about it, is a problem. */
export function noneInDoubt(txn: string, participants: string[], phaseOf: (p: string) => string | undefined, problems: string[]): void {
  for (const p of participants) {
    const phase = phaseOf(p);
    if (phase === 'voting' || phase === 'uncertain') problems.push(`${p} still ${phase} on ${txn} after the phase without faults`);
  }
}

/** The timeouts of a Paxos Commit test's nodes, in ticks. */
export interface PaxosCommitTimeouts {
  vote: number;
  leader: number;
  recovery: number;
}

/** The Paxos Commit node `id` of seed `seed`'s Net, made at step `now` from its recovered records. */
export function makePaxosCommitNode(
  seed: number,
  id: string,
  now: number,
  acceptors: string[],
  timeouts: PaxosCommitTimeouts,
  recovered: PaxosCommitRecord[] | undefined,
): PaxosCommitNode {
  return new PaxosCommitNode(
    {
      self: id,
      acceptors,
      voteTimeoutTicks: timeouts.vote,
      leaderTimeoutTicks: timeouts.leader,
      recoveryTicks: timeouts.recovery,
      prng: new Prng(`${seed}:${id}:${now}`),
    },
    recovered,
  );
}

/** Per transaction, every outcome seen anywhere, with where: `commit@rm p1`, `abort@leader c`. */
export class OutcomesSeen {
  private readonly byTxn = new Map<string, Set<string>>();

  see(txn: string, commit: boolean, where: string): void {
    let set = this.byTxn.get(txn);
    if (set === undefined) this.byTxn.set(txn, (set = new Set()));
    set.add(`${commit ? 'commit' : 'abort'}@${where}`);
  }

  /** The outcomes of `txn` seen, and the commits among them; both commits and aborts are a problem. */
  check(txn: string, problems: string[]): { seen: string[]; commits: string[] } {
    const seen = [...(this.byTxn.get(txn) ?? [])];
    const commits = seen.filter((o) => o.startsWith('commit'));
    if (commits.length > 0 && commits.length < seen.length) problems.push(`${txn} decided both ways: ${seen.join(', ')}`);
    return { seen, commits };
  }
}

/**
 * Fresh cores `c` and `p` run 2PC on t1 (payload 'x') until the coordinator decides to commit:
 * the participant voted yes and has not yet received the commit; then, uncertain, it ticks and
 * asks the coordinator for the outcome. Returns the commit and the decision request, both
 * still in the network.
 */
export function uncertainAsking(c: TwoPcCoordinator, p: TwoPcParticipant): { commit: Envelope<TwoPcMessage>; request: Envelope<TwoPcMessage> } {
  c.begin('t1', [{ to: 'p', payload: 'x' }]);
  p.step('c', c.ready().messages[0]!.msg);
  p.ready();
  p.vote('t1', true);
  c.step('p', p.ready().messages[0]!.msg);
  const commit = c.ready().messages.find((m) => m.msg.type === 'commit')!;
  p.tick();
  const request = p.ready().messages.find((m) => m.msg.type === 'decision-request')!;
  return { commit, request };
}
