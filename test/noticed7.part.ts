import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as checkMain } from '../src/cli/check.js';
import { startCluster, UnavailableError } from '../src/index.js';
import { eventually } from '../src/harness/ava.js';
import { natsServerBinary, startNatsServer } from '../src/harness/nats-server.js';
import { run as runBalancerBench } from '../bench/balancer.js';

// Small defects noticed in session 69 (the noticed7 helper); one test (or a few) per fix.

// `meridian check`'s summary line named every failed and unknown seed: with thousands of them,
// one enormous line. It names the first 20, then how many more; --json has them all.
test('check: the summary line names the first 20 failing seeds then how many more; --json lists them all', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-noticed7-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'run.json');
  // Small clusters: 21 of these 24 seeds fail (2026-12-08), more than the 20 named.
  const argv = ['--seeds', '24', '--workers', '1', '--unsafe', 'amnesia', '--clients', '2', '--keys', '1', '--fault-ms', '100', '--json', json];
  const out: string[] = [];
  t.is(await checkMain(argv, { out: (l) => void out.push(l), err: (l) => void out.push(l) }), 1, out.join('\n'));
  const doc = JSON.parse(readFileSync(json, 'utf8')) as { failed: number[] };
  t.true(doc.failed.length > 20, `more than 20 of the 24 seeds must fail for this test (pick more seeds): ${doc.failed.length}`);
  const line = out.find((l) => l.startsWith('check: 24 seeds, '));
  t.log(line);
  t.is(
    line?.replace(/; \d+ operations checked.*$/, ''),
    `check: 24 seeds, ${24 - doc.failed.length} passed, ${doc.failed.length} failed (${doc.failed.slice(0, 20).join(', ')}, ... and ${doc.failed.length - 20} more), 0 unknown`,
  );
  // What scripts/mutants.mjs and the tests read from that line.
  const m = /(\d+) seeds?, (\d+) passed, (\d+) failed.*?, (\d+) unknown.*\(([\d.]+) seeds\/s\)/.exec(line ?? '');
  t.deepEqual(m?.slice(1, 5).map(Number), [24, 24 - doc.failed.length, doc.failed.length, 0]);
});

const nats = natsServerBinary();
const natsTest = 'bin' in nats ? test : test.skip;
const natsSkipped = 'reason' in nats ? ` (skipped: ${nats.reason})` : '';
const realClock = { sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)), now: () => Date.now() };

// Once the launcher's NATS connection closed for good, every host was retired, and setNetwork()
// and heal() (setPartitions) waited on none: they resolved, as if every host had the change,
// while the other control calls (ping, inspect, crash...) reject with the lost connection.
natsTest(
  `nats: setNetwork() and heal() after the NATS connection closed for good reject with an UnavailableError (they resolved, reaching no host)${natsSkipped}`,
  async (t) => {
    const server = await startNatsServer((nats as { bin: string }).bin, []);
    let serverStopped = false;
    try {
      const cluster = await startCluster({
        regions: [{ name: 'a', servers: 1 }],
        transport: 'nats',
        seed: 1,
        requestTimeoutMs: 2_000,
        replication: { mode: 'none' },
        nats: { servers: server.url, processes: 1 },
      });
      cluster.on('host-exit', () => undefined);
      cluster.on('frame-error', () => undefined);
      try {
        await cluster.setNetwork({ loss: 0 });
        await server.stop();
        serverStopped = true;
        // The hosts' exits can come before the launcher's own connection gives up: wait for it (ping
        // rejects with the lost connection's UnavailableError).
        await eventually(
          realClock,
          () =>
            cluster.ping().then(
              () => false,
              // Not one that timed out while the client still tried to reconnect.
              (error: unknown) => error instanceof UnavailableError && /NATS connection .* closed/.test(error.message),
            ),
          { timeoutMs: 20_000, message: 'ping fails once the connection is closed' },
        );
        for (const [what, call] of [
          ['setNetwork', () => cluster.setNetwork({ loss: 0 })],
          ['heal', () => cluster.heal()],
        ] as const) {
          const error = await t.throwsAsync(call(), { instanceOf: UnavailableError }, what);
          t.regex(error?.message ?? '', /NATS connection .* closed/, what);
        }
      } finally {
        await cluster.stop();
      }
    } finally {
      if (!serverStopped) await server.stop();
    }
  },
);

// bench balancer's end-to-end table says "median of 7" (quick), and its JSON had the window and
// the requests per run but not the number of runs the medians are of.
test('bench balancer (tiny): the JSON carries reps, the "median of N" of the end-to-end table', async (t) => {
  const result = await runBalancerBench({ quick: true, tiny: true, log: (line) => t.log(line) });
  const reps = result.figures.reps;
  t.true(Number.isInteger(reps) && (reps as number) >= 1, `reps: ${String(reps)}`);
  t.regex(result.table ?? '', new RegExp(`, median of ${String(reps)} \\(CPU ratios`));
});
