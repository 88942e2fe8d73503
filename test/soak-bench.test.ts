import test from 'ava';
import { robustSlope, run as runSoak, slope, soakFigures, type MemorySample } from '../bench/soak.js';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { layerOf, selfTimeByLayer, sourceUrlOf, type CpuProfile, type Layer } from '../bench/lib/cpu-profile.js';
import { CLUSTER_WORKER_BUNDLE } from '../src/cluster/cluster.js';
import { distributionChart } from '../bench/lib/plots.js';

// The arithmetic of bench soak and bench profile; the suites themselves are benchmarks, run
// by `meridian bench soak profile`, not tests (but for the soak's own process, below).

const sample = (tS: number, rssMb: number, workers: number[] = [10, 10]): MemorySample => ({
  tS,
  rssMb,
  mainHeapMb: 5,
  workerHeapMb: Object.fromEntries(workers.map((h, i) => [i + 1, h])),
  calls: tS * 100,
});

test('slope is the least-squares line through the points', (t) => {
  t.is(slope([0, 1, 2, 3], [1, 3, 5, 7]), 2);
  t.is(slope([0, 1, 2], [4, 4, 4]), 0);
  t.is(slope([5], [1]), 0, 'one point has no slope');
});

test('robust slope: the median of pairwise slopes follows a steady trend and ignores a lone spike', (t) => {
  t.is(robustSlope([0, 1, 2, 3], [1, 3, 5, 7]), 2);
  t.is(robustSlope([0, 1, 2], [4, 4, 4]), 0);
  t.is(robustSlope([5], [1]), 0, 'one point has no slope');
  // Flat at 290 with one high sample at the end: least squares reads a trend, Theil-Sen none.
  const xs = [0, 1, 2, 3, 4, 5, 6];
  const ys = [290, 291, 289, 290, 291, 290, 320];
  t.true(slope(xs, ys) > 3, `least squares ${slope(xs, ys)}`);
  t.true(Math.abs(robustSlope(xs, ys)) < 0.5, `Theil-Sen ${robustSlope(xs, ys)}`);
  // A leak under noise still reads as the leak.
  t.is(robustSlope(xs, [300, 312, 318, 330, 342, 348, 360]), 10);
});

test('soak figures: the maximum over the run, growth in MB per minute over its second half only', (t) => {
  // Warm-up: RSS climbs by 200 MB in the first half, then holds flat with a little noise.
  const samples = [sample(0, 100), sample(30, 300), sample(60, 302), sample(90, 298), sample(120, 301)];
  const f = soakFigures(samples, 120);
  t.is(f.rssMbMax, 302);
  t.true(Math.abs(f.rssGrowthMbPerMin) < 2, `flat after warm-up: ${f.rssGrowthMbPerMin}`);
  // A leak of 1 MB per second in the second half reads as 60 MB/min.
  const leaking = [sample(0, 100), sample(60, 200), sample(90, 230), sample(120, 260)];
  t.is(Math.round(soakFigures(leaking, 120).rssGrowthMbPerMin), 60);
  // A sample where a worker did not answer is left out of the workers' heap growth.
  const partial = [sample(60, 1, [10, 10]), sample(90, 1, [10]), sample(120, 1, [10, 10])];
  t.is(soakFigures(partial, 120).workerHeapGrowthMbPerMin, 0);
});

test('the soak runs in a process of its own: what the calling process holds is not in its RSS', async (t) => {
  // 128 MB the calling process holds (touched, so resident) while the soak runs.
  const held = new Float64Array(16 * 1024 * 1024).fill(1);
  const callerRssMb = process.memoryUsage().rss / (1024 * 1024);
  const lines: string[] = [];
  const r = await runSoak({ quick: true, tiny: true, log: (line) => lines.push(line) });
  t.is(held[held.length - 1], 1);
  const f = r.figures as Record<string, number>;
  t.true(f.calls! > 0, `calls ${f.calls}`);
  t.is(f.actor_errors, 0);
  t.true(Number.isFinite(f.rss_mb_max) && Number.isFinite(f.rss_mb_at_start));
  t.true(f.rss_mb_at_start! < callerRssMb, `the soak's process held ${f.rss_mb_at_start} MB at its start, the caller ${callerRssMb} MB`);
  t.true(f.rss_mb_at_start! < 128, `the soak's process started with ${f.rss_mb_at_start} MB: the caller's 128 MB array is not in it`);
  t.true(
    lines.some((l) => l.includes('crashed at')),
    'its progress lines come back to the caller',
  );
});

test('the soak process refuses to run without its parent or with an unknown size', (t) => {
  const entry = fileURLToPath(new URL('../bench/soak-child.js', import.meta.url));
  const r = spawnSync(process.execPath, [entry, 'huge'], { encoding: 'utf8' });
  t.is(r.status, 2);
  t.regex(r.stderr, /^soak-child: run by bench\/soak\.ts over IPC, with a size \(full, quick, tiny\); got "huge"/);
});

test('profile layers: a function counts for the layer of its source file', (t) => {
  t.is(layerOf('file:///x/dist/src/cluster/client.js'), 'client');
  t.is(layerOf('file:///x/dist/src/cluster/balancer.js'), 'balancer');
  t.is(layerOf('file:///x/dist/src/balance/round-robin.js'), 'balancer');
  t.is(layerOf('file:///x/node_modules/msgpackr/pack.js'), 'router and codec');
  t.is(layerOf('file:///x/dist/src/runtime/cell.js'), 'router and codec');
  t.is(layerOf('file:///x/dist/src/cluster/server.js'), 'server');
  t.is(layerOf('file:///x/dist/src/protocols/multipaxos.js'), 'replication group');
  t.is(layerOf('file:///x/dist/src/protocols/twopc.js'), 'commit protocol');
  t.is(layerOf('file:///x/dist/src/replication/state-machine.js'), 'state machine');
  t.is(layerOf('file:///x/dist/src/metrics/registry.js'), 'metrics');
  t.is(layerOf('node:internal/timers'), 'node and V8 (timers, ports, GC, native)');
  t.is(layerOf('file:///x/dist/bench/lib/cluster-load.js'), 'bench driver and other');
});

test('profile layers: a function of the bundled worker entry counts for the module it was bundled from (its source map)', (t) => {
  // `npm run build` made the bundle; find where a few functions start in it, as V8 reports them.
  const text = readFileSync(CLUSTER_WORKER_BUNDLE, 'utf8');
  const frameOf = (needle: string): { functionName: string; url: string; lineNumber: number; columnNumber: number } => {
    const at = text.indexOf(needle);
    if (at < 0) throw new Error(`${needle} is not in the bundle`);
    const lines = text.slice(0, at).split('\n');
    return { functionName: needle, url: CLUSTER_WORKER_BUNDLE.href, lineNumber: lines.length - 1, columnNumber: lines.at(-1)!.length };
  };
  const expected: Array<[string, string, Layer]> = [
    ['function flushGroups(', '/src/cluster/server.js', 'server'],
    ['var KvStateMachine = ', '/src/replication/state-machine.js', 'state machine'],
    ['var FastEncoder = ', '/src/core/codec.js', 'router and codec'],
  ];
  for (const [needle, file, layer] of expected) {
    const url = sourceUrlOf(frameOf(needle));
    t.true(url.endsWith(file), `${needle}: ${url}`);
    t.is(layerOf(url), layer, needle);
  }
  // A script that is not a bundle keeps its own URL.
  t.is(sourceUrlOf({ functionName: 'f', url: 'file:///x/dist/src/cluster/client.js', lineNumber: 3, columnNumber: 0 }), 'file:///x/dist/src/cluster/client.js');
});

test('profile self time: each sample stands for the time to the next one; idle time is not CPU', (t) => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '' } },
      { id: 2, callFrame: { functionName: 'call', url: 'file:///x/dist/src/cluster/client.js' } },
      { id: 3, callFrame: { functionName: 'step', url: 'file:///x/dist/src/protocols/multipaxos.js' } },
      { id: 4, callFrame: { functionName: '(idle)', url: '' } },
    ],
    startTime: 0,
    endTime: 100,
    samples: [2, 3, 4, 2],
    timeDeltas: [0, 10, 30, 50],
  };
  const byLayer = selfTimeByLayer(profile);
  t.is(byLayer.client, 10 + 10, 'the first sample until the second, the last until the end');
  t.is(byLayer['replication group'], 30);
  const total = Object.values(byLayer).reduce((a, b) => a + b, 0);
  t.is(total, 50, 'the 50 us of idle are left out');
});

test('a distribution chart draws each sample through the same percentiles, scaled', (t) => {
  const chart = distributionChart(
    'rtt',
    'us',
    [
      { name: 'a', values: [0.004, 0.001, 0.002, 0.003] },
      { name: 'empty', values: [] },
    ],
    1000,
  );
  const a = chart.series[0]!.points;
  t.deepEqual(a[0], [0, 1]);
  t.deepEqual(a.at(-1), [100, 4]);
  t.true(
    a.every((p, i) => i === 0 || p[1] >= a[i - 1]![1]),
    'non-decreasing',
  );
  t.is(chart.series[1]!.points.length, 0);
});
