/**
 * `meridian host --nats URL[,URL] --cluster NAME [--data-dir DIR]`: a host for a cluster
 * launched elsewhere with `transport: 'nats', nats: { hosts: N, cluster: NAME }`. It waits
 * for the launcher, runs the actors it is given, and exits when the cluster stops, when its
 * NATS connection is lost or when the launcher goes silent. Exit codes: 0 the cluster it
 * served stopped, or it was interrupted (SIGINT, SIGTERM or SIGHUP, at any point: it tells
 * its launcher it leaves, lets its data directory go and removes its temporary one), 1 NATS
 * could not be reached, or was lost, or the launcher went silent, or another launcher started
 * under the cluster's name (the one it served was killed and started again), 2 bad flags (every flag
 * checked, the data directory made and locked, before connecting; one another host or cluster
 * holds, or that holds another cluster's data, is refused).
 */
import { existsSync, rmdirSync } from 'node:fs';
import { makeTempDir, removeTempDir } from '../runtime/temp-dirs.js';
import { randomId } from '../core/ids.js';
import { ConfigError } from '../core/errors.js';
import { checkDataDir, checkHostDataDir, checkHostLayout, lockDataDir } from '../cluster/data-dir.js';
import { NATS_SERVERS_MAX, validateNats } from '../cluster/validate-nats.js';
import { natsServersFlag } from './nats-flag.js';
import { FlagError, gotValue, once, readFlags, wantsHelp } from './flags.js';
import { COMMIT_PROTOCOLS, isPlainObject, type CommitProtocol } from '../cluster/config.js';
import { hostExitStatus, runNatsHost, SettingsRefusedError } from '../runtime/transports/nats-host.js';
import type { NatsAssign } from '../runtime/transports/worker-protocol.js';
import { NatsUnreachableError, shownServers } from '../runtime/transports/nats-wire.js';

export const HOST_USAGE = `usage: meridian host --nats URL[,URL] --cluster NAME [--data-dir DIR]
  --nats URL[,URL]  the NATS servers the launcher uses (1 to ${NATS_SERVERS_MAX}, comma-separated), such as nats://127.0.0.1:4222
  --cluster NAME    the launcher's nats.cluster: 1 to 64 letters, digits, dashes and underscores
  --data-dir DIR    where this host keeps its logs (made if missing, this host's alone while it runs; default: a temporary folder, removed on exit)
  a value may also follow an =, as --cluster=NAME (one that starts with -- must: --cluster=--x)
  exit status: 0 the cluster stopped, or the host was interrupted (Ctrl-C, SIGTERM, SIGHUP); 1 NATS could not be reached
               or was lost, the launcher went silent or another started under the cluster's name; 2 bad flags or a
               --data-dir refused (another host's or cluster's); 70 meridian itself failed (an internal error: a bug to report)`;

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
  for (const { arg: flag, value, inline } of readFlags(args)) {
    if (!(flag in FLAGS)) throw new FlagError(`unknown host option ${JSON.stringify(flag)}; allowed: ${Object.keys(FLAGS).join(', ')}, --help`);
    const known = flag as Flag;
    // `--nats --cluster shop`: --nats has no value (and "shop" is no flag). A value that starts
    // with -- is given after `=`: `--cluster=--x` (a name nats.cluster takes).
    if (value === undefined || value === '' || (!inline && value.startsWith('--')))
      throw new FlagError(
        `${known} needs ${FLAGS[known]}, ${gotValue(value)}${value?.startsWith('--') === true && !(value in FLAGS) && value !== '--help' ? ` (a value that starts with -- goes after =: ${known}=${value})` : ''}`,
      );
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

/** What ends a host as asked (exit 0): Ctrl-C, a kill's default, the terminal closed. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function main(args: string[], io: HostIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  if (wantsHelp(args)) {
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
  const { dataDir, madeDataDir } = parsed;
  // What this run leaves undone on its way out, however it goes (returned, a signal, an
  // uncaught error: the 'exit' event): its lock let go, a temporary folder removed, and a
  // folder the flag check made removed if nothing was written there. Before (audit, session
  // 56), a signal while connecting, or a SIGHUP at any time, left the lock and the folders.
  const run: HostRun = { release: undefined, tempDir: undefined, signalled: undefined, caught: undefined };
  const cleanUp = (): void => {
    run.release?.();
    run.release = undefined;
    if (run.tempDir !== undefined) removeTempDir(run.tempDir);
    run.tempDir = undefined;
    if (madeDataDir === true) {
      try {
        rmdirSync(dataDir!);
      } catch {
        // Written (a layout record, logs): kept.
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (run.caught !== undefined) {
      // A second one: out now (the first one's stop may wait on a dead connection), the default way.
      cleanUp();
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      process.kill(process.pid, signal);
      return;
    }
    run.caught = signal;
    run.signalled?.(signal);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  process.on('exit', cleanUp);
  try {
    return await serve(io, parsed, run);
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    process.off('exit', cleanUp);
    cleanUp();
  }
}

/** What main() undoes on its way out, and how a signal reaches the running host. */
interface HostRun {
  release: (() => void) | undefined;
  tempDir: string | undefined;
  /** Set while there is something to stop. */
  signalled: ((signal: NodeJS.Signals) => void) | undefined;
  caught: NodeJS.Signals | undefined;
}

/**
 * The commit protocol of the servers and coordinator an assignment starts here, as their
 * params say (every one says the same), or undefined if it starts none: what the folder
 * records beside the layout (see checkHostLayout), since their logs hold that protocol's records.
 */
function commitOf(a: NatsAssign): CommitProtocol | undefined {
  for (const spec of a.specs) {
    const commit = isPlainObject(spec.params) ? spec.params['commit'] : undefined;
    if (COMMIT_PROTOCOLS.includes(commit as CommitProtocol)) return commit as CommitProtocol;
  }
  return undefined;
}

async function serve(io: HostIo, parsed: HostArgs, run: HostRun): Promise<number> {
  const { servers, cluster, dataDir } = parsed;
  // The folder is this host's until it exits: another host or cluster writing it would mix
  // their logs (see lockDataDir).
  if (dataDir !== undefined) {
    try {
      run.release = lockDataDir(dataDir);
      // Under the lock: the folder is another cluster's (its record names it), or this one's.
      checkHostDataDir(dataDir, cluster);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.err(`meridian host: --data-dir needs ${error.allowed}, got ${JSON.stringify(dataDir)}\n${HOST_USAGE}`);
      return 2;
    }
  }
  // Named with this process's id: a host killed with SIGKILL cannot remove it, and the next
  // host started on this machine removes those of processes that are gone (makeTempDir's owned).
  const logs = dataDir ?? (run.tempDir = makeTempDir('meridian-host-', { owned: true }));
  const uid = `r${randomId().replace(/[^A-Za-z0-9]/g, '')}`;
  const interrupted = new Promise<NodeJS.Signals>((resolve) => (run.signalled = resolve));
  if (run.caught !== undefined) run.signalled!(run.caught);
  io.out(`meridian host ${uid}: connecting to NATS at ${shownServers(servers)}`);
  const connecting = runNatsHost({
    servers,
    cluster,
    uid,
    fallbackBehaviorsModule: new URL('../cluster/behaviors.js', import.meta.url).href,
    dataDir: logs,
    ...(dataDir === undefined
      ? {}
      : {
          // Checked now; recorded when the actors start (a start that never comes stores nothing).
          accept: (a: NatsAssign) => {
            const refusal = (error: unknown): Error => {
              if (!(error instanceof ConfigError)) return error as Error;
              // The launcher's mode, factor, commit protocol or message limit, not this folder: its config's words (config.replication.factor).
              if (error.field.startsWith('replication.') || error.field === 'commit' || error.field === 'messageBytesMax')
                return new SettingsRefusedError(error.message);
              return new Error(`--data-dir needs ${error.allowed}, got ${JSON.stringify(dataDir)}`);
            };
            let record: () => void;
            try {
              const commit = commitOf(a);
              record = checkHostLayout(dataDir, {
                cluster,
                layout: a.layout,
                replication: a.replication,
                nodes: a.specs.map((s) => s.node),
                ...(commit === undefined ? {} : { commit }),
                messageBytesMax: a.messageBytesMax,
              });
            } catch (error) {
              throw refusal(error);
            }
            return () => {
              try {
                record();
              } catch (error) {
                throw refusal(error);
              }
            };
          },
        }),
    watchBeat: true,
    log: (line) => io.out(line),
  });
  const first = await Promise.race([
    connecting.then(
      (handle) => ({ handle }),
      (error: unknown) => ({ error }),
    ),
    interrupted.then((signal) => ({ signal })),
  ]);
  if ('signal' in first) {
    // A connection that comes after all is closed at once.
    void connecting.then(
      (handle) => handle.stop(`interrupted (${first.signal})`),
      () => undefined,
    );
    io.out(`meridian host ${uid}: exiting (interrupted (${first.signal}) while connecting)`);
    return 0;
  }
  if ('error' in first) {
    // No NATS server at --nats: one line, not a stack trace.
    if (!(first.error instanceof NatsUnreachableError)) throw first.error;
    io.err(`meridian host: --nats: ${first.error.message}`);
    return 1;
  }
  const { handle } = first;
  run.signalled = (signal) => void handle.stop(`interrupted (${signal})`);
  io.out(
    `meridian host ${uid}: waiting for cluster ${cluster} on ${shownServers(servers)} (logs in ${logs}${dataDir === undefined ? ', removed on exit' : ''})`,
  );
  const reason = await handle.done;
  io.out(`meridian host ${uid}: exiting (${reason})`);
  return hostExitStatus(reason);
}
