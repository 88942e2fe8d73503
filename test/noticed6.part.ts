/**
 * Small defects the report audit of session 69 noticed, fixed by helper noticed6: each test
 * fails on the code before its fix.
 */
import test from 'ava';
import type { ActorContext, Behavior } from '../src/runtime/actor.js';
import { SimWorld } from '../src/runtime/transports/sim.js';
import { HOST_MESSAGE_TYPES_MAX, mergeSnapshots, snapshot, type StatsSnapshot } from '../src/runtime/stats.js';
import { ClientMetrics, MESSAGE_TYPE_OTHER, MESSAGE_TYPE_SERIES_MAX, buildClusterMetrics } from '../src/metrics/cluster-metrics.js';
import { METRIC_SERIES_MAX, sampleValue } from '../src/metrics/registry.js';
import { scenarioFigures, threadsFigures, type ScenarioResult } from '../bench/failover.js';
import { CONTENDERS, endToEndFigures, tableFigures } from '../bench/balancer.js';

const SEED = 1;

/**
 * The counters of a simulated host whose one actor sends 3 messages of type `common`, then one
 * of each of `types` made-up types (`made-up-<first + i>`), then one wrapped message
 * (`{ type: 'w', m: { type } }`) of each of `wrapped` made-up inner types.
 */
function inventorStats(first: number, types: number, wrapped = 0): StatsSnapshot {
  const inventor: Behavior<null> = {
    name: 'inventor',
    init: (ctx: ActorContext) => {
      ctx.setTimer('go', 1);
      return null;
    },
    receive: (_state, msg, ctx) => {
      if (msg.type !== 'timer') return;
      for (let i = 0; i < 3; i++) ctx.send(ctx.self, { type: 'common' });
      for (let i = 0; i < types; i++) ctx.send(ctx.self, { type: `made-up-${first + i}` });
      for (let i = 0; i < wrapped; i++) ctx.send(ctx.self, { type: 'w', m: { type: `inner-${i}` } });
    },
  };
  const w = new SimWorld({
    seed: SEED,
    directory: new Map([['inv/1', { host: 0, region: 'r', node: 'n' }]]),
    behaviors: new Map([[inventor.name, inventor]]),
    mailboxCapacity: 2 * (types + wrapped) + 10,
  });
  w.host.spawn({ address: 'inv/1', behavior: inventor.name, params: null, region: 'r', node: 'n' });
  w.runUntil(100);
  return snapshot(w.host.stats);
}

const typesSum = (types: Record<string, number>): number => Object.values(types).reduce((a, b) => a + b, 0);

// meridian_messages_by_type_total took its label from each message's `type`: actors that made
// up a type per message gave it a series each, and past 10,000 (the registry's guard) every
// metrics() read threw "ValidationError: labels: meridian_messages_by_type_total already has
// 10000 label combinations". Now the most-sent types have their own series, the rest one series
// together, and the read answers. Each host counts at most HOST_MESSAGE_TYPES_MAX types (the
// next test): 11 hosts of 990 made-up types each pass 10,000 together.
test('metrics: hosts whose actors sent 10,890 distinct message types leave metrics() answering, the rest counted as one type', (t) => {
  t.log(`seed ${SEED}`);
  const hosts = Array.from({ length: 11 }, (_, h) => inventorStats(h * 990, 990));
  const stats = mergeSnapshots(hosts);
  t.true(Object.keys(stats.types).length > METRIC_SERIES_MAX, `${Object.keys(stats.types).length} types`);
  const m = buildClusterMetrics({
    stats: { ...stats, servers: {} },
    members: [],
    regions: ['r'],
    coordinators: [],
    info: { transport: 'sim', replication: 'none', commit: '2pc' },
    client: new ClientMetrics().snapshot(),
  });
  const byType = m.families.find((f) => f.name === 'meridian_messages_by_type_total')!;
  t.is(byType.series.length, MESSAGE_TYPE_SERIES_MAX);
  t.is(sampleValue(m, 'meridian_messages_by_type_total', { type: 'common' }), 33, 'the most-sent type keeps its series');
  let sum = 0;
  if (byType.type !== 'histogram') for (const s of byType.series) sum += s.value;
  t.is(sum, stats.sent, 'every message is counted, under its type or the other');
  t.true(sampleValue(m, 'meridian_messages_by_type_total', { type: MESSAGE_TYPE_OTHER })! > 0);
  t.regex(byType.help, /other/);
});

// Each host kept a counter per message type it ever saw (and a cache entry per wrapped pair),
// sent with every stats read: an actor making up types grew them by one a message for as long
// as the host ran (10,000 made-up types and 2,000 wrapped ones: 12,002 entries). Now a host
// counts HOST_MESSAGE_TYPES_MAX types apart and the rest as MESSAGE_TYPE_OTHER.
test('stats: a host counts at most HOST_MESSAGE_TYPES_MAX message types apart, the later ones as one, every message counted', (t) => {
  t.log(`seed ${SEED}`);
  const stats = inventorStats(0, 10_000, 2_000);
  t.is(Object.keys(stats.types).length, HOST_MESSAGE_TYPES_MAX + 1, 'the types apart and the other');
  t.is(stats.types.common, 3, 'a type seen before the bound keeps its counter');
  t.is(stats.types['made-up-0'], 1);
  t.false('w:inner-0' in stats.types, 'a wrapped pair past the bound is counted as the other');
  // 3 + 10,000 + 2,000 sent; apart: common's 3 and one of each of the first 999 made-up types.
  t.is(stats.types[MESSAGE_TYPE_OTHER], 12_003 - 3 - (HOST_MESSAGE_TYPES_MAX - 1));
  t.is(typesSum(stats.types), stats.sent, 'every message is counted once');
});

// bench failover's table prints p50 / p99 before the fault and after the failover for each
// scenario; its JSON carried only before_p99_ms and after_p50_ms, so a report (and --compare)
// had half the latencies the table showed.
test('bench failover: a scenario in the JSON carries the p50 and p99 before and after that its table row prints', (t) => {
  const r: ScenarioResult = {
    scope: 'server',
    failure: 'partition',
    sent: 100,
    lost: 3,
    delayed: 2,
    failoverMs: 412.5,
    beforeP50Ms: 1.25,
    beforeP99Ms: 4.5,
    afterP50Ms: 1.5,
    afterP99Ms: 9.75,
  };
  const f = scenarioFigures(r);
  t.deepEqual(
    { before_p50_ms: f.before_p50_ms, before_p99_ms: f.before_p99_ms, after_p50_ms: f.after_p50_ms, after_p99_ms: f.after_p99_ms },
    { before_p50_ms: 1.25, before_p99_ms: 4.5, after_p50_ms: 1.5, after_p99_ms: 9.75 },
  );
  t.like(f, { sent: 100, lost: 3, delayed: 2, failover_ms: 412.5 });
  // No answer before the fault: the unknown figures are null in JSON ('-' in the table).
  const empty = scenarioFigures({ ...r, delayed: Number.NaN, beforeP50Ms: Number.NaN, beforeP99Ms: Number.NaN });
  t.is(JSON.parse(JSON.stringify(empty)).before_p50_ms, null);
  t.is(empty.delayed, null);
});

// bench balancer's JSON named the client API row's CPU ratio through_balancer_cpu_ratio, beside
// through_balancer_ratio (the balancer row's, the target): both paths go through the balancer,
// and the name did not say which row it was; the forwarded row's CPU ratio, printed in the
// table, was in no field. Now every row's `direct cpu / this` and `x direct` are in
// cpu_ratio_to_direct and rate_ratio_to_direct, named by row; the old names stay as aliases.
test('bench balancer: the JSON has each row of the table its CPU and rate ratios to direct, by name, and keeps the old names', (t) => {
  const e2e = {
    rate: { direct: 100_000, forwarded: 30_000, balancer: 40_000, client: 50_000 },
    cpuUs: { direct: 10, forwarded: 20, balancer: 12.5, client: 16 },
    cpuRatioToDirect: { direct: 1, forwarded: 0.5, balancer: 0.8, client: 0.625 },
  };
  const f = endToEndFigures(e2e);
  const byRow = (name: string): Record<string, number> | undefined => f[name] as Record<string, number> | undefined;
  // What the table prints, row by row: `x direct` and `direct cpu / this`.
  for (const c of CONTENDERS) {
    t.is(byRow('rate_ratio_to_direct')?.[c], e2e.rate[c] / e2e.rate.direct, `x direct, ${c}`);
    t.is(byRow('cpu_ratio_to_direct')?.[c], e2e.cpuRatioToDirect[c], `direct cpu / this, ${c}`);
  }
  // The old names, for --compare with older reports.
  t.is(f.through_balancer_ratio, 0.8, 'the balancer row (the target)');
  t.is(f.through_balancer_cpu_ratio, 0.625, 'the client row');
  t.is(f.through_balancer_rate_ratio, 0.5);
  t.is(f.balancer_actor_ratio, 0.4);
  t.is(f.forwarded_ratio, 0.3);
});

// The balancer suite's JSON rows of its balls-into-bins, phi trade-off and crash detection
// tables left out columns the tables print (the trials, the maxima measured through the
// strategies, the trade-off with a pause margin, the predicted phi silence), and the failover
// suite's threads figures the closed loops its row names.
test('bench balancer and failover: the JSON rows carry every measured column their tables print', (t) => {
  const f = tableFigures(
    {
      balls_into_bins: [
        {
          n: 10,
          trials: 2_000,
          random_max: 2.71,
          two_choices_max: 2.01,
          strategy_random_max: 2.75,
          strategy_least_request_max: 2.01,
          ln_n_over_ln_ln_n: 2.76,
          ln_ln_n_over_ln_2: 1.2,
        },
        {
          n: 10_000,
          trials: 2,
          random_max: 6.5,
          two_choices_max: 3,
          strategy_random_max: null,
          strategy_least_request_max: null,
          ln_n_over_ln_ln_n: 4.15,
          ln_ln_n_over_ln_2: 3.2,
        },
      ],
      phi_tradeoff: [{ threshold: 8, detection_ms: 622.9, false_suspicions_per_hour: 23, margin_detection_ms: 1_624, margin_false_suspicions_per_hour: 0 }],
    },
    [{ threshold: 8, trials: 9, p50_ms: 684.9, max_ms: 727.7, phi_silence_ms: 623 }],
  );
  t.like(f.balls_into_bins[0], { trials: 2_000, strategy_random_max: 2.75, strategy_least_request_max: 2.01 });
  t.like(f.balls_into_bins[1], { trials: 2, strategy_random_max: null, strategy_least_request_max: null });
  t.like(f.phi_tradeoff[0], { margin_detection_ms: 1_624, margin_false_suspicions_per_hour: 0 });
  t.like(f.detection_in_cluster[0], { trials: 9, phi_silence_ms: 623 });
  t.like(threadsFigures({ beforeReqPerS: 1_277.4, afterReqPerS: 549, lost: 22, failoverMs: 326.7 }, 64), {
    closed_loops: 64,
    before_req_per_s: 1_277,
    failover_ms: 326.7,
  });
});
