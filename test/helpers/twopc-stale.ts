/**
 * One seed of 2PC with stale participant leaders, at the level of the cores
 * (test/twopc-stale.part.ts runs it; test/helpers/core-mutant.ts runs it on a scratch copy of
 * dist/ with a bug put in, so the imports here are relative).
 *
 * Where test/helpers/twopc-random.ts spreads its faults over everything, this model aims at one
 * situation: a shard replica that believes it leads (`p1~`, a stale replica of `p1`'s shard),
 * its core built from a prefix of the shard's log (often one from before the shard voted), takes
 * some of the coordinator's messages to the shard, the commit among them, and answers as the
 * shard; while the shard's real leader is still uncertain, or is replaced by a new core built
 * from the shard's log.
 *
 *   - A coordinator `c` and three participant shards; three or four transactions of two or three
 *     shards each, begun in the first steps. A shard's host votes a few steps after the prepare
 *     (one in five 10-30 steps later), one vote in twenty is no.
 *   - Every message is held in the network a few steps (one in five 5-25 steps); now and then
 *     one is dropped or copied.
 *   - Stale replicas come and go all along: each lives 15-80 steps. While one is up, a message
 *     of the coordinator to its shard goes to it instead: a commit or abort three times in five,
 *     a prepare one time in twenty (one it takes is never voted on: the transaction times out).
 *     Half of them are built from an empty prefix. What it sends goes out under its shard's
 *     address (the coordinator cannot tell), except what waits on a write of its log (never
 *     chosen: a record it persists, an outcome it decides) and anything after.
 *   - Rarely, the coordinator crashes and restarts at once from its log (forgetting what was
 *     collecting votes), or a shard's leader is replaced (its core rebuilt from the shard's
 *     log, where finished transactions have no records).
 *
 * Checked, with no reference to how the cores do it:
 *   - no core assertion fails;
 *   - the coordinator forgets a committed transaction (logs its end) only once every participant
 *     shard has applied the commit (the shard's state machine holds it);
 *   - one outcome per transaction; a committed one applied by every participant, none over a
 *     no vote;
 *   - after a phase without faults (no stale replica, every node up, every vote given, time
 *     passing until nothing moves) nobody is left in doubt and the coordinator tracks nothing.
 */
import { Prng } from '../../src/core/prng.js';
import { TwoPcCoordinator } from '../../src/protocols/twopc.js';
import type { TwoPcMessage, TwoPcParticipant, TwoPcParticipantDecision } from '../../src/protocols/twopc.js';
import { voteOnDuePrepare } from './commit-host.js';
import type { CommitHost } from './commit-host.js';
import { hostTakes, makeTwoPcCore, muteAfterWrite, noneInDoubt, replaceLeader, startStaleReplica } from './commit-cores.js';
import type { TwoPcDec, TwoPcNode, TwoPcRec } from './commit-cores.js';
import { Net } from '../protocols-net.js';
import type { InFlight } from '../protocols-net.js';

type Msg = InFlight<TwoPcMessage>;

const TIMEOUTS = { vote: 40, hostVote: 35, commitRetry: 4, decisionRetry: 5 };
const PARTICIPANTS = ['p1', 'p2', 'p3'];
const TWINS = PARTICIPANTS.map((p) => `${p}~`);
const STEPS = 300;

export interface StaleResult {
  problems: string[];
  committed: number;
  aborted: number;
  /** Commits a stale replica took for a transaction its core did not hold (the situation the seeds are for). */
  staleCommits: number;
}

export function runSeed(seed: number): StaleResult {
  const prng = new Prng(`twopc-stale:${seed}`);
  const hosts = new Map<string, CommitHost>(PARTICIPANTS.map((p) => [p, { finished: new Map(), pending: [] }]));
  const noVotes = new Set<string>();
  const problems: string[] = [];
  /** Each transaction's participants. */
  const members = new Map<string, string[]>();
  /** Per transaction, the coordinator's outcome (at any incarnation). */
  const decided = new Map<string, Set<string>>();
  let staleCommits = 0;
  let now = 0;
  const net = new Net<TwoPcMessage, TwoPcRec, TwoPcDec, TwoPcNode>({
    ids: ['c', ...PARTICIPANTS, ...TWINS],
    make: (id, recovered) => {
      const core = makeTwoPcCore(id, recovered, TIMEOUTS);
      if (core instanceof TwoPcCoordinator) {
        // The coordinator forgets a commit by logging its end: every participant shard must
        // hold the commit by then, or one that asks later is told the transaction aborted.
        const ready = core.ready.bind(core);
        core.ready = () => {
          const r = ready();
          for (const record of r.persist) {
            if (record.type !== 'end') continue;
            const missing = (members.get(record.txn) ?? []).filter((p) => hosts.get(p)!.finished.get(record.txn) !== 'commit');
            if (missing.length > 0) problems.push(`c ended ${record.txn} before ${missing.join(', ')} applied its commit`);
          }
          return r;
        };
        return core;
      }
      if (id.endsWith('~')) {
        // A stale replica's host; and the commits it takes for a transaction its core does not hold.
        muteAfterWrite(core);
        const step = core.step.bind(core);
        core.step = (from, msg) => {
          if (msg.type === 'commit' && core.phaseOf(msg.txn) === undefined) staleCommits++;
          step(from, msg);
        };
      }
      return core;
    },
    onDecision: (id, _core, d) => {
      if (id === 'c') {
        let set = decided.get(d.txn);
        if (set === undefined) decided.set(d.txn, (set = new Set()));
        set.add(d.kind);
        return;
      }
      const host = hosts.get(id);
      if (host === undefined) return;
      hostTakes(host, id, d as TwoPcParticipantDecision, () => now + (prng.chance(0.2) ? 10 + prng.int(20) : prng.int(6)), problems);
    },
  });
  for (const twin of TWINS) net.crash(twin);
  const staleUntil = new Map<string, number>();
  const twinUp = (p: string): boolean => !net.down.has(`${p}~`);
  /** When each message in flight may be delivered. */
  const due = new WeakMap<Msg, number>();
  /** New messages: a delay each; a stale replica's go out as its shard's; the coordinator's to a shard may go to its stale replica. */
  const admit = (): void => {
    for (const m of net.queue) {
      if (due.has(m)) continue;
      due.set(m, now + (prng.chance(0.2) ? 5 + prng.int(20) : prng.int(4)));
      if (m.from.endsWith('~')) m.from = m.from.slice(0, -1);
      else if (m.from === 'c' && twinUp(m.to) && prng.chance(m.msg.type === 'prepare' ? 0.05 : 0.6)) m.to = `${m.to}~`;
    }
  };
  const deliver = (): void => {
    const ready = net.queue.filter((m) => (due.get(m) ?? 0) <= now);
    if (ready.length === 0) return;
    const m = prng.pick(ready);
    if (prng.chance(0.1)) {
      const copy = { ...m };
      net.queue.push(copy);
      due.set(copy, now + prng.int(10));
    }
    if (prng.chance(0.05)) net.dropWhere((x) => x === m);
    else net.deliverWhere((x) => x === m);
  };
  const applyPrepare = (id: string, all = false): void => {
    if (net.down.has(id)) return;
    voteOnDuePrepare(hosts.get(id)!, { id, now, prng, all, yesChance: 0.95, noVotes, act: (use) => net.act(id, (core) => use(core as TwoPcParticipant)) });
  };
  /** A stale replica of `p`'s shard: its core built from a prefix of the shard's log, finished transactions' records left out. */
  const startTwin = (p: string): void => {
    startStaleReplica(net, hosts.get(p)!, p, (length) => (prng.chance(0.5) ? 0 : prng.int(length + 1)));
    staleUntil.set(`${p}~`, now + 15 + prng.int(65));
  };
  const txnCount = 3 + prng.int(2);
  let begun = 0;
  try {
    for (let step = 0; step < STEPS; step++) {
      now = step;
      for (const twin of TWINS) if (!net.down.has(twin) && step >= staleUntil.get(twin)!) net.crash(twin);
      admit();
      const r = prng.next();
      if (begun < txnCount && (step === 0 || r < 0.05)) {
        const to = PARTICIPANTS.filter(() => prng.chance(0.7));
        if (to.length < 2) {
          const left = prng.pick(PARTICIPANTS);
          to.splice(0, to.length, ...PARTICIPANTS.filter((p) => p !== left));
        }
        const txn = `t${begun++}`;
        members.set(txn, to);
        net.act('c', (c) =>
          (c as TwoPcCoordinator).begin(
            txn,
            to.map((p) => ({ to: p, payload: `w@${p}` })),
          ),
        );
      } else if (r < 0.55) deliver();
      else if (r < 0.7) net.tick(1, [prng.pick(['c', ...PARTICIPANTS, ...TWINS])]);
      else if (r < 0.75) net.tick(1);
      else if (r < 0.9) applyPrepare(prng.pick(PARTICIPANTS));
      else if (r < 0.97) {
        const p = prng.pick(PARTICIPANTS);
        if (!twinUp(p)) startTwin(p);
      } else if (r < 0.973) {
        const p = prng.pick(PARTICIPANTS);
        replaceLeader(net, hosts.get(p)!, p);
      } else if (r < 0.976) {
        // The coordinator crashes and restarts from its log.
        net.crash('c');
        net.restart('c');
      } else deliver();
    }
    // Without faults: no stale replica, every node up, every prepare applied, time passing
    // until nothing moves.
    admit();
    for (const twin of TWINS) net.crash(twin);
    for (let i = 0; i < 10 * (TIMEOUTS.vote + TIMEOUTS.commitRetry + TIMEOUTS.decisionRetry); i++) {
      for (const p of PARTICIPANTS) while (hosts.get(p)!.pending.length > 0) applyPrepare(p, true);
      admit();
      net.run(1, ['c', ...PARTICIPANTS]);
    }
  } catch (error) {
    problems.push(`threw: ${(error as Error).message}`);
    return { problems, committed: 0, aborted: 0, staleCommits };
  }
  let committed = 0;
  let aborted = 0;
  for (const [txn, to] of members) {
    const outcomes = new Set([...to.map((p) => hosts.get(p)!.finished.get(txn)), ...[...(decided.get(txn) ?? [])]].filter((o) => o !== undefined));
    if (outcomes.size > 1) problems.push(`${txn} both committed and aborted (${to.map((p) => `${p}: ${hosts.get(p)!.finished.get(txn) ?? '-'}`).join(', ')})`);
    if (outcomes.has('commit')) {
      committed++;
      const no = to.filter((p) => noVotes.has(`${txn}/${p}`));
      if (no.length > 0) problems.push(`${txn} committed over a no vote of ${no.join(', ')}`);
      const missing = to.filter((p) => hosts.get(p)!.finished.get(txn) !== 'commit');
      if (missing.length > 0) problems.push(`${txn} committed, not applied at ${missing.join(', ')}`);
    } else if (outcomes.size > 0) aborted++;
    noneInDoubt(txn, to, (p) => (net.core(p) as TwoPcParticipant).phaseOf(txn), problems);
  }
  const active = (net.core('c') as TwoPcCoordinator).active();
  if (active.length > 0) problems.push(`c still tracks ${active.map((a) => `${a.txn} (${a.phase})`).join(', ')} after the phase without faults`);
  return { problems, committed, aborted, staleCommits };
}
