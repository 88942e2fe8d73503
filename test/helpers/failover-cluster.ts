import type { ClusterConfig } from '../../src/index.js';

/**
 * The failover audit's cluster (session 58): three regions of three servers, 40/90/70 ms apart
 * with 2 ms of jitter, active replication of factor 3, heartbeats every 100 ms, in the
 * simulator; `extra` adds fields or replaces them (a commit protocol, a balancer strategy).
 */
export function failoverConfig(seed: number, extra: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    regions: ['r0', 'r1', 'r2'].map((name) => ({ name, servers: 3 })),
    transport: 'sim',
    seed,
    network: { latencyMs: { 'r0~r1': 40, 'r0~r2': 90, 'r1~r2': 70 }, jitterMs: 2 },
    replication: { mode: 'active', factor: 3 },
    heartbeat: { intervalMs: 100 },
    ...extra,
  };
}
