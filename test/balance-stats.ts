/**
 * Statistics and simulation helpers shared by the balance and liveness tests. Not a test file
 * itself (ava runs only *.test.js).
 */
import { Prng } from '../src/core/prng.js';

/**
 * The seed of a randomized test: MERIDIAN_SEED from the environment when set (to replay a
 * failure), else the test's fixed default. Tests print it with t.log.
 */
export function testSeed(fallback: number): number {
  const fromEnv = process.env['MERIDIAN_SEED'];
  return fromEnv === undefined || fromEnv === '' ? fallback : Number(fromEnv);
}

/**
 * The z-score of a one-sided test at significance 1e-4: with it a correct implementation fails
 * a test on one seed in ten thousand, while a wrong one fails on nearly every seed.
 */
export const Z_1E4 = 3.719;

/** Pearson's chi-square statistic of observed counts against expected counts. */
export function chiSquare(observed: readonly number[], expected: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i] as number;
    const d = (observed[i] as number) - e;
    sum += (d * d) / e;
  }
  return sum;
}

/**
 * The chi-square critical value for `df` degrees of freedom at the significance of `z`, by the
 * Wilson-Hilferty cube-root normal approximation (accurate to a fraction of a percent for
 * df >= 2 in the upper tail).
 */
export function chiSquareCritical(df: number, z = Z_1E4): number {
  const a = 2 / (9 * df);
  return df * Math.pow(1 - a + z * Math.sqrt(a), 3);
}

/** Standard deviation of the fraction of successes in n Bernoulli(p) trials. */
export function binomialSd(p: number, n: number): number {
  return Math.sqrt((p * (1 - p)) / n);
}

/** A standard normal draw (Box-Muller). */
export function normal(prng: Prng): number {
  const u = 1 - prng.next();
  const v = prng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** An exponential draw with the given mean. */
export function exponential(prng: Prng, mean: number): number {
  return -Math.log(1 - prng.next()) * mean;
}

/** A binary min-heap of timed events, for the discrete-event simulations in the tests. */
export class EventQueue<T> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.times.length;
  }

  peekTime(): number | undefined {
    return this.times[0];
  }

  push(time: number, item: T): void {
    const times = this.times;
    const items = this.items;
    let i = times.length;
    times.push(time);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((times[parent] as number) <= time) break;
      times[i] = times[parent] as number;
      items[i] = items[parent] as T;
      i = parent;
    }
    times[i] = time;
    items[i] = item;
  }

  pop(): [number, T] {
    const times = this.times;
    const items = this.items;
    const topTime = times[0] as number;
    const topItem = items[0] as T;
    const lastTime = times.pop() as number;
    const lastItem = items.pop() as T;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && (times[right] as number) < (times[left] as number) ? right : left;
        if ((times[child] as number) >= lastTime) break;
        times[i] = times[child] as number;
        items[i] = items[child] as T;
        i = child;
      }
      times[i] = lastTime;
      items[i] = lastItem;
    }
    return [topTime, topItem];
  }
}
