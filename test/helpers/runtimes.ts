import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActorSpec } from '../../src/runtime/actor.js';
import type { DirectoryEntry, HostEvent } from '../../src/runtime/host.js';
import type { HostPlan, Runtime } from '../../src/runtime/transports/runtime.js';
import { SimRuntime } from '../../src/runtime/transports/sim-runtime.js';
import { ThreadsRuntime } from '../../src/runtime/transports/threads.js';
import type { NetworkConfig } from '../../src/net/model.js';
import { behaviors } from '../fixtures/behaviors.js';

export interface Placed extends Omit<ActorSpec, 'region' | 'node'> {
  host: number;
  region?: string;
  node?: string;
}

/** Build a runtime (sim or threads) running the fixture behaviours at the given places. */
export async function runtimeWith(
  kind: 'sim' | 'threads',
  actors: Placed[],
  options: { seed?: number; network?: NetworkConfig; messageBytesMax?: number; mailboxCapacity?: number; events?: HostEvent[] } = {},
): Promise<Runtime> {
  const directory = new Map<string, DirectoryEntry>();
  const plans = new Map<number, HostPlan>();
  plans.set(0, { id: 0, specs: [], dedicated: false });
  for (const a of actors) {
    const spec: ActorSpec = { address: a.address, behavior: a.behavior, params: a.params, region: a.region ?? 'r1', node: a.node ?? a.address };
    if (a.supervision !== undefined) spec.supervision = a.supervision;
    let plan = plans.get(a.host);
    if (plan === undefined) plans.set(a.host, (plan = { id: a.host, specs: [], dedicated: true }));
    plan.specs.push(spec);
    directory.set(spec.address, { host: a.host, region: spec.region, node: spec.node });
  }
  const events = options.events ?? [];
  const common = {
    seed: options.seed ?? 1,
    directory,
    behaviors,
    network: options.network ?? {},
    mailboxCapacity: options.mailboxCapacity ?? 10_000,
    messageBytesMax: options.messageBytesMax ?? 1024 * 1024,
    onEvent: (e: HostEvent) => events.push(e),
  };
  const list = [...plans.values()].sort((a, b) => a.id - b.id);
  const runtime: Runtime =
    kind === 'sim'
      ? new SimRuntime({ ...common, recordTrace: false }, list)
      : new ThreadsRuntime(
          {
            ...common,
            behaviorsModule: new URL('../fixtures/behaviors.js', import.meta.url).href,
            dataDir: mkdtempSync(join(tmpdir(), 'meridian-test-')),
            removeDataDir: true,
            fsync: false,
          },
          list,
        );
  await runtime.start();
  return runtime;
}

/** Wait until `check` passes (sleeping on the runtime's clock), at most `maxMs`. */
export async function eventually(runtime: Runtime, check: () => Promise<boolean> | boolean, maxMs = 5_000, stepMs = 20): Promise<boolean> {
  for (let waited = 0; waited <= maxMs; waited += stepMs) {
    if (await check()) return true;
    await runtime.sleep(stepMs);
  }
  return false;
}
