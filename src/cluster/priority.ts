import { pairKey, type NetworkConfig } from '../net/model.js';

/**
 * Regions in failover order for a client homed in `home`: home first, then by latency, then by
 * name. Computed once from the starting network (plan.ts): setNetwork does not reorder it.
 */
export function regionPriority(home: string, regions: string[], network: NetworkConfig): string[] {
  const latency = (other: string): number => {
    if (other === home) return -1;
    for (const [key, ms] of Object.entries(network.latencyMs ?? {})) {
      const [a, b] = key.split('~') as [string, string];
      if (pairKey(a, b) === pairKey(home, other)) return ms;
    }
    return network.defaultLatencyMs ?? 0;
  };
  return [...regions].sort((a, b) => latency(a) - latency(b) || regions.indexOf(a) - regions.indexOf(b));
}
