/**
 * A piscina task: run one seeded sim scenario and check its history. Stateless; the pool is
 * started and destroyed by src/harness/check-runner.ts.
 */
import { runOneSeed, type ScenarioReport, type ScenarioTask } from '../src/harness/check-runner.js';

export default function scenario(task: ScenarioTask): Promise<ScenarioReport> {
  return runOneSeed(task);
}
