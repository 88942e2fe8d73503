import type { ExecutionContext } from 'ava';
import { scenarioOptions, type ScenarioTask } from '../../src/harness/check-runner.js';
import { runScenario, type ScenarioResult } from '../../src/harness/scenario.js';
import { replayCommand } from '../../src/cli/check.js';
import { seedWindow } from './seed-window.js';

/**
 * Seed ranges for randomized tests. MERIDIAN_SEED_BASE shifts every range (to explore new
 * seeds); MERIDIAN_SEEDS sets how many each test runs (seedWindow). Every test prints its range,
 * and every failure prints its seed: `meridian check --seed S --trace` replays one.
 */
export function seedRange(defaultCount: number, offset = 0): number[] {
  const { base, seeds } = seedWindow(defaultCount, { offset });
  return Array.from({ length: seeds }, (_, i) => base + i);
}

/**
 * A seed that once failed, run again as `meridian check` runs it; logs the command that
 * replays it (replayCommand, the CLI's own), so the test names exactly the run it pins.
 */
export async function runPinnedSeed(t: ExecutionContext, task: ScenarioTask): Promise<ScenarioResult> {
  t.log(replayCommand(task, false));
  return runScenario(scenarioOptions(task));
}

/**
 * The flags of the sweep that found seeds 195091 and 255280 (`check --shape random --nemesis
 * swarm --txn-share 0.3 --commit paxos-commit`), with the shape both drew: 2 regions of one
 * server, factor 2 (shards and mode vary).
 */
export const SWARM_PAXOS_COMMIT_PAIR = {
  schedule: 'swarm',
  txnShare: 0.3,
  commits: ['paxos-commit'],
  regions: 2,
  servers: 1,
  factor: 2,
} as const satisfies Partial<ScenarioTask>;
