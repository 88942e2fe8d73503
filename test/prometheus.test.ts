import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startCluster, type Cluster } from '../src/index.js';

/**
 * A real Prometheus scrapes a cluster's metrics endpoint and answers a query with the value
 * the cluster reports; every panel query of docs/grafana-dashboard.json returns data from it.
 * Runs only when MERIDIAN_PROMETHEUS_BIN names the prometheus binary
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
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

/** A Prometheus server scraping `cluster` every second, with its own config and data folder. */
interface Prometheus {
  query(expr: string): Promise<QueryResult>;
  /** Why it may have failed: whether it exited early, and the end of its log. */
  diagnose(): string;
  /** Resolves with a reason if Prometheus exits before `stop()`. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

/**
 * Tries to start Prometheus this many times. Its port is found free and then handed to it, so
 * another process (a test file running beside this one) may take the port in between; then
 * Prometheus exits with "bind: address already in use" and is started again on another port.
 */
const PROMETHEUS_START_TRIES = 5;

async function startPrometheus(cluster: Cluster, prometheusBin: string): Promise<Prometheus> {
  const endpoint = await cluster.serveMetrics({ host: '127.0.0.1', port: 0 });
  const target = new URL(endpoint.url);
  for (let attempt = 1; ; attempt++) {
    const started = await startPrometheusOnce(target, prometheusBin);
    if (!('portTaken' in started)) return started;
    if (attempt >= PROMETHEUS_START_TRIES) throw new Error(`prometheus did not start in ${PROMETHEUS_START_TRIES} tries; last: ${started.portTaken}`);
  }
}

/**
 * Starts Prometheus on a free port and waits until it answers there (its flags name this
 * start's config file, so the answer is not from another process that took the port) or exits.
 * An exit for a taken port comes back as `portTaken`; any other exit, or no answer within
 * WAIT_MS_MAX, throws with the log.
 */
async function startPrometheusOnce(target: URL, prometheusBin: string): Promise<Prometheus | { portTaken: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-prometheus-'));
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
  const child = spawn(prometheusBin, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`prometheus exited early (${code ?? signal})`)));
  /** Resolves once its output is read to the end too (`exit` may come before the last of it). */
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async (): Promise<void> => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + WAIT_MS_MAX;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/status/flags`, { signal: AbortSignal.timeout(1_000) });
      const body = res.ok ? ((await res.json()) as { data?: Record<string, string> }) : undefined;
      if (body?.data?.['config.file'] === config) break;
    } catch {
      // Not listening yet, or another process that took the port does not answer as Prometheus.
    }
    const early = await Promise.race([exited, sleep(POLL_MS).then(() => undefined)]);
    if (early !== undefined || Date.now() >= deadline) {
      await stop();
      await closed;
      const message = `${early ?? `prometheus did not answer within ${WAIT_MS_MAX} ms`} on 127.0.0.1:${port}\n--- prometheus log ---\n${log.slice(-3_000)}`;
      if (early !== undefined && log.includes('address already in use')) return { portTaken: message };
      throw new Error(message);
    }
  }

  return {
    async query(expr) {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return (await res.json()) as QueryResult;
    },
    diagnose: () => `--- prometheus log ---\n${log.slice(-3_000)}`,
    exited,
    stop,
  };
}

/**
 * Polls `expr` until `accept` takes Prometheus's answer, Prometheus exits, or WAIT_MS_MAX
 * passes. Returns the accepted answer (undefined if none) and the last thing seen. Asks first
 * and waits POLL_MS only after an answer not taken: once the data is there (most of the
 * dashboard's panels, asked one after another), a wait before each ask was only lost time.
 */
async function pollQuery(
  prometheus: Prometheus,
  expr: string,
  accept: (body: QueryResult) => boolean,
): Promise<{ body: QueryResult | undefined; last: string }> {
  const deadline = Date.now() + WAIT_MS_MAX;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const body = await prometheus.query(expr);
      last = JSON.stringify(body).slice(0, 2_000);
      if (accept(body)) return { body, last };
    } catch (error) {
      last = String(error); // Not listening yet.
    }
    const early = await Promise.race([prometheus.exited, sleep(POLL_MS).then(() => undefined)]);
    if (early !== undefined) return { body: undefined, last: early };
  }
  return { body: undefined, last };
}

if (bin === undefined || bin === '') {
  const why = '(skipped: set MERIDIAN_PROMETHEUS_BIN to the prometheus binary, e.g. after scripts/ci-prometheus.sh)';
  test.skip(`a real Prometheus scrapes the metrics endpoint ${why}`, () => {});
  test.skip(`every panel of the Grafana dashboard has data in a real Prometheus ${why}`, () => {});
} else {
  test('a real Prometheus scrapes the metrics endpoint and its query API returns the values', async (t) => {
    const cluster = await startCluster({
      regions: [
        { name: 'us-east', servers: 2 },
        { name: 'eu-west', servers: 1 },
      ],
      transport: 'sim',
      seed: 21,
      replication: { mode: 'active', factor: 2 },
    });
    let prometheus: Prometheus | undefined;
    try {
      const client = cluster.client({ region: 'us-east' });
      const puts = 17;
      for (let i = 0; i < puts; i++) await client.put(`p${i}`, i);
      prometheus = await startPrometheus(cluster, bin);

      const query = 'meridian_client_operations_total{op="put",outcome="ok"}';
      const { body, last } = await pollQuery(prometheus, query, (b) => b.status === 'success' && (b.data?.result.length ?? 0) > 0);
      t.log(`query ${query}: ${last}`);
      t.is(body?.data?.result[0]?.value[1], String(puts), `Prometheus's answer: ${last}\n${prometheus.diagnose()}`);

      // The histogram came through too, with the same count.
      const countBody = await prometheus.query('meridian_client_latency_seconds_count{op="put"}');
      t.is(countBody.data?.result[0]?.value[1], String(puts), JSON.stringify(countBody));
      t.is((await prometheus.query('up{job="meridian"}')).data?.result[0]?.value[1], '1', 'the target is up');
    } finally {
      await prometheus?.stop();
      await cluster.stop();
    }
  });

  test('every panel of the Grafana dashboard has data in a real Prometheus that scraped a running cluster', async (t) => {
    const dashboard = JSON.parse(readFileSync(fileURLToPath(new URL('../../docs/grafana-dashboard.json', import.meta.url)), 'utf8')) as Dashboard;
    const queries = panelQueries(dashboard);
    t.true(queries.length >= 10, `the dashboard has ${queries.length} panel queries`);
    const cluster = await startCluster({
      regions: [
        { name: 'us-east', servers: 2 },
        { name: 'eu-west', servers: 2 },
      ],
      transport: 'sim',
      seed: 22,
      replication: { mode: 'hybrid', factor: 2 },
    });
    let prometheus: Prometheus | undefined;
    let running = true;
    // A steady workload while Prometheus scrapes: every rate() has increases to see, and the
    // coordinators decide transactions both ways (a failed check aborts).
    const workload = (async () => {
      const client = cluster.client({ region: 'us-east' });
      for (let i = 0; running; i++) {
        await client.put(`k${i % 20}`, i);
        await client.get(`k${(i * 7) % 20}`);
        await client.cas(`k${i % 20}`, i, i + 1);
        await client.transaction([
          { op: 'put', key: `a${i % 5}`, value: i },
          { op: 'put', key: `b${i % 5}`, value: i },
        ]);
        await client
          .transaction([
            { op: 'check', key: `a${i % 5}`, value: -1 },
            { op: 'put', key: `b${i % 5}`, value: -1 },
          ])
          .catch(() => undefined);
        await sleep(20); // Real time: the sim cluster runs as fast as it can otherwise.
      }
    })();
    try {
      prometheus = await startPrometheus(cluster, bin);
      for (const q of queries) {
        const expr = grafanaToPromQL(q.expr);
        const { body, last } = await pollQuery(prometheus, expr, (b) => b.status === 'success' && hasNumbers(b));
        t.truthy(body, `panel "${q.panel}": ${expr}\nlast answer: ${last}\n${body === undefined ? prometheus.diagnose() : ''}`);
      }
      // Some figures are not only present but what the workload makes them.
      const throughput = await prometheus.query(grafanaToPromQL(queries.find((q) => q.panel === 'Throughput by operation')!.expr));
      t.true(
        throughput.data!.result.some((s) => s.metric['op'] === 'put' && Number(s.value[1]) > 0),
        JSON.stringify(throughput),
      );
      const decided = await prometheus.query(grafanaToPromQL(queries.find((q) => q.panel === 'Commits and aborts')!.expr));
      t.deepEqual(decided.data!.result.map((s) => s.metric['outcome']).sort(), ['abort', 'commit'], JSON.stringify(decided));
    } finally {
      running = false;
      await workload.catch(() => undefined);
      await prometheus?.stop();
      await cluster.stop();
    }
  });
}

interface Panel {
  title?: string;
  type: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
}

/** Every target expression of every panel (rows included), with its panel's title. */
function panelQueries(dashboard: Dashboard): { panel: string; expr: string }[] {
  const out: { panel: string; expr: string }[] = [];
  const visit = (panels: Panel[]): void => {
    for (const p of panels) {
      if (p.panels !== undefined) visit(p.panels);
      for (const target of p.targets ?? []) if (target.expr !== undefined) out.push({ panel: p.title ?? '(untitled)', expr: target.expr });
    }
  };
  visit(dashboard.panels);
  return out;
}

/** What Grafana would send: its variables replaced by the values this test's setup gives them. */
function grafanaToPromQL(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5s').replaceAll('$job', 'meridian');
}

/** At least one series with a number (histogram_quantile over no increase gives NaN). */
function hasNumbers(body: QueryResult): boolean {
  return (body.data?.result ?? []).some((s) => Number.isFinite(Number(s.value[1])));
}
