/**
 * Regression: 2PC under restart storms (`meridian check`, mode active). A shard leader rebuilt
 * after a restart found its `voted` record and asked the coordinator for the outcome right
 * away; the commit then arrived, the shard committed and acknowledged, and the stale decision
 * request reached the coordinator after the ack. The coordinator had forgotten the committed
 * transaction (every participant acknowledged) and answered it with presumed abort, which the
 * participant took for a real abort of a transaction it had committed
 * (`2pc: abort for <txn>, which this participant committed`).
 */
import test from 'ava';
import { runOneSeed } from '../src/harness/check-runner.js';
import { TwoPcCoordinator, TwoPcParticipant } from '../src/protocols/twopc.js';
import { uncertainAsking } from './helpers/commit-cores.js';

for (const seed of [4, 11, 86, 87]) {
  test(`sim: check --seed ${seed} (active, 2PC, restart storms) passes`, async (t) => {
    t.log(`seed ${seed}`);
    const r = await runOneSeed({ seed, mode: 'active' });
    t.log(`verdict: ${r.verdict}${r.failures.length > 0 ? `; failures: ${r.failures.join('; ')}` : ''}`);
    t.is(r.error, undefined, r.error);
    t.deepEqual(r.failures, [], r.failures.join('; '));
    t.true(r.live, `seed ${seed}: live`);
    t.true(r.ok, `seed ${seed}: ${r.failures.join('; ')}`);
  });
}

test('2pc core: a decision request overtaken by its ack gets a presumed abort, which a committed participant ignores', (t) => {
  const c = new TwoPcCoordinator({ self: 'c', voteTimeoutTicks: 100, commitRetryTicks: 30 });
  const p = new TwoPcParticipant({ self: 'p', voteTimeoutTicks: 100, decisionRetryTicks: 1 });
  // Uncertain: the participant asks again; the request is delayed in the network.
  const { commit, request } = uncertainAsking(c, p);
  t.truthy(request);
  // The commit arrives, the participant commits and acks; the coordinator ends and forgets.
  p.step('c', commit.msg);
  const ack = p.ready().messages.find((m) => m.msg.type === 'ack')!;
  c.step('p', ack.msg);
  t.deepEqual(c.active(), []);
  c.ready();
  // The late request: the coordinator has no record, so it presumes abort, and says so.
  c.step('p', request.msg);
  const answer = c.ready().messages[0]!;
  t.deepEqual(answer.msg, { type: 'abort', txn: 't1', presumed: true });
  t.notThrows(() => p.step('c', answer.msg));
  t.is(p.phaseOf('t1'), 'committed');
  t.false(p.hasReady());
  // A real abort for a committed transaction is still a protocol violation.
  t.throws(() => p.step('c', { type: 'abort', txn: 't1' }), { message: /which this participant committed/ });
});

test('2pc core: a duplicated yes vote after the end gets a presumed abort, which a committed participant ignores', (t) => {
  const c = new TwoPcCoordinator({ self: 'c', voteTimeoutTicks: 100, commitRetryTicks: 30 });
  const p = new TwoPcParticipant({ self: 'p', voteTimeoutTicks: 100, decisionRetryTicks: 30 });
  c.begin('t1', [{ to: 'p', payload: 'x' }]);
  p.step('c', c.ready().messages[0]!.msg);
  p.ready();
  p.vote('t1', true);
  const vote = p.ready().messages[0]!;
  c.step('p', vote.msg);
  p.step('c', c.ready().messages.find((m) => m.msg.type === 'commit')!.msg);
  c.step('p', p.ready().messages.find((m) => m.msg.type === 'ack')!.msg);
  c.ready();
  // The network duplicated the vote; the copy arrives after the end.
  c.step('p', vote.msg);
  const answer = c.ready().messages[0]!;
  t.deepEqual(answer.msg, { type: 'abort', txn: 't1', presumed: true });
  t.notThrows(() => p.step('c', answer.msg));
  t.is(p.phaseOf('t1'), 'committed');
});
