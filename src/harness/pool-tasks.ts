/**
 * Tasks on a piscina pool of their own, for the checkers that spread one history over threads
 * (parallel.ts, elle/index.ts). `meridian check`'s pool of seeds, which outlives a run, is
 * check-runner.ts's ScenarioPool.
 */
import { Piscina } from 'piscina';
import { MeridianError } from '../core/errors.js';

export interface PoolTasksOptions {
  /** The task module. */
  filename: string;
  minThreads: number;
  maxThreads: number;
}

/**
 * Runs every task on a pool started for them and destroyed before this returns; resolves with
 * their answers in task order. A thread that fails rejects the call with a MeridianError
 * (INTERNAL) that says `what`, what the thread was doing (`describeTask(task)` of its task, if it
 * had one) and what it threw. Without a listener of its own, piscina's 'error' (a thread that
 * fails with no task on it: a broken build's task module, a thread of a pool larger than its
 * tasks dying) ended the process, and after a replacement thread failed to load piscina started
 * none again, so the tasks still queued waited for ever (session 66's resources audit).
 */
export async function runPoolTasks<T, R>(what: string, options: PoolTasksOptions, tasks: readonly T[], describeTask: (task: T) => string): Promise<R[]> {
  const pool = new Piscina({ filename: options.filename, minThreads: options.minThreads, maxThreads: options.maxThreads });
  const failed = (doing: string, error: unknown): MeridianError => {
    // Thrown in the thread's realm: not an Error of this one.
    const message = (error as { message?: unknown } | null)?.message;
    const thrown = new MeridianError('INTERNAL', `${what}: a pool thread failed${doing}: ${typeof message === 'string' ? message : String(error)}`, false);
    thrown.cause = error;
    return thrown;
  };
  let threadFailed!: (error: MeridianError) => void;
  const poolFailed = new Promise<never>((_, reject) => (threadFailed = reject));
  // Settled after the race below, or never: not an unhandled rejection either way.
  poolFailed.catch(() => undefined);
  pool.on('error', (error: unknown) => threadFailed(failed(' with no task on it', error)));
  try {
    const answers = tasks.map((task) =>
      (pool.run(task) as Promise<R>).catch((error: unknown) => {
        throw failed(` (${describeTask(task)})`, error);
      }),
    );
    return await Promise.race([Promise.all(answers), poolFailed]);
  } finally {
    await pool.destroy();
  }
}

/** What a task checks, for a failed thread's error: its keys, the first few. */
export function keysText(keys: Iterable<string>): string {
  const all = [...keys];
  const shown = all
    .slice(0, 3)
    .map((k) => JSON.stringify(k))
    .join(', ');
  return `checking key${all.length === 1 ? '' : 's'} ${shown}${all.length > 3 ? ` and ${all.length - 3} more` : ''}`;
}
