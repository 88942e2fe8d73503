import { assert } from '../core/assert.js';
import type { Envelope } from '../core/codec.js';
import { seededIds } from '../core/ids.js';
import { RESTART_BACKOFF_MS_BASE, RESTART_BACKOFF_MS_MAX, TIMERS_PER_ACTOR_MAX } from '../core/limits.js';
import { Prng, hashString } from '../core/prng.js';
import type { ActorContext, ActorSpec, Behavior, Outgoing } from './actor.js';
import type { HostEnv, TimerHandle, TimerTarget } from './env.js';
import { clearLevels, type ActorStats, type HostStats } from './stats.js';

/** Keys of spent or cancelled timers a cell keeps (see Cell.timers) before it sweeps them out. */
export const TIMER_KEYS_DEAD_MAX = 64;

/** The actor counter of timer firings dropped at a mailbox full even for them (see Cell.fireTimer). */
export const TIMERS_DROPPED_COUNTER = 'timers-dropped';

/** What a cell needs from the host it runs on (Host implements it). */
export interface CellHost {
  readonly env: HostEnv;
  readonly seed: number;
  readonly stats: HostStats;
  readonly mailboxCapacity: number;
  /** The time as the actors of `node` read it (the host's clock plus that node's skew). */
  nowFor(node: string): number;
  /** The delay a timer of an actor of `node` set for `delayMs` gets (Host.setTimerScale). */
  timerDelayFor(node: string, delayMs: number): number;
  /** Route one message of a committed step. */
  route(from: string, to: string, message: Outgoing, sender: string, fromStats: ActorStats): void;
  /** This cell has work and is not yet queued: run it soon. */
  ready(cell: Cell): void;
  actorError(address: string, incarnation: string, error: unknown, action: 'restart' | 'stop'): void;
}

type Status = 'running' | 'backoff' | 'stopped' | 'dead';

/**
 * One actor as `cluster.inspect()` reads it (Cell.summary): its status ('paused' while
 * paused and it would otherwise run or restart), mailbox, live timers, message and restart
 * counts, counters, and its behaviour's own summary as `state` (null while it backs off, or
 * when the behaviour has none; its stand-in's while one runs). It was typed `unknown` (an
 * audit, session 62).
 */
export interface ActorSummary {
  address: string;
  behavior: string;
  incarnation: string;
  status: Status | 'paused';
  mailbox: number;
  timers: number;
  received: number;
  sent: number;
  restarts: number;
  counters: Record<string, number>;
  state: unknown;
}

/**
 * One actor incarnation on a host: its state, bounded mailbox, timers and supervision.
 * A step's sends, persists, checkpoint, timer changes and publishes are buffered and carried
 * out only when the step returns normally, persists first (the etcd-raft Ready rule); a step
 * that throws sends, persists, schedules and publishes nothing (its counters and warnings
 * still count); supervision restarts or stops the actor.
 */
export class Cell implements TimerTarget {
  readonly spec: ActorSpec;
  private readonly behavior: Behavior;
  private state: unknown;
  private status: Status = 'running';
  // Slots before `head` are cleared to undefined once taken (nothing is kept alive by them).
  private readonly mailbox: Array<Envelope | undefined> = [];
  private head = 0;
  queued = false;
  /**
   * Pending timers by key. A timer that fires or is replaced leaves its key with `undefined`
   * rather than being deleted: deleting and setting again the same few keys made V8's hash
   * table rebuild itself over and over (an idle simulated 3x3 cluster ran at 168-171 simulated
   * s per CPU s with deletes, 231-335 without; bench sim's idle figure, 2026-12-01). Dead keys
   * are swept once there are more than TIMER_KEYS_DEAD_MAX of them (actors that make up keys).
   */
  private readonly timers = new Map<string, TimerHandle | undefined>();
  /** Keys of `timers` with a pending timer (the rest, `timers.size - liveTimers`, are dead). */
  private liveTimers = 0;
  private readonly timerEnvelopes = new Map<string, Envelope>();
  /** A timer firing was dropped and a 'warn' said so (once per incarnation). */
  private timerDropWarned = false;
  private backoffTimer: TimerHandle | undefined;
  private consecutiveFailures = 0;
  /** Host-clock time spent in this actor's steps (virtual time stands still in a step). */
  private busyMs = 0;
  /** The host's clock when the last run() ended (the start of the host's next run). */
  lastRunEnded = 0;
  private readonly prng: Prng;
  private readonly ids: () => string;
  readonly incarnation: string;
  private readonly stats: ActorStats;
  // The step in progress.
  private sender = '';
  /** The message of the step in progress (undefined in init): its arrival, if queued while paused, is in `pausedArrivals`. */
  private inHand: Envelope | undefined;
  /**
   * When each message queued while paused came (host clock), by the copy of its envelope the
   * mailbox holds (one per delivery, so a reused or duplicated envelope has its own stamp):
   * `ctx.receivedAt()`. Only a paused cell stamps: a running one takes a message in as it comes.
   */
  private pausedArrivals: WeakMap<Envelope, number> | undefined;
  // Sends of the step, as three parallel lists and a count: no object per send, and no
  // `length = 0` per step (a costly call in V8 when the list held something).
  private outTo: string[] = [];
  private outMsg: Array<Outgoing | undefined> = [];
  private outFrom: string[] = [];
  private outCount = 0;
  private persists: unknown[] = [];
  // Timer changes of the step, as parallel lists and a count (as the sends).
  private readonly timerKeys: string[] = [];
  private readonly timerDelays: Array<number | null> = [];
  private timerCount = 0;
  private published: Array<{ topic: string; data: unknown }> = [];
  private checkpointRecords: unknown[] | undefined;
  /** How many of the step's persists came before its (last) checkpoint: those it covers. */
  private checkpointAfter = 0;
  /** Set by crashAfterNextWrite: the crash the next step that writes ends in. */
  private tornCrash: (() => void) | undefined;
  /** Set by afterWrites: called after each step's write, before its messages leave, until it returns true. */
  private writeHook: ((records: readonly unknown[]) => boolean) | undefined;
  /**
   * Paused (a process stopped, as by SIGSTOP): messages and timer firings queue in the mailbox
   * (up to its capacity) and nothing runs until `resume()`, which takes up the backlog in order.
   */
  private paused = false;
  /** A restart after an error came due while paused: it runs at `resume()`. */
  private initializeOnResume = false;
  /**
   * The behaviour's stand-in runs (Behavior.standIn): the last start failed, and until the
   * next try (status 'backoff') the stand-in takes the mailbox, with its own state.
   */
  private standingIn = false;
  private standInState: unknown;
  private readonly ctx: ActorContext;

  constructor(
    private readonly host: CellHost,
    spec: ActorSpec,
    behavior: Behavior,
  ) {
    this.spec = spec;
    this.behavior = behavior;
    this.incarnation = host.env.newId();
    this.prng = new Prng((host.seed ^ hashString(`${spec.address}#${this.incarnation}`)) >>> 0);
    this.ids = seededIds(this.prng.fork('ids'));
    this.stats = host.stats.actor(spec.address);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context's getters below have their own `this`
    const cell = this;
    this.ctx = {
      self: spec.address,
      incarnation: this.incarnation,
      get sender() {
        return cell.sender;
      },
      send: (to, msg) => {
        this.pushOut(to, msg, spec.address);
      },
      reply: (msg) => {
        this.pushOut(this.sender, msg, spec.address);
      },
      forward: (to, msg, from) => {
        this.pushOut(to, msg, from ?? this.sender);
      },
      setTimer: (key, delayMs) => {
        if (!(delayMs >= 0) || !Number.isFinite(delayMs)) throw new RangeError(`setTimer(${key}): delayMs must be a finite number >= 0, got ${delayMs}`);
        this.pushTimer(key, delayMs);
      },
      cancelTimer: (key) => {
        this.pushTimer(key, null);
      },
      now: () => host.nowFor(spec.node),
      monotonicNow: () => host.env.now(),
      receivedAt: () => {
        const at = this.inHand === undefined ? undefined : this.pausedArrivals?.get(this.inHand);
        return at ?? host.env.now();
      },
      random: () => this.prng.next(),
      nextId: () => this.ids(),
      persist: (record) => {
        this.persists.push(record);
      },
      checkpoint: (records) => {
        this.checkpointRecords = records;
        this.checkpointAfter = this.persists.length;
      },
      count: (name, by = 1) => {
        this.stats.counters[name] = (this.stats.counters[name] ?? 0) + by;
      },
      mailbox: () => this.mailboxLength(),
      busyMs: () => this.busyMs,
      publish: (topic, data) => {
        this.published.push({ topic, data });
      },
      warn: (message) => {
        host.env.report({ kind: 'warn', address: spec.address, message });
      },
    };
  }

  start(): void {
    this.initialize();
  }

  private pushTimer(key: string, delayMs: number | null): void {
    const n = this.timerCount++;
    this.timerKeys[n] = key;
    this.timerDelays[n] = delayMs;
  }

  private pushOut(to: string, msg: Outgoing, from: string): void {
    const n = this.outCount++;
    this.outTo[n] = to;
    this.outMsg[n] = msg;
    this.outFrom[n] = from;
  }

  private initialize(): void {
    if (this.standingIn) this.endStandIn();
    // A new incarnation: its levels start from 0 (the old one's went with it).
    clearLevels(this.stats.counters);
    this.beginStep(undefined);
    try {
      const recovered = this.host.env.durable.load(this.spec.address);
      this.state = this.behavior.init(this.ctx, this.spec.params, recovered);
    } catch (error) {
      this.abortStep();
      this.fail(error);
      this.startStandIn(error);
      return;
    }
    this.status = 'running';
    this.commitStep();
    if (this.hasWork() && !this.queued) {
      this.queued = true;
      this.host.ready(this);
    }
  }

  /**
   * The start failed and supervision backs off before the next try: the behaviour's stand-in,
   * if it has one, takes over until then (see Behavior.standIn). One that throws, or writes to
   * the durable log, is not started (a 'warn' says why): the mailbox waits, as without one.
   */
  private startStandIn(error: unknown): void {
    const standIn = this.behavior.standIn;
    if (standIn === undefined || this.status !== 'backoff') return;
    this.beginStep(undefined);
    let state: unknown;
    try {
      state = standIn.init(this.ctx, this.spec.params, error instanceof Error ? error : new Error(String(error)));
      this.checkStandInWrote();
    } catch (e) {
      this.abortStep();
      this.warnStandIn('did not start', e);
      return;
    }
    this.standingIn = true;
    this.standInState = state;
    this.commitStep();
    if (this.hasWork() && !this.queued) {
      this.queued = true;
      this.host.ready(this);
    }
  }

  /** The stand-in's turn is over (a new try, or the end of the actor): its state goes, its timers too, and those that fired and wait in the mailbox. */
  private endStandIn(): void {
    this.standingIn = false;
    this.standInState = undefined;
    this.clearTimers();
    const address = this.spec.address;
    const kept: Array<Envelope | undefined> = [];
    for (let i = this.head; i < this.mailbox.length; i++) {
      const e = this.mailbox[i]!;
      if (!(e.from === address && e.to === address && e.msg.type === 'timer')) kept.push(e);
    }
    this.mailbox.length = 0;
    this.head = 0;
    for (const e of kept) this.mailbox.push(e);
  }

  private standInStep(envelope: Envelope): void {
    this.stats.received++;
    this.beginStep(envelope);
    try {
      this.behavior.standIn!.receive(this.standInState, envelope.msg, this.ctx);
      this.checkStandInWrote();
    } catch (error) {
      this.abortStep();
      this.warnStandIn(`dropped a step (a ${envelope.msg.type} message from ${envelope.from})`, error);
      return;
    }
    this.commitStep();
  }

  /** A stand-in must not write to the durable log (the log is what failed, or will be read by the next try). */
  private checkStandInWrote(): void {
    if (this.persists.length > 0 || this.checkpointRecords !== undefined) throw new Error('a stand-in wrote to the durable log');
  }

  private warnStandIn(what: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.host.env.report({ kind: 'warn', address: this.spec.address, message: `the stand-in of ${this.spec.address} ${what}: ${message}` });
  }

  /** Stopped by its supervision for good, or dead: it takes no message, its mailbox full or not. */
  closed(): boolean {
    return this.status === 'stopped' || this.status === 'dead';
  }

  /**
   * Queue `envelope` unless the mailbox holds `room` messages already (false): mailboxCapacity
   * for what others send; a timer's firing has TIMERS_PER_ACTOR_MAX more (see fireTimer).
   */
  enqueue(envelope: Envelope, room = this.host.mailboxCapacity): boolean {
    if (this.closed()) return false;
    if (this.mailbox.length - this.head >= room) return false;
    if (this.paused) {
      const copy: Envelope = { to: envelope.to, from: envelope.from, msg: envelope.msg };
      (this.pausedArrivals ??= new WeakMap()).set(copy, this.host.env.now());
      envelope = copy;
    }
    this.mailbox.push(envelope);
    assert(
      this.mailbox.length - this.head <= this.host.mailboxCapacity + TIMERS_PER_ACTOR_MAX,
      'cell: a mailbox holds at most mailboxCapacity messages and TIMERS_PER_ACTOR_MAX timer firings more',
    );
    if ((this.status === 'running' || this.standingIn) && !this.paused && !this.queued) {
      this.queued = true;
      this.host.ready(this);
    }
    return true;
  }

  hasWork(): boolean {
    return (this.status === 'running' || this.standingIn) && !this.paused && this.mailbox.length > this.head;
  }

  /** Stop running (see `paused`); a second pause is a no-op. */
  pause(): void {
    this.paused = true;
  }

  /** Run again: a restart that came due meanwhile first, then the backlog, in order. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.initializeOnResume) {
      this.initializeOnResume = false;
      if (this.status === 'backoff') this.initialize();
      return;
    }
    if (this.hasWork() && !this.queued) {
      this.queued = true;
      this.host.ready(this);
    }
  }

  mailboxLength(): number {
    return this.mailbox.length - this.head;
  }

  /**
   * Handles up to `budget` messages; returns how many it handled. `started`: the host's clock
   * when the run began (the host reads it once for consecutive runs: the end of one run is the
   * start of the next), so that busy time costs one clock read per run; the run reads the end.
   */
  run(budget: number, started = this.host.env.now()): number {
    // A cell paused after it was queued runs nothing. Checked once, not per message: a pause
    // comes from outside (the cluster, between host drains), never from a step.
    if (this.paused) return 0;
    // Busy time is taken per run of up to `budget` messages: a clock read per message costs.
    let handled = 0;
    while (handled < budget && (this.status === 'running' || this.standingIn) && this.head < this.mailbox.length) {
      const envelope = this.mailbox[this.head]!;
      this.mailbox[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.mailbox.length) {
        this.mailbox.splice(0, this.head);
        this.head = 0;
      }
      handled++;
      this.step(envelope);
    }
    const ended = this.host.env.now();
    this.busyMs += ended - started;
    this.lastRunEnded = ended;
    assert(this.head <= this.mailbox.length, 'cell: the mailbox head stays within the mailbox');
    return handled;
  }

  private step(envelope: Envelope): void {
    if (this.standingIn) {
      this.standInStep(envelope);
      return;
    }
    assert(this.status === 'running', 'cell: only a running actor takes a step');
    this.stats.received++;
    this.beginStep(envelope);
    try {
      this.behavior.receive(this.state, envelope.msg, this.ctx);
    } catch (error) {
      this.abortStep();
      this.fail(error);
      return;
    }
    this.consecutiveFailures = 0;
    this.commitStep();
  }

  // The step buffers are reused from step to step (emptied, not reallocated; only a non-empty
  // persist list is handed to the store and replaced): nothing that commitStep calls can
  // re-enter this cell's step synchronously.
  private beginStep(envelope: Envelope | undefined): void {
    this.sender = envelope === undefined ? '' : envelope.from;
    this.inHand = envelope;
    this.abortStep();
  }

  private abortStep(): void {
    this.checkpointRecords = undefined;
    this.checkpointAfter = 0;
    if (this.published.length > 0) this.published.length = 0;
    if (this.outCount > 0) this.clearOut();
    if (this.persists.length > 0) this.persists.length = 0;
    this.timerCount = 0;
  }

  /**
   * A simulator's fault site: the next step that writes to the durable log writes it, then
   * calls `crash` instead of carrying out the rest (its messages, timers and publishes are
   * dropped): a crash after the disk write and before the network send, which the Ready rule
   * allows and recovery must handle (a coordinator resends from its log what never left).
   * `crash` must stop this cell (the node's crash does) before it returns.
   */
  crashAfterNextWrite(crash: (() => void) | undefined): void {
    this.tornCrash = crash;
  }

  /**
   * A simulator's fault site: after each step that writes to the durable log, once the write
   * is done and before the step's messages, timers and publishes are carried out, `hook` is
   * called with the records the step persisted (those its checkpoint covers too; none for a
   * checkpoint alone), until it returns true. What it changes in the world (a partition, say)
   * is in force before the step's messages leave; a crash of this cell's node ends the step
   * there (nothing else of it is carried out). It must not throw, nor step this cell.
   * `undefined` clears it.
   */
  afterWrites(hook: ((records: readonly unknown[]) => boolean) | undefined): void {
    this.writeHook = hook;
  }

  private commitStep(): void {
    const wrote = this.checkpointRecords !== undefined || this.persists.length > 0;
    // The hook's view of the step's records, taken before the store is handed them.
    const written = wrote && this.writeHook !== undefined ? [...this.persists] : undefined;
    // The checkpoint stands for the log as of its call: the persists before it are in it;
    // those after it (a later drain of the same step) follow it. Writing every persist and
    // then the checkpoint lost those (a server's other shards' records after a checkpoint
    // due in one shard's drain): a restart then met a commit over a slot it never held.
    let from = 0;
    if (this.checkpointRecords !== undefined) {
      this.host.env.durable.replace(this.spec.address, this.checkpointRecords);
      from = this.checkpointAfter;
      this.checkpointRecords = undefined;
      this.checkpointAfter = 0;
    }
    if (this.persists.length > from) {
      const records = from === 0 ? this.persists : this.persists.slice(from);
      this.persists = [];
      this.host.env.durable.append(this.spec.address, records);
    } else if (this.persists.length > 0) {
      this.persists.length = 0;
    }
    if (wrote && this.tornCrash !== undefined) {
      const crash = this.tornCrash;
      this.tornCrash = undefined;
      this.timerCount = 0;
      this.published.length = 0;
      this.clearOut();
      crash();
      assert(this.status === 'dead', 'cell: a crash after a write stops the cell');
      return;
    }
    if (written !== undefined) {
      const hook = this.writeHook!;
      if (hook(written) && this.writeHook === hook) this.writeHook = undefined;
      // The hook crashed this very cell (a cluster.crash() of the coordinator from its own
      // atNextCommit hook): a crash after the write, as crashAfterNextWrite's, so nothing else
      // of the step is carried out. Before (an audit of overlapping control calls, session 69)
      // its messages, the client's answer among them, left the dead coordinator.
      if (this.status === 'dead') {
        this.timerCount = 0;
        this.published.length = 0;
        this.clearOut();
        return;
      }
    }
    const timers = this.timerCount;
    if (timers > 0) {
      this.timerCount = 0;
      for (let i = 0; i < timers; i++) this.applyTimer(this.timerKeys[i]!, this.timerDelays[i]!);
    }
    if (this.published.length > 0) {
      for (const p of this.published) this.host.env.report({ kind: 'publish', address: this.spec.address, topic: p.topic, data: p.data });
      this.published.length = 0;
    }
    const n = this.outCount;
    if (n > 0) {
      const address = this.spec.address;
      const to = this.outTo;
      const msg = this.outMsg;
      const from = this.outFrom;
      for (let i = 0; i < n; i++) this.host.route(address, to[i]!, msg[i]!, from[i]!, this.stats);
      this.clearOut();
    }
    // Nothing the step's effects called re-entered this cell: every buffer was carried out.
    assert(this.persists.length === 0, 'cell: a committed step leaves no persist behind');
    assert(this.outCount === 0, 'cell: a committed step leaves no message behind');
    assert(this.timerCount === 0, 'cell: a committed step leaves no timer change behind');
  }

  /** Forget the step's sends: their slots are cleared, so the lists keep no message alive. */
  private clearOut(): void {
    const msg = this.outMsg;
    for (let i = 0; i < this.outCount; i++) msg[i] = undefined;
    this.outCount = 0;
  }

  private applyTimer(key: string, delayMs: number | null): void {
    const existing = this.timers.get(key);
    if (existing !== undefined) {
      existing.cancel();
      this.forgetTimer(key);
    }
    if (delayMs === null) return;
    if (this.liveTimers >= TIMERS_PER_ACTOR_MAX) {
      this.host.env.report({ kind: 'warn', address: this.spec.address, message: `timer ${key} refused: over ${TIMERS_PER_ACTOR_MAX} timers` });
      return;
    }
    const env = this.host.env;
    const delay = this.host.timerDelayFor(this.spec.node, delayMs);
    const handle: TimerHandle = env.setTimerFor !== undefined ? env.setTimerFor(delay, this, key) : env.setTimer(delay, () => this.fireTimer(key, handle));
    this.timers.set(key, handle);
    this.liveTimers++;
  }

  /** The timer of `key` is spent or cancelled: its key stays, dead (see `timers`). */
  private forgetTimer(key: string): void {
    this.timers.set(key, undefined);
    this.liveTimers--;
    if (this.timers.size - this.liveTimers > TIMER_KEYS_DEAD_MAX) {
      for (const [k, t] of this.timers) if (t === undefined) this.timers.delete(k);
    }
  }

  fireTimer(key: string, handle: TimerHandle): void {
    if (this.timers.get(key) !== handle) return;
    this.forgetTimer(key);
    // One envelope per key, reused by every firing (frozen: a timer message is only read).
    let envelope = this.timerEnvelopes.get(key);
    if (envelope === undefined) {
      if (this.timerEnvelopes.size >= TIMERS_PER_ACTOR_MAX) this.timerEnvelopes.clear();
      envelope = Object.freeze({ to: this.spec.address, from: this.spec.address, msg: Object.freeze({ type: 'timer', key }) });
      this.timerEnvelopes.set(key, envelope);
    }
    // Past mailboxCapacity too: a firing dropped at a full mailbox (a paused node's, or a busy
    // one's) was lost without a word, and an actor that sets its timer again as it handles the
    // firing (heartbeats, retries, sweeps) never ran it again (a class audit, session 67:
    // test/noticed.part.ts). The actor's own timers bound them, not its senders: each firing
    // is of a timer it set, and TIMERS_PER_ACTOR_MAX of them over capacity is the most taken.
    if (this.enqueue(envelope, this.host.mailboxCapacity + TIMERS_PER_ACTOR_MAX)) return;
    this.stats.counters[TIMERS_DROPPED_COUNTER] = (this.stats.counters[TIMERS_DROPPED_COUNTER] ?? 0) + 1;
    if (this.timerDropWarned) return;
    this.timerDropWarned = true;
    this.host.env.report({
      kind: 'warn',
      address: this.spec.address,
      message: `timer ${key} of ${this.spec.address} dropped: its mailbox holds ${this.mailboxLength()} messages, ${TIMERS_PER_ACTOR_MAX} over mailboxCapacity (counted as ${TIMERS_DROPPED_COUNTER}; said once per incarnation)`,
    });
  }

  /** Supervision: report, then restart after a growing backoff or stop for good. */
  private fail(error: unknown): void {
    const policy = this.spec.supervision ?? 'restart';
    this.host.actorError(this.spec.address, this.incarnation, error, policy);
    this.clearTimers();
    if (policy === 'stop') {
      this.status = 'stopped';
      this.mailbox.length = 0;
      this.head = 0;
      return;
    }
    this.status = 'backoff';
    this.consecutiveFailures++;
    this.stats.restarts++;
    const delay = Math.min(RESTART_BACKOFF_MS_MAX, RESTART_BACKOFF_MS_BASE * 2 ** (this.consecutiveFailures - 1));
    this.backoffTimer = this.host.env.setTimer(delay, () => {
      this.backoffTimer = undefined;
      if (this.status !== 'backoff') return;
      if (this.paused) this.initializeOnResume = true;
      else this.initialize();
    });
  }

  private clearTimers(): void {
    for (const t of this.timers.values()) t?.cancel();
    this.timers.clear();
    this.liveTimers = 0;
  }

  /** Crash or stop: nothing more runs, nothing is sent. */
  kill(): void {
    this.status = 'dead';
    this.standingIn = false;
    this.standInState = undefined;
    // Its levels end with the incarnation (a crashed server behind by 20 is not behind now).
    clearLevels(this.stats.counters);
    this.clearTimers();
    this.backoffTimer?.cancel();
    this.backoffTimer = undefined;
    this.mailbox.length = 0;
    this.head = 0;
  }

  summary(): ActorSummary {
    return {
      address: this.spec.address,
      behavior: this.spec.behavior,
      incarnation: this.incarnation,
      // 'paused' while paused and it would otherwise run (or restart): inspect() of a paused
      // server said 'running' (an audit, session 62). Its state is the one it stands still with.
      status: this.paused && (this.status === 'running' || this.status === 'backoff') ? 'paused' : this.status,
      mailbox: this.mailboxLength(),
      timers: this.liveTimers,
      received: this.stats.received,
      sent: this.stats.sent,
      restarts: this.stats.restarts,
      counters: { ...this.stats.counters },
      // None while it backs off from a failure: an init that threw left no state (inspect() of
      // a server whose log would not load failed with a TypeError from its summary). Its
      // stand-in's, if one runs meanwhile (it says why the actor is not running).
      state:
        this.status === 'running'
          ? this.behavior.summary
            ? this.behavior.summary(this.state)
            : null
          : this.standingIn
            ? (this.behavior.standIn!.summary?.(this.standInState) ?? null)
            : null,
    };
  }

  /** The behaviour's state as it is, for the cluster's own reads on the same host (sim only: leaderInfo() reads a server's groups). */
  peekState(): unknown {
    return this.state;
  }
}
