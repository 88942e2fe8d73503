/**
 * One seed of a randomized test of the transaction coordinator actor's request de-duplication
 * across restarts (test/coordinator-random.part.ts runs it; test/helpers/core-mutant.ts runs it
 * on a scratch copy of dist/ with a bug put in, so the imports here are relative).
 *
 * The coordinator, its host (a fake ActorContext whose durable log outlives the actor, real 2PC
 * participant cores per shard), its network, its crashes and restarts and what is checked are
 * test/helpers/coordinator-host.ts's: see there. This model: 2-3 clients send 24-40 requests
 * over the run, and a late request copy is any one sent so far, from the whole run (late copies
 * after the transaction finished, after many newer requests, after restarts and checkpoints).
 * Half of the seeds shrink the request ids the coordinator remembers as begun
 * (`begunRemembered`, 1-6, as `--limits small` does), so marks of forgotten ids decide.
 */
import { Prng } from '../../src/core/prng.js';
import { runCoordinatorSeed, type CoordinatorSeedResult } from './coordinator-host.js';

export interface SeedResult extends CoordinatorSeedResult {
  begunRemembered: number | undefined;
}

export function runSeed(seed: number): SeedResult {
  const prng = new Prng(`coordinator-random:${seed}`);
  const small = prng.chance(0.5);
  const begunRemembered = small ? 1 + prng.int(6) : undefined;
  const clients = 2 + prng.int(2);
  const requestsMax = 24 + prng.int(17);
  const result = runCoordinatorSeed(prng, {
    begunRemembered,
    clients,
    requestsMax,
    lateCopyBelow: 0.6,
    lateCopy: ({ sentRequests }) => prng.pick(sentRequests),
  });
  return { ...result, begunRemembered };
}
