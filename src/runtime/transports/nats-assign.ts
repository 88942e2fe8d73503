import { describe } from '../../core/errors.js';
import { CLOCK_SKEW_MS_MAX, MAILBOX_CAPACITY_MAX, MESSAGE_BYTES_MAX_MAX, NETWORK_DELAY_MS_MAX, SEED_MAX } from '../../core/limits.js';
import type { NetworkConfig, PartitionRule } from '../../net/model.js';
import type { ActorSpec } from '../actor.js';
import type { DirectoryEntry } from '../host.js';
import type { NatsAssign, NatsLayout } from './worker-protocol.js';

/**
 * A NATS host's assignment, checked before the host acts on any of it: anyone who can publish
 * on the server can send one to a waiting host (its uid is in its hellos). Before (audit,
 * session 56) a host imported whatever module `behaviorsModule` named (a `data:` URL ran the
 * sender's code) and wrote its logs wherever `dataDir` said, and nothing else was looked at.
 * Now every field is checked for its type and range, and the module must be a `file:` URL: a
 * module on the host's own machine (the launcher sends the package's behaviours module, or
 * one a caller of NatsRuntime names, both files).
 */
export class AssignmentError extends Error {
  override name = 'AssignmentError';
  constructor(
    readonly field: string,
    allowed: string,
    got: unknown,
  ) {
    super(`assignment${field === '' ? '' : `.${field}`}: expected ${allowed}, got ${describe(got)}`);
  }
}

/** The most hosts, actors or nodes an assignment lists (each list is far shorter in practice). */
export const ASSIGNMENT_ENTRIES_MAX = 1_000_000;
/** The longest stats push interval an assignment may ask for, ms. */
const STATS_INTERVAL_MS_MAX = 60_000;

const FIELDS = [
  'hostId',
  'seed',
  'directory',
  'network',
  'partitions',
  'deadNodes',
  'clockSkew',
  'mailboxCapacity',
  'messageBytesMax',
  'fsync',
  'specs',
  'crashed',
  'behaviorsModule',
  'statsIntervalMs',
  'layout',
] as const satisfies ReadonlyArray<keyof NatsAssign>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw new AssignmentError(field, `an integer from ${min} to ${max}`, v);
  return v as number;
}

function num(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new AssignmentError(field, `a number from ${min} to ${max}`, v);
  return v;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw new AssignmentError(field, 'a non-empty string', v);
  return v;
}

function list(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v) || v.length > ASSIGNMENT_ENTRIES_MAX) throw new AssignmentError(field, `an array of at most ${ASSIGNMENT_ENTRIES_MAX}`, v);
  return v;
}

function strings(v: unknown, field: string): string[] {
  return list(v, field).map((s, i) => str(s, `${field}[${i}]`));
}

function numbers(v: unknown, field: string, max: number): Record<string, number> {
  if (!isObject(v)) throw new AssignmentError(field, 'an object of numbers', v);
  return Object.fromEntries(Object.entries(v).map(([key, n]) => [key, num(n, `${field}["${key}"]`, 0, max)]));
}

const NETWORK_MS = ['defaultLatencyMs', 'jitterMs', 'duplicateDelayMs'] as const;
const NETWORK_P = ['loss', 'duplicate'] as const;
const NETWORK_MAPS = ['latencyMs', 'nodeDelayMs'] as const;

function network(v: unknown): NetworkConfig {
  if (!isObject(v)) throw new AssignmentError('network', 'an object', v);
  const out: NetworkConfig = {};
  for (const key of Object.keys(v)) {
    const at = `network.${key}`;
    const ms = NETWORK_MS.find((k) => k === key);
    const p = NETWORK_P.find((k) => k === key);
    const map = NETWORK_MAPS.find((k) => k === key);
    if (ms !== undefined) out[ms] = num(v[key], at, 0, NETWORK_DELAY_MS_MAX);
    else if (p !== undefined) out[p] = num(v[key], at, 0, 1);
    else if (map !== undefined) out[map] = numbers(v[key], at, NETWORK_DELAY_MS_MAX);
    else throw new AssignmentError(at, `one of the network settings (${[...NETWORK_MS, ...NETWORK_P, ...NETWORK_MAPS].join(', ')})`, 'an unknown setting');
  }
  return out;
}

function partitions(v: unknown): PartitionRule[] {
  return list(v, 'partitions').map((r, i) => {
    const at = `partitions[${i}]`;
    if (!isObject(r)) throw new AssignmentError(at, '{ from, to, oneWay }', r);
    if (typeof r.oneWay !== 'boolean') throw new AssignmentError(`${at}.oneWay`, 'a boolean', r.oneWay);
    return { from: strings(r.from, `${at}.from`), to: strings(r.to, `${at}.to`), oneWay: r.oneWay };
  });
}

function directory(v: unknown): Array<[string, DirectoryEntry]> {
  return list(v, 'directory').map((e, i) => {
    const at = `directory[${i}]`;
    if (!Array.isArray(e) || e.length !== 2) throw new AssignmentError(at, '[address, { host, region, node, index? }]', e);
    const address = str(e[0], `${at}[0]`);
    const entry: unknown = e[1];
    if (!isObject(entry)) throw new AssignmentError(`${at}[1]`, '{ host, region, node, index? }', entry);
    const out: DirectoryEntry = {
      host: int(entry.host, `${at}[1].host`, 0, ASSIGNMENT_ENTRIES_MAX),
      region: str(entry.region, `${at}[1].region`),
      node: str(entry.node, `${at}[1].node`),
    };
    if (entry.index !== undefined) out.index = int(entry.index, `${at}[1].index`, 0, ASSIGNMENT_ENTRIES_MAX);
    return [address, out];
  });
}

function specs(v: unknown, hostId: number, where: Map<string, DirectoryEntry>): ActorSpec[] {
  const seen = new Set<string>();
  return list(v, 'specs').map((s, i) => {
    const at = `specs[${i}]`;
    if (!isObject(s)) throw new AssignmentError(at, '{ address, behavior, params, region, node, supervision? }', s);
    const address = str(s.address, `${at}.address`);
    const spec: ActorSpec = {
      address,
      behavior: str(s.behavior, `${at}.behavior`),
      params: s.params,
      region: str(s.region, `${at}.region`),
      node: str(s.node, `${at}.node`),
    };
    if (s.supervision === 'restart' || s.supervision === 'stop') spec.supervision = s.supervision;
    else if (s.supervision !== undefined) throw new AssignmentError(`${at}.supervision`, "'restart' or 'stop'", s.supervision);
    if (seen.has(address)) throw new AssignmentError(`${at}.address`, 'an address no other spec has', address);
    seen.add(address);
    // The directory is how every host finds this actor: one it places elsewhere is not this host's.
    const entry = where.get(address);
    if (entry === undefined || entry.host !== hostId || entry.region !== spec.region || entry.node !== spec.node)
      throw new AssignmentError(`${at}.address`, `an address the directory places on host ${hostId} in the spec's region and node`, address);
    return spec;
  });
}

function layout(v: unknown): NatsLayout | null {
  if (v === null) return null;
  if (!isObject(v)) throw new AssignmentError('layout', '{ shards, regions } or null', v);
  return {
    shards: int(v.shards, 'layout.shards', 1, ASSIGNMENT_ENTRIES_MAX),
    regions: list(v.regions, 'layout.regions').map((r, i) => {
      if (!isObject(r)) throw new AssignmentError(`layout.regions[${i}]`, '{ name, servers }', r);
      return { name: str(r.name, `layout.regions[${i}].name`), servers: int(r.servers, `layout.regions[${i}].servers`, 1, ASSIGNMENT_ENTRIES_MAX) };
    }),
  };
}

/**
 * `behaviorsModule` if it is a `file:` URL, else an AssignmentError: a `data:` URL is code in
 * the message itself, an `http:` one code from anywhere, `node:` a built-in.
 */
function behaviorsModuleUrl(v: unknown): string {
  const allowed = 'a file: URL (a module on this machine; data:, http:, https:, node: and other URLs are refused)';
  if (typeof v !== 'string') throw new AssignmentError('behaviorsModule', allowed, v);
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new AssignmentError('behaviorsModule', allowed, v);
  }
  if (url.protocol !== 'file:') throw new AssignmentError('behaviorsModule', allowed, v);
  return v;
}

/** `value` as an assignment, every field checked (see AssignmentError), or an AssignmentError naming the first bad one. */
export function checkAssign(value: unknown): NatsAssign {
  if (!isObject(value)) throw new AssignmentError('', 'an object', value);
  // First: what a host must never do is import code the message names.
  const behaviorsModule = behaviorsModuleUrl(value.behaviorsModule);
  for (const key of Object.keys(value)) {
    if ((FIELDS as readonly string[]).includes(key)) continue;
    // A launcher of before session 56 sent one; a host keeps its logs where it was started to.
    if (key === 'dataDir') throw new AssignmentError(key, "no dataDir (a host's logs go where it was started to: meridian host --data-dir)", value[key]);
    throw new AssignmentError(key, `only the fields ${FIELDS.join(', ')}`, 'an unknown field');
  }
  const missing = FIELDS.filter((f) => !(f in value));
  if (missing.length > 0) throw new AssignmentError(missing[0]!, 'a value', undefined);
  const hostId = int(value.hostId, 'hostId', 1, ASSIGNMENT_ENTRIES_MAX);
  const dir = directory(value.directory);
  const specList = specs(value.specs, hostId, new Map(dir));
  const nodes = new Set(specList.map((s) => s.node));
  if (typeof value.fsync !== 'boolean') throw new AssignmentError('fsync', 'a boolean', value.fsync);
  return {
    hostId,
    seed: int(value.seed, 'seed', 0, SEED_MAX),
    directory: dir,
    network: network(value.network),
    partitions: partitions(value.partitions),
    deadNodes: strings(value.deadNodes, 'deadNodes'),
    clockSkew: list(value.clockSkew, 'clockSkew').map((e, i): [string, number] => {
      if (!Array.isArray(e) || e.length !== 2) throw new AssignmentError(`clockSkew[${i}]`, '[node, ms]', e);
      return [str(e[0], `clockSkew[${i}][0]`), num(e[1], `clockSkew[${i}][1]`, -CLOCK_SKEW_MS_MAX, CLOCK_SKEW_MS_MAX)];
    }),
    mailboxCapacity: int(value.mailboxCapacity, 'mailboxCapacity', 1, MAILBOX_CAPACITY_MAX),
    messageBytesMax: int(value.messageBytesMax, 'messageBytesMax', 1, MESSAGE_BYTES_MAX_MAX),
    fsync: value.fsync,
    specs: specList,
    crashed: strings(value.crashed, 'crashed').map((node, i) => {
      if (!nodes.has(node)) throw new AssignmentError(`crashed[${i}]`, "a node of this host's specs", node);
      return node;
    }),
    behaviorsModule,
    statsIntervalMs: int(value.statsIntervalMs, 'statsIntervalMs', 1, STATS_INTERVAL_MS_MAX),
    layout: layout(value.layout),
  };
}
