/**
 * The bench runner: `node dist/bench/run.js [suite ...] [--quick] [--json FILE]`.
 *
 * Each suite is a module `bench/<suite>.ts` exporting `run(opts): Promise<SuiteResult>`. The
 * runner prints each suite's table, then its one JSON line, and with `--json FILE` writes every
 * result plus the machine's description to FILE. Bad arguments exit with code 2.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jsonLine } from './lib/json.js';
import { machineInfo } from './lib/machine.js';
import type { SuiteResult, SuiteRun } from './lib/suite.js';

/** Every suite the runner knows, in the order `run` with no names runs them. */
export const SUITES = ['transport', 'replication', 'commit', 'balancer', 'failover'] as const;
export type SuiteName = (typeof SUITES)[number];

/** After the last suite, the process must end by itself; if it does not, a handle leaked. */
export const EXIT_GRACE_MS = 10_000;

export interface RunArgs {
  suites: SuiteName[];
  quick: boolean;
  json: string | undefined;
}

export class UsageError extends Error {}

const USAGE = `usage: node dist/bench/run.js [suite ...] [--quick] [--json FILE]
  suites: ${SUITES.join(', ')} (default: all that exist)
  --quick      small sizes (CI): well under a minute per suite
  --json FILE  write every result and the machine's description to FILE`;

export function parseArgs(argv: readonly string[]): RunArgs {
  const suites: SuiteName[] = [];
  let quick = false;
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') {
      quick = true;
    } else if (arg === '--json') {
      const file = argv[i + 1];
      if (file === undefined || file.startsWith('--')) throw new UsageError('--json needs a file name: --json FILE');
      json = file;
      i++;
    } else if (arg.startsWith('--json=')) {
      json = arg.slice('--json='.length);
      if (json === '') throw new UsageError('--json needs a file name: --json FILE');
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option ${JSON.stringify(arg)}; allowed: --quick, --json FILE`);
    } else if ((SUITES as readonly string[]).includes(arg)) {
      if (!suites.includes(arg as SuiteName)) suites.push(arg as SuiteName);
    } else {
      throw new UsageError(`unknown suite ${JSON.stringify(arg)}; allowed: ${SUITES.join(', ')}`);
    }
  }
  return { suites, quick, json };
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

async function main(argv: readonly string[]): Promise<number> {
  let args: RunArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  const explicit = args.suites.length > 0;
  const names = explicit ? args.suites : [...SUITES];
  const results: SuiteResult[] = [];
  const skipped: string[] = [];
  for (const name of names) {
    const run = await loadSuite(name);
    if (run === undefined) {
      skipped.push(name);
      process.stderr.write(`bench: suite ${name} is not written yet (no bench/${name}.ts)${explicit ? '' : '; skipped'}\n`);
      continue;
    }
    process.stderr.write(`bench: ${name}${args.quick ? ' (quick)' : ''}...\n`);
    const result = await run({ quick: args.quick });
    results.push(result);
    if (result.table !== undefined) process.stdout.write(`${result.table}\n`);
    process.stdout.write(`${jsonLine(result)}\n`);
  }
  if (args.json !== undefined) {
    const report = { machine: machineInfo(), quick: args.quick, skipped, results: results.map((r) => ({ suite: r.suite, figures: r.figures })) };
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`bench: wrote ${args.json}\n`);
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
