import { StoppedError } from '../../core/errors.js';
import type { ActorSpec, Behavior } from '../actor.js';
import type { HostPing } from '../admin.js';
import type { ActorSummary } from '../cell.js';
import type { HostEvent, TimerHandle } from '../env.js';
import type { DirectoryEntry } from '../host.js';
import type { NetworkConfig, PartitionRule } from '../../net/model.js';
import { snapshot, type StatsSnapshot } from '../stats.js';
import type { HostPlan, Runtime, SimDriver } from './runtime.js';
import { actorHostOptions } from './host-options.js';
import { SimWorld } from './sim.js';

export interface SimRuntimeOptions {
  seed: number;
  directory: Map<string, DirectoryEntry>;
  behaviors: Map<string, Behavior>;
  network: NetworkConfig;
  mailboxCapacity: number;
  messageBytesMax: number;
  recordTrace: boolean;
  /**
   * The cluster's fsync setting, for power-loss crashes (see MemoryDurableStore.configure);
   * absent, the store keeps its default (every append synced).
   */
  fsync?: boolean;
  onEvent: (event: HostEvent) => void;
}

/** The sim transport behind the Runtime interface: one SimWorld runs every host's actors. */
export class SimRuntime implements Runtime, SimDriver {
  readonly kind = 'sim' as const;
  readonly world: SimWorld;
  private readonly nodesDown = new Set<string>();
  /** Each pending sleep's or poll's reject, and the mark its wait began with: a stalled run fails them (see SimWorld.onStall), and so does stop(). */
  private readonly sleeping = new Map<(error: Error) => void, number>();
  private stopped = false;
  /** The plan's addresses: their indexes order the actors' start (see start). */
  private readonly directory: Map<string, DirectoryEntry>;

  constructor(
    options: SimRuntimeOptions,
    private readonly plans: HostPlan[],
  ) {
    this.world = new SimWorld({
      ...actorHostOptions(options),
      recordTrace: options.recordTrace,
      onEvent: options.onEvent,
    });
    this.directory = options.directory;
    this.world.onStall((error) => this.failSleeps(error));
    if (options.fsync !== undefined) this.world.durable.configure({ fsync: options.fsync, clock: () => this.world.now() });
  }

  get host() {
    return this.world.host;
  }

  async start(): Promise<void> {
    // Every message and host of the plan lives in one world, so host ids collapse to 0, and the
    // actors start in the order a dedicated placement plans them, whatever the plan's hosts: the
    // calling thread's first, then the others by their directory index. The order they start in
    // orders their first timers, so it is the run's: in plan order, a packed placement (dealt
    // over `threads` hosts, by default the machine's cores) gave one seed another run on a
    // machine with another count of cores.
    const index = (spec: ActorSpec): number => this.directory.get(spec.address)?.index ?? Number.MAX_SAFE_INTEGER;
    const others = this.plans.filter((plan) => plan.id !== 0).flatMap((plan) => plan.specs);
    others.sort((a, b) => index(a) - index(b));
    for (const plan of this.plans) if (plan.id === 0) for (const spec of plan.specs) this.world.host.spawn(spec);
    for (const spec of others) this.world.host.spawn(spec);
  }

  now(): number {
    return this.world.now();
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    return this.world.at(this.world.now() + delayMs, fn);
  }

  beginWait(): number {
    return this.world.beginWait();
  }

  endWait(mark: number): void {
    this.world.endWait(mark);
  }

  onStall(listener: (error: Error) => void): void {
    this.world.onStall(listener);
  }

  /** Every pending sleep rejects with `error` (its wait ends). */
  private failSleeps(error: Error): void {
    const sleeping = [...this.sleeping];
    this.sleeping.clear();
    for (const [reject, mark] of sleeping) {
      this.world.endWait(mark);
      reject(error);
    }
  }

  /** Rejects with StoppedError at stop() (pending) or at once (after it). */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.reject(new StoppedError('the cluster is stopped', true));
    return new Promise((resolve, reject) => {
      const mark = this.world.beginWait(); // (throws, so rejects, once the run has stalled)
      this.sleeping.set(reject, mark);
      this.world.at(this.world.now() + ms, () => {
        this.sleeping.delete(reject);
        this.world.endWait(mark);
        resolve();
      });
    });
  }

  /**
   * Call `step` every `ms` of virtual time, the first `ms` from now, until it returns true
   * (then resolve) or throws (then reject with what it threw); stop() and a stalled run reject
   * it as they do a sleep. It does what `for (;;) { await this.sleep(ms); if (step()) return; }`
   * does, each step at the same instant and at the same place among the events (right after
   * its timer's event, before the next one, where that loop's continuation ran while the driver
   * waited), and each next timer set where that loop's next sleep set it, so a run's events and
   * trace are the same. But the whole poll is one wait, where the loop began and ended a wait,
   * made a promise and stopped the driver for its quiet turns at every step: 5.5 against 1.8 us
   * of CPU a step (measured on an idle 3 x 3 cluster), and the nemesis's polls for a leader were
   * about 1,450 steps of 1-2 ms a `meridian check` seed. `step` runs inside an event: it must
   * not wait for anything (what it starts runs on after it returns).
   */
  poll(ms: number, step: () => boolean): Promise<void> {
    if (this.stopped) return Promise.reject(new StoppedError('the cluster is stopped', true));
    return new Promise((resolve, reject) => {
      const mark = this.world.beginWait(); // (throws, so rejects, once the run has stalled)
      this.sleeping.set(reject, mark);
      const fire = (): void => {
        let done: boolean;
        try {
          done = step();
        } catch (error) {
          this.sleeping.delete(reject);
          this.world.endWait(mark);
          reject(error);
          return;
        }
        if (!done) {
          this.world.at(this.world.now() + ms, fire);
          return;
        }
        this.sleeping.delete(reject);
        this.world.endWait(mark);
        resolve();
      };
      this.world.at(this.world.now() + ms, fire);
    });
  }

  async crashNode(node: string): Promise<void> {
    this.crashNodeNow(node);
  }

  /** `crashNode`, synchronously: what a fault site inside a step calls. */
  crashNodeNow(node: string): void {
    this.nodesDown.add(node);
    this.world.host.setNodeDead(node, true);
    this.world.host.crashNode(node);
  }

  async pauseNode(node: string, paused: boolean): Promise<void> {
    this.world.host.pauseNode(node, paused);
  }

  async restartNode(node: string): Promise<void> {
    this.nodesDown.delete(node);
    this.world.host.setNodeDead(node, false);
    this.world.host.restartNode(node);
  }

  // One host: in force at the call, as a determined run needs; the promise only says so.
  setNetwork(config: NetworkConfig): Promise<void> {
    this.world.host.setNetwork(config);
    return Promise.resolve();
  }

  setPartitions(rules: PartitionRule[]): Promise<void> {
    this.world.host.setPartitions(rules);
    return Promise.resolve();
  }

  setClockSkew(node: string, ms: number): void {
    this.world.host.setClockSkew(node, ms);
  }

  stats(): StatsSnapshot {
    return snapshot(this.world.host.stats);
  }

  async collectStats(): Promise<StatsSnapshot> {
    return this.stats();
  }

  async ping(): Promise<HostPing[]> {
    // One thread, no worker hosts: there is nothing to ask.
    return [];
  }

  async summary(address: string): Promise<ActorSummary | null> {
    return this.world.host.cell(address)?.summary() ?? null;
  }

  async injectFrame(_hostId: number, bytes: Uint8Array): Promise<void> {
    this.world.host.receiveFrame(bytes);
  }

  hostCount(): number {
    return 1;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.world.stop();
    this.failSleeps(new StoppedError('the cluster stopped before the sleep ended'));
  }
}
