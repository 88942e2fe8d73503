import test from 'ava';
import { runBankScenario, runScenario } from '../src/harness/scenario.js';

/** The same fault scenarios on real worker threads (not reproducible by seed; a few runs). */
for (const [seed, mode] of [
  [11, 'active'],
  [12, 'passive'],
] as const) {
  test(`threads: ${mode} replication stays linearizable under faults (seed ${seed} for the fault plan)`, async (t) => {
    const r = await runScenario({ seed, mode, transport: 'threads', faultMs: 2_500 });
    t.log(`${r.operations} operations; faults: ${r.faults.join('; ')}`);
    t.true(r.check.ok, JSON.stringify(r.check.violations.map((v) => ({ key: v.key, ops: v.ops }))));
    t.true(r.live, 'every client completed operations after healing');
  });
}

test('threads: 2PC keeps the bank total under crashes and partitions', async (t) => {
  const r = await runBankScenario({ seed: 21, mode: 'active', commit: '2pc', transport: 'threads', faultMs: 2_500 });
  t.log(`committed ${r.committed}, aborted ${r.aborted}, unknown ${r.unknown}; faults: ${r.faults.join('; ')}`);
  t.is(r.total, r.expected);
});
