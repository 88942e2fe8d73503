#!/usr/bin/env node
/** `meridian demo | bench | check | verify | host`. */
import { demoMain, USAGE } from './cli/top.js';
import { exitOnInternalError, guardProcess } from './cli/process-end.js';
import { wantsHelp } from './cli/flags.js';
import { checkTicksSetting } from './cluster/tick-clock.js';
import { ConfigError } from './core/errors.js';

/** A usage error, exit 2: `meridian: ...` for an unknown command or words after help or --version (demo's flags: demoMain). */
function fail(message: string): never {
  console.error(`meridian: ${message}\n${USAGE}`);
  process.exit(2);
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

/** The commands that start clusters (`meridian` alone is demo). */
const CLUSTER_COMMANDS: readonly string[] = ['demo', 'bench', 'check', 'host'];

/**
 * An error no command catches is an internal error (exit 70), and standard output that cannot
 * be written ends the run with exit 2 after one line (`meridian check ... | head`, the reader
 * gone, keeps the run's own status): process-end.ts. `status(code)` is the status to exit with.
 */
const { status } = guardProcess('meridian');

async function main(): Promise<void> {
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
      process.exitCode = status(await demoMain(rest));
      return;
    case 'bench': {
      const bench = await import('../bench/run.js');
      process.exitCode = status(await bench.main(rest));
      return;
    }
    case 'check': {
      const check = await import('./cli/check.js');
      process.exitCode = status(await check.main(rest));
      return;
    }
    case 'verify': {
      const verify = await import('./cli/verify.js');
      process.exitCode = status(await verify.main(rest));
      return;
    }
    case 'host': {
      const host = await import('./cli/host.js');
      // Now: a connection attempt cut short by Ctrl-C would otherwise keep the process up to 5 s more.
      process.exit(status(await host.main(rest)));
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

main().catch((error: unknown) => exitOnInternalError('meridian', error));
