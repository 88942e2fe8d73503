/**
 * A piscina task: run one seeded scenario and check its history (a real-time seed stops its
 * clusters when the pool asks: see runSeedJob). Stateless; the pool is
 * src/harness/check-runner.ts's (a run's own, or a CheckPool kept between runs).
 */
import { runSeedJob, type ScenarioReport, type SeedJob } from '../src/harness/check-runner.js';

export default function scenario(job: SeedJob): Promise<ScenarioReport> {
  return runSeedJob(job);
}
