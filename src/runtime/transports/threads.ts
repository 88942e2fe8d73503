import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { HostExitedError, StoppedError, TimeoutError } from '../../core/errors.js';
import { HOST_READY_TIMEOUT_MS, WORKER_HEAP_MB_DEFAULT } from '../../core/limits.js';
import type { Behavior } from '../actor.js';
import { portEndpoint, type AdminApi, type HostPing } from '../admin.js';
import type { ActorSummary } from '../cell.js';
import { FileDurableStore } from '../durable-file.js';
import type { HostEvent, TimerHandle } from '../env.js';
import type { DirectoryEntry } from '../host.js';
import { mergeSnapshots, RetiredStats, snapshot, type StatsSnapshot } from '../stats.js';
import type { NetworkConfig, PartitionRule } from '../../net/model.js';
import { actorHostOptions } from './host-options.js';
import { ThreadHost } from './thread-host.js';
import {
  AnswerGatherer,
  answerWithin,
  CONTROL_TIMEOUT_MS,
  controlLate,
  cutByStop,
  endedWhileRestarting,
  failPendingCalls,
  inspectLate,
  pingEvery,
  STATS_ANSWER_MS,
  stoppedDuring,
  type HostPlan,
  type LifecycleOp,
  type Runtime,
} from './runtime.js';
import { RealTimers } from './real-timers.js';
import { removeTempDir, trackRuntime } from '../temp-dirs.js';
import { postToWorker, type FromWorker, type HostWorkerData } from './worker-protocol.js';

/** How often workers push their counters to the main thread. */
export const STATS_PUSH_INTERVAL_MS = 50;

/**
 * V8 heap limits of each host's worker thread. V8 lets an old generation grow to its live
 * size times a factor it scales with the heap's maximum: 4 for a maximum of 2 GiB or more
 * (a worker's default here, 4 GiB, a quarter of the machine's memory), down to 1.3 at
 * 256 MiB. Under the soak load a worker holds ~35-40 MB live (heap snapshots at 25 s and
 * 75 s: flat) and its heap was ~150 MB, most of it garbage not yet collected; at a 1 GiB
 * maximum the factor is ~1.6 and the heap ~65-90 MB (bench soak --quick, RSS max 559-608
 * -> 325-354 MB). The price is more full collections: CPU per call of the soak rose from
 * 92-111 to 108-116 us (three pairs alternated at load 12-31: +4% to +18% within a pair),
 * 102-110 against 93-98 in shorter runs at load 8-12. 1 GiB is still ~25 times that live
 * size; a worker that outgrows it ends with ERR_WORKER_OUT_OF_MEMORY and is reported as a
 * host exit, like any dead worker.
 */
export const WORKER_OLD_GENERATION_MB_MAX = WORKER_HEAP_MB_DEFAULT;
/**
 * The young generation (two semi-spaces and the new large-object space) of a worker: V8's
 * default is 48 MB, committed once allocation is brisk. Messages and envelopes die young;
 * at 16 MB the soak's RSS max was ~25 MB lower than at 48 (CPU per call within noise of
 * each other, though V8 scavenges ~1.5 times as often).
 */
export const WORKER_YOUNG_GENERATION_MB_MAX = 16;

const WORKER_URL = new URL('../../../workers/host.js', import.meta.url);

interface WorkerHost {
  id: number;
  plan: HostPlan;
  worker: Worker;
  admin: Comlink.Remote<AdminApi>;
  adminPort: MessagePort;
  alive: boolean;
  /** Rejecters of the admin calls pending on this host, failed at once if it dies. */
  pending: Set<(error: Error) => void>;
  /** Its reads asked and not answered yet, by what they read (see read). */
  reads: Map<string, Promise<unknown>>;
  /** Set once its thread ended (asked to or not): no call on it can be answered. */
  exited: boolean;
  /**
   * The channels a restart of this host made to hosts that were themselves restarting (see
   * restartNode): the other's restart uses that one instead of making a second.
   */
  linkedTo: Map<WorkerHost, Promise<unknown>>;
  /** Resolvers for the startup handshake. */
  onReady?: () => void;
  onStarted?: () => void;
  onFatal?: (error: Error) => void;
}

export interface ThreadsOptions {
  seed: number;
  directory: Map<string, DirectoryEntry>;
  behaviors: Map<string, Behavior>;
  /** Module URL that exports `behaviors` or `loadBehaviors` (see behaviors-module.ts), imported by every worker. */
  behaviorsModule: string;
  /**
   * The worker entry (a file URL); default dist/workers/host.js, which imports
   * `behaviorsModule`. The cluster passes its bundled entry (workers/cluster-host-loader.cts).
   */
  workerEntry?: URL | undefined;
  /** A file the entry may use as V8's code cache of what it compiles (its `workerData.codeCache`), checked by the caller. */
  workerCodeCache?: string | undefined;
  network: NetworkConfig;
  mailboxCapacity: number;
  messageBytesMax: number;
  dataDir: string;
  removeDataDir: boolean;
  /** Called by stop() once the logs are closed: the caller's lock on `dataDir` is let go. */
  releaseDataDir?: (() => void) | undefined;
  fsync: boolean;
  /** Each worker's V8 old-generation maximum, MiB as V8 counts it (default WORKER_OLD_GENERATION_MB_MAX). */
  workerHeapMb?: number;
  /**
   * The nodes only restartNode starts again after their thread died, as crashNode leaves them
   * (a cluster's servers and coordinators); default all. A new thread for a dead host of
   * several nodes starts the others at once (a cluster's region actor), as NatsOptions.restartable.
   */
  restartable?: ReadonlySet<string>;
  onEvent: (event: HostEvent) => void;
}

/**
 * The threads transport, main-thread side: one worker per host, a direct MessageChannel
 * between every pair of hosts (the front host on this thread included), comlink for control.
 * Internal (the package does not export it): the Cluster drives it, and orders the crashes,
 * restarts and pauses of each node as Runtime.crashNode requires.
 */
export class ThreadsRuntime implements Runtime {
  readonly kind = 'threads' as const;
  /** The module every worker runs (options.workerEntry, or the unbundled host entry). */
  readonly workerEntry: URL;
  /** The code cache it hands the entry (options.workerCodeCache). */
  readonly workerCodeCache: string | undefined;
  readonly front: ThreadHost;
  private readonly hosts = new Map<number, WorkerHost>();
  private readonly latestStats = new Map<number, StatsSnapshot>();
  /** The counters of the hosts retired, summed (see RetiredStats). */
  private readonly retiredStats = new RetiredStats();
  private readonly durable: FileDurableStore;
  private readonly timers = new RealTimers();
  private stopped = false;
  /** Lets go of stopRuntimes()'s hold (src/runtime/temp-dirs.ts) on a runtime on a temporary folder. */
  private readonly untrack: (() => void) | undefined;
  /** What changed since boot, handed to a host started again after a crash (it boots with the initial network). */
  private network: NetworkConfig | undefined;
  private partitions: PartitionRule[] = [];
  private readonly deadNodes = new Set<string>();
  /**
   * Nodes down until restartNode names them: crashed, or restartable and on a thread that died.
   * A new thread for their host leaves them out (HostWorkerData.crashed).
   */
  private readonly crashedNodes = new Set<string>();
  /** The new thread being started for a dead host, by plan id: one however many restarts ask at once. */
  private readonly respawning = new Map<number, Promise<void>>();
  private readonly skews = new Map<string, number>();

  constructor(
    private readonly options: ThreadsOptions,
    private readonly plans: HostPlan[],
  ) {
    this.workerEntry = options.workerEntry ?? WORKER_URL;
    this.workerCodeCache = options.workerCodeCache;
    this.durable = new FileDurableStore(options.dataDir, options.fsync);
    if (options.removeDataDir) this.untrack = trackRuntime(this);
    this.front = new ThreadHost({
      id: 0,
      ...actorHostOptions(options),
      durable: this.durable,
      report: options.onEvent,
    });
  }

  get host() {
    return this.front.host;
  }

  async start(): Promise<void> {
    const workers = this.plans.filter((p) => p.id !== 0);
    try {
      // Every worker is created at once and linked while it loads (the ports wait in its
      // queue). Its actors start once every host is built: a host that started early would
      // send its first messages (elections) to hosts without actors yet, which drop them, and
      // the first requests would wait for the retries (with one round, a first put took 400 ms
      // once in 12 boots, against at most 114 ms, and one timed out in test/stop.test.ts).
      const entries = workers.map((plan) => this.spawnWorker(plan));
      const ready = entries.map((entry) => this.handshake(entry, 'ready'));
      const ids = [0, ...workers.map((p) => p.id)];
      for (let i = 0; i < ids.length; i++) {
        for (let j = i + 1; j < ids.length; j++) this.link(ids[i]!, ids[j]!);
      }
      await Promise.all(ready);
      await Promise.all(entries.map((entry) => this.startWorker(entry)));
    } catch (error) {
      await this.stop();
      throw error;
    }
    const frontPlan = this.plans.find((p) => p.id === 0);
    for (const spec of frontPlan?.specs ?? []) this.front.host.spawn(spec);
  }

  /** Creates the worker of `plan` (its thread loads on its own; `ready` says when it is built). */
  private spawnWorker(plan: HostPlan, crashed: string[] = []): WorkerHost {
    const admin = new MessageChannel();
    const workerData: HostWorkerData = {
      hostId: plan.id,
      seed: this.options.seed,
      directory: [...this.options.directory],
      network: this.options.network,
      mailboxCapacity: this.options.mailboxCapacity,
      messageBytesMax: this.options.messageBytesMax,
      dataDir: this.options.dataDir,
      fsync: this.options.fsync,
      specs: plan.specs,
      crashed,
      behaviorsModule: this.options.behaviorsModule,
      adminPort: admin.port2,
      statsIntervalMs: STATS_PUSH_INTERVAL_MS,
      codeCache: this.workerCodeCache,
    };
    // msgpackr's native add-on costs ~7 ms per thread to load and buys nothing on this path.
    const env = { ...process.env, MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true' };
    const resourceLimits = {
      maxOldGenerationSizeMb: this.options.workerHeapMb ?? WORKER_OLD_GENERATION_MB_MAX,
      maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB_MAX,
    };
    const worker = new Worker(this.workerEntry, { workerData, transferList: [admin.port2], env, resourceLimits });
    const entry: WorkerHost = {
      id: plan.id,
      plan,
      worker,
      admin: Comlink.wrap<AdminApi>(portEndpoint(admin.port1)),
      adminPort: admin.port1,
      alive: true,
      pending: new Set(),
      reads: new Map(),
      exited: false,
      linkedTo: new Map(),
    };
    this.hosts.set(plan.id, entry);
    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'ready':
          entry.onReady?.();
          break;
        case 'started':
          entry.onStarted?.();
          break;
        case 'event':
          this.options.onEvent(message.event);
          break;
        case 'stats':
          if (entry.alive && this.hosts.get(plan.id) === entry) this.latestStats.set(plan.id, message.stats);
          break;
        case 'fatal':
          entry.onFatal?.(new Error(`host ${plan.id} failed to start: ${message.error.message}`));
          break;
      }
    });
    worker.on('error', (error) => {
      this.options.onEvent({ kind: 'frame-error', error: `host ${plan.id} thread error: ${error.message}` });
      entry.onFatal?.(error);
      // An uncaught error ends the thread ('exit' follows); it is dead from now on.
      this.hostDied(entry, null, `uncaught error: ${error.message}`);
    });
    worker.on('exit', (code) => {
      entry.onFatal?.(new Error(`host ${plan.id} exited with code ${code}`));
      this.hostDied(entry, code, `exited with code ${code}`);
    });
    return entry;
  }

  /**
   * A worker's thread ended. Every admin call pending on it fails with HostExitedError (comlink
   * would wait for ever), and so does every later one; with StoppedError once stop() began (it
   * ended the thread: a HostExitedError would blame a host for the stop, and a crash of one
   * node that was telling the others would reject naming one of them). If nobody asked it to
   * end (not a crash of a dedicated host, not stop()), it is marked dead and reported as a
   * 'host-exit' event.
   */
  private hostDied(entry: WorkerHost, code: number | null, why: string): void {
    if (entry.exited) return;
    entry.exited = true;
    const { nodes, message } = failPendingCalls(entry, this.stopped, why);
    if (!entry.alive || this.stopped) return;
    entry.alive = false;
    this.retire(entry);
    for (const node of nodes) {
      this.deadNodes.add(node);
      if (this.options.restartable?.has(node) !== false) this.crashedNodes.add(node);
      this.front.host.setNodeDead(node, true);
      for (const h of this.liveWorkers()) void this.call(h, (a) => a.setNodeDead(node, true)).catch(() => undefined);
    }
    this.options.onEvent({ kind: 'host-exit', host: entry.id, nodes, exitCode: code, error: message });
  }

  /** Stop using a host that is gone: keep its last counters, close its control port and channel. */
  private retire(entry: WorkerHost): void {
    this.gatherer.forget(entry.id);
    const last = this.latestStats.get(entry.id);
    if (last !== undefined) this.retiredStats.add(last);
    this.latestStats.delete(entry.id);
    // Gone: no restart will ask for its channels again (and none keeps it alive).
    entry.linkedTo.clear();
    for (const h of this.hosts.values()) h.linkedTo.delete(entry);
    entry.admin[Comlink.releaseProxy]();
    entry.adminPort.close();
    this.front.disconnect(entry.id);
  }

  /**
   * An admin call on a host that fails with HostExitedError, instead of hanging, if the host
   * dies; with StoppedError if stop() began before or while it ran (see hostDied).
   */
  private call<T>(entry: WorkerHost, f: (admin: Comlink.Remote<AdminApi>) => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(stoppedDuring());
    if (entry.exited || !entry.alive) return Promise.reject(new HostExitedError(entry.id, `host ${entry.id} is dead`));
    return new Promise<T>((resolve, reject) => {
      entry.pending.add(reject);
      f(entry.admin).then(
        (value) => {
          entry.pending.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          entry.pending.delete(reject);
          reject(error);
        },
      );
    });
  }

  /** Resolves when `entry` says `phase`; rejects if its thread ends first (StoppedError if stop() ended it). */
  private handshake(entry: WorkerHost, phase: 'ready' | 'started'): Promise<void> {
    // Its thread ended already: no 'exit' will come to reject this.
    if (entry.exited) return Promise.reject(this.stopped ? stoppedDuring() : new HostExitedError(entry.id, `host ${entry.id} is dead`));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`host ${entry.id} did not become ${phase} within ${HOST_READY_TIMEOUT_MS} ms`)), HOST_READY_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      if (phase === 'ready') entry.onReady = done;
      else entry.onStarted = done;
      entry.onFatal = (error) => {
        clearTimeout(timer);
        reject(this.stopped ? stoppedDuring() : error);
      };
    });
  }

  private startWorker(entry: WorkerHost): Promise<void> {
    const started = this.handshake(entry, 'started');
    postToWorker(entry.worker, { type: 'start' });
    return started;
  }

  /** A direct channel between hosts a and b: no message between them passes this thread. */
  private link(a: number, b: number): void {
    const channel = new MessageChannel();
    this.attach(a, b, channel.port1);
    this.attach(b, a, channel.port2);
  }

  private attach(host: number, peer: number, port: MessagePort): void {
    if (host === 0) {
      this.front.connect(peer, port);
      return;
    }
    const entry = this.hosts.get(host)!;
    postToWorker(entry.worker, { type: 'peer', peer, port }, [port]);
  }

  private liveWorkers(): WorkerHost[] {
    return [...this.hosts.values()].filter((h) => h.alive);
  }

  /**
   * An admin call of a crash, restart or pause (`op`) of `node` on another host than the one it
   * is about: undefined if that host's thread ends meanwhile (a crash of another node
   * overlapping this call, or the host died on its own), rather than failing the whole call
   * with a HostExitedError that names a host the caller did not ask about. What it was to be
   * told went with it; started again, it is handed what it needs (handOver). Undefined too if
   * it does not answer within controlAnswerMs (see the catch). StoppedError (stop() began)
   * still rejects.
   */
  private async callIfAlive<T>(op: LifecycleOp, node: string, entry: WorkerHost, f: (admin: Comlink.Remote<AdminApi>) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.control(op, node, entry, f);
    } catch (error) {
      // Nor one that does not answer in time: the call stays queued on its admin port, after
      // those sent before it and before those sent after, and is applied once the host runs
      // again. The lifecycle call it is part of is not held up for good by a host it is not about.
      if (error instanceof HostExitedError || (error instanceof TimeoutError && !this.stopped)) return undefined;
      throw error;
    }
  }

  /**
   * How long a crash, restart or pause, and a setNetwork or setPartitions, waits for each answer
   * of a host (as a NATS control request); @internal a test lowers it.
   */
  controlAnswerMs = CONTROL_TIMEOUT_MS;

  /**
   * An admin call of a crash, restart or pause (`op`) of `node`, its answer awaited
   * controlAnswerMs at most, then a TimeoutError naming the operation, the node and the host
   * (controlLate). Unbounded, a host held in a step for good left the call pending for ever.
   */
  private control<T>(op: LifecycleOp, node: string, entry: WorkerHost, f: (admin: Comlink.Remote<AdminApi>) => Promise<T>): Promise<T> {
    const ms = this.controlAnswerMs;
    return answerWithin(ms, this.call(entry, f), () => controlLate(op, node, entry, ms));
  }

  now(): number {
    return this.front.host.env.now();
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    return this.timers.set(delayMs, fn);
  }

  /** Rejects with StoppedError at stop() (pending) or at once (after it). */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.reject(new StoppedError('the cluster is stopped', true));
    return this.timers.sleep(ms);
  }

  private hostOfNode(node: string): WorkerHost | undefined {
    for (const h of this.hosts.values()) if (h.plan.specs.some((s) => s.node === node)) return h;
    return undefined;
  }

  /** The host of `node`, for a crash, restart or pause: StoppedError after stop(). */
  private liveHostOfNode(node: string): WorkerHost {
    if (this.stopped) throw new StoppedError('the cluster is stopped', true);
    const entry = this.hostOfNode(node);
    if (entry === undefined) throw new Error(`no host runs node ${node}`);
    return entry;
  }

  /**
   * Crash `node`: the others are told it is dead, then its thread is terminated (dedicated) or
   * its actors dropped. Not ordered here with a restart or pause of the same node: the caller
   * must not overlap them (see Runtime.crashNode; the Cluster orders them per id).
   *
   * In flight when stop() begins: it completes, or rejects with StoppedError (never with a
   * HostExitedError naming a host stop() ended, see hostDied); after stop(), rejects with
   * StoppedError at once. The same holds for restartNode and pauseNode.
   */
  async crashNode(node: string): Promise<void> {
    const entry = this.liveHostOfNode(node);
    this.deadNodes.add(node);
    this.crashedNodes.add(node);
    this.front.host.setNodeDead(node, true);
    const others = this.liveWorkers().filter((h) => h !== entry);
    await Promise.all(others.map((h) => this.callIfAlive('crash', node, h, (a) => a.setNodeDead(node, true))));
    // Its thread died on its own already: the node is down, and stays so when a restart of
    // another of its nodes starts the thread again (crashedNodes).
    if (!entry.alive) return;
    if (entry.plan.dedicated) {
      // Abrupt: the thread is terminated with whatever it had in flight.
      entry.alive = false;
      this.retire(entry);
      await entry.worker.terminate();
    } else {
      await this.control('crash', node, entry, (a) => a.setNodeDead(node, true));
      await this.control('crash', node, entry, (a) => a.crashNode(node));
    }
  }

  /** Pause or resume `node`'s actors. At stop(), as crashNode. */
  async pauseNode(node: string, paused: boolean): Promise<void> {
    const entry = this.liveHostOfNode(node);
    // The thread goes on (its control plane answers); the node's actors run nothing.
    if (entry.alive) await this.control(paused ? 'pause' : 'resume', node, entry, (a) => a.pauseNode(node, paused));
  }

  /**
   * Start crashed `node` again: on its thread if that is alive, else on a new thread for its
   * host (its own, or one of several nodes that died: see respawn). At stop(), as crashNode.
   * One that fails (an actor's first log write failed, or a new thread did not start) leaves
   * the node down on every host, its actors stopped again or their new thread ended: the node
   * is not marked alive until its actors started (Host.restartNode's error says it stays down).
   * Nor when the thread it runs on ends before this settles (endedWhileRestarting): that end
   * marked the node dead again (hostDied), and the restart rejects rather than mark it alive.
   */
  async restartNode(node: string): Promise<void> {
    let entry = this.liveHostOfNode(node);
    // Another node of the same dead host is starting it again: restart this one on that thread.
    const starting = this.respawning.get(entry.id);
    if (starting !== undefined) {
      await starting.catch(() => undefined);
      entry = this.liveHostOfNode(node);
    }
    if (!entry.alive) await this.respawn(entry, node);
    else if (entry.plan.dedicated) return;
    else await this.control('restart', node, entry, (a) => a.restartNode(node));
    // The thread now running the node (a new one after a respawn).
    const host = this.liveHostOfNode(node);
    if (!host.alive) throw endedWhileRestarting(node, host);
    this.crashedNodes.delete(node);
    this.deadNodes.delete(node);
    this.front.host.setNodeDead(node, false);
    await Promise.all(this.liveWorkers().map((h) => this.callIfAlive('restart', node, h, (a) => a.setNodeDead(node, false))));
    // Ended while the others were told: hostDied marked the node dead after this marked it alive.
    if (!host.alive) throw endedWhileRestarting(node, host);
  }

  /**
   * A new thread for dead host `entry`, started for `node`. Its other nodes that are crashed
   * (crashedNodes) stay down until restartNode names them; the rest (a cluster's region actor,
   * which no restart names) start with it. Until 2026-12-06 a host of several nodes that died
   * (a region's actor and coordinator, packed servers) could not be restarted at all.
   */
  private respawn(entry: WorkerHost, node: string): Promise<void> {
    const started = this.respawnNow(entry, node).finally(() => this.respawning.delete(entry.id));
    this.respawning.set(entry.id, started);
    return started;
  }

  private async respawnNow(entry: WorkerHost, node: string): Promise<void> {
    const nodes = [...new Set(entry.plan.specs.map((s) => s.node))].filter((n) => n !== node);
    const crashed = nodes.filter((n) => this.crashedNodes.has(n));
    const revived = nodes.filter((n) => !this.crashedNodes.has(n) && this.deadNodes.has(n));
    const fresh = this.spawnWorker(entry.plan, crashed);
    try {
      await this.handshake(fresh, 'ready');
      // stop() may have begun since (it ended this thread too): no channel to the closed front host.
      if (this.stopped) throw stoppedDuring();
      this.link(0, fresh.id);
      for (const other of this.liveWorkers()) {
        if (other === fresh) continue;
        // One channel per pair. Another host restarting at the same time may have linked to
        // this one already (both new, each in the other's list): a second channel would
        // replace the first at each end in whatever order the worker's message port and its
        // control port deliver them, and where the two ends kept different channels (each
        // closed, with both its ends, the one it replaced) neither host heard the other
        // again (a durability audit, session 54: every server of a hybrid cluster restarted at
        // once, and a home region's pair had no leader for good; test/bug-concurrent-restart).
        // Wait until that one is in place instead.
        const made = other.linkedTo.get(fresh);
        if (made !== undefined) {
          await made;
          continue;
        }
        const channel = new MessageChannel();
        postToWorker(fresh.worker, { type: 'peer', peer: other.id, port: channel.port1 }, [channel.port1]);
        // A host crashed meanwhile needs no channel: started again, it links to this one.
        const linked = this.callIfAlive('restart', node, other, (a) => a.connect(fresh.id, Comlink.transfer(channel.port2, [channel.port2])));
        fresh.linkedTo.set(other, linked);
        await linked;
      }
      // The new host boots with the cluster's initial network: hand it what changed since,
      // before its actors start, so its first messages already obey partitions and skews.
      await this.handOver(fresh, node, new Set([node, ...revived]));
      await this.startWorker(fresh);
    } catch (error) {
      // A restart that did not finish leaves no half-started host behind: the node stays
      // down, and the next restart spawns a thread again (an `alive` one would make it a no-op).
      if (fresh.alive && !this.stopped) {
        fresh.alive = false;
        this.retire(fresh);
        await fresh.worker.terminate();
      }
      throw error;
    }
    for (const n of revived) {
      // Ended meanwhile: hostDied marked its nodes dead again, these among them.
      if (!fresh.alive) throw endedWhileRestarting(node, fresh);
      this.deadNodes.delete(n);
      this.front.host.setNodeDead(n, false);
      await Promise.all(this.liveWorkers().map((h) => this.callIfAlive('restart', node, h, (a) => a.setNodeDead(n, false))));
    }
  }

  /** Network settings, partitions, other dead nodes and clock skews set since boot, for a host respawned by a restart of `node`. */
  private async handOver(fresh: WorkerHost, node: string, starting: ReadonlySet<string>): Promise<void> {
    const network = this.network;
    if (network !== undefined) await this.control('restart', node, fresh, (a) => a.setNetwork(network));
    const partitions = this.partitions;
    if (partitions.length > 0) await this.control('restart', node, fresh, (a) => a.setPartitions(partitions));
    for (const dead of this.deadNodes) if (!starting.has(dead)) await this.control('restart', node, fresh, (a) => a.setNodeDead(dead, true));
    for (const [skewed, ms] of this.skews) await this.control('restart', node, fresh, (a) => a.setClockSkew(skewed, ms));
  }

  setNetwork(config: NetworkConfig): Promise<void> {
    this.network = config;
    this.front.host.setNetwork(config);
    return this.everyWorker('setNetwork', (a) => a.setNetwork(config));
  }

  setPartitions(rules: PartitionRule[]): Promise<void> {
    this.partitions = rules;
    this.front.host.setPartitions(rules);
    return this.everyWorker('setPartitions', (a) => a.setPartitions(rules));
  }

  /**
   * Sent to every live worker now (each applies its calls in the order sent); resolves once
   * all answered. A worker that died meanwhile is left out: a respawn hands it what is in force
   * (handOver). Not awaited, the change still reached the workers, only a moment later: a
   * message sent meanwhile met the old network there (an audit, session 59: a put right
   * after heal() was dropped as partitioned, and timed out). A worker that does not answer
   * within controlAnswerMs (held in a step) rejects it with a TimeoutError naming `op` and the
   * host (controlLate); the call stays queued on its admin port and applies when it runs again.
   * Unbounded, a host held for good left the change pending for ever (session 67). One that
   * stop() ended before it answered rejects it with StoppedError, as a crash or pause in flight
   * does: it resolved, as if every host had applied a change none may have (a class audit of
   * stop paths, session 68). A worker that dies meanwhile (a crash() beside this call ended its
   * thread) is left out as said, not a rejection naming it (cutByStop).
   */
  private async everyWorker(op: 'setNetwork' | 'setPartitions', f: (admin: Comlink.Remote<AdminApi>) => Promise<void>): Promise<void> {
    const ms = this.controlAnswerMs;
    await Promise.all(
      this.liveWorkers().map((h) =>
        answerWithin(
          ms,
          this.call(h, f).catch((error: unknown) => {
            if (cutByStop(error)) throw error;
          }),
          () => controlLate(op, undefined, h, ms),
        ),
      ),
    );
  }

  setClockSkew(node: string, ms: number): void {
    if (ms === 0) this.skews.delete(node);
    else this.skews.set(node, ms);
    this.front.host.setClockSkew(node, ms);
    for (const h of this.liveWorkers()) void this.call(h, (a) => a.setClockSkew(node, ms)).catch(() => undefined);
  }

  stats(): StatsSnapshot {
    return mergeSnapshots([...this.retiredStats.snapshots(), ...this.latestStats.values(), snapshot(this.front.host.stats)]);
  }

  /**
   * Every live worker's counters asked for now. A worker that does not answer within
   * STATS_ANSWER_MS (busy in a long step), or fails, counts with the counters it last pushed,
   * as in stats(), and a 'warn' says so, as under NATS (metrics() waited for as long as a step
   * ran, for ever for a step that never ends: an audit, session 62); one no longer live (after
   * stop()) with its last ones too. Only stop() fails it (StoppedError).
   */
  async collectStats(): Promise<StatsSnapshot> {
    await Promise.all(
      this.liveWorkers().map(async (h) => {
        const stats = await this.gatherer.gather(h, 'stats', () => this.callWithin(h, 'stats', (a) => a.stats()));
        // A host that ended meanwhile was retired with its last counters.
        if (stats !== undefined && h.alive) this.latestStats.set(h.id, stats);
      }),
    );
    return this.stats();
  }

  /** Leaves out of a metrics read a worker that does not answer it (see collectStats). */
  private readonly gatherer = new AnswerGatherer(
    (event) => this.options.onEvent(event),
    () => this.stopped,
  );

  /** A read of `entry` (see read), its answer awaited STATS_ANSWER_MS at most. */
  private callWithin<T>(entry: WorkerHost, what: string, f: (admin: Comlink.Remote<AdminApi>) => Promise<T>): Promise<T> {
    return this.read(entry, what, f, STATS_ANSWER_MS, () => new TimeoutError(`host ${entry.id} did not answer ${what} within ${STATS_ANSWER_MS} ms`));
  }

  /**
   * A call that reads `entry` (`what`: its counters, a ping, an actor's summary), its answer
   * awaited `ms` at most, then `late()` (a read: a TimeoutError changes nothing). A comlink call
   * cannot be withdrawn: one that timed out holds its entries (in comlink's table, and in
   * entry.pending for its host's death) until the worker answers or dies. The same read asked
   * again meanwhile awaits that call rather than make another: a worker held in a step for good
   * gained two entries per metrics scrape, for ever (an audit, session 65).
   */
  private read<T>(entry: WorkerHost, what: string, f: (admin: Comlink.Remote<AdminApi>) => Promise<T>, ms: number, late: () => Error): Promise<T> {
    const asked = entry.reads.get(what) as Promise<T> | undefined;
    // Each caller's answer is its own, as each call's was (a summary edited by one caller).
    if (asked !== undefined) return answerWithin(ms, asked.then(structuredClone), late);
    const call = this.call(entry, f);
    entry.reads.set(what, call);
    const answered = (): void => {
      if (entry.reads.get(what) === call) entry.reads.delete(what);
    };
    call.then(answered, answered);
    return answerWithin(ms, call, late);
  }

  async summary(address: string): Promise<ActorSummary | null> {
    const local = this.front.host.cell(address);
    if (local !== undefined) return local.summary();
    const entry = this.liveWorkers().find((h) => h.plan.specs.some((s) => s.address === address));
    if (entry === undefined) return null;
    try {
      return await this.read(
        entry,
        `summary ${address}`,
        (a) => a.summary(address),
        this.inspectAnswerMs,
        () => inspectLate(address, entry, this.inspectAnswerMs),
      );
    } catch (error) {
      // Its thread ended while asked (a crash of its dedicated node, or on its own): the actor
      // does not run, as for one asked after (null). It rejected with a HostExitedError.
      if (error instanceof HostExitedError && !entry.alive) return null;
      throw error;
    }
  }

  /** How long inspect() waits for the actor's host, as a NATS control request; @internal a test lowers it. */
  inspectAnswerMs = CONTROL_TIMEOUT_MS;

  async ping(): Promise<HostPing[]> {
    // A probe: a host that dies while it is asked, or does not answer in time, fails the ping
    // (see pingEvery); collectStats, which gathers, leaves it out instead.
    return pingEvery(this.liveWorkers(), (h) => this.callWithin(h, 'ping', (a) => a.ping()));
  }

  /** Test hook: hand raw bytes to a host as if a peer had sent them. */
  async injectFrame(hostId: number, bytes: Uint8Array): Promise<void> {
    if (hostId === 0) {
      this.front.host.receiveFrame(bytes);
      return;
    }
    const entry = this.hosts.get(hostId);
    if (entry === undefined || !entry.alive) throw new Error(`no live host ${hostId}`);
    await this.call(entry, (a) => a.injectFrame(bytes));
  }

  hostCount(): number {
    return this.liveWorkers().length + 1;
  }

  /**
   * End every thread, close the front host and the logs, let the data folder go (and remove a
   * temporary one). Every call returns the same promise, settled once all of that is done: a
   * second call, made while the first ran (start()'s own clean-up after a stop begun by
   * stopRuntimes), resolved at once, the threads still running and the folder still locked (a
   * leak audit, session 66).
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private stopping: Promise<void> | undefined;

  private async stopNow(): Promise<void> {
    this.stopped = true;
    this.timers.clear(new StoppedError('the cluster stopped before the sleep ended'));
    const all = [...this.hosts.values()];
    for (const h of all) {
      // A crashed host's proxy was released when it was crashed.
      if (h.alive) {
        h.admin[Comlink.releaseProxy]();
        h.adminPort.close();
      }
      h.alive = false;
    }
    await Promise.all(all.map((h) => h.worker.terminate()));
    this.front.close();
    this.durable.close();
    this.options.releaseDataDir?.();
    this.untrack?.();
    if (this.options.removeDataDir) removeTempDir(this.options.dataDir);
  }
}
