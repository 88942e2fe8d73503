/**
 * The body of a worker-thread host (see host.ts for the handshake), shared by the two entries:
 * host.ts loads the behaviours from the module the calling thread names; cluster-host.ts has
 * the cluster's behaviours built in and is bundled into one file (faster to load on every
 * thread; see scripts/bundle-workers.mjs).
 */
import { parentPort, resourceLimits, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { Behavior } from '../src/runtime/actor.js';
import { portEndpoint, type AdminApi } from '../src/runtime/admin.js';
import { FileDurableStore } from '../src/runtime/durable-file.js';
import { ThreadHost } from '../src/runtime/transports/thread-host.js';
import { snapshot } from '../src/runtime/stats.js';
import type { HostEvent } from '../src/runtime/env.js';
import { postToParent, type HostWorkerData, type ToWorker } from '../src/runtime/transports/worker-protocol.js';

/** The behaviours `names` need, given the behaviours module the calling thread named. */
export type LoadBehaviors = (behaviorsModule: string, names: readonly string[]) => Promise<Map<string, Behavior>>;

// workerData is `any`: what threads.ts passes, typed there as HostWorkerData.
const data = workerData as HostWorkerData;
const port = parentPort!;

async function main(loadBehaviors: LoadBehaviors): Promise<void> {
  const behaviors = await loadBehaviors(
    data.behaviorsModule,
    data.specs.map((spec) => spec.behavior),
  );
  const durable = new FileDurableStore(data.dataDir, data.fsync);
  const report = (event: HostEvent): void => postToParent(port, { type: 'event', host: data.hostId, event });
  const th = new ThreadHost({
    id: data.hostId,
    seed: data.seed,
    directory: new Map(data.directory),
    behaviors,
    network: data.network,
    mailboxCapacity: data.mailboxCapacity,
    messageBytesMax: data.messageBytesMax,
    durable,
    report,
  });
  const host = th.host;
  const api: AdminApi = {
    ping: () => {
      const m = process.memoryUsage();
      return {
        host: data.hostId,
        actors: host.addresses().length,
        nowMs: host.env.now(),
        heapUsedBytes: m.heapUsed,
        heapTotalBytes: m.heapTotal,
        externalBytes: m.external,
        maxOldGenerationSizeMb: resourceLimits.maxOldGenerationSizeMb,
        maxYoungGenerationSizeMb: resourceLimits.maxYoungGenerationSizeMb,
      };
    },
    summary: (address) => host.cell(address)?.summary() ?? null,
    stats: () => snapshot(host.stats),
    errors: () => host.errors,
    connect: (peer, p) => th.connect(peer, p),
    disconnect: (peer) => th.disconnect(peer),
    setNetwork: (config) => host.setNetwork(config),
    setPartitions: (rules) => host.setPartitions(rules),
    setNodeDead: (node, dead) => host.setNodeDead(node, dead),
    setClockSkew: (node, ms) => host.setClockSkew(node, ms),
    crashNode: (node) => host.crashNode(node),
    restartNode: (node) => host.restartNode(node),
    pauseNode: (node, paused) => host.pauseNode(node, paused),
    injectFrame: (bytes) => host.receiveFrame(bytes),
  };
  Comlink.expose(api, portEndpoint(data.adminPort));

  // Push counters now and then so the main thread can answer stats() without a round trip.
  let lastSent = -1;
  const pushStats = (): void => {
    if (host.stats.delivered + host.stats.sent === lastSent) return;
    lastSent = host.stats.delivered + host.stats.sent;
    postToParent(port, { type: 'stats', host: data.hostId, stats: snapshot(host.stats) });
  };
  const statsTimer = setInterval(pushStats, data.statsIntervalMs);
  statsTimer.unref();

  port.on('message', (message: ToWorker) => {
    if (message.type === 'peer') th.connect(message.peer, message.port);
    else if (message.type === 'start') {
      host.spawnAll(data.specs, new Set(data.crashed));
      postToParent(port, { type: 'started', host: data.hostId });
    }
  });
  postToParent(port, { type: 'ready', host: data.hostId });
}

/** Builds this thread's host; a failure is posted to the calling thread as `fatal`. */
export function runHost(loadBehaviors: LoadBehaviors): void {
  main(loadBehaviors).catch((error: unknown) => {
    postToParent(port, {
      type: 'fatal',
      host: data.hostId,
      error: { name: (error as Error).name, message: (error as Error).message, stack: (error as Error).stack },
    });
  });
}
