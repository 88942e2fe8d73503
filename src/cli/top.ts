/**
 * `meridian`'s top level, apart from src/cli.ts (which runs its main as it loads): the usage,
 * the exit status of an internal error (process-end.ts's), and the default command, `meridian demo`, as a `main`
 * that takes its words and where to print and returns the exit status, as check's and verify's
 * do, so that a test calls it in the test's own process rather than spawning meridian.
 */
import type { DemoOptions } from './demo.js';
import { DEMO_DURATION_MS_DEFAULT, DEMO_DURATION_MS_MAX, DEMO_DURATION_MS_MIN } from './demo-limits.js';
import { REPLICATION_MODES, SEED_MAX } from '../cluster/config.js';
import { FlagError, intFlag, once, oneOf, readFlags, wantsHelp } from './flags.js';
import { interruptedStatus, interruptLine, untilInterrupted } from './interrupt.js';
import { EXIT_INTERNAL_ERROR } from './process-end.js';

export { EXIT_INTERNAL_ERROR };

export const USAGE = `usage:
  meridian demo [--transport threads|sim] [--seed N] [--duration-ms N] [--replication none|passive|active|hybrid]
                (defaults: threads, seed 1, ${DEMO_DURATION_MS_DEFAULT} ms (${DEMO_DURATION_MS_MIN} to ${DEMO_DURATION_MS_MAX}), active replication)
  meridian bench [suite ...] [--quick] [--json FILE] [--html FILE] [--compare OLD.json]   (meridian bench --help lists the suites)
  meridian check --seeds N | --time-limit SECONDS | --seed S [--workload kv|txn] [flag ...]
  meridian verify FILE [--model M] [--consistency C] [--format json|elle-edn|jepsen-etcd|kv-edn]   (check a history read from a file)
  meridian host --nats URL[,URL] --cluster NAME [--data-dir DIR]
  meridian --version
  (meridian check --help lists every check flag, fault kind and broken variant; meridian verify --help its flags)
  A flag's value may also follow an =: --seed=7, --cluster=NAME.
  Exit status ${EXIT_INTERNAL_ERROR} for every command: meridian itself failed (an internal error, printed with its stack; a bug to report);
  2 a bad flag or command (and standard output that cannot be written); demo: 0 once it ran, 130 Ctrl-C (143 SIGTERM);
  each command's --help gives its own.`;

/** Where `meridian demo` prints: its lines, and its errors. */
export interface DemoIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * `meridian demo ARGV`: its exit status. A bad flag is a usage error, exit 2 (`meridian demo:
 * ...` and the usage), before any cluster starts; --help prints the usage, exit 0.
 */
export async function demoMain(argv: string[], io: DemoIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  // As `meridian --help`, `check --help`, `bench --help` and `host --help`: the usage, exit 0.
  if (wantsHelp(argv)) {
    io.out(USAGE);
    return 0;
  }
  let options: Partial<DemoOptions>;
  try {
    options = parseDemoArgs(argv);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    io.err(`meridian demo: ${error.message}\n${USAGE}`);
    return 2;
  }
  // Loaded once the flags are good: a bad flag exits without loading the cluster's modules.
  const { runDemo } = await import('./demo.js');
  // Ctrl-C or SIGTERM stops the cluster (its threads, its temporary folder) and exits 130 or
  // 143; the second quits at once.
  let stopped: AbortSignal | undefined;
  try {
    await untilInterrupted(
      (signal) => runDemo({ ...options, log: io.out, signal: (stopped = signal) }),
      (name) => io.err(interruptLine('meridian demo', name, 'stopping the cluster')),
    );
  } catch (error) {
    if (stopped?.aborted !== true) throw error;
    return interruptedStatus(stopped);
  }
  return 0;
}

/** The demo's flags, or a FlagError naming the bad one. */
export function parseDemoArgs(args: readonly string[]): Partial<DemoOptions> {
  const options: Partial<DemoOptions> = {};
  const given = new Map<string, string | undefined>();
  for (const { arg: flag, value } of readFlags(args)) {
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
