import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { ConfigError, HostExitedError, StoppedError, TimeoutError, UnavailableError } from '../../core/errors.js';
import { randomId } from '../../core/ids.js';
import { HOST_READY_TIMEOUT_MS } from '../../core/limits.js';
import type { HostPing } from '../admin.js';
import type { ActorSummary } from '../cell.js';
import { FileDurableStore } from '../durable-file.js';
import type { TimerHandle } from '../env.js';
import { mergeSnapshots, RetiredStats, snapshot, type StatsSnapshot } from '../stats.js';
import type { NetworkConfig, PartitionRule } from '../../net/model.js';
import { ThreadHost } from './thread-host.js';
import {
  AnswerGatherer,
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
import {
  NATS_FRAME_BYTES_FLUSH,
  BEAT_INTERVAL_MS,
  ControlError,
  HOST_SILENCE_MS,
  LAUNCHER_PROBE_MS,
  LEAVING_REASON_CHARS_MAX,
  NatsLink,
  callHost,
  connectNats,
  decodeChecked,
  decodeControl,
  encodeControl,
  envelopeBytesMax,
  frameBytesMax,
  isNatsHello,
  isNatsHostEvent,
  isNatsHostStats,
  isNatsLeaving,
  NATS_SERVERS_ENV,
  publishIfOpen,
  shownServers,
  subjects,
  type ControlResult,
  type NatsGone,
  type Subjects,
} from './nats-wire.js';
import type { ClusterLayout, ReplicationRecord } from '../layout.js';
import type { AssignAnswer, NatsAssign, NatsControlApi, NatsControlMethod, NatsHello } from './worker-protocol.js';
import { STATS_PUSH_INTERVAL_MS, type ThreadsOptions } from './threads.js';

const HOST_ENTRY = fileURLToPath(new URL('../../../workers/nats-host.js', import.meta.url));

/** How long startCluster waits for `hosts: N` hosts started elsewhere to say hello. */
export const REMOTE_HOSTS_WAIT_MS = 60_000;
/** How long stop() gives a host process to exit after it was told to, before SIGKILL. */
export const HOST_EXIT_WAIT_MS = 3_000;

/** What the threads transport takes, and where the NATS server is. */
export interface NatsOptions extends ThreadsOptions {
  servers: string[];
  /** The subject prefix `meridian.<cluster>`. */
  cluster: string;
  /** 'spawn': host processes on this machine; 'remote': wait for hosts started with `meridian host`. */
  hosts: 'spawn' | 'remote';
  remoteWaitMs?: number;
  /** The cluster's layout, sent to each host (a remote host's data directory records it). */
  layout?: ClusterLayout;
  /** The cluster's replication mode and factor, sent with the layout (a remote host's data directory records them). */
  replication?: ReplicationRecord;
  /**
   * The nodes the caller brings back itself (restartNode) after their host process died, as a
   * cluster does its servers and coordinators; default all. A new process for a dead host
   * (started by a restartNode) runs the host's other nodes at once: nobody restarts them.
   */
  restartable?: ReadonlySet<string>;
  /**
   * `messageBytesMax` is the caller's own (a cluster's config named it): one over what the
   * server's max_payload carries is refused at start (a ConfigError naming both), where the
   * default is lowered to it (see connect).
   */
  messageBytesMaxGiven?: boolean;
}

/**
 * A runtime's plans, or what makes them from the largest message its hosts carry: a cluster's
 * actors size their messages (Paxos batches, catch-ups, snapshot pieces, a coordinator's wires,
 * a region's digests) by it, and it is known only once the runtime reached the NATS server.
 */
export type NatsPlans = HostPlan[] | ((messageBytesMax: number) => HostPlan[]);

interface HostEntry {
  id: number;
  plan: HostPlan;
  uid: string;
  child: ChildProcess | undefined;
  pid: number | undefined;
  alive: boolean;
  exited: Promise<void>;
  /** Rejects calls pending on it when it dies (see hostDied). */
  pending: Set<(error: Error) => void>;
  /** When its counters last came (performance.now()): a remote host silent too long is gone. */
  lastHeard: number;
  /** It took its assignment: from then on it serves its control subject and pushes counters. */
  assigned: boolean;
  /**
   * A host started elsewhere, taken as gone while its process may still run: the NatsGone
   * published for it (again whenever it is heard from, see fence), and when it was last sent.
   */
  gone: { message: Uint8Array; sentAt: number } | undefined;
}

/**
 * The NATS transport, launcher side: host processes (spawned here, or started elsewhere with
 * `meridian host`) exchange the threads transport's frames over a NATS server; the control
 * plane is NATS request/reply. The front host (clients, balancers) runs in this process.
 */
export class NatsRuntime implements Runtime {
  readonly kind = 'nats' as const;
  private front: ThreadHost | undefined;
  private nc: NatsConnection | undefined;
  private link: NatsLink | undefined;
  private subj: Subjects;
  private readonly subs: Subscription[] = [];
  private readonly hosts = new Map<number, HostEntry>();
  private readonly latestStats = new Map<number, StatsSnapshot>();
  /** The counters of the hosts retired, summed (see RetiredStats). */
  private readonly retiredStats = new RetiredStats();
  private readonly durable: FileDurableStore;
  private readonly timers = new RealTimers();
  private beat: NodeJS.Timeout | undefined;
  /** Hellos awaited by uid (spawned hosts), and the remote plans not yet taken. */
  private readonly awaited = new Map<string, (hello: NatsHello) => void>();
  private readonly remotePending: HostPlan[] = [];
  private remoteJoined: (() => void) | undefined;
  /** Fails the wait for remote hosts at once: one refused the launcher's settings. */
  private remoteRefused: ((error: Error) => void) | undefined;
  /**
   * Remote hosts given a plan, by uid: their later hellos are no new host. Not a spawned host,
   * whose hello its spawn awaits (`awaited`) and whose later ones find no plan waiting (remote
   * plans wait only at a remote start): kept, they grew by one at every restart of a process.
   */
  private readonly seenUids = new Set<string>();
  /** Remote hosts' uids, and the plans each refused (see onHello). */
  private readonly refusedBy = new Map<string, Set<number>>();
  /** Why a remote host last refused its assignment, for the error if not all join. */
  private lastRefusal: string | undefined;
  private network: NetworkConfig;
  private partitions: PartitionRule[] = [];
  private readonly deadNodes = new Set<string>();
  private readonly crashedNodes = new Set<string>();
  private readonly clockSkew = new Map<string, number>();
  private messageBytesMax: number;
  private stopped = false;
  /** Lets go of stopRuntimes()'s hold (src/runtime/temp-dirs.ts) on a runtime on a temporary folder. */
  private readonly untrack: (() => void) | undefined;
  /** Set once the NATS connection closed for good (not by stop()): every call fails with it. */
  private lost: UnavailableError | undefined;
  private lastCheck = performance.now();
  /**
   * This launcher's generation (NatsAssign.launcher): the payload of its beat, and a token of its
   * data, control, events, counters and leaving subjects (subjects()). The hosts of a launcher
   * killed and started again under the same name, still running, stop when they hear the beat
   * (runNatsHost); until then, what they send goes where no host of this launcher listens. Before
   * (session 67) the new launcher's beat kept them alive, and the new hosts given their ids shared
   * their data and control subjects with them. Public: tests address one host's control subject.
   */
  readonly generation = randomId().replace(/[^A-Za-z0-9_-]/g, '');
  private readonly beatPayload = new TextEncoder().encode(this.generation);

  /** The hosts' plans: from `planned` once connect() knows messageBytesMax. */
  private plans: HostPlan[] = [];

  constructor(
    private readonly options: NatsOptions,
    private readonly planned: NatsPlans,
  ) {
    this.durable = new FileDurableStore(options.dataDir, options.fsync);
    if (options.removeDataDir) this.untrack = trackRuntime(this);
    this.subj = subjects(options.cluster, this.generation);
    this.network = options.network;
    this.messageBytesMax = options.messageBytesMax;
  }

  get host() {
    if (this.front === undefined) throw new Error('the NATS runtime has not started');
    return this.front.host;
  }

  /** The subject prefix hosts join under. */
  get clusterName(): string {
    return this.options.cluster;
  }

  async start(): Promise<void> {
    try {
      await this.connect();
      const workers = this.plans.filter((p) => p.id !== 0);
      if (this.options.hosts === 'spawn') await Promise.all(workers.map((plan) => this.spawnHost(plan)));
      else await this.waitForRemoteHosts(workers);
      await Promise.all(workers.map((plan) => callHost(this.nc!, this.subj, plan.id, 'start', [])));
    } catch (error) {
      await this.stop();
      throw error;
    }
    const frontPlan = this.plans.find((p) => p.id === 0);
    for (const spec of frontPlan?.specs ?? []) this.front!.host.spawn(spec);
  }

  private async connect(): Promise<void> {
    const nc = await connectNats(this.options.servers, `meridian-launcher-${this.options.cluster}`);
    // stop() came while this connected (stopRuntimes, or start()'s caller): it found no
    // connection to close, and what this made from here on outlived it, the connection and its
    // subscriptions, and the beat's interval, which held the process for good (a leak audit,
    // session 66).
    if (this.stopped) {
      await nc.close().catch(() => undefined);
      throw stoppedDuring();
    }
    this.nc = nc;
    await this.claimName(nc);
    // stop() closes the connection, but may have passed the front host, the link and the beat already.
    if (this.stopped) throw stoppedDuring();
    // A message must fit one NATS payload with its frame header: bigger ones are refused
    // ('too-large', bounced to the sender as undeliverable). The actors are planned for the
    // same limit: planned for a larger one (the default 1 MiB on a server's default 1 MiB
    // max_payload, less the framing, or any on a 64 KiB one), they built Paxos batches and
    // catch-ups the hosts then dropped (an audit, session 63).
    const carried = envelopeBytesMax(nc);
    if (this.options.messageBytesMaxGiven === true && this.options.messageBytesMax > carried) {
      throw new ConfigError(
        'messageBytesMax',
        `at most ${carried} bytes on these NATS servers (their max_payload, ${nc.info?.max_payload} bytes, less the framing): lower it, leave it unset for that most, or raise the servers' max_payload`,
        this.options.messageBytesMax,
      );
    }
    this.messageBytesMax = Math.min(this.options.messageBytesMax, carried);
    this.plans = typeof this.planned === 'function' ? this.planned(this.messageBytesMax) : this.planned;
    this.front = new ThreadHost({
      id: 0,
      seed: this.options.seed,
      directory: this.options.directory,
      behaviors: this.options.behaviors,
      network: this.options.network,
      mailboxCapacity: this.options.mailboxCapacity,
      messageBytesMax: this.messageBytesMax,
      durable: this.durable,
      report: this.options.onEvent,
      sendFrame: (peer, frame) => this.link!.send(peer, frame),
      frameBytesMax: frameBytesMax(nc),
      frameBytesFlush: Math.min(NATS_FRAME_BYTES_FLUSH, frameBytesMax(nc)),
    });
    const front = this.front.host;
    this.link = new NatsLink(nc, this.subj, 0, (frame) => front.receiveFrame(frame));
    this.subs.push(
      nc.subscribe(this.subj.events, {
        callback: (error, msg) => {
          if (error !== null || this.stopped) return;
          const message = decodeChecked(msg.data, isNatsHostEvent);
          const entry = message === undefined ? undefined : this.hosts.get(message.host);
          // Not from a host taken as gone: its process no longer speaks for the nodes it held. Nor
          // from another process than the one that host id was assigned to (as for stats).
          if (entry !== undefined && entry.gone === undefined && entry.uid === message!.uid) this.options.onEvent(message!.event);
        },
      }),
    );
    this.subs.push(
      nc.subscribe(this.subj.stats, {
        callback: (error, msg) => {
          if (error !== null) return;
          const message = decodeChecked(msg.data, isNatsHostStats);
          const entry = message === undefined ? undefined : this.hosts.get(message.host);
          // Only from the process that host id was assigned to: another uid is an old launcher's
          // host of that id not stopped yet (or an old process of a respawned host), or a forged
          // one; its counters were counted as this host's, its pushes hid this host's silence.
          if (entry === undefined || entry.uid !== message!.uid) return;
          // Taken as gone and still running (it stalled, then resumed): told again to go.
          if (entry.gone !== undefined) this.sendGone(entry, BEAT_INTERVAL_MS);
          if (!entry.alive) return;
          entry.lastHeard = performance.now();
          this.latestStats.set(entry.id, message!.stats);
        },
      }),
    );
    this.subs.push(
      nc.subscribe(this.subj.leaving, {
        callback: (error, msg) => {
          if (error !== null || this.stopped) return;
          const leaving = decodeChecked(msg.data, isNatsLeaving);
          const entry = leaving === undefined ? undefined : this.hosts.get(leaving.host);
          // Only from the process that host id was assigned to: a stray or forged one names another uid.
          if (entry === undefined || !entry.alive || !entry.assigned || entry.uid !== leaving!.uid) return;
          this.hostDied(entry, null, `left the cluster (${leaving!.reason.replace(/[^\x20-\x7e]/g, '?')})`, true);
        },
      }),
    );
    this.subs.push(
      nc.subscribe(this.subj.hello, {
        callback: (error, msg) => {
          if (error !== null || this.stopped) return;
          const hello = decodeChecked(msg.data, isNatsHello);
          if (hello !== undefined) this.onHello(hello);
        },
      }),
    );
    this.beat = setInterval(() => {
      publishIfOpen(nc, this.subj.beat, this.beatPayload);
      this.checkSilence();
    }, BEAT_INTERVAL_MS);
    void nc.closed().then((error) => this.connectionLost(error));
    // Before any host is assigned: the hosts an earlier launcher of this name left running stop now.
    nc.publish(this.subj.beat, this.beatPayload);
    await nc.flush();
  }

  /**
   * Refuse a name another running launcher uses on these servers: its hosts would answer this
   * one's start, and this one's stop() would shut them down. Then answer for the name.
   */
  private async claimName(nc: NatsConnection): Promise<void> {
    let answered = false;
    try {
      await nc.request(this.subj.launcher, undefined, { timeout: LAUNCHER_PROBE_MS });
      answered = true;
    } catch {
      // No responders (or none in time): the name is free.
    }
    // stop() came during the request: not a name taken (it failed with the closed connection).
    if (this.stopped) throw stoppedDuring();
    if (answered) {
      throw new ConfigError(
        'nats.cluster',
        `a name no running cluster uses on these NATS servers (a launcher already runs as ${JSON.stringify(this.options.cluster)})`,
        this.options.cluster,
      );
    }
    this.subs.push(nc.subscribe(this.subj.launcher, { callback: (error, msg) => void (error === null && msg.respond()) }));
  }

  /**
   * The client gave up reconnecting (or the server closed it): the hosts are out of reach.
   * The beat and the link stop, every host is reported as a 'host-exit', and every call pending
   * or made later fails with an UnavailableError, none thrown from a timer. Not after stop().
   */
  private connectionLost(error: Error | void): void {
    if (this.stopped || this.lost !== undefined) return;
    this.lost = new UnavailableError(
      `the NATS connection to ${shownServers(this.options.servers)} closed${error instanceof Error ? ` (${error.message})` : ''}; the hosts are out of reach`,
    );
    clearInterval(this.beat);
    this.beat = undefined;
    this.link?.close();
    this.options.onEvent({ kind: 'frame-error', error: this.lost.message });
    for (const h of this.live()) this.hostDied(h, null, 'is out of reach: the NATS connection closed');
  }

  /** What connectionLost set (a method: read after an await, past the narrowing of a check before it). */
  private lostError(): UnavailableError | undefined {
    return this.lost;
  }

  /** Remote hosts push counters every HOST_ALIVE_INTERVAL_MS: one silent for HOST_SILENCE_MS is gone. */
  private checkSilence(): void {
    const now = performance.now();
    const stalled = now - this.lastCheck > HOST_SILENCE_MS / 2;
    this.lastCheck = now;
    for (const h of this.live()) {
      // This process itself was stalled: what the hosts sent meanwhile is not read yet.
      if (stalled) h.lastHeard = now;
      else if (h.child === undefined && h.assigned && now - h.lastHeard > HOST_SILENCE_MS) {
        this.hostDied(h, null, `was not heard from for ${HOST_SILENCE_MS} ms`);
      }
    }
  }

  /**
   * A host process is gone unasked (exited, killed, silent, or out of reach): as the threads
   * transport's hostDied. Calls pending on it fail with HostExitedError (StoppedError once stop()
   * began); it is retired, its nodes are dead for the others, the restartable ones crashed (a
   * new process starts them only at restartNode; the others as it starts, see respawnNow), and
   * a 'host-exit' event names them.
   *
   * Its process may still run (a remote one silent because it stalled, a spawned one whose
   * subject nobody served): it is fenced, as it must not go on acting as the nodes it held. A
   * spawned one is killed (unless it announced it is `leaving`: it exits); a remote one is
   * told to go, and until it does the other hosts drop what it sends (see fence).
   */
  private hostDied(entry: HostEntry, code: number | null, why: string, leaving = false): void {
    const { nodes, message } = failPendingCalls(entry, this.stopped, why);
    if (!entry.alive || this.stopped) return;
    this.retire(entry);
    if (entry.child === undefined) this.fence(entry, why);
    // A no-op for a process that exited (the 'exit' handler calls this too).
    else if (!leaving) entry.child.kill('SIGKILL');
    for (const node of nodes) {
      this.deadNodes.add(node);
      // The others (a cluster's region actor) come back with the host's next process (respawnNow).
      if (this.options.restartable?.has(node) !== false) this.crashedNodes.add(node);
      this.front?.host.setNodeDead(node, true);
      this.broadcast('setNodeDead', node, true);
    }
    this.options.onEvent({ kind: 'host-exit', host: entry.id, nodes, exitCode: code, error: message });
  }

  /**
   * A remote host taken as gone: the launcher's own host drops its frames now, and a NatsGone
   * tells it to exit and every other host to drop its frames too. Published, not asked: a
   * stalled process reads it when it resumes; it is sent again each time that process is heard
   * from (sendGone), in case it was cut off meanwhile. Its host id is assigned to no other
   * process after this (remote plans are handed out at start only).
   */
  private fence(entry: HostEntry, why: string): void {
    this.link?.fence(entry.id);
    const gone: NatsGone = { host: entry.id, uid: entry.uid, reason: why.slice(0, LEAVING_REASON_CHARS_MAX) };
    entry.gone = { message: encodeControl(gone), sentAt: -Infinity };
    this.sendGone(entry, 0);
  }

  /** Publish `entry`'s NatsGone unless sent less than `sinceMs` ago. */
  private sendGone(entry: HostEntry, sinceMs: number): void {
    const now = performance.now();
    if (entry.gone === undefined || this.nc === undefined || now - entry.gone.sentAt < sinceMs) return;
    if (publishIfOpen(this.nc, this.subj.gone, entry.gone.message)) entry.gone.sentAt = now;
  }

  private onHello(hello: NatsHello): void {
    if (this.seenUids.has(hello.uid)) return;
    const waiter = this.awaited.get(hello.uid);
    if (waiter !== undefined) {
      this.awaited.delete(hello.uid);
      waiter(hello);
      return;
    }
    // The first plan waiting that this host has not refused (its --data-dir holds another host's nodes).
    const refused = this.refusedBy.get(hello.uid);
    const at = this.remotePending.findIndex((p) => refused?.has(p.id) !== true);
    if (at < 0) return;
    const [plan] = this.remotePending.splice(at, 1) as [HostPlan];
    this.seenUids.add(hello.uid);
    const entry = this.register(plan, hello.uid, undefined, hello.pid);
    this.assigning++;
    this.assign(entry).then(
      () => {
        this.assigning--;
        // Joined only when no plan waits for a host and no host is still taking its assignment.
        if (this.remotePending.length === 0 && this.assigning === 0 && [...this.hosts.values()].every((h) => h.alive)) this.remoteJoined?.();
        // The plans left are ones the other hosts refused (see the refusal below).
        else if (this.remoteStuck()) this.remoteRefused?.(this.notJoined('at once: every host that joined refused the plans left'));
      },
      (error: unknown) => {
        this.assigning--;
        // That host did not take its assignment: give the plan to the next one that says hello,
        // and that host, at its next hello, a plan it has not refused (two hosts whose folders
        // hold each other's nodes swap).
        this.hosts.delete(plan.id);
        this.remotePending.unshift(plan);
        this.seenUids.delete(hello.uid);
        let refused = this.refusedBy.get(hello.uid);
        if (refused === undefined) this.refusedBy.set(hello.uid, (refused = new Set()));
        refused.add(plan.id);
        this.lastRefusal = (error as Error).message;
        this.options.onEvent({ kind: 'frame-error', error: `host ${hello.uid} refused host ${plan.id}: ${(error as Error).message}` });
        // Every host there is has refused what is left: none will take it (startCluster waited its
        // full 60 s before saying so: an audit, session 60).
        if (this.remoteStuck()) this.remoteRefused?.(this.notJoined('at once: every host that joined refused the plans left'));
      },
    );
  }

  /**
   * As many hosts as plans said hello, and each one without a plan refused every plan still
   * waiting, none being assigned: only another host could take them.
   */
  private remoteStuck(): boolean {
    if (this.assigning > 0 || this.remotePending.length === 0) return false;
    const joined = this.remoteExpected - this.remotePending.length;
    const refusers = [...this.refusedBy].filter(([uid]) => !this.seenUids.has(uid));
    return joined + refusers.length >= this.remoteExpected && refusers.every(([, refused]) => this.remotePending.every((p) => refused.has(p.id)));
  }

  /** The error when not every host joined: `when` (within the wait, or at once and why). */
  private notJoined(when: string): UnavailableError {
    const joined = this.remoteExpected - this.remotePending.length;
    return new UnavailableError(
      `only ${joined} of ${this.remoteExpected} hosts joined NATS cluster ${JSON.stringify(this.options.cluster)} ${when} (start them with: meridian host --nats ${shownServers(this.options.servers.slice(0, 1))} --cluster ${this.options.cluster})${this.lastRefusal === undefined ? '' : `; the last refusal: ${this.lastRefusal}`}`,
    );
  }

  private waitForRemoteHosts(plans: HostPlan[]): Promise<void> {
    // stop() came after connect() and before this wait began: it found no wait to fail, and this
    // one waited the whole of remoteWaitMs (a test of session 67 stopped it right after the first beat).
    if (this.stopped) return Promise.reject(stoppedDuring());
    const waitMs = this.options.remoteWaitMs ?? REMOTE_HOSTS_WAIT_MS;
    this.remotePending.push(...plans);
    this.remoteExpected = plans.length;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(this.notJoined(`within ${waitMs} ms`)), waitMs);
      this.remoteJoined = () => {
        clearTimeout(timer);
        this.remoteRefused = undefined;
        resolve();
      };
      this.remoteRefused = (error) => {
        clearTimeout(timer);
        this.remoteJoined = this.remoteRefused = undefined;
        reject(error);
      };
      if (plans.length === 0) this.remoteJoined();
    });
  }

  private register(plan: HostPlan, uid: string, child: ChildProcess | undefined, pid: number | undefined): HostEntry {
    let markExited!: () => void;
    const entry: HostEntry = {
      id: plan.id,
      plan,
      uid,
      child,
      pid,
      alive: true,
      exited: new Promise<void>((r) => (markExited = r)),
      pending: new Set(),
      lastHeard: performance.now(),
      assigned: false,
      gone: undefined,
    };
    if (child === undefined) markExited();
    else {
      child.once('exit', (code, signal) => {
        // Unasked (killProcess and stop() retire it first): a 'host-exit', as on threads.
        this.hostDied(entry, code, `process ${pid} exited (${signal ?? code})`);
        this.retire(entry);
        markExited();
      });
    }
    this.hosts.set(plan.id, entry);
    return entry;
  }

  private retire(entry: HostEntry): void {
    if (!entry.alive) return;
    entry.alive = false;
    this.gatherer.forget(entry.id);
    const last = this.latestStats.get(entry.id);
    if (last !== undefined) this.retiredStats.add(last);
    this.latestStats.delete(entry.id);
  }

  /**
   * Start a host process for `plan` on this machine and hand it its assignment. None once
   * stop() began (it would outlive the cluster); one that stop() ended fails with StoppedError.
   */
  private async spawnHost(plan: HostPlan): Promise<HostEntry> {
    if (this.stopped) throw stoppedDuring();
    try {
      return await this.spawnHostNow(plan);
    } catch (error) {
      throw this.stopped ? stoppedDuring() : error;
    }
  }

  private async spawnHostNow(plan: HostPlan): Promise<HostEntry> {
    const uid = `h${plan.id}-${randomId().replace(/[^A-Za-z0-9]/g, '')}`;
    const hello = new Promise<NatsHello>((resolve) => this.awaited.set(uid, resolve));
    // Its folder on its command line, not in the assignment: a host takes none from a message.
    const child = spawn(process.execPath, [HOST_ENTRY, '--cluster', this.options.cluster, '--uid', uid, '--data-dir', this.options.dataDir], {
      // stdin is the host's lifeline: it exits when the pipe closes (this process is gone).
      stdio: ['pipe', 'ignore', 'inherit'],
      env: { ...process.env, [NATS_SERVERS_ENV]: this.options.servers.join(',') },
    });
    // Neither the child nor its pipe keeps this process alive; stop() ends them.
    child.unref();
    // A piped stdin is a net.Socket, which can be unref'd.
    if (child.stdin instanceof Socket) child.stdin.unref();
    const entry = this.register(plan, uid, child, child.pid);
    let timer: NodeJS.Timeout | undefined;
    try {
      try {
        await Promise.race([
          hello,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new UnavailableError(`host ${plan.id} process did not join within ${HOST_READY_TIMEOUT_MS} ms`)),
              HOST_READY_TIMEOUT_MS,
            );
          }),
          entry.exited.then(() => {
            throw new UnavailableError(`host ${plan.id} process exited before joining (is NATS reachable from it?)`);
          }),
        ]);
      } finally {
        clearTimeout(timer);
        this.awaited.delete(uid);
      }
      await this.assign(entry);
    } catch (error) {
      await this.abandon(entry);
      throw error;
    }
    return entry;
  }

  /**
   * End the process of `entry`, started for a host that did not join or start (no hello in
   * time, its assignment or its `start` failed or refused), as the threads transport ends such a
   * thread. It was left running until stop(), alive for this runtime, so that a later restart
   * of its nodes asked it (one not assigned serves no control subject: "no responders"; one whose
   * `start` failed could not start them either) instead of starting another (an audit, session 65).
   * Not once stop() began: stop() ends it.
   */
  private async abandon(entry: HostEntry): Promise<void> {
    if (this.stopped || !entry.alive || entry.child === undefined) return;
    this.retire(entry);
    entry.child.kill('SIGKILL');
    await entry.exited;
  }

  private async assign(entry: HostEntry): Promise<void> {
    const assign: NatsAssign = {
      hostId: entry.id,
      seed: this.options.seed,
      directory: [...this.options.directory],
      network: this.network,
      partitions: this.partitions,
      deadNodes: [...this.deadNodes],
      clockSkew: [...this.clockSkew],
      mailboxCapacity: this.options.mailboxCapacity,
      messageBytesMax: this.messageBytesMax,
      fsync: this.options.fsync,
      specs: entry.plan.specs,
      crashed: entry.plan.specs.filter((s) => this.crashedNodes.has(s.node)).map((s) => s.node),
      behaviorsModule: this.options.behaviorsModule,
      statsIntervalMs: STATS_PUSH_INTERVAL_MS,
      launcher: this.generation,
      layout: this.options.layout ?? null,
      replication: this.options.layout === undefined ? null : (this.options.replication ?? null),
    };
    let reply;
    try {
      reply = await this.nc!.request(this.subj.assign(entry.uid), encodeControl(assign), { timeout: CONTROL_TIMEOUT_MS });
    } catch (error) {
      throw new UnavailableError(`host ${entry.id} (${entry.uid}) did not take its assignment: ${(error as Error).message}`);
    }
    const answer = decodeControl<AssignAnswer>(reply.data);
    if (answer.e !== undefined) {
      const refused = new UnavailableError(`host ${entry.id} (${entry.uid}) refused its assignment: ${answer.e}`);
      // The launcher's settings, refused: no other host is asked (see AssignAnswer).
      if ('settings' in answer) this.remoteRefused?.(refused);
      throw refused;
    }
    entry.assigned = true;
    entry.lastHeard = performance.now();
  }

  private live(): HostEntry[] {
    return [...this.hosts.values()].filter((h) => h.alive);
  }

  /**
   * A control request to a host; StoppedError if stop() began before it or while it was
   * unanswered (stop() shut the hosts down and closes the connection: the ControlError would
   * name a host for the stop, as 'no responders').
   */
  private call<M extends NatsControlMethod>(entry: HostEntry, method: M, ...args: Parameters<NatsControlApi[M]>): Promise<ControlResult<M>> {
    return this.callWithin(CONTROL_TIMEOUT_MS, entry, method, ...args);
  }

  /**
   * As call, the answer awaited `timeoutMs` at most. A host whose new process is being started
   * (a restart's respawn) serves no control subject until it has its assignment: a call to it
   * waits until that start is over (within the same `timeoutMs`), then goes to it, as on threads
   * a call to a new worker waits on its admin port until the worker runs. Sent at once, it found
   * no responders: a partition, heal, setNetwork or a node's death or restart broadcast then was
   * lost for that process, which kept what its assignment said (a heal() resolved and the
   * restarted server stayed cut off for good), and inspect() or ping() rejected with 'no
   * responders' (an audit of overlapping control calls, session 69).
   */
  private async callWithin<M extends NatsControlMethod>(
    timeoutMs: number,
    entry: HostEntry,
    method: M,
    ...args: Parameters<NatsControlApi[M]>
  ): Promise<ControlResult<M>> {
    if (this.stopped) throw stoppedDuring();
    if (this.lost !== undefined) throw this.lost;
    if (!entry.alive) throw new HostExitedError(entry.id, `host ${entry.id} is dead`);
    const starting = entry.assigned ? undefined : this.respawning.get(entry.id);
    if (starting !== undefined) {
      const began = performance.now();
      await this.startOver(starting, timeoutMs, entry, method);
      timeoutMs -= performance.now() - began;
      if (this.stopped) throw stoppedDuring();
      // Its start failed (the process is ended): as any dead host.
      if (!entry.alive) throw new HostExitedError(entry.id, `host ${entry.id} is dead (its new process did not start)`);
      if (timeoutMs < 1) throw this.startLate(entry, method);
    }
    let reject!: (error: Error) => void;
    const died = new Promise<never>((_, r) => (reject = r));
    entry.pending.add(reject);
    try {
      return await Promise.race([callHost(this.nc!, this.subj, entry.id, method, args, timeoutMs), died]);
    } catch (error) {
      if (this.stopped) throw stoppedDuring();
      // In flight when the connection closed: it may have been carried out (indefinite, as a
      // host's death makes it); only a call made after that is refused as not begun (above).
      if (error instanceof HostExitedError) throw error;
      const lost = this.lostError();
      if (lost !== undefined) throw new HostExitedError(entry.id, `${lost.message}; the call may or may not have taken effect`);
      // Nobody serves its subject: the process is gone (a remote one is seen no other way so soon).
      // Not before its assignment: until then it serves nothing (a broadcast to a host being
      // started again found no responders, and declared the new process dead).
      if (error instanceof ControlError && error.noResponders && entry.assigned && this.hosts.get(entry.id) === entry && entry.alive) {
        this.hostDied(entry, null, `is gone (nothing answers on its subject)`);
        throw new HostExitedError(entry.id, `host ${entry.id} is gone: ${error.message}`);
      }
      throw error;
    } finally {
      entry.pending.delete(reject);
    }
  }

  /** Resolves once `starting` (a respawn of `entry`'s host) settled, or rejects with startLate once `ms` passed first. */
  private async startOver(starting: Promise<void>, ms: number, entry: HostEntry, method: NatsControlMethod): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
    try {
      const over = starting.then(
        () => 'over' as const,
        () => 'over' as const,
      );
      if ((await Promise.race([over, late])) === 'late') throw this.startLate(entry, method);
    } finally {
      clearTimeout(timer);
    }
  }

  /** What a call to a host whose new process is still starting rejects with once its time is up (nothing was sent). */
  private startLate(entry: HostEntry, method: NatsControlMethod): TimeoutError {
    return new TimeoutError(`host ${entry.id} did not answer ${method}: its new process was still starting`);
  }

  /** The host of `node` once no restart of that host's process is under way, for a crash, restart or pause: StoppedError after stop(). */
  private async settledHostOfNode(node: string): Promise<HostEntry> {
    if (this.stopped) throw new StoppedError('the cluster is stopped', true);
    const found = this.hostOfNode(node);
    if (found === undefined) throw new UnavailableError(`no host runs node ${node}`);
    // A host process being started again answers nothing until it has its assignment.
    await this.respawning.get(found.id)?.catch(() => undefined);
    if (this.stopped) throw stoppedDuring();
    return this.hosts.get(found.id)!;
  }

  /** Tell every live host process something, not waiting for the answers (callers set the front host themselves). */
  private broadcast<M extends NatsControlMethod>(method: M, ...args: Parameters<NatsControlApi[M]>): void {
    for (const h of this.live()) void this.tell(h, method, ...args);
  }

  /**
   * Call `method` of host `h`; if it does not answer while it lives, send what is in force then
   * (inForce) again in the background, until it answers or is gone (resendInForce). A lost
   * request (the host's NATS connection bounced; core NATS is at most once) was forgotten: the
   * host kept the setting before for good, a partition after heal() (every message across it
   * dropped) or a restarted node held dead (test/lost-control.part.ts). Resolves after the first
   * try, as the callers awaited before, so a stalled host (SIGSTOP) holds none of them up; never
   * rejects. Other methods, and other errors, are not sent again.
   */
  private async tell<M extends NatsControlMethod>(h: HostEntry, method: M, ...args: Parameters<NatsControlApi[M]>): Promise<void> {
    await this.tellWithin(CONTROL_TIMEOUT_MS, h, method, ...args).catch(() => undefined);
  }

  /**
   * As tell, the answer awaited `ms` at most, and rejecting with the TimeoutError when `h` did
   * not answer in time and still runs as that host (what is in force is then sent again, as by
   * tell), with the StoppedError when stop() came first (not a host's death: see cutByStop), and
   * with the UnavailableError or HostExitedError of a NATS connection closed for good before or
   * while it was asked (a host out of reach is not a host gone); any other failure resolves, as
   * tell's.
   */
  private async tellWithin<M extends NatsControlMethod>(ms: number, h: HostEntry, method: M, ...args: Parameters<NatsControlApi[M]>): Promise<void> {
    try {
      await this.callWithin(ms, h, method, ...args);
    } catch (error) {
      // stop() ended the hosts or the connection before `h` answered: nothing says it applied the setting.
      if (cutByStop(error)) throw error;
      if (this.lostError() !== undefined) throw error;
      if (!this.mayResend(h, error)) return;
      this.resendInForce(h, method, args);
      throw error;
    }
  }

  /** Whether a setting `h` did not answer (`error`) is worth sending again: it timed out, and `h` still runs as that host. */
  private mayResend(h: HostEntry, error: unknown): boolean {
    return error instanceof TimeoutError && !this.stopped && h.alive && this.hosts.get(h.id) === h;
  }

  /** Settings being sent again, per host, by method and node (one loop each: the loop reads what is in force at each try). */
  private readonly resending = new Map<HostEntry, Set<string>>();

  private resendInForce<M extends NatsControlMethod>(h: HostEntry, method: M, args: Parameters<NatsControlApi[M]>): void {
    const key = `${method} ${String(args[0])}`;
    let keys = this.resending.get(h);
    if (keys?.has(key) === true || this.inForce(method, args) === undefined) return;
    if (keys === undefined) this.resending.set(h, (keys = new Set()));
    keys.add(key);
    void (async () => {
      try {
        for (;;) {
          const now = this.inForce(method, args);
          if (now === undefined) return;
          try {
            await this.call(h, method, ...now);
            return;
          } catch (error) {
            if (!this.mayResend(h, error)) return;
          }
        }
      } finally {
        keys.delete(key);
        if (keys.size === 0) this.resending.delete(h);
      }
    })();
  }

  /** The arguments that set what is in force now, for a method that sets part of it (as `args` did), else undefined. */
  private inForce<M extends NatsControlMethod>(method: M, args: Parameters<NatsControlApi[M]>): Parameters<NatsControlApi[M]> | undefined {
    const node = args[0] as string;
    switch (method) {
      case 'setNetwork':
        return [this.network] as Parameters<NatsControlApi[M]>;
      case 'setPartitions':
        return [this.partitions] as Parameters<NatsControlApi[M]>;
      case 'setNodeDead':
        return [node, this.deadNodes.has(node)] as Parameters<NatsControlApi[M]>;
      case 'setClockSkew':
        return [node, this.clockSkew.get(node) ?? 0] as Parameters<NatsControlApi[M]>;
      default:
        return undefined;
    }
  }

  /**
   * As broadcast, resolving once every live host answered (a host that is gone is left out: one
   * that comes back is handed what is in force). Not awaited, a change still reached the hosts,
   * a moment later: a message sent meanwhile met the old network there (an audit, session 59: a
   * put right after heal() was dropped as partitioned, and timed out). A host that does not
   * answer within controlAnswerMs (stalled) rejects it with a TimeoutError naming `op` and the
   * host (controlLate, as on threads); what is in force is sent to it again until it answers
   * (resendInForce). Before (session 67) that host was left out silently after
   * CONTROL_TIMEOUT_MS, and the change resolved as if every host had it. A stop() that came
   * before a host answered rejects it with StoppedError, as on threads (it resolved: session 68).
   * Once the NATS connection closed for good every host was retired: the change reached none and
   * rejects with that UnavailableError, as ping() and the calls to one host do; one in flight
   * then rejects with the HostExitedError of the connection's loss (it may or may not have taken
   * effect). Both resolved, waiting on no host (noticed, session 69).
   */
  private async broadcastAndWait<M extends 'setNetwork' | 'setPartitions'>(op: M, ...args: Parameters<NatsControlApi[M]>): Promise<void> {
    if (this.lost !== undefined) throw this.lost;
    const ms = this.controlAnswerMs;
    // The request's own timeout bounds the wait (callHost), so answerWithin is not needed here.
    await Promise.all(
      this.live().map((h) =>
        this.tellWithin(ms, h, op, ...args).catch((error: unknown) => {
          // Only a stop() or the lost connection (tellWithin) rejects but for a host late to answer.
          throw cutByStop(error) || error instanceof HostExitedError || error instanceof UnavailableError ? error : controlLate(op, undefined, h, ms);
        }),
      ),
    );
  }

  /**
   * How long a setNetwork or setPartitions, and a crash, restart or pause on the node's own host,
   * wait for each host's answer (as on threads); @internal a test lowers it.
   */
  controlAnswerMs = CONTROL_TIMEOUT_MS;

  /**
   * A control request of a crash, restart or pause (`op`) of `node` to its host, the answer
   * awaited controlAnswerMs at most, then a TimeoutError naming the operation, the node and the
   * host (controlLate), as on threads. Before (session 67) it rejected with callHost's own words
   * ('host 1 did not answer pauseNode ...'), which named neither the operation nor the node.
   */
  private async control<M extends 'setNodeDead' | 'crashNode' | 'pauseNode' | 'restartNode'>(
    op: LifecycleOp,
    node: string,
    entry: HostEntry,
    method: M,
    ...args: Parameters<NatsControlApi[M]>
  ): Promise<void> {
    const ms = this.controlAnswerMs;
    try {
      await this.callWithin(ms, entry, method, ...args);
    } catch (error) {
      throw error instanceof TimeoutError ? controlLate(op, node, entry, ms) : error;
    }
  }

  now(): number {
    return this.host.env.now();
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    return this.timers.set(delayMs, fn);
  }

  /**
   * Rejects with StoppedError at stop() (pending) or at once (after it), as on threads: a sleep
   * called after stop() waited its full time, its timer holding the process (an audit, session 65).
   */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.reject(new StoppedError('the cluster is stopped', true));
    return this.timers.sleep(ms);
  }

  private hostOfNode(node: string): HostEntry | undefined {
    for (const h of this.hosts.values()) if (h.plan.specs.some((s) => s.node === node)) return h;
    return undefined;
  }

  /** The host processes' ids and pids (spawned ones), for tests and tools. */
  processes(): Array<{ host: number; pid: number | undefined; alive: boolean; nodes: string[] }> {
    return [...this.hosts.values()].map((h) => ({ host: h.id, pid: h.pid, alive: h.alive, nodes: [...new Set(h.plan.specs.map((s) => s.node))] }));
  }

  /**
   * Kill host process `hostId` (SIGKILL) without telling anyone: its actors vanish with what
   * they had in flight, as in a machine's crash. Peers notice by silence (heartbeats).
   */
  async killProcess(hostId: number): Promise<void> {
    const entry = this.hosts.get(hostId);
    if (entry?.child === undefined) throw new Error(`host ${hostId} is not a process this launcher spawned`);
    if (!entry.alive) return;
    this.retire(entry);
    entry.child.kill('SIGKILL');
    await entry.exited;
  }

  /** Start a killed host process again: its actors recover from their durable logs. */
  async restartProcess(hostId: number): Promise<void> {
    const entry = this.hosts.get(hostId);
    if (entry?.child === undefined) throw new Error(`host ${hostId} is not a process this launcher spawned`);
    if (entry.alive) return;
    await this.respawn(entry);
  }

  private readonly respawning = new Map<number, Promise<void>>();
  /** Remote hosts whose assignment is sent and not yet answered. */
  private assigning = 0;
  /** How many remote hosts startCluster waits for. */
  private remoteExpected = 0;

  /** One new process for a dead host, however many callers ask for it at once. */
  private respawn(entry: HostEntry): Promise<void> {
    let pending = this.respawning.get(entry.id);
    if (pending === undefined) {
      pending = this.respawnNow(entry).finally(() => this.respawning.delete(entry.id));
      this.respawning.set(entry.id, pending);
    }
    return pending;
  }

  private async respawnNow(entry: HostEntry): Promise<void> {
    // Its nodes the caller does not restart (not crashed, dead with the old process) start with
    // it: they are alive for it from its assignment on, and for the others once it runs them.
    const revived = [...new Set(entry.plan.specs.map((s) => s.node))].filter((n) => this.deadNodes.has(n) && !this.crashedNodes.has(n));
    for (const node of revived) this.deadNodes.delete(node);
    let fresh: HostEntry | undefined;
    try {
      fresh = await this.spawnHost(entry.plan);
      await this.call(fresh, 'start');
      // Credit for frames the old process never read will not come back.
      this.link!.reset(fresh.id);
      this.broadcast('resetPeer', fresh.id);
    } catch (error) {
      for (const node of revived) this.deadNodes.add(node);
      // Joined but its actors did not start: no half-started process is left (see abandon).
      if (fresh !== undefined) await this.abandon(fresh);
      throw error;
    }
    for (const node of revived) {
      this.front!.host.setNodeDead(node, false);
      this.broadcast('setNodeDead', node, false);
    }
  }

  /**
   * Crash `node`: the others are told it is dead, then its process is killed (it runs nothing
   * else) or its actors dropped. Only a respawn of its host under way is waited for; a restart
   * or pause of the same node must not overlap this (see Runtime.crashNode).
   *
   * In flight when stop() begins: it completes, or rejects with StoppedError (never with an
   * error naming a host that stop() shut down); after stop(), rejects with StoppedError at
   * once. The same holds for restartNode (which starts no process once stop() began) and
   * pauseNode.
   */
  async crashNode(node: string): Promise<void> {
    const entry = await this.settledHostOfNode(node);
    this.crashedNodes.add(node);
    this.deadNodes.add(node);
    this.front!.host.setNodeDead(node, true);
    const others = this.live().filter((h) => h !== entry);
    await Promise.all(others.map((h) => this.tell(h, 'setNodeDead', node, true)));
    if (!entry.alive) return;
    if (entry.plan.dedicated && entry.child !== undefined) {
      // The process holds nothing else: it is killed with whatever it had in flight.
      await this.killProcess(entry.id);
    } else {
      await this.control('crash', node, entry, 'setNodeDead', node, true);
      await this.control('crash', node, entry, 'crashNode', node);
    }
  }

  /** Pause or resume `node`'s actors. At stop(), as crashNode. */
  async pauseNode(node: string, paused: boolean): Promise<void> {
    const entry = await this.settledHostOfNode(node);
    // The process goes on (its control plane answers); the node's actors run nothing.
    if (entry.alive) await this.control(paused ? 'pause' : 'resume', node, entry, 'pauseNode', node, paused);
  }

  /**
   * Start crashed `node` again (a new process if its own was killed). At stop(), as crashNode.
   * A process that ends before this settles leaves the node down, as its end marked it
   * (endedWhileRestarting, as on threads).
   */
  async restartNode(node: string): Promise<void> {
    const entry = await this.settledHostOfNode(node);
    // Out of crashedNodes, so that a new process for its host starts it (respawnNow, assign).
    this.crashedNodes.delete(node);
    try {
      if (entry.alive) await this.control('restart', node, entry, 'restartNode', node);
      else if (entry.child !== undefined) await this.respawn(this.hosts.get(entry.id)!);
      else throw new UnavailableError(`host ${entry.id} (started elsewhere) is gone; it cannot be restarted from here`);
    } catch (error) {
      // Not restarted: crashed as before, or the next process for its host, started by a restart
      // of another of its nodes, ran it as a node the crash never took (respawnNow's revived)
      // while the Cluster held it down (a scratch run, session 69: a failed start of r1/0's
      // process, then r1/1's restart ran r1/0 too, isDown('r1/0') true). On threads it stays down.
      this.crashedNodes.add(node);
      throw error;
    }
    // The process now running the node (a new one after a respawn).
    const host = this.hosts.get(entry.id)!;
    if (!host.alive) throw endedWhileRestarting(node, host);
    this.deadNodes.delete(node);
    this.front!.host.setNodeDead(node, false);
    await Promise.all(this.live().map((h) => this.tell(h, 'setNodeDead', node, false)));
    // Ended while the others were told: hostDied marked the node dead after this marked it alive.
    if (!host.alive) throw endedWhileRestarting(node, host);
  }

  setNetwork(config: NetworkConfig): Promise<void> {
    this.network = config;
    this.front!.host.setNetwork(config);
    return this.broadcastAndWait('setNetwork', config);
  }

  setPartitions(rules: PartitionRule[]): Promise<void> {
    this.partitions = rules;
    this.front!.host.setPartitions(rules);
    return this.broadcastAndWait('setPartitions', rules);
  }

  setClockSkew(node: string, ms: number): void {
    if (ms === 0) this.clockSkew.delete(node);
    else this.clockSkew.set(node, ms);
    this.front!.host.setClockSkew(node, ms);
    this.broadcast('setClockSkew', node, ms);
  }

  stats(): StatsSnapshot {
    const own = this.front === undefined ? [] : [snapshot(this.front.host.stats)];
    return mergeSnapshots([...this.retiredStats.snapshots(), ...this.latestStats.values(), ...own]);
  }

  /**
   * Every live worker's counters asked for now. A metrics read must answer while a host stalls
   * or dies (a scrape failed after 10 s, as long as one host was SIGSTOPped: an audit, session
   * 61): a host that does not answer within STATS_ANSWER_MS, or fails, counts with the counters
   * it last pushed, as in stats() (one that died meanwhile, or is no longer live after stop(),
   * with its last ones too), and a 'warn' says so. Only stop() fails it (StoppedError).
   */
  async collectStats(): Promise<StatsSnapshot> {
    await Promise.all(
      this.live().map(async (h) => {
        const stats = await this.gatherer.gather(h, 'stats', () => this.callWithin(STATS_ANSWER_MS, h, 'stats'));
        // A host that ended meanwhile was retired with its last counters.
        if (stats !== undefined && h.alive) this.latestStats.set(h.id, stats);
      }),
    );
    return this.stats();
  }

  /** Leaves out of a metrics read a host that does not answer it (see collectStats). */
  private readonly gatherer = new AnswerGatherer(
    (event) => this.options.onEvent(event),
    () => this.stopped,
  );

  async summary(address: string): Promise<ActorSummary | null> {
    const local = this.host.cell(address);
    if (local !== undefined) return local.summary();
    const entry = this.live().find((h) => h.plan.specs.some((s) => s.address === address));
    if (entry === undefined) return null;
    try {
      return await this.callWithin(this.inspectAnswerMs, entry, 'summary', address);
    } catch (error) {
      // Its process ended while asked (a crash of its dedicated node, or on its own): the actor
      // does not run, as for one asked after (null), as on threads. It rejected with a
      // HostExitedError; one for a lost NATS connection (the host may live) still rejects.
      if (error instanceof HostExitedError && !entry.alive) return null;
      throw error instanceof TimeoutError ? inspectLate(address, entry, this.inspectAnswerMs) : error;
    }
  }

  /** How long inspect() waits for the actor's host; @internal a test lowers it. */
  inspectAnswerMs = CONTROL_TIMEOUT_MS;

  ping(): Promise<HostPing[]> {
    // No host is reachable: not an empty list, as if there were none.
    if (this.lost !== undefined) return Promise.reject(this.lost);
    return pingEvery(this.live(), (h) => this.callWithin(STATS_ANSWER_MS, h, 'ping'));
  }

  async injectFrame(hostId: number, bytes: Uint8Array): Promise<void> {
    if (hostId === 0) {
      this.host.receiveFrame(bytes);
      return;
    }
    const entry = this.hosts.get(hostId);
    if (entry === undefined || !entry.alive) throw new UnavailableError(`no live host ${hostId}`);
    await this.call(entry, 'injectFrame', bytes);
  }

  hostCount(): number {
    return this.live().length + 1;
  }

  /**
   * Shut every host down (SIGKILL for a spawned one that does not exit in time), then disconnect.
   * Every call returns the same promise, settled once all of it is done (a second call resolved
   * at once, the host processes still running and the folder still locked: see ThreadsRuntime.stop).
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private stopping: Promise<void> | undefined;

  private async stopNow(): Promise<void> {
    this.stopped = true;
    this.timers.clear(new StoppedError('the cluster stopped before the sleep ended'));
    if (this.beat !== undefined) clearInterval(this.beat);
    // A start still waiting for hosts started elsewhere fails now: it waited on, and its timer
    // held the process, for the rest of remoteWaitMs (60 s by default: an audit, session 65).
    const waiting = this.remoteRefused;
    this.remoteJoined = this.remoteRefused = undefined;
    waiting?.(stoppedDuring());
    const all = [...this.hosts.values()];
    if (this.nc !== undefined && !this.nc.isClosed()) {
      // Once more to a host taken as gone and maybe still running (it exits at the beat's silence too).
      for (const h of all) this.sendGone(h, 0);
      await Promise.all(all.filter((h) => h.alive).map((h) => callHost(this.nc!, this.subj, h.id, 'shutdown', [], HOST_EXIT_WAIT_MS).catch(() => undefined)));
    }
    await Promise.all(
      all.map(async (h) => {
        if (h.child === undefined) return;
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), HOST_EXIT_WAIT_MS)));
        if ((await Promise.race([h.exited, late])) === 'late') {
          h.child.kill('SIGKILL');
          await h.exited;
        }
        clearTimeout(timer);
        h.child.stdin?.destroy();
      }),
    );
    for (const h of all) this.retire(h);
    this.front?.close();
    this.link?.close();
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
    if (this.nc !== undefined) {
      await this.nc.flush().catch(() => undefined);
      await this.nc.close().catch(() => undefined);
    }
    this.durable.close();
    // After the spawned hosts exited: they write the same folder under this lock.
    this.options.releaseDataDir?.();
    this.untrack?.();
    if (this.options.removeDataDir) removeTempDir(this.options.dataDir);
  }
}
