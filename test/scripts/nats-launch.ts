/**
 * Starts a cluster over NATS (URL in argv[2], its data directory in argv[3]), prints its host
 * processes' pids as one JSON line, then waits to be killed: what a caller interrupted before
 * stop() leaves behind. The caller removes the data directory (a killed launcher cannot).
 */
import { startCluster } from '../../src/index.js';
import type { NatsRuntime } from '../../src/runtime/transports/nats.js';

const cluster = await startCluster({
  regions: [
    { name: 'a', servers: 1 },
    { name: 'b', servers: 1 },
  ],
  transport: 'nats',
  nats: { servers: process.argv[2]!, processes: 2 },
  requestTimeoutMs: 2_000,
  dataDir: process.argv[3]!,
});
await cluster.client({ region: 'a' }).put('k', 1);
const runtime = cluster.internals.runtime as NatsRuntime;
console.log(JSON.stringify(runtime.processes().map((p) => p.pid)));
setInterval(() => undefined, 1_000);
