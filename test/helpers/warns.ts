import type { Cluster } from '../../src/index.js';

/** The cluster's 'warn' events from the call on, each as "address: message" (a test that no message was dropped as too large, ...). */
export function warnsOf(cluster: Cluster): string[] {
  const warns: string[] = [];
  cluster.on('warn', (e) => warns.push(`${e.address}: ${e.message}`));
  return warns;
}
