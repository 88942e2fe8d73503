import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { UNKNOWN_LATENCY_PENALTY, createLeastLatency } from '../src/balance/least-latency.js';
import { decayedPeakEwma, observePeakEwma } from '../src/balance/peak-ewma.js';
import { createStrategy } from '../src/balance/strategy.js';
import type { Endpoint, Strategy, StrategyName } from '../src/balance/types.js';
import { binomialSd, EventQueue, exponential, testSeed, Z_1E4 } from './balance-stats.js';

interface SimServer {
  id: string;
  weight: number;
  active: number;
  meanLatencyMs: number;
  served: number;
}

/**
 * A seeded discrete-event loop: Poisson arrivals, each request sent where the strategy says,
 * held for an exponential time with the server's mean latency, then reported back with
 * onResult. A slow server holds its requests longer, so it has more in flight.
 */
function simulate(strategy: Strategy, seed: number, requests: number): SimServer[] {
  const prng = new Prng(seed);
  const servers: SimServer[] = [10, 10, 10, 100].map((meanLatencyMs, i) => ({ id: `s${i}`, weight: 1, active: 0, meanLatencyMs, served: 0 }));
  const completions = new EventQueue<{ server: SimServer; startMs: number }>();
  const arrivalsPerMs = 0.2;
  let nowMs = 0;
  for (let request = 0; request < requests; request++) {
    nowMs += exponential(prng, 1 / arrivalsPerMs);
    while (completions.size > 0 && (completions.peekTime() as number) <= nowMs) {
      const [endMs, { server, startMs }] = completions.pop();
      server.active--;
      strategy.onResult(server.id, endMs - startMs, true, endMs);
    }
    const chosen = strategy.pick(servers, { nowMs }) as Endpoint;
    const server = servers.find((s) => s.id === chosen.id) as SimServer;
    server.active++;
    server.served++;
    completions.push(nowMs + exponential(prng, server.meanLatencyMs), { server, startMs: nowMs });
  }
  return servers;
}

const REQUESTS = 20_000;

for (const name of ['least-request', 'least-latency'] as const satisfies readonly StrategyName[]) {
  test(`${name} sends less traffic to a slow server than an even split`, (t) => {
    const seed = testSeed(301);
    t.log(`seed ${seed}`);
    const baseline = simulate(createStrategy('round-robin', { prng: new Prng(seed) }), seed, REQUESTS);
    const servers = simulate(createStrategy(name, { prng: new Prng(seed) }), seed, REQUESTS);
    const even = 1 / servers.length;
    const share = (servers[3] as SimServer).served / REQUESTS;
    // Significantly below an even share: more than Z binomial standard deviations.
    const bound = even - Z_1E4 * binomialSd(even, REQUESTS);
    t.log(
      `slow server share: ${name} ${share.toFixed(4)}, round-robin ${((baseline[3] as SimServer).served / REQUESTS).toFixed(4)}, bound ${bound.toFixed(4)}`,
    );
    t.true(share < bound);
    // Every fast server still gets more than the slow one.
    for (const fast of servers.slice(0, 3)) t.true(fast.served > (servers[3] as SimServer).served);
  });
}

test('peak EWMA: a peak replaces the cost at once, a lower sample decays into it', (t) => {
  const tau = 10_000;
  t.is(observePeakEwma(10, 0, 100, 1, tau), 100);
  const decayed = observePeakEwma(100, 0, 10, tau, tau);
  t.true(Math.abs(decayed - (100 * Math.exp(-1) + 10 * (1 - Math.exp(-1)))) < 1e-9);
  // Two samples at the same instant: w = 1, the older cost stands.
  t.is(observePeakEwma(100, 5, 10, 5, tau), 100);
  t.true(Math.abs(decayedPeakEwma(100, 0, tau * Math.LN2, tau) - 50) < 1e-9);
});

test('least-latency: prefers the faster server, and does not pile onto one never heard from', (t) => {
  const seed = testSeed(302);
  t.log(`seed ${seed}`);
  const strategy = createLeastLatency({ prng: new Prng(seed) });
  const a: Endpoint = { id: 'a', weight: 1, active: 0 };
  const b: Endpoint = { id: 'b', weight: 1, active: 0 };
  strategy.onResult('a', 5, true, 0);
  strategy.onResult('b', 50, true, 0);
  for (let i = 0; i < 50; i++) t.is(strategy.pick([a, b], { nowMs: 1 }), a);
  // b's cost 50 x 1 beats a's 5 x 11 once a has 10 requests in flight.
  t.is(strategy.pick([{ ...a, active: 10 }, b], { nowMs: 1 })?.id, 'b');
  // A newcomer with nothing measured gets a first request (cost 0), then no more until it answers.
  const c: Endpoint = { id: 'c', weight: 1, active: 0 };
  t.is(strategy.pick([a, c], { nowMs: 1 }), c);
  t.is(
    strategy.pick(
      [
        { ...a, active: 100 },
        { ...c, active: 1 },
      ],
      { nowMs: 1 },
    )?.id,
    'a',
  );
  t.true(UNKNOWN_LATENCY_PENALTY > 100 * 5 * 101);
});

test('least-latency: an idle slow server is probed again once its peak decays', (t) => {
  const seed = testSeed(303);
  t.log(`seed ${seed}`);
  const strategy = createLeastLatency({ prng: new Prng(seed), decayTimeMs: 1000 });
  const a: Endpoint = { id: 'a', weight: 1, active: 0 };
  const b: Endpoint = { id: 'b', weight: 1, active: 0 };
  strategy.onResult('a', 10, true, 10_000);
  strategy.onResult('b', 1000, true, 0);
  // At 10 s, b's cost is 1000 e^-10 = 0.045 ms, below a's fresh 10 ms.
  t.is(strategy.pick([a, b], { nowMs: 10_000 }), b);
  t.is(strategy.pick([a, b], { nowMs: 100 }), a);
});
