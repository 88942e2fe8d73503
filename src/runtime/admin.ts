import type { MessagePort } from 'node:worker_threads';
import type { Endpoint } from 'comlink';
import type { PartitionRule, NetworkConfig } from '../net/model.js';
import type { StatsSnapshot } from './stats.js';
import type { HostEvent } from './env.js';
import type { ActorSummary } from './cell.js';

/** What a host answers to ping: its actors, its clock and (threads) its worker's memory. */
export interface HostPing {
  host: number;
  actors: number;
  nowMs: number;
  /** This worker's V8 heap in use and reserved, and memory outside it (each worker has a heap of its own). */
  heapUsedBytes?: number;
  heapTotalBytes?: number;
  externalBytes?: number;
  /** The V8 heap limits the worker runs with (see WORKER_OLD_GENERATION_MB_MAX in threads.ts). */
  maxOldGenerationSizeMb?: number | undefined;
  maxYoungGenerationSizeMb?: number | undefined;
}

/**
 * The control plane of a worker host, exposed over comlink on its own MessagePort. It never
 * carries data-plane traffic: that goes over the direct host-to-host ports.
 */
export interface AdminApi {
  ping(): HostPing;
  summary(address: string): ActorSummary | null;
  stats(): StatsSnapshot;
  errors(): HostEvent[];
  connect(peer: number, port: MessagePort): void;
  disconnect(peer: number): void;
  setNetwork(config: NetworkConfig): void;
  setPartitions(rules: PartitionRule[]): void;
  setNodeDead(node: string, dead: boolean): void;
  setClockSkew(node: string, ms: number): void;
  crashNode(node: string): number;
  restartNode(node: string): number;
  /** Pause (true) or resume (false) the actors of `node` on this host (see Host.pauseNode). */
  pauseNode(node: string, paused: boolean): number;
  /** Test hook: hand raw bytes to the host as if a peer had sent them. */
  injectFrame(bytes: Uint8Array): void;
}

/** comlink's Endpoint over a Node MessagePort (what comlink's node adapter does, typed). */
export function portEndpoint(port: MessagePort): Endpoint {
  const listeners = new WeakMap<object, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: unknown[]) => {
      port.postMessage(message, transfer as never);
    },
    addEventListener: (_type: string, listener: unknown) => {
      const wrapped = (data: unknown): void => {
        if (typeof listener === 'function') listener({ data });
        else (listener as { handleEvent(e: unknown): void }).handleEvent({ data });
      };
      listeners.set(listener as object, wrapped);
      port.on('message', wrapped);
    },
    removeEventListener: (_type: string, listener: unknown) => {
      const wrapped = listeners.get(listener as object);
      if (wrapped === undefined) return;
      port.off('message', wrapped);
      listeners.delete(listener as object);
    },
    start: () => port.start(),
  } as Endpoint;
}
