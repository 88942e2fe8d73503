/** Ctrl-C (SIGINT) for the commands that run long: `meridian check` and `meridian bench`. */

/** The exit status of a run stopped by Ctrl-C (SIGINT), as a shell gives a command it kills so. */
export const INTERRUPTED_STATUS = 130;

/**
 * Runs `body` with a signal that the first Ctrl-C aborts (after `onFirst`, which says what
 * happens next); the second quits at once with INTERRUPTED_STATUS. The handler is gone
 * afterwards.
 */
export async function untilInterrupted<T>(body: (signal: AbortSignal) => Promise<T>, onFirst?: () => void): Promise<T> {
  const stop = new AbortController();
  const onInterrupt = (): void => {
    if (stop.signal.aborted) process.exit(INTERRUPTED_STATUS);
    onFirst?.();
    stop.abort();
  };
  process.on('SIGINT', onInterrupt);
  try {
    return await body(stop.signal);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
