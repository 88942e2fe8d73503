import { HostExitedError, StoppedError, TimeoutError } from '../../core/errors.js';
import type { ActorSpec } from '../actor.js';
import type { HostPing } from '../admin.js';
import type { ActorSummary } from '../cell.js';
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
   * every host); the promise resolves once every other live host applied them too. A host that
   * died meanwhile is left out (it gets them at its restart); one that does not answer in time
   * rejects it (controlLate), and so does stop() before every host answered (StoppedError).
   * Calls apply in call order.
   */
  setNetwork(config: NetworkConfig): Promise<void>;
  setPartitions(rules: PartitionRule[]): Promise<void>;
  /** Offset the clock that actors of `node` read (0 removes it). */
  setClockSkew(node: string, ms: number): void;
  stats(): StatsSnapshot;
  collectStats(): Promise<StatsSnapshot>;
  summary(address: string): Promise<ActorSummary | null>;
  /** Ask every worker host over the control plane (none in sim). */
  ping(): Promise<HostPing[]>;
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
 * Whether a call's `error` is stop()'s (stoppedDuring, or a call made after stop()), not a
 * host's death: a HostExitedError is a StoppedError too, and a setNetwork or setPartitions that
 * rethrew every StoppedError rejected naming a host that a crash() beside it ended, though every
 * live host had applied the change and the crashed one is handed it at its restart (an audit of
 * overlapping control calls, session 69; since session 68's 0d14df8).
 */
export function cutByStop(error: unknown): boolean {
  return error instanceof StoppedError && !(error instanceof HostExitedError);
}

/**
 * A host (a thread or a process) ended: every call pending on it is rejected, with a
 * StoppedError once stop() began (stop() ended it) or else a HostExitedError naming it and
 * `why`, which says the call may or may not have taken effect. What is returned, for the
 * 'host-exit' event, is the nodes it ran and `message`, what happened to the host alone: that
 * event comes whether or not a call was pending (a host killed while the cluster was idle was
 * reported as "...; the call may or may not have taken effect", with no call: an audit,
 * session 62).
 */
export function failPendingCalls(
  entry: { id: number; plan: HostPlan; pending: Set<(error: Error) => void> },
  stopped: boolean,
  why: string,
): { nodes: string[]; message: string } {
  const nodes = nodesOf(entry);
  const message = `host ${entry.id} (${nodes.join(', ')}) ${why}`;
  const pending = [...entry.pending];
  entry.pending.clear();
  if (pending.length > 0) {
    const error = stopped ? stoppedDuring() : new HostExitedError(entry.id, `${message}; the call may or may not have taken effect`);
    for (const reject of pending) reject(error);
  }
  return { nodes, message };
}

/** The nodes a host runs, each once, in plan order. */
function nodesOf(entry: { plan: HostPlan }): string[] {
  return [...new Set(entry.plan.specs.map((s) => s.node))];
}

/**
 * How long a read of every host (its counters for metrics, a ping) waits for each one. A
 * host that does not answer in time (stalled, busy in a long step, or dying) is left out of a
 * gathered read (AnswerGatherer) and fails a ping (pingEvery). Short: metrics are scraped
 * every few seconds, and a scrape must answer while a host stalls.
 */
export const STATS_ANSWER_MS = 2_000;

/** How long a control call waits for its host (a NATS request, and inspect() on every real-time transport). */
export const CONTROL_TIMEOUT_MS = 10_000;

/**
 * What inspect(`address`) rejects with when `host` did not answer it within `ms`: the actor,
 * the host and its nodes named (on threads it waited for as long as the host's step ran, for
 * ever for one that never ends; on NATS it said "host 1 did not answer summary (timeout)":
 * an audit, session 62). A read: nothing changed.
 */
export function inspectLate(address: string, host: { id: number; plan: HostPlan }, ms: number): TimeoutError {
  return new TimeoutError(
    `inspect(${JSON.stringify(address)}): host ${host.id} (${nodesOf(host).join(', ')}) did not answer within ${ms} ms (stalled, or busy in a long step)`,
  );
}

/** The lifecycle calls of a node, as their errors name them (controlLate), on threads and on NATS. */
export type LifecycleOp = 'crash' | 'restart' | 'pause' | 'resume';

/**
 * What a crash, restart or pause (`op`) of `node` rejects with when `host` did not answer one of
 * its calls within `ms` (on threads it waited for as long as the host's step ran, for ever for
 * one that never ends: session 66's low list), and a change of every host's network (`op`
 * setNetwork or setPartitions, `node` undefined: session 67). Not a read: it may have been
 * carried out.
 */
export function controlLate(op: string, node: string | undefined, host: { id: number; plan: HostPlan }, ms: number): TimeoutError {
  return new TimeoutError(
    `${node === undefined ? op : `${op} of node ${node}`}: host ${host.id} (${nodesOf(host).join(', ')}) did not answer within ${ms} ms (stalled, or busy in a long step); it may or may not have been carried out`,
  );
}

/**
 * What a restart of `node` rejects with when `host`, the thread or process it started the node
 * on, ended before the restart settled (its actors' first steps failed, it ran out of memory, it
 * was killed): the node is down, as the host's end marked it, and a later restart starts it
 * again. Before (an audit of overlapping control calls, session 69) the restart went on to mark
 * the node alive over that, and resolved: the Cluster took it as up, and every later restart()
 * of it was a no-op, so it stayed dead for good while isDown() said false.
 */
export function endedWhileRestarting(node: string, host: { id: number; plan: HostPlan }): HostExitedError {
  return new HostExitedError(
    host.id,
    `restart of node ${node}: host ${host.id} (${nodesOf(host).join(', ')}) ended before the restart finished; ${node} stays down (a later restart starts it again)`,
  );
}

/**
 * `answer`, or a TimeoutError (`late()`) once `ms` pass first. For a transport whose calls
 * have no timeout of their own (comlink, on threads): the answer may still come, and is then
 * dropped.
 */
export function answerWithin<T>(ms: number, answer: Promise<T>, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(late()), ms)));
  return Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Reads that gather from every host (their counters, for metrics) on a real-time transport:
 * what a host answers, or undefined when it did not answer (in time, or at all: it stalled,
 * died, or the connection to it was lost; a 'host-exit' reports the last two), and the read
 * leaves that host out rather than fail or wait for it. The first time a live host does not
 * answer, a 'warn' names it, once until it answers again. Only stop() still fails the read.
 */
export class AnswerGatherer {
  /** Hosts whose last read found them not answering ('warn'ed once until they answer again). */
  private readonly unanswered = new Set<number>();

  constructor(
    private readonly report: (event: HostEvent) => void,
    private readonly stopped: () => boolean,
  ) {}

  async gather<T>(h: { id: number; alive: boolean }, what: string, ask: () => Promise<T>): Promise<T | undefined> {
    try {
      const answer = await ask();
      this.unanswered.delete(h.id);
      return answer;
    } catch (error) {
      if (this.stopped()) throw error;
      if (h.alive && !this.unanswered.has(h.id)) {
        this.unanswered.add(h.id);
        const why = error instanceof TimeoutError ? `did not answer ${what} within ${STATS_ANSWER_MS} ms` : `failed ${what} (${(error as Error).message})`;
        const message = `host ${h.id} ${why}: metrics count it with the counters it last pushed until it answers`;
        this.report({ kind: 'warn', address: `host ${h.id}`, message });
      }
      return undefined;
    }
  }

  /** Host `id` ended: a new thread or process for its id is warned about afresh. */
  forget(id: number): void {
    this.unanswered.delete(id);
  }
}

/**
 * Ping every host in `hosts` at once with `ask` (which times out after STATS_ANSWER_MS). A
 * probe: a host that died fails it with its error (a HostExitedError names it); hosts that did
 * not answer in time fail it with one TimeoutError that names each of them and its nodes, and
 * how many answered, once every host answered or timed out (a SIGSTOPped NATS host failed a
 * ping after 10 s with "host 1 did not answer ping (timeout)", another one stopped too went
 * unsaid, and on threads a worker busy in a long step held the ping until the step ended: an
 * audit, session 62).
 */
export async function pingEvery<H extends { id: number; plan: HostPlan }>(hosts: H[], ask: (h: H) => Promise<HostPing>): Promise<HostPing[]> {
  const settled = await Promise.allSettled(hosts.map(ask));
  const answers: HostPing[] = [];
  const late: H[] = [];
  for (const [i, result] of settled.entries()) {
    if (result.status === 'fulfilled') answers.push(result.value);
    else if (result.reason instanceof TimeoutError) late.push(hosts[i]!);
    else throw result.reason;
  }
  if (late.length === 0) return answers;
  const named = late.map((h) => `host ${h.id} (${nodesOf(h).join(', ')})`).join(', ');
  throw new TimeoutError(
    `ping: ${named} did not answer within ${STATS_ANSWER_MS} ms (stalled, or busy in a long step); ${answers.length} of ${hosts.length} hosts answered`,
  );
}
