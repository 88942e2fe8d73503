/**
 * The bench runner: `meridian bench [suite ...] [--quick] [--json FILE] [--html FILE]
 * [--compare OLD.json]` (or `node dist/bench/run.js ...`).
 *
 * Each suite is a module `bench/<suite>.ts` exporting `run(opts): Promise<SuiteResult>`. The
 * runner shows progress on stderr (a bar on a terminal, plain lines otherwise), prints each
 * suite's table, then its one JSON line; `--json FILE` writes every result plus the machine's
 * description, `--html FILE` a self-contained report with plots, `--compare OLD.json` the
 * ratio of every figure to an earlier run's. Bad arguments, and a --json or --html file that
 * cannot be written (found before any suite runs), exit with code 2.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unwritableReason } from '../src/cli/output-file.js';
import { compareReports, type ReportLike } from './lib/compare.js';
import { jsonLine } from './lib/json.js';
import { machineInfo } from './lib/machine.js';
import { Progress } from './lib/progress.js';
import { renderHtml, type BenchReport } from './lib/report.js';
import type { SuiteResult, SuiteRun } from './lib/suite.js';

/** Every suite the runner knows, in the order `run` with no names runs them. */
export const SUITES = ['transport', 'replication', 'commit', 'balancer', 'failover', 'latency-model', 'scale', 'elle', 'sim', 'soak', 'profile'] as const;
export type SuiteName = (typeof SUITES)[number];

/** After the last suite, the process must end by itself; if it does not, a handle leaked. */
export const EXIT_GRACE_MS = 10_000;

export interface RunArgs {
  suites: SuiteName[];
  quick: boolean;
  json: string | undefined;
  html: string | undefined;
  compare: string | undefined;
}

export class UsageError extends Error {}

const USAGE = `usage: meridian bench [suite ...] [--quick] [--json FILE] [--html FILE] [--compare OLD.json]
  suites: ${SUITES.join(', ')} (default: all)
  --quick             small sizes (CI): well under a minute per suite
  --json FILE         write every result and the machine's description to FILE
  --html FILE         write a self-contained HTML report with plots to FILE
  --compare OLD.json  print the ratio of every figure to the same figure in OLD.json`;

const FILE_FLAGS = ['--json', '--html', '--compare'] as const;

export function parseArgs(argv: readonly string[]): RunArgs {
  const suites: SuiteName[] = [];
  let quick = false;
  const files: Record<(typeof FILE_FLAGS)[number], string | undefined> = { '--json': undefined, '--html': undefined, '--compare': undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag = FILE_FLAGS.find((f) => arg === f || arg.startsWith(`${f}=`));
    if (arg === '--quick') {
      quick = true;
    } else if (flag !== undefined) {
      let file: string | undefined;
      if (arg === flag) {
        file = argv[i + 1];
        i++;
      } else {
        file = arg.slice(flag.length + 1);
      }
      if (file === undefined || file === '' || file.startsWith('--')) throw new UsageError(`${flag} needs a file name: ${flag} FILE`);
      files[flag] = file;
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option ${JSON.stringify(arg)}; allowed: --quick, --json FILE, --html FILE, --compare OLD.json`);
    } else if ((SUITES as readonly string[]).includes(arg)) {
      if (!suites.includes(arg as SuiteName)) suites.push(arg as SuiteName);
    } else {
      throw new UsageError(`unknown suite ${JSON.stringify(arg)}; allowed: ${SUITES.join(', ')}`);
    }
  }
  if (files['--compare'] !== undefined && !existsSync(files['--compare'])) throw new UsageError(`--compare: no file ${JSON.stringify(files['--compare'])}`);
  return { suites, quick, json: files['--json'], html: files['--html'], compare: files['--compare'] };
}

function suiteUrl(name: SuiteName): URL {
  return new URL(`./${name}.js`, import.meta.url);
}

async function loadSuite(name: SuiteName): Promise<SuiteRun | undefined> {
  if (!existsSync(fileURLToPath(suiteUrl(name)))) return undefined;
  const mod = (await import(suiteUrl(name).href)) as { run?: unknown };
  if (typeof mod.run !== 'function') throw new Error(`bench/${name}.ts does not export run(opts)`);
  return mod.run as SuiteRun;
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: RunArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  let old: ReportLike | undefined;
  if (args.compare !== undefined) {
    try {
      old = JSON.parse(readFileSync(args.compare, 'utf8')) as ReportLike;
      if (!Array.isArray(old.results)) throw new Error('no "results" array');
    } catch (error) {
      process.stderr.write(`bench: --compare ${args.compare}: not a bench JSON report (${(error as Error).message})\n`);
      return 2;
    }
  }
  // Output files that cannot be written fail now, before any suite runs (not after, its results lost).
  for (const [flag, file] of [
    ['--json', args.json],
    ['--html', args.html],
  ] as const) {
    const reason = file === undefined ? undefined : unwritableReason(file);
    if (reason !== undefined) {
      process.stderr.write(`bench: ${flag}: cannot write ${JSON.stringify(file)}: ${reason}\n`);
      return 2;
    }
  }
  const explicit = args.suites.length > 0;
  const names = explicit ? args.suites : [...SUITES];
  const results: SuiteResult[] = [];
  const skipped: string[] = [];
  const progress = new Progress(names.length);
  for (const name of names) {
    const run = await loadSuite(name);
    if (run === undefined) {
      skipped.push(name);
      process.stderr.write(`bench: suite ${name} is not written yet (no bench/${name}.ts)${explicit ? '' : '; skipped'}\n`);
      continue;
    }
    progress.start(`${name}${args.quick ? ' (quick)' : ''}`);
    const result = await run({ quick: args.quick, log: (line) => progress.log(line) });
    progress.finish(name);
    results.push(result);
    if (result.table !== undefined) process.stdout.write(`${result.table}\n`);
    process.stdout.write(`${jsonLine(result)}\n`);
  }
  const report: BenchReport = { machine: machineInfo() as unknown as Record<string, unknown>, quick: args.quick, skipped, results };
  if (args.json !== undefined) {
    const data = { machine: report.machine, quick: args.quick, skipped, results: results.map((r) => ({ suite: r.suite, figures: r.figures })) };
    writeFileSync(args.json, `${JSON.stringify(data, null, 2)}\n`);
    process.stderr.write(`bench: wrote ${args.json}\n`);
  }
  if (args.html !== undefined) {
    writeFileSync(args.html, renderHtml(report));
    process.stderr.write(`bench: wrote ${args.html}\n`);
  }
  if (old !== undefined) {
    const { table } = compareReports({ results }, old);
    process.stdout.write(`\ncompared with ${args.compare}\n${table}\n`);
  }
  // Asking for a suite by name that does not exist yet is an error; skipping it in "all" is not.
  return explicit && skipped.length > 0 ? 2 : 0;
}

const isEntry = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Not process.exit(): the runner must end because nothing is left running. This
      // watchdog is unref'd, so it only fires when something else keeps the process alive.
      setTimeout(() => {
        process.stderr.write(`bench: still running ${EXIT_GRACE_MS} ms after the last suite; leaked: ${process.getActiveResourcesInfo().join(', ')}\n`);
        process.exit(1);
      }, EXIT_GRACE_MS).unref();
    },
    (error: unknown) => {
      process.stderr.write(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
      setTimeout(() => process.exit(1), EXIT_GRACE_MS).unref();
    },
  );
}
