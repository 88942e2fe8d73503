#!/usr/bin/env node
/** `meridian demo | bench | check | verify | host`. */
import { demoMain, EXIT_INTERNAL_ERROR, USAGE } from './cli/top.js';

/** A usage error, exit 2: `meridian: ...` for an unknown command (demo's flags: demoMain). */
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

async function main(): Promise<void> {
  // `meridian check ... | head`: the reader went away. The run goes on without output and still
  // ends with its exit status (a check's verdict), rather than dying on EPIPE with a stack.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.stdout.write = (() => true) as typeof process.stdout.write;
  });
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'demo':
    case undefined:
      process.exitCode = await demoMain(rest);
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
      console.log(USAGE);
      return;
    case '--version':
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
