import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { ActorSpec, Behavior } from '../actor.js';
import { FileDurableStore } from '../durable-file.js';
import type { DirectoryEntry, HostEvent } from '../host.js';
import { snapshot } from '../stats.js';
import type { NetworkConfig, PartitionRule } from '../../net/model.js';
import { ThreadHost } from './thread-host.js';
import {
  NATS_FRAME_BYTES_FLUSH,
  BEAT_SILENCE_MS,
  HELLO_INTERVAL_MS,
  NatsLink,
  connectNats,
  decodeControl,
  encodeControl,
  frameBytesMax,
  serveControl,
  subjects,
} from './nats-wire.js';

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
  /** Where logs go; null: the host's own folder (a remote machine). */
  dataDir: string | null;
  fsync: boolean;
  specs: ActorSpec[];
  /** Nodes of this host not to start (crashed while the host was down). */
  crashed: string[];
  behaviorsModule: string;
  statsIntervalMs: number;
}

export interface NatsHostOptions {
  servers: string[];
  cluster: string;
  /** This host's name in `hello`; the launcher assigns spawned hosts by it. */
  uid: string;
  /** Used when the launcher's behaviours module cannot be imported here (another machine). */
  fallbackBehaviorsModule: string;
  /** Logs of a host whose launcher gives no folder (default: a temporary one, removed on exit). */
  dataDir?: string;
  /** Exit when the launcher's beat goes silent (hosts started with `meridian host`). */
  watchBeat: boolean;
  log?: (line: string) => void;
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
  const subj = subjects(options.cluster);
  const nc: NatsConnection = await connectNats(options.servers, `meridian-host-${options.uid}`);
  const subs: Subscription[] = [];
  const timers: NodeJS.Timeout[] = [];
  let th: ThreadHost | undefined;
  let link: NatsLink | undefined;
  let durable: FileDurableStore | undefined;
  let ownDataDir: string | undefined;
  let lastBeat = performance.now();
  let finished = false;
  let resolveDone!: (reason: string) => void;
  const done = new Promise<string>((resolve) => (resolveDone = resolve));

  const stop = async (reason: string): Promise<void> => {
    if (finished) return;
    finished = true;
    log(`host ${options.uid}: stopping (${reason})`);
    for (const t of timers) clearInterval(t);
    th?.close();
    link?.close();
    for (const s of subs) s.unsubscribe();
    durable?.close();
    if (ownDataDir !== undefined) rmSync(ownDataDir, { recursive: true, force: true });
    try {
      await nc.flush();
    } catch {
      // The connection is already gone.
    }
    await nc.close().catch(() => undefined);
    resolveDone(reason);
  };

  void nc.closed().then(() => stop('NATS connection closed'));

  const hello = setInterval(() => {
    if (th === undefined) nc.publish(subj.hello, encodeControl({ uid: options.uid, pid: process.pid, hostname: hostname() }));
  }, HELLO_INTERVAL_MS);
  timers.push(hello);

  const assign = async (a: NatsAssign): Promise<void> => {
    let mod: { behaviors: Map<string, Behavior> };
    try {
      mod = (await import(a.behaviorsModule)) as typeof mod;
    } catch {
      mod = (await import(options.fallbackBehaviorsModule)) as typeof mod;
    }
    let dir = a.dataDir ?? options.dataDir;
    if (dir === undefined) dir = ownDataDir = mkdtempSync(join(tmpdir(), 'meridian-host-'));
    durable = new FileDurableStore(dir, a.fsync);
    const report = (event: HostEvent): void => nc.publish(subj.events, encodeControl({ host: a.hostId, event }));
    const host = new ThreadHost({
      id: a.hostId,
      seed: a.seed,
      directory: new Map(a.directory),
      behaviors: mod.behaviors,
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
    link = new NatsLink(nc, subj, a.hostId, (frame) => h.receiveFrame(frame));
    th = host;
    lastBeat = performance.now();
    clearInterval(hello);
    const crashed = new Set(a.crashed);
    subs.push(
      serveControl(nc, subj, a.hostId, {
        start: () => {
          for (const spec of a.specs) if (!crashed.has(spec.node)) h.spawn(spec);
          // Known to the host, so restartNode can bring them back.
          return h.addresses().length;
        },
        ping: () => ({ host: a.hostId, actors: h.addresses().length, nowMs: h.env.now() }),
        summary: (address: string) => h.cell(address)?.summary() ?? null,
        stats: () => snapshot(h.stats),
        load: (addresses: string[]) => {
          const out: Record<string, Record<string, number>> = {};
          for (const address of addresses) {
            const cell = h.cell(address);
            if (cell !== undefined) out[address] = cell.load();
          }
          return out;
        },
        errors: () => h.errors,
        setNetwork: (config: NetworkConfig) => h.setNetwork(config),
        setPartitions: (rules: PartitionRule[]) => h.setPartitions(rules),
        setNodeDead: (node: string, dead: boolean) => h.setNodeDead(node, dead),
        setClockSkew: (node: string, ms: number) => h.setClockSkew(node, ms),
        crashNode: (node: string) => h.crashNode(node),
        restartNode: (node: string) => {
          // A node crashed before this process started was never spawned here.
          if (crashed.delete(node)) {
            let n = 0;
            for (const spec of a.specs) {
              if (spec.node !== node) continue;
              h.spawn(spec);
              n++;
            }
            return n;
          }
          return h.restartNode(node);
        },
        injectFrame: (bytes: Uint8Array) => h.receiveFrame(bytes),
        resetPeer: (peer: number) => link?.reset(peer),
        shutdown: () => {
          setImmediate(() => void stop('shut down by the launcher'));
          return true;
        },
      }),
    );
    let lastSent = -1;
    timers.push(
      setInterval(() => {
        if (h.stats.delivered + h.stats.sent === lastSent) return;
        lastSent = h.stats.delivered + h.stats.sent;
        nc.publish(subj.stats, encodeControl({ host: a.hostId, stats: snapshot(h.stats) }));
      }, a.statsIntervalMs),
    );
    // The control subscription reaches the server before the launcher, answered, sends `start`
    // (without this a loaded machine answers it with "no responders").
    await nc.flush();
    log(`host ${options.uid}: joined cluster ${options.cluster} as host ${a.hostId} with ${a.specs.length} actors`);
  };

  subs.push(
    nc.subscribe(subj.assign(options.uid), {
      callback: (error, msg) => {
        if (error !== null) return;
        if (th !== undefined) {
          msg.respond(encodeControl({ e: 'already assigned' }));
          return;
        }
        assign(decodeControl<NatsAssign>(msg.data)).then(
          () => msg.respond(encodeControl({ v: true })),
          (e: unknown) => msg.respond(encodeControl({ e: (e as Error).message })),
        );
      },
    }),
  );
  if (options.watchBeat) {
    subs.push(nc.subscribe(subj.beat, { callback: () => void (lastBeat = performance.now()) }));
    timers.push(
      setInterval(() => {
        if (th !== undefined && performance.now() - lastBeat > BEAT_SILENCE_MS) void stop(`no beat from the launcher for ${BEAT_SILENCE_MS} ms`);
      }, BEAT_SILENCE_MS / 10),
    );
  }
  // Subscriptions reach the server before the launcher can ask: the first hello goes after them.
  await nc.flush();
  nc.publish(subj.hello, encodeControl({ uid: options.uid, pid: process.pid, hostname: hostname() }));
  return { done, stop };
}
