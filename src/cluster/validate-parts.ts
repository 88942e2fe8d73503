import { ConfigError } from '../core/errors.js';
import { validateBalancerConfig as validateBalancer, type BalancerConfig as ResolvedBalancer } from '../balance/validate.js';
import { validateHeartbeatConfig as validateHeartbeat, type HeartbeatConfig as ResolvedHeartbeat } from '../liveness/validate.js';

export type { ResolvedBalancer, ResolvedHeartbeat };

/** The balancer section, checked by the balance layer, then against this cluster's servers and regions. */
export function validateBalancerConfig(raw: unknown, servers: Set<string>, regions: Set<string>): ResolvedBalancer {
  const resolved = validateBalancer(raw, 'balancer');
  for (const id of Object.keys(resolved.weights)) {
    if (!servers.has(id)) throw new ConfigError(`balancer.weights["${id}"]`, 'a server id of this cluster (region/index, index from 0)', id);
  }
  resolved.locality.priority.forEach((level, i) => {
    for (const region of level) {
      if (!regions.has(region))
        throw new ConfigError(
          `balancer.locality.priority[${i}]`,
          `regions of this cluster (${[...regions].join(', ')})`,
          `unknown region ${JSON.stringify(region)}`,
        );
    }
  });
  return resolved;
}

export function validateHeartbeatConfig(raw: unknown): ResolvedHeartbeat {
  return validateHeartbeat(raw, 'heartbeat');
}
