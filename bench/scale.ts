/**
 * scale: how cost grows with the work. Throughput and memory as regions, servers and clients
 * grow (up to 1,000 servers packed on threads, 10,000 in sim), and the simulator's speed in
 * simulated seconds per real second. Each size is set beside the raw transport baseline of
 * the same run.
 */
import { performance } from 'node:perf_hooks';
import { startCluster, type ClusterConfig } from '../src/index.js';
import { regions } from './lib/boot.js';
import { measureRaw } from './lib/raw-pair.js';
import { logger, modeOf, type Chart, type SuiteOptions, type SuiteResult } from './lib/suite.js';
import { formatTable } from './lib/table.js';
import { loadAverage, loadNote } from './lib/machine.js';
import { withTimeout } from './lib/wait.js';
import { BYTES_PER_MB } from './lib/stats.js';
import { mixedLoop } from './lib/cluster-load.js';
import { natsServerBinary, natsServerFailure, startNatsServer } from '../src/harness/nats-server.js';

const SIZES = {
  tiny: { threads: [{ regions: 2, servers: 2 }], clients: [2, 8], sim: [{ regions: 2, servers: 5 }], loadMs: 200, simMs: 500 },
  quick: {
    threads: [
      { regions: 3, servers: 3 },
      { regions: 10, servers: 100 },
    ],
    clients: [4, 32, 128],
    sim: [
      { regions: 10, servers: 10 },
      { regions: 10, servers: 1000 },
    ],
    loadMs: 600,
    simMs: 2_000,
  },
  full: {
    threads: [
      { regions: 3, servers: 3 },
      { regions: 10, servers: 10 },
      { regions: 10, servers: 100 },
    ],
    clients: [4, 16, 64, 256],
    sim: [
      { regions: 10, servers: 10 },
      { regions: 10, servers: 100 },
      { regions: 10, servers: 1000 },
    ],
    loadMs: 2_000,
    simMs: 5_000,
  },
};

/** The process's RSS in MB (10^6 bytes; MiB, named MB, until session 69). */
function rssMb(): number {
  return process.memoryUsage().rss / BYTES_PER_MB;
}

export async function run(opts: SuiteOptions): Promise<SuiteResult> {
  const mode = modeOf(opts);
  const sizes = SIZES[mode];
  const log = logger(opts);
  const loadAtStart = loadAverage();
  const raw = await measureRaw({ roundTrips: mode === 'tiny' ? 2_000 : 50_000, window: 500, reps: 1 });
  log(`raw baseline ${Math.round(raw.msgsPerS)} msgs/s`);
  const rows: string[][] = [];
  const throughput: Record<string, Record<string, number>> = {};
  const memory: Record<string, number> = {};
  // The table's failed column, beside each rate: the JSON had the rates only (found by an audit, session 60).
  const failed: Record<string, Record<string, number>> = {};
  const natsFailed: Record<string, number> = {};
  const simFailed: Record<string, number> = {};
  const lineSeries: Chart['series'] = [];
  for (const size of sizes.threads) {
    const servers = size.regions * size.servers;
    const config: ClusterConfig = {
      regions: regions(size.regions, size.servers),
      transport: 'threads',
      placement: 'packed',
      threads: 2,
      replication: { mode: 'active', factor: 3 },
      // Big clusters beat less often: 1,000 servers at 100 ms is 10k heartbeats a second.
      heartbeat: { intervalMs: servers > 100 ? 500 : 100 },
      history: false,
    };
    const before = rssMb();
    const t0 = performance.now();
    const cluster = await withTimeout(startCluster(config), `start ${servers} servers`, 60_000);
    const bootMs = performance.now() - t0;
    const points: Array<[number, number]> = [];
    try {
      await cluster.sleep(300);
      for (const clients of sizes.clients) {
        const start = performance.now();
        const r = await mixedLoop(cluster, clients, sizes.loadMs);
        const seconds = (performance.now() - start) / 1000;
        const rate = r.ops / seconds;
        points.push([clients, rate]);
        (throughput[`${servers}`] ??= {})[`${clients}`] = Math.round(rate);
        (failed[`${servers}`] ??= {})[`${clients}`] = r.failed;
        rows.push([
          `threads packed`,
          `${size.regions} x ${size.servers}`,
          String(clients),
          String(Math.round(rate)),
          String(r.failed),
          (rate / raw.msgsPerS).toFixed(4),
          bootMs.toFixed(0),
          (rssMb() - before).toFixed(0),
        ]);
        log(`threads ${servers} servers, ${clients} clients: ${Math.round(rate)} ops/s`);
      }
      memory[`threads_${servers}`] = Math.round(rssMb() - before);
    } finally {
      await cluster.stop();
    }
    lineSeries.push({ name: `${servers} servers (threads)`, points });
  }
  // The smallest threads size again over NATS: 3 host processes and a local nats-server.
  const natsThroughput: Record<string, number> = {};
  const natsBin = natsServerBinary();
  // A binary that does not start costs the NATS rows only, as a missing one does (as in the
  // transport suite): the suite failed, every figure it had measured lost.
  const natsServer = 'bin' in natsBin ? await startNatsServer(natsBin.bin).catch((error: unknown) => natsServerFailure(natsBin, error)) : natsBin.reason;
  if (typeof natsServer !== 'string') {
    const size = sizes.threads[0]!;
    const servers = size.regions * size.servers;
    const server = natsServer;
    try {
      const t0 = performance.now();
      const cluster = await withTimeout(
        startCluster({
          regions: regions(size.regions, size.servers),
          transport: 'nats',
          nats: { servers: server.url, processes: 3 },
          replication: { mode: 'active', factor: 3 },
          heartbeat: { intervalMs: 100 },
          history: false,
        }),
        `start ${servers} servers over NATS`,
        60_000,
      );
      const bootMs = performance.now() - t0;
      const points: Array<[number, number]> = [];
      try {
        await cluster.sleep(300);
        for (const clients of sizes.clients) {
          const start = performance.now();
          const r = await mixedLoop(cluster, clients, sizes.loadMs);
          const rate = r.ops / ((performance.now() - start) / 1000);
          points.push([clients, rate]);
          natsThroughput[`${clients}`] = Math.round(rate);
          natsFailed[`${clients}`] = r.failed;
          // rss: this (launcher) process only; the hosts are processes of their own.
          rows.push([
            'nats, 3 processes',
            `${size.regions} x ${size.servers}`,
            String(clients),
            String(Math.round(rate)),
            String(r.failed),
            (rate / raw.msgsPerS).toFixed(4),
            bootMs.toFixed(0),
            '-',
          ]);
          log(`nats 3 processes ${servers} servers, ${clients} clients: ${Math.round(rate)} ops/s`);
        }
      } finally {
        await cluster.stop();
      }
      lineSeries.push({ name: `${servers} servers (nats, 3 processes)`, points });
    } finally {
      await server.stop();
    }
  } else {
    log(`nats: skipped (${natsServer})`);
  }
  const simSpeed: Record<string, number> = {};
  for (const size of sizes.sim) {
    const servers = size.regions * size.servers;
    const before = rssMb();
    const t0 = performance.now();
    const cluster = await startCluster({
      regions: regions(size.regions, size.servers),
      transport: 'sim',
      seed: 1,
      replication: { mode: 'active', factor: 3 },
      heartbeat: { intervalMs: servers > 1000 ? 500 : 100 },
      history: false,
      network: { defaultLatencyMs: 10 },
    });
    const bootMs = performance.now() - t0;
    try {
      const start = performance.now();
      const r = await mixedLoop(cluster, 16, sizes.simMs);
      const realS = (performance.now() - start) / 1000;
      const speed = sizes.simMs / 1000 / realS;
      simSpeed[`${servers}`] = +speed.toFixed(3);
      simFailed[`${servers}`] = r.failed;
      memory[`sim_${servers}`] = Math.round(rssMb() - before);
      rows.push([
        `sim`,
        `${size.regions} x ${size.servers}`,
        '16',
        `${Math.round(r.ops / (sizes.simMs / 1000))} (virtual)`,
        String(r.failed),
        '-',
        bootMs.toFixed(0),
        (rssMb() - before).toFixed(0),
      ]);
      log(`sim ${servers} servers: ${speed.toFixed(2)} simulated s per real s`);
    } finally {
      await cluster.stop();
    }
  }
  const table = formatTable(
    ['transport', 'regions x servers', 'clients', 'ops/s', 'failed', 'ops / raw msgs', 'boot ms', 'rss +MB'],
    rows,
    `scale (${mode}); raw baseline ${Math.round(raw.msgsPerS)} msgs/s; sim speed in simulated s per real s: ${JSON.stringify(simSpeed)}; ${loadNote(loadAtStart)}`,
  );
  return {
    suite: 'scale',
    figures: {
      raw_msgs_per_s: Math.round(raw.msgsPerS),
      throughput_by_servers_and_clients: throughput,
      failed_by_servers_and_clients: failed,
      sim_failed_by_servers: simFailed,
      rss_mb: memory,
      sim_seconds_per_real_second: simSpeed,
      ...(Object.keys(natsThroughput).length === 0
        ? {}
        : { nats_3_processes_throughput_by_clients: natsThroughput, nats_3_processes_failed_by_clients: natsFailed }),
    },
    table,
    charts: [
      // Clients grow fourfold a step: a log x spaces the steps evenly.
      { title: 'throughput against clients', kind: 'line', xLabel: 'concurrent clients', yLabel: 'operations per second', xScale: 'log', series: lineSeries },
      {
        title: 'simulator speed',
        kind: 'bar',
        xLabel: 'servers',
        yLabel: 'simulated s per real s',
        series: [{ name: 'sim', points: Object.entries(simSpeed).map(([k, v]) => [k, v]) }],
      },
    ],
  };
}
