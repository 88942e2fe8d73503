import type { Cluster } from '../../src/cluster/cluster.js';
import { createPackr } from '../../src/core/codec.js';
import { crc32js, parseLog } from '../../src/runtime/durable.js';
import type { SimRuntime } from '../../src/runtime/transports/sim-runtime.js';

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
