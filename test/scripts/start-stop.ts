/**
 * Starts a cluster, uses it, stops it, for each TRANSPORT/PLACEMENT on its command line in
 * turn ('stopped' and its name after each); the process must then exit by itself. Given
 * `--misuse` first, with-cluster-misuse.ts's calls run before (one process for both scripts).
 */
import { startCluster } from '../../src/index.js';

const args = process.argv.slice(2);
if (args[0] === '--misuse') {
  args.shift();
  await import('./with-cluster-misuse.js');
}
for (const arg of args) {
  const [transport, placement] = arg.split('/') as ['threads' | 'sim', 'dedicated' | 'packed'];
  const cluster = await startCluster({
    regions: [
      { name: 'a', servers: 2 },
      { name: 'b', servers: 2 },
    ],
    transport,
    placement,
    // Long enough for the awaited calls on a loaded machine (500 ms timed out at load average 20).
    requestTimeoutMs: 5_000,
  });
  const client = cluster.client({ region: 'a' });
  await client.put('k', 1);
  await client.get('k');
  await cluster.crash('a/1');
  await cluster.restart('a/1');
  await cluster.partition(['a'], ['b']);
  void client.put('k2', 2).catch(() => undefined);
  await cluster.stop();
  console.log(`stopped ${arg}`);
}
