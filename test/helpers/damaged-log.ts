import type { Cluster } from '../../src/cluster/cluster.js';
import type { ClusterConfig } from '../../src/cluster/config.js';
import { createPackr } from '../../src/core/codec.js';
import { crc32js, parseLog } from '../../src/runtime/durable.js';
import type { SimRuntime } from '../../src/runtime/transports/sim-runtime.js';

/** A simulated cluster of three regions, one server each, every shard on all three: the damaged-log tests' (seed 7). */
export const DAMAGED_LOG_CLUSTER: ClusterConfig = {
  regions: [
    { name: 'a', servers: 1 },
    { name: 'b', servers: 1 },
    { name: 'c', servers: 1 },
  ],
  transport: 'sim',
  seed: 7,
  replication: { mode: 'active', factor: 3 },
  requestTimeoutMs: 2_000,
};

/** Crash `id` of a simulated cluster, damage its log in the middle (whole records after the bad byte), restart it. */
export async function restartDamaged(cluster: Cluster, id: string): Promise<void> {
  await cluster.crash(id);
  const store = (cluster.internals.runtime as SimRuntime).world.durable;
  const bytes = store.bytesOf(id);
  // The last byte of a record in the first half: whole records follow it.
  const cut = parseLog(createPackr(), bytes.subarray(0, bytes.length >> 1), crc32js).validBytes;
  store.corrupt(id, cut - 1);
  await cluster.restart(id);
}
