import test from 'ava';
import { runScenario } from '../src/harness/scenario.js';
import { seedRange } from './helpers/seeds.js';

/**
 * Seeded fault-injection runs (crashes, restarts, partitions one-way and two-way, loss,
 * duplication, jitter, concurrent clients), then the linearizability checker over the
 * recorded history; after healing, every client must complete operations (liveness).
 */
for (const mode of ['active', 'passive', 'hybrid'] as const) {
  test(`sim: ${mode} replication stays linearizable and live under faults`, async (t) => {
    const seeds = seedRange(80, mode === 'active' ? 0 : mode === 'passive' ? 1000 : 2000);
    t.log(`seeds ${seeds[0]}..${seeds[seeds.length - 1]}`);
    const failures: string[] = [];
    let operations = 0;
    for (const seed of seeds) {
      const r = await runScenario({ seed, mode });
      operations += r.operations;
      if (!r.ok) {
        const where = r.check.violations.map((v) => `${v.key}: ${v.ops.map((o) => `${o.kind}(${JSON.stringify(o.input ?? null)})=${JSON.stringify(o.output ?? null)}`).join(', ')}`).join('; ');
        failures.push(`seed ${seed}: ${r.live ? '' : 'not live; '}${r.check.verdict} ${where}`);
      }
    }
    t.log(`${seeds.length} runs, ${operations} operations checked`);
    t.deepEqual(failures, [], `failing seeds (replay: meridian check --seed S --mode ${mode} --trace)`);
  });
}

/** The same runs must catch deliberately broken variants: otherwise they prove nothing. */
for (const [mode, unsafe] of [['passive', 'ack-before-chosen'], ['active', 'amnesia']] as const) {
  test(`sim: the fault runs catch a broken variant (${mode}, ${unsafe})`, async (t) => {
    const seeds = seedRange(60, 3000);
    const caught: number[] = [];
    for (const seed of seeds) {
      const r = await runScenario({ seed, mode, unsafe });
      if (!r.check.ok) caught.push(seed);
    }
    t.log(`seeds ${seeds[0]}..${seeds[seeds.length - 1]}: violations found with seeds ${caught.join(', ')}`);
    t.true(caught.length > 0, `no run caught the ${unsafe} variant`);
  });
}
