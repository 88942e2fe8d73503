import type { MessagePort, TransferListItem, Worker } from 'node:worker_threads';
import type { ActorSpec } from '../actor.js';
import type { AdminApi } from '../admin.js';
import type { HostEvent } from '../env.js';
import type { ClusterLayout, ReplicationRecord } from '../layout.js';
import type { DirectoryEntry } from '../host.js';
import type { StatsSnapshot } from '../stats.js';
import type { NetworkConfig, PartitionRule } from '../../net/model.js';

/**
 * Every message between the calling thread (or launcher process) and the hosts it runs, on
 * the control side. The data plane (frames of encoded envelopes between hosts) is not here:
 * it is bytes, see core/codec.ts. Worker hosts also answer control calls over comlink
 * (AdminApi in ../admin.ts).
 *
 * Threads transport (threads.ts ↔ workers/host.ts):
 *   worker.postMessage → parentPort   ToWorker    (peer ports, then `start`)
 *   parentPort → worker 'message'     FromWorker  (ready, started, event, stats, fatal)
 *   new Worker(…, { workerData })     HostWorkerData
 *
 * NATS transport (nats.ts ↔ nats-host.ts, over NATS subjects; see nats-wire.ts):
 *   .hello            NatsHello
 *   .assign.<uid>     NatsAssign → AssignAnswer
 *   .c.<host>         NatsControlRequest → ControlAnswer<result> (methods of NatsControlApi)
 *   .ev, .st          NatsHostEvent, NatsHostStats
 *   .bye              NatsLeaving
 */

// ---- threads -------------------------------------------------------------------------------

/** What a host worker thread is started with (its `workerData`). */
export interface HostWorkerData {
  hostId: number;
  seed: number;
  directory: Array<[string, DirectoryEntry]>;
  network: NetworkConfig;
  mailboxCapacity: number;
  messageBytesMax: number;
  dataDir: string;
  fsync: boolean;
  specs: ActorSpec[];
  /** Nodes of `specs` down when the thread starts (a new thread for a dead host): spawned only when restartNode names them. */
  crashed: string[];
  /** Module URL that exports `behaviors` or `loadBehaviors` (see behaviors-module.ts). */
  behaviorsModule: string;
  /** The worker's end of its comlink control channel (AdminApi); transferred. */
  adminPort: MessagePort;
  statsIntervalMs: number;
  /** A V8 code cache of the bundle the entry compiles (workers/cluster-host-loader.cts), if the calling thread found one made from it. */
  codeCache?: string | undefined;
}

/** From the calling thread to a host worker. */
export type ToWorker =
  /** A direct channel to host `peer` (transferred); may come before or after `start`. */
  | { type: 'peer'; peer: number; port: MessagePort }
  /** Spawn the actors of the plan; answered by `started`. */
  | { type: 'start' };

/** An error as it crosses a thread or process boundary. */
export interface WireError {
  name: string;
  message: string;
  stack?: string | undefined;
}

/** From a host worker to the calling thread. */
export type FromWorker =
  /** The host is built: `start` may follow (boot sends the peers before it, a restart after). */
  | { type: 'ready'; host: number }
  /** Its actors are spawned. */
  | { type: 'started'; host: number }
  | { type: 'event'; host: number; event: HostEvent }
  /** Its counters, pushed now and then (so stats() needs no round trip). */
  | { type: 'stats'; host: number; stats: StatsSnapshot }
  /** It could not start (the behaviours module did not load, ...). */
  | { type: 'fatal'; host: number; error: WireError };

export function postToWorker(worker: Worker, message: ToWorker, transfer?: readonly TransferListItem[]): void {
  worker.postMessage(message, transfer);
}

export function postToParent(port: MessagePort, message: FromWorker): void {
  port.postMessage(message);
}

// ---- NATS ----------------------------------------------------------------------------------

/** A host process without an id announces itself. */
export interface NatsHello {
  uid: string;
  pid: number;
  hostname: string;
}

/** What the launcher tells a host when it takes it into the cluster. */
export interface NatsAssign {
  hostId: number;
  seed: number;
  directory: Array<[string, DirectoryEntry]>;
  network: NetworkConfig;
  partitions: PartitionRule[];
  deadNodes: string[];
  clockSkew: Array<[string, number]>;
  mailboxCapacity: number;
  messageBytesMax: number;
  /*
   * No data directory: a host keeps its logs where it was started to (`meridian host
   * --data-dir`, a spawned host's --data-dir, or a temporary folder). An assignment naming one
   * made any client of the NATS server able to have a host write anywhere (audit, session 56).
   */
  fsync: boolean;
  specs: ActorSpec[];
  /** Nodes of this host not to start (crashed while the host was down). */
  crashed: string[];
  /** A `file:` URL (checkAssign refuses any other: the host imports it). */
  behaviorsModule: string;
  statsIntervalMs: number;
  /**
   * The launcher's generation: an id of its own, drawn at its start, that its beat carries. A
   * host that hears a beat of another generation stops at once: a new launcher runs under the
   * cluster's name and hands out the same host ids (see runNatsHost).
   */
  launcher: string;
  /** What decides where the cluster's data lives (a host's data directory records it); null from a launcher that has none (bench's pair). */
  layout: ClusterLayout | null;
  /**
   * The cluster's replication mode and factor, which decide each shard's Paxos group with the
   * layout (a host's data directory records them, and refuses a change of some shard's group);
   * null with no layout.
   */
  replication: ReplicationRecord | null;
}

/**
 * A host's answer to its assignment: taken, or refused, why; `settings` when what it refuses is
 * the launcher's settings, which no host on that folder takes (the replication mode and factor
 * its data was written with changed): the launcher fails at once rather than offer the plan to
 * another host.
 */
export type AssignAnswer = ControlAnswer<true> | { e: string; v?: undefined; settings: true };

/**
 * A host on its way out unasked (`meridian host` interrupted: SIGINT, SIGTERM, SIGHUP) tells
 * its launcher, which takes it as gone at once (a 'host-exit') rather than after
 * HOST_SILENCE_MS of silence. `uid` is the one it said hello with: the launcher believes only
 * the process it assigned that host id.
 */
export interface NatsLeaving {
  host: number;
  uid: string;
  reason: string;
}

/** The answer to an assignment or a control request: a value, or why it failed. */
export type ControlAnswer<T> = { v: T; e?: undefined } | { e: string; v?: undefined };

/**
 * The control requests a NATS host serves, by method name: what a worker thread's admin port
 * serves (but the port plumbing, `connect` and `disconnect`), and the NATS host's own.
 */
export type NatsControlApi = Omit<AdminApi, 'connect' | 'disconnect'> & {
  /** Spawn the plan's actors (but those crashed); answers how many run. */
  start(): number;
  /** Host `peer` restarted: forget the credit owed for frames it never read. */
  resetPeer(peer: number): void;
  /** Stop soon (after answering). */
  shutdown(): boolean;
};

export type NatsControlMethod = keyof NatsControlApi;

/** A control request: method `m` with arguments `a`. */
export interface NatsControlRequest<M extends NatsControlMethod = NatsControlMethod> {
  m: M;
  a: Parameters<NatsControlApi[M]>;
}

/** A host event, published on `.ev`; `uid` as NatsHostStats's (the launcher takes only its assigned process's). */
export interface NatsHostEvent {
  host: number;
  uid: string;
  event: HostEvent;
}

/**
 * A host's counters, published on `.st` now and then. `uid` is the one it said hello with: the
 * launcher counts only those of the process it assigned that host id (an old launcher's host of
 * the same id, not yet stopped by the new beat, is another process: session 67).
 */
export interface NatsHostStats {
  host: number;
  uid: string;
  stats: StatsSnapshot;
}
