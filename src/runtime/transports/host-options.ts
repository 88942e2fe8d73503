/**
 * What the hosts of actors are built from, whichever transport runs them: the simulator's world
 * (every host in one process, sim.ts) and a thread's host (thread-host.ts) take the same six
 * options, and the runtimes that build them (sim-runtime.ts, threads.ts) pass them on from
 * their own options.
 */
import type { Behavior } from '../actor.js';
import type { DirectoryEntry } from '../host.js';
import type { NetworkConfig } from '../../net/model.js';

export interface ActorHostOptions {
  seed: number;
  directory: Map<string, DirectoryEntry>;
  behaviors: Map<string, Behavior>;
  network?: NetworkConfig;
  mailboxCapacity?: number;
  messageBytesMax?: number;
}

/** The ActorHostOptions among a runtime's `options` (and nothing else of them). */
export function actorHostOptions(options: ActorHostOptions): ActorHostOptions {
  return {
    seed: options.seed,
    directory: options.directory,
    behaviors: options.behaviors,
    network: options.network,
    mailboxCapacity: options.mailboxCapacity,
    messageBytesMax: options.messageBytesMax,
  };
}
