/**
 * How a command's process ends on what no command handles: an internal error (exit
 * EXIT_INTERNAL_ERROR, with its stack), and a standard output that cannot be written. Shared by
 * `meridian` (src/cli.ts) and the bench runner run by itself (`npm run bench`, bench/run.ts).
 */

/**
 * The exit status of an error no command handled: a bug in meridian, not a verdict. It exited
 * 1, which `check` and `verify` give a run that failed, so a crash read as a failed check (an
 * audit, session 57). 70 is sysexits.h's EX_SOFTWARE.
 */
export const EXIT_INTERNAL_ERROR = 70;

/**
 * The exit status of a run whose standard output could not be written (a full disk, `>
 * /dev/full`): what a file flag that cannot be written gives (`--json`, `--history`), since the
 * report it carries is lost.
 */
export const EXIT_OUTPUT_LOST = 2;

/** The line an internal error prints (on stderr), `command` first: what failed, with its stack. */
export function internalErrorLine(command: string, error: unknown): string {
  return `${command}: internal error (a bug in meridian, exit ${EXIT_INTERNAL_ERROR}): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

/** Prints internalErrorLine and ends the process with EXIT_INTERNAL_ERROR. */
export function exitOnInternalError(command: string, error: unknown): never {
  process.stderr.write(`${internalErrorLine(command, error)}\n`);
  process.exit(EXIT_INTERNAL_ERROR);
}

/**
 * Sets up the process of `command` for what no command handles, and returns the exit status to
 * end with in place of a command's own (`status(code)`):
 *
 * - An error thrown where no command catches it (a timer, an event listener) or a promise
 *   rejected with no handler is an internal error: internalErrorLine, exit EXIT_INTERNAL_ERROR.
 *   Node's default printed its stack and exited 1, which `check` and `verify` give a failed run.
 * - Standard output whose reader went away (EPIPE: `meridian check ... | head`): the run goes on
 *   without output and ends with its own exit status.
 * - Standard output that cannot be written (ENOSPC on a full disk, `> /dev/full`): one line on
 *   stderr, the run goes on without output (its files still written), and the exit status is
 *   EXIT_OUTPUT_LOST, whatever the run's: the listener rethrew the error, which ended the run
 *   with a stack trace and exit 1, a passing check read as a failed one (an audit, session 69).
 */
export function guardProcess(command: string): { status: (code: number) => number } {
  let lost = false;
  process.on('uncaughtException', (error) => exitOnInternalError(command, error));
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    process.stdout.write = (() => true) as typeof process.stdout.write;
    if (error.code === 'EPIPE' || lost) return;
    lost = true;
    process.exitCode = EXIT_OUTPUT_LOST;
    process.stderr.write(`${command}: cannot write standard output (${error.message}): the rest of the run's output is lost; exit ${EXIT_OUTPUT_LOST}\n`);
  });
  return { status: (code) => (lost ? EXIT_OUTPUT_LOST : code) };
}
