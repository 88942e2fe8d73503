/**
 * How long one put at a time takes against the idle gap before it, on a warm cluster: the
 * replication suite's shape (3 regions x 3 servers, threads packed on 2, 0 ms network,
 * batch 1), 2 s of load with 500 calls in flight to warm the code, then for each gap 100
 * puts, each after sleeping that long, and the p50 in microseconds.
 *
 * The replication suite spaces its isolated puts 15 ms apart (more than a replication tick,
 * so that nothing is shared between them); on the 2-core development machine the same puts
 * 1 ms apart took half as long: after a few idle milliseconds, waking the threads is most of
 * a lone put's latency.
 *
 * Run: node dist/bench/lone-put-gaps.js [none|active|passive|hybrid] (--help: the usage)
 */
import { performance } from 'node:perf_hooks';
import { startCluster, type ReplicationMode } from '../src/index.js';
import { baseConfig, clientsOf, closedLoop } from './lib/cluster-load.js';
import { oneOf, scriptArgs } from './lib/script-args.js';
import { percentile } from './lib/stats.js';

const MODES: readonly ReplicationMode[] = ['none', 'active', 'passive', 'hybrid'];
const USAGE = `usage: node dist/bench/lone-put-gaps.js [MODE]
  MODE   the replication mode: ${MODES.join(', ')} (default active)
  --help this text`;
/** Gaps before each put, ms, in the order run (15 and 5 again at the end: the drift). */
const GAPS_MS = [1, 3, 5, 10, 15, 30, 15, 5] as const;
const PUTS_PER_GAP = 100;
const WARM_UP_MS = 2_000;

async function main(): Promise<void> {
  const mode = scriptArgs('lone-put-gaps', USAGE, process.argv.slice(2), (args) => oneOf(args, 'MODE', MODES, 'active'));
  const config = baseConfig({ transport: 'threads', placement: 'packed', threads: 2 }, 7, 0);
  config.replication = { mode, factor: mode === 'none' ? 1 : 3, batch: 1 };
  const cluster = await startCluster(config);
  try {
    const clients = clientsOf(cluster, 12);
    await closedLoop({
      window: 500,
      total: Number.MAX_SAFE_INTEGER,
      durationMs: WARM_UP_MS,
      call: (i, w) => clients[w % clients.length]!.put(`w${i % 5_000}`, i),
    });
    const cells: string[] = [];
    for (const gap of GAPS_MS) {
      const us: number[] = [];
      for (let i = 0; i < PUTS_PER_GAP; i++) {
        await new Promise((resolve) => setTimeout(resolve, gap));
        const t0 = performance.now();
        await clients[i % clients.length]!.put(`iso-${gap}-${i}`, i);
        us.push((performance.now() - t0) * 1_000);
      }
      cells.push(`${gap} ms: ${percentile(us, 50).toFixed(0)}`);
    }
    console.log(`lone put p50, us, by the idle gap before it (${mode}): ${cells.join(', ')}`);
  } finally {
    await cluster.stop();
  }
}

await main();
