import { GroupReplica, type GroupConfig } from '../../src/replication/group.js';

/** A passive replica of `shard` among `peers`, with a fresh log and small timings (unit tests drive it by hand). */
export function passiveReplica(self: string, peers: string[], shard = 0, overrides: Partial<GroupConfig> = {}): GroupReplica {
  return new GroupReplica(
    {
      shard,
      self,
      peers,
      mode: 'passive',
      sync: true,
      lagBound: 10,
      electionTicks: 10,
      heartbeatTicks: 3,
      maxBatch: 4,
      maxInflight: 4,
      snapshotEvery: 100,
      seed: 1,
      ...overrides,
    },
    [],
  );
}
