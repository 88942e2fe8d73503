import type { ActorSpec } from '../../src/runtime/actor.js';
import type { DirectoryEntry, HostEvent } from '../../src/runtime/host.js';
import type { HostPlan } from '../../src/runtime/transports/runtime.js';
import { makeTempDir } from '../../src/runtime/temp-dirs.js';
import { ThreadsRuntime } from '../../src/runtime/transports/threads.js';
import { NatsRuntime } from '../../src/runtime/transports/nats.js';
import type { Runtime } from '../../src/runtime/transports/runtime.js';
import { MAILBOX_CAPACITY_DEFAULT, MESSAGE_BYTES_MAX_DEFAULT } from '../../src/core/limits.js';
import { BENCH_DONE_TOPIC, behaviors, type PingerParams, type RunDone, type StartRun } from '../behaviors.js';
import { withTimeout } from './wait.js';

export const PINGER_ADDRESS = 'bench/pinger';
export const PONGER_ADDRESS = 'bench/ponger';
/** The address the bench sends from on the main thread (never answered). */
const BENCH_ADDRESS = 'bench';
const REGION = 'bench';

/**
 * A pinger and a ponger actor on two worker hosts of a ThreadsRuntime: every request and
 * reply crosses the router, the codec and a host-to-host MessagePort, as in a cluster.
 */
export class MeridianPair {
  private waiting: { run: number; resolve(done: RunDone): void; reject(error: Error): void } | undefined;
  private nextRun = 1;
  private readonly problems: string[] = [];
  private readonly runtime: Runtime;

  /** `nats`: a NATS URL; the two hosts are then processes exchanging frames through it. */
  private constructor(seed: number, nats?: string) {
    const pinger: ActorSpec = {
      address: PINGER_ADDRESS,
      behavior: 'bench-pinger',
      params: { ponger: PONGER_ADDRESS } satisfies PingerParams,
      region: REGION,
      node: 'bench-1',
    };
    const ponger: ActorSpec = { address: PONGER_ADDRESS, behavior: 'bench-ponger', params: null, region: REGION, node: 'bench-2' };
    const plans: HostPlan[] = [
      { id: 0, specs: [], dedicated: false },
      { id: 1, specs: [pinger], dedicated: true },
      { id: 2, specs: [ponger], dedicated: true },
    ];
    const directory = new Map<string, DirectoryEntry>([
      [PINGER_ADDRESS, { host: 1, region: REGION, node: 'bench-1', index: 0 }],
      [PONGER_ADDRESS, { host: 2, region: REGION, node: 'bench-2', index: 1 }],
    ]);
    const options = {
      seed,
      directory,
      behaviors,
      behaviorsModule: new URL('../behaviors.js', import.meta.url).href,
      network: {},
      mailboxCapacity: MAILBOX_CAPACITY_DEFAULT,
      messageBytesMax: MESSAGE_BYTES_MAX_DEFAULT,
      dataDir: makeTempDir('meridian-bench-'),
      removeDataDir: true,
      fsync: false,
      onEvent: (event: HostEvent) => this.onEvent(event),
    };
    this.runtime =
      nats === undefined
        ? new ThreadsRuntime(options, plans)
        : new NatsRuntime({ ...options, servers: [nats], cluster: `bench${process.pid}`, hosts: 'spawn' }, plans);
  }

  static async start(seed = 1, nats?: string): Promise<MeridianPair> {
    const pair = new MeridianPair(seed, nats);
    await withTimeout(pair.runtime.start(), 'meridian pair start');
    return pair;
  }

  private onEvent(event: HostEvent): void {
    if (event.kind === 'publish') {
      if (event.topic !== BENCH_DONE_TOPIC) return;
      const done = event.data as RunDone;
      const w = this.waiting;
      if (w === undefined || w.run !== done.run) return;
      this.waiting = undefined;
      w.resolve(done);
      return;
    }
    // Anything else is a fault in the bench or the runtime: fail the run instead of hanging.
    const text =
      event.kind === 'actor-error' ? `${event.address}: ${event.error.message}` : event.kind === 'warn' ? `${event.address}: ${event.message}` : event.error;
    this.problems.push(`${event.kind}: ${text}`);
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(new Error(`meridian pair: ${event.kind}: ${text}`));
  }

  private run(total: number, window: number, rtt: boolean): Promise<RunDone> {
    if (this.waiting !== undefined) throw new Error('MeridianPair: one run at a time');
    const run = this.nextRun++;
    const done = new Promise<RunDone>((resolve, reject) => {
      this.waiting = { run, resolve, reject };
    });
    const start: StartRun = { type: 'start', run, total, window, rtt };
    this.runtime.host.route(BENCH_ADDRESS, PINGER_ADDRESS, start);
    return withTimeout(done, `meridian ${rtt ? 'rtt' : 'throughput'} run`);
  }

  /** `total` request/reply round trips with `window` requests in flight. */
  throughput(total: number, window: number): Promise<RunDone> {
    return this.run(total, window, false);
  }

  /** `count` round trips, one request in flight, each timed by the pinger. */
  rtt(count: number): Promise<RunDone> {
    return this.run(count, 1, true);
  }

  async stop(): Promise<void> {
    await this.runtime.stop();
  }
}
