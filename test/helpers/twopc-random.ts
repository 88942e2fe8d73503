/**
 * One seed of randomized 2PC at the level of its cores: test/twopc-random.part.ts runs it (its
 * header says what a seed does and checks), and test/helpers/core-mutant.ts runs it on a scratch
 * copy of dist/ with a bug put in, so the imports here are relative.
 */
import { Prng } from '../../src/core/prng.js';
import type { TwoPcCoordinator, TwoPcMessage, TwoPcParticipant, TwoPcParticipantDecision } from '../../src/protocols/twopc.js';
import { takeDuePrepare } from './commit-host.js';
import type { CommitHost } from './commit-host.js';
import { hostTakes, makeTwoPcCore, muteAfterWrite, replaceLeader, startStaleReplica } from './commit-cores.js';
import type { TwoPcDec, TwoPcNode, TwoPcRec } from './commit-cores.js';
import { Net, SentHistory } from '../protocols-net.js';

const TIMEOUTS = { vote: 12, hostVote: 8, commitRetry: 3, decisionRetry: 4 };
const PARTICIPANTS = ['p1', 'p2', 'p3'];
const NODES = ['c', ...PARTICIPANTS];
/** A stale replica per participant's shard (see `p1~` below). */
const TWINS = PARTICIPANTS.map((p) => `${p}~`);
const TXNS = 6;
const STEPS = 600;

type Host = CommitHost;

/** One seed; returns what went wrong (empty: nothing), and how many transactions committed. */
export function runSeed(seed: number): { problems: string[]; committed: number } {
  const prng = new Prng(`twopc-random:${seed}`);
  const hosts = new Map<string, Host>(PARTICIPANTS.map((p) => [p, { finished: new Map(), pending: [] }]));
  const noVotes = new Set<string>();
  const problems: string[] = [];
  // The step now: a prepare goes through the shard's log in a few steps, or (a fifth of them, a
  // log that stalls: a leader change) in 150-450, past the participant's vote timeout at times.
  let now = 0;
  const net = new Net<TwoPcMessage, TwoPcRec, TwoPcDec, TwoPcNode>({
    ids: [...NODES, ...TWINS],
    make: (id, recovered) => {
      const core = makeTwoPcCore(id, recovered, TIMEOUTS);
      // A stale replica's host (what leaves before it writes leaves as the shard's: see the
      // rewrite of senders below).
      if (id.endsWith('~')) muteAfterWrite(core as TwoPcParticipant);
      return core;
    },
    onDecision: (id, _core, d) => {
      const host = hosts.get(id);
      if (host === undefined) return;
      hostTakes(host, id, d as TwoPcParticipantDecision, () => now + (prng.chance(0.2) ? 150 + prng.int(300) : prng.int(30)), problems);
    },
  });
  const participant = (id: string): TwoPcParticipant => net.core(id) as TwoPcParticipant;
  /** The host applies one prepare from its log: a finished transaction's is dropped, else it votes. */
  const applyPrepare = (id: string, all = false): void => {
    const host = hosts.get(id)!;
    if (net.down.has(id)) return;
    const txn = takeDuePrepare(host, now, prng, all, (finished) => net.act(id, (core) => (core as TwoPcParticipant).forget(finished)));
    if (txn === undefined) return;
    const yes = prng.chance(0.9);
    if (!yes) noVotes.add(`${txn}/${id}`);
    net.act(id, (core) => (core as TwoPcParticipant).vote(txn, yes));
  };
  for (const twin of TWINS) net.crash(twin);
  /** A stale replica of a participant (`p1~`): up until its step, with a prefix of p1's log. */
  const staleUntil = new Map<string, number>();
  const twinsUp = (): string[] => TWINS.filter((twin) => !net.down.has(twin));
  /** What a stale replica sends goes out under its shard's address; the coordinator cannot tell. */
  const asShard = (): void => {
    for (const m of net.queue) if (m.from.endsWith('~')) m.from = m.from.slice(0, -1);
  };
  const history = new SentHistory(net);
  let begun = 0;
  /** Each transaction's participants. */
  const members = new Map<string, string[]>();
  try {
    for (let step = 0; step < STEPS; step++) {
      now = step;
      asShard();
      for (const twin of twinsUp()) if (step >= staleUntil.get(twin)!) net.crash(twin);
      // The coordinator takes a stale replica for its shard's leader: a message to the shard
      // goes to it.
      const up = twinsUp();
      if (up.length > 0 && prng.chance(0.2)) {
        const toTwin = net.queue.filter((m) => m.from === 'c' && up.includes(`${m.to}~`));
        if (toTwin.length > 0) {
          const m = prng.pick(toTwin);
          m.to = `${m.to}~`;
        }
      }
      history.remember();
      const r = prng.next();
      if (r < 0.02 && history.replay(prng)) continue;
      if (r < 0.05 && begun < TXNS && !net.down.has('c')) {
        const subset = PARTICIPANTS.filter(() => prng.chance(0.6));
        const to = subset.length > 0 ? subset : [prng.pick(PARTICIPANTS)];
        const txn = `t${begun++}`;
        members.set(txn, to);
        net.act('c', (c) =>
          (c as TwoPcCoordinator).begin(
            txn,
            to.map((p) => ({ to: p, payload: null })),
          ),
        );
      } else if (r < 0.6) net.randomDeliver(prng, { drop: 0.05, duplicate: 0.3 });
      else if (r < 0.75) net.tick(1, [prng.pick(NODES)]);
      else if (r < 0.97) applyPrepare(prng.pick(PARTICIPANTS));
      else if (r < 0.98) {
        const id = prng.pick(PARTICIPANTS);
        replaceLeader(net, hosts.get(id)!, id);
      } else if (r < 0.99) {
        // A replica of a participant's shard that is behind and believes it leads: its core is
        // built from a prefix of the shard's log.
        const id = prng.pick(PARTICIPANTS);
        const twin = `${id}~`;
        if (net.down.has(twin)) {
          startStaleReplica(net, hosts.get(id)!, id, (length) => prng.int(length + 1));
          staleUntil.set(twin, step + 50 + prng.int(200));
        }
      } else if (net.down.has('c')) net.restart('c');
      else net.crash('c');
    }
    // Without faults: every node up, no stale replica, every prepare applied, time passing
    // until nothing moves.
    asShard();
    for (const twin of twinsUp()) net.crash(twin);
    if (net.down.has('c')) net.restart('c');
    for (let i = 0; i < 10 * (TIMEOUTS.vote + TIMEOUTS.commitRetry + TIMEOUTS.decisionRetry); i++) {
      for (const p of PARTICIPANTS) while (hosts.get(p)!.pending.length > 0) applyPrepare(p, true);
      net.run(1);
    }
  } catch (error) {
    problems.push(`threw: ${(error as Error).message}`);
    return { problems, committed: 0 };
  }
  let committed = 0;
  for (let i = 0; i < begun; i++) {
    const txn = `t${i}`;
    const outcomes = new Set(PARTICIPANTS.map((p) => hosts.get(p)!.finished.get(txn)).filter((o) => o !== undefined));
    if (outcomes.size > 1) problems.push(`${txn} committed at one participant and aborted at another`);
    if (outcomes.has('commit')) {
      committed++;
      const no = PARTICIPANTS.filter((p) => noVotes.has(`${txn}/${p}`));
      if (no.length > 0) problems.push(`${txn} committed over a no vote of ${no.join(', ')}`);
      // Every participant voted yes, so every one must apply the commit (one that acknowledged
      // it without applying it lost its part of the transaction).
      const missing = (members.get(txn) ?? []).filter((p) => hosts.get(p)!.finished.get(txn) !== 'commit');
      if (missing.length > 0) problems.push(`${txn} committed, not applied at ${missing.join(', ')}`);
    }
    for (const p of PARTICIPANTS) {
      if (participant(p).phaseOf(txn) === 'uncertain') problems.push(`${p} still in doubt about ${txn} after the phase without faults`);
    }
  }
  return { problems, committed };
}
