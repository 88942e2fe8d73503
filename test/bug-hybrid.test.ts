import test from 'ava';
import { Worker } from 'node:worker_threads';

/**
 * Regressions found by `meridian check --mode hybrid` (targeted nemesis, safe code).
 *
 * 1. Seeds 14, 25, 27, 31 hung: a participant wire ('tx') handed to the leader hint had no hop
 *    bound; two replicas of a group (one region: no virtual time per message) each named the
 *    other as leader, so the wire bounced between them at one instant for ever.
 * 2. Seeds 6, 13 (reported), and seed 1 at this commit ("replicas diverged on key3 (r3: null vs
 *    300015)"): a learner that restarted (it keeps no log) while its leader had nothing new
 *    to send was never probed, so the leader went on believing its old acknowledgement and
 *    the learner stayed empty until the next write to the shard.
 */

/** A sim run is synchronous CPU work: a hang is caught by running the seed in a worker with a wall-time limit (a seed normally takes about a second). */
const HANG_WALL_MS = 30_000;

type SeedRun = { ok: boolean; failures: string[]; diverged: string[] } | 'hung';

/**
 * The seeds run one after another in one worker (it compiles the code once; a worker per seed
 * spent most of this test's CPU doing that four times, and the seeds of the second test, run in
 * this process, compiled it once more), each within HANG_WALL_MS of wall time
 * from the end of the one before (the first from the worker's start). A seed that hangs is
 * reported as such, the worker ended, and the seeds after it run in a new one.
 */
function runSeedsInWorker(seeds: readonly number[]): Promise<SeedRun[]> {
  if (seeds.length === 0) return Promise.resolve([]);
  const url = new URL('../src/harness/scenario.js', import.meta.url).href;
  const runner = new URL('../src/harness/check-runner.js', import.meta.url).href;
  const code = `
    const { parentPort, workerData } = await import('node:worker_threads');
    const { runScenario } = await import(${JSON.stringify(url)});
    const { scenarioOptions } = await import(${JSON.stringify(runner)});
    for (const seed of workerData) {
      const r = await runScenario(scenarioOptions({ seed, mode: 'hybrid' }));
      parentPort.postMessage({ ok: r.ok, failures: r.failures, diverged: r.diverged });
    }
  `;
  return new Promise((resolve, reject) => {
    const results: SeedRun[] = [];
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { workerData: seeds });
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      timer = setTimeout(() => {
        void worker.terminate();
        results.push('hung');
        runSeedsInWorker(seeds.slice(results.length)).then((rest) => resolve([...results, ...rest]), reject);
      }, HANG_WALL_MS);
    };
    arm();
    worker.on('message', (m: { ok: boolean; failures: string[]; diverged: string[] }) => {
      clearTimeout(timer);
      results.push(m);
      if (results.length < seeds.length) return arm();
      void worker.terminate();
      resolve(results);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

const BOUNCE_SEEDS = [14, 25, 27, 31];
const LEARNER_SEEDS = [1, 6, 13];
/** Both tests' seeds, in one worker (started by the first test that asks). */
let allRuns: Promise<SeedRun[]> | undefined;
async function runsOf(seeds: readonly number[]): Promise<SeedRun[]> {
  const all = [...BOUNCE_SEEDS, ...LEARNER_SEEDS];
  const runs = await (allRuns ??= runSeedsInWorker(all));
  return seeds.map((seed) => runs[all.indexOf(seed)]!);
}
const WORKER_TIMEOUT_MS = (BOUNCE_SEEDS.length + LEARNER_SEEDS.length) * HANG_WALL_MS + 60_000;

test.serial('hybrid: transaction wires forwarded between replicas do not bounce for ever (seeds 14, 25, 27, 31)', async (t) => {
  t.timeout(WORKER_TIMEOUT_MS);
  const seeds = BOUNCE_SEEDS;
  const runs = await runsOf(seeds);
  for (const [i, seed] of seeds.entries()) {
    const r = runs[i]!;
    t.log(`seed ${seed}: ${r === 'hung' ? `hung (no result in ${HANG_WALL_MS} ms)` : r.ok ? 'ok' : r.failures.join('; ')}`);
    t.not(r, 'hung', `seed ${seed} hung`);
    if (r !== 'hung') t.true(r.ok, `seed ${seed}: ${r.failures.join('; ')}`);
  }
});

// With the bug put back (`feed-no-probe` of scripts/mutants.mjs) each of these seeds fails: "copy
// stayed behind: ... (learner) at 0 of N commands" (2026-12-07).
test.serial('hybrid: a restarted learner is fed again with no new writes (seeds 1, 6, 13)', async (t) => {
  t.timeout(WORKER_TIMEOUT_MS);
  const seeds = LEARNER_SEEDS;
  const runs = await runsOf(seeds);
  for (const [i, seed] of seeds.entries()) {
    const r = runs[i]!;
    t.log(
      `seed ${seed}: ${r === 'hung' ? `hung (no result in ${HANG_WALL_MS} ms)` : `${r.ok ? 'ok' : r.failures.join('; ')}${r.diverged.length > 0 ? ` (${r.diverged.join('; ')})` : ''}`}`,
    );
    t.not(r, 'hung', `seed ${seed} hung`);
    if (r === 'hung') continue;
    t.deepEqual(r.diverged, [], `seed ${seed}`);
    t.true(r.ok, `seed ${seed}: ${r.failures.join('; ')}`);
  }
});
