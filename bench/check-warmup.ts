/**
 * How a fresh thread's seeds cost as V8 compiles the code: `meridian check`'s default
 * scenario (mode active), seeds 1, 2, ... run one after another in this thread (a pool
 * worker runs its seeds the same way), CPU and wall milliseconds per seed for each of the
 * first seeds, then per block of 10. CPU is the process's (process.cpuUsage), V8's compiler
 * and GC threads included; the module import is shown apart.
 *
 * A `meridian check` worker starts cold: on the 2-core development machine the first seeds
 * cost several times the later ones, so a short check spends much of its time here.
 *
 * A check run lowers V8's inlining budget while it goes on (src/harness/inline-budget.ts); these
 * seeds are no run's, so they compile with V8's default. To see what a pool worker pays, give
 * node the run's flag: node --max-inlined-bytecode-size-cumulative=100 dist/bench/check-warmup.js
 *
 * Run: node dist/bench/check-warmup.js [seeds, default 60] (--help: the usage)
 */
import { performance } from 'node:perf_hooks';
import { atMost, intArg, scriptArgs } from './lib/script-args.js';

const SEEDS_DEFAULT = 60;
const SINGLE_SEEDS = 10;
const BLOCK = 10;
const SEEDS_MAX = 10_000;

const USAGE = `usage: node dist/bench/check-warmup.js [SEEDS]
  SEEDS  seeds to run, an integer from ${SINGLE_SEEDS + BLOCK} to ${SEEDS_MAX} (default ${SEEDS_DEFAULT})
  --help this text`;

function cpuMs(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

async function main(): Promise<void> {
  const seeds = scriptArgs('check-warmup', USAGE, process.argv.slice(2), (args) => {
    atMost(args, 1, 'it takes one: SEEDS');
    return args[0] === undefined ? SEEDS_DEFAULT : intArg(args[0], 'SEEDS', SINGLE_SEEDS + BLOCK, SEEDS_MAX);
  });
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const { runOneSeed } = await import('../src/harness/check-runner.js');
  const cells = [`import ${cpuMs(c0).toFixed(0)}/${(performance.now() - w0).toFixed(0)}`];
  let seed = 1;
  for (; seed <= SINGLE_SEEDS; seed++) {
    const c = process.cpuUsage();
    const w = performance.now();
    await runOneSeed({ seed, mode: 'active' });
    cells.push(`${seed}: ${cpuMs(c).toFixed(0)}/${(performance.now() - w).toFixed(0)}`);
  }
  while (seed + BLOCK - 1 <= seeds) {
    const c = process.cpuUsage();
    const w = performance.now();
    for (let i = 0; i < BLOCK; i++) await runOneSeed({ seed: seed + i, mode: 'active' });
    cells.push(`${seed}-${seed + BLOCK - 1}: ${(cpuMs(c) / BLOCK).toFixed(0)}/${((performance.now() - w) / BLOCK).toFixed(0)}`);
    seed += BLOCK;
  }
  console.log(`check warm-up, CPU/wall ms per seed (default scenario, active, one thread): ${cells.join(', ')}`);
}

await main();
