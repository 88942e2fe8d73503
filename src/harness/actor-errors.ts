/**
 * Errors thrown in a cluster's actors, for the harness: a module of its own so that withCluster
 * (ava.ts) does not load the scenarios' module graph (checkers, nemesis, workloads) to use it.
 */
import { isFailedAssert, type Cluster } from '../cluster/cluster.js';

/** Errors of actors an ActorErrorWatch quotes; the rest are counted. */
export const ACTOR_ERRORS_QUOTED_MAX = 3;

/**
 * The errors thrown in the cluster's actors other than a failed `assert` (those are
 * Cluster.assertionFailures): a TypeError, a check of MERIDIAN_TICKS=verify, a timer refused.
 * In a scenario only the cluster's own actors send and the logs are their own, so each is a
 * bug, as a failed assert is, and fails the seed (both scenarios). Supervision restarts the
 * actor from its log and the run may well go on correct: until an audit (session 67) such a
 * seed passed, the error only in `cluster.errors()`, which nothing read.
 */
export class ActorErrorWatch {
  private readonly quoted: string[] = [];
  private seen = 0;

  private constructor(
    private readonly cluster: Cluster,
    private readonly t0: number,
  ) {}

  /** Watch from now on; `t0` is the cluster time the scenario started (the lines say times from it). */
  static attach(cluster: Cluster, t0: number): ActorErrorWatch {
    const watch = new ActorErrorWatch(cluster, t0);
    cluster.on('actor-error', (event) => watch.take(event.address, event.error));
    return watch;
  }

  private take(address: string, error: { name?: string; message: string }): void {
    if (isFailedAssert(error.message)) return;
    if (this.seen++ < ACTOR_ERRORS_QUOTED_MAX)
      this.quoted.push(`actor error in ${address} at ${(this.cluster.now() - this.t0).toFixed(0)} ms: ${error.name ?? 'Error'}: ${error.message}`);
  }

  /** A failure line per error quoted (`actor error in r1/0 at 120 ms: TypeError: ...`), and one that counts the rest. */
  lines(): string[] {
    const more = this.seen - this.quoted.length;
    return more > 0 ? [...this.quoted, `${more} more actor errors`] : [...this.quoted];
  }
}
