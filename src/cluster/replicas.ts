import type { ResolvedConfig } from './config.js';
import type { ServerParams } from './server.js';
import type { Topology } from './topology.js';

/** How often a server reports its load to its heartbeat actor, relative to the heartbeat. */
export const LOAD_REPORTS_PER_HEARTBEAT = 1;

export function serverParams(config: ResolvedConfig, topology: Topology, id: string, region: string): ServerParams {
  const hb = config.heartbeat as { intervalMs: number };
  return { id, region, topology, loadIntervalMs: Math.max(1, hb.intervalMs / LOAD_REPORTS_PER_HEARTBEAT) };
}
