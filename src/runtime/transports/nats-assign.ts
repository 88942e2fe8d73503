import { ConfigError, describe } from '../../core/errors.js';
import { CLOCK_SKEW_MS_MAX } from '../../core/limits.js';
import type { NetworkConfig, PartitionRule } from '../../net/model.js';
import type { ActorSpec } from '../actor.js';
import type { DirectoryEntry } from '../host.js';
import {
  checkInt,
  checkMailboxCapacity,
  checkMessageBytesMax,
  checkNumber,
  checkOneOf,
  checkReplicationFactor,
  checkSeed,
  checkShards,
  isPlainObject,
  REPLICATION_MODES,
  serverIdsOf,
  validateNetwork,
  validateRegions,
} from '../validate.js';
import type { ClusterLayout, ReplicationRecord } from '../layout.js';
import type { NatsAssign, NatsControlApi, NatsControlMethod, NatsControlRequest } from './worker-protocol.js';

/**
 * A NATS host's assignment, checked before the host acts on any of it: anyone who can publish
 * on the server can send one to a waiting host (its uid is in its hellos). Before (audit,
 * session 56) a host imported whatever module `behaviorsModule` named (a `data:` URL ran the
 * sender's code) and wrote its logs wherever `dataDir` said, and nothing else was looked at.
 * Now every field is checked for its type and range, and the module must be a `file:` URL: a
 * module on the host's own machine (the launcher sends the package's behaviours module, or
 * one a caller of NatsRuntime names, both files). What a cluster's config also has (seed,
 * network, mailboxCapacity, messageBytesMax, the layout's shards and regions, the replication
 * mode and factor) is checked by the config's own checks (../validate.ts): a host takes
 * exactly what a cluster takes, and refuses the rest in the same words, `assignment.` for
 * `config.` (before, session 57, its own looser copies let through a messageBytesMax of 1, or
 * a class instance for an object).
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

/**
 * A control request (`.c.<host>`, NatsControlRequest) a host refuses before it runs anything:
 * a method it does not serve, or arguments not of the method's types and ranges (the network
 * as an assignment's). Anyone who can publish on the server can send one; before (session 57)
 * nothing was checked and a malformed one failed, or did something, inside the method.
 */
export class ControlRequestError extends Error {
  override name = 'ControlRequestError';
  constructor(
    readonly field: string,
    allowed: string,
    got: unknown,
  ) {
    super(`control${field === '' ? '' : `.${field}`}: expected ${allowed}, got ${describe(got)}`);
  }
}

/** What a check below refuses, made the AssignmentError or ControlRequestError of what it checks (see refusedAs). */
class Refusal {
  constructor(
    readonly field: string,
    readonly allowed: string,
    readonly got: unknown,
  ) {}
}

/**
 * `check()`, its refusals (a Refusal, or a ConfigError of the config's checks: their words,
 * `assignment.` or `control.` for `config.`) thrown as an AssignmentError or ControlRequestError.
 */
function refusedAs<T>(Kind: typeof AssignmentError | typeof ControlRequestError, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof Refusal) throw new Kind(error.field, error.allowed, error.got);
    if (!(error instanceof ConfigError)) throw error;
    // The config's words, its field named under what this checks (ConfigError.under).
    const out = new Kind(error.field, error.allowed, undefined);
    out.message = error.under(Kind === AssignmentError ? 'assignment' : 'control').message;
    throw out;
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
  'launcher',
  'layout',
  'replication',
] as const satisfies ReadonlyArray<keyof NatsAssign>;

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw new Refusal(field, 'a non-empty string', v);
  return v;
}

function list(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v) || v.length > ASSIGNMENT_ENTRIES_MAX) throw new Refusal(field, `an array of at most ${ASSIGNMENT_ENTRIES_MAX}`, v);
  return v;
}

function strings(v: unknown, field: string): string[] {
  return list(v, field).map((s, i) => str(s, `${field}[${i}]`));
}

/**
 * The assignment's network, as the cluster's config takes it: latencyMs between the layout's
 * regions and nodeDelayMs of its servers (without a layout, bench's pair: the directory's
 * regions and nodes).
 */
function network(v: unknown, layout: ClusterLayout | null, directory: Array<[string, DirectoryEntry]>, field = 'network'): NetworkConfig {
  if (layout !== null) return validateNetwork(v, new Set(layout.regions.map((r) => r.name)), field, serverIdsOf(layout.regions));
  return validateNetwork(v, new Set(directory.map(([, e]) => e.region)), field, new Set(directory.map(([, e]) => e.node)));
}

function partitions(v: unknown, field = 'partitions'): PartitionRule[] {
  return list(v, field).map((r, i) => {
    const at = `${field}[${i}]`;
    if (!isPlainObject(r)) throw new Refusal(at, '{ from, to, oneWay }', r);
    if (typeof r.oneWay !== 'boolean') throw new Refusal(`${at}.oneWay`, 'a boolean', r.oneWay);
    return { from: strings(r.from, `${at}.from`), to: strings(r.to, `${at}.to`), oneWay: r.oneWay };
  });
}

function directory(v: unknown): Array<[string, DirectoryEntry]> {
  return list(v, 'directory').map((e, i) => {
    const at = `directory[${i}]`;
    if (!Array.isArray(e) || e.length !== 2) throw new Refusal(at, '[address, { host, region, node, index? }]', e);
    const address = str(e[0], `${at}[0]`);
    const entry: unknown = e[1];
    if (!isPlainObject(entry)) throw new Refusal(`${at}[1]`, '{ host, region, node, index? }', entry);
    const out: DirectoryEntry = {
      host: checkInt(entry.host, `${at}[1].host`, 0, ASSIGNMENT_ENTRIES_MAX),
      region: str(entry.region, `${at}[1].region`),
      node: str(entry.node, `${at}[1].node`),
    };
    if (entry.index !== undefined) out.index = checkInt(entry.index, `${at}[1].index`, 0, ASSIGNMENT_ENTRIES_MAX);
    return [address, out];
  });
}

function specs(v: unknown, hostId: number, where: Map<string, DirectoryEntry>): ActorSpec[] {
  const seen = new Set<string>();
  return list(v, 'specs').map((s, i) => {
    const at = `specs[${i}]`;
    if (!isPlainObject(s)) throw new Refusal(at, '{ address, behavior, params, region, node, supervision? }', s);
    const address = str(s.address, `${at}.address`);
    const spec: ActorSpec = {
      address,
      behavior: str(s.behavior, `${at}.behavior`),
      params: s.params,
      region: str(s.region, `${at}.region`),
      node: str(s.node, `${at}.node`),
    };
    if (s.supervision === 'restart' || s.supervision === 'stop') spec.supervision = s.supervision;
    else if (s.supervision !== undefined) throw new Refusal(`${at}.supervision`, "'restart' or 'stop'", s.supervision);
    if (seen.has(address)) throw new Refusal(`${at}.address`, 'an address no other spec has', address);
    seen.add(address);
    // The directory is how every host finds this actor: one it places elsewhere is not this host's.
    const entry = where.get(address);
    if (entry === undefined || entry.host !== hostId || entry.region !== spec.region || entry.node !== spec.node)
      throw new Refusal(`${at}.address`, `an address the directory places on host ${hostId} in the spec's region and node`, address);
    return spec;
  });
}

/** The layout: the cluster's shards and regions, checked as its config's are. */
function layout(v: unknown): ClusterLayout | null {
  if (v === null) return null;
  if (!isPlainObject(v)) throw new Refusal('layout', '{ shards, regions } or null', v);
  return { shards: checkShards(v.shards, 'layout.shards'), regions: validateRegions(v.regions, 'layout.regions') };
}

/**
 * The replication mode and factor, checked as the config's are (the factor against the
 * layout's servers); null with no layout, and only then.
 */
function replication(v: unknown, plan: ClusterLayout | null): ReplicationRecord | null {
  if (plan === null) {
    if (v !== null) throw new Refusal('replication', 'null with a null layout', v);
    return null;
  }
  if (!isPlainObject(v)) throw new Refusal('replication', '{ mode, factor }', v);
  for (const key of Object.keys(v))
    if (key !== 'mode' && key !== 'factor') throw new Refusal(`replication.${key}`, 'only the fields mode, factor', 'an unknown field');
  const mode = checkOneOf(v.mode, 'replication.mode', REPLICATION_MODES);
  return { mode, factor: checkReplicationFactor(v.factor, mode, plan.regions, plan.shards) };
}

/**
 * `behaviorsModule` if it is a `file:` URL, else an AssignmentError: a `data:` URL is code in
 * the message itself, an `http:` one code from anywhere, `node:` a built-in.
 */
function behaviorsModuleUrl(v: unknown): string {
  const allowed = 'a file: URL (a module on this machine; data:, http:, https:, node: and other URLs are refused)';
  if (typeof v !== 'string') throw new Refusal('behaviorsModule', allowed, v);
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new Refusal('behaviorsModule', allowed, v);
  }
  if (url.protocol !== 'file:') throw new Refusal('behaviorsModule', allowed, v);
  return v;
}

/** The launcher's generation (NatsAssign.launcher): what its beat carries, as UTF-8. */
function generation(v: unknown): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw new Refusal('launcher', '1 to 64 letters, digits, dashes and underscores', v);
  return v;
}

/** `value` as an assignment, every field checked (see AssignmentError), or an AssignmentError naming the first bad one. */
export function checkAssign(value: unknown): NatsAssign {
  return refusedAs(AssignmentError, () => assignment(value));
}

function assignment(value: unknown): NatsAssign {
  if (!isPlainObject(value)) throw new Refusal('', 'an object', value);
  // First: what a host must never do is import code the message names.
  const behaviorsModule = behaviorsModuleUrl(value.behaviorsModule);
  for (const key of Object.keys(value)) {
    if ((FIELDS as readonly string[]).includes(key)) continue;
    // A launcher of before session 56 sent one; a host keeps its logs where it was started to.
    if (key === 'dataDir') throw new Refusal(key, "no dataDir (a host's logs go where it was started to: meridian host --data-dir)", value[key]);
    throw new Refusal(key, `only the fields ${FIELDS.join(', ')}`, 'an unknown field');
  }
  const missing = FIELDS.filter((f) => !(f in value));
  if (missing.length > 0) throw new Refusal(missing[0]!, 'a value', undefined);
  const hostId = checkInt(value.hostId, 'hostId', 1, ASSIGNMENT_ENTRIES_MAX);
  const seed = checkSeed(value.seed);
  const dir = directory(value.directory);
  const plan = layout(value.layout);
  const specList = specs(value.specs, hostId, new Map(dir));
  const nodes = new Set(specList.map((s) => s.node));
  if (typeof value.fsync !== 'boolean') throw new Refusal('fsync', 'a boolean', value.fsync);
  return {
    hostId,
    seed,
    directory: dir,
    network: network(value.network, plan, dir),
    partitions: partitions(value.partitions),
    deadNodes: strings(value.deadNodes, 'deadNodes'),
    clockSkew: list(value.clockSkew, 'clockSkew').map((e, i): [string, number] => {
      if (!Array.isArray(e) || e.length !== 2) throw new Refusal(`clockSkew[${i}]`, '[node, ms]', e);
      return [str(e[0], `clockSkew[${i}][0]`), checkNumber(e[1], `clockSkew[${i}][1]`, -CLOCK_SKEW_MS_MAX, CLOCK_SKEW_MS_MAX)];
    }),
    mailboxCapacity: checkMailboxCapacity(value.mailboxCapacity),
    messageBytesMax: checkMessageBytesMax(value.messageBytesMax),
    fsync: value.fsync,
    specs: specList,
    crashed: strings(value.crashed, 'crashed').map((node, i) => {
      if (!nodes.has(node)) throw new Refusal(`crashed[${i}]`, "a node of this host's specs", node);
      return node;
    }),
    behaviorsModule,
    statsIntervalMs: checkInt(value.statsIntervalMs, 'statsIntervalMs', 1, STATS_INTERVAL_MS_MAX),
    launcher: generation(value.launcher),
    layout: plan,
    replication: replication(value.replication, plan),
  };
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new Refusal(field, 'a boolean', v);
  return v;
}

/** One argument's check: `network` checks a NetworkConfig as the host's assignment does. */
type ArgCheck = (v: unknown, field: string, network: (v: unknown, field: string) => NetworkConfig) => unknown;

/** A name and a check per parameter of a method. */
type ArgChecks<P extends readonly unknown[]> = { readonly [K in keyof P]: readonly [string, ArgCheck] };

/**
 * Each control method's arguments, by name, with the check of each: one per parameter of the
 * method in NatsControlApi (the type says so: a method added there must be added here).
 */
const CONTROL_ARGS: { readonly [M in NatsControlMethod]: ArgChecks<Parameters<NatsControlApi[M]>> } = {
  start: [],
  ping: [],
  // Addresses are looked up (an unknown one answers null or nothing): any string.
  summary: [['address', (v, f) => (typeof v === 'string' ? v : refuse(f, 'a string', v))]],
  stats: [],
  errors: [],
  setNetwork: [['config', (v, f, net) => net(v, f)]],
  setPartitions: [['rules', (v, f) => partitions(v, f)]],
  setNodeDead: [
    ['node', str],
    ['dead', bool],
  ],
  setClockSkew: [
    ['node', str],
    ['ms', (v, f) => checkNumber(v, f, -CLOCK_SKEW_MS_MAX, CLOCK_SKEW_MS_MAX)],
  ],
  crashNode: [['node', str]],
  restartNode: [['node', str]],
  pauseNode: [
    ['node', str],
    ['paused', bool],
  ],
  injectFrame: [['bytes', (v, f) => (v instanceof Uint8Array ? v : refuse(f, 'bytes (a Uint8Array)', v))]],
  resetPeer: [['peer', (v, f) => checkInt(v, f, 0, ASSIGNMENT_ENTRIES_MAX)]],
  shutdown: [],
};

function refuse(field: string, allowed: string, got: unknown): never {
  throw new Refusal(field, allowed, got);
}

/**
 * The check of the control requests a host with assignment `a` serves: `value` (a decoded
 * message) as a NatsControlRequest, its method one the host serves and every argument of the
 * method's type and range (a network as the assignment's: the layout's regions and servers),
 * or a ControlRequestError naming the first bad field (`m`, `a`, `<method>.<argument>...`).
 */
export function controlRequestCheck(a: Pick<NatsAssign, 'layout' | 'directory'>): (value: unknown) => NatsControlRequest {
  const net = (v: unknown, field: string): NetworkConfig => network(v, a.layout, a.directory, field);
  const methods = Object.keys(CONTROL_ARGS);
  return (value) =>
    refusedAs(ControlRequestError, () => {
      if (!isPlainObject(value)) throw new Refusal('', 'an object { m, a }', value);
      for (const key of Object.keys(value)) if (key !== 'm' && key !== 'a') throw new Refusal(key, 'only the fields m, a', 'an unknown field');
      const m = value.m;
      if (typeof m !== 'string' || !methods.includes(m)) throw new Refusal('m', `one of the control methods (${methods.join(', ')})`, m);
      const params: ReadonlyArray<readonly [string, ArgCheck]> = CONTROL_ARGS[m as NatsControlMethod];
      if (!Array.isArray(value.a) || value.a.length !== params.length) {
        const n = params.length;
        const allowed =
          n === 0
            ? `an empty array (${m} takes no arguments)`
            : `an array of ${m}'s ${n} argument${n === 1 ? '' : 's'}: ${params.map(([name]) => name).join(', ')}`;
        throw new Refusal('a', allowed, value.a);
      }
      const args = value.a as unknown[];
      return { m, a: params.map(([name, check], i) => check(args[i], `${m}.${name}`, net)) } as NatsControlRequest;
    });
}
