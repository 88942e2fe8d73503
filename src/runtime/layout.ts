import type { RegionConfig, ReplicationMode } from './validate.js';

/**
 * What decides where a key's data lives: its shard (`shards`), and the servers holding that
 * shard (the regions in order, and their servers; see replicasOf). The replication factor and
 * mode are not in it: a shard's first replica stays where it was. A cluster with a data
 * directory records it there (`meridian-layout.json`, cluster/data-dir.ts), with the mode and
 * factor beside it and each shard's Paxos group they placed (which may not change on a folder),
 * and a NATS launcher sends it, and them, to each host in its assignment (a `meridian host
 * --data-dir` folder records both).
 */
export interface ClusterLayout {
  shards: number;
  regions: RegionConfig[];
}

/** The layout of a cluster's config (or of anything with its `shards` and `regions`): those fields only, copied. */
export function clusterLayout(of: { readonly shards: number; readonly regions: readonly RegionConfig[] }): ClusterLayout {
  return { shards: of.shards, regions: of.regions.map((r) => ({ name: r.name, servers: r.servers })) };
}

/**
 * The replication settings a data directory records beside its layout: what decides each
 * shard's Paxos group (groupOf), whose majority holds every write it acknowledged.
 */
export interface ReplicationRecord {
  mode: ReplicationMode;
  factor: number;
}
