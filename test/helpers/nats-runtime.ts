import { join } from 'node:path';
import type { ActorSpec } from '../../src/runtime/actor.js';
import type { DirectoryEntry, HostEvent } from '../../src/runtime/host.js';
import { NatsRuntime, type NatsOptions } from '../../src/runtime/transports/nats.js';
import type { HostPlan } from '../../src/runtime/transports/runtime.js';
import { behaviors } from '../fixtures/behaviors.js';

/**
 * A NATS runtime (not started) of one dedicated host (node n1, actor echo/a) whose spawned
 * hosts load `behaviorsModule`, its data folder in `dir`, a cluster name of its own; `extra`
 * overrides any option.
 */
export function natsEchoRuntime(dir: string, servers: string[], behaviorsModule: string, extra: Partial<NatsOptions> = {}): NatsRuntime {
  const spec: ActorSpec = { address: 'echo/a', behavior: 'echo', params: {}, region: 'r1', node: 'n1' };
  const directory = new Map<string, DirectoryEntry>([['echo/a', { host: 1, region: 'r1', node: 'n1' }]]);
  const plans: HostPlan[] = [
    { id: 0, specs: [], dedicated: false },
    { id: 1, specs: [spec], dedicated: true },
  ];
  const events: HostEvent[] = [];
  return new NatsRuntime(
    {
      seed: 1,
      directory,
      behaviors,
      behaviorsModule,
      network: {},
      mailboxCapacity: 10_000,
      messageBytesMax: 64 * 1024,
      dataDir: join(dir, 'data'),
      removeDataDir: false,
      fsync: false,
      onEvent: (e) => events.push(e),
      servers,
      cluster: `test-${process.pid}-${Math.floor(performance.now())}`,
      hosts: 'spawn',
      ...extra,
    },
    plans,
  );
}

/**
 * An assignment as a launcher sends one to a waiting host, for the tests that send their own:
 * `overrides` on an empty cluster's (its module a file: URL that does not exist).
 */
export function rawAssignment(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    hostId: 1,
    seed: 1,
    directory: [],
    network: {},
    partitions: [],
    deadNodes: [],
    clockSkew: [],
    mailboxCapacity: 10,
    messageBytesMax: 1000,
    fsync: false,
    specs: [],
    crashed: [],
    behaviorsModule: 'file:///nonexistent.js',
    statsIntervalMs: 1000,
    launcher: 'test',
    layout: null,
    replication: null,
    ...overrides,
  };
}
