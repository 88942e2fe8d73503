/**
 * `meridian check --balancer drawn` (ScenarioOptions.balancer): each seed's balancer section is
 * drawn from its own stream, and every draw must be one a user could write: the cluster's own
 * validation takes it for the shape the seed runs, and the draws reach every strategy and each
 * choice of outlier ejection. Runs of the default balancer are what they were before the flag
 * existed (no section: the trace hashes of test/check-cli's --trace test are unchanged).
 */
import test from 'ava';
import { BALANCER_CHOICES, drawBalancer, drawShape, runScenario } from '../src/harness/scenario.js';
import { validateBalancerConfig } from '../src/cluster/validate-parts.js';
import { serverId } from '../src/cluster/topology.js';
import { STRATEGY_NAMES } from '../src/balance/types.js';

const SEEDS = 2_000;

test(`drawn balancer sections of seeds 1..${SEEDS} (each with its drawn shape) pass the cluster's validation, reach every strategy and every outlier choice, and a seed draws the same twice`, (t) => {
  const strategies = new Set<string>();
  const outliers = new Set<string>();
  let weighted = 0;
  let locality = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const shape = drawShape(seed);
    const regions = Array.from({ length: shape.regions }, (_, i) => `r${i + 1}`);
    const b = drawBalancer(seed, 'drawn', regions, shape.servers);
    if (b === undefined) return t.fail(`seed ${seed}: no section`);
    t.deepEqual(drawBalancer(seed, 'drawn', regions, shape.servers), b, `seed ${seed}`);
    const servers = new Set(regions.flatMap((r) => Array.from({ length: shape.servers }, (_, i) => serverId(r, i))));
    t.notThrows(() => validateBalancerConfig(b, servers, new Set(regions)), `seed ${seed}: ${JSON.stringify(b)}`);
    strategies.add(b.strategy!);
    outliers.add(b.outlier === undefined ? 'default' : b.outlier === false ? 'off' : 'drawn');
    if (b.weights !== undefined) weighted++;
    if (b.locality !== undefined) locality++;
  }
  t.deepEqual([...strategies].sort(), [...STRATEGY_NAMES].sort());
  t.deepEqual([...outliers].sort(), ['default', 'drawn', 'off']);
  t.log(`${SEEDS} seeds: ${weighted} with weights, ${locality} with zone-aware routing`);
  t.true(weighted > 0 && locality > 0);
});

test('round-robin leaves the section out; any other strategy is named alone; a bad choice names the field', async (t) => {
  t.is(drawBalancer(1, 'round-robin', ['r1'], 1), undefined);
  for (const c of BALANCER_CHOICES) if (c !== 'drawn' && c !== 'round-robin') t.deepEqual(drawBalancer(1, c, ['r1'], 1), { strategy: c });
  await t.throwsAsync(runScenario({ seed: 1, mode: 'active', balancer: 'fastest' as never }), { message: /balancer.*round-robin.*drawn.*fastest/ });
});
