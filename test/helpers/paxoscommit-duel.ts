/**
 * One seed of duelling Paxos Commit leaders at the level of the cores (test/paxoscommit-duel.part.ts
 * runs it; test/helpers/core-mutant.ts runs it on a scratch copy of dist/ with a bug put in, so
 * the imports here are relative).
 *
 * Where test/helpers/paxoscommit-random.ts spreads its faults over everything, this model aims
 * at what the Paxos half of Paxos Commit is there for: leaders of one transaction that overlap,
 * and phase 2a messages of an old ballot that arrive after an acceptor promised a newer one.
 * Three RMs, three acceptors of their own (five in a quarter of the seeds: F = 2), a coordinator
 * and a backup node that only ever leads recoveries; two or three transactions of two or three
 * RMs each, begun early.
 *
 *   - Every message is held in the network for a few steps, and one in five for 10-70 steps
 *     (an RM's ballot-0 phase 2a, a leader's phase 2a or 1a, a phase 2b, an outcome alike); any
 *     message sent earlier may come again at any later step (a copy held in a queue); now and
 *     then one is dropped or copied.
 *   - Leader timeouts are short and RMs time out soon after they prepare; three transactions in
 *     five are contested besides: any node calls `recover` on them at any time. So transactions
 *     have several leaders at once, each running phase 1 at a higher ballot while phase 2a
 *     messages of lower ballots are still on the way, and a recovery often finds no vote for an
 *     RM in the majority it hears from and proposes 'aborted' while the RM's 'prepared' is late.
 *     The others are left to the coordinator and the RMs' timeouts.
 *   - Hosts vote a few steps after the prepare (now and then past the vote timeout); one vote in
 *     ten is no. Any node may crash and restart from its log (at most two down at a time).
 *
 * Checked, with no reference to how the cores do it:
 *   - no core assertion fails;
 *   - one value chosen per instance: from every acceptor's durable `accepted` records (its votes),
 *     a value is chosen for an RM's instance when a majority of acceptors accepted it at one
 *     ballot; no instance may have both 'prepared' and 'aborted' chosen (Paxos' safety);
 *   - one outcome per transaction: every outcome seen (an RM's commit or abort, a leader's
 *     outcome, at any node and incarnation) is the same;
 *   - outcomes agree with what was chosen: a commit only if 'prepared' was chosen for every RM of
 *     the transaction, a leader's abort (or an RM's abort by the outcome) only if 'aborted' was
 *     chosen for one; no commit, and no 'prepared' chosen, for an RM that voted no or timed out;
 *   - after a phase without faults (every node up, every vote given, time passing until nothing
 *     moves) no RM is left voting or in doubt; then the backup node recovers every transaction
 *     again, and its outcome counts as any other (a late learner).
 */
import { Prng } from '../../src/core/prng.js';
import { compareBallots, formatBallot } from '../../src/protocols/ballot.js';
import type { Ballot } from '../../src/protocols/ballot.js';
import type { PaxosCommitDecision, PaxosCommitMessage, PaxosCommitNode, PaxosCommitRecord, PaxosCommitValue } from '../../src/protocols/paxoscommit.js';
import { voteOnDuePrepare } from './commit-host.js';
import type { CommitHost } from './commit-host.js';
import { OutcomesSeen, crashWithHost, makePaxosCommitNode, noneInDoubt } from './commit-cores.js';
import { Net } from '../protocols-net.js';
import type { InFlight } from '../protocols-net.js';

export const RMS = ['p1', 'p2', 'p3'];
const TIMEOUTS = { vote: 14, leader: 5, recovery: 6 };
const STEPS = 350;

export interface DuelResult {
  problems: string[];
  acceptors: number;
  committed: number;
  aborted: number;
  /** Aborted transactions of which an RM voted no or timed out. */
  vetoed: number;
  /** Instances for which phase 2a messages of two different values were sent (at two ballots). */
  duels: number;
  /** Phase 2a messages delivered to an acceptor that had promised a higher ballot. */
  stale: number;
}

type Msg = InFlight<PaxosCommitMessage>;

export function runSeed(seed: number): DuelResult {
  const prng = new Prng(`paxoscommit-duel:${seed}`);
  const acceptors = prng.chance(0.25) ? ['a1', 'a2', 'a3', 'a4', 'a5'] : ['a1', 'a2', 'a3'];
  const quorum = Math.floor(acceptors.length / 2) + 1;
  const ids = ['c', ...RMS, ...acceptors, 'b'];
  const txnCount = 2 + prng.int(2);
  const hosts = new Map<string, CommitHost>(RMS.map((p) => [p, { finished: new Map(), pending: [] }]));
  const outcomes = new OutcomesSeen();
  /** Transactions a leader decided to abort, or an RM aborted by the outcome (not by its own vote). */
  const abortedByOutcome = new Set<string>();
  const noVotes = new Set<string>();
  /** Per acceptor and transaction: the highest ballot it was sent in a phase 1a or 2a it took (what it promised). */
  const promised = new Map<string, Ballot>();
  /** Per instance (txn/rm): the values phase 2a messages carried. */
  const proposed = new Map<string, Set<PaxosCommitValue>>();
  /** When each message in flight may be delivered. */
  const due = new WeakMap<Msg, number>();
  /** Every message sent, as it entered the network: any may come again. */
  const sent: Msg[] = [];
  const problems: string[] = [];
  let stale = 0;
  let now = 0;
  /** What an acceptor is sent: counts phase 2a messages below its promise (the case the seeds are for). */
  const watch = (id: string, msg: PaxosCommitMessage): void => {
    if (msg.type !== 'phase1a' && msg.type !== 'phase2a') return;
    const key = `${id}/${msg.txn}`;
    const before = promised.get(key);
    if (before !== undefined && compareBallots(msg.ballot, before) < 0) {
      if (msg.type === 'phase2a') stale++;
      return;
    }
    promised.set(key, msg.ballot);
  };
  const net: Net<PaxosCommitMessage, PaxosCommitRecord, PaxosCommitDecision, PaxosCommitNode> = new Net({
    ids,
    make: (id, recovered) => {
      const node = makePaxosCommitNode(seed, id, now, acceptors, TIMEOUTS, recovered);
      const step = node.step.bind(node);
      node.step = (from, msg) => {
        if (acceptors.includes(id)) watch(id, msg);
        step(from, msg);
      };
      return node;
    },
    onDecision: (id, _core, d) => {
      if (d.kind === 'outcome') {
        outcomes.see(d.txn, d.commit, `leader ${id}`);
        if (!d.commit) abortedByOutcome.add(d.txn);
        return;
      }
      const host = hosts.get(id);
      if (host === undefined) return;
      if (d.kind === 'prepare') {
        host.pending.push({ txn: d.txn, due: now + (prng.chance(0.15) ? 10 + prng.int(20) : prng.int(8)) });
        return;
      }
      if (d.kind === 'abort' && d.reason === 'timeout') noVotes.add(`${d.txn}/${id}`);
      if (d.kind === 'abort' && d.reason === 'outcome') abortedByOutcome.add(d.txn);
      outcomes.see(d.txn, d.kind === 'commit', `rm ${id}`);
      if (!host.finished.has(d.txn)) host.finished.set(d.txn, d.kind === 'commit' ? 'commit' : 'abort');
    },
  });
  /** Gives each message new in the network the step it may be delivered from, and keeps a copy of it. */
  const admit = (): void => {
    for (const m of net.queue) {
      if (due.has(m)) continue;
      due.set(m, now + (prng.chance(0.2) ? 10 + prng.int(60) : prng.int(4)));
      sent.push({ ...m });
      if (m.msg.type === 'phase2a') {
        const key = `${m.msg.txn}/${m.msg.rm}`;
        let values = proposed.get(key);
        if (values === undefined) proposed.set(key, (values = new Set()));
        values.add(m.msg.value);
      }
    }
  };
  /** Delivers a random message whose time has come; it may be dropped or copied. */
  const deliver = (): void => {
    const ready = net.queue.filter((m) => (due.get(m) ?? 0) <= now);
    if (ready.length === 0) return;
    const m = prng.pick(ready);
    if (prng.chance(0.15)) net.queue.push({ ...m });
    if (prng.chance(0.05)) net.dropWhere((x) => x === m);
    else net.deliverWhere((x) => x === m);
  };
  const applyPrepare = (id: string, all = false): void => {
    if (net.down.has(id)) return;
    voteOnDuePrepare(hosts.get(id)!, { id, now, prng, all, yesChance: 0.9, noVotes, act: (use) => net.act(id, use) });
  };
  const txns: Array<{ txn: string; rms: string[]; contested: boolean }> = [];
  const live = (): string[] => ids.filter((x) => !net.down.has(x));
  try {
    for (let step = 0; step < STEPS; step++) {
      now = step;
      admit();
      const r = prng.next();
      if (txns.length < txnCount && (step === 0 || r < 0.03) && !net.down.has('c')) {
        const rms = RMS.filter(() => prng.chance(0.75));
        if (rms.length < 2) rms.splice(0, rms.length, ...prng.pick([RMS.slice(0, 2), RMS.slice(1), [RMS[0]!, RMS[2]!]]));
        const txn = `c:${txns.length + 1}`;
        txns.push({ txn, rms, contested: prng.chance(0.6) });
        net.act('c', (c) =>
          c.begin(
            txn,
            rms.map((to) => ({ to, payload: `w@${to}` })),
          ),
        );
      } else if (r < 0.56) {
        if (sent.length > 0 && prng.chance(0.1)) {
          // A copy of a message sent earlier comes again, however late.
          const copy = { ...prng.pick(sent) };
          net.queue.push(copy);
          due.set(copy, now);
        } else deliver();
      } else if (r < 0.66) net.tick(1, [prng.pick(ids)]);
      else if (r < 0.69) net.tick(1);
      else if (r < 0.81) applyPrepare(prng.pick(RMS));
      else if (r < 0.87 && txns.some((t) => t.contested)) {
        // Anyone may lead a recovery of a contested transaction, at any time: its leaders overlap.
        const id = prng.pick(live());
        const t = prng.pick(txns.filter((x) => x.contested));
        net.act(id, (core) => core.recover(t.txn, t.rms, 'c'));
      } else if (r < 0.89 && net.down.size > 0) net.restart(prng.pick([...net.down]));
      else if (r < 0.9 && net.down.size < 2) crashWithHost(net, hosts, prng.pick(live()));
      else deliver();
    }
    // Without faults: every node up, every vote given, time passing until nothing moves.
    const settle = (): void => {
      for (let i = 0; i < 5 * (TIMEOUTS.vote + TIMEOUTS.leader + 2 * TIMEOUTS.recovery); i++) {
        for (const p of RMS) while (hosts.get(p)!.pending.length > 0) applyPrepare(p, true);
        net.run(1);
        if (ids.every((id) => net.core(id).ticksUntilDue() === Number.POSITIVE_INFINITY)) return;
      }
    };
    for (const id of [...net.down]) net.restart(id);
    settle();
    // Long after, the backup node recovers every transaction once more: a learner that comes
    // late must find the outcome everyone else found.
    for (const { txn, rms } of txns) net.act('b', (core) => core.recover(txn, rms, 'c'));
    settle();
  } catch (error) {
    problems.push(`threw: ${(error as Error).message}`);
  }

  // Votes: every acceptor's durable accepted records (its log only grows in this model).
  /** Per instance: value -> ballots at which a majority of acceptors accepted it. */
  const chosen = new Map<string, Map<PaxosCommitValue, string[]>>();
  const votes = new Map<string, Set<string>>();
  for (const a of acceptors) {
    for (const r of net.logs.get(a)!) {
      if (r.type !== 'accepted') continue;
      const key = `${r.txn}/${r.rm}|${formatBallot(r.ballot)}|${r.value}`;
      let who = votes.get(key);
      if (who === undefined) votes.set(key, (who = new Set()));
      who.add(a);
    }
  }
  for (const [key, who] of votes) {
    if (who.size < quorum) continue;
    const [instance, ballot, value] = key.split('|') as [string, string, PaxosCommitValue];
    let byValue = chosen.get(instance);
    if (byValue === undefined) chosen.set(instance, (byValue = new Map()));
    byValue.set(value, [...(byValue.get(value) ?? []), ballot]);
  }
  const chosenAt = (instance: string, value: PaxosCommitValue): string[] => chosen.get(instance)?.get(value) ?? [];
  for (const [instance, byValue] of chosen) {
    if (byValue.size > 1) {
      problems.push(`${instance}: two values chosen: ${[...byValue].map(([v, bs]) => `${v} at ${bs.join(', ')}`).join('; ')}`);
    }
  }

  let committed = 0;
  let aborted = 0;
  let vetoed = 0;
  for (const { txn, rms } of txns) {
    const { seen, commits } = outcomes.check(txn, problems);
    if (commits.length > 0) {
      committed++;
      const unchosen = rms.filter((p) => chosenAt(`${txn}/${p}`, 'prepared').length === 0);
      if (unchosen.length > 0) problems.push(`${txn} committed (${commits[0]}) but 'prepared' was not chosen for ${unchosen.join(', ')}`);
    } else if (seen.length > 0) {
      aborted++;
      if (rms.some((p) => noVotes.has(`${txn}/${p}`))) vetoed++;
    }
    if (abortedByOutcome.has(txn) && !rms.some((p) => chosenAt(`${txn}/${p}`, 'aborted').length > 0)) {
      problems.push(`${txn} aborted by its outcome but 'aborted' was chosen for none of ${rms.join(', ')}`);
    }
    for (const p of rms) {
      if (!noVotes.has(`${txn}/${p}`)) continue;
      if (commits.length > 0) problems.push(`${txn} committed over a no vote or a timeout of ${p}`);
      if (chosenAt(`${txn}/${p}`, 'prepared').length > 0) problems.push(`${txn}/${p}: 'prepared' chosen though ${p} voted no or timed out`);
    }
    noneInDoubt(txn, rms, (p) => net.core(p).phaseOf(txn), problems);
  }
  const duels = [...proposed.values()].filter((values) => values.size > 1).length;
  return { problems, acceptors: acceptors.length, committed, aborted, vetoed, duels, stale };
}
