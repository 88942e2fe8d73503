import { ConfigError } from '../core/errors.js';
import { MAILBOX_CAPACITY_MAX, MESSAGE_BYTES_MAX_MAX, MESSAGE_BYTES_MAX_MIN, NETWORK_DELAY_MS_MAX, SEED_MAX } from '../core/limits.js';
import { pairKey, type NetworkConfig } from '../net/model.js';

/**
 * The checks of what a runtime's hosts are given, shared by the cluster's config
 * (cluster/config.ts, which re-exports them) and a NATS host's assignment and control requests
 * (transports/nats-assign.ts): a host accepts exactly what a cluster accepts, and refuses the
 * rest in the same words. Each throws a ConfigError naming the field.
 */

export const SHARDS_MAX = 4096;
export const REGIONS_MAX = 64;
export const SERVERS_PER_REGION_MAX = 10_000;
export const REGION_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Names the pattern lets through that a region cannot have: `front` is the node every
 * balancer runs on (a partition of a region named so cut the balancers off: FRONT_NODE),
 * `runtime` the stats bucket of the runtime's own messages, and `constructor` a key every
 * plain object has (the region actor's stats were looked up as Object.prototype.constructor:
 * a TypeError at start). Found by an audit, session 54.
 */
export const RESERVED_REGION_NAMES: readonly string[] = ['front', 'runtime', 'constructor'];
const RESERVED_WHY = 'names the runtime uses for itself';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

export function checkKeys(value: Record<string, unknown>, allowed: Iterable<string>, field: string): void {
  const set = new Set(allowed);
  for (const key of Object.keys(value)) {
    if (!set.has(key)) throw new ConfigError(field === '' ? key : `${field}.${key}`, `one of the known options (${[...set].join(', ')})`, 'an unknown option');
  }
}

export function checkInt(value: unknown, field: string, min: number, max: number, what?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, what ?? `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function checkNumber(value: unknown, field: string, min: number, max: number, what?: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(field, what ?? `a number from ${min} to ${max}`, value);
  }
  return value;
}

/** `value` if it is one of `allowed`, else a ConfigError; `whenMissing` says why a required field must be given (the error has no "got" to show). */
export function checkOneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], whenMissing?: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    const oneOf = `one of ${allowed.map((a) => `'${a}'`).join(', ')}`;
    throw new ConfigError(field, value === undefined && whenMissing !== undefined ? `${oneOf}: ${whenMissing}` : oneOf, value);
  }
  return value as T;
}

export type ReplicationMode = 'none' | 'passive' | 'active' | 'hybrid';
export const REPLICATION_MODES: readonly ReplicationMode[] = ['none', 'passive', 'active', 'hybrid'];
/** Most replicas of a shard (`replication.factor`). */
export const REPLICATION_FACTOR_MAX = 15;

/**
 * The most replicas a shard may have in mode `mode` on `regions` with `shards` shards, and
 * why: the cluster's servers (at most REPLICATION_FACTOR_MAX); 1 with 'none'; with 'hybrid'
 * the servers of the smallest region that is some shard's home (shard s's home is region
 * s mod regions: its Paxos group is there).
 */
export function replicationFactorMax(mode: ReplicationMode, regions: readonly RegionConfig[], shards: number): { max: number; why: string } {
  if (mode === 'none') return { max: 1, why: "1 with mode 'none' (choose a replication mode for more copies)" };
  const total = regions.reduce((n, r) => n + r.servers, 0);
  if (mode !== 'hybrid') return { max: Math.min(total, REPLICATION_FACTOR_MAX), why: "at most the cluster's servers" };
  let home = regions[0]!;
  for (let i = 1; i < Math.min(shards, regions.length); i++) if (regions[i]!.servers < home.servers) home = regions[i]!;
  const max = Math.min(home.servers, REPLICATION_FACTOR_MAX);
  return {
    max,
    why: `in mode 'hybrid' a shard's group is inside its home region, and region ${home.name}, a home, has ${home.servers} server${home.servers === 1 ? '' : 's'}`,
  };
}

/**
 * `value` as the replication factor of mode `mode` on `regions` with `shards` shards (1 to
 * replicationFactorMax), or a ConfigError naming `field` and what is allowed. Before (audit,
 * session 59) hybrid took any factor up to the cluster's servers and made groups of its home
 * region's servers: factor 3 on regions of one server made groups of one, silently.
 */
export function checkReplicationFactor(
  value: unknown,
  mode: ReplicationMode,
  regions: readonly RegionConfig[],
  shards: number,
  field = 'replication.factor',
): number {
  const { max, why } = replicationFactorMax(mode, regions, shards);
  if (mode === 'hybrid') return checkInt(value, field, 1, max, `an integer from 1 to ${max} (${why})`);
  const total = regions.reduce((n, r) => n + r.servers, 0);
  const factor = checkInt(value, field, 1, Math.min(total, REPLICATION_FACTOR_MAX));
  if (mode === 'none' && factor !== 1) throw new ConfigError(field, why, factor);
  return factor;
}

/**
 * `network` checked (a ConfigError naming `field` and the setting): latencyMs keys must name
 * regions of `regionNames`, nodeDelayMs keys servers of `servers` (when given).
 */
export function validateNetwork(network: unknown, regionNames: ReadonlySet<string>, field = 'network', servers?: ReadonlySet<string>): NetworkConfig {
  if (!isPlainObject(network)) throw new ConfigError(field, 'a plain object', network);
  checkKeys(network, ['latencyMs', 'defaultLatencyMs', 'jitterMs', 'loss', 'duplicate', 'duplicateDelayMs', 'nodeDelayMs'], field);
  const out: NetworkConfig = {};
  if (network.latencyMs !== undefined) {
    if (!isPlainObject(network.latencyMs))
      throw new ConfigError(`${field}.latencyMs`, "an object mapping 'regionA~regionB' to milliseconds", network.latencyMs);
    const latency: Record<string, number> = {};
    // 'a~b' and 'b~a' name one pair: the key each pair was first given under.
    const pairs = new Map<string, string>();
    for (const [key, ms] of Object.entries(network.latencyMs)) {
      const parts = key.split('~');
      const f = `${field}.latencyMs["${key}"]`;
      if (parts.length !== 2) throw new ConfigError(f, "a key of the form 'regionA~regionB'", key);
      for (const region of parts) {
        if (!regionNames.has(region))
          throw new ConfigError(f, `regions that exist (${[...regionNames].join(', ')})`, `unknown region ${JSON.stringify(region)}`);
      }
      const value = checkNumber(ms, f, 0, NETWORK_DELAY_MS_MAX, 'a latency in ms from 0 to 600000');
      const pair = pairKey(parts[0]!, parts[1]!);
      const first = pairs.get(pair);
      if (first === undefined) {
        pairs.set(pair, key);
        latency[key] = value;
      } else if (latency[first] !== value) {
        // The same latency under both spellings says nothing twice; two different ones would leave one ignored.
        throw new ConfigError(f, `one latency per pair of regions ('${first}' is the same pair, given ${latency[first]} ms)`, value);
      }
    }
    out.latencyMs = latency;
  }
  if (network.defaultLatencyMs !== undefined)
    out.defaultLatencyMs = checkNumber(network.defaultLatencyMs, `${field}.defaultLatencyMs`, 0, NETWORK_DELAY_MS_MAX);
  if (network.jitterMs !== undefined) out.jitterMs = checkNumber(network.jitterMs, `${field}.jitterMs`, 0, NETWORK_DELAY_MS_MAX);
  if (network.loss !== undefined) out.loss = checkNumber(network.loss, `${field}.loss`, 0, 1, 'a probability from 0 to 1');
  if (network.duplicate !== undefined) out.duplicate = checkNumber(network.duplicate, `${field}.duplicate`, 0, 1, 'a probability from 0 to 1');
  if (network.duplicateDelayMs !== undefined)
    out.duplicateDelayMs = checkNumber(network.duplicateDelayMs, `${field}.duplicateDelayMs`, 0, NETWORK_DELAY_MS_MAX);
  if (network.nodeDelayMs !== undefined) {
    if (!isPlainObject(network.nodeDelayMs)) throw new ConfigError(`${field}.nodeDelayMs`, 'an object mapping server ids to milliseconds', network.nodeDelayMs);
    const delays: Record<string, number> = {};
    for (const [id, ms] of Object.entries(network.nodeDelayMs)) {
      const f = `${field}.nodeDelayMs["${id}"]`;
      if (servers !== undefined && !servers.has(id)) throw new ConfigError(f, 'a server id of this cluster (region/index, index from 0)', id);
      delays[id] = checkNumber(ms, f, 0, NETWORK_DELAY_MS_MAX, 'a delay in ms from 0 to 600000');
    }
    out.nodeDelayMs = delays;
  }
  return out;
}

/** A region of a cluster (`regions[i]`, and a layout's). */
export interface RegionConfig {
  name: string;
  servers: number;
}

/** `regions`: 1 to REGIONS_MAX of { name, servers }, names unique, each checked (holes too). */
export function validateRegions(value: unknown, field = 'regions'): RegionConfig[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError(field, `a non-empty array of { name, servers } (at most ${REGIONS_MAX})`, value);
  }
  if (value.length > REGIONS_MAX) throw new ConfigError(field, `at most ${REGIONS_MAX} regions`, value);
  const names = new Set<string>();
  const regions: RegionConfig[] = [];
  // Every index, holes too (forEach skips them: `regions: [, r]` started with the hole dropped).
  for (let i = 0; i < value.length; i++) {
    const region: unknown = value[i];
    const f = `${field}[${i}]`;
    if (!isPlainObject(region)) throw new ConfigError(f, 'an object { name, servers }', region);
    checkKeys(region, ['name', 'servers'], f);
    if (typeof region.name !== 'string' || !REGION_NAME_PATTERN.test(region.name)) {
      throw new ConfigError(`${f}.name`, 'a name of lowercase letters, digits and dashes, starting with a letter, at most 32 characters', region.name);
    }
    if (RESERVED_REGION_NAMES.includes(region.name))
      throw new ConfigError(`${f}.name`, `a name other than ${RESERVED_REGION_NAMES.join(', ')} (${RESERVED_WHY})`, region.name);
    if (names.has(region.name)) throw new ConfigError(`${f}.name`, 'a region name not used by another region', region.name);
    names.add(region.name);
    const servers = checkInt(region.servers, `${f}.servers`, 1, SERVERS_PER_REGION_MAX);
    regions.push({ name: region.name, servers });
  }
  return regions;
}

/** The server ids of `regions` (`region/index`, index from 0). */
export function serverIdsOf(regions: readonly RegionConfig[]): Set<string> {
  const ids = new Set<string>();
  for (const r of regions) for (let i = 0; i < r.servers; i++) ids.add(`${r.name}/${i}`);
  return ids;
}

export function checkShards(value: unknown, field = 'shards'): number {
  return checkInt(value, field, 1, SHARDS_MAX);
}

export function checkSeed(value: unknown, field = 'seed'): number {
  return checkInt(value, field, 0, SEED_MAX);
}

export function checkMailboxCapacity(value: unknown, field = 'mailboxCapacity'): number {
  return checkInt(value, field, 1, MAILBOX_CAPACITY_MAX);
}

export function checkMessageBytesMax(value: unknown, field = 'messageBytesMax'): number {
  return checkInt(value, field, MESSAGE_BYTES_MAX_MIN, MESSAGE_BYTES_MAX_MAX);
}
