/**
 * One seed of the transaction coordinator actor (coordinatorBehavior of src/cluster/coordinator.ts,
 * 2PC) meeting late copies of requests older than the ids it remembers as begun
 * (test/coordinator-marks.part.ts runs it; test/helpers/core-mutant.ts runs it on a scratch copy
 * of dist/ with a bug put in, so the imports here are relative).
 *
 * The host is test/helpers/coordinator-host.ts's (a fake ActorContext whose durable log
 * outlives the actor, real 2PC participant cores per shard, crashes right after durable writes,
 * checkpoints asked for, restarts from the log), as test/helpers/coordinator-random.ts's: see
 * there. Where that model shrinks the ids remembered in half its seeds and picks late copies
 * from the whole run, this one aims at one situation: the coordinator's memory of begun request
 * ids is tiny in every seed (`begunRemembered` 1-4, as `--limits small` shrinks it), one or two
 * clients send many requests (40-70, ids counting up per client, so every id forgotten raises
 * its client's mark), and most late copies are of requests begun long enough ago that the
 * coordinator no longer holds their ids (at least `begunRemembered` requests begun after them,
 * as the model sees the prepares go out): only the per-client marks of forgotten ids
 * (src/core/forgotten-marks.ts) stop such a copy from beginning again. Copies come while the
 * request is still running, after it finished, after restarts (the marks then come back from the
 * log, or from a checkpoint's `forgotten`).
 *
 * Checked, as coordinator-host.ts checks (docs/design.md, "Request ids"): each request begun
 * and executed at most once over every incarnation; at most one definite answer per request,
 * a success only with what its committed transaction read, ABORTED only if nothing of it
 * committed, a copy answered nothing or TIMEOUT; once without faults, every request a copy of
 * which reached the last incarnation answered, no participant in doubt, nothing thrown.
 * Nothing checked says how a copy is recognised, only that no request runs twice.
 */
import { Prng } from '../../src/core/prng.js';
import { runCoordinatorSeed, type CoordinatorSeedResult } from './coordinator-host.js';

export interface SeedResult extends CoordinatorSeedResult {
  begunRemembered: number;
  /**
   * Late copies handed to the coordinator (up) of a request at least `begunRemembered` requests
   * were begun after (as the model saw their first prepares): past the ids it holds.
   */
  latePastMemory: number;
}

export function runSeed(seed: number): SeedResult {
  const prng = new Prng(`coordinator-marks:${seed}`);
  const begunRemembered = 1 + prng.int(4);
  const clients = 1 + prng.int(2);
  const requestsMax = 40 + prng.int(31);
  let latePastMemory = 0;
  const result = runCoordinatorSeed(prng, {
    begunRemembered,
    clients,
    requestsMax,
    lateCopyBelow: 0.62,
    // Most often a copy of one begun at least `begunRemembered` begins ago (past the ids the
    // coordinator holds), else any one sent so far.
    lateCopy: ({ sentRequests, firstCopy, beginOrder, beganAt, up }) => {
      const past = beginOrder.length - begunRemembered;
      const late = past > 0 && prng.chance(0.7) ? firstCopy.get(beginOrder[prng.int(past)]!)! : prng.pick(sentRequests);
      const rq = (late.msg['body'] as { rq: string }).rq;
      if (up && beganAt.has(rq) && beginOrder.length - 1 - beganAt.get(rq)! >= begunRemembered) latePastMemory++;
      return late;
    },
  });
  return { ...result, begunRemembered, latePastMemory };
}
