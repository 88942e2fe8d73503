import test from 'ava';
import { runScenario } from '../src/harness/scenario.js';
import { scenarioOptions } from '../src/harness/check-runner.js';

// Passive seed 921 (found by the 1000-seed sweep after the leader-handover fault, 2026-11-30):
// a two-key transaction the coordinator committed was aborted at one shard. The new leader
// held the transaction's prepare and vote only in the slots its promises reported, which it
// re-proposes but had not logged yet; `leaderCaughtUp()` compared what it had applied with
// its own log's last index, so it counted itself caught up too early, the participant was
// rebuilt without the transaction and acked the coordinator's commit as "decided long ago".
// Fixed: a new leader is caught up once it has applied every slot below its first proposal.
//
// The run is the default scenario of that day: no transaction-only clients (`txnClients: 0`;
// they were added later and change the seed's schedule). It failed (not-linearizable) before.

test('passive seed 921: a new leader waits for the slots its promises held before serving transactions', async (t) => {
  const seed = 921;
  t.log(`seed ${seed}, mode passive, txnClients 0`);
  const r = await runScenario({ ...scenarioOptions({ seed, mode: 'passive' }), txnClients: 0 });
  t.log(r.check.verdict);
  t.true(
    // An episode's line, not the plan's header (which names every kind the nemesis may draw).
    r.faults.some((f) => / start leader-handover /.test(f)),
    'the schedule still contains the fault that found it',
  );
  t.is(r.check.verdict, 'linearizable');
  t.true(r.ok, r.failures.join('; '));
});
