import { validateConfig } from '../../src/cluster/config.js';
import { planCluster } from '../../src/cluster/plan.js';
import type { ServerParams } from '../../src/cluster/server.js';
import { validateBalancerConfig, validateHeartbeatConfig } from '../../src/cluster/validate-parts.js';

/**
 * The params the cluster's plan gives server `id` of one region of `servers` servers, active
 * replication of `factor`, `shards` shards (sim, seed 1): for tests that drive a server's
 * behaviour by hand.
 */
export function serverParams(id: string, layout: { servers: number; factor: number; shards: number }): ServerParams {
  const config = validateConfig(
    {
      regions: [{ name: 'r1', servers: layout.servers }],
      replication: { mode: 'active', factor: layout.factor },
      shards: layout.shards,
      transport: 'sim',
      seed: 1,
    },
    { balancer: validateBalancerConfig, heartbeat: validateHeartbeatConfig, cores: 2, randomSeed: () => 1 },
  );
  for (const plan of planCluster(config).plans) for (const spec of plan.specs) if (spec.address === id) return spec.params as ServerParams;
  throw new Error(`no plan for ${id}`);
}
