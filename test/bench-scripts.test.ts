import test from 'ava';
import { runNode, type NodeRun } from './helpers/run-node.js';

/**
 * The bench scripts run by themselves (check-warmup, lone-put-gaps, thread-cpu, and the suites
 * elle and balancer-pure): a bad argument
 * printed a stack trace (an Error thrown from the top-level await); it is now one line naming
 * the argument and what is allowed, exit 2 as bench/run.ts gives a usage error, and --help
 * prints the usage. Only refused arguments are given here: a good one runs the bench.
 */

function script(name: string, args: string[]): Promise<NodeRun> {
  return runNode(new URL(`../bench/${name}.js`, import.meta.url), args, 60_000);
}

const CASES: Array<[string, string[], string]> = [
  ['check-warmup', ['x'], 'bench check-warmup: SEEDS: an integer from 20 to 10000, got "x" (--help prints the usage)\n'],
  ['check-warmup', ['5'], 'bench check-warmup: SEEDS: an integer from 20 to 10000, got "5" (--help prints the usage)\n'],
  // Decimal digits only, as the commands' flags: 1e2 was read as 100.
  ['check-warmup', ['1e2'], 'bench check-warmup: SEEDS: an integer from 20 to 10000, got "1e2" (--help prints the usage)\n'],
  // A second argument was ignored without a word.
  ['check-warmup', ['30', '40'], 'bench check-warmup: unexpected argument "40"; it takes one: SEEDS (--help prints the usage)\n'],
  ['lone-put-gaps', ['bogus'], 'bench lone-put-gaps: MODE: one of none, active, passive, hybrid, got "bogus" (--help prints the usage)\n'],
  ['lone-put-gaps', ['none', 'x'], 'bench lone-put-gaps: unexpected argument "x"; it takes one: MODE (--help prints the usage)\n'],
  ['thread-cpu', ['--quick'], 'bench thread-cpu: MODE: one of none, active, passive, hybrid, got "--quick" (--help prints the usage)\n'],
  // The suites run by themselves: --quik ran the full elle suite once (process.argv.includes('--quick')).
  ['elle', ['--quik'], 'bench elle: unknown argument "--quik"; allowed: --quick, or nothing (--help prints the usage)\n'],
  ['balancer-pure', ['quick'], 'bench balancer-pure: unknown argument "quick"; allowed: --quick, or nothing (--help prints the usage)\n'],
];

for (const [name, args, line] of CASES) {
  test(`bench/${name}.js ${args.join(' ')}: one line naming the argument, exit 2, nothing run`, async (t) => {
    const r = await script(name, args);
    t.is(r.code, 2, r.stderr);
    t.is(r.stderr, line);
    t.is(r.stdout, '');
  });
}

for (const name of ['check-warmup', 'lone-put-gaps', 'thread-cpu', 'elle', 'balancer-pure']) {
  test(`bench/${name}.js --help prints its usage and runs nothing`, async (t) => {
    const r = await script(name, ['--help']);
    t.is(r.code, 0, r.stderr);
    t.true(r.stdout.startsWith(`usage: node dist/bench/${name}.js [`), r.stdout);
    t.is(r.stderr, '');
  });
}

// The repository's long-run scripts (scripts/, run after a build): --help was an unknown argument.
for (const [name, bad, line] of [
  [
    'mutants',
    '--bogus',
    'mutants: unknown argument --bogus (--seeds N, --workers K, --only a,b, --json, then -- and check flags for every run; --help prints the usage)\n',
  ],
  ['nats-soak', '--x', 'nats-soak: unknown flag "--x" (--from, --runs, --mode, --commit, --transport, --out; --help prints the usage)\n'],
] as const) {
  test(`scripts/${name}.mjs: --help prints its usage, a bad argument one line and exit 2, nothing run`, async (t) => {
    const file = new URL(`../../scripts/${name}.mjs`, import.meta.url);
    const help = await runNode(file, ['--help'], 60_000);
    t.is(help.code, 0, help.stderr);
    t.true(help.stdout.startsWith(`usage: node scripts/${name}.mjs [`), help.stdout);
    const r = await runNode(file, [bad, '1'], 60_000);
    t.is(r.code, 2, r.stderr);
    t.is(r.stderr, line);
    t.is(r.stdout, '');
  });
}
