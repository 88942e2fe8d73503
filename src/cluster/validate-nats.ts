import { ConfigError } from '../core/errors.js';

/** What `nats: {...}` accepts with `transport: 'nats'`. */
export interface NatsConfig {
  /** One or more NATS server URLs (nats://host:port or tls://host:port). */
  servers: string | string[];
  /**
   * Host processes to spawn on this machine (servers dealt over them; default the number of
   * cores, at most one per region and server: a process past those would run no actor, and none
   * is started), or 'dedicated': one per server and region.
   */
  processes?: number | 'dedicated';
  /** Instead: wait for this many hosts started elsewhere with `meridian host --nats URL --cluster NAME`. */
  hosts?: number;
  /**
   * The subject prefix (`meridian.<cluster>`): required with `hosts` (the name they are started
   * with); default a fresh id with spawned processes.
   */
  cluster?: string;
}

export interface ResolvedNats {
  servers: string[];
  /** Spawned processes (a number, or one per server and region), or remote hosts. */
  processes: number | 'dedicated' | undefined;
  hosts: number | undefined;
  cluster: string | undefined;
}

export const NATS_SERVERS_MAX = 16;
export const NATS_PROCESSES_MAX = 256;
export const NATS_CLUSTER_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const NATS_KEYS = ['servers', 'processes', 'hosts', 'cluster'];

function checkUrl(value: unknown, field: string): string {
  const allowed = 'a NATS URL such as nats://127.0.0.1:4222 (scheme nats or tls, a host, a port from 1 to 65535)';
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) throw new ConfigError(field, allowed, value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(field, allowed, value);
  }
  if (
    (url.protocol !== 'nats:' && url.protocol !== 'tls:') ||
    url.hostname === '' ||
    (url.pathname !== '' && url.pathname !== '/') ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    throw new ConfigError(field, allowed, value);
  }
  if (url.port !== '') {
    const port = Number(url.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(field, allowed, value);
  }
  return value;
}

/** Validates `nats` (required with transport 'nats', refused otherwise). `cores`: the default process count. */
export function validateNats(value: unknown, cores: number, isPlainObject: (v: unknown) => v is Record<string, unknown>): ResolvedNats {
  if (!isPlainObject(value)) throw new ConfigError('nats', "an object { servers, processes | hosts, cluster? } with transport 'nats'", value);
  for (const key of Object.keys(value)) {
    if (!NATS_KEYS.includes(key)) throw new ConfigError(`nats.${key}`, `one of the known options (${NATS_KEYS.join(', ')})`, 'an unknown option');
  }
  const list = typeof value.servers === 'string' ? [value.servers] : value.servers;
  if (!Array.isArray(list) || list.length === 0 || list.length > NATS_SERVERS_MAX) {
    throw new ConfigError('nats.servers', `a NATS URL or an array of 1 to ${NATS_SERVERS_MAX} of them`, value.servers);
  }
  // Array.from, not map: a hole was passed on as no URL, to fail deep in the NATS client.
  const servers = Array.from(list, (s: unknown, i: number) => checkUrl(s, typeof value.servers === 'string' ? 'nats.servers' : `nats.servers[${i}]`));
  // The client takes TLS for all its servers or none (tls:// was once dropped: plain text).
  if (new Set(servers.map((s) => s.startsWith('tls:'))).size > 1) {
    throw new ConfigError('nats.servers', 'URLs all tls:// (TLS, certificate checked) or all nats://, not a mix', value.servers);
  }
  // The client signs in to each server with the same user and password (or token): two would leave one unused.
  const credentials = new Set(servers.map((s) => new URL(s)).map((u) => (u.username === '' && u.password === '' ? '' : `${u.username}:${u.password}`)));
  credentials.delete('');
  if (credentials.size > 1) {
    throw new ConfigError(
      'nats.servers',
      'URLs with one user and password (or token) between them, or none: the client signs in to every server alike',
      `${credentials.size} different ones`,
    );
  }
  if (value.processes !== undefined && value.hosts !== undefined) {
    throw new ConfigError('nats.hosts', 'absent when nats.processes is given (spawn processes here, or wait for hosts started elsewhere)', value.hosts);
  }
  let processes: number | 'dedicated' | undefined;
  let hosts: number | undefined;
  const intIn = (v: unknown, field: string, max: number, extra = ''): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new ConfigError(field, `an integer from 1 to ${max}${extra}`, v);
    return v;
  };
  if (value.hosts !== undefined) hosts = intIn(value.hosts, 'nats.hosts', NATS_PROCESSES_MAX);
  else if (value.processes === 'dedicated') processes = 'dedicated';
  else if (value.processes !== undefined) processes = intIn(value.processes, 'nats.processes', NATS_PROCESSES_MAX, " or 'dedicated'");
  else processes = Math.max(1, Math.min(cores, NATS_PROCESSES_MAX));
  let cluster: string | undefined;
  if (value.cluster !== undefined) {
    if (typeof value.cluster !== 'string' || !NATS_CLUSTER_PATTERN.test(value.cluster)) {
      throw new ConfigError('nats.cluster', 'a name of 1 to 64 letters, digits, dashes and underscores (a NATS subject token)', value.cluster);
    }
    cluster = value.cluster;
  }
  // A fresh id only suits processes spawned here (told it on their command line): hosts started
  // elsewhere cannot know it, and startCluster waited its full time for none to join (audit, session 60).
  if (hosts !== undefined && cluster === undefined) {
    throw new ConfigError(
      'nats.cluster',
      'a name with nats.hosts (the one its hosts are started with: meridian host --cluster NAME; 1 to 64 letters, digits, dashes and underscores)',
      value.cluster,
    );
  }
  return { servers, processes, hosts, cluster };
}
