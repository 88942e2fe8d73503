/** The only way runtime and actor code learns the time. Threads: real; sim: virtual. */
export interface Clock {
  now(): number;
}

/**
 * Resolves when `p` settles (fulfilled or rejected alike) or `ms` of real time have passed,
 * whichever comes first, and leaves no timer behind: a bounded wait for what may hang.
 */
export async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([
      p.then(
        () => undefined,
        () => undefined,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
