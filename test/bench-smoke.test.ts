import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../bench/transport.js';
import { main as benchMain, parseArgs, readCompareReport, SUITES, UsageError, wantsHelp } from '../bench/run.js';
import { unwritableReason } from '../src/cli/output-file.js';
import { median, percentile } from '../bench/lib/stats.js';
import { formatTable } from '../bench/lib/table.js';
import { quickOnly, ScriptArgError } from '../bench/lib/script-args.js';
import { runNode, type NodeRun } from './helpers/run-node.js';

// Benchmarks are not tests: this proves the transport suite runs end to end and yields
// figures, never how fast anything is.
test('transport suite (tiny) yields finite positive figures and a table', async (t) => {
  const result = await run({ quick: true, tiny: true, log: (line) => t.log(line) });
  t.is(result.suite, 'transport');
  const required = [
    'ratio_to_raw',
    'ratio_to_comlink',
    'rtt_ratio',
    'boot_ms_3x3',
    'boot_ms_packed_1000',
    'boot_ms_sim_10000',
    'raw_msgs_per_s',
    'meridian_msgs_per_s',
    'comlink_calls_per_s',
  ];
  for (const name of required) t.true(name in result.figures, `figure ${name} is missing`);
  // A count of boot probes made again: 0 on a quiet machine.
  const counts = new Set(['boot_retries']);
  for (const [name, value] of Object.entries(result.figures)) {
    t.is(typeof value, 'number', `figure ${name} is not a number: ${JSON.stringify(value)}`);
    if (counts.has(name)) t.true(Number.isInteger(value) && (value as number) >= 0, `figure ${name} is not a count: ${String(value)}`);
    else t.true(Number.isFinite(value as number) && (value as number) > 0, `figure ${name} is not finite and positive: ${String(value)}`);
  }
  t.true(typeof result.table === 'string' && result.table.includes('meridian'));
});

test('runner arguments: suites, --quick, --json, --html, --compare; unknown names are refused with the allowed list', (t) => {
  const none = { json: undefined, html: undefined, compare: undefined };
  t.deepEqual(parseArgs([]), { suites: [], quick: false, ...none });
  t.deepEqual(parseArgs(['transport', '--quick', '--json', 'out.json']), { suites: ['transport'], quick: true, ...none, json: 'out.json' });
  t.deepEqual(parseArgs(['--json=x.json', 'transport', 'sim', '--html', 'r.html']), {
    suites: ['transport', 'sim'],
    quick: false,
    ...none,
    json: 'x.json',
    html: 'r.html',
  });
  const unknownSuite = t.throws(() => parseArgs(['transprot']), { instanceOf: UsageError });
  t.true(unknownSuite.message.includes('transprot'));
  for (const name of SUITES) t.true(unknownSuite.message.includes(name), `allowed list lacks ${name}`);
  const unknownFlag = t.throws(() => parseArgs(['--fast']), { instanceOf: UsageError });
  t.true(unknownFlag.message.includes('--fast') && unknownFlag.message.includes('--quick'));
  // Nothing after it: no value, worded as the commands' flags ("got null" read as a value: found by an audit, session 60).
  t.throws(() => parseArgs(['--json']), { instanceOf: UsageError, message: /^--json needs a file to write every result .*, got no value$/ });
  t.throws(() => parseArgs(['--quick', '--html']), {
    instanceOf: UsageError,
    message: /^--html needs a file to write the HTML report to, got no value$/,
  });
  // --help takes no value: --help=x printed the usage and exited 0 (found by an audit, session 60).
  t.false(wantsHelp(['--help=x']));
  t.throws(() => parseArgs(['--help=x']), { instanceOf: UsageError, message: /^--help takes no value, got "x"$/ });
  t.throws(() => parseArgs(['--html', '--quick']), { instanceOf: UsageError, message: /^--html needs a file to write the HTML report to, got "--quick"$/ });
  t.throws(() => parseArgs(['--json=']), { instanceOf: UsageError, message: /--json needs a file .*, got ""$/ });
  // `-` wrote a file named - (standard output carries the tables): refused, ./- still names that file.
  t.throws(() => parseArgs(['--json', '-']), {
    instanceOf: UsageError,
    message: /^--json needs a file to write every result .*, got "-": a path, not standard output/,
  });
  t.throws(() => parseArgs(['--html=-']), {
    instanceOf: UsageError,
    message: /^--html needs a file to write the HTML report to, got "-": a path, not standard output/,
  });
  t.is(parseArgs(['--json', './-']).json, './-');
  t.throws(() => parseArgs(['--compare', 'no-such-file.json']), {
    instanceOf: UsageError,
    message: '--compare needs a report an earlier run wrote with --json, got "no-such-file.json": no such file',
  });
  // Each of these was taken silently: a suite named twice ran once, a flag given twice kept its
  // last file, --json and --html to one file left only the HTML, --html onto the --compare report destroyed it.
  t.throws(() => parseArgs(['sim', 'transport', 'sim']), { instanceOf: UsageError, message: 'suite "sim" named twice: each suite runs once, name it once' });
  t.throws(() => parseArgs(['--json', 'a.json', '--json=b.json']), {
    instanceOf: UsageError,
    message: '--json given twice ("a.json" and "b.json"): give it once',
  });
  t.throws(() => parseArgs(['--json', 'r', '--html', './r']), { instanceOf: UsageError, message: /^--json and --html name the same file "r"/ });
  t.throws(() => parseArgs(['--html', 'package.json', '--compare', 'package.json']), {
    instanceOf: UsageError,
    message: /^--html and --compare name the same file/,
  });
  t.notThrows(() => parseArgs(['--json', 'package.json', '--compare', 'package.json']), '--json OLD --compare OLD: compare, then replace');
});

test('--compare: a report that is not what --json writes is refused with the reason, and accepted when it is', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-'));
  try {
    const cases: Array<[string, RegExp]> = [
      ['{"results":', /: not JSON \(/],
      ['null', /: no "results" array$/],
      ['{"results":{}}', /: no "results" array$/],
      ['{"results":[{"suite":"sim","figures":{}},{"suite":"transport"}]}', /: results\[1\] is not \{ "suite": name, "figures": \{\.\.\.\} \}$/],
      ['{"results":[null]}', /: results\[0\] is not/],
    ];
    for (const [text, why] of cases) {
      const file = join(dir, 'old.json');
      writeFileSync(file, text);
      const error = t.throws(() => readCompareReport(file), { instanceOf: UsageError });
      t.true(error.message.startsWith(`--compare needs a report an earlier run wrote with --json, got ${JSON.stringify(file)}: `), error.message);
      t.regex(error.message, why);
    }
    t.throws(() => readCompareReport(dir), { instanceOf: UsageError, message: /EISDIR/ });
    writeFileSync(join(dir, 'ok.json'), '{"machine":{},"results":[{"suite":"sim","figures":{"a":1}}]}');
    t.is(readCompareReport(join(dir, 'ok.json')).results[0]!.suite, 'sim');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `node dist/src/cli.js ARGS`, as a user runs `meridian`. */
function meridian(args: string[], timeoutMs: number): Promise<NodeRun> {
  return runNode(new URL('../src/cli.js', import.meta.url), args, timeoutMs);
}

test.serial(
  'meridian bench: --help, a garbled --compare report and a suite named twice exit before any suite runs; meridian --help names every bench flag',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-'));
    try {
      const garbled = join(dir, 'old.json');
      writeFileSync(garbled, '{"results":[{"suite":"sim"}]}');
      // Before: the garbled report passed (it has a results array), sim ran, then the comparison threw (exit 1).
      // `meridian bench ARGS` is bench/run.ts's main(ARGS) (src/cli.ts sets the exit status to what it
      // returns), run here in this process (benchHere); a process each cost CPU for nothing looked at.
      // That `meridian bench` reaches it is test/bench-interrupt.test.ts's (SIGINT to meridian bench).
      // The top usage (src/cli/top.ts) is what src/cli.ts prints: `meridian --help` in a process.
      const top = await meridian(['--help'], 30_000);
      const help = await benchHere(['--help']);
      const compare = await benchHere(['sim', '--quick', '--compare', garbled]);
      const twice = await benchHere(['sim', 'sim', '--quick']);
      t.is(help.code, 0, help.stderr);
      for (const name of SUITES) t.true(help.stdout.includes(name), `bench --help lacks suite ${name}`);
      t.is(compare.code, 2, compare.stderr);
      t.is(compare.stdout, '', 'no suite ran');
      t.true(
        compare.stderr.startsWith(`bench: --compare needs a report an earlier run wrote with --json, got ${JSON.stringify(garbled)}: results[0] is not`),
        compare.stderr,
      );
      t.is(twice.code, 2, twice.stderr);
      t.is(twice.stdout, '', 'no suite ran');
      t.regex(twice.stderr, /^bench: suite "sim" named twice/);
      // The short usage listed --quick and --json only.
      t.is(top.code, 0);
      const benchLine = top.stdout.split('\n').find((l) => l.trimStart().startsWith('meridian bench'));
      const topFlags = new Set(benchLine?.match(/--[a-z-]+/g));
      const benchFlags = new Set(help.stdout.match(/--[a-z-]+/g));
      benchFlags.delete('--help');
      for (const flag of benchFlags) t.true(topFlags.has(flag), `${flag} (in bench --help) is not on meridian --help's bench line: ${benchLine}`);
      for (const flag of topFlags) t.true(flag === '--help' || benchFlags.has(flag), `${flag} is not a bench flag`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

/**
 * The `main` that `node dist/bench/run.js ARGS` runs (it sets the exit status to what main
 * returns), in this process: what it returns and what it wrote. A process of its own cost CPU
 * for nothing the test looks at. It borrows process.stdout and process.stderr, so only a serial
 * test calls it (ava runs those before the others).
 */
async function benchHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [out, err] = [process.stdout.write, process.stderr.write];
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { code: await benchMain(args), stdout, stderr };
  } finally {
    [process.stdout.write, process.stderr.write] = [out, err];
  }
}

test.serial('an output file that cannot be written fails before any suite runs (exit 2), and the probe leaves no trace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-'));
  try {
    for (const flag of ['--json', '--html']) {
      const file = join(dir, 'no-such-dir', 'x');
      const r = await benchHere(['sim', '--quick', flag, file]);
      t.is(r.code, 2, r.stderr);
      t.is(r.stderr, `bench: ${flag}: cannot write ${JSON.stringify(file)}: ENOENT: no such file or directory, open '${file}'\n`);
      t.is(r.stdout, '', 'no suite ran');
    }
    // A writable path passes the probe untouched: an old report (read by --compare) keeps its content, a new file is not left behind.
    const old = join(dir, 'old.json');
    writeFileSync(old, '{"results":[]}');
    const fresh = join(dir, 'fresh.html');
    t.is(unwritableReason(old), undefined);
    t.is(readFileSync(old, 'utf8'), '{"results":[]}');
    t.is(unwritableReason(fresh), undefined);
    t.throws(() => readFileSync(fresh), { code: 'ENOENT' });
    t.regex(unwritableReason(dir) ?? '', /EISDIR/, 'a directory is not a file to write');
    // A link to a file not there yet is writable (writing creates its target), and the probe leaves no target behind;
    // a link into a missing folder or a loop of links is not (found by an audit, session 55: EEXIST for the first).
    const link = join(dir, 'link.json');
    symlinkSync('target.json', link);
    t.is(unwritableReason(link), undefined);
    t.throws(() => readFileSync(join(dir, 'target.json')), { code: 'ENOENT' });
    const lost = join(dir, 'lost.json');
    symlinkSync(join(dir, 'no-such-dir', 't.json'), lost);
    t.regex(unwritableReason(lost) ?? '', /ENOENT/);
    const loop = join(dir, 'loop.json');
    symlinkSync('loop.json', loop);
    t.regex(unwritableReason(loop) ?? '', /ELOOP/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a suite run by itself (node dist/bench/elle.js) takes --quick or nothing; anything else is refused, not a full run', (t) => {
  t.false(quickOnly([]));
  t.true(quickOnly(['--quick']));
  // Was: process.argv.includes('--quick'), so --quik ran the full elle suite (bench-scripts.test.ts runs the scripts).
  t.throws(() => quickOnly(['--quik']), { instanceOf: ScriptArgError, message: 'unknown argument "--quik"; allowed: --quick, or nothing' });
});

test('percentiles by nearest rank, median, and table alignment', (t) => {
  const values = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
  t.is(percentile(values, 50), 5);
  t.is(percentile(values, 99), 10);
  t.is(percentile(values, 0), 1);
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 2, 3]), 2.5);
  t.true(Number.isNaN(percentile([], 50)));
  const table = formatTable(
    ['name', 'n'],
    [
      ['a', 1_000],
      ['bb', 2],
    ],
  ).split('\n');
  t.is(table[2], 'a     1,000');
  t.is(table[3], 'bb        2');
});
