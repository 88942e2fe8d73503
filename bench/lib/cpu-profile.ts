/**
 * CPU profiles of every thread of this process, taken with the V8 inspector: the calling
 * thread through an in-process Session, each worker thread through the NodeWorker domain
 * (messages relayed by the main thread's session). Start, run the workload, stop: the
 * profiles cover exactly the measured span, not boot or warm-up.
 *
 * `selfTimeByLayer` maps each function's self time to a layer of Meridian by its source file
 * (the function's script URL), so a profile reads as "µs per operation in the client, the
 * balancer, the router and codec, ...".
 */
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { SourceMap } from 'node:module';

/** Where a profiled function is: its script and its start in it (0-based, as V8 gives them). */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber?: number;
  columnNumber?: number;
}

/** The parts of a V8 CPU profile (Profiler.stop) this module reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** How often V8 samples each thread's stack, in µs (V8's default is 1,000). */
export const SAMPLING_INTERVAL_US = 250;
/** How long to wait for the worker sessions to attach after NodeWorker.enable. */
const ATTACH_TIMEOUT_MS = 5_000;

type Reply = { id?: number; result?: unknown; error?: { message: string } };

/** Profilers on the calling thread and on every worker thread alive when `start` runs. */
export class ThreadProfiler {
  private readonly session = new Session();
  private readonly workers: string[] = [];
  private readonly waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor() {
    this.session.connect();
    this.session.on('NodeWorker.attachedToWorker', (m: { params: { sessionId: string } }) => {
      this.workers.push(m.params.sessionId);
    });
    this.session.on('NodeWorker.receivedMessageFromWorker', (m: { params: { message: string } }) => {
      const reply = JSON.parse(m.params.message) as Reply;
      if (reply.id === undefined) return;
      const w = this.waiting.get(reply.id);
      if (w === undefined) return;
      this.waiting.delete(reply.id);
      if (reply.error !== undefined) w.reject(new Error(reply.error.message));
      else w.resolve(reply.result);
    });
  }

  private post<T>(method: string, params: object = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      this.session.post(method, params, (error, result) => (error === null ? resolve(result as T) : reject(error)));
    });
  }

  private postWorker<T>(sessionId: string, method: string, params: object = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.session.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) }, (error) => {
        if (error !== null) {
          this.waiting.delete(id);
          reject(error);
        }
      });
    });
  }

  /** Attaches to the `workers` worker threads now running and starts every profiler. */
  async start(workers: number): Promise<void> {
    await this.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    const deadline = Date.now() + ATTACH_TIMEOUT_MS;
    while (this.workers.length < workers) {
      if (Date.now() > deadline) throw new Error(`profiler: ${this.workers.length} of ${workers} worker threads attached`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const targets: Array<(method: string, params?: object) => Promise<unknown>> = [
      (method, params) => this.post(method, params),
      ...this.workers.map((s) => (method: string, params?: object) => this.postWorker(s, method, params)),
    ];
    for (const t of targets) {
      await t('Profiler.enable');
      await t('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
    }
    await Promise.all(targets.map((t) => t('Profiler.start')));
  }

  /** Stops every profiler; the calling thread's profile first, then the workers'. */
  async stop(): Promise<CpuProfile[]> {
    const main = this.post<{ profile: CpuProfile }>('Profiler.stop');
    const workers = this.workers.map((s) => this.postWorker<{ profile: CpuProfile }>(s, 'Profiler.stop'));
    const all = await Promise.all([main, ...workers]);
    return all.map((r) => r.profile);
  }

  async close(): Promise<void> {
    try {
      await this.post('NodeWorker.disable');
    } finally {
      this.session.disconnect();
    }
  }
}

/** The layers a request passes through, in the order of the path. */
export const LAYERS = [
  'client',
  'balancer',
  'router and codec',
  'server',
  'replication group',
  'state machine',
  'commit protocol',
  'liveness',
  'metrics',
  'node and V8 (timers, ports, GC, native)',
  'bench driver and other',
] as const;
export type Layer = (typeof LAYERS)[number];

/** Source files (below src/ or the named package) by layer; the first match wins. */
const LAYER_RULES: Array<[RegExp, Layer]> = [
  [/\/src\/cluster\/client\.js$/, 'client'],
  [/\/src\/cluster\/balancer\.js$|\/src\/balance\//, 'balancer'],
  [/\/src\/runtime\/|\/src\/core\/|\/src\/net\/|\/node_modules\/msgpackr\/|\/workers\/(host|host-main|cluster-host)\.js$/, 'router and codec'],
  [/\/src\/cluster\/server\.js$|\/src\/cluster\/(topology|messages|plan|replicas)\.js$|\/src\/replication\/(shard-log|messages)\.js$/, 'server'],
  [/\/src\/replication\/(group|learner)\.js$|\/src\/protocols\/(multipaxos|ballot)/, 'replication group'],
  [/\/src\/replication\/(state-machine|ops)\.js$/, 'state machine'],
  [/\/src\/cluster\/coordinator\.js$|\/src\/replication\/(participant|commit-cores)\.js$|\/src\/protocols\//, 'commit protocol'],
  [/\/src\/liveness\/|\/src\/cluster\/(heartbeat|region)\.js$/, 'liveness'],
  [/\/src\/metrics\//, 'metrics'],
  [/^node:|^$/, 'node and V8 (timers, ports, GC, native)'],
];

export function layerOf(url: string): Layer {
  for (const [re, layer] of LAYER_RULES) if (re.test(url)) return layer;
  return 'bench driver and other';
}

/** Source maps of bundled scripts (`*.bundle.cjs`, e.g. the cluster's worker entry), by URL; undefined when unreadable. */
const bundleMaps = new Map<string, SourceMap | undefined>();

function bundleMapOf(url: string): SourceMap | undefined {
  if (!/\.bundle\.c?js$/.test(url)) return undefined;
  if (!bundleMaps.has(url)) {
    let map: SourceMap | undefined;
    try {
      map = new SourceMap(JSON.parse(readFileSync(new URL(`${url}.map`), 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      map = undefined;
    }
    bundleMaps.set(url, map);
  }
  return bundleMaps.get(url);
}

/**
 * The URL of the file a profiled function was written in: for a function of a bundle (the
 * cluster's workers run dist/workers/cluster-host.bundle.cjs), the module it was bundled from,
 * through the bundle's source map (which leads on to the TypeScript source: its `.ts` is
 * read as the `.js` tsc made of it); otherwise the function's own script.
 */
export function sourceUrlOf(frame: CallFrame): string {
  const map = bundleMapOf(frame.url);
  if (map === undefined || frame.lineNumber === undefined || frame.lineNumber < 0) return frame.url;
  const entry = map.findEntry(frame.lineNumber, frame.columnNumber ?? 0) as { originalSource?: string };
  if (entry.originalSource === undefined || entry.originalSource === '') return frame.url;
  return new URL(entry.originalSource, frame.url).href.replace(/\.ts$/, '.js');
}

/**
 * Self time (µs) per layer over a profile. `(idle)` is not CPU time and is left out;
 * `(program)` and `(garbage collector)` have no URL and count as node and V8.
 */
export function selfTimeByLayer(profile: CpuProfile): Record<Layer, number> {
  const out = Object.fromEntries(LAYERS.map((l) => [l, 0])) as Record<Layer, number>;
  const layerOfNode = new Map<number, Layer | undefined>();
  for (const node of profile.nodes) {
    layerOfNode.set(node.id, node.callFrame.functionName === '(idle)' ? undefined : layerOf(sourceUrlOf(node.callFrame)));
  }
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // A sample stands for the time until the next one (the last: until the profile's end).
    const us =
      i + 1 < timeDeltas.length ? timeDeltas[i + 1]! : Math.max(0, profile.endTime - profile.startTime - timeDeltas.slice(0, i + 1).reduce((a, b) => a + b, 0));
    const layer = layerOfNode.get(samples[i]!);
    if (layer !== undefined && us > 0) out[layer] += us;
  }
  return out;
}

/** The hottest functions by self time, with their layer (for a closer look). */
export function hottest(profiles: readonly CpuProfile[], count: number): Array<{ name: string; layer: Layer; us: number }> {
  const byName = new Map<string, { layer: Layer; us: number }>();
  for (const p of profiles) {
    // Each node's name and layer once (its source read through a bundle's map), not per sample.
    const nodes = new Map<number, { name: string; layer: Layer }>();
    for (const node of p.nodes) {
      if (node.callFrame.functionName === '(idle)') continue;
      const url = sourceUrlOf(node.callFrame);
      const file = url.replace(/^.*\/(dist|node_modules)\//, '').replace(/^file:\/\/.*\/(src|workers)\//, '$1/');
      nodes.set(node.id, { name: `${node.callFrame.functionName || '(anonymous)'} ${file}`, layer: layerOf(url) });
    }
    for (let i = 0; i < p.samples.length; i++) {
      const node = nodes.get(p.samples[i]!);
      if (node === undefined) continue;
      const e = byName.get(node.name) ?? { layer: node.layer, us: 0 };
      e.us += p.timeDeltas[i + 1] ?? 0;
      byName.set(node.name, e);
    }
  }
  return [...byName]
    .map(([name, e]) => ({ name, ...e }))
    .sort((a, b) => b.us - a.us)
    .slice(0, count);
}
