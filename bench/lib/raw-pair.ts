import { MessageChannel, Worker, type TransferListItem } from 'node:worker_threads';
import type { RawCommand, RawDone, RawEncoding } from '../../workers/bench-raw.js';
import { withTimeout } from './wait.js';

const RAW_WORKER_URL = new URL('../../workers/bench-raw.js', import.meta.url);

/** Two bare worker threads joined by one MessageChannel (see workers/bench-raw.ts). */
export class RawPair {
  private readonly pinger: Worker;
  private readonly ponger: Worker;
  private waiting: { resolve(done: RawDone): void; reject(error: Error): void } | undefined;
  private readonly nats: string | undefined;

  /** `nats`: a NATS URL; the two threads then exchange their frames through that server. */
  private constructor(nats?: string) {
    this.nats = nats;
    this.pinger = new Worker(RAW_WORKER_URL, { workerData: { role: 'pinger' } });
    this.ponger = new Worker(RAW_WORKER_URL, { workerData: { role: 'ponger' } });
    if (nats === undefined) {
      const channel = new MessageChannel();
      this.command(this.pinger, { type: 'peer', port: channel.port1 }, [channel.port1]);
      this.command(this.ponger, { type: 'peer', port: channel.port2 }, [channel.port2]);
    }
    this.pinger.on('message', (done: RawDone) => {
      if (done.type !== 'done') return;
      const w = this.waiting;
      this.waiting = undefined;
      w?.resolve(done);
    });
    for (const worker of [this.pinger, this.ponger]) {
      worker.on('error', (error) => {
        const w = this.waiting;
        this.waiting = undefined;
        w?.reject(error);
      });
    }
  }

  static async start(): Promise<RawPair> {
    const pair = new RawPair();
    await Promise.all([pair.pinger, pair.ponger].map((w) => new Promise<void>((resolve) => w.once('online', () => resolve()))));
    return pair;
  }

  /** The bare-client baseline over NATS: two threads, a connection each, the same frames. */
  static async startNats(url: string): Promise<RawPair> {
    const pair = new RawPair(url);
    const prefix = `bench-raw-${process.pid}`;
    const ready = (w: Worker): Promise<void> =>
      new Promise<void>((resolve) => {
        const on = (m: { type: string }): void => {
          if (m.type !== 'nats-ready') return;
          w.off('message', on);
          resolve();
        };
        w.on('message', on);
      });
    const both = Promise.all([ready(pair.pinger), ready(pair.ponger)]);
    pair.command(pair.pinger, { type: 'nats', url, subject: `${prefix}.pinger`, peerSubject: `${prefix}.ponger` });
    pair.command(pair.ponger, { type: 'nats', url, subject: `${prefix}.ponger`, peerSubject: `${prefix}.pinger` });
    await withTimeout(both, 'raw NATS pair start');
    return pair;
  }

  private command(worker: Worker, command: RawCommand, transfer: TransferListItem[] = []): void {
    worker.postMessage(command, transfer);
  }

  private run(command: RawCommand, what: string): Promise<RawDone> {
    if (this.waiting !== undefined) throw new Error('RawPair: one run at a time');
    const done = new Promise<RawDone>((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
    this.command(this.pinger, command);
    return withTimeout(done, what);
  }

  /** `total` round trips with `window` requests in flight. */
  throughput(total: number, window: number, encoding: RawEncoding): Promise<RawDone> {
    return this.run({ type: 'throughput', total, window, encoding }, `raw throughput (${encoding})`);
  }

  /** `count` round trips of one message each, one at a time. */
  rtt(count: number): Promise<RawDone> {
    return this.run({ type: 'rtt', count }, 'raw rtt');
  }

  async stop(): Promise<void> {
    if (this.nats !== undefined) {
      // Close the NATS connections before the threads go.
      const closed = (w: Worker): Promise<void> => new Promise<void>((resolve) => w.on('message', (m: { type: string }) => m.type === 'closed' && resolve()));
      const both = Promise.all([closed(this.pinger), closed(this.ponger)]);
      this.command(this.pinger, { type: 'close' });
      this.command(this.ponger, { type: 'close' });
      await withTimeout(both, 'raw NATS pair close', 5_000).catch(() => undefined);
    }
    await Promise.all([this.pinger.terminate(), this.ponger.terminate()]);
  }
}

/**
 * The raw baseline in one call: messages per second between two bare worker threads (request
 * and reply counted as two), best of `reps` runs, one msgpack array per frame.
 */
export async function measureRaw(options: { roundTrips: number; window: number; reps: number }): Promise<{ msgsPerS: number }> {
  const pair = await RawPair.start();
  try {
    await pair.throughput(Math.min(options.roundTrips, 10_000), options.window, 'batch');
    let best = 0;
    for (let i = 0; i < options.reps; i++) {
      const done = await pair.throughput(options.roundTrips, options.window, 'batch');
      best = Math.max(best, (done.received * 2) / (done.elapsedMs / 1000));
    }
    return { msgsPerS: best };
  } finally {
    await pair.stop();
  }
}
