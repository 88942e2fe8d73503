import { assert } from '../core/assert.js';
import type { Prng } from '../core/prng.js';

/**
 * Region-level routing, computed as Envoy computes priority-level load (Envoy docs:
 * "Priority levels", "Panic threshold"; source: LoadBalancerBase::recalculatePerPriorityState).
 *
 * Regions are grouped in priority levels: level 0 is the client's home region, then the levels
 * of the configured failover order. Each level has a health
 *     health = min(100, overprovisioningFactor * healthy / total * 100)
 * so a level keeps all of its traffic until fewer than 1 / 1.4 = 71.4% of its servers are
 * healthy. Load fills the levels in order: a level takes min(remaining, health) percent and the
 * rest spills to the next level. When the healths add up to less than 100 (the normalized total
 * health), each level's health is first scaled by 100 / total, so the loads still add up to 100.
 *
 * Panic: when the normalized total health is below 100, a level whose raw healthy percentage is
 * under the panic threshold routes to all of its servers, healthy or not, rather than pile
 * everything on a few survivors. When every level is in panic (total panic), load is split
 * over the levels by server count, ignoring health altogether. A threshold of 0 disables panic;
 * with no healthy server anywhere the plan then has no load and `pickRegion` returns undefined.
 * Panic routes to servers that run (`RegionHealth.live`), not to those known to be gone (a
 * crashed process, as Envoy drops a host its discovery removed): a level or region whose every
 * server is gone takes no load in panic. Before (2026-12-03), with one region's only server
 * crashed and the other's ejected as an outlier, total panic sent half the requests to the
 * crashed region, each refused at once (`meridian check --seed 1112653 --mode passive --nemesis
 * swarm --txn-share 0.2 --regions 2 --servers 1 --factor 1 --shards 4`: a put refused 10 times).
 *
 * Envoy works in integer percentages; this works in floating point, so 71% healthy at 1.4 is
 * 99.4%, not 99%.
 */

/** Envoy's default overprovisioning factor, 140%. */
export const DEFAULT_OVERPROVISIONING_FACTOR = 1.4;
/** Envoy's default healthy panic threshold, 50%. */
export const DEFAULT_PANIC_THRESHOLD_PERCENT = 50;

export interface RegionHealth {
  readonly healthy: number;
  readonly total: number;
  /** Servers that run (healthy or not, but not known to be gone): what panic routes to. Default `total`. */
  readonly live?: number;
}

export interface LocalityInput {
  readonly homeRegion: string;
  /**
   * Failover order after the home region: each entry is one region or a group of regions that
   * share a priority level. The home region is removed from it wherever it appears. Regions
   * that have health but are not listed form one last level, by name, so that they still
   * take traffic when everything listed is down.
   */
  readonly priority: readonly (string | readonly string[])[];
  readonly health: Readonly<Record<string, RegionHealth>>;
  readonly overprovisioningFactor?: number;
  readonly panicThresholdPercent?: number;
}

export interface PriorityLevel {
  readonly regions: readonly string[];
  /** Health of each of `regions`, in the same order (0 / 0 for a region with no entry). */
  readonly regionHealth: readonly RegionHealth[];
  readonly healthy: number;
  readonly total: number;
  /** min(100, factor * healthy / total * 100); 0 for an empty level. */
  readonly healthPercent: number;
  /** This level's share of traffic, in percent; the levels' shares add up to 100 (or all are 0). */
  readonly loadPercent: number;
  /** Route over all of this level's servers, ignoring health. */
  readonly panic: boolean;
}

export interface LocalityPlan {
  readonly levels: readonly PriorityLevel[];
  readonly normalizedTotalHealthPercent: number;
  readonly totalPanic: boolean;
}

export interface RegionChoice {
  readonly region: string;
  readonly level: number;
  readonly panic: boolean;
}

function levelsOf(input: LocalityInput): string[][] {
  const seen = new Set<string>([input.homeRegion]);
  const levels: string[][] = [[input.homeRegion]];
  for (const entry of input.priority) {
    const group = (typeof entry === 'string' ? [entry] : [...entry]).filter((region) => !seen.has(region));
    for (const region of group) seen.add(region);
    if (group.length > 0) levels.push(group);
  }
  const rest = Object.keys(input.health)
    .filter((region) => !seen.has(region))
    .sort();
  if (rest.length > 0) levels.push(rest);
  return levels;
}

export function planLocality(input: LocalityInput): LocalityPlan {
  const factor = input.overprovisioningFactor ?? DEFAULT_OVERPROVISIONING_FACTOR;
  const panicThreshold = input.panicThresholdPercent ?? DEFAULT_PANIC_THRESHOLD_PERCENT;
  assert(Number.isFinite(factor) && factor > 0, 'overprovisioningFactor is finite and > 0');
  assert(panicThreshold >= 0 && panicThreshold <= 100, 'panicThresholdPercent in [0, 100]');

  const base = levelsOf(input).map((regions) => {
    let healthy = 0;
    let total = 0;
    let live = 0;
    const regionHealth = regions.map((region) => input.health[region] ?? { healthy: 0, total: 0 });
    for (const [k, region] of regions.entries()) {
      const health = regionHealth[k] as RegionHealth;
      assert(health.total >= 0 && health.healthy >= 0 && health.healthy <= health.total, `health of ${region} has 0 <= healthy <= total`);
      const running = health.live ?? health.total;
      assert(running >= health.healthy && running <= health.total, `health of ${region} has healthy <= live <= total`);
      healthy += health.healthy;
      total += health.total;
      live += running;
    }
    const rawPercent = total === 0 ? 0 : (healthy / total) * 100;
    return { regions, regionHealth, healthy, total, live, rawPercent, healthPercent: Math.min(100, factor * rawPercent) };
  });

  const normalizedTotal = Math.min(
    100,
    base.reduce((sum, level) => sum + level.healthPercent, 0),
  );
  // Envoy never panics while the levels together are fully healthy, however sick one level is.
  const panics = base.map((level) => normalizedTotal < 100 && level.rawPercent < panicThreshold);
  const totalPanic = panics.every(Boolean);

  let loads: number[];
  if (totalPanic) {
    const servers = base.reduce((sum, level) => sum + level.live, 0);
    loads = base.map((level) => (servers === 0 ? 0 : (level.live / servers) * 100));
  } else if (normalizedTotal === 0) {
    loads = base.map(() => 0);
  } else {
    let remaining = 100;
    loads = base.map((level) => {
      const load = Math.min(remaining, (level.healthPercent * 100) / normalizedTotal);
      remaining -= load;
      return load;
    });
  }

  return {
    levels: base.map((level, i) => ({
      regions: level.regions,
      regionHealth: level.regionHealth,
      healthy: level.healthy,
      total: level.total,
      healthPercent: level.healthPercent,
      loadPercent: loads[i] as number,
      panic: panics[i] as boolean,
    })),
    normalizedTotalHealthPercent: normalizedTotal,
    totalPanic,
  };
}

/**
 * Draw a region: a level by its load share, then a region of that level in proportion to its
 * healthy servers (to all its servers when the level is in panic). Undefined when no level has
 * any load, i.e. nothing is healthy and panic is disabled.
 */
export function pickRegion(plan: LocalityPlan, prng: Prng): RegionChoice | undefined {
  let chosen = -1;
  let target = prng.next() * 100;
  for (let i = 0; i < plan.levels.length; i++) {
    const load = (plan.levels[i] as PriorityLevel).loadPercent;
    if (load <= 0) continue;
    chosen = i;
    if (target < load) break;
    target -= load;
  }
  if (chosen < 0) return undefined;
  const level = plan.levels[chosen] as PriorityLevel;
  const counts = level.regionHealth.map((health) => (level.panic ? (health.live ?? health.total) : health.healthy));
  const sum = counts.reduce((a, b) => a + b, 0);
  assert(sum > 0, 'a level with load has servers to take it');
  let draw = prng.next() * sum;
  let region = level.regions[0] as string;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] as number;
    if (count <= 0) continue;
    region = level.regions[i] as string;
    if (draw < count) break;
    draw -= count;
  }
  return { region, level: chosen, panic: level.panic };
}
