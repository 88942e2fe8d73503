import test, { type ExecutionContext } from 'ava';
import { runOneSeed, type ScenarioReport, type ScenarioTask } from '../src/harness/check-runner.js';
import { withMutant } from './helpers/core-mutant.js';

/**
 * What the check scenario's gray phase is for (src/harness/scenario.ts, after the catch-up
 * phase: one server runs but hears nothing, or is heard by no other server, or hears 5 s late;
 * every shard whose group keeps a majority without it must have a leader other than it, the
 * same one at two looks a second apart). The rest of the scenario asks for liveness only once
 * the faults are over, so it never saw a Multi-Paxos replica that could not hear campaign again
 * and again and depose every leader of its groups (no pre-vote, the bug fixed on 2026-12-03):
 * `prevote-skipped` of scripts/mutants.mjs puts that back into a scratch copy of dist/. The
 * default scenario caught it in 0 of 100 seeds without the phase, and with it in 71 of 100
 * (2026-12-03, 18:45 UTC; 19 when the phase asked for puts to get through instead). The same
 * seeds must pass on the right code.
 *
 * Since 2026-12-04 (session 33) a quarter of the phases cut one follower and its shard's leader
 * off from each other alone (a partial partition). The others, which still hear the leader,
 * refuse the follower's pre-votes; `prevote-always-grants` (a replica that grants every
 * pre-vote) lets the two depose each other in turn. `check` caught that mutant in 0 of 100
 * seeds before the cut, its core test (multipaxos-prevote) only.
 *
 * Seeds 1..10 of `meridian check`'s default scenario (1..20 until 2026-12-07, the same shares):
 * prevote-skipped fails 1-4 of them (its run stops there), prevote-always-grants 6 and 10 (2
 * needed); one run of the right code serves both tests. That run is also the suite's run of
 * active replication's default seeds (test/linearizability-sim.test.ts does not run them again).
 * Keep it at 8 seeds or more.
 *
 * A part of test/linearizability-sim.test.ts (its own file until 2026-12-07, which ran each run
 * through `meridian check`'s main on a pool thread of its own, three threads each compiling the
 * same code cold): every seed here is runOneSeed in the test's thread, as a pool worker runs a
 * seed of `meridian check` (runOneSeed({ seed, mode: 'active', schedule: 'targeted' }) is `check
 * --seed S`: seeds 1-3 give the README's trace hashes, seeds 1..10 the same 3,437 operations),
 * on the code the file's other runs have compiled already; each mutant's seeds run the copy's
 * own runOneSeed. The pool and the command are tested by test/check-cli.test.ts.
 */
const SEEDS = 10;

/** `meridian check --seed S`'s task, no flags (scripts/mutants.mjs runs both mutants with none). */
const defaultTask = (seed: number): ScenarioTask => ({ seed, mode: 'active', schedule: 'targeted' });

/** The right code's outcomes of seeds 1..SEEDS, run once for both tests, one after another. */
let rightRun: Promise<Array<ScenarioReport['outcome']>> | undefined;
function rightOutcomes(): Promise<Array<ScenarioReport['outcome']>> {
  rightRun ??= (async () => {
    const outcomes: Array<ScenarioReport['outcome']> = [];
    for (let seed = 1; seed <= SEEDS; seed++) outcomes.push((await runOneSeed(defaultTask(seed))).outcome);
    return outcomes;
  })();
  return rightRun;
}

/**
 * Seeds 1..SEEDS pass on the right code, and with `mutant` at least `share` of them fail, none
 * unknown. The mutant's seeds run in order and stop at the failing one that reaches the share
 * (as `check --max-failures` does): the seeds after it could not change the verdict.
 */
async function grayPower(t: ExecutionContext, mutant: string, share: number): Promise<void> {
  const need = Math.ceil(share * SEEDS);
  t.log(`seeds 1..${SEEDS} of meridian check's default scenario (active, targeted)`);
  const right = await rightOutcomes();
  const notPassed = right.flatMap((outcome, i) => (outcome === 'pass' ? [] : [`seed ${i + 1}: ${outcome}`]));
  t.log(`right code: ${SEEDS - notPassed.length} of ${SEEDS} seeds passed`);
  t.deepEqual(notPassed, [], 'replay: meridian check --seed S');
  const { caught, unknown, ran } = await withMutant(mutant, 'src/harness/check-runner.js', async (exports, _what, flags) => {
    // The task above is check's with no flags: a mutant that asks for some needs another task.
    t.deepEqual(flags, [], `${mutant}'s check flags`);
    const run = exports['runOneSeed'] as typeof runOneSeed;
    const r = { caught: [] as number[], unknown: 0, ran: 0 };
    for (let seed = 1; seed <= SEEDS && r.caught.length < need; seed++) {
      r.ran++;
      const outcome = (await run(defaultTask(seed))).outcome;
      if (outcome === 'fail') r.caught.push(seed);
      else if (outcome === 'unknown') r.unknown++;
    }
    return r;
  });
  t.log(
    `${mutant}: caught ${caught.length} of the first ${ran} seeds (${caught.join(', ') || 'none'})${ran < SEEDS ? ` (stopped there: ${need} of ${SEEDS} needed)` : ''}, ${unknown} unknown`,
  );
  t.is(unknown, 0);
  t.true(caught.length >= need, `caught ${caught.length} of ${ran}, ${need} of ${SEEDS} needed`);
}

// Serial, as the file's other seed runs: CPU-bound runs side by side in one thread only take turns.
test.serial(`gray phase: seeds 1..${SEEDS} pass with pre-vote, and at least 40% fail when a replica campaigns without asking`, async (t) => {
  await grayPower(t, 'prevote-skipped', 0.4);
});

test.serial(`gray phase, a cut link: seeds 1..${SEEDS} pass, and at least 15% fail when a replica grants every pre-vote`, async (t) => {
  await grayPower(t, 'prevote-always-grants', 0.15);
});
