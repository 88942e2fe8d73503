#!/usr/bin/env node
/** `meridian demo | bench | check | verify | host`. */
import type { DemoOptions } from './cli/demo.js';
import { REPLICATION_MODES, SEED_MAX } from './cluster/config.js';
import { FlagError, intFlag, once, oneOf, readArgs, wantsHelp } from './cli/flags.js';
import { interruptedStatus, interruptLine, untilInterrupted } from './cli/interrupt.js';
import { checkTicksSetting } from './cluster/tick-clock.js';
import { ConfigError } from './core/errors.js';

/**
 * The exit status of an error no command handled: a bug in meridian, not a verdict. It exited
 * 1, which `check` and `verify` give a run that failed, so a crash read as a failed check (an
 * audit, session 57). 70 is sysexits.h's EX_SOFTWARE.
 */
const EXIT_INTERNAL_ERROR = 70;

/** The shortest demo: each of its three phases about 100 ms. */
const DEMO_DURATION_MS_MIN = 300;
/** The longest demo: an hour (its workload runs all along; on threads each phase is a real third of it). */
const DEMO_DURATION_MS_MAX = 3_600_000;

const USAGE = `usage:
  meridian demo [--transport threads|sim] [--seed N] [--duration-ms N] [--replication none|passive|active|hybrid]
  meridian bench [suite ...] [--quick] [--json FILE] [--html FILE] [--compare OLD.json]   (meridian bench --help lists the suites)
  meridian check --seeds N | --time-limit SECONDS | --seed S [--workload kv|txn] [flag ...]
  meridian verify FILE [--model M] [--consistency C] [--format json|elle-edn|jepsen-etcd|kv-edn]   (check a history read from a file)
  meridian host --nats URL[,URL] --cluster NAME [--data-dir DIR]
  meridian --version
  (meridian check --help lists every check flag, fault kind and broken variant; meridian verify --help its flags)
  A flag's value may also follow an =: --seed=7, --cluster=NAME.
  Exit status ${EXIT_INTERNAL_ERROR} for every command: meridian itself failed (an internal error, printed with its stack; a bug to report).`;

/** A usage error, exit 2: `meridian demo: ...` for demo's flags, as `meridian check: ...` for check's. */
function fail(message: string, command?: string): never {
  console.error(`meridian${command === undefined ? '' : ` ${command}`}: ${message}\n${USAGE}`);
  process.exit(2);
}

async function demo(args: string[]): Promise<void> {
  // As `meridian --help`, `check --help`, `bench --help` and `host --help`: the usage, exit 0.
  if (wantsHelp(args)) {
    console.log(USAGE);
    return;
  }
  let options: Partial<DemoOptions>;
  try {
    options = parseDemoArgs(args);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    fail(error.message, 'demo');
  }
  // Loaded once the flags are good: a bad flag exits without loading the cluster's modules.
  const { runDemo } = await import('./cli/demo.js');
  // Ctrl-C or SIGTERM stops the cluster (its threads, its temporary folder) and exits 130 or
  // 143; the second quits at once.
  let stopped: AbortSignal | undefined;
  try {
    await untilInterrupted(
      (signal) => runDemo({ ...options, signal: (stopped = signal) }),
      (name) => console.error(interruptLine('meridian demo', name, 'stopping the cluster')),
    );
  } catch (error) {
    if (stopped?.aborted !== true) throw error;
    process.exitCode = interruptedStatus(stopped);
  }
}

/**
 * The version of this meridian, from its package.json: two folders up from dist/src/cli.js,
 * in this repository and in an installed package alike (npm always packs package.json).
 * `meridian --version` was an unknown command (an audit of the CLI, session 61).
 */
async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The demo's flags, or a FlagError naming the bad one. */
function parseDemoArgs(args: readonly string[]): Partial<DemoOptions> {
  const options: Partial<DemoOptions> = {};
  const given = new Map<string, string | undefined>();
  for (const { arg: flag, value } of readArgs(args)) {
    once(given, flag, value);
    switch (flag) {
      case '--transport':
        options.transport = oneOf(value, flag, ['threads', 'sim'] as const);
        break;
      case '--seed':
        options.seed = intFlag(value, flag, 0, SEED_MAX);
        break;
      case '--duration-ms':
        options.durationMs = intFlag(value, flag, DEMO_DURATION_MS_MIN, DEMO_DURATION_MS_MAX);
        break;
      case '--replication':
        options.replication = oneOf(value, flag, REPLICATION_MODES);
        break;
      default:
        throw new FlagError(`unknown demo option ${JSON.stringify(flag)}`);
    }
  }
  return options;
}

/** The commands that start clusters (`meridian` alone is demo). */
const CLUSTER_COMMANDS: readonly string[] = ['demo', 'bench', 'check', 'host'];

async function main(): Promise<void> {
  // `meridian check ... | head`: the reader went away. The run goes on without output and still
  // ends with its exit status (a check's verdict), rather than dying on EPIPE with a stack.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.stdout.write = (() => true) as typeof process.stdout.write;
  });
  const [command, ...rest] = process.argv.slice(2);
  // The commands that run clusters, before they run any: a MERIDIAN_TICKS that names no mode is
  // one line and exit 2 (startCluster refuses it too, but in `check`'s worker threads every
  // seed would fail with it).
  if ((command === undefined || CLUSTER_COMMANDS.includes(command)) && !wantsHelp(rest)) {
    try {
      checkTicksSetting();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(`meridian${command === undefined ? '' : ` ${command}`}: ${error.message}`);
      process.exit(2);
    }
  }
  switch (command) {
    case 'demo':
    case undefined:
      await demo(rest);
      return;
    case 'bench': {
      const bench = await import('../bench/run.js');
      process.exitCode = await bench.main(rest);
      return;
    }
    case 'check': {
      const check = await import('./cli/check.js');
      process.exitCode = await check.main(rest);
      return;
    }
    case 'verify': {
      const verify = await import('./cli/verify.js');
      process.exitCode = await verify.main(rest);
      return;
    }
    case 'host': {
      const host = await import('./cli/host.js');
      // Now: a connection attempt cut short by Ctrl-C would otherwise keep the process up to 5 s more.
      process.exit(await host.main(rest));
      break; // not reached (process.exit); the linter's no-fallthrough does not know
    }
    case '--help':
    case '-h':
    case 'help':
      // `meridian help check` printed this usage, not check's, and `--version --json` the bare version: said, not ignored.
      if (rest.length > 0)
        fail(`${command} takes no arguments, got ${rest.map((a) => JSON.stringify(a)).join(' ')} (meridian COMMAND --help lists a command's flags)`);
      console.log(USAGE);
      return;
    case '--version':
      if (rest.length > 0) fail(`${command} takes no arguments, got ${rest.map((a) => JSON.stringify(a)).join(' ')}`);
      console.log(`meridian ${await version()}`);
      return;
    default:
      fail(`unknown command ${JSON.stringify(command)}`);
  }
}

main().catch((error: unknown) => {
  console.error(
    `meridian: internal error (a bug in meridian, exit ${EXIT_INTERNAL_ERROR}): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(EXIT_INTERNAL_ERROR);
});
