/**
 * `meridian host --nats URL[,URL] --cluster NAME [--data-dir DIR]`: a host for a cluster
 * launched elsewhere with `transport: 'nats', nats: { hosts: N, cluster: NAME }`. It waits
 * for the launcher, runs the actors it is given, and exits when the cluster stops, when its
 * NATS connection is lost or when the launcher goes silent. Exit codes: 0 the cluster it
 * served stopped (or it was interrupted), 1 NATS could not be reached, or was lost, or the
 * launcher went silent, 2 bad flags (every flag
 * checked, the data directory made and locked, before connecting; one another host or cluster
 * holds is refused).
 */
import { existsSync, rmdirSync } from 'node:fs';
import { randomId } from '../core/ids.js';
import { ConfigError } from '../core/errors.js';
import { checkDataDir, checkHostDataDir, checkHostLayout, lockDataDir } from '../cluster/data-dir.js';
import { NATS_SERVERS_MAX, validateNats } from '../cluster/validate-nats.js';
import { natsServersFlag } from './nats-flag.js';
import { FlagError, once } from './flags.js';
import { isPlainObject } from '../cluster/config.js';
import { runNatsHost } from '../runtime/transports/nats-host.js';
import type { NatsAssign } from '../runtime/transports/worker-protocol.js';
import { NatsUnreachableError, shownServers } from '../runtime/transports/nats-wire.js';

export const HOST_USAGE = `usage: meridian host --nats URL[,URL] --cluster NAME [--data-dir DIR]
  --nats URL[,URL]  the NATS servers the launcher uses (1 to ${NATS_SERVERS_MAX}, comma-separated), such as nats://127.0.0.1:4222
  --cluster NAME    the launcher's nats.cluster: 1 to 64 letters, digits, dashes and underscores
  --data-dir DIR    where this host keeps its logs (made if missing, this host's alone while it runs; default: a temporary folder, removed on exit)`;

export interface HostIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** What each flag's value is, for the message when it is missing. */
const FLAGS = {
  '--nats': `NATS server URLs, comma-separated, such as nats://127.0.0.1:4222`,
  '--cluster': "the cluster's name (the launcher's nats.cluster)",
  '--data-dir': 'a directory for the logs',
} as const;
type Flag = keyof typeof FLAGS;

export interface HostArgs {
  servers: string[];
  cluster: string;
  dataDir?: string;
  /** The data directory did not exist and the check made it (removed again if the host never connects). */
  madeDataDir?: boolean;
}

/** The flags, checked (URLs, name, data directory made if missing), or a FlagError naming the flag. */
export function parseHostArgs(args: readonly string[]): HostArgs {
  const given = new Map<string, string | undefined>();
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i]!;
    const value = args[i + 1];
    if (!(flag in FLAGS)) throw new FlagError(`unknown host option ${JSON.stringify(flag)}; allowed: ${Object.keys(FLAGS).join(', ')}, --help`);
    const known = flag as Flag;
    // `--nats --cluster shop`: --nats has no value (and "shop" is no flag).
    if (value === undefined || value === '' || value.startsWith('--'))
      throw new FlagError(`${known} needs ${FLAGS[known]}, got ${JSON.stringify(value ?? null)}`);
    once(given, known, value);
  }
  const nats = given.get('--nats');
  const cluster = given.get('--cluster');
  const missing = (['--nats', '--cluster'] as const).filter((f) => !given.has(f));
  if (nats === undefined || cluster === undefined) throw new FlagError(`${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} required`);
  const parsed = natsServersFlag(nats);
  if ('wrong' in parsed) throw new FlagError(parsed.wrong);
  const servers = parsed.servers;
  try {
    // The servers passed above: what is left to refuse is the name.
    validateNats({ servers, cluster, hosts: 1 }, 1, isPlainObject);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new FlagError(`--cluster needs ${error.allowed}, got ${JSON.stringify(cluster)}`);
  }
  const dataDir = given.get('--data-dir');
  const madeDataDir = dataDir !== undefined && !existsSync(dataDir);
  if (dataDir !== undefined) {
    try {
      checkDataDir(dataDir);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new FlagError(`--data-dir needs ${error.allowed}, got ${JSON.stringify(dataDir)}`);
    }
  }
  return { servers, cluster, ...(dataDir === undefined ? {} : { dataDir, madeDataDir }) };
}

export async function main(args: string[], io: HostIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(HOST_USAGE);
    return 0;
  }
  let parsed: HostArgs;
  try {
    parsed = parseHostArgs(args);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    io.err(`meridian host: ${error.message}\n${HOST_USAGE}`);
    return 2;
  }
  const { servers, cluster, dataDir, madeDataDir } = parsed;
  // The folder is this host's until it exits: another host or cluster writing it would mix
  // their logs (see lockDataDir).
  let release: (() => void) | undefined;
  try {
    if (dataDir !== undefined) {
      release = lockDataDir(dataDir);
      // Under the lock: the folder is another cluster's (its record names it), or this one's.
      checkHostDataDir(dataDir, cluster);
    }
  } catch (error) {
    release?.();
    if (!(error instanceof ConfigError)) throw error;
    io.err(`meridian host: --data-dir needs ${error.allowed}, got ${JSON.stringify(dataDir)}\n${HOST_USAGE}`);
    return 2;
  }
  try {
    return await serve(io, servers, cluster, dataDir, madeDataDir, () => release?.());
  } finally {
    release?.();
  }
}

async function serve(
  io: HostIo,
  servers: string[],
  cluster: string,
  dataDir: string | undefined,
  madeDataDir: boolean | undefined,
  release: () => void,
): Promise<number> {
  const uid = `r${randomId().replace(/[^A-Za-z0-9]/g, '')}`;
  let handle;
  try {
    handle = await runNatsHost({
      servers,
      cluster,
      uid,
      fallbackBehaviorsModule: new URL('../cluster/behaviors.js', import.meta.url).href,
      ...(dataDir === undefined
        ? {}
        : {
            dataDir,
            accept: (a: NatsAssign) => {
              try {
                checkHostLayout(dataDir, { cluster, layout: a.layout, nodes: a.specs.map((s) => s.node) });
              } catch (error) {
                if (!(error instanceof ConfigError)) throw error;
                throw new Error(`--data-dir needs ${error.allowed}, got ${JSON.stringify(dataDir)}`);
              }
            },
          }),
      watchBeat: true,
      log: (line) => io.out(line),
    });
  } catch (error) {
    // No NATS server at --nats: one line, not a stack trace.
    if (!(error instanceof NatsUnreachableError)) throw error;
    // A folder the flag check made for a host that never ran: not left behind (empty once its lock is gone).
    release();
    if (madeDataDir === true) rmdirSync(dataDir!);
    io.err(`meridian host: --nats: ${error.message}`);
    return 1;
  }
  io.out(`meridian host ${uid}: waiting for cluster ${cluster} on ${shownServers(servers)}`);
  const stop = (): void => void handle.stop('interrupted');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const reason = await handle.done;
  io.out(`meridian host ${uid}: exiting (${reason})`);
  // Asked to end (by its launcher, or interrupted): 0. Its NATS connection lost, or its
  // launcher gone silent: 1, so that a supervisor that restarts a failed host restarts it.
  return reason === 'shut down by the launcher' || reason === 'interrupted' ? 0 : 1;
}
