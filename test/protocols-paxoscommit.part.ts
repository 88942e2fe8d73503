/**
 * Scripted tests of Paxos Commit (Gray & Lamport, "Consensus on Transaction Commit", 2004):
 * the fault-free fast path (section 4), the leader's failure (section 4.2: non-blocking), and
 * the F = 0 case that degenerates to 2PC (section 5).
 */
import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { PaxosCommitNode, PAXOS_COMMIT_REMEMBERED_TXNS_MAX } from '../src/protocols/paxoscommit.js';
import type { PaxosCommitDecision, PaxosCommitMessage, PaxosCommitRecord } from '../src/protocols/paxoscommit.js';
import { analyticMessages } from '../src/protocols/costs.js';
import { Net } from './protocols-net.js';
import { seedWindow } from './helpers/seed-window.js';

const VOTE_TIMEOUT = 5;
const LEADER_TIMEOUT = 8;
const RECOVERY = 10;

type PcNet = Net<PaxosCommitMessage, PaxosCommitRecord, PaxosCommitDecision, PaxosCommitNode>;

function setup(opts: {
  rms: number;
  acceptors: string[];
  votes?: Record<string, boolean | 'never'>;
  /** The host's vote, when it must be computed (overrides `votes`). */
  decideVote?: (rm: string, txn: string) => boolean;
  seed?: number;
}): { net: PcNet; rms: string[] } {
  const rms = Array.from({ length: opts.rms }, (_, i) => `p${i + 1}`);
  const ids = [...new Set(['c', ...rms, ...opts.acceptors])];
  const net = new Net<PaxosCommitMessage, PaxosCommitRecord, PaxosCommitDecision, PaxosCommitNode>({
    ids,
    make: (id, recovered) =>
      new PaxosCommitNode(
        {
          self: id,
          acceptors: opts.acceptors,
          voteTimeoutTicks: VOTE_TIMEOUT,
          leaderTimeoutTicks: LEADER_TIMEOUT,
          recoveryTicks: RECOVERY,
          ...(opts.seed === undefined ? {} : { prng: new Prng(`${opts.seed}:${id}`) }),
        },
        recovered,
      ),
    onDecision: (id, core, d) => {
      if (d.kind !== 'prepare') return;
      const vote = opts.decideVote?.(id, d.txn) ?? opts.votes?.[id] ?? true;
      if (vote !== 'never') core.vote(d.txn, vote, vote ? undefined : `check failed on key "k@${id}"`);
    },
  });
  return { net, rms };
}

function acceptors(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `a${i + 1}`);
}

function begin(net: PcNet, txn: string, rms: string[]): void {
  net.act('c', (c) =>
    c.begin(
      txn,
      rms.map((to) => ({ to, payload: `w@${to}` })),
    ),
  );
}

/** RM outcomes as "kind txn" strings (prepare requests left out). */
function rmOutcomes(net: PcNet, id: string): string[] {
  return net
    .decisionsOf(id)
    .filter((d) => d.kind === 'commit' || d.kind === 'abort')
    .map((d) => `${d.kind} ${d.txn}`);
}

function leaderOutcomes(net: PcNet, id: string): string[] {
  return net
    .decisionsOf(id)
    .filter((d) => d.kind === 'outcome')
    .map((d) => (d.kind === 'outcome' ? `${d.commit ? 'commit' : 'abort'} ${d.txn}` : ''));
}

test('fault-free commit: costs match paxosCommitCost(N, F) with acceptors on their own nodes', (t) => {
  for (const n of [1, 2, 4]) {
    for (const f of [0, 1, 2]) {
      const { net, rms } = setup({ rms: n, acceptors: acceptors(2 * f + 1) });
      begin(net, 't1', rms);
      net.stabilize();
      t.deepEqual(leaderOutcomes(net, 'c'), ['commit t1']);
      for (const p of rms) {
        t.deepEqual(
          net.decisionsOf(p).filter((d) => d.kind === 'commit'),
          [{ kind: 'commit', txn: 't1', payload: `w@${p}` }],
        );
      }
      const cost = analyticMessages.paxosCommit(n, f);
      const lastRm = Math.max(...net.events.filter((e) => e.decision.kind === 'commit').map((e) => e.round));
      t.is(net.remoteSent, cost.messages, `messages N=${n} F=${f}`);
      t.is(lastRm, cost.messageDelays, `delays N=${n} F=${f}`);
      t.is(net.persisted, cost.stableWrites, `writes N=${n} F=${f}`);
    }
  }
});

test('F = 0 with the acceptor on the coordinator: the messages and delays of 2PC', (t) => {
  for (const n of [1, 3, 5]) {
    const { net, rms } = setup({ rms: n, acceptors: ['c'] });
    begin(net, 't1', rms);
    net.stabilize();
    const cost = analyticMessages.paxosCommit(n, 0, 1);
    t.is(cost.messages, 3 * n);
    t.is(net.remoteSent, cost.messages);
    t.is(Math.max(...net.events.map((e) => e.round)), cost.messageDelays);
    t.is(net.persisted, cost.stableWrites);
    for (const p of rms) t.deepEqual(rmOutcomes(net, p), ['commit t1']);
  }
});

test('one RM votes no: its instance chooses aborted and the transaction aborts', (t) => {
  const { net, rms } = setup({ rms: 3, acceptors: acceptors(3), votes: { p2: false } });
  begin(net, 't1', rms);
  net.stabilize();
  t.deepEqual(leaderOutcomes(net, 'c'), ['abort t1']);
  t.deepEqual(
    net.decisionsOf('c').filter((d) => d.kind === 'outcome'),
    [{ kind: 'outcome', txn: 't1', commit: false, why: 'check failed on key "k@p2"' }],
    "the RM's reason, through the acceptors, in the leader's decision",
  );
  for (const p of rms) t.deepEqual(rmOutcomes(net, p), ['abort t1']);
  t.deepEqual(net.logs.get('p2'), [{ type: 'aborted', txn: 't1', coordinator: 'c', rms }]);
});

// A recovery leader's abort said `p2 voted to abort`, and a coordinator that learned it from
// the recovery leader `a recovery leader aborted it` (cluster: the AbortedError's message):
// the no-voter's reason stopped at the acceptors, which kept the value without it (audit
// leftovers, session 59). Now an acceptor keeps an aborted value's `why`, phase 1 reports it,
// the recovery leader proposes it again, and its outcome tells the coordinator.
test("a recovery leader's abort keeps the no-voter's reason, and tells it to the coordinator", (t) => {
  const { net, rms } = setup({ rms: 2, acceptors: acceptors(3), votes: { p2: false } });
  begin(net, 't1', rms);
  net.deliverRound(); // prepare -> p1 prepares, p2 votes no; both send phase 2a
  net.deliverRound(); // phase 2a -> the acceptors accept, send phase 2b to c
  t.true(net.dropWhere((m) => m.msg.type === 'phase2b' && m.to === 'c') > 0, "c never hears the acceptors' phase 2b");
  // c is slow (not ticked: it never runs phase 1); p1, prepared, leads a recovery.
  const others = ['p1', 'p2', ...acceptors(3)];
  for (let i = 0; i < 10 * RECOVERY && leaderOutcomes(net, 'c').length === 0; i++) {
    net.tick(1, others);
    net.stabilize();
  }
  const why = 'check failed on key "k@p2"';
  t.deepEqual(
    net.decisionsOf('p1').filter((d) => d.kind === 'outcome'),
    [{ kind: 'outcome', txn: 't1', commit: false, why }],
    "the recovery leader's decision: p2's reason",
  );
  t.deepEqual(
    net.decisionsOf('c').filter((d) => d.kind === 'outcome'),
    [{ kind: 'outcome', txn: 't1', commit: false, why }],
    'the coordinator, told by the recovery leader: the same reason',
  );
  for (const p of rms) t.deepEqual(rmOutcomes(net, p), ['abort t1']);
});

test("a slow coordinator's own phase 1 keeps the no-voter's reason", (t) => {
  const { net, rms } = setup({ rms: 2, acceptors: acceptors(3), votes: { p2: false } });
  begin(net, 't1', rms);
  net.deliverRound();
  net.deliverRound();
  t.true(net.dropWhere((m) => m.msg.type === 'phase2b' && m.to === 'c') > 0);
  // c times out first (LEADER_TIMEOUT < RECOVERY) and runs phase 1 itself.
  for (let i = 0; i < LEADER_TIMEOUT && leaderOutcomes(net, 'c').length === 0; i++) net.run(1);
  t.deepEqual(
    net.decisionsOf('c').filter((d) => d.kind === 'outcome'),
    [{ kind: 'outcome', txn: 't1', commit: false, why: 'check failed on key "k@p2"' }],
  );
  for (const p of rms) t.deepEqual(rmOutcomes(net, p), ['abort t1']);
});

test('an RM whose host never votes aborts alone; the leader learns it from the acceptors', (t) => {
  const { net, rms } = setup({ rms: 2, acceptors: acceptors(3), votes: { p1: 'never' } });
  begin(net, 't1', rms);
  net.stabilize();
  t.deepEqual(leaderOutcomes(net, 'c'), []);
  net.run(VOTE_TIMEOUT);
  t.deepEqual(rmOutcomes(net, 'p1'), ['abort t1']);
  t.deepEqual(leaderOutcomes(net, 'c'), ['abort t1']);
  t.is((net.decisionsOf('c').find((d) => d.kind === 'outcome') as { why?: string }).why, 'p1 did not vote in time');
  t.deepEqual(rmOutcomes(net, 'p2'), ['abort t1']);
});

test('coordinator crash after the RMs prepared: an RM leads recovery and commits (non-blocking, F = 1)', (t) => {
  const { net, rms } = setup({ rms: 3, acceptors: acceptors(3) });
  begin(net, 't1', rms);
  net.deliverRound(); // prepare -> RMs prepare and send phase 2a
  net.deliverRound(); // phase 2a -> acceptors accept, send phase 2b to c
  net.crash('c');
  net.stabilize(); // the phase 2b messages die with c
  for (const p of rms) t.deepEqual(rmOutcomes(net, p), [], `${p} waits`);
  let ticks = 0;
  while (rms.some((p) => rmOutcomes(net, p).length === 0)) {
    if (++ticks > 10 * RECOVERY) return t.fail('no recovery');
    net.run(1);
  }
  for (const p of rms) t.deepEqual(rmOutcomes(net, p), ['commit t1']);
  const leaders = rms.filter((p) => leaderOutcomes(net, p).length > 0);
  t.true(leaders.length >= 1, 'an RM finished it as leader');
  t.true(ticks < 2 * RECOVERY + LEADER_TIMEOUT, `finished after ${ticks} ticks, without the coordinator`);
  t.true(
    net.logs.get(leaders[0]!)!.some((r) => r.type === 'round'),
    'the recovery leader wrote its round first',
  );
});

test('coordinator crash before one RM prepared: recovery chooses aborted for that instance', (t) => {
  const { net, rms } = setup({ rms: 3, acceptors: acceptors(3), votes: { p3: 'never' } });
  begin(net, 't1', rms);
  net.deliverRound();
  net.crash('c');
  net.crash('p3'); // dies before voting: its instance has no value anywhere
  net.stabilize();
  for (let i = 0; i < 10 * RECOVERY && rmOutcomes(net, 'p1').length === 0; i++) net.run(1);
  t.deepEqual(rmOutcomes(net, 'p1'), ['abort t1']);
  t.deepEqual(rmOutcomes(net, 'p2'), ['abort t1']);
  const recovered = [...net.decisionsOf('p1'), ...net.decisionsOf('p2')].filter((d) => d.kind === 'outcome');
  t.true(recovered.length > 0, 'an RM led the recovery');
  for (const d of recovered) t.like(d, { commit: false, why: 'p3 had not voted when a leader recovered the transaction' });
});

test('F = 0: the coordinator (with the only acceptor) crashing blocks the RMs until it restarts, as in 2PC', (t) => {
  const { net, rms } = setup({ rms: 2, acceptors: ['c'] });
  begin(net, 't1', rms);
  net.deliverRound(); // prepares -> phase 2a to c
  net.deliverRound(); // c accepts both (persisted), decides commit; the outcomes are queued
  t.deepEqual(leaderOutcomes(net, 'c'), ['commit t1']);
  t.is(
    net.dropWhere((m) => m.msg.type === 'outcome'),
    2,
    'c dies before the outcomes leave',
  );
  net.crash('c');
  net.run(10 * RECOVERY);
  for (const p of rms) {
    t.deepEqual(rmOutcomes(net, p), [], `${p} is blocked: no acceptor quorum without c`);
    t.deepEqual(
      net
        .core(p)
        .inDoubt()
        .map((d) => d.txn),
      ['t1'],
    );
  }
  net.restart('c');
  for (let i = 0; i < 10 * RECOVERY && rms.some((p) => rmOutcomes(net, p).length === 0); i++) net.run(1);
  // The restarted acceptor still holds both `prepared` values: a recovering RM finds them.
  for (const p of rms) t.deepEqual(rmOutcomes(net, p), ['commit t1']);
});

test('the leader times out on a lost phase 2a and finishes with phase 1 (higher ballot)', (t) => {
  const { net, rms } = setup({ rms: 2, acceptors: acceptors(3) });
  begin(net, 't1', rms);
  net.deliverRound();
  t.is(
    net.dropWhere((m) => m.from === 'p2' && m.msg.type === 'phase2a'),
    3,
  );
  net.stabilize();
  t.deepEqual(leaderOutcomes(net, 'c'), []);
  net.run(LEADER_TIMEOUT);
  // p2 was prepared, but no acceptor heard it: aborted is the only safe value for its instance.
  t.deepEqual(leaderOutcomes(net, 'c'), ['abort t1']);
  for (const p of rms) t.deepEqual(rmOutcomes(net, p), ['abort t1']);
  t.deepEqual(net.logs.get('c'), [{ type: 'round', txn: 't1', round: 1 }]);
});

test('dueling recovery leaders agree: the lower ballot is refused, one outcome everywhere', (t) => {
  const { net, rms } = setup({ rms: 3, acceptors: acceptors(3) });
  begin(net, 't1', rms);
  net.deliverRound();
  net.deliverRound();
  net.crash('c');
  net.stabilize();
  net.act('p1', (n) => n.recover('t1', rms, 'c'));
  net.act('p2', (n) => n.recover('t1', rms, 'c'));
  for (let i = 0; i < 10 * RECOVERY && rms.some((p) => rmOutcomes(net, p).length === 0); i++) {
    net.stabilize();
    net.tick();
  }
  for (const p of rms) t.deepEqual(rmOutcomes(net, p), ['commit t1']);
  t.true((net.sentByType['nack'] ?? 0) > 0, 'one of them was refused');
});

test('randomized: drops, duplicates, crashes; every transaction atomic, commit only if all voted yes', (t) => {
  const { base, seeds } = seedWindow(40, { baseVar: 'MERIDIAN_SEED', base: 4200 });
  t.log(`seeds ${base}..${base + seeds - 1}`);
  let committed = 0;
  for (let seed = base; seed < base + seeds; seed++) {
    const prng = new Prng(seed);
    const noVoters = new Set<string>(); // "txn/rm" the host refused
    const hostPrng = prng.fork('votes');
    const decideVote = (rm: string, txn: string): boolean => {
      const yes = hostPrng.chance(0.9);
      if (!yes) noVoters.add(`${txn}/${rm}`);
      return yes;
    };
    const { net, rms } = setup({ rms: 3, acceptors: acceptors(3), seed, decideVote });
    const txns = ['t1', 't2', 't3'];
    for (const txn of txns) begin(net, txn, rms);
    const nodes = ['c', ...rms, ...acceptors(3)];
    for (let step = 0; step < 800; step++) {
      const r = prng.next();
      if (r < 0.6) net.randomDeliver(prng, { drop: 0.1, duplicate: 0.05 });
      else if (r < 0.9) net.tick(1, [prng.pick(nodes)]);
      else if (r < 0.95) {
        const up = nodes.filter((id) => !net.down.has(id));
        if (net.down.size < 2) net.crash(prng.pick(up));
      } else {
        const down = nodes.filter((id) => net.down.has(id));
        if (down.length > 0) net.restart(prng.pick(down));
      }
    }
    // Liveness: all up, no faults; every RM must learn every outcome.
    for (const id of nodes) if (net.down.has(id)) net.restart(id);
    for (let i = 0; i < 20 * RECOVERY; i++) net.run(1);
    for (const txn of txns) {
      const outcomes = new Set<string>();
      for (const id of nodes) {
        for (const d of net.decisionsOf(id)) {
          if (d.txn !== txn) continue;
          if (d.kind === 'commit' || (d.kind === 'outcome' && d.commit)) outcomes.add('commit');
          if ((d.kind === 'abort' && d.reason === 'outcome') || (d.kind === 'outcome' && !d.commit)) outcomes.add('abort');
        }
      }
      t.true(outcomes.size <= 1, `seed ${seed} ${txn}: ${[...outcomes].join(' and ')}`);
      if (outcomes.has('commit')) {
        committed++;
        t.false(
          rms.some((p) => noVoters.has(`${txn}/${p}`)),
          `seed ${seed} ${txn}: committed over a no vote`,
        );
      }
      for (const p of rms) {
        const known = net
          .core(p)
          .inDoubt()
          .some((d) => d.txn === txn);
        t.false(known, `seed ${seed} ${txn}: ${p} still in doubt after the liveness phase`);
      }
    }
  }
  t.log(`transactions committed: ${committed} of ${seeds * 3}`);
  t.true(committed > 0);
});

// Found reading the code (2026-12-01): an acceptor remembers PAXOS_COMMIT_REMEMBERED_TXNS_MAX
// transactions. Past them it promised a late recovery leader "nothing accepted" for a
// transaction it had accepted 'prepared' for, and a majority of such acceptors let the leader
// choose 'aborted' for an RM whose 'prepared' was chosen: the transaction had committed at the
// other RMs (an RM cut off for that many transactions, recovering when it came back). Now an
// acceptor drops phase 1a and 2a of a transaction older than what it remembers (transaction
// ids `<source>:<n>`), also after a restart from its host's checkpoint.
test('an acceptor that forgot a transaction does not promise for it as if nothing was accepted, after a restart too', (t) => {
  const node = (recovered?: PaxosCommitRecord[]): PaxosCommitNode =>
    new PaxosCommitNode({ self: 'a1', acceptors: ['a1', 'a2', 'a3'], voteTimeoutTicks: 5, leaderTimeoutTicks: 8, recoveryTicks: 10 }, recovered);
  const a = node();
  const zero = { round: 0, id: '' };
  const phase2a = (txn: string): Extract<PaxosCommitMessage, { type: 'phase2a' }> => ({
    type: 'phase2a',
    txn,
    rm: 'p1',
    ballot: zero,
    value: 'prepared',
    leader: 'c',
    rms: ['p1'],
  });
  const old = 'r1:inc:0';
  a.step('p1', phase2a(old));
  t.deepEqual(
    a.ready().messages.map((m) => m.msg.type),
    ['phase2b'],
  );
  const records: PaxosCommitRecord[] = [];
  for (let n = 1; n <= PAXOS_COMMIT_REMEMBERED_TXNS_MAX + 5; n++) {
    a.step('p1', phase2a(`r1:inc:${n}`));
    if (n % 1_000 === 0) records.push(...a.ready().persist);
  }
  records.push(...a.ready().persist);
  const recovery: PaxosCommitMessage = { type: 'phase1a', txn: old, ballot: { round: 1, id: 'p2' }, rms: ['p1'] };
  a.step('p2', recovery);
  t.deepEqual(a.ready(), { persist: [], messages: [], decisions: [] }, 'no promise, no record: it cannot answer for what it forgot');
  a.step('p2', { ...phase2a(old), ballot: { round: 1, id: 'p2' }, value: 'aborted', leader: 'p2' });
  t.deepEqual(a.ready().messages, [], "nor does it accept a recovery leader's value for it");
  const recent = `r1:inc:${PAXOS_COMMIT_REMEMBERED_TXNS_MAX}`;
  a.step('p2', { ...recovery, txn: recent });
  t.deepEqual(
    a.ready().messages.map((m) => m.msg),
    [{ type: 'phase1b', txn: recent, ballot: { round: 1, id: 'p2' }, accepted: [{ rm: 'p1', accepted: { ballot: zero, value: 'prepared' } }] }],
    'a transaction it remembers: promised, with what it accepted',
  );
  const other = 'r2:inc:0';
  a.step('p2', { ...recovery, txn: other });
  t.is(a.ready().messages.length, 1, 'another source: a new transaction, promised');

  // Restarted from a checkpoint as a coordinator writes it: these records, then the last
  // transactions' own.
  const checkpoint = a.checkpointRecords();
  t.is(checkpoint.length, 1);
  const restarted = node([...checkpoint, ...records.slice(-10)]);
  restarted.step('p2', { ...recovery, ballot: { round: 2, id: 'p2' } });
  t.deepEqual(restarted.ready().messages, [], 'restarted: still no promise for it');
});

// Found reading the code (2026-12-01): an RM forgot its oldest transaction past
// PAXOS_COMMIT_REMEMBERED_TXNS_MAX whatever its phase; one prepared and still waiting for its
// outcome was forgotten like a decided one, the outcome was then ignored when it came, and the
// host held the transaction's locks for ever. Open transactions are now passed over.
test('an RM past PAXOS_COMMIT_REMEMBERED_TXNS_MAX transactions keeps one prepared without an outcome, and applies the outcome when it comes', (t) => {
  const rm = new PaxosCommitNode({ self: 'p1', acceptors: ['a1', 'a2', 'a3'], voteTimeoutTicks: 5, leaderTimeoutTicks: 8, recoveryTicks: 1_000_000 });
  rm.step('c', { type: 'prepare', txn: 'in-doubt', rms: ['p1', 'p2'], payload: 'w' });
  t.true(rm.vote('in-doubt', true));
  rm.ready();
  for (let n = 0; n < PAXOS_COMMIT_REMEMBERED_TXNS_MAX + 10; n++) {
    const txn = `t${n}`;
    rm.step('c', { type: 'prepare', txn, rms: ['p1'], payload: null });
    rm.vote(txn, false);
    if (n % 1_000 === 0) rm.ready();
  }
  rm.ready();
  t.is(rm.phaseOf('in-doubt'), 'uncertain', 'still in doubt, not forgotten');
  t.is(rm.phaseOf('t0'), undefined, 'the oldest decided one was forgotten instead');
  rm.step('a1', { type: 'outcome', txn: 'in-doubt', commit: true });
  t.deepEqual(
    rm.ready().decisions.map((d) => [d.kind, d.txn]),
    [['commit', 'in-doubt']],
  );
});
