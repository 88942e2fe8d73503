import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as Comlink from 'comlink';
import { portEndpoint } from '../../src/runtime/admin.js';
import type { EchoApi } from '../../workers/bench-comlink.js';
import { makeRequest } from './messages.js';
import { withTimeout } from './wait.js';

const COMLINK_WORKER_URL = new URL('../../workers/bench-comlink.js', import.meta.url);

/** The main thread calling a comlink-exposed worker (see workers/bench-comlink.ts). */
export class ComlinkPair {
  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly api: Comlink.Remote<EchoApi>,
  ) {}

  static async start(): Promise<ComlinkPair> {
    const channel = new MessageChannel();
    const worker = new Worker(COMLINK_WORKER_URL, { workerData: { port: channel.port2 }, transferList: [channel.port2] });
    const api = Comlink.wrap<EchoApi>(portEndpoint(channel.port1));
    const pair = new ComlinkPair(worker, channel.port1, api);
    // One call proves the worker is up and exposed.
    await withTimeout(api.handle(makeRequest(0)), 'comlink worker start');
    return pair;
  }

  /** `total` calls with `window` in flight; resolves with the elapsed milliseconds. */
  pipelined(total: number, window: number): Promise<number> {
    const started = performance.now();
    const done = new Promise<number>((resolve, reject) => {
      let sent = 0;
      let answered = 0;
      const next = (): void => {
        const rid = sent++;
        this.api
          .handle(makeRequest(rid))
          .then((reply) => {
            if (reply.rid !== rid) throw new Error(`comlink: reply ${reply.rid} for call ${rid}`);
            answered++;
            if (answered === total) resolve(performance.now() - started);
            else if (sent < total) next();
          })
          .catch(reject);
      };
      for (let i = 0; i < Math.min(window, total); i++) next();
    });
    return withTimeout(done, 'comlink calls');
  }

  async stop(): Promise<void> {
    this.api[Comlink.releaseProxy]();
    this.port.close();
    await this.worker.terminate();
  }
}
