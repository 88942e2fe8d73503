import { performance } from 'node:perf_hooks';
import { startCluster } from '../../src/index.js';
import type { ClusterConfig, RegionConfig } from '../../src/index.js';
import { retried, withTimeout } from './wait.js';

/** Names `r0`, `r1`, ... each with `servers` servers. */
export function regions(count: number, servers: number): RegionConfig[] {
  return Array.from({ length: count }, (_, i) => ({ name: `r${i}`, servers }));
}

export interface BootTiming {
  /** startCluster() called until it resolved. */
  bootMs: number;
  /** startCluster() called until one put and one get through a client were answered. */
  answerMs: number;
  /** cluster.stop() called until it resolved. */
  stopMs: number;
  /** Tries of the put and the get that failed unanswered and were made again (retried): answerMs includes them. */
  retries: number;
}

/**
 * Starts a cluster, sends one put and one get through a client, checks the answer, stops it.
 * The same key and value every time: the figure is the path, not the data. A put or get that
 * fails unanswered is tried again (retried), as a busy machine's new cluster may hold a server
 * down with the first request in flight.
 */
export async function bootAndAnswer(config: ClusterConfig): Promise<BootTiming> {
  const t0 = performance.now();
  const cluster = await withTimeout(startCluster(config), 'startCluster');
  const booted = performance.now();
  let answered: number;
  let retries: number;
  try {
    const client = cluster.client({ region: config.regions[0]!.name });
    const put = await retried(() => withTimeout(client.put('bench-key', 42), 'first put'));
    const get = await retried(() => withTimeout(client.get('bench-key'), 'first get'));
    if (get.value !== 42) throw new Error(`boot check: get returned ${JSON.stringify(get.value)}, expected 42`);
    answered = performance.now();
    retries = put.retries + get.retries;
  } finally {
    // Stopped on failure too: a failed check must not leave threads behind.
    await cluster.stop();
  }
  return { bootMs: booted - t0, answerMs: answered - t0, stopMs: performance.now() - answered, retries };
}

/** Only startCluster() to resolved, then stop. */
export async function bootOnly(config: ClusterConfig): Promise<{ bootMs: number; stopMs: number }> {
  const t0 = performance.now();
  const cluster = await withTimeout(startCluster(config), 'startCluster');
  const booted = performance.now();
  await cluster.stop();
  return { bootMs: booted - t0, stopMs: performance.now() - booted };
}
