/**
 * Where a put's CPU goes, thread by thread: the replication suite's throughput shape (3
 * regions x 3 servers packed on 2 worker threads, 12 clients, 500 calls in flight, batch 64,
 * 0 ms network, history off), 2 s of warm-up, then 3 s measured. Prints CPU microseconds
 * per put for the calling thread (clients, balancers, the driver), each worker thread (the
 * servers), and the threads that were there before the cluster started: V8's platform
 * threads (parallel and concurrent GC, concurrent compilation, shared by every isolate of the
 * process) and libuv's. The total is process.cpuUsage() over the same 3 s.
 *
 * Linux only (it reads /proc/self/task/<tid>/stat). The OS counts thread CPU in clock ticks
 * (10 ms), so a thread's figure is good to about 10 ms / puts.
 *
 * Run: node dist/bench/thread-cpu.js [none|active|passive|hybrid] (--help: the usage)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { startCluster, type ReplicationMode } from '../src/index.js';
import { baseConfig, clientsOf, closedLoop } from './lib/cluster-load.js';
import { oneOf, SCRIPT_USAGE_STATUS, scriptArgs } from './lib/script-args.js';

const MODES: readonly ReplicationMode[] = ['none', 'active', 'passive', 'hybrid'];
const USAGE = `usage: node dist/bench/thread-cpu.js [MODE]
  MODE   the replication mode: ${MODES.join(', ')} (default active)
  --help this text`;
const CLIENTS = 12;
const WINDOW = 500;
const KEYS = 5_000;
const WARM_UP_MS = 2_000;
const MEASURED_MS = 3_000;
/** Clock ticks per second of /proc's utime and stime (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

/** CPU milliseconds so far of each thread of this process, by thread id. */
function threadCpuMs(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    let line: string;
    try {
      line = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // The thread ended between the listing and the read.
    }
    // Fields after the command name (which may hold spaces), from the state on: utime is the 12th, stime the 13th.
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S);
  }
  return out;
}

async function main(): Promise<void> {
  const mode = scriptArgs('thread-cpu', USAGE, process.argv.slice(2), (args) => oneOf(args, 'MODE', MODES, 'active'));
  if (!existsSync('/proc/self/task')) {
    process.stderr.write('bench thread-cpu: it reads /proc/self/task (Linux only), which is not here\n');
    process.exit(SCRIPT_USAGE_STATUS);
  }
  // libuv starts its thread pool on the first asynchronous file call: before the snapshot, so
  // that the threads new after it are the cluster's workers.
  await stat('.');
  const before = new Set(threadCpuMs().keys());
  const config = baseConfig({ transport: 'threads', placement: 'packed', threads: 2 }, 7, 0);
  config.replication = { mode, factor: mode === 'none' ? 1 : 3, batch: 64 };
  config.history = false;
  const cluster = await startCluster(config);
  try {
    const clients = clientsOf(cluster, CLIENTS);
    const put = (i: number, w: number): Promise<void> => clients[w % CLIENTS]!.put(`k${i % KEYS}`, i);
    await closedLoop({ window: WINDOW, total: Number.MAX_SAFE_INTEGER, durationMs: WARM_UP_MS, call: put });
    const t0 = threadCpuMs();
    const c0 = process.cpuUsage();
    const run = await closedLoop({ window: WINDOW, total: Number.MAX_SAFE_INTEGER, durationMs: MEASURED_MS, call: put });
    const c = process.cpuUsage(c0);
    const t1 = threadCpuMs();
    const us = (ms: number): string => ((ms * 1000) / run.calls).toFixed(1);
    let main = 0;
    const workers: number[] = [];
    let platform = 0;
    for (const [tid, ms] of t1) {
      const spent = ms - (t0.get(tid) ?? 0);
      if (tid === process.pid) main = spent;
      else if (before.has(tid)) platform += spent;
      else workers.push(spent);
    }
    console.log(
      `thread-cpu (${mode}; 3x3 packed on 2 threads, ${CLIENTS} clients, window ${WINDOW}, batch 64, ${run.calls} puts in ${MEASURED_MS / 1000} s, ${Math.round(run.okPerSec)} ok/s):` +
        ` CPU us per put: total ${((((c.user + c.system) / 1000) * 1000) / run.calls).toFixed(1)};` +
        ` calling thread ${us(main)}; ${workers.length} worker threads ${workers.map(us).join(' + ')};` +
        ` V8 platform and libuv threads ${us(platform)}`,
    );
  } finally {
    await cluster.stop();
  }
}

await main();
