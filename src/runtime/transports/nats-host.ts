import { performance } from 'node:perf_hooks';
import { hostname } from 'node:os';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Behavior } from '../actor.js';
import { FileDurableStore } from '../durable-file.js';
import type { HostEvent } from '../env.js';
import { snapshot } from '../stats.js';
import { importBehaviors } from './behaviors-module.js';
import { checkAssign, controlRequestCheck } from './nats-assign.js';
import { ThreadHost } from './thread-host.js';
import {
  NATS_FRAME_BYTES_FLUSH,
  BEAT_SILENCE_MS,
  LEAVING_REASON_CHARS_MAX,
  HELLO_INTERVAL_MS,
  HOST_ALIVE_INTERVAL_MS,
  NatsLink,
  connectNats,
  decodeChecked,
  decodeControl,
  encodeControl,
  frameBytesMax,
  isNatsGone,
  publishIfOpen,
  serveControl,
  clusterSubjects,
  subjects,
  type Subjects,
} from './nats-wire.js';
import type { AssignAnswer, NatsAssign, NatsControlApi, NatsHello, NatsHostEvent, NatsHostStats, NatsLeaving } from './worker-protocol.js';

export interface NatsHostOptions {
  servers: string[];
  cluster: string;
  /** This host's name in `hello`; the launcher assigns spawned hosts by it. */
  uid: string;
  /** Used when the launcher's behaviours module cannot be imported here (another machine). */
  fallbackBehaviorsModule: string;
  /** Where this host keeps its logs (its caller makes and removes a temporary one). Never the assignment's to say. */
  dataDir: string;
  /**
   * Called with a checked assignment before the host acts on it; what it throws refuses the
   * assignment, its message the reply (`meridian host` checks its data directory's record); a
   * SettingsRefusedError says the launcher's settings are refused (see AssignAnswer). What it
   * returns is called when the launcher starts the actors, before they spawn (`meridian host`
   * records the assignment in its data directory then: one whose start never came stored
   * nothing); what that throws fails the start.
   */
  accept?: (a: NatsAssign) => (() => void) | void;
  /** Exit when the launcher's beat goes silent (hosts started with `meridian host`). */
  watchBeat: boolean;
  log?: (line: string) => void;
}

/**
 * What `accept` throws to refuse the launcher's settings rather than this host's part of them
 * (its data directory was written with another replication mode and factor): the launcher
 * fails at once, as another host would not make them right.
 */
export class SettingsRefusedError extends Error {
  override name = 'SettingsRefusedError';
}

/** The reason `done` gives when the launcher shut the host down. */
export const SHUT_DOWN_BY_LAUNCHER = 'shut down by the launcher';
/** The start of the reason a host stops for when its launcher took it as gone (NatsGone). */
export const TAKEN_AS_GONE = 'the launcher took this host as gone';
/**
 * The start of the reason a host stops for when a launcher other than its own beats under the
 * cluster's name (see NatsAssign.launcher): exit 1, so that a supervisor starts it again for
 * the new launcher.
 */
export const ANOTHER_LAUNCHER = 'another launcher started under the cluster name';
/** The reason a spawned host stops for when its launcher is gone (its stdin closed: workers/nats-host.ts). */
export const LAUNCHER_GONE = 'the launcher is gone (stdin closed)';

/**
 * The exit status of a host process that stopped for `reason` (`done`'s): 0 when asked to end
 * (by its launcher, interrupted, or a spawned host's launcher gone); 1 when its NATS connection
 * was lost, its launcher went silent or took it as gone (TAKEN_AS_GONE), another launcher
 * started under the cluster's name (ANOTHER_LAUNCHER), or its log's last
 * write failed (FINAL_WRITE_FAILED), so that a supervisor that restarts a failed host
 * restarts it, and a launcher's 'host-exit' says it failed (a spawned host exited 0 always:
 * audit, session 60).
 */
export function hostExitStatus(reason: string): 0 | 1 {
  return reason === SHUT_DOWN_BY_LAUNCHER || reason === LAUNCHER_GONE || reason.startsWith('interrupted') ? 0 : 1;
}

/** The start of the reason a host stops for when its log's last write failed as it stopped (see closeStoreAtStop). */
export const FINAL_WRITE_FAILED = 'the final log write failed';

/**
 * Close `durable` (its last write) as a host stops for `reason`: the reason `done` gives. If
 * the write fails, a line of `log` says so and the reason starts with FINAL_WRITE_FAILED (exit
 * status 1: its log may lack what its actors wrote last). Thrown, it rejected stop(), whose
 * callers ignore its promise: the process ended on an unhandled rejection instead of its
 * "exiting" line and status (a class audit, session 67: test/noticed.part.ts).
 */
export function closeStoreAtStop(durable: Pick<FileDurableStore, 'close'> | undefined, reason: string, log: (line: string) => void): string {
  try {
    durable?.close();
    return reason;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    log(`${FINAL_WRITE_FAILED} as it stopped (${reason}): ${why}`);
    return `${FINAL_WRITE_FAILED} (${why}) as it stopped (${reason})`;
  }
}

export interface NatsHostHandle {
  /** Settles when the host has shut down (by request, lost connection, silent launcher or stop()). */
  done: Promise<string>;
  stop(reason: string): Promise<void>;
}

/**
 * A host process of the NATS transport: connect, announce itself until a launcher assigns it
 * an id and actors, then run them (a ThreadHost whose frames travel over NATS) and answer
 * control requests, until told to shut down or cut off.
 */
export async function runNatsHost(options: NatsHostOptions): Promise<NatsHostHandle> {
  const log = options.log ?? (() => undefined);
  const cluster = clusterSubjects(options.cluster);
  /** The launcher generation's subjects, once assigned (subjects()). */
  let subj: Subjects | undefined;
  const nc: NatsConnection = await connectNats(options.servers, `meridian-host-${options.uid}`);
  const subs: Subscription[] = [];
  const timers: NodeJS.Timeout[] = [];
  let th: ThreadHost | undefined;
  let link: NatsLink | undefined;
  let durable: FileDurableStore | undefined;
  /** The generation of the launcher that assigned this host (NatsAssign.launcher). */
  let launcher = '';
  let lastBeat = performance.now();
  /** Hosts the launcher took as gone (NatsGone), kept for a link made after the news. */
  const fenced = new Set<number>();
  /** An assignment is being taken (its module imported). */
  let taking = false;
  let finished = false;
  /** Why stop() was called (its first call). */
  let stoppedFor = '';
  let resolveDone!: (reason: string) => void;
  const done = new Promise<string>((resolve) => (resolveDone = resolve));

  const stop = async (reason: string): Promise<void> => {
    if (finished) return;
    finished = true;
    stoppedFor = reason;
    log(`host ${options.uid}: stopping (${reason})`);
    // Leaving unasked (interrupted): the launcher hears it now, not after HOST_SILENCE_MS of silence.
    if (th !== undefined && subj !== undefined && reason !== SHUT_DOWN_BY_LAUNCHER) {
      const message: NatsLeaving = { host: th.host.id, uid: options.uid, reason: reason.slice(0, LEAVING_REASON_CHARS_MAX) };
      publishIfOpen(nc, subj.leaving, encodeControl(message));
    }
    for (const t of timers) clearInterval(t);
    th?.close();
    link?.close();
    for (const s of subs) s.unsubscribe();
    const said = closeStoreAtStop(durable, reason, (line) => log(`host ${options.uid}: ${line}`));
    try {
      await nc.flush();
    } catch {
      // The connection is already gone.
    }
    await nc.close().catch(() => undefined);
    resolveDone(said);
  };

  void nc.closed().then(() => stop('NATS connection closed'));

  const helloMessage: NatsHello = { uid: options.uid, pid: process.pid, hostname: hostname() };
  const hello = setInterval(() => {
    if (th === undefined) publishIfOpen(nc, cluster.hello, encodeControl(helloMessage));
  }, HELLO_INTERVAL_MS);
  timers.push(hello);

  const assign = async (a: NatsAssign): Promise<void> => {
    const onStart = options.accept?.(a);
    const names = a.specs.map((spec) => spec.behavior);
    // stop() may come while this awaits: past it nothing may be made (a store, a ThreadHost and
    // its timers would outlive the closed connection), so each await is followed by this check.
    const giveUpIfStopped = (): void => {
      if (finished) throw new Error(`host stopped (${stoppedFor}) while taking the assignment`);
    };
    let behaviors: Map<string, Behavior>;
    try {
      behaviors = await importBehaviors(a.behaviorsModule, names);
    } catch {
      giveUpIfStopped();
      behaviors = await importBehaviors(options.fallbackBehaviorsModule, names);
    }
    giveUpIfStopped();
    durable = new FileDurableStore(options.dataDir, a.fsync);
    const own = subjects(options.cluster, a.launcher);
    const report = (event: HostEvent): void => {
      const message: NatsHostEvent = { host: a.hostId, uid: options.uid, event };
      publishIfOpen(nc, own.events, encodeControl(message));
    };
    const host = new ThreadHost({
      id: a.hostId,
      seed: a.seed,
      directory: new Map(a.directory),
      behaviors,
      network: a.network,
      mailboxCapacity: a.mailboxCapacity,
      messageBytesMax: a.messageBytesMax,
      durable,
      report,
      sendFrame: (peer, frame) => link!.send(peer, frame),
      frameBytesMax: frameBytesMax(nc),
      frameBytesFlush: Math.min(NATS_FRAME_BYTES_FLUSH, frameBytesMax(nc)),
    });
    const h = host.host;
    h.setPartitions(a.partitions);
    for (const node of a.deadNodes) h.setNodeDead(node, true);
    for (const [node, ms] of a.clockSkew) h.setClockSkew(node, ms);
    link = new NatsLink(nc, own, a.hostId, (frame) => h.receiveFrame(frame));
    for (const peer of fenced) link.fence(peer);
    th = host;
    subj = own;
    launcher = a.launcher;
    lastBeat = performance.now();
    clearInterval(hello);
    const api: NatsControlApi = {
      start: () => {
        onStart?.();
        // The nodes crashed before this process started are known, not spawned: restartNode starts them.
        h.spawnAll(a.specs, new Set(a.crashed));
        return h.addresses().length;
      },
      ping: () => ({ host: a.hostId, actors: h.addresses().length, nowMs: h.env.now() }),
      summary: (address) => h.cell(address)?.summary() ?? null,
      stats: () => snapshot(h.stats),
      errors: () => h.errors,
      setNetwork: (config) => h.setNetwork(config),
      setPartitions: (rules) => h.setPartitions(rules),
      setNodeDead: (node, dead) => h.setNodeDead(node, dead),
      setClockSkew: (node, ms) => h.setClockSkew(node, ms),
      crashNode: (node) => h.crashNode(node),
      pauseNode: (node, paused) => h.pauseNode(node, paused),
      restartNode: (node) => h.restartNode(node),
      injectFrame: (bytes) => h.receiveFrame(bytes),
      resetPeer: (peer) => link?.reset(peer),
      shutdown: () => {
        setImmediate(() => void stop(SHUT_DOWN_BY_LAUNCHER));
        return true;
      },
    };
    subs.push(serveControl(nc, own, a.hostId, api, controlRequestCheck(a), log));
    let lastSent = -1;
    let lastPush = 0;
    timers.push(
      setInterval(() => {
        const now = performance.now();
        // Unchanged counters go out anyway now and then: the launcher takes silence as death.
        if (h.stats.delivered + h.stats.sent === lastSent && now - lastPush < HOST_ALIVE_INTERVAL_MS) return;
        lastSent = h.stats.delivered + h.stats.sent;
        lastPush = now;
        const message: NatsHostStats = { host: a.hostId, uid: options.uid, stats: snapshot(h.stats) };
        publishIfOpen(nc, own.stats, encodeControl(message));
      }, a.statsIntervalMs),
    );
    // The control subscription reaches the server before the launcher, answered, sends `start`
    // (without this a loaded machine answers it with "no responders").
    try {
      await nc.flush();
    } catch (e) {
      giveUpIfStopped();
      throw e;
    }
    // Everything above was made before stop() ran, if it did: it has closed them all.
    giveUpIfStopped();
    log(`host ${options.uid}: joined cluster ${options.cluster} as host ${a.hostId} with ${a.specs.length} actors`);
  };

  subs.push(
    nc.subscribe(cluster.assign(options.uid), {
      callback: (error, msg) => {
        if (error !== null) return;
        // An assignment given up for stop() may settle after the connection closed: respond() would
        // throw there (an unhandled rejection in the handlers below), and nobody could hear it.
        const answer = (a: AssignAnswer): boolean => !nc.isClosed() && !nc.isDraining() && msg.respond(encodeControl(a));
        if (th !== undefined || taking) {
          answer({ e: 'already assigned' });
          return;
        }
        // Anyone on the server may send here: what does not decode is refused, not thrown (a
        // callback that throws stops the client reading), and so is anything checkAssign finds
        // wrong, before any of it is acted on (a module imported, a folder written).
        let a: NatsAssign;
        try {
          a = checkAssign(decodeControl<unknown>(msg.data));
        } catch (e) {
          const why = `malformed assignment: ${(e as Error).message}`;
          log(`host ${options.uid}: refused an assignment (${why})`);
          answer({ e: why });
          return;
        }
        // One at a time: a second one while the first imports its module would build a second host.
        taking = true;
        assign(a).then(
          () => {
            taking = false;
            answer({ v: true });
          },
          (e: unknown) => {
            taking = false;
            log(`host ${options.uid}: refused host ${a.hostId} (${(e as Error).message})`);
            answer(e instanceof SettingsRefusedError ? { e: e.message, settings: true } : { e: (e as Error).message });
          },
        );
      },
    }),
  );
  subs.push(
    nc.subscribe(cluster.gone, {
      callback: (error, msg) => {
        if (error !== null || finished) return;
        const gone = decodeChecked(msg.data, isNatsGone);
        if (gone === undefined) return;
        if (gone.uid === options.uid) {
          // Stalled past the launcher's patience (or cut off): its nodes are dead for the others
          // and are not this process's any more. Exit 1, as at a silent launcher.
          void stop(`${TAKEN_AS_GONE} (${gone.reason})`);
          return;
        }
        // That host id was this process's own: the message is not about this process.
        if (th !== undefined && gone.host === th.host.id) return;
        fenced.add(gone.host);
        link?.fence(gone.host);
      },
    }),
  );
  if (options.watchBeat) {
    subs.push(
      nc.subscribe(cluster.beat, {
        callback: (error, msg) => {
          if (error !== null || finished) return;
          const from = new TextDecoder().decode(msg.data);
          // A launcher started again under this name (the one that assigned this host was killed):
          // it hands out the same host ids, and this process would share their subjects with the
          // new hosts, taking their frames and control requests and sending its own old actors'
          // as theirs. Its beat came before it assigned any host: stop now. Before (session 67)
          // the new launcher's beat kept this process running for as long as it ran.
          if (th !== undefined && from !== launcher) {
            void stop(`${ANOTHER_LAUNCHER} (generation ${from === '' ? '(none)' : from}; this host's is ${launcher})`);
            return;
          }
          lastBeat = performance.now();
        },
      }),
    );
    timers.push(
      setInterval(() => {
        if (th !== undefined && performance.now() - lastBeat > BEAT_SILENCE_MS) void stop(`no beat from the launcher for ${BEAT_SILENCE_MS} ms`);
      }, BEAT_SILENCE_MS / 10),
    );
  }
  // Subscriptions reach the server before the launcher can ask: the first hello goes after them.
  await nc.flush();
  nc.publish(cluster.hello, encodeControl(helloMessage));
  return { done, stop };
}
