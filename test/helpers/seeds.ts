/**
 * Seed ranges for randomized tests. MERIDIAN_SEED_BASE shifts every range (to explore new
 * seeds); MERIDIAN_SEEDS sets how many each test runs. Every test prints its range, and every
 * failure prints its seed: `meridian check --seed S --trace` replays one.
 */
export function seedRange(defaultCount: number, offset = 0): number[] {
  const base = Number(process.env.MERIDIAN_SEED_BASE ?? 1);
  const count = Number(process.env.MERIDIAN_SEEDS ?? defaultCount);
  return Array.from({ length: count }, (_, i) => base + offset + i);
}
