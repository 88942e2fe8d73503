/**
 * Regression: `meridian check --seed 560 --mode hybrid` (targeted nemesis) failed with
 * "2pc: commit for r3:j_a5X8_O_qkl, which this participant aborted". The transaction had in
 * fact committed everywhere. Shard 1 committed it (commit entry chosen, acked); a new leader
 * of the shard, built before it applied that entry, was uncertain and asked the coordinator
 * again. Once the commit entry was applied the shard forgot the transaction (its records go
 * with the outcome) and the leader rebuilt its core without it. The coordinator, which had
 * forgotten the transaction after every ack, answered the request with presumed abort; the
 * participant did not know the transaction and remembered that as an abort ("abort overtook
 * the prepare"). A commit the coordinator had retransmitted earlier then arrived: the assertion.
 * A presumed abort for a transaction a participant does not know is no outcome: the
 * coordinator keeps no record of committed transactions either.
 */
import test from 'ava';
import { scenarioOptions } from '../src/harness/check-runner.js';
import { runScenario } from '../src/harness/scenario.js';
import { TwoPcCoordinator, TwoPcParticipant } from '../src/protocols/twopc.js';
import { uncertainAsking } from './helpers/commit-cores.js';

test('sim: check --seed 560 (hybrid, targeted) keeps 2PC atomic', async (t) => {
  const seed = 560;
  t.log(`seed ${seed}`);
  const r = await runScenario(scenarioOptions({ seed, mode: 'hybrid', schedule: 'targeted' }));
  t.log(`outcome: ${r.outcome}${r.failures.length > 0 ? `; failures: ${r.failures.join('; ')}` : ''}`);
  t.deepEqual(
    r.assertions.map((a) => a.message),
    [],
  );
  t.deepEqual(r.failures, [], r.failures.join('; '));
  t.true(r.live, `seed ${seed}: live`);
  t.true(r.ok, `seed ${seed}: ${r.failures.join('; ')}`);
});

test('2pc core: a presumed abort for a forgotten committed transaction, then a late commit', (t) => {
  const c = new TwoPcCoordinator({ self: 'c', voteTimeoutTicks: 100, commitRetryTicks: 1 });
  const p = new TwoPcParticipant({ self: 'p', voteTimeoutTicks: 100, decisionRetryTicks: 1 });
  // The participant (an uncertain core) asks; the request is delayed in the network.
  const { commit, request } = uncertainAsking(c, p);
  t.truthy(request);
  p.step('c', commit.msg);
  c.step('p', p.ready().messages.find((m) => m.msg.type === 'ack')!.msg);
  c.ready();
  t.deepEqual(c.active(), []);
  // The participant's host forgot the ended transaction: a fresh core (a new shard leader).
  const fresh = new TwoPcParticipant({ self: 'p', voteTimeoutTicks: 100, decisionRetryTicks: 1 });
  c.step('p', request.msg);
  const answer = c.ready().messages[0]!;
  t.deepEqual(answer.msg, { type: 'abort', txn: 't1', presumed: true });
  t.notThrows(() => fresh.step('c', answer.msg));
  t.is(fresh.phaseOf('t1'), undefined);
  // A duplicate of the commit, delayed in the network, arrives last: acknowledged again.
  t.notThrows(() => fresh.step('c', commit.msg));
  t.deepEqual(
    fresh.ready().messages.map((m) => m.msg),
    [{ type: 'ack', txn: 't1' }],
  );
  // A real abort that overtook its prepare is still remembered: the late prepare gets a no vote.
  fresh.step('c', { type: 'abort', txn: 't2' });
  t.is(fresh.phaseOf('t2'), 'aborted');
  fresh.step('c', { type: 'prepare', txn: 't2', payload: 'y' });
  t.deepEqual(
    fresh.ready().messages.map((m) => m.msg),
    [{ type: 'vote', txn: 't2', yes: false }],
  );
});
