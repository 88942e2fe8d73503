/**
 * The balancer's per-server routed counters, for the balancing tests. Not a test file itself
 * (ava runs only *.test.js).
 */
import type { Cluster } from '../../src/index.js';

/** A region balancer's `routed:<server>` counters for every server of the cluster (0 if never routed). */
export async function routed(cluster: Cluster, region: string): Promise<Record<string, number>> {
  const stats = cluster.transport === 'sim' ? cluster.stats() : await cluster.collectStats();
  const counters = stats.actors[`balancer/${region}`]?.counters ?? {};
  const out: Record<string, number> = {};
  for (const r of cluster.config.regions) for (let i = 0; i < r.servers; i++) out[`${r.name}/${i}`] = counters[`routed:${r.name}/${i}`] ?? 0;
  return out;
}

/** Per server, `after` minus `before`. */
export function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of Object.keys(after)) out[id] = after[id]! - (before[id] ?? 0);
  return out;
}
