import { hashString } from '../core/prng.js';
import type { RegionConfig, ResolvedConfig } from './config.js';

/**
 * Names and placement of everything in the cloud. Pure and deterministic, so every thread
 * computes the same answer from the same config.
 *
 * Addresses: a server `us-east/0` (node `us-east/0`), its heartbeat `us-east/0/hb` (same
 * node), the region actor `us-east` (node `us-east`), the region's coordinator
 * `coordinator/us-east` (node `us-east`), the region's balancer `balancer/us-east` (node
 * `front`: it lives with the clients), clients `client/us-east/<id>`.
 */
export interface Topology {
  regions: RegionConfig[];
  shards: number;
  factor: number;
  mode: 'none' | 'passive' | 'active' | 'hybrid';
}

export function serverId(region: string, index: number): string {
  return `${region}/${index}`;
}

export function heartbeatAddress(server: string): string {
  return `${server}/hb`;
}

export function balancerAddress(region: string): string {
  return `balancer/${region}`;
}

export function coordinatorAddress(region: string): string {
  return `coordinator/${region}`;
}

export function regionOfServer(server: string): string {
  return server.slice(0, server.indexOf('/'));
}

export function allServers(topology: Pick<Topology, 'regions'>): string[] {
  const out: string[] = [];
  for (const r of topology.regions) for (let i = 0; i < r.servers; i++) out.push(serverId(r.name, i));
  return out;
}

export function topologyOf(config: ResolvedConfig): Topology {
  return { regions: config.regions, shards: config.shards, factor: config.replication.factor, mode: config.replication.mode };
}

export function shardOf(key: string, shards: number): number {
  return hashString(key) % shards;
}

/**
 * The servers holding a shard: `factor` servers, each in a different region while regions
 * last (then again round the regions, on other servers). The first is the shard's preferred
 * leader / primary. A region with no server left for its turn passes it to the next region
 * that has one, so a group is always `factor` servers (config validation keeps `factor` at
 * most the cluster's servers). With regions of equal size no region ever runs out, and the
 * groups are those this rule always gave; before (audit, session 59) a region that ran out
 * was skipped, and regions of 1, 1 and 3 servers at factor 5 made groups of 3 and 4.
 */
export function replicasOf(shard: number, topology: Topology): string[] {
  const { regions, factor } = topology;
  const out: string[] = [];
  const r = regions.length;
  const first = Math.floor(shard / r);
  for (let k = 0; k < factor; k++) {
    const lap = Math.floor(k / r);
    // This turn's region first, then the regions after it, until one has a server free.
    for (let d = 0; d < r; d++) {
      const region = regions[(shard + k + d) % r]!;
      const index = (first + lap) % region.servers;
      const free = freeServerOf(region, index, out);
      if (free !== undefined) {
        out.push(free);
        break;
      }
    }
  }
  return out;
}

/** The first server of `region` from `index` on (round its servers) not in `taken`. */
function freeServerOf(region: RegionConfig, index: number, taken: readonly string[]): string | undefined {
  for (let j = 0; j < region.servers; j++) {
    const id = serverId(region.name, (index + j) % region.servers);
    if (!taken.includes(id)) return id;
  }
  return undefined;
}

/**
 * The servers that replicate a shard synchronously (its Paxos group; one server in mode
 * 'none'). Hybrid keeps the group inside the shard's home region: `factor` of its servers.
 * The config refuses a hybrid factor above a home region's servers (replicationFactorMax); the
 * bound here is for a `dataDir` folder recorded before it did, whose groups it names as then.
 */
export function groupOf(shard: number, topology: Topology): string[] {
  if (topology.mode === 'none') return replicasOf(shard, topology).slice(0, 1);
  if (topology.mode !== 'hybrid') return replicasOf(shard, topology);
  const r = topology.regions.length;
  const home = topology.regions[shard % r]!;
  const count = Math.min(topology.factor, home.servers);
  const first = Math.floor(shard / r);
  return Array.from({ length: count }, (_, j) => serverId(home.name, (first + j) % home.servers));
}

/** Hybrid: one asynchronous learner of the shard in every region but its home. */
export function learnersOf(shard: number, topology: Topology): string[] {
  if (topology.mode !== 'hybrid') return [];
  const r = topology.regions.length;
  const home = topology.regions[shard % r]!;
  const first = Math.floor(shard / r);
  return topology.regions.filter((x) => x.name !== home.name).map((x) => serverId(x.name, first % x.servers));
}

/** Shards whose group includes `server`. */
export function groupShardsOf(server: string, topology: Topology): number[] {
  const out: number[] = [];
  for (let s = 0; s < topology.shards; s++) if (groupOf(s, topology).includes(server)) out.push(s);
  return out;
}

/** Shards `server` learns asynchronously (hybrid). */
export function learnerShardsOf(server: string, topology: Topology): number[] {
  const out: number[] = [];
  for (let s = 0; s < topology.shards; s++) if (learnersOf(s, topology).includes(server)) out.push(s);
  return out;
}

/** The server a shard prefers as its leader: the owner of `key` in mode 'none', the first replica otherwise. */
export function preferredServerOf(key: string, topology: Topology): string {
  return groupOf(shardOf(key, topology.shards), topology)[0]!;
}
