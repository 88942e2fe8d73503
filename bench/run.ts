/**
 * The bench runner: `meridian bench [suite ...] [--quick] [--json FILE] [--html FILE]
 * [--compare OLD.json]` (or `node dist/bench/run.js ...`).
 *
 * Each suite is a module `bench/<suite>.ts` exporting `run(opts): Promise<SuiteResult>`. The
 * runner shows progress on stderr (a bar on a terminal, plain lines otherwise), prints each
 * suite's table, then its one JSON line; `--json FILE` writes every result plus the machine's
 * description, `--html FILE` a self-contained report with plots, `--compare OLD.json` the
 * ratio of every figure to an earlier run's. Everything a run needs is checked before any suite
 * starts, each failure exit code 2 with a line naming the flag: an unknown suite or flag, a suite
 * or file flag given twice, a flag without its file, --json and --html to one file, a --compare
 * file that is not a --json report, a --json or --html file that cannot be written. `--help`
 * prints the usage. Ctrl-C (SIGINT) stops the run: the suite running is abandoned (its clusters
 * stopped), --json and --html are written with the suites that finished and an `interrupted`
 * entry (the signal, SIGINT or SIGTERM, which the HTML names; the suite cut short, its progress lines so far, the suites never started), and the
 * exit status is 130 (SIGTERM alike, 143); a second Ctrl-C quits at once. A suite that throws
 * is one line (`bench: suite NAME failed: ...`), the suites after it still run, --json gets a
 * `failed` entry, and the exit status is 1. A --json or --html file that cannot be written at
 * the end (its folder removed during the run) is one line, and the exit status 2 whatever the
 * suites did, as check's and verify's files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readArgs, wantsHelp as commandWantsHelp } from '../src/cli/flags.js';
import { outputFileFlag, sameFile, unwritableReason, writeText } from '../src/cli/output-file.js';
import { EXIT_INTERNAL_ERROR, EXIT_OUTPUT_LOST, exitOnInternalError, guardProcess, internalErrorLine } from '../src/cli/process-end.js';
import { compareReports, type ReportLike } from './lib/compare.js';
import { jsonLine } from './lib/json.js';
import { INTERRUPTED_STATUS, interruptedStatus, untilInterrupted } from '../src/cli/interrupt.js';
import { machineInfo } from './lib/machine.js';
import { stopRuntimes } from '../src/runtime/temp-dirs.js';
import { Progress } from './lib/progress.js';
import { renderHtml, type BenchReport, type Interruption } from './lib/report.js';
import type { SuiteResult, SuiteRun } from './lib/suite.js';

/** Every suite the runner knows, in the order `run` with no names runs them. */
export const SUITES = ['transport', 'replication', 'commit', 'balancer', 'failover', 'latency-model', 'scale', 'elle', 'sim', 'soak', 'profile'] as const;
export type SuiteName = (typeof SUITES)[number];

/** After the last suite, the process must end by itself; if it does not, a handle leaked. */
export const EXIT_GRACE_MS = 10_000;
/** The longest wait, once interrupted, for the clusters of the suite cut short to stop before the runner quits regardless. */
export const RUNTIMES_STOP_WAIT_MS = 10_000;

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
  --quick             small sizes (CI): about a minute of CPU per suite (sim and soak more)
  --json FILE         write every result and the machine's description to FILE
  --html FILE         write a self-contained HTML report with plots to FILE
  --compare OLD.json  print the ratio of every figure to the same figure in OLD.json (a report --json wrote)
  --help              this text
  each suite once; --json, --html and --compare once each, --json and --html to different files,
  each a path (- is refused: standard output carries the tables)
  Ctrl-C stops the run: --json and --html get the suites that finished and say where it stopped (exit 130; SIGTERM 143); Ctrl-C again quits at once
  exit status: 0 every suite ran; 1 a suite failed (the others still run); 2 a bad flag or file, before any suite runs,
    or a --json or --html file (or standard output) that cannot be written at the end; 130 Ctrl-C (143 SIGTERM);
    70 meridian itself failed (an internal error: a bug to report)`;

const FILE_FLAGS = ['--json', '--html', '--compare'] as const;
const FILE_FLAG_NEEDS: Record<(typeof FILE_FLAGS)[number], string> = {
  '--json': "a file to write every result and the machine's description to",
  '--html': 'a file to write the HTML report to',
  '--compare': 'a report an earlier run wrote with --json',
};

/** The bench flags that take no value. */
const BARE_FLAGS: ReadonlySet<string> = new Set(['--quick']);

/**
 * `--help` or `-h` where a flag goes (not as a file's name: `--json -h`): print the usage and run
 * nothing. Not `--help=x`, which parseArgs refuses (it printed the usage and exited 0: found by
 * an audit, session 60).
 */
export function wantsHelp(argv: readonly string[]): boolean {
  return commandWantsHelp(argv, BARE_FLAGS);
}

export function parseArgs(argv: readonly string[]): RunArgs {
  const suites: SuiteName[] = [];
  let quick = false;
  const files: Record<(typeof FILE_FLAGS)[number], string | undefined> = { '--json': undefined, '--html': undefined, '--compare': undefined };
  for (const read of readArgs(argv, BARE_FLAGS)) {
    const { arg, value: file } = read;
    const flag = FILE_FLAGS.find((f) => arg === f);
    if (arg === '--quick' || arg === '--help') {
      if (read.inline) throw new UsageError(`${arg} takes no value, got ${JSON.stringify(file)}`);
      quick ||= arg === '--quick';
    } else if (flag !== undefined) {
      // outputFileFlag refuses a missing value as the commands' flags do ("got no value": bench said
      // "the value is missing" until session 68), and `-` for --json and --html (standard output
      // carries the tables); --compare reads its file, and `-` there is a file of that name (or no
      // such file, below).
      const parsed = outputFileFlag(flag, file, FILE_FLAG_NEEDS[flag]);
      if ('wrong' in parsed && !(flag === '--compare' && file === '-')) throw new UsageError(parsed.wrong);
      // Given twice, one of the two would be ignored (a report not written where asked).
      if (files[flag] !== undefined) throw new UsageError(`${flag} given twice (${JSON.stringify(files[flag])} and ${JSON.stringify(file)}): give it once`);
      files[flag] = file;
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option ${JSON.stringify(arg)}; allowed: --quick, --json FILE, --html FILE, --compare OLD.json, --help`);
    } else if ((SUITES as readonly string[]).includes(arg)) {
      if (suites.includes(arg as SuiteName)) throw new UsageError(`suite ${JSON.stringify(arg)} named twice: each suite runs once, name it once`);
      suites.push(arg as SuiteName);
    } else {
      throw new UsageError(`unknown suite ${JSON.stringify(arg)}; allowed: ${SUITES.join(', ')}`);
    }
  }
  const [json, html, compare] = [files['--json'], files['--html'], files['--compare']];
  // Both written at the end: the second would overwrite the first.
  // sameFile: a path that resolves alike, or a link to the same file.
  if (json !== undefined && html !== undefined && sameFile(json, html))
    throw new UsageError(`--json and --html name the same file ${JSON.stringify(json)}: the HTML report would overwrite the JSON one; give two files`);
  // --json OLD --compare OLD replaces the old report with the new one (compared first); --html OLD would leave no report to compare with.
  if (html !== undefined && compare !== undefined && sameFile(html, compare))
    throw new UsageError(
      `--html and --compare name the same file ${JSON.stringify(html)}: the HTML report would overwrite the JSON report it compares with; give two files`,
    );
  if (compare !== undefined && !existsSync(compare))
    throw new UsageError(`--compare needs ${FILE_FLAG_NEEDS['--compare']}, got ${JSON.stringify(compare)}: no such file`);
  return { suites, quick, json, html, compare };
}

/**
 * The report `--compare` names, read and checked before any suite runs: a JSON object whose
 * `results` are `{ suite: string, figures: object }` (what --json writes). A garbled one would
 * otherwise fail the comparison after the whole run. Throws a UsageError saying what is wrong.
 */
export function readCompareReport(file: string): ReportLike {
  const bad = (why: string): UsageError => new UsageError(`--compare needs ${FILE_FLAG_NEEDS['--compare']}, got ${JSON.stringify(file)}: ${why}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw bad((error as Error).message);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw bad(`not JSON (${(error as Error).message})`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(doc) || !Array.isArray(doc.results)) throw bad('no "results" array');
  const results: ReportLike['results'] = [];
  doc.results.forEach((r: unknown, i: number) => {
    if (!isObject(r) || typeof r.suite !== 'string' || !isObject(r.figures)) throw bad(`results[${i}] is not { "suite": name, "figures": {...} }`);
    // compareReports walks the figures by recursion: nested thousands deep, it overflowed the
    // stack after every suite had run, an internal error with the comparison lost (an audit,
    // session 69).
    if (nestedDeeper(r.figures, FIGURES_DEPTH_MAX)) throw bad(`results[${i}].figures nest more than ${FIGURES_DEPTH_MAX} deep`);
    results.push({ suite: r.suite, figures: r.figures });
  });
  return { results };
}

/** How deep a --compare report's figures may nest: a suite's nest two or three levels (by mode, by size). */
export const FIGURES_DEPTH_MAX = 32;

/** Whether `value` holds objects or arrays more than `max` deep (itself one), walked without recursion. */
function nestedDeeper(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, depth] = top;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
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

export { INTERRUPTED_STATUS };

/** What tests replace: where suites come from, and the signal that stands for Ctrl-C. */
export interface RunHooks {
  /** A suite's run function, or undefined when it is not written yet (default: bench/<name>.js). */
  loadSuite?: (name: SuiteName) => Promise<SuiteRun | undefined>;
  /** Aborted when the run is to stop (default: the first Ctrl-C; the second quits at once). */
  interrupt?: AbortSignal;
}

export async function main(argv: readonly string[], hooks: RunHooks = {}): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let args: RunArgs;
  let old: ReportLike | undefined;
  try {
    args = parseArgs(argv);
    if (args.compare !== undefined) old = readCompareReport(args.compare);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
    return 2;
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
  // A suite asked for by name that is not written yet fails now, not after the others ran.
  const missing = hooks.loadSuite === undefined ? names.filter((name) => !existsSync(fileURLToPath(suiteUrl(name)))) : [];
  if (explicit && missing.length > 0) {
    process.stderr.write(`bench: suite ${missing.join(', ')} is not written yet (no ${missing.map((m) => `bench/${m}.ts`).join(', ')})\n`);
    return 2;
  }
  const suites = { names, load: hooks.loadSuite ?? loadSuite };
  if (hooks.interrupt !== undefined) return runSuites(args, old, suites, hooks.interrupt);
  let stopped: AbortSignal | undefined;
  const code = await untilInterrupted((signal) => runSuites(args, old, suites, (stopped = signal)));
  // Ctrl-C or SIGTERM: the suite cut short still runs (its threads, its timers) and would keep
  // the process alive to its end, whoever called main (dist/bench/run.js or `meridian bench`).
  // What finished is written: its clusters are stopped (their threads, host processes and
  // temporary folders: quitting left the folders behind, found by an audit, session 56), and
  // it quits. A folder made after that goes as the process exits (src/runtime/temp-dirs.ts), a
  // nats-server when its lifeline pipe closes.
  if (stopped?.aborted === true) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopRuntimes(), new Promise((resolve) => (timer = setTimeout(resolve, RUNTIMES_STOP_WAIT_MS)))]);
    clearTimeout(timer);
    process.exit(code);
  }
  return code;
}

/**
 * Runs the suites one after another, printing each one's table and JSON line, then writes
 * --json and --html and prints the comparison. When `interrupt` aborts (Ctrl-C), the suite
 * running is abandoned (the caller exits, which ends it) and the same is done with the suites
 * that finished, the report saying where the run stopped; it returns INTERRUPTED_STATUS.
 */
async function runSuites(
  args: RunArgs,
  old: ReportLike | undefined,
  suites: { names: SuiteName[]; load: (name: SuiteName) => Promise<SuiteRun | undefined> },
  interrupt: AbortSignal,
): Promise<number> {
  const { names } = suites;
  const results: SuiteResult[] = [];
  const skipped: string[] = [];
  const progress = new Progress(names.length);
  const stopped = new Promise<'interrupted'>((resolve) => {
    if (interrupt.aborted) resolve('interrupted');
    else interrupt.addEventListener('abort', () => resolve('interrupted'), { once: true });
  });
  let interrupted: Interruption | undefined;
  /** Suites that threw: each said in one line, kept in --json, the run going on to the next; exit 1. */
  const failed: Array<{ suite: SuiteName; error: string }> = [];
  for (const [i, name] of names.entries()) {
    // The progress lines of the suite running: what it measured so far, kept if Ctrl-C cuts it short.
    const lines: string[] = [];
    const loaded = await Promise.race([suites.load(name), stopped]);
    let outcome: SuiteResult | 'interrupted' | undefined;
    if (loaded === 'interrupted') outcome = loaded;
    else if (loaded === undefined) {
      skipped.push(name);
      process.stderr.write(`bench: suite ${name} is not written yet (no bench/${name}.ts); skipped\n`);
      continue;
    } else {
      progress.start(`${name}${args.quick ? ' (quick)' : ''}`);
      const log = (line: string): void => {
        lines.push(line);
        progress.log(line);
      };
      try {
        outcome = await Promise.race([loaded({ quick: args.quick, log }), stopped]);
      } catch (error) {
        // Before, the whole run ended here with a stack trace, and --json and --html were not
        // written, with the suites that had finished.
        const message = error instanceof Error ? error.message : String(error);
        failed.push({ suite: name, error: message });
        progress.interrupt();
        process.stderr.write(`bench: suite ${name} failed: ${message}\n`);
        continue;
      }
    }
    if (outcome === 'interrupted') {
      const signal = interrupt.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
      interrupted = { signal, suite: name, lines, notRun: names.slice(i + 1) };
      progress.interrupt();
      const done = results.length === 0 ? 'no suite had finished' : `${results.map((r) => r.suite).join(', ')} had finished`;
      const files = [args.json, args.html].filter((f) => f !== undefined);
      process.stderr.write(
        `bench: interrupted (${signal === 'SIGTERM' ? 'SIGTERM' : 'Ctrl-C'}) during ${name}: ${done}${files.length > 0 ? `; writing ${files.join(' and ')} with what finished` : ''}\n`,
      );
      break;
    }
    progress.finish(name);
    results.push(outcome);
    if (outcome.table !== undefined) process.stdout.write(`${outcome.table}\n`);
    process.stdout.write(`${jsonLine(outcome)}\n`);
  }
  const report: BenchReport = { machine: { ...machineInfo() }, quick: args.quick, skipped, results };
  if (interrupted !== undefined) report.interrupted = interrupted;
  if (failed.length > 0) report.failed = failed;
  // A file that became unwritable during the run (its folder removed, the disk full) costs that
  // file only: the other is still written and the comparison still printed; the exit status is
  // EXIT_OUTPUT_LOST (2), as check's and verify's for their files, whatever the suites did: a
  // caller would otherwise read the file's earlier content as this run's. It was 1, which a
  // failed suite gives (an audit, session 69).
  let code = 0;
  // Each file whole or as it was (writeText: a new file renamed over it), not cut short.
  const write = (flag: string, file: string, text: () => string): void => {
    const err = (line: string): void => void process.stderr.write(`${line}\n`);
    let content: string;
    try {
      content = text();
    } catch (error) {
      // Making the report threw (renderHtml on a chart it cannot draw): a bug, not a file that
      // cannot be written, as it read ('cannot write "r.html": Cannot read properties of null'),
      // exit 1 then 2. The other file is still written (an audit, session 69).
      err(`bench: ${flag}: ${JSON.stringify(file)} not written: ${internalErrorLine('bench', error)}`);
      code = EXIT_INTERNAL_ERROR;
      return;
    }
    if (writeText('bench', file, content, flag, err)) process.stderr.write(`bench: wrote ${file}\n`);
    else if (code === 0) code = EXIT_OUTPUT_LOST;
  };
  if (args.json !== undefined) {
    const data: Record<string, unknown> = {
      machine: report.machine,
      quick: args.quick,
      skipped,
      results: results.map((r) => ({ suite: r.suite, figures: r.figures })),
    };
    if (interrupted !== undefined) data.interrupted = interrupted;
    if (failed.length > 0) data.failed = failed;
    write('--json', args.json, () => `${JSON.stringify(data, null, 2)}\n`);
  }
  if (args.html !== undefined) write('--html', args.html, () => renderHtml(report));
  if (old !== undefined) {
    const { table } = compareReports({ results }, old);
    process.stdout.write(`\ncompared with ${args.compare}${interrupted === undefined ? '' : ` (the suites that finished)`}\n${table}\n`);
  }
  if (interrupted !== undefined) {
    const status = code === 0 ? interruptedStatus(interrupt) : code;
    process.stderr.write(`bench: interrupted: ${results.length} of ${names.length - skipped.length} suites finished; exit ${status}\n`);
    return status;
  }
  if (failed.length > 0) {
    const status = code === 0 ? 1 : code;
    process.stderr.write(
      `bench: ${failed.length} of ${names.length - skipped.length} suites failed (${failed.map((f) => f.suite).join(', ')}); exit ${status}\n`,
    );
    return status;
  }
  if (code !== 0) process.stderr.write(`bench: a report file was not written; exit ${code}\n`);
  return code;
}

const isEntry = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntry) {
  // As `meridian bench` (src/cli.ts): `node dist/bench/run.js ... | head`, the reader gone, runs
  // on without output and still writes --json and --html, with the run's exit status; standard
  // output that cannot be written is one line and exit 2; an error no one catches (here, or in
  // main) is an internal error, exit 70 with its stack (it exited 1, which a failed suite gives:
  // an audit, session 69).
  const { status } = guardProcess('bench');
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = status(code);
      // Not process.exit(): the runner must end because nothing is left running. This
      // watchdog is unref'd, so it only fires when something else keeps the process alive: a
      // leak, a bug in meridian, so the internal error's status (it exited 1, a failed suite's).
      setTimeout(() => {
        process.stderr.write(
          `bench: still running ${EXIT_GRACE_MS} ms after the last suite; leaked: ${process.getActiveResourcesInfo().join(', ')} (a bug in meridian, exit ${EXIT_INTERNAL_ERROR})\n`,
        );
        process.exit(EXIT_INTERNAL_ERROR);
      }, EXIT_GRACE_MS).unref();
    },
    (error: unknown) => exitOnInternalError('bench', error),
  );
}
