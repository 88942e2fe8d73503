/**
 * The commit cores' common interface (protocols/commit.ts): every 2PC, 3PC and Paxos Commit
 * core answers `phaseOf(txn)` in the same terms, through one commit, step by step.
 */
import test from 'ava';
import type { CommitPhase } from '../src/protocols/commit.js';
import { PaxosCommitNode } from '../src/protocols/paxoscommit.js';
import { ThreePcCoordinator, ThreePcParticipant } from '../src/protocols/threepc.js';
import { TwoPcCoordinator, TwoPcParticipant } from '../src/protocols/twopc.js';

const ticks = { voteTimeoutTicks: 10, decisionRetryTicks: 10, commitRetryTicks: 10, ackTimeoutTicks: 10, coordinatorTimeoutTicks: 10, terminationTicks: 10 };

/** Deliver every message of `from`'s ready() to the cores named in `to` (others are dropped). */
function pass(
  from: { id: string; core: { ready(): { messages: Array<{ to: string; msg: unknown }> } } },
  to: Record<string, { step(from: string, msg: never): void }>,
): void {
  for (const m of from.core.ready().messages) to[m.to]?.step(from.id, m.msg as never);
}

function phases(cores: Array<{ phaseOf(txn: string): CommitPhase | undefined }>): Array<CommitPhase | undefined> {
  return cores.map((c) => c.phaseOf('t1'));
}

test('2PC: voting, uncertain, committed; the coordinator forgets the transaction once every ack is in', (t) => {
  const c = new TwoPcCoordinator({ self: 'c', ...ticks });
  const p = new TwoPcParticipant({ self: 'p', ...ticks });
  t.deepEqual(phases([c, p]), [undefined, undefined]);
  c.begin('t1', [{ to: 'p', payload: 1 }]);
  t.deepEqual(phases([c, p]), ['voting', undefined]);
  pass({ id: 'c', core: c }, { p });
  t.deepEqual(phases([c, p]), ['voting', 'voting']);
  p.ready();
  t.true(p.vote('t1', true));
  t.deepEqual(phases([c, p]), ['voting', 'uncertain']);
  pass({ id: 'p', core: p }, { c });
  t.deepEqual(phases([c, p]), ['committed', 'uncertain']);
  pass({ id: 'c', core: c }, { p });
  t.deepEqual(phases([c, p]), ['committed', 'committed']);
  pass({ id: 'p', core: p }, { c });
  t.deepEqual(phases([c, p]), [undefined, 'committed']);
});

test('3PC: a pre-committed participant is still uncertain; the coordinator is uncertain while pre-committing', (t) => {
  const c = new ThreePcCoordinator({ self: 'c', ...ticks });
  const p = new ThreePcParticipant({ self: 'p', ...ticks });
  c.begin('t1', [{ to: 'p', payload: 1 }]);
  pass({ id: 'c', core: c }, { p });
  t.deepEqual(phases([c, p]), ['voting', 'voting']);
  p.ready();
  p.vote('t1', true);
  pass({ id: 'p', core: p }, { c });
  t.deepEqual(phases([c, p]), ['uncertain', 'uncertain']);
  pass({ id: 'c', core: c }, { p });
  t.is(p.stateOf('t1'), 'precommitted');
  t.deepEqual(phases([c, p]), ['uncertain', 'uncertain']);
  pass({ id: 'p', core: p }, { c });
  t.deepEqual(phases([c, p]), [undefined, 'uncertain'], 'the coordinator decided and forgot it');
  pass({ id: 'c', core: c }, { p });
  t.deepEqual(phases([c, p]), [undefined, 'committed']);
});

test('Paxos Commit: an RM is voting, uncertain once prepared, then decided; a leader is voting until it decides; a restart keeps the phase', (t) => {
  const config = { acceptors: ['c'], voteTimeoutTicks: 10, leaderTimeoutTicks: 10, recoveryTicks: 10 };
  const c = new PaxosCommitNode({ self: 'c', ...config });
  const p = new PaxosCommitNode({ self: 'p', ...config });
  c.begin('t1', [{ to: 'p', payload: 1 }]);
  t.deepEqual(phases([c, p]), ['voting', undefined]);
  pass({ id: 'c', core: c }, { p });
  t.deepEqual(phases([c, p]), ['voting', 'voting']);
  p.ready();
  p.vote('t1', true);
  const prepared = p.ready();
  t.deepEqual(phases([c, p]), ['voting', 'uncertain']);
  t.is(new PaxosCommitNode({ self: 'p', ...config }, prepared.persist).phaseOf('t1'), 'uncertain');
  for (const m of prepared.messages) if (m.to === 'c') c.step('p', m.msg);
  // The acceptor's phase 2b goes to the leader, itself.
  for (let i = 0; i < 3; i++) pass({ id: 'c', core: c }, { c, p });
  t.deepEqual(phases([c, p]), [undefined, 'committed']);
  t.deepEqual(new PaxosCommitNode({ self: 'p', ...config }, [...prepared.persist, ...p.ready().persist]).phaseOf('t1'), 'committed');
  const q = new PaxosCommitNode({ self: 'q', ...config });
  q.step('c', { type: 'prepare', txn: 't2', rms: ['q'], payload: 1 });
  q.vote('t2', false);
  t.is(new PaxosCommitNode({ self: 'q', ...config }, q.ready().persist).phaseOf('t2'), 'aborted', 'a no vote is remembered as aborted');
});
