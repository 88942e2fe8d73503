/**
 * A piscina task: run one seeded sim scenario and check its history. Stateless; the pool is
 * src/harness/check-runner.ts's (a run's own, or a CheckPool kept between runs).
 */
import { runOneSeed, type ScenarioReport, type ScenarioTask } from '../src/harness/check-runner.js';

export default function scenario(task: ScenarioTask): Promise<ScenarioReport> {
  return runOneSeed(task);
}
