/**
 * A randomized run of Multi-Paxos pre-vote in the core cluster of test/helpers/multipaxos-cluster.ts:
 * 3 or 5 replicas with pre-vote, a leader drawn and elected, one other replica drawn that from
 * then on hears nothing (what it sends still arrives), or does not hear the leader (one way),
 * or is cut off from the leader both ways; commands proposed at random ticks, no other fault.
 * The leader must lead throughout, and every command must be applied by every replica that
 * hears it. A replica that hears nothing never completes a pre-vote (the answers do not reach
 * it), however they are given; one cut off from the leader alone hears the others' answers,
 * which must be no while they hear the leader. test/multipaxos-prevote.part.ts runs it, and on
 * a scratch copy of dist/ with the `prevote-always-grants` mutant of scripts/mutants.mjs (so the
 * imports here are relative).
 */
import { Prng } from '../../src/core/prng.js';
import { Cluster, ELECTION } from './multipaxos-cluster.js';

export function runSeed(seed: number): { problems: string[]; changes: number } {
  const prng = new Prng(`prevote-random:${seed}`);
  const n = prng.chance(0.5) ? 3 : 5;
  const c = new Cluster(n, { preVote: true, seed });
  const leader = prng.pick(c.ids);
  c.elect(leader);
  const victim = prng.pick(c.ids.filter((id) => id !== leader));
  const cut = prng.pick(['deaf', 'from-leader', 'leader-link'] as const);
  if (cut === 'deaf') c.net.cutInto(victim);
  else if (cut === 'from-leader') c.net.cutInto(victim, [leader]);
  else c.net.partition([[leader], [victim]]);
  const problems: string[] = [];
  let proposed = 0;
  let changes = 0;
  const steps = (20 + prng.int(20)) * ELECTION;
  for (let step = 0; step < steps; step++) {
    if (c.core(leader).isLeader() && prng.chance(0.1)) c.propose(leader, `c${proposed++}`);
    c.net.run(1);
    if (c.leaders().join() !== leader) changes++;
  }
  if (changes > 0) problems.push(`${leader} did not lead for ${changes} of ${steps} ticks while ${victim} was cut off (${cut}, ${n} replicas)`);
  for (const id of c.ids) {
    // Cut off from the leader only, the victim still learns what was chosen (catch-up from the others is not asked for: the leader's commits do not reach it).
    if (id !== victim && c.state(id).length !== proposed) problems.push(`${id} applied ${c.state(id).length} of ${proposed} commands (${cut}, ${n} replicas)`);
  }
  problems.push(...c.violations);
  return { problems, changes };
}
