import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster } from '../src/index.js';

/**
 * A real Prometheus scrapes a cluster's metrics endpoint and answers a query with the value
 * the cluster reports. Runs only when MERIDIAN_PROMETHEUS_BIN names the prometheus binary
 * (CI: `MERIDIAN_PROMETHEUS_BIN=$(bash scripts/ci-prometheus.sh | tail -1)`); everything
 * listens on 127.0.0.1 only.
 */

const bin = process.env.MERIDIAN_PROMETHEUS_BIN;
/** How long Prometheus may take to start, scrape and answer; then the test fails. */
const WAIT_MS_MAX = 30_000;
const POLL_MS = 250;

/** A free loopback port: bind port 0, read it, let it go (Prometheus takes it a moment later). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

interface QueryResult {
  status: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

if (bin === undefined || bin === '') {
  test.skip('a real Prometheus scrapes the metrics endpoint (skipped: set MERIDIAN_PROMETHEUS_BIN to the prometheus binary, e.g. after scripts/ci-prometheus.sh)', () => {});
} else {
  test('a real Prometheus scrapes the metrics endpoint and its query API returns the values', async (t) => {
    const cluster = await startCluster({
      regions: [{ name: 'us-east', servers: 2 }, { name: 'eu-west', servers: 1 }],
      transport: 'sim',
      seed: 21,
      replication: { mode: 'active', factor: 2 },
    });
    const dir = mkdtempSync(join(tmpdir(), 'meridian-prometheus-'));
    let child: ChildProcess | undefined;
    let log = '';
    try {
      const client = cluster.client({ region: 'us-east' });
      const puts = 17;
      for (let i = 0; i < puts; i++) await client.put(`p${i}`, i);
      const endpoint = await cluster.serveMetrics({ host: '127.0.0.1', port: 0 });
      const target = new URL(endpoint.url);

      const port = await freePort();
      const config = join(dir, 'prometheus.yml');
      writeFileSync(
        config,
        [
          'global:',
          '  scrape_interval: 1s',
          '  scrape_timeout: 1s',
          '  evaluation_interval: 1s',
          'scrape_configs:',
          '  - job_name: meridian',
          `    metrics_path: ${target.pathname}`,
          '    static_configs:',
          `      - targets: ['${target.host}']`,
          '',
        ].join('\n'),
      );
      child = spawn(bin, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      const exited = new Promise<string>((resolve) => child!.once('exit', (code, signal) => resolve(`prometheus exited early (${code ?? signal})`)));

      const query = 'meridian_client_operations_total{op="put",outcome="ok"}';
      const api = `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`;
      const deadline = Date.now() + WAIT_MS_MAX;
      let last = 'no answer yet';
      let value: string | undefined;
      while (value === undefined && Date.now() < deadline) {
        const early = await Promise.race([exited, sleep(POLL_MS).then(() => undefined)]);
        if (early !== undefined) {
          last = early;
          break;
        }
        try {
          const res = await fetch(api);
          const body = (await res.json()) as QueryResult;
          last = JSON.stringify(body);
          const series = body.data?.result ?? [];
          if (body.status === 'success' && series.length > 0) value = series[0]!.value[1];
        } catch (error) {
          last = String(error); // Not listening yet.
        }
      }
      t.log(`query ${query}: ${last}`);
      t.is(value, String(puts), `Prometheus's answer: ${last}\n--- prometheus log ---\n${log.slice(-3_000)}`);

      // The histogram came through too, with the same count.
      const count = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('meridian_client_latency_seconds_count{op="put"}')}`);
      const countBody = (await count.json()) as QueryResult;
      t.is(countBody.data?.result[0]?.value[1], String(puts), JSON.stringify(countBody));
      const up = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('up{job="meridian"}')}`);
      t.is(((await up.json()) as QueryResult).data?.result[0]?.value[1], '1', 'the target is up');
    } finally {
      if (child !== undefined) await stopChild(child);
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
