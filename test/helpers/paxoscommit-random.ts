/**
 * One seed of randomized Paxos Commit at the level of its cores (test/paxoscommit-random.part.ts
 * runs it; test/helpers/core-mutant.ts runs it on a scratch copy of dist/ with a bug put in, so
 * the imports here are relative).
 *
 * Three RMs, three acceptors (F = 1), a coordinator. Per seed, the acceptors are nodes of their
 * own, or the coordinator and two RMs (as in a cluster, where shards are acceptors too). What
 * the run does to them: messages come out of order, are dropped or copied, and any message sent
 * earlier may come again at any later step; hosts vote some steps after the prepare (a fifth of
 * them 150-450 steps later, past the vote timeout at times); a third of the votes are no; any
 * node crashes and restarts from its log, and an RM's host may lose the records of transactions
 * it finished (a checkpoint). Recovery leaders (RMs that time out, and now and then any node)
 * run phase 1 with higher ballots, so leaders of one transaction overlap.
 *
 * Checked: no core assertion fails; every outcome of a transaction (an RM's commit or abort, a
 * leader's outcome, at any node and incarnation) is the same; nothing commits over a no vote or
 * an RM's timeout; after a phase without faults no RM is left voting or in doubt.
 */
import { Prng } from '../../src/core/prng.js';
import type { PaxosCommitDecision, PaxosCommitMessage, PaxosCommitNode, PaxosCommitRecord } from '../../src/protocols/paxoscommit.js';
import { voteOnDuePrepare } from './commit-host.js';
import type { CommitHost } from './commit-host.js';
import { OutcomesSeen, crashWithHost, makePaxosCommitNode, noneInDoubt } from './commit-cores.js';
import { Net, SentHistory } from '../protocols-net.js';

export const RMS = ['p1', 'p2', 'p3'];
const TIMEOUTS = { vote: 12, leader: 8, recovery: 10 };
const TXNS = 6;
const STEPS = 700;

/** RM records (the rest are an acceptor's or a leader's): what a host's checkpoint drops for a transaction it finished. */
const RM_RECORDS = new Set(['prepared', 'decided', 'aborted']);

type Host = CommitHost;

export function runSeed(seed: number, options: { hostDropsFinishedPrepares?: boolean } = {}): { problems: string[]; committed: number; layout: string } {
  const prng = new Prng(`paxoscommit-random:${seed}`);
  const colocated = prng.chance(0.5);
  const acceptors = colocated ? ['c', 'p1', 'p2'] : ['a1', 'a2', 'a3'];
  const ids = [...new Set(['c', ...RMS, ...acceptors])];
  const hosts = new Map<string, Host>(RMS.map((p) => [p, { finished: new Map(), pending: [] }]));
  const outcomes = new OutcomesSeen();
  const noVotes = new Set<string>();
  const problems: string[] = [];
  let now = 0;
  const net = new Net<PaxosCommitMessage, PaxosCommitRecord, PaxosCommitDecision, PaxosCommitNode>({
    ids,
    make: (id, recovered) => {
      const node = makePaxosCommitNode(seed, id, now, acceptors, TIMEOUTS, recovered);
      // The host drops a prepare of a transaction it finished that its core no longer knows (its
      // records went with a checkpoint), as the cluster's participant does (see its receive):
      // let through, the core would start voting again, and a vote timeout would then send
      // 'aborted' at ballot 0, where 'prepared' was sent before.
      const host = hosts.get(id);
      if (host !== undefined && options.hostDropsFinishedPrepares !== false) {
        const step = node.step.bind(node);
        node.step = (from, msg) => {
          if (msg.type === 'prepare' && host.finished.has(msg.txn) && node.phaseOf(msg.txn) === undefined) return;
          step(from, msg);
        };
      }
      return node;
    },
    onDecision: (id, _core, d) => {
      if (d.kind === 'outcome') {
        outcomes.see(d.txn, d.commit, `leader ${id}`);
        return;
      }
      const host = hosts.get(id);
      if (host === undefined) return;
      if (d.kind === 'prepare') {
        host.pending.push({ txn: d.txn, due: now + (prng.chance(0.2) ? 150 + prng.int(300) : prng.int(30)) });
        return;
      }
      const before = host.finished.get(d.txn);
      // A vote timeout of a late prepare copy, for a transaction this host finished: a no-op.
      if (before === 'commit' && d.kind === 'abort' && d.reason === 'timeout') return;
      if (d.kind === 'abort' && d.reason === 'timeout') noVotes.add(`${d.txn}/${id}`);
      outcomes.see(d.txn, d.kind === 'commit', `rm ${id}`);
      if (before === undefined) host.finished.set(d.txn, d.kind === 'commit' ? 'commit' : 'abort');
    },
  });
  /** The host votes on one prepare whose time has come: a finished transaction's is dropped. */
  const applyPrepare = (id: string, all = false): void => {
    if (net.down.has(id)) return;
    voteOnDuePrepare(hosts.get(id)!, { id, now, prng, all, yesChance: 0.67, noVotes, act: (use) => net.act(id, use) });
  };
  /** A restart; an RM's host may first replace its log by a checkpoint without the transactions it finished. */
  const restart = (id: string): void => {
    const host = hosts.get(id);
    if (host !== undefined && prng.chance(0.5)) {
      net.logs.set(
        id,
        net.logs.get(id)!.filter((r) => !('txn' in r) || !RM_RECORDS.has(r.type) || !host.finished.has(r.txn)),
      );
    }
    net.restart(id);
  };
  const history = new SentHistory(net);
  let begun = 0;
  const txns: Array<{ txn: string; rms: string[] }> = [];
  try {
    for (let step = 0; step < STEPS; step++) {
      now = step;
      history.remember();
      const r = prng.next();
      const down = [...net.down];
      if (r < 0.03 && history.replay(prng)) {
        // A message sent earlier comes again.
      } else if (r < 0.06 && begun < TXNS && !net.down.has('c')) {
        const subset = RMS.filter(() => prng.chance(0.6));
        const rms = subset.length > 0 ? subset : [prng.pick(RMS)];
        const txn = `c:${++begun}`;
        txns.push({ txn, rms });
        net.act('c', (c) =>
          c.begin(
            txn,
            rms.map((to) => ({ to, payload: `w@${to}` })),
          ),
        );
      } else if (r < 0.6) net.randomDeliver(prng, { drop: 0.1, duplicate: 0.3 });
      else if (r < 0.75) net.tick(1, [prng.pick(ids)]);
      else if (r < 0.93) applyPrepare(prng.pick(RMS));
      else if (r < 0.95 && txns.length > 0) {
        // Anyone may lead a recovery (a backup coordinator): leaders of one transaction overlap.
        const id = prng.pick(ids.filter((x) => !net.down.has(x)));
        const t = prng.pick(txns);
        net.act(id, (core) => core.recover(t.txn, t.rms, 'c'));
      } else if (r < 0.98 && down.length > 0) restart(prng.pick(down));
      else if (r >= 0.98 && down.length < 2) crashWithHost(net, hosts, prng.pick(ids.filter((x) => !net.down.has(x))));
    }
    // Without faults: every node up, every vote given, time passing until nothing moves.
    for (const id of [...net.down]) restart(id);
    for (let i = 0; i < 20 * (TIMEOUTS.vote + TIMEOUTS.leader + 2 * TIMEOUTS.recovery); i++) {
      for (const p of RMS) while (hosts.get(p)!.pending.length > 0) applyPrepare(p, true);
      net.run(1);
    }
  } catch (error) {
    problems.push(`threw: ${(error as Error).message}`);
    return { problems, committed: 0, layout: colocated ? 'colocated' : 'separate' };
  }
  let committed = 0;
  for (const { txn, rms } of txns) {
    const { commits } = outcomes.check(txn, problems);
    if (commits.length > 0) {
      committed++;
      const no = rms.filter((p) => noVotes.has(`${txn}/${p}`));
      if (no.length > 0) problems.push(`${txn} committed over a no vote or a timeout of ${no.join(', ')}`);
    }
    noneInDoubt(txn, rms, (p) => net.core(p).phaseOf(txn), problems);
  }
  return { problems, committed, layout: colocated ? 'colocated' : 'separate' };
}
