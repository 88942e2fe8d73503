import test from 'ava';
import { run } from '../bench/failover.js';

/**
 * The failover suite measures something: a silent failure (a partition) of a server, or of the
 * home region, costs requests until the heartbeats find it. Until 2026-12-06 the suite sent
 * gets only for keys of servers that stayed up, the balancer sent each to its key's owner, no
 * request ever met a failed server, and every run printed 0 lost and 0 ms. The sim scenarios
 * are deterministic (virtual time), so the figures below are exact for the tiny sizes.
 */
test('failover suite (tiny): a partitioned server or region loses requests until it is found; a crash (told at once) loses only those in flight', async (t) => {
  const result = await run({ quick: true, tiny: true, log: (line) => t.log(line) });
  const f = result.figures as {
    failover_ms: { server: number; region: number };
    failover_ms_crash: { server: number; region: number };
    lost: { server: number; region: number };
    scenarios: Record<string, { sent: number; lost: number }>;
  };
  t.log(JSON.stringify(f.scenarios));
  for (const scope of ['server', 'region'] as const) {
    t.true(f.lost[scope] > 0, `${scope} partition: requests lost (${f.lost[scope]})`);
    t.true(f.failover_ms[scope] > 0, `${scope} partition: failover takes time (${f.failover_ms[scope]} ms)`);
    t.true(f.failover_ms[scope] < 2_000, `${scope} partition: found within two request timeouts (${f.failover_ms[scope]} ms)`);
    t.is(f.failover_ms_crash[scope], 0, `${scope} crash: every request sent after it answered`);
  }
  t.true(f.lost.region >= f.lost.server, 'a region fails more shards than a server');
});
