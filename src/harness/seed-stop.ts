import { startCluster, type Cluster } from '../cluster/cluster.js';
import type { ClusterConfig } from '../cluster/config.js';
import { StoppedError } from '../core/errors.js';

/** How a scenario starts its cluster: startCluster, or a SeedStop's `start` (which can stop it from outside). */
export type StartCluster = (config: ClusterConfig) => Promise<Cluster>;

/**
 * The clusters one seed's run starts, stopped from outside when the run is dropped (Ctrl-C, the
 * time limit, the seed's wall-time limit). A pool worker ended under a running seed ended its
 * cluster's threads (or, over NATS, its host processes, through their lifeline pipes), but not
 * its stop(): the cluster's temporary folder stayed, with its logs (found by an audit, session
 * 56; a `--time-limit` run on threads left one every time). The scenarios start their clusters
 * through `start`; `stop` stops every one of them, waiting for one still booting.
 */
export class SeedStop {
  readonly #started = new Set<Promise<Cluster>>();
  #stopped = false;

  /** startCluster(config), unless the seed was stopped (then a StoppedError); stop() stops the cluster too. */
  readonly start: StartCluster = async (config) => {
    if (this.#stopped) throw new StoppedError('the seed was stopped', true);
    const starting = startCluster(config);
    this.#started.add(starting);
    const cluster = await starting;
    if (this.#stopped) {
      // stop() came while it booted: it waits for this stop too.
      await cluster.stop();
      throw new StoppedError('the seed was stopped');
    }
    return cluster;
  };

  /**
   * Stops every cluster `start` began (one booting is stopped once it has booted; one that
   * failed to start has nothing to stop), and resolves when all have stopped. No cluster
   * starts after it.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    const started = await Promise.allSettled(this.#started);
    await Promise.all(started.flatMap((r) => (r.status === 'fulfilled' ? [r.value.stop().catch(() => undefined)] : [])));
  }
}
