/**
 * The command line of a bench script run by itself (`node dist/bench/thread-cpu.js active`), as
 * the runner (bench/run.ts) treats its own: `--help` or `-h` prints the usage on stdout and
 * exits 0; a bad argument prints one line on stderr naming it and what is allowed, and exits 2,
 * before anything runs (it used to throw, printing a stack trace).
 */
import { checkInt } from '../../src/cluster/config.js';
import { ConfigError } from '../../src/core/errors.js';
import { decimalInt } from '../../src/cli/flags.js';

/** A bad argument: the message names it and what is allowed. */
export class ScriptArgError extends Error {}

/** Exit status of a bad argument, as bench/run.ts gives it. */
export const SCRIPT_USAGE_STATUS = 2;

/**
 * `parse(args)` of the script's arguments (process.argv without node and the script), or the
 * process ends: 0 after the usage for --help, SCRIPT_USAGE_STATUS after one line for a
 * ScriptArgError. Any other error is a bug and propagates.
 */
export function scriptArgs<T>(name: string, usage: string, argv: readonly string[], parse: (args: readonly string[]) => T): T {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return parse(argv);
  } catch (error) {
    if (!(error instanceof ScriptArgError)) throw error;
    process.stderr.write(`bench ${name}: ${error.message} (--help prints the usage)\n`);
    process.exit(SCRIPT_USAGE_STATUS);
  }
}

/** At most `max` arguments: the rest would be ignored without a word. */
export function atMost(args: readonly string[], max: number, usage: string): void {
  if (args.length > max) throw new ScriptArgError(`unexpected argument ${JSON.stringify(args[max])}; ${usage}`);
}

/** The one optional argument `args[0]`, one of `allowed` (`fallback` when absent). */
export function oneOf<T extends string>(args: readonly string[], field: string, allowed: readonly T[], fallback: T): T {
  atMost(args, 1, `it takes one: ${field}`);
  const given = args[0];
  if (given === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(given)) throw new ScriptArgError(`${field}: one of ${allowed.join(', ')}, got ${JSON.stringify(given)}`);
  return given as T;
}

/** `text`, a number (as Number() reads it) that is an integer from `min` to `max`. */
export function intArg(text: string, field: string, min: number, max: number): number {
  try {
    // Decimal digits only, as the commands' flags (0x10 and 1e2 were read as numbers).
    return checkInt(decimalInt(text), field, min, max);
  } catch (error) {
    if (error instanceof ConfigError) throw new ScriptArgError(`${field}: ${error.allowed}, got ${JSON.stringify(text)}`);
    throw error;
  }
}

/**
 * The arguments of a suite run by itself (`node dist/bench/elle.js --quick`): `--quick` or
 * nothing. Anything else (`--quik`) would otherwise run the full suite, minutes of it, without a
 * word.
 */
export function quickOnly(args: readonly string[]): boolean {
  const bad = args.find((a) => a !== '--quick');
  if (bad !== undefined) throw new ScriptArgError(`unknown argument ${JSON.stringify(bad)}; allowed: --quick, or nothing`);
  return args.length > 0;
}

/** The usage of a suite run by itself: `what` it measures. */
export function suiteUsage(name: string, what: string): string {
  return `usage: node dist/bench/${name}.js [--quick]\n  ${what}\n  --quick  the short run (what bench --quick runs)\n  --help   this text`;
}
