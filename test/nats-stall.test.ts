import test from 'ava';
import { startCluster, TimeoutError, type Cluster, type ClusterConfig, type HostEvent } from '../src/index.js';
import { startHost } from './helpers/meridian-host.js';
import { eventually } from '../src/harness/ava.js';
import type { NatsRuntime } from '../src/runtime/transports/nats.js';
import { callHost, connectNats, subjects } from '../src/runtime/transports/nats-wire.js';
import { STATS_ANSWER_MS } from '../src/runtime/transports/runtime.js';
import { natsServerBinary, startNatsServer, type NatsServer } from '../src/harness/nats-server.js';

/**
 * A host process that stalls (SIGSTOP) under the NATS transport (an audit, session 61): metrics
 * still answer, counting it with its last counters; and a host started elsewhere that the
 * launcher took as gone is fenced when it resumes. Each test on its own server, so the two run
 * at once: they mostly wait for a stalled host (SIGSTOP) to time out.
 */
const binary = natsServerBinary();
const natsTest = 'bin' in binary ? test : test.skip;
const skipped = 'reason' in binary ? ` (skipped: ${binary.reason})` : '';
const realClock = { sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)), now: () => Date.now() };
/** Far above any bound of the code under test: only a read that hangs fails it. */
const ANSWERS_WITHIN_MS = 30_000;

async function withServer(body: (server: NatsServer) => Promise<void>): Promise<void> {
  const server = await startNatsServer((binary as { bin: string }).bin, []);
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

function config(server: NatsServer, nats: Partial<NonNullable<ClusterConfig['nats']>>): ClusterConfig {
  return {
    regions: [
      { name: 'a', servers: 2 },
      { name: 'b', servers: 2 },
    ],
    transport: 'nats',
    seed: 1,
    requestTimeoutMs: 1_500,
    nats: { servers: server.url, ...nats },
  };
}

/** `p`, or a failure naming `what` if it has not settled after ANSWERS_WITHIN_MS. */
async function answers<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ANSWERS_WITHIN_MS} ms`)), ANSWERS_WITHIN_MS)),
  );
  try {
    return await Promise.race([p, hung]);
  } finally {
    clearTimeout(timer);
  }
}

natsTest(
  `nats: metrics answer while a spawned host is SIGSTOPped (they failed after 10 s): that host counts with its last counters, and a 'warn' names it; a ping and an inspect fail naming it and its nodes${skipped}`,
  async (t) => {
    await withServer(async (server) => {
      let cluster: Cluster | undefined;
      let stalled: number | undefined;
      try {
        cluster = await startCluster(config(server, { processes: 2 }));
        const warnings: HostEvent[] = [];
        cluster.on('warn', (e) => void warnings.push(e));
        const client = cluster.client({ region: 'a' });
        for (let i = 0; i < 5; i++) await client.put(`k${i}`, i);
        const runtime = cluster.internals.runtime as NatsRuntime;
        const victim = runtime.processes().find((p) => p.host === 2)!;
        const servers = victim.nodes.filter((n) => /^[ab]\/\d+$/.test(n));
        t.true(servers.length > 0, `host 2 runs servers (${victim.nodes.join(', ')})`);
        stalled = victim.pid!;
        process.kill(stalled, 'SIGSTOP');
        // What host 2 pushed before it stopped has arrived by now; nothing more comes from it.
        await realClock.sleep(1_000);
        const last = runtime.stats();
        const stats = await answers('collectStats', cluster.collectStats());
        for (const node of servers) {
          t.deepEqual(stats.actors[node], last.actors[node], `${node}: its host's last counters`);
          t.true((stats.actors[node]?.counters.requests ?? 0) + (stats.actors[node]?.received ?? 0) > 0, `${node} counted, not left out`);
        }
        const text = await answers('metricsText', cluster.metricsText());
        for (const node of servers) t.regex(text, new RegExp(`^meridian_server_requests_total\\{server="${node}",[^}]*\\} \\d+$`, 'm'));
        // Each of these waits STATS_ANSWER_MS for host 2, and none depends on another: asked at
        // once (the two reads above stay one after the other, for the one warning).
        const scrape = await cluster.serveMetrics();
        runtime.inspectAnswerMs = STATS_ANSWER_MS; // Lowered from 10 s.
        const [scraped, ping, inspected] = await Promise.all([
          answers('a scrape', fetch(scrape.url)),
          // A probe fails, naming the host and its nodes (before: after 10 s, "host 2 did not answer ping (timeout)").
          t.throwsAsync(answers('ping', cluster.ping()), { instanceOf: TimeoutError }),
          // So does inspect, naming the actor too (before: "host 2 did not answer summary (timeout)").
          t.throwsAsync(answers('inspect', cluster.inspect(servers[0]!)), { instanceOf: TimeoutError }),
        ]);
        t.is(scraped.status, 200);
        const others = runtime.processes().filter((p) => p.alive && p.host !== 2).length;
        t.is(
          ping?.message,
          `ping: host 2 (${victim.nodes.join(', ')}) did not answer within ${STATS_ANSWER_MS} ms (stalled, or busy in a long step); ${others} of ${others + 1} hosts answered`,
        );
        t.is(
          inspected?.message,
          `inspect(${JSON.stringify(servers[0])}): host 2 (${victim.nodes.join(', ')}) did not answer within ${STATS_ANSWER_MS} ms (stalled, or busy in a long step)`,
        );
        const named = warnings.filter((w) => w.kind === 'warn' && w.address === 'host 2');
        t.is(named.length, 1, 'one warning while it does not answer, not one per read');
        t.regex((named[0] as { message: string }).message, /^host 2 did not answer stats within \d+ ms: metrics count it with the counters it last pushed/);
        // A read that timed out changed nothing: it is not said to be of unknown outcome, as a change is.
        const nc = await connectNats([server.url], 'test-stall');
        try {
          const read = await t.throwsAsync(callHost(nc, subjects(runtime.clusterName, runtime.generation), 2, 'stats', [], 200), { instanceOf: TimeoutError });
          t.regex(read?.message ?? '', /^host 2 did not answer stats \(.*\)$/);
          const change = await t.throwsAsync(callHost(nc, subjects(runtime.clusterName, runtime.generation), 2, 'setClockSkew', ['a/0', 0], 200), {
            instanceOf: TimeoutError,
          });
          t.regex(change?.message ?? '', /it may or may not have been carried out$/);
        } finally {
          await nc.close();
        }
      } finally {
        if (stalled !== undefined) process.kill(stalled, 'SIGCONT');
        await cluster?.stop();
      }
    });
  },
);

natsTest(
  `nats: a remote host taken as gone after a stall is fenced when it resumes: it exits 1 and its servers stay down (its heartbeats made them up again, isDown still true, it ran until stop)${skipped}`,
  async (t) => {
    await withServer(async (server) => {
      const name = `stall${process.pid}`;
      const hosts = [0, 1].map(() => startHost(server.url, name));
      let cluster: Cluster | undefined;
      let stalled: (typeof hosts)[number] | undefined;
      try {
        cluster = await startCluster(config(server, { hosts: 2, cluster: name }));
        const exits: HostEvent[] = [];
        cluster.on('host-exit', (e) => void exits.push(e));
        const client = cluster.client({ region: 'a' });
        for (let i = 0; i < 5; i++) await client.put(`k${i}`, i);
        const runtime = cluster.internals.runtime as NatsRuntime;
        const victim = runtime.processes().find((p) => p.host === 2)!;
        stalled = hosts.find((h) => h.child.pid === victim.pid)!;
        const servers = victim.nodes.filter((n) => /^[ab]\/\d+$/.test(n));
        t.true(servers.length > 0, `host 2 runs servers (${victim.nodes.join(', ')})`);
        stalled.child.kill('SIGSTOP');
        await eventually(realClock, () => exits.length > 0, { timeoutMs: 30_000, message: 'the launcher takes the stalled host as gone' });
        stalled.child.kill('SIGCONT');
        t.is(await answers('the resumed host exiting', stalled.exited), 1, stalled.out());
        t.regex(stalled.out(), /the launcher took this host as gone/);
        // Long enough for heartbeats from a host still running to bring its servers up again.
        await realClock.sleep(3_000);
        for (const node of servers) {
          t.true(cluster.isDown(node), `${node} is down`);
          t.not(cluster.members().find((m) => m.id === node)?.state, 'up', `${node} is not up in the balancer's view`);
        }
        // The other host goes on.
        t.deepEqual(
          (await cluster.ping()).map((p) => p.host),
          [1],
        );
      } finally {
        stalled?.child.kill('SIGCONT');
        await cluster?.stop();
        // They exit as the launcher stops, removing their temporary folders: killed only past a
        // bound (killed at once, the other host left its folder of logs in /tmp, session 61).
        const kill = setTimeout(() => {
          for (const h of hosts) h.child.kill('SIGKILL');
        }, 15_000);
        await Promise.all(hosts.map((h) => h.exited));
        clearTimeout(kill);
      }
    });
  },
);
