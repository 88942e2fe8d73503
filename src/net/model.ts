import type { Prng } from '../core/prng.js';

/**
 * The network model, applied by the router to every message on both transports. Pure: the
 * caller passes the PRNG; the model never reads a clock.
 */
export interface NetworkConfig {
  /**
   * Latency between regions, keys `'a~b'` (symmetric: `'b~a'` names the same pair, and a pair
   * may be given once). Within a region the default is 0.
   */
  latencyMs?: Record<string, number>;
  /** Latency for a pair of regions that has no entry. */
  defaultLatencyMs?: number;
  /** Uniform jitter added to each message: a draw from [0, jitterMs). Reorders messages. */
  jitterMs?: number;
  /** Probability that a message is lost. */
  loss?: number;
  /** Probability that a message is delivered twice. */
  duplicate?: number;
  /**
   * How much later a duplicate may come than its original would: the copy's delay gets a draw
   * from [0, duplicateDelayMs) on top of its own latency and jitter (a retransmission after a
   * timeout, not a twin in the same instant). 0 (the default): a copy is delayed as any message.
   */
  duplicateDelayMs?: number;
  /** Extra delay of every message delivered to a node (a slow server, not a dead one). */
  nodeDelayMs?: Record<string, number>;
}

export interface ResolvedNetwork {
  latency: Map<string, number>;
  defaultLatencyMs: number;
  jitterMs: number;
  loss: number;
  duplicate: number;
  duplicateDelayMs: number;
  nodeDelay: Map<string, number>;
  /** Some region has a latency to itself configured ('a~a'). */
  intraRegionLatency: boolean;
  /** `latency` by source then destination region, filled as pairs are met (no key string per message). */
  byPair: Map<string, Map<string, number | undefined>>;
  lastPair: { a: string; b: string; ms: number | undefined };
}

/**
 * One partition rule: traffic from any of `from` to any of `to` is blocked (and back, unless
 * oneWay). A message's fate is decided when it is sent (decideInto): a rule blocks messages
 * sent while it is in force, not those already in flight, which still arrive; a modelling
 * choice (see docs/design.md, Network changes).
 */
export interface PartitionRule {
  from: string[];
  to: string[];
  oneWay: boolean;
}

/** Options of a partition (`cluster.partition(a, b, options)`). */
export interface PartitionOptions {
  /** Block only traffic from the first group to the second. */
  oneWay?: boolean;
}

/** Where an actor lives in the network: its region and its node (a server id, region id, ...). */
export interface Location {
  region: string;
  node: string;
}

/**
 * Why a message was dropped (stats().dropped, meridian_messages_dropped_total's `cause`).
 * 'loss' is the network model's simulated loss only; 'backlog-full' is a transport's own
 * overflow (a NATS peer's credit backlog past BACKLOG_BYTES_MAX, a thread's port to a host that
 * has not read PORT_BYTES_MAX of frames), kept apart so an overloaded link is not read as
 * configured loss.
 */
export type DropCause =
  'loss' | 'partition' | 'dead' | 'unknown-address' | 'too-large' | 'encode-error' | 'mailbox-full' | 'malformed' | 'no-actor' | 'stopped' | 'backlog-full';

export const DROP_CAUSES: readonly DropCause[] = [
  'loss',
  'partition',
  'dead',
  'unknown-address',
  'too-large',
  'encode-error',
  'mailbox-full',
  'malformed',
  'no-actor',
  'stopped',
  'backlog-full',
];

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}~${b}` : `${b}~${a}`;
}

/** The pair a `latencyMs` key ('a~b' or 'b~a') names, as pairKey spells it. */
function latencyPair(key: string): string {
  const [a, b] = key.split('~') as [string, string];
  return pairKey(a, b);
}

export function resolveNetwork(config: NetworkConfig | undefined): ResolvedNetwork {
  const latency = new Map<string, number>();
  for (const [key, ms] of Object.entries(config?.latencyMs ?? {})) {
    const [a, b] = key.split('~') as [string, string];
    latency.set(pairKey(a, b), ms);
  }
  return {
    latency,
    defaultLatencyMs: config?.defaultLatencyMs ?? 0,
    jitterMs: config?.jitterMs ?? 0,
    loss: config?.loss ?? 0,
    duplicate: config?.duplicate ?? 0,
    duplicateDelayMs: config?.duplicateDelayMs ?? 0,
    nodeDelay: new Map(Object.entries(config?.nodeDelayMs ?? {})),
    intraRegionLatency: [...latency.keys()].some((k) => {
      const [a, b] = k.split('~');
      return a === b;
    }),
    byPair: new Map(),
    lastPair: { a: '', b: '', ms: undefined },
  };
}

/** The configured latency between two regions, if any. */
function pairLatency(net: ResolvedNetwork, a: string, b: string): number | undefined {
  // Consecutive messages mostly go between the same two regions.
  const last = net.lastPair;
  if (last.a === a && last.b === b) return last.ms;
  last.a = a;
  last.b = b;
  last.ms = pairLatencyLookup(net, a, b);
  return last.ms;
}

function pairLatencyLookup(net: ResolvedNetwork, a: string, b: string): number | undefined {
  let row = net.byPair.get(a);
  if (row === undefined) net.byPair.set(a, (row = new Map()));
  if (row.has(b)) return row.get(b);
  const ms = net.latency.get(pairKey(a, b));
  row.set(b, ms);
  return ms;
}

/**
 * `change` over `base`. A latency in `change` replaces its pair's, whichever spelling either
 * uses ('a~b' or 'b~a'); the pair keeps the key it had, so the table holds one key per pair.
 */
export function mergeNetwork(base: NetworkConfig, change: NetworkConfig): NetworkConfig {
  const latencyMs = { ...(base.latencyMs ?? {}) };
  if (change.latencyMs !== undefined) {
    const keyOf = new Map<string, string>();
    for (const key of Object.keys(latencyMs)) keyOf.set(latencyPair(key), key);
    for (const [key, ms] of Object.entries(change.latencyMs)) {
      const pair = latencyPair(key);
      const existing = keyOf.get(pair);
      if (existing === undefined) keyOf.set(pair, key);
      latencyMs[existing ?? key] = ms;
    }
  }
  return {
    ...base,
    ...change,
    latencyMs,
    nodeDelayMs: { ...(base.nodeDelayMs ?? {}), ...(change.nodeDelayMs ?? {}) },
  };
}

export class Partitions {
  private rules: PartitionRule[] = [];

  add(rule: PartitionRule): void {
    this.rules.push({ from: [...rule.from], to: [...rule.to], oneWay: rule.oneWay });
  }

  clear(): void {
    this.rules = [];
  }

  list(): PartitionRule[] {
    return this.rules.map((r) => ({ from: [...r.from], to: [...r.to], oneWay: r.oneWay }));
  }

  set(rules: PartitionRule[]): void {
    this.clear();
    for (const rule of rules) this.add(rule);
  }

  get size(): number {
    return this.rules.length;
  }

  /**
   * True when a message from `src` to `dst` is blocked. A name matches a region or a node. A
   * node's messages to itself never are: a partition cuts links between nodes. A region on one
   * side and one of its servers (or its coordinator) on the other, as bench/failover.ts isolates
   * a server, dropped the server's messages to itself too (an audit of public inputs, session
   * 66). The region is compared too: the front node holds every region's balancer, and a
   * partition between regions cuts their balancers apart.
   */
  blocks(src: Location, dst: Location): boolean {
    if (src.node === dst.node && src.region === dst.region) return false;
    for (const rule of this.rules) {
      if (matches(rule.from, src) && matches(rule.to, dst)) return true;
      if (!rule.oneWay && matches(rule.to, src) && matches(rule.from, dst)) return true;
    }
    return false;
  }
}

function matches(names: string[], loc: Location): boolean {
  for (const name of names) if (name === loc.region || name === loc.node) return true;
  return false;
}

export type NetDecision = { drop: DropCause } | { delaysMs: number[] };

/** The common case on a quiet network, shared so the router allocates nothing for it. */
const DELIVER_NOW: NetDecision = Object.freeze({ delaysMs: Object.freeze([0]) as number[] });

/**
 * Decides the fate of one message: dropped (and why) or delivered after each of `delaysMs`
 * (two entries when duplicated). Draws from `prng` in a fixed order so runs replay exactly.
 */
export function decide(net: ResolvedNetwork, partitions: Partitions, src: Location, dst: Location, prng: Prng): NetDecision {
  const delays: number[] = [];
  const fate = decideInto(net, partitions, src, dst, prng, delays);
  if (typeof fate === 'string') return { drop: fate };
  if (
    fate === 1 &&
    delays[0] === 0 &&
    src.region === dst.region &&
    net.jitterMs === 0 &&
    net.duplicate === 0 &&
    net.nodeDelay.size === 0 &&
    !net.intraRegionLatency
  )
    return DELIVER_NOW;
  return { delaysMs: delays };
}

/**
 * As `decide`, for the router's hot path: writes the delays into `delaysMs` and returns how
 * many (1, or 2 when duplicated), or the cause of the drop. Allocates nothing; the same draws.
 */
export function decideInto(net: ResolvedNetwork, partitions: Partitions, src: Location, dst: Location, prng: Prng, delaysMs: number[]): DropCause | number {
  if (partitions.size > 0 && partitions.blocks(src, dst)) return 'partition';
  if (net.loss > 0 && prng.next() < net.loss) return 'loss';
  if (src.region === dst.region && net.jitterMs === 0 && net.duplicate === 0 && net.nodeDelay.size === 0 && !net.intraRegionLatency) {
    delaysMs[0] = 0;
    return 1;
  }
  const base =
    (pairLatency(net, src.region, dst.region) ?? (src.region === dst.region ? 0 : net.defaultLatencyMs)) +
    (net.nodeDelay.size > 0 ? (net.nodeDelay.get(dst.node) ?? 0) : 0);
  delaysMs[0] = base + (net.jitterMs > 0 ? prng.next() * net.jitterMs : 0);
  if (net.duplicate > 0 && prng.next() < net.duplicate) {
    delaysMs[1] = base + (net.jitterMs > 0 ? prng.next() * net.jitterMs : 0) + (net.duplicateDelayMs > 0 ? prng.next() * net.duplicateDelayMs : 0);
    return 2;
  }
  return 1;
}
