import { HostExitedError, StoppedError } from '../../core/errors.js';
import type { ActorSpec } from '../actor.js';
import type { HostPing } from '../admin.js';
import type { HostEvent, TimerHandle } from '../env.js';
import type { Host } from '../host.js';
import type { NetworkConfig, PartitionRule } from '../../net/model.js';
import type { StatsSnapshot } from '../stats.js';

/** The actors one host runs. `dedicated`: the host runs a single node (crash = kill its thread or process). */
export interface HostPlan {
  id: number;
  specs: ActorSpec[];
  dedicated: boolean;
}

/**
 * What the cluster needs from a transport; every transport implements each member for real.
 * The simulator's extras are in SimDriver.
 */
export interface Runtime {
  readonly kind: 'threads' | 'sim' | 'nats';
  /** The host on the calling thread, where clients and the balancer live. */
  readonly host: Host;
  start(): Promise<void>;
  now(): number;
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  sleep(ms: number): Promise<void>;
  /**
   * Crash `node`. Precondition of crashNode, restartNode and pauseNode, not checked by any
   * runtime: no other of the three is in flight for the same node (calls for different nodes
   * may overlap). Runtimes are internal (the package exports none, see src/index.ts; tests
   * reach one through `Cluster.internals`), and their one caller, the Cluster, runs these
   * calls per id one after the other (Cluster.inOrder), where it also decides from its own
   * state (which ids are down or paused) whether a call has anything to do: ordering them
   * again here would be a second lock around the same calls. Overlapping, they interleave on
   * threads and NATS (on threads, a restart of a dedicated node during its crash finds the
   * thread still alive and does nothing, so the node stays dead; a crash during its restart
   * terminates the new thread and the restart fails with 'host N exited'). A caller other
   * than the Cluster must order them itself.
   */
  crashNode(node: string): Promise<void>;
  /** Start crashed `node` again; it recovers from its durable log. Precondition: see crashNode. */
  restartNode(node: string): Promise<void>;
  /**
   * Stop (true) or resume (false) every actor of `node`, as SIGSTOP / SIGCONT would (see
   * Host.pauseNode). Precondition: see crashNode.
   */
  pauseNode(node: string, paused: boolean): Promise<void>;
  /**
   * Network settings and partitions apply on this thread's host at the call (in sim, that is
   * every host); the promise resolves once every other live host applied them too. It never
   * rejects: a host that died meanwhile gets them at its restart. Calls apply in call order.
   */
  setNetwork(config: NetworkConfig): Promise<void>;
  setPartitions(rules: PartitionRule[]): Promise<void>;
  /** Offset the clock that actors of `node` read (0 removes it). */
  setClockSkew(node: string, ms: number): void;
  stats(): StatsSnapshot;
  collectStats(): Promise<StatsSnapshot>;
  summary(address: string): Promise<unknown>;
  /** Ask every worker host over the control plane (none in sim). */
  ping(): Promise<HostPing[]>;
  load(addresses: string[]): Promise<Record<string, Record<string, number>>>;
  injectFrame(hostId: number, bytes: Uint8Array): Promise<void>;
  hostCount(): number;
  stop(): Promise<void>;
}

/**
 * What only the simulator needs: virtual time moves only while someone awaits the actors, so
 * whoever does (a client call) says when it begins and ends. Real-time transports have none.
 */
export interface SimDriver {
  /** The caller is about to await something the actors must settle: run the simulation. Returns the mark endWait takes. */
  beginWait(): number;
  /** What beginWait returned `mark` for has settled. */
  endWait(mark: number): void;
  /** Call `listener` once if the run stalls (virtual time cannot move): it fails what waits. */
  onStall(listener: (error: Error) => void): void;
}

export type { HostEvent };

/**
 * What a call of a real-time runtime (threads, NATS) cut short by stop() rejects with: stop()
 * ended the thread or process it waited on, so its outcome is unknown, and an error naming
 * that host would blame it for the stop.
 */
export function stoppedDuring(): StoppedError {
  return new StoppedError('the cluster stopped before the call ended');
}

/**
 * A host (a thread or a process) ended: every call pending on it is rejected, with a
 * StoppedError once stop() began (stop() ended it) or else a HostExitedError naming it and
 * `why`, which is returned with the nodes it ran (for the 'host-exit' event).
 */
export function failPendingCalls(
  entry: { id: number; plan: HostPlan; pending: Set<(error: Error) => void> },
  stopped: boolean,
  why: string,
): { nodes: string[]; error: Error } {
  const nodes = [...new Set(entry.plan.specs.map((s) => s.node))];
  const error = stopped
    ? stoppedDuring()
    : new HostExitedError(entry.id, `host ${entry.id} (${nodes.join(', ')}) ${why}; the call may or may not have taken effect`);
  const pending = [...entry.pending];
  entry.pending.clear();
  for (const reject of pending) reject(error);
  return { nodes, error };
}
