import { MeridianError, StoppedError } from '../../src/index.js';

/** Bench runs must never hang: every wait has a deadline. */
export const BENCH_STEP_TIMEOUT_MS = 120_000;

export function withTimeout<T>(promise: Promise<T>, what: string, timeoutMs = BENCH_STEP_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * A closed loop's call failed because its cluster is stopped: the loop must end, not count it
 * and call again. Such a call rejects at once, with no timer or I/O between one and the next,
 * so a loop that went on spun on promise callbacks alone: no timer ran again, the runner,
 * Ctrl-C having stopped the clusters of the suite it abandoned, never quit, and its memory grew
 * by gigabytes (found by an audit, session 60: the failover suite's threads loops).
 */
export function endsLoop(error: unknown): boolean {
  return error instanceof StoppedError;
}

/** How often a set-up call or single probe is tried before its failure ends the suite. */
export const CALL_ATTEMPTS = 5;
/** The pause, on the real clock, between two tries of such a call. */
export const RETRY_PAUSE_MS = 200;

/**
 * `call()`, tried again (at most `attempts` times in all) when it fails for want of an
 * answer: a server held down or not answering (UNAVAILABLE, TIMEOUT), as a busy machine's
 * freshly started cluster does (a heartbeat late under CPU load, the server held down with the
 * first put in flight): one such failure threw away a whole suite of measurements (found by an
 * audit, session 60). Any other error, and the last try's, is thrown as it came: a call that
 * always fails still fails the suite, with its error. Returns the value and the tries that
 * failed before it, which the figures that time the call must say.
 */
export async function retried<T>(call: () => Promise<T>, attempts = CALL_ATTEMPTS): Promise<{ value: T; retries: number }> {
  for (let retries = 0; ; retries++) {
    try {
      return { value: await call(), retries };
    } catch (error) {
      const unanswered = error instanceof MeridianError && (error.code === 'UNAVAILABLE' || error.code === 'TIMEOUT');
      if (!unanswered || retries + 1 >= attempts) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
  }
}
