/** Bench runs must never hang: every wait has a deadline. */
export const BENCH_STEP_TIMEOUT_MS = 120_000;

export function withTimeout<T>(promise: Promise<T>, what: string, timeoutMs = BENCH_STEP_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
