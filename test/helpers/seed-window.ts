/**
 * The window of seeds a randomized test runs, from the environment: from `baseVar`
 * (MERIDIAN_SEED_BASE unless said; default `base`, 1) plus `offset`, MERIDIAN_SEEDS of them
 * (default `seeds`). Whole numbers: a bad value throws, naming it, rather than running no seed.
 * test/helpers/core-mutant.ts and test/helpers/seeds.ts read their ranges through it.
 */
export function seedWindow(seeds: number, o: { offset?: number; baseVar?: string; base?: number } = {}): { base: number; seeds: number } {
  const read = (name: string, fallback: number, least: number): number => {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < least) throw new Error(`${name}: a whole number of ${least} or more (got ${JSON.stringify(raw)})`);
    return n;
  };
  return { base: read(o.baseVar ?? 'MERIDIAN_SEED_BASE', o.base ?? 1, 0) + (o.offset ?? 0), seeds: read('MERIDIAN_SEEDS', seeds, 1) };
}
