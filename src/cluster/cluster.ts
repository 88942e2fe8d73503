import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createHash, randomInt } from 'node:crypto';
import { ConfigError, StoppedError, ValidationError, describe, namedAs } from '../core/errors.js';
import { checkOptions, waitMs } from '../core/validate.js';
import { randomId, seededIds } from '../core/ids.js';
import { CLOCK_SKEW_MS_MAX } from '../core/limits.js';
import { Prng, hashString } from '../core/prng.js';
import type { History, TxnHistoryOp } from '../core/history.js';
import { mergeNetwork, type NetworkConfig, type PartitionOptions, type PartitionRule } from '../net/model.js';
import type { ActorSpec, SystemMessage } from '../runtime/actor.js';
import type { ActorSummary } from '../runtime/cell.js';
import type { Message } from '../core/codec.js';
import type { DirectoryEntry, HostEvent } from '../runtime/host.js';
import type { ShardPaxosBatchWire, ShardPaxosWire } from '../replication/messages.js';
import type { StatsSnapshot } from '../runtime/stats.js';
import type { HostPlan, Runtime } from '../runtime/transports/runtime.js';
import { SimRuntime } from '../runtime/transports/sim-runtime.js';
import { makeTempDir, removeTempDir } from '../runtime/temp-dirs.js';
import type { TraceEntry } from '../runtime/transports/sim.js';
import { behaviors } from './behaviors.js';
import { checkDataDir, checkLayout, lockDataDir } from './data-dir.js';
import { clusterLayout } from '../runtime/layout.js';
import type { BalancerSummary } from './balancer.js';
import { checkKey, checkNoMore, Client, type ClientOptions } from './client.js';
import { HistoryRecorder, TxnHistoryRecorder } from './history.js';
import { HISTORY_OPS_MAX, validateConfig, validateNetworkChange, type ClusterConfig, type ResolvedConfig } from './config.js';
import { validateBalancerConfig, validateHeartbeatConfig } from './validate-parts.js';
import { planCluster } from './plan.js';
import { allServers, balancerAddress, coordinatorAddress, groupOf, preferredServerOf, shardOf, topologyOf } from './topology.js';
import type { ServerState } from './server.js';
import type { Snapshot } from '../replication/state-machine.js';
import type { Ballot } from '../protocols/ballot.js';
import type { CoordinatorState } from './coordinator.js';
import type { MemberState } from './messages.js';
import { checkTicksSetting } from './tick-clock.js';
import { buildClusterMetrics, ClientMetrics, replicationLagOf } from '../metrics/cluster-metrics.js';
import type { MetricsServer, MetricsServerOptions } from '../metrics/http.js';
import { toPrometheusText } from '../metrics/prometheus.js';
import type { MetricsSnapshot } from '../metrics/registry.js';

/** A shard as a nemesis sees it: see Cluster.shardLeaders. */
export interface ShardLeader {
  shard: number;
  replicas: string[];
  leader: string | undefined;
  inflight: number;
  /** Transactions prepared and not finished in the leader's state machine (0 with no leader, or off sim). */
  openTxns: number;
  /** The leader's commit index: the last slot it knows chosen (0 with no leader, or off sim). */
  commitIndex: number;
  /** The leader's ballot (absent with no leader, or off sim): a leader re-elected has a new one. */
  ballot?: { round: number; id: string };
  candidates: string[];
}

/** Actor errors and warnings kept for `cluster.errors()`; older ones are only counted. */
export const CLUSTER_EVENTS_KEPT_MAX = 1_000;

export interface Member {
  id: string;
  region: string;
  state: MemberState;
}

export interface MemberEvent extends Member {
  previous: MemberState | 'unknown';
  /** One more per event, and larger after a restart of the balancer that publishes them than before it: order events by it. */
  version: number;
  atMs: number;
}

export interface ClusterStats extends StatsSnapshot {
  /** Per server: the client requests it executed. */
  servers: Record<string, { requests: number }>;
  /** Messages dropped, all causes together. */
  droppedTotal: number;
}

export interface CrashOptions {
  /**
   * sim only: a power loss, not just a process death. The server's durable log keeps only what
   * was synced: with `fsync: true` everything; with `fsync: false` the unsynced tail is lost
   * and its first record may be left torn (see MemoryDurableStore.powerLoss).
   */
  powerLoss?: boolean;
}

/** One copy of a shard on a live server, as `Cluster.copyProgress()` reads it (sim only). */
export interface CopyProgress {
  /** The server. */
  id: string;
  /** The server's incarnation: a new one at every restart. */
  incarnation: string;
  shard: number;
  /** A hybrid learner (else a replica of the shard's group). */
  learner: boolean;
  /** Commands of the shard's log it has applied. */
  applied: number;
  /** A running hash of those commands (KvStateMachine.digest): copies at one `applied` must agree. */
  digest: number;
  /** A replica's acceptor: the highest ballot it promised (undefined for a learner). */
  promised: Ballot | undefined;
}

/** One live copy of a shard as `replicaStates` reads it (sim): its state machine's snapshot and the log index it applied. */
export interface ReplicaState {
  id: string;
  learner: boolean;
  index: number | undefined;
  state: Snapshot;
}

/** An `assert` that failed inside an actor (a broken invariant: a bug, not bad input). */
export interface AssertionFailure {
  address: string;
  message: string;
  /** Cluster time of the report. */
  atMs: number;
}

/** Whether an actor error's message is that of a failed `assert` (src/core/assert.ts): an AssertionFailure. */
export function isFailedAssert(message: string): boolean {
  return message.startsWith('assertion failed');
}

/** The largest factor `slowTimers` takes. */
export const SLOW_TIMERS_MAX = 100;

/** Assertion failures kept for `assertionFailures()`. */
export const ASSERTION_FAILURES_KEPT_MAX = 100;

/**
 * The events a cluster emits: `'member'` (a MemberEvent: a server's state changed in the first
 * region's balancer's view), `'crashing'` (the id of a server or coordinator `crash()` is about
 * to take down), `'assertion-failed'` (an AssertionFailure), and its hosts' `'actor-error'`,
 * `'frame-error'`, `'host-exit'` and `'warn'` (HostEvent; a warning about the configuration
 * too, from address `config`: see configWarnings). `on`, `once`, `off` and the other
 * listener methods take these and EventEmitter's own (EMITTER_EVENTS); any other name is a
 * ValidationError naming `event` (a misspelt one was never emitted, its listener never called).
 */
export const CLUSTER_EVENTS = ['member', 'crashing', 'assertion-failed', 'actor-error', 'frame-error', 'host-exit', 'warn'] as const;

/** EventEmitter's own events, which its users (node:events' once and on) listen to as well. */
const EMITTER_EVENTS: readonly string[] = ['error', 'newListener', 'removeListener'];

type Listener = Parameters<EventEmitter['on']>[1];

/**
 * What each of CLUSTER_EVENTS passes its listeners, for the typed listener methods: a
 * misspelt name ('membr') is a compile error there as it is a ValidationError at run time, and
 * a listener's argument has its type (it was `any`). A symbol and EventEmitter's own events
 * keep EventEmitter's untyped listener.
 */
export interface ClusterEvents {
  member: [change: MemberEvent];
  crashing: [id: string];
  'assertion-failed': [failure: AssertionFailure];
  'actor-error': [event: Extract<HostEvent, { kind: 'actor-error' }>];
  'frame-error': [event: Extract<HostEvent, { kind: 'frame-error' }>];
  'host-exit': [event: Extract<HostEvent, { kind: 'host-exit' }>];
  warn: [event: Extract<HostEvent, { kind: 'warn' }>];
}

/** A name a listener method takes besides ClusterEvents' (see EMITTER_EVENTS). */
type EmitterEvent = symbol | 'error' | 'newListener' | 'removeListener';

/** A name the listener methods that read or drop listeners by name take. */
type ClusterEventName = keyof ClusterEvents | EmitterEvent;

/** The listener of a cluster event, typed by ClusterEvents. */
export type ClusterListener<E extends keyof ClusterEvents> = (...args: ClusterEvents[E]) => void;

/** An event name a listener method takes (see CLUSTER_EVENTS), else a ValidationError naming `event`. */
function checkEvent(event: unknown): void {
  if (typeof event !== 'symbol' && !(CLUSTER_EVENTS as readonly unknown[]).includes(event) && !EMITTER_EVENTS.includes(event as string))
    throw new ValidationError(
      'event',
      `one of ${CLUSTER_EVENTS.map((e) => `'${e}'`).join(', ')} (or EventEmitter's ${EMITTER_EVENTS.map((e) => `'${e}'`).join(', ')}), got ${describe(event)}`,
    );
}

/**
 * A running cluster. Created by `startCluster`; stop it with `stop()`, after which no
 * thread, timer or handle of it is left.
 */
export class Cluster extends EventEmitter {
  /** What the cluster was started with, resolved and frozen all the way down (setNetwork and the other calls change the cluster, not this). */
  readonly config: ResolvedConfig;
  readonly seed: number;
  private readonly runtime: Runtime;
  private readonly recorder: HistoryRecorder;
  private readonly txnRecorder: TxnHistoryRecorder;
  /** Region coordinators (`coordinator/<region>`), which crash and restart like servers. */
  private readonly coordinators: Set<string>;
  /** The clients made and not closed (a closed one is let go: see Client.close). */
  private readonly clients = new Set<Client>();
  private readonly events: HostEvent[] = [];
  private eventsSeen = 0;
  private readonly regionNames: Set<string>;
  private readonly servers: Set<string>;
  private readonly down = new Set<string>();
  /** Per server or coordinator, the restarts restart() carried out (meridian_server_restarts_total). */
  private readonly restarted = new Map<string, number>();
  /** Servers and coordinators paused (`pause()`) and not yet resumed or crashed. */
  private readonly paused = new Set<string>();
  /** Per server or coordinator, the last crash, restart, pause or resume called while one is in flight (see inOrder). */
  private readonly lifecycle = new Map<string, Promise<void>>();
  /** Restarts of each server and coordinator (its incarnation number, for the runtime's notices). */
  private readonly incarnations = new Map<string, number>();
  private network: NetworkConfig;
  private partitions: PartitionRule[] = [];
  private stopped = false;
  /** What stop() returns, from its first call on. */
  private stopping: Promise<void> | undefined;
  /** Operations recorded into the history so far. */
  private recorded = 0;
  private readonly clientIds: () => string;
  /** Client calls as they settle, for metrics(). */
  private readonly clientMetrics = new ClientMetrics();
  /** Open metrics endpoints, closed by stop(). */
  private readonly metricsServers = new Set<MetricsServer>();
  private readonly failedAssertions: AssertionFailure[] = [];
  /** Draws of power-loss crashes (which records tear, and where). */
  private readonly powerPrng: Prng;
  /** Each shard's replication group (see groupOf), filled on first use. */
  private groups: string[][] | undefined;
  /** The address of every actor the cluster runs (see inspect), filled on first use. */
  private actors: Set<string> | undefined;

  /** The simulator's extras (trace, power loss, a look inside servers), when the transport is 'sim'. */
  private readonly sim: SimRuntime | undefined;

  constructor(config: ResolvedConfig, runtime: Runtime, sim?: SimRuntime) {
    super();
    // The class is exported (for types and instanceof), but only startCluster has what it
    // takes: new Cluster() failed with a TypeError reading 'seed'.
    const given: unknown = config;
    if (
      typeof given !== 'object' ||
      given === null ||
      !Array.isArray((given as { regions?: unknown }).regions) ||
      typeof runtime !== 'object' ||
      runtime === null
    )
      throw new ValidationError(
        'config',
        `a resolved configuration from startCluster (start a cluster with startCluster(config), not new Cluster()), got ${describe(given)}`,
      );
    // Frozen all the way down: it says what the cluster was started with, and an edit to it
    // changed what members() listed (an audit, session 57).
    this.config = deepFreeze(config);
    this.seed = config.seed;
    this.runtime = runtime;
    this.sim = sim;
    // A stalled simulation runs no more events: every open call fails rather than hang.
    sim?.onStall((error) => {
      for (const client of this.clients) client.fail(error);
    });
    this.network = config.network;
    this.recorder = new HistoryRecorder({ now: () => runtime.now() });
    this.txnRecorder = new TxnHistoryRecorder(() => runtime.now());
    this.regionNames = new Set(config.regions.map((r) => r.name));
    this.servers = new Set(allServers(config));
    this.coordinators = new Set(config.regions.map((r) => coordinatorAddress(r.name)));
    this.clientIds = config.transport === 'sim' ? seededIds(new Prng((config.seed ^ hashString('clients')) >>> 0)) : () => randomId();
    this.powerPrng = new Prng((config.seed ^ hashString('power-loss')) >>> 0);
  }

  /** @internal */
  onHostEvent(event: HostEvent): void {
    if (event.kind === 'publish') {
      if (event.topic === 'member' && event.address === balancerAddress(this.config.regions[0]!.name)) {
        this.emit('member', event.data as MemberEvent);
      }
      return;
    }
    this.keep(event);
    if (event.kind === 'host-exit' && !this.stopped) {
      // A host thread that ended unasked took its servers and coordinator down as a crash
      // would: they are down (isDown, and restart() brings a dedicated one back), and the
      // balancers hear of it. Before, isDown said false and restart() did nothing.
      for (const node of event.nodes) {
        if ((!this.servers.has(node) && !this.coordinators.has(node)) || this.down.has(node)) continue;
        this.down.add(node);
        this.paused.delete(node);
        this.notifyBalancers('node-crashed', node);
      }
    }
    this.emit(event.kind, event);
    if (event.kind === 'actor-error' && isFailedAssert(event.error.message)) {
      const failure: AssertionFailure = { address: event.address, message: event.error.message, atMs: this.runtime.now() };
      if (this.failedAssertions.length < ASSERTION_FAILURES_KEPT_MAX) this.failedAssertions.push(failure);
      this.emit('assertion-failed', failure);
    }
  }

  /** An event kept for errors() (the first CLUSTER_EVENTS_KEPT_MAX), and counted. */
  private keep(event: HostEvent): void {
    this.eventsSeen++;
    if (this.events.length < CLUSTER_EVENTS_KEPT_MAX) this.events.push(event);
  }

  /**
   * @internal startCluster: each of configWarnings' warnings as a 'warn' event from `config`.
   * Kept for errors() at once; emitted by a timer of the cluster's clock due at once, so that a
   * listener attached as startCluster returns (none can be attached before) hears it. Not
   * setImmediate: the simulator runs on microtasks and yields to the event loop only every
   * SIM_EVENTS_PER_SLICE events, so a sim cluster was often stopped before it fired.
   */
  warnOfConfig(): void {
    for (const message of configWarnings(this.config)) {
      const event: HostEvent = { kind: 'warn', address: 'config', message };
      this.keep(event);
      this.runtime.setTimer(0, () => {
        if (!this.stopped) this.emit('warn', event);
      });
    }
  }

  /**
   * A listener method's arguments checked (see CLUSTER_EVENTS): a ValidationError naming
   * `event` or `listener`, where EventEmitter threw its own TypeError for a listener that is no
   * function, and took any event name. A symbol is taken as it is (events.errorMonitor).
   */
  private listenerOf(event: unknown, listener: unknown): Listener {
    checkEvent(event);
    if (typeof listener !== 'function') throw new ValidationError('listener', `a function, got ${describe(listener)}`);
    return listener as Listener;
  }
  /**
   * Every listener of `event` runs, in order, as EventEmitter runs them; but what one throws
   * does not unwind into whatever emitted (an actor's step, crash(), a frame from a worker):
   * it is thrown again on its own, in a microtask, an uncaught exception as from a timer's
   * callback, and the cluster and the other listeners go on. A `member` listener that threw
   * once stopped the first region's balancer for good (its step never finished). The event
   * name is checked as `on` checks it: emit('membr') returned false quietly, and
   * emit(undefined) threw a TypeError from inside EventEmitter.
   */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    checkEvent(event);
    const listeners = super.rawListeners(event) as Array<(...a: unknown[]) => unknown>;
    for (const listener of listeners) {
      try {
        listener.apply(this, args);
      } catch (error) {
        throwApart(error);
      }
    }
    return listeners.length > 0;
  }

  override on<E extends keyof ClusterEvents>(event: E, listener: ClusterListener<E>): this;
  override on(event: EmitterEvent, listener: Listener): this;
  override on(event: string | symbol, listener: Listener): this {
    return super.on(event, this.listenerOf(event, listener));
  }

  override addListener<E extends keyof ClusterEvents>(event: E, listener: ClusterListener<E>): this;
  override addListener(event: EmitterEvent, listener: Listener): this;
  override addListener(event: string | symbol, listener: Listener): this {
    return super.addListener(event, this.listenerOf(event, listener));
  }

  override once<E extends keyof ClusterEvents>(event: E, listener: ClusterListener<E>): this;
  override once(event: EmitterEvent, listener: Listener): this;
  override once(event: string | symbol, listener: Listener): this {
    return super.once(event, this.listenerOf(event, listener));
  }

  override prependListener<E extends keyof ClusterEvents>(event: E, listener: ClusterListener<E>): this;
  override prependListener(event: EmitterEvent, listener: Listener): this;
  override prependListener(event: string | symbol, listener: Listener): this {
    return super.prependListener(event, this.listenerOf(event, listener));
  }

  override prependOnceListener<E extends keyof ClusterEvents>(event: E, listener: ClusterListener<E>): this;
  override prependOnceListener(event: EmitterEvent, listener: Listener): this;
  override prependOnceListener(event: string | symbol, listener: Listener): this {
    return super.prependOnceListener(event, this.listenerOf(event, listener));
  }

  override off<E extends keyof ClusterEvents>(event: E, listener: ClusterListener<E>): this;
  override off(event: EmitterEvent, listener: Listener): this;
  override off(event: string | symbol, listener: Listener): this {
    return super.off(event, this.listenerOf(event, listener));
  }

  override removeListener<E extends keyof ClusterEvents>(event: E, listener: ClusterListener<E>): this;
  override removeListener(event: EmitterEvent, listener: Listener): this;
  override removeListener(event: string | symbol, listener: Listener): this {
    return super.removeListener(event, this.listenerOf(event, listener));
  }

  // The listener methods that read or drop by name check it too, as on and off do: they took
  // 'membr' and answered 0, [] or nothing (found by an audit, session 55).
  override listenerCount(event: ClusterEventName, listener?: Listener): number {
    checkEvent(event);
    if (listener !== undefined && typeof listener !== 'function')
      throw new ValidationError('listener', `a function, or left out for every listener, got ${describe(listener)}`);
    return listener === undefined ? super.listenerCount(event) : super.listenerCount(event, listener);
  }

  override listeners(event: ClusterEventName): Listener[] {
    checkEvent(event);
    return super.listeners(event) as Listener[];
  }

  override rawListeners(event: ClusterEventName): Listener[] {
    checkEvent(event);
    return super.rawListeners(event) as Listener[];
  }

  /** With no event (as stop() calls it), every listener of every event. */
  override removeAllListeners(event?: ClusterEventName): this {
    if (event === undefined) return super.removeAllListeners();
    checkEvent(event);
    return super.removeAllListeners(event);
  }

  /** Node threw its own RangeError for a negative count or NaN. */
  override setMaxListeners(n: number): this {
    if (typeof n !== 'number' || !(n >= 0))
      throw new ValidationError('n', `a number >= 0 of listeners an event may have before Node warns (0 or Infinity: no limit), got ${describe(n)}`);
    return super.setMaxListeners(n);
  }

  /**
   * Every `assert` that failed inside an actor so far (the first ASSERTION_FAILURES_KEPT_MAX).
   * The actor was restarted, as for any error; `withCluster` and `runScenario` fail the run on
   * any of these (see docs/testing.md).
   */
  assertionFailures(): AssertionFailure[] {
    return [...this.failedAssertions];
  }

  get transport(): 'threads' | 'sim' | 'nats' {
    return this.runtime.kind;
  }

  client(options: ClientOptions = { region: this.config.regions[0]!.name }, ...extra: never[]): Client {
    // A second argument (`client({ region: 'r1' }, 'r2')`) was ignored without a word.
    checkNoMore('client', ['options'], extra);
    checkOptions(options, 'options', ['region']);
    if (!this.regionNames.has(options.region)) {
      throw new ValidationError('region', `one of ${[...this.regionNames].map((r) => `'${r}'`).join(', ')}, got ${describe(options.region)}`);
    }
    this.assertRunning();
    const client = new Client(
      {
        runtime: this.runtime,
        driver: this.sim,
        host: this.runtime.host,
        observer: this.recorder,
        txnObserver: this.txnRecorder,
        onSettle: (op, latencyMs, outcome) => this.clientMetrics.record(op, latencyMs, outcome),
        // A transaction's entries count one a key (up to 64): counting one a call let a
        // history of transactions grow 32x past the bound (found by an audit, session 58).
        recording: (ops) => {
          if (!this.config.history) return false;
          if (this.recorded + ops > HISTORY_OPS_MAX) {
            this.recorded = HISTORY_OPS_MAX;
            return false;
          }
          this.recorded += ops;
          return true;
        },
        requestTimeoutMs: this.config.requestTimeoutMs,
        newId: this.clientIds,
        isStopped: () => this.stopped,
        onClose: () => this.clients.delete(client),
      },
      options,
    );
    this.clients.add(client);
    return client;
  }

  private checkServer(id: unknown, field = 'id'): string {
    if (typeof id !== 'string' || !this.servers.has(id)) {
      throw new ValidationError(field, `a server id such as '${this.config.regions[0]!.name}/0' (region/index from 0), got ${describe(id)}`);
    }
    return id;
  }

  private checkCrashable(id: unknown): string {
    if (typeof id === 'string' && this.coordinators.has(id)) return id;
    if (typeof id !== 'string' || !this.servers.has(id)) {
      const region = this.config.regions[0]!.name;
      throw new ValidationError(
        'id',
        `a server id such as '${region}/0' (region/index from 0) or a coordinator such as 'coordinator/${region}', got ${describe(id)}`,
      );
    }
    return id;
  }

  /**
   * Crash a server or a region's coordinator (`coordinator/<region>`) abruptly: a server's
   * thread is terminated (dedicated) or its actors dropped (packed, sim); a coordinator's actor
   * is dropped from its region's host. Emits `'crashing'` with the id just before it goes
   * down, synchronously: in sim a listener still reads its state as it was (copyProgress).
   * Crashes and restarts of one id apply in call order, concurrent ones too (see inOrder); a
   * crash called while one of the id's is in flight goes down when that one has settled.
   * One still in flight when `stop()` begins either completes (the id is down) or rejects
   * with StoppedError: stop() ends every thread and process the crash was waiting on, so
   * its outcome is unknown, as for a client call open at stop() (never a HostExitedError
   * naming a host that stop() ended). The same for `restart`, `pause` and `resume`; once
   * stopped, each rejects with StoppedError at once.
   */
  crash(id: string, options: CrashOptions = {}, ...extra: never[]): Promise<void> {
    return this.inOrder(
      id,
      () => this.crashNow(id, options),
      () => {
        checkNoMore('crash', ['id', 'options'], extra);
        checkOptions(options, 'options', ['powerLoss']);
        if (options.powerLoss !== undefined && typeof options.powerLoss !== 'boolean') throw new ValidationError('options.powerLoss', 'true or false');
        if (options.powerLoss === true && this.sim === undefined)
          throw new ValidationError('options.powerLoss', "true only with transport 'sim' (a real power loss cannot be staged on threads)");
      },
    );
  }

  /**
   * Run `op`, a crash, restart, pause or resume of `id`, after those of `id` called before it have
   * settled (whatever their outcome): concurrent calls apply in call order, each deciding
   * from the state the previous one left (`Promise.allSettled([crash(x), restart(x)])` ends
   * with x up, as the two awaited one after the other would; a runtime cannot restart a node
   * whose crash is still under way). Here rather than in each runtime: the cluster's own
   * state (which ids are down, the notices to balancers) changes with the runtime's, and a
   * call decides from it whether there is anything to do. With none of the id's in flight,
   * `op` runs at once and its promise is returned as is: such a call runs as it did before,
   * to the microtask (a sim run that awaits each call keeps its trace). Checked first, at the
   * call (a rejected promise): the cluster runs, `id` is a server or coordinator, and `check`.
   */
  private inOrder(id: string, op: () => Promise<void>, check?: () => void): Promise<void> {
    try {
      this.assertRunning();
      this.checkCrashable(id);
      check?.();
    } catch (error) {
      return Promise.reject(error);
    }
    const before = this.lifecycle.get(id);
    let current: Promise<void>;
    if (before !== undefined) current = before.then(op, op);
    else {
      // op's synchronous part emits events ('crashing'): a call a listener makes there (a
      // restart of the id being crashed) queues behind this one, as any later call does
      // (before, it found nothing in flight and ran first: the crash then left the id down).
      let started!: () => void;
      const entered = new Promise<void>((resolve) => (started = resolve)).then(() => current);
      entered.catch(() => {});
      this.lifecycle.set(id, entered);
      current = op();
      started();
      if (this.lifecycle.get(id) !== entered) {
        // A listener queued a call behind `entered`: that call holds the id's place in line.
        return current;
      }
    }
    this.lifecycle.set(id, current);
    // Registered before the caller's await, so it runs first: a call made right after this one
    // settles finds nothing in flight and runs at once.
    const done = (): void => {
      if (this.lifecycle.get(id) === current) this.lifecycle.delete(id);
    };
    current.then(done, done);
    return current;
  }

  private async crashNow(id: string, options: CrashOptions): Promise<void> {
    this.assertRunning();
    if (this.down.has(id)) return;
    this.emit('crashing', id);
    this.down.add(id);
    // A crash ends a pause: what the paused actors held dies with them.
    this.paused.delete(id);
    await this.runtime.crashNode(id);
    if (options.powerLoss === true && this.sim !== undefined) {
      const prng = this.powerPrng;
      this.sim.world.durable.powerLoss(
        (a) => a === id || a.startsWith(`${id}/`),
        () => prng.chance(0.5),
        (n) => 1 + prng.int(n - 1),
      );
    }
    this.notifyBalancers('node-crashed', id);
  }

  /**
   * Crash a server or coordinator at its next step that writes to its durable log: the write
   * is kept, the step's messages never leave (a crash between the disk and the network, see
   * Cell.crashAfterNextWrite). `restart()` brings it back as after `crash()`. Sim only;
   * returns false when it is down already. `isDown(id)` says when it has happened. A `crash()`
   * before that step disarms it: the restarted server is not armed.
   */
  crashAfterNextWrite(id: string, ...extra: never[]): boolean {
    this.assertRunning();
    this.checkCrashable(id);
    checkNoMore('crashAfterNextWrite', ['id'], extra);
    const sim = this.simOnly('crashAfterNextWrite', 'a step is cut only in the simulator');
    if (this.down.has(id)) return false;
    const cell = sim.host.cell(id);
    if (cell === undefined) return false;
    cell.crashAfterNextWrite(() => {
      this.down.add(id);
      this.paused.delete(id);
      sim.crashNodeNow(id);
      this.notifyBalancers('node-crashed', id);
    });
    return true;
  }

  /**
   * Call `hook` at coordinator `id`'s next step that writes the commit record of a two-phase
   * commit with shard `shard` among its participants (its commit point), once the record is
   * written and before that step's messages leave, the commit messages among them (the step
   * cut where `crashAfterNextWrite` cuts it, then carried on): a nemesis acts at the moment of
   * a commit decision this way (strand-leader cuts that coordinator off from the shard's
   * replicas but its stranded leader). `hook` gets the transaction's id and runs inside the
   * step; what it changes (a partition) applies to the step's messages, and a `crash(id)` of
   * the coordinator itself ends the step there, as `crashAfterNextWrite` does (the record is
   * kept, none of the step's messages leave; until 2026-12-08 they left the dead coordinator). What it throws does not
   * stop the step: it is thrown again on its own, an uncaught exception (as from a listener).
   * `undefined` clears a hook not yet called. Only 2PC writes such records (with Paxos Commit
   * the hook is never called). Sim only; returns false when the coordinator is down (nothing
   * is set).
   */
  atNextCommit(id: string, shard: number, hook: ((txn: string) => void) | undefined): boolean {
    this.assertRunning();
    if (typeof id !== 'string' || !this.coordinators.has(id))
      throw new ValidationError('id', `a coordinator such as 'coordinator/${this.config.regions[0]!.name}', got ${describe(id)}`);
    this.checkShard(shard);
    if (hook !== undefined && typeof hook !== 'function')
      throw new ValidationError('hook', `a function of the transaction id, or undefined, got ${typeof hook}`);
    const sim = this.simOnly('atNextCommit', 'a step is cut only in the simulator');
    if (this.down.has(id)) return false;
    const cell = sim.host.cell(id);
    if (cell === undefined) return false;
    if (hook === undefined) {
      cell.afterWrites(undefined);
      return true;
    }
    const participant = `shard/${shard}`;
    cell.afterWrites((records) => {
      for (const record of records) {
        const r = record as { type?: unknown; txn?: unknown; participants?: unknown } | null;
        if (r === null || typeof r !== 'object' || r.type !== 'commit' || typeof r.txn !== 'string' || !Array.isArray(r.participants)) continue;
        if (!r.participants.includes(participant)) continue;
        // Inside the coordinator's step, as a listener is inside the step that emits: what it
        // throws is thrown again on its own and the step goes on (its commit messages and
        // timers). Before (an audit, session 67), it unwound the step after its write: the
        // messages and timers were lost without a crash, and the error left the simulator's
        // driver, so a caller that awaited the transaction waited for good.
        try {
          hook(r.txn);
        } catch (error) {
          throwApart(error);
        }
        return true;
      }
      return false;
    });
    return true;
  }

  /** Whether a server or coordinator is crashed (by `crash()` or a fault) and not restarted. */
  isDown(id: string, ...extra: never[]): boolean {
    this.assertRunning();
    this.checkCrashable(id);
    checkNoMore('isDown', ['id'], extra);
    return this.down.has(id);
  }

  /**
   * Pause a live server or coordinator, as a process stopped by SIGSTOP (Jepsen's pause
   * nemesis) or frozen by a long GC: its actors run nothing until `resume()`, while what is
   * sent to them and the timers that come due queue in their mailboxes (a message past a
   * mailbox's capacity is dropped). Nobody is told: the others see a silent peer, and the
   * paused one, resumed, takes up a backlog of old messages and late timers with the state it
   * had. A crash ends a pause. Every transport (on threads and NATS the host's thread or
   * process goes on answering its control plane; its actors of that node stop); pausing a
   * paused or crashed one is a ValidationError. The id counts as paused from the call: a pause
   * that rejects with a TimeoutError (its host did not answer in time) may still be carried out
   * once that host runs again (the request waits for it), so `isPaused` stays true and a
   * `resume()`, sent after it, undoes it; recorded as not paused, a late pause would have left
   * the node paused with `resume()` a no-op. A pause whose host ends is undone by that end (a
   * crash ends a pause).
   */
  pause(id: string, ...extra: never[]): Promise<void> {
    // In order with the id's crashes and restarts (see inOrder): decided from the state the
    // calls before it left (a pause called while a crash is under way finds the id crashed).
    return this.inOrder(
      id,
      async () => {
        this.assertRunning();
        if (this.down.has(id)) throw new ValidationError('id', `a live server or coordinator, got ${describe(id)}, which is crashed`);
        if (this.paused.has(id)) throw new ValidationError('id', `a server or coordinator not paused already, got ${describe(id)}`);
        this.paused.add(id);
        await this.runtime.pauseNode(id, true);
      },
      () => checkNoMore('pause', ['id'], extra),
    );
  }

  /** Resume a paused server or coordinator (see `pause`); a no-op for one not paused. In order with the id's crashes and restarts. */
  resume(id: string, ...extra: never[]): Promise<void> {
    return this.inOrder(
      id,
      async () => {
        this.assertRunning();
        if (!this.paused.delete(id)) return;
        await this.runtime.pauseNode(id, false);
      },
      () => checkNoMore('resume', ['id'], extra),
    );
  }

  /** Whether a server or coordinator is paused (by `pause()` or a fault) and not resumed or crashed. */
  isPaused(id: string, ...extra: never[]): boolean {
    this.assertRunning();
    this.checkCrashable(id);
    checkNoMore('isPaused', ['id'], extra);
    return this.paused.has(id);
  }

  /**
   * Restart a crashed server or coordinator; it recovers from its durable log. A no-op for one
   * that is up, decided when the crashes and restarts of the id called before it have settled
   * (see `crash`). On threads and NATS, a thread or process it started that ends before it
   * finishes rejects it with a HostExitedError, and the id stays down (a later restart tries again).
   */
  restart(id: string, ...extra: never[]): Promise<void> {
    // restart('r1/0', 'r1/1') restarted r1/0 alone, without a word: one id a call.
    return this.inOrder(
      id,
      () => this.restartNow(id),
      () => checkNoMore('restart', ['id'], extra),
    );
  }

  private async restartNow(id: string): Promise<void> {
    this.assertRunning();
    if (!this.down.has(id)) return;
    await this.runtime.restartNode(id);
    this.down.delete(id);
    this.restarted.set(id, (this.restarted.get(id) ?? 0) + 1);
    this.notifyBalancers('node-restarted', id);
  }

  /**
   * The runtime's notice of a dead or restarted process, as a refused connection tells a
   * real peer: to every balancer and every live server. It is a message through the router
   * from the node's own location, so the network model applies to it like to any message
   * from that node: a partition between the two keeps it from arriving, and it takes the
   * link's latency (and may be lost or duplicated).
   */
  private notifyBalancers(event: 'node-crashed' | 'node-restarted', node: string): void {
    const host = this.runtime.host;
    const stats = host.stats.actor('runtime');
    // Restarts counted here, so that receivers can tell a late notice from a new one (NodeNotices).
    let incarnation = this.incarnations.get(node) ?? 0;
    if (event === 'node-restarted') this.incarnations.set(node, ++incarnation);
    const msg: SystemMessage = { type: 'sys', event, node, incarnation };
    for (const r of this.config.regions) host.route(node, balancerAddress(r.name), msg, 'runtime', stats);
    for (const server of this.servers) {
      if (server !== node && !this.down.has(server)) host.route(node, server, msg, 'runtime', stats);
    }
  }

  /**
   * Cut traffic between two groups of regions, servers or region coordinators
   * (`coordinator/<region>`, apart from the servers of its region) (both ways unless
   * `oneWay`, then only from `a` to `b`). Partitions add up until `heal()`. Each side is a
   * non-empty array of names of this cluster. A name on both sides is a ValidationError naming
   * it: a partition separates two groups (it was taken, and cut that node's messages to
   * itself). A region on one side and one of its servers on the other is allowed: that cuts
   * the server off from its own region's actors too (region actor, balancers, coordinator), as
   * bench/failover.ts isolates a server.
   *
   * The cut applies on this thread's host at the call, and on every host once the promise
   * resolves (in sim, at the call): await it before relying on it (on threads and NATS a
   * message sent just after the call may still cross). Bad arguments throw at the call; on a
   * stopped cluster the promise rejects with StoppedError (as heal's and setNetwork's), and so
   * does one still waiting for a host when stop() begins (on threads and NATS it resolved).
   */
  partition(a: string[], b: string[], options: PartitionOptions = {}, ...extra: never[]): Promise<void> {
    const stopped = this.rejectIfStopped();
    if (stopped !== undefined) return stopped;
    checkNoMore('partition', ['a', 'b', 'options'], extra);
    const check = (group: unknown, field: string): string[] => {
      if (!Array.isArray(group) || group.length === 0) throw new ValidationError(field, 'a non-empty array of region names, server ids or coordinators');
      for (const name of group) {
        if (typeof name !== 'string' || (!this.regionNames.has(name) && !this.servers.has(name) && !this.coordinators.has(name))) {
          throw new ValidationError(field, `region names, server ids or coordinators ('coordinator/<region>'), got ${describe(name)}`);
        }
      }
      return [...group] as string[];
    };
    const from = check(a, 'a');
    const to = check(b, 'b');
    const both = to.find((name) => from.includes(name));
    if (both !== undefined) throw new ValidationError('b', `names other than a's (each name on one side only), got ${describe(both)}, which a names too`);
    checkOptions(options, 'options', ['oneWay']);
    if (options.oneWay !== undefined && typeof options.oneWay !== 'boolean') throw new ValidationError('options.oneWay', 'true or false');
    this.partitions.push({ from, to, oneWay: options.oneWay ?? false });
    return this.runtime.setPartitions(this.partitions);
  }

  /**
   * Remove every partition. In force on every host once the promise resolves, as partition's
   * cut. It takes no arguments: one given is a ValidationError (`heal(['us'], ['eu'])` healed
   * everything, silently; an audit, session 59), as removing one partition is not offered.
   */
  heal(...args: never[]): Promise<void> {
    const stopped = this.rejectIfStopped();
    if (stopped !== undefined) return stopped;
    if (args.length > 0)
      throw new ValidationError(
        'heal',
        `no arguments: heal() removes every partition, one partition cannot be healed alone (heal(), then partition() again the others); got ${args.length} (${args.map((a) => describe(a)).join(', ')})`,
      );
    this.partitions = [];
    return this.runtime.setPartitions([]);
  }

  /**
   * Change latency, jitter, loss or duplication while running (merged into the current
   * settings; latencyMs and nodeDelayMs per key). In force on every host once the promise
   * resolves, as partition's cut.
   */
  setNetwork(change: NetworkConfig, ...extra: never[]): Promise<void> {
    const stopped = this.rejectIfStopped();
    if (stopped !== undefined) return stopped;
    checkNoMore('setNetwork', ['change'], extra);
    // Named as the argument: `network.loss`, not `config.network.loss` (it is no config's field).
    const valid = namedAs('', () => validateNetworkChange(change, this.regionNames, this.servers));
    this.network = mergeNetwork(this.network, valid);
    return this.runtime.setNetwork(this.network);
  }

  /**
   * The network settings in force now: the configured ones with every `setNetwork` change merged
   * in (per key for latencyMs and nodeDelayMs: a server's delay set to 0 removes it).
   * Partitions are not network settings: currentPartitions() lists them.
   */
  currentNetwork(): NetworkConfig {
    return structuredClone(this.network);
  }

  /** The partitions in force now (each partition() since the last heal()), in order, as copies. */
  currentPartitions(): PartitionRule[] {
    return structuredClone(this.partitions);
  }

  /**
   * Skew the clock of one server (what its actors read from `ctx.now()`) by `ms`, positive or
   * negative; 0 removes the skew. Timers still run on the host's clock.
   */
  setClockSkew(id: string, ms: number, ...extra: never[]): void {
    this.assertRunning();
    this.checkServer(id);
    checkNoMore('setClockSkew', ['id', 'ms'], extra);
    if (typeof ms !== 'number' || !Number.isFinite(ms) || Math.abs(ms) > CLOCK_SKEW_MS_MAX)
      throw new ValidationError('ms', `a finite offset in ms, at most one day either way, got ${describe(ms)}`);
    this.runtime.setClockSkew(id, ms);
  }

  /**
   * Slow the timers of a server or coordinator by `factor` (1 to 100; 1 restores): every timer
   * its actors set from now on fires `factor` times later, while messages reach it as before,
   * as in a process starved of CPU. A leader cut off from its group then goes on leading in its
   * own view long after the others elected a new one (its quorum check is a timer), which is
   * how real-time NATS runs met a stale leader (docs/findings.md, "Found on NATS"). Sim only.
   */
  slowTimers(id: string, factor: number, ...extra: never[]): void {
    this.assertRunning();
    this.checkCrashable(id);
    checkNoMore('slowTimers', ['id', 'factor'], extra);
    const sim = this.simOnly('slowTimers', 'timers run on each thread or process clock');
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1 || factor > SLOW_TIMERS_MAX)
      throw new ValidationError('factor', `a number from 1 to ${SLOW_TIMERS_MAX}, got ${describe(factor)}`);
    sim.world.host.setTimerScale(id, factor);
  }

  /**
   * Lose every Multi-Paxos accept a server sends from now on (`lost` false: send them again),
   * while the rest of what it sends gets through: its heartbeats, and with them the read
   * rounds that confirm its reads, reach its group, the slots it proposes do not. A fault site
   * for a nemesis ('lost-accepts'), to reach the gap in which a leader answers a read beside a
   * slot no follower has (docs/findings.md). Sim only.
   */
  loseAccepts(id: string, lost: boolean, ...extra: never[]): void {
    this.assertRunning();
    this.checkServer(id);
    checkNoMore('loseAccepts', ['id', 'lost'], extra);
    const sim = this.simOnly('loseAccepts', 'messages between threads or processes are not filtered');
    if (typeof lost !== 'boolean') throw new ValidationError('lost', `true or false, got ${describe(lost)}`);
    sim.world.host.setSendFilter(id, lost ? withoutAccepts : undefined);
  }

  /**
   * Make a live server checkpoint its durable log at its next write, in the middle of that
   * step (before the records it writes), whatever its `replication.checkpointEvery` count; a
   * coordinator (`coordinator/<region>`), after the records of its next round that persists
   * any (other rounds of the step may follow), else at the end of its next step that drains. A fault site a nemesis enables, so that
   * crashes meet fresh checkpoints with records after them (see ShardLogs.checkpointSoon).
   * With `{ at: 'step' }` a server checkpoints instead at the start of its next step, whatever
   * it handles (ShardLogs.checkpointAtNextStep; a coordinator as without it).
   * Sim only (the actor's state is read in place); returns false when it is down.
   */
  requestCheckpoint(id: string, options: { at?: 'write' | 'step' } = {}, ...extra: never[]): boolean {
    this.assertRunning();
    this.checkCrashable(id);
    checkNoMore('requestCheckpoint', ['id', 'options'], extra);
    checkOptions(options, 'options', ['at']);
    const at = options.at ?? 'write';
    if (at !== 'write' && at !== 'step') throw new ValidationError('options.at', `'write' or 'step', got ${describe(options.at)}`);
    const state = this.simActorState(id, 'requestCheckpoint');
    if (state === undefined) return false;
    if (this.coordinators.has(id)) (state as CoordinatorState).checkpointAsked = true;
    else if (at === 'step') (state as ServerState).log.checkpointAtNextStep();
    else (state as ServerState).log.checkpointSoon();
    return true;
  }

  /** Checkpoints a server's or coordinator's log has written since it (re)started: 0 while it is down. Sim only. */
  checkpointsOf(id: string, ...extra: never[]): number {
    this.assertRunning();
    checkNoMore('checkpointsOf', ['id'], extra);
    this.checkCrashable(id);
    const state = this.simActorState(id, 'checkpointsOf');
    if (state === undefined) return 0;
    return this.coordinators.has(id) ? (state as CoordinatorState).checkpoints : (state as ServerState).log.checkpoints;
  }

  /**
   * Sim only: the replicated state of each live replica of `shard` (its state machine's
   * snapshot, `applied` commands into the shard's log; `index`, the log index it applied),
   * and of each hybrid learner of it (`learner: true`, fed the same commands; no index).
   * Replicas at the same log index, and copies that applied as many commands, must hold the
   * same state, what a history cannot show (request ids remembered, transactions, locks).
   */
  replicaStates(shard: number, ...extra: never[]): ReplicaState[] {
    this.assertRunning();
    this.checkShard(shard);
    checkNoMore('replicaStates', ['shard'], extra);
    const out: Array<{ id: string; learner: boolean; index: number | undefined; state: Snapshot }> = [];
    for (const id of this.servers) {
      const server = this.simActorState(id, 'replicaStates') as ServerState | undefined;
      const group = server?.groups?.get(shard);
      if (group !== undefined) out.push({ id, learner: false, index: group.core.status().applied, state: group.sm.snapshot() });
      const learner = server?.learners?.get(shard);
      if (learner !== undefined) out.push({ id, learner: true, index: undefined, state: learner.sm.snapshot() });
    }
    return out;
  }

  /**
   * Sim only: how many of its shard's commands each copy on a live server has applied
   * (`learner: true` for a hybrid learner), with the incarnation of its server, a new one at
   * every restart. Within one incarnation a copy never goes back: a local read it answered
   * would show a value older than one it showed before. Copies that applied as many commands
   * hold the same `digest`, a running hash of them, or they applied different logs. A replica also gives the highest
   * ballot its acceptor promised (`promised`), which no restart may lower: the promise is
   * durable, and one forgotten lets a lower ballot's leader choose over what a higher one
   * chose. Read in place, cheaply (no snapshot), so that a harness can look after every call
   * (see ProgressWatch in src/harness/scenario.ts).
   */
  copyProgress(...extra: never[]): CopyProgress[] {
    this.assertRunning();
    checkNoMore('copyProgress', [], extra);
    const sim = this.simOnly('copyProgress', 'actor state lives in other threads');
    const out: CopyProgress[] = [];
    for (const id of this.servers) {
      if (this.down.has(id)) continue;
      const cell = sim.host.cell(id);
      const server = cell?.peekState() as ServerState | undefined;
      if (cell === undefined || server?.groups === undefined) continue;
      for (const [shard, group] of server.groups)
        out.push({
          id,
          incarnation: cell.incarnation,
          shard,
          learner: false,
          applied: group.sm.applied,
          digest: group.sm.digest,
          // A copy: the acceptor's own object (often the leader's ballot too, or the shared
          // BALLOT_ZERO), which a caller that edited it would rewrite in place.
          promised: { ...group.core.promisedBallot() },
        });
      for (const [shard, learner] of server.learners)
        out.push({ id, incarnation: cell.incarnation, shard, learner: true, applied: learner.sm.applied, digest: learner.sm.digest, promised: undefined });
    }
    return out;
  }

  /**
   * Transactions a region's coordinator (`coordinator/<region>`) has open: begun and not yet
   * answered, or logged and still tracked by its commit core (with 2PC, committed and not
   * acknowledged by every participant; with Paxos Commit, a leader not yet decided). 0 while it
   * is down. Sim only: what a nemesis aims at to crash a coordinator in the middle of a commit.
   * (The log alone is not enough: with Paxos Commit it also holds the records of the acceptor
   * on the coordinator's node, for finished transactions too, so every coordinator counted as
   * busy and the nemesis's choice among them was blind; until 2026-12-02.)
   */
  openTransactions(id: string, ...extra: never[]): number {
    this.assertRunning();
    if (typeof id !== 'string' || !this.coordinators.has(id))
      throw new ValidationError('id', `a coordinator such as 'coordinator/${this.config.regions[0]!.name}', got ${describe(id)}`);
    checkNoMore('openTransactions', ['id'], extra);
    const state = this.simActorState(id, 'openTransactions') as CoordinatorState | undefined;
    if (state === undefined) return 0;
    let open = state.pending.size;
    for (const txn of state.log.keys()) if (!state.pending.has(txn) && state.core.phaseOf(txn) !== undefined) open++;
    return open;
  }

  /** A live server's or coordinator's state in sim (undefined while it is down); a clear error elsewhere. */
  private simActorState(id: string, method: string): ServerState | CoordinatorState | undefined {
    const sim = this.simOnly(method, 'actor state lives in other threads');
    if (this.down.has(id)) return undefined;
    return sim.host.cell(id)?.peekState() as ServerState | CoordinatorState | undefined;
  }

  /** The simulator, for a method that only it can carry out; a ValidationError naming `transport` elsewhere. */
  private simOnly(method: string, why: string): SimRuntime {
    if (this.sim === undefined) throw new ValidationError('transport', `${method}() needs transport 'sim' (${why}), got '${this.config.transport}'`);
    return this.sim;
  }

  /**
   * Wait: real time on threads, virtual time in sim. `ms` from 0 to WAIT_MS_MAX (an hour), or
   * it rejects with a ValidationError naming `ms`.
   *
   * At `stop()` a pending sleep rejects with StoppedError, and a sleep called after it rejects
   * at once, as client calls do: it never stays pending. It rejects rather than resolves so
   * that a loop that polls the cluster and sleeps in between ends instead of spinning (a sleep
   * that resolved at once would turn it into a busy loop, and in sim the clock no longer
   * moves, so a deadline never comes). A loop such as `while (!c.isStopped) await
   * c.sleep(50)` therefore ends with StoppedError when the stop lands during a sleep: catch it
   * where a stop is expected, as `Nemesis.run` does (it ends quietly); `eventually` rejects
   * with a StoppedError.
   */
  sleep(ms: number, ...extra: never[]): Promise<void> {
    // Rejects, as a stopped cluster's sleep and a client call's bad input do: it never throws.
    try {
      waitMs(ms, 'ms');
      checkNoMore('sleep', ['ms'], extra);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.stopped) return Promise.reject(new StoppedError('the cluster is stopped', true));
    return this.runtime.sleep(ms);
  }

  /** The current time of the cluster's clock (virtual in sim). */
  now(): number {
    return this.runtime.now();
  }

  /** The membership view of the first region's balancer (from its summary, read on this host): a server of a region it holds down is 'down'. */
  members(...extra: never[]): Member[] {
    // After stop() every server would read 'down', as if crashed: refused as every other call.
    this.assertRunning();
    checkNoMore('members', [], extra);
    const cell = this.runtime.host.cell(balancerAddress(this.config.regions[0]!.name));
    // A cell's summary carries its behaviour's summary as `state`: the balancer's is a BalancerSummary.
    const view = (cell?.summary() as { state: BalancerSummary | null } | undefined)?.state?.members;
    const out: Member[] = [];
    for (const r of this.config.regions) {
      for (let i = 0; i < r.servers; i++) {
        const id = `${r.name}/${i}`;
        out.push({ id, region: r.name, state: view?.[id] ?? 'down' });
      }
    }
    return out;
  }

  /** Counters from every thread (on threads, as of their last push, at most ~50 ms old). */
  stats(...extra: never[]): ClusterStats {
    checkNoMore('stats', [], extra);
    return this.decorate(this.runtime.stats());
  }

  /** Fresh counters from every thread; one that does not answer within 2 s (stalled, busy in a long step) counts with its last ones, and a 'warn' names it. */
  async collectStats(): Promise<ClusterStats> {
    return this.decorate(await this.runtime.collectStats());
  }

  private decorate(s: StatsSnapshot): ClusterStats {
    const servers: Record<string, { requests: number }> = {};
    for (const id of this.servers) servers[id] = { requests: s.actors[id]?.counters.requests ?? 0 };
    let droppedTotal = 0;
    for (const n of Object.values(s.dropped)) droppedTotal += n ?? 0;
    return { ...s, servers, droppedTotal };
  }

  /**
   * Hybrid replication: how far each region's asynchronous copies are behind their shards'
   * leaders, in commands, summed over shards (as of the last counters pushed by each thread).
   */
  replicationLag(...extra: never[]): Record<string, number> {
    this.assertRunning();
    checkNoMore('replicationLag', [], extra);
    return replicationLagOf(
      this.runtime.stats(),
      this.config.regions.map((r) => r.name),
    );
  }

  /**
   * Ping every worker host over the control plane (comlink, NATS): what each runs and its
   * clock. Empty in sim. A host that does not answer within 2 s fails it with a TimeoutError
   * naming every such host and its nodes; one that died, with its HostExitedError.
   */
  // async: a stopped cluster's ping rejects, as every call that returns a promise does, rather than throw.
  async ping(
    ...extra: never[]
  ): Promise<Array<{ host: number; actors: number; nowMs: number; heapUsedBytes?: number; heapTotalBytes?: number; externalBytes?: number }>> {
    checkNoMore('ping', [], extra);
    this.assertRunning();
    return this.runtime.ping();
  }

  /**
   * The server that `key`'s shard prefers as leader (in mode 'none', the one server holding
   * it): what a test crashes or partitions to hit a key.
   */
  serverFor(key: string, ...extra: never[]): string {
    checkKey(key);
    checkNoMore('serverFor', ['key'], extra);
    return preferredServerOf(key, topologyOf(this.config));
  }

  /** The shard (0 .. shards - 1) that holds `key`. */
  shardOf(key: string, ...extra: never[]): number {
    checkKey(key);
    checkNoMore('shardOf', ['key'], extra);
    return shardOf(key, this.config.shards);
  }

  /**
   * The current leader of `shard`'s replication group as the servers see it: of the live
   * replicas that believe they lead, the one with the highest ballot (a deposed leader cut off
   * in a minority may still believe it leads, with a lower ballot). A paused replica is not
   * live here: what it believes is as old as its pause. Undefined during an election. Sim
   * only: elsewhere a ValidationError naming `transport` (server state lives in other threads;
   * an undefined there read as an election that never ends). `shardLeaders()` still answers
   * on threads, with every leader undefined, for the replicas a nemesis aims at.
   */
  leaderOf(shard: number, ...extra: never[]): string | undefined {
    this.assertRunning();
    this.checkShard(shard);
    checkNoMore('leaderOf', ['shard'], extra);
    this.simOnly('leaderOf', 'server state lives in other threads');
    return this.shardLeader(shard).leader;
  }

  /**
   * Every shard with its replicas, its current leader (as `leaderOf`) and the commands that
   * leader has in flight (proposed, not yet chosen) and the replicas campaigning: what a
   * nemesis aims at. sim only; on threads every leader is undefined and no one campaigns.
   */
  shardLeaders(...extra: never[]): ShardLeader[] {
    this.assertRunning();
    checkNoMore('shardLeaders', [], extra);
    const out: ShardLeader[] = [];
    for (let shard = 0; shard < this.config.shards; shard++) out.push(this.shardLeader(shard));
    return out;
  }

  /**
   * One shard's entry of `shardLeaders()`: what a nemesis waiting for one shard's election
   * polls (every virtual ms), without reading the other shards.
   */
  shardLeader(shard: number, ...extra: never[]): ShardLeader {
    // After stop() no replica is live: every leader would read undefined, as in an election.
    this.assertRunning();
    this.checkShard(shard);
    checkNoMore('shardLeader', ['shard'], extra);
    const replicas = this.groupOf(shard);
    const sim = this.sim;
    const candidates: string[] = [];
    if (sim === undefined) return { shard, replicas: [...replicas], leader: undefined, inflight: 0, openTxns: 0, commitIndex: 0, candidates };
    // One look at each live replica: the leader with the highest ballot, and who campaigns.
    // Paused ones are passed over: a leader paused still believes it leads.
    let best: { id: string; round: number; by: string; inflight: number; openTxns: number; commitIndex: number } | undefined;
    for (const id of replicas) {
      if (this.down.has(id) || this.paused.has(id)) continue;
      const group = (sim.host.cell(id)?.peekState() as ServerState | undefined)?.groups?.get(shard);
      if (group === undefined) continue;
      if (group.isLeader()) {
        const status = group.core.status();
        const ballot = status.ballot;
        if (best === undefined || ballot.round > best.round || (ballot.round === best.round && ballot.id > best.by))
          best = {
            id,
            round: ballot.round,
            by: ballot.id,
            inflight: group.inflight(),
            openTxns: group.sm.openTransactionCount(),
            commitIndex: status.commitIndex,
          };
      } else if (group.core.status().role === 'candidate') {
        candidates.push(id);
      }
    }
    return {
      shard,
      replicas: [...replicas],
      leader: best?.id,
      inflight: best?.inflight ?? 0,
      openTxns: best?.openTxns ?? 0,
      commitIndex: best?.commitIndex ?? 0,
      ...(best === undefined ? {} : { ballot: { round: best.round, id: best.by } }),
      candidates,
    };
  }

  /** `shard`'s replication group, worked out once per shard (the topology never changes). */
  private groupOf(shard: number): readonly string[] {
    let groups = this.groups;
    if (groups === undefined) {
      const topology = topologyOf(this.config);
      groups = this.groups = Array.from({ length: this.config.shards }, (_, s) => groupOf(s, topology));
    }
    return groups[shard]!;
  }

  /** The replicas of `shard`'s replication group (the preferred leader first). */
  replicasOf(shard: number, ...extra: never[]): string[] {
    this.checkShard(shard);
    checkNoMore('replicasOf', ['shard'], extra);
    return groupOf(shard, topologyOf(this.config));
  }

  /** A shard number of this cluster, or a ValidationError naming `shard` and the range. */
  private checkShard(shard: unknown): asserts shard is number {
    if (!Number.isInteger(shard) || (shard as number) < 0 || (shard as number) >= this.config.shards)
      throw new ValidationError('shard', `an integer from 0 to ${this.config.shards - 1}, got ${describe(shard)}`);
  }

  /**
   * A control-plane look at one actor (its state summary, mailbox, timers), or null when it
   * does not run now (its server or coordinator crashed, its host thread or process gone).
   * `address` is an actor of this cluster: a server (`us-east/0`), its heartbeat
   * (`us-east/0/hb`), a region's actor (`us-east`), coordinator (`coordinator/us-east`) or
   * balancer (`balancer/us-east`); anything else rejects with a ValidationError naming
   * `address`, as `crash()` does an unknown id (it answered null, as if such an actor had
   * crashed).
   */
  inspect(address: string, ...extra: never[]): Promise<ActorSummary | null> {
    this.actors ??= new Set(planCluster(this.config).directory.keys());
    if (typeof address !== 'string' || !this.actors.has(address)) {
      const region = this.config.regions[0]!.name;
      return Promise.reject(
        new ValidationError(
          'address',
          `an actor of this cluster: a server such as '${region}/0', its heartbeat '${region}/0/hb', a region ('${region}'), 'coordinator/${region}' or 'balancer/${region}', got ${describe(address)}`,
        ),
      );
    }
    try {
      checkNoMore('inspect', ['address'], extra);
    } catch (error) {
      return Promise.reject(error);
    }
    // After stop(), as every other call: a null here read as "that actor crashed".
    if (this.stopped) return Promise.reject(new StoppedError('the cluster is stopped', true));
    return this.runtime.summary(address);
  }

  /** True when the history reached HISTORY_OPS_MAX operations and stopped recording: not a history to check (config `history`). */
  historyTruncated(...extra: never[]): boolean {
    checkNoMore('historyTruncated', [], extra);
    return this.recorded >= HISTORY_OPS_MAX;
  }

  /**
   * Every client operation so far, with invoke and completion times and outcomes; with
   * `{ format: 'elle' }`, the transactions in Elle's shape (see src/core/history.ts),
   * in real-time order, for `checkTransactions`.
   */
  history(options?: { format?: 'ops'; model?: never }): History;
  history(options: { format: 'elle'; model?: 'list-append' | 'rw-register' }): TxnHistoryOp[];
  history(options: { format?: 'ops'; model?: never } | { format: 'elle'; model?: 'list-append' | 'rw-register' }): History | TxnHistoryOp[];
  history(options: { format?: 'ops' | 'elle'; model?: 'list-append' | 'rw-register' } = {}): History | TxnHistoryOp[] {
    checkOptions(options, 'options', ['format', 'model']);
    const format = options.format ?? 'ops';
    if (format !== 'ops' && format !== 'elle') throw new ValidationError('options.format', `'ops' or 'elle', got ${describe(format)}`);
    // How a read of a missing key reads: [] in a list-append history (the default), null in rw-register.
    const model = options.model ?? 'list-append';
    if (model !== 'list-append' && model !== 'rw-register')
      throw new ValidationError('options.model', `'list-append' or 'rw-register', got ${describe(model)}`);
    // The model shapes Elle's events only: with the ops format it was taken and ignored.
    if (options.model !== undefined && format !== 'elle')
      throw new ValidationError('options.model', `only with format: 'elle' (the ops history has no model), got ${describe(options.model)}`);
    return format === 'elle' ? this.txnRecorder.toHistory(model) : this.recorder.toHistory();
  }

  /** Actor errors, frame errors and warnings reported so far (the first CLUSTER_EVENTS_KEPT_MAX). */
  errors(...extra: never[]): HostEvent[] {
    checkNoMore('errors', [], extra);
    // Copies of plain data (no 'publish' event is kept): the kept objects themselves, edited
    // by a caller, rewrote what every later errors() showed.
    return this.events.map((event) => structuredClone(event));
  }

  /** sim only: a hash of every delivered message; equal seeds and calls give equal hashes. */
  traceHash(): number {
    if (this.sim === undefined) throw new ValidationError('transport', "traceHash() needs transport 'sim'");
    return this.sim.world.traceHash;
  }

  /**
   * sim with `trace: true`: every delivered message. A ValidationError naming `transport` on
   * threads and nats (the config refuses `trace: true` there), and naming `trace` on a sim
   * cluster started without it (it kept nothing: an empty list would read as "no messages").
   */
  trace(): TraceEntry[] {
    if (this.sim === undefined) throw new ValidationError('transport', "trace() needs transport 'sim'");
    if (!this.config.trace) throw new ValidationError('trace', 'trace() needs the cluster started with trace: true (it kept no messages)');
    return [...this.sim.world.trace];
  }

  /** @internal for tests and benchmarks */
  get internals(): { runtime: Runtime } {
    return { runtime: this.runtime };
  }

  /**
   * Metrics from fresh counters of every thread, the first balancer's membership view and the
   * client calls as they settled (transactions and local reads too): requests per server,
   * transactions, messages by type, drops by cause, replication lag, member states, client
   * latency histograms. See src/metrics/cluster-metrics.ts. It takes no argument: one given is
   * a ValidationError (`metrics({ name })` returned every metric as if filtered: an audit,
   * session 61), as with metricsText() and a second argument to serveMetrics().
   */
  async metrics(...extra: never[]): Promise<MetricsSnapshot> {
    checkNoMore('metrics', [], extra);
    this.assertRunning();
    const stats = await this.collectStats();
    return buildClusterMetrics({
      stats,
      members: this.members(),
      regions: this.config.regions.map((r) => r.name),
      coordinators: this.config.regions.map((r) => coordinatorAddress(r.name)),
      client: this.clientMetrics.snapshot(),
      info: { transport: this.config.transport, replication: this.config.replication.mode, commit: this.config.commit },
      restarted: Object.fromEntries(this.restarted),
    });
  }

  /** `metrics()` in the Prometheus text exposition format 0.0.4. */
  async metricsText(...extra: never[]): Promise<string> {
    checkNoMore('metricsText', [], extra);
    return toPrometheusText(await this.metrics());
  }

  /**
   * Serve `metricsText()` over HTTP at GET /metrics on a loopback address (default
   * 127.0.0.1, port 0 = any free port) for Prometheus to scrape. stop() closes it. Bad
   * options, and a port another process holds, are a ValidationError naming options.port or
   * options.host.
   */
  async serveMetrics(options: MetricsServerOptions = {}, ...extra: never[]): Promise<MetricsServer> {
    checkNoMore('serveMetrics', ['options'], extra);
    this.assertRunning();
    // Loaded here, not with the cluster: a cluster that serves no metrics (every sim run) needs no HTTP server.
    const { startMetricsServer } = await import('../metrics/http.js');
    const server = await startMetricsServer(options, () => this.metricsText());
    if (this.stopped) {
      await server.close();
      throw new StoppedError('the cluster stopped while the metrics server was starting');
    }
    const tracked: MetricsServer = {
      url: server.url,
      close: () => {
        this.metricsServers.delete(tracked);
        return server.close();
      },
    };
    this.metricsServers.add(tracked);
    return tracked;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private assertRunning(): void {
    if (this.stopped) throw stoppedError();
  }

  /**
   * For a call that returns a promise and checks its arguments at the call (partition, heal,
   * setNetwork): once stopped, a rejected promise rather than a throw. Thrown, it missed the
   * `.catch()` of a call racing stop() (a nemesis's timer, a listener) and ended the process
   * as an uncaught exception, where crash() and every other such call reject (an audit,
   * session 61).
   */
  private rejectIfStopped(): Promise<never> | undefined {
    return this.stopped ? Promise.reject(stoppedError()) : undefined;
  }

  /**
   * Stop everything: open calls fail with StoppedError; no thread, timer or handle is left.
   * Every call returns the same promise, settled once all of it is done: a second stop(),
   * called while the first runs, resolved at once with the threads still running.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    this.stopped = true;
    for (const client of [...this.clients]) client.close();
    // The runtime's stop begins before any await: called from a listener inside a simulated
    // event, the simulator stops there, rather than run that turn's events on (virtual time
    // went on, a pending sleep resolved) while the metrics servers closed.
    const runtime = this.runtime.stop();
    await Promise.all([runtime, ...[...this.metricsServers].map((s) => s.close())]);
    this.removeAllListeners();
  }
}

/** What a call on a stopped cluster fails with: definite, nothing was sent. */
function stoppedError(): StoppedError {
  return new StoppedError('the cluster is stopped', true);
}

/** Launch a cluster. The whole config is validated before any thread starts. */
export async function startCluster(config: ClusterConfig): Promise<Cluster> {
  checkTicksSetting();
  const resolved = validateConfig(config, {
    balancer: validateBalancerConfig,
    heartbeat: validateHeartbeatConfig,
    cores: availableParallelism(),
    randomSeed: () => randomInt(0, 0x7fffffff),
  });
  const { plans, directory } = planCluster(resolved);
  let cluster: Cluster | undefined;
  const onEvent = (event: HostEvent): void => cluster?.onHostEvent(event);
  const { runtime, sim, started }: Launched =
    resolved.transport === 'sim'
      ? createSimRuntime(resolved, plans, directory, onEvent)
      : await createRuntime(resolved, plans, directory, onEvent, config.messageBytesMax !== undefined);
  cluster = new Cluster(resolved, runtime, sim);
  await runtime.start();
  started?.();
  cluster.warnOfConfig();
  return cluster;
}

/**
 * What a legal configuration does that its user may not expect, one message each, naming the
 * option (startCluster reports them as 'warn' events from `config`). Not refused: such a
 * cluster works while nothing fails (the check's random shapes draw it).
 * - `commit: 'paxos-commit'` with two regions: its acceptors are the region coordinators, and
 *   a majority of two is both, so while either coordinator is down no transaction of the
 *   cluster decides (found by an audit, session 60: every one timed out until it restarted).
 */
export function configWarnings(config: Pick<ResolvedConfig, 'commit' | 'regions'>): string[] {
  const warnings: string[] = [];
  if (config.commit === 'paxos-commit' && config.regions.length === 2)
    warnings.push(
      "commit 'paxos-commit' with 2 regions: its acceptors are the 2 region coordinators and a majority is both, so while either coordinator is down no transaction of the cluster decides (read-only ones too); it tolerates F coordinators down with 2F+1 regions: use commit '2pc' or '3pc', or three regions",
    );
  return warnings;
}

function createSimRuntime(
  config: ResolvedConfig,
  plans: HostPlan[],
  directory: Map<string, DirectoryEntry>,
  onEvent: (e: HostEvent) => void,
): { runtime: Runtime; sim: SimRuntime } {
  const sim = new SimRuntime(
    {
      seed: config.seed,
      directory,
      behaviors,
      network: config.network,
      mailboxCapacity: config.mailboxCapacity,
      messageBytesMax: config.messageBytesMax,
      recordTrace: config.trace,
      fsync: config.fsync,
      onEvent,
    },
    plans,
  );
  return { runtime: sim, sim };
}

/** The cluster's worker entry bundled by `npm run build` (scripts/bundle-workers.mjs); see freshBundle. */
export const CLUSTER_WORKER_BUNDLE = new URL('../../workers/cluster-host.bundle.cjs', import.meta.url);
/** The worker entry that runs the bundle, from its code cache when it has one (see bundleCodeCache). */
export const CLUSTER_WORKER_LOADER = new URL('../../workers/cluster-host-loader.cjs', import.meta.url);

/**
 * `bundle` if it exists and every file it was made from (listed, relative to it, with its
 * SHA-1, in `<bundle>.inputs.json`, written after it) is what it was then; else undefined.
 * After `tsc` alone, or `tsc --watch`, following a change, the bundle would run the code from
 * before the change: the runtime then uses the unbundled entry, which imports the same
 * behaviours from behaviors-lazy.js. A file no newer than the bundle is taken as unchanged
 * without reading it; a newer one is read and compared by its hash (npm gives every file of
 * an installed package the time it unpacked it, in no set order).
 */
export function freshBundle(bundle: URL): URL | undefined {
  try {
    const made = statSync(bundle).mtimeMs;
    const inputs = JSON.parse(readFileSync(new URL(`${bundle.href}.inputs.json`), 'utf8')) as unknown;
    if (!Array.isArray(inputs) || inputs.length === 0) return undefined;
    for (const input of inputs as unknown[]) {
      if (typeof input !== 'object' || input === null) return undefined;
      const { file, sha1 } = input as { file?: unknown; sha1?: unknown };
      if (typeof file !== 'string' || typeof sha1 !== 'string') return undefined;
      const path = fileURLToPath(new URL(file, bundle));
      if (statSync(path).mtimeMs > made && sha1Of(path) !== sha1) return undefined;
    }
    return bundle;
  } catch {
    return undefined;
  }
}

/** SHA-1s of files read by sha1Of, by path, size and time (the bundle and the files it was made from: some seventy). */
const sha1Seen = new Map<string, string>();

/** The SHA-1 of the file at `path`, read once while its size and time stay the same. */
function sha1Of(path: string): string {
  const stat = statSync(path);
  const key = `${path}:${stat.size}:${stat.mtimeMs}`;
  let sha1 = sha1Seen.get(key);
  if (sha1 === undefined) {
    sha1 = createHash('sha1').update(readFileSync(path)).digest('hex');
    sha1Seen.set(key, sha1);
  }
  return sha1;
}

/**
 * The file of V8's code cache of `bundle` (`<bundle>.cache`) if the build made it from these
 * very bytes, wrapped by this very `loader` (the SHA-1s in `<bundle>.cache.json`), on this very
 * Node (`node` there); else undefined, and the workers compile the bundle from its source. V8
 * rejects a cache of another V8 version or other flags (the Node 22 and 24 runs of CI, a user's
 * `--max-old-space-size`), and the worker then compiles as it would without one; but it does
 * not check the source's bytes, and a cache of another build of the same V8 version crashed it
 * (Node 20.20.2's on 20.19.0, or the reverse: a segfault deserializing it, session 59).
 */
export function bundleCodeCache(bundle: URL, loader: URL = CLUSTER_WORKER_LOADER): string | undefined {
  try {
    const file = fileURLToPath(bundle);
    const made = JSON.parse(readFileSync(`${file}.cache.json`, 'utf8')) as { bundleSha1?: unknown; loaderSha1?: unknown; node?: unknown };
    const same = made.node === process.version && made.bundleSha1 === sha1Of(file) && made.loaderSha1 === sha1Of(fileURLToPath(loader));
    return same && existsSync(`${file}.cache`) ? `${file}.cache` : undefined;
  } catch {
    return undefined;
  }
}

/** A cluster's runtime (and the simulator's, in sim); `started`, called once it started, tells createRuntime's folder release so. */
interface Launched {
  runtime: Runtime;
  sim?: SimRuntime;
  started?: () => void;
}

/**
 * The threads or NATS runtime, its module loaded only now: a sim run (each seed of `meridian
 * check`, in every pool worker) would otherwise load and compile both, with comlink and the
 * NATS client, for nothing (about 45 ms of CPU per process).
 */
async function createRuntime(
  config: ResolvedConfig,
  plans: HostPlan[],
  directory: Map<string, DirectoryEntry>,
  onEvent: (e: HostEvent) => void,
  messageBytesMaxGiven: boolean,
): Promise<Launched> {
  // Named with this process's id: the folders of a process killed with SIGKILL (which runs no
  // exit listener) go when the next cluster on the machine makes its own (makeTempDir's owned).
  const dataDir = config.dataDir ?? makeTempDir('meridian-', { owned: true });
  // A given folder is this cluster's until the runtime's stop() releases it (a NATS cluster's
  // spawned hosts write it under the launcher's lock), and holds data of this layout only.
  let releaseDataDir: (() => void) | undefined;
  // What takes back the layout record this start wrote, and whether the runtime started: a start
  // that failed takes it back as it lets the folder go (see unrecordLayout).
  let unrecord: (() => void) | undefined;
  let started = false;
  if (config.dataDir !== undefined) {
    checkDataDir(config.dataDir);
    const unlock = lockDataDir(config.dataDir);
    releaseDataDir = () => {
      try {
        if (!started) unrecord?.();
      } finally {
        unlock();
      }
    };
  }
  try {
    if (config.dataDir !== undefined) unrecord = checkLayout(config.dataDir, config);
    const made = await runtimeOf(config, plans, directory, onEvent, dataDir, releaseDataDir, messageBytesMaxGiven);
    return { ...made, started: () => void (started = true) };
  } catch (error) {
    releaseDataDir?.();
    if (config.dataDir === undefined) removeTempDir(dataDir);
    throw error;
  }
}

async function runtimeOf(
  config: ResolvedConfig,
  plans: HostPlan[],
  directory: Map<string, DirectoryEntry>,
  onEvent: (e: HostEvent) => void,
  dataDir: string,
  releaseDataDir: (() => void) | undefined,
  messageBytesMaxGiven: boolean,
): Promise<{ runtime: Runtime; sim?: SimRuntime }> {
  const options = {
    seed: config.seed,
    directory,
    behaviors,
    behaviorsModule: new URL('./behaviors-lazy.js', import.meta.url).href,
    network: config.network,
    mailboxCapacity: config.mailboxCapacity,
    messageBytesMax: config.messageBytesMax,
    workerHeapMb: config.workerHeapMb,
    dataDir,
    removeDataDir: config.dataDir === undefined,
    releaseDataDir,
    fsync: config.fsync,
    onEvent,
  };
  // What restart() takes: a dead host's other nodes (its region actor) start with its next process or thread.
  const restartable = new Set(plans.flatMap((p) => p.specs.filter((s) => s.behavior === 'server' || s.behavior === 'coordinator').map((s) => s.node)));
  if (config.transport === 'nats') {
    const nats = config.nats!;
    const cluster = nats.cluster ?? randomId().replace(/[^A-Za-z0-9]/g, '');
    const { NatsRuntime } = await import('../runtime/transports/nats.js');
    return {
      runtime: new NatsRuntime(
        {
          ...options,
          servers: nats.servers,
          cluster,
          hosts: nats.hosts === undefined ? 'spawn' : 'remote',
          layout: clusterLayout(config),
          replication: { mode: config.replication.mode, factor: config.replication.factor },
          restartable,
          messageBytesMaxGiven,
        },
        // Planned again once the runtime knows how large a message its hosts carry (the
        // servers' max_payload may allow less than messageBytesMax): the actors size theirs by it.
        (messageBytesMax) => planCluster({ ...config, messageBytesMax }).plans,
      ),
    };
  }
  const { ThreadsRuntime } = await import('../runtime/transports/threads.js');
  const bundle = freshBundle(CLUSTER_WORKER_BUNDLE);
  const entry = bundle === undefined ? {} : { workerEntry: CLUSTER_WORKER_LOADER, workerCodeCache: bundleCodeCache(bundle) };
  return { runtime: new ThreadsRuntime({ ...options, ...entry, restartable }, plans) };
}

export type { ActorSpec, ConfigError };

/** A server's message without the Multi-Paxos accepts in it (see Cluster.loseAccepts); undefined when nothing is left. */
function withoutAccepts(msg: Message): Message | undefined {
  if (msg.type === 'px') return (msg as Message & Pick<ShardPaxosWire, 'm'>).m.type === 'accept' ? undefined : msg;
  if (msg.type !== 'pxs') return msg;
  const batch = msg as Message & Pick<ShardPaxosBatchWire, 's' | 'm'>;
  if (!batch.m.some((m) => m.type === 'accept')) return msg;
  const s: number[] = [];
  const m: ShardPaxosBatchWire['m'] = [];
  for (let i = 0; i < batch.m.length; i++) {
    if (batch.m[i]!.type === 'accept') continue;
    s.push(batch.s[i]!);
    m.push(batch.m[i]!);
  }
  return m.length === 0 ? undefined : ({ type: 'pxs', s, m } satisfies ShardPaxosBatchWire);
}

/**
 * Throw `error` again on its own, in a microtask: an uncaught exception, as from a timer's
 * callback, that does not unwind whatever called the user's code (a listener, a hook).
 */
function throwApart(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/** `value` with every plain object and array in it frozen (Object.freeze), and itself. */
function deepFreeze<T>(value: T): T {
  // A config is a tree of plain data (no cycles): a part frozen already may hold parts that are not.
  if (typeof value === 'object' && value !== null && (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
