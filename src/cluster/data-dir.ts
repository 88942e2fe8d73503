import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomId } from '../core/ids.js';
import { ConfigError } from '../core/errors.js';
import { MESSAGE_BYTES_MAX_MAX, MESSAGE_BYTES_MAX_MIN } from '../core/limits.js';
import { syncFolder } from '../runtime/durable-file.js';
import { clusterLayout, type ClusterLayout, type ReplicationRecord } from '../runtime/layout.js';
import { REPLICATION_MODES, type RegionConfig, type ReplicationMode } from '../runtime/validate.js';
import { groupOf } from './topology.js';
import { COMMIT_PROTOCOLS, type CommitProtocol } from './config.js';

/**
 * mkdir -p, a folder at a time from the nearest one that exists. Not mkdirSync's `recursive`:
 * where mkdir says ENOENT under a folder that exists (`/proc/x`), Node's recursive mkdir makes
 * the parent (EEXIST) and tries the child again, forever, at full CPU.
 */
function makeDirs(dir: string): void {
  // lstat: a dangling link is there (mkdir under it says ENOENT, as the recursive mkdir did).
  const missing: string[] = [resolve(dir)];
  for (let at = dirname(missing[0]!); lstatSync(at, { throwIfNoEntry: false }) === undefined && dirname(at) !== at; at = dirname(at)) missing.push(at);
  for (const at of missing.reverse()) {
    try {
      mkdirSync(at);
    } catch (error) {
      // Made meanwhile by someone else: as good.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(at, { throwIfNoEntry: false })?.isDirectory()) throw error;
    }
  }
}

/**
 * `dataDir` made if missing, or a ConfigError naming it: a path that is a file, or under one,
 * or a directory this process cannot create or write, would otherwise fail with a bare
 * EEXIST or ENOTDIR from the log store, or later, at a server's first write. `startCluster`'s
 * `dataDir` and `meridian host --data-dir`.
 */
export function checkDataDir(dir: string): void {
  const allowed = 'a directory, or a path where one can be created';
  try {
    if (!statSync(dir).isDirectory()) throw new ConfigError('dataDir', `${allowed} (it is a file)`, dir);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    try {
      makeDirs(dir);
    } catch (made) {
      throw new ConfigError('dataDir', `${allowed} (${(made as NodeJS.ErrnoException).code ?? (made as Error).message} creating it)`, dir);
    }
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new ConfigError('dataDir', `${allowed}, that this process can write`, dir);
  }
}

/** The lock file of a data directory in use (see lockDataDir). */
export const DATA_DIR_LOCK = 'meridian.lock';

/** The holder a lock file names; 'gone' if there is none; undefined if it says something else. */
function lockHolder(file: string): { pid: number; host: string; token: string } | 'gone' | undefined {
  try {
    const held = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; host?: unknown; token?: unknown };
    const { pid, host, token } = held;
    return Number.isSafeInteger(pid) && (pid as number) > 0 && typeof host === 'string' && typeof token === 'string'
      ? { pid: pid as number, host, token }
      : undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : undefined;
  }
}

/** Whether process `pid` of this machine runs (EPERM: it does, as another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `dir` for one cluster (or one `meridian host`), or a ConfigError naming dataDir: two
 * clusters writing one folder interleave records in the same logs, and a restart from it loses
 * one's acknowledged writes. The lock is `meridian.lock`, holding `{ pid, host, token }` (the
 * token tells this lock from a later one of the same process),
 * made whole by a hard link (which fails if the file exists), so no one reads it half-written.
 * A lock whose process is gone (this machine's pid, not running: a launcher killed before
 * stop()) is stale and taken over; one from another machine cannot be checked and is
 * refused. Two starts that find the same stale lock at the very same moment may both take it
 * over (each removes it and links its own; the second removal can take the first's).
 * Returns the release, which removes the lock if it is still this one.
 */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, DATA_DIR_LOCK);
  const me = { pid: process.pid, host: hostname(), token: randomId().replace(/[^A-Za-z0-9]/g, '') };
  const tmp = `${file}.${me.pid}.${me.token}`;
  const refuse = (why: string): ConfigError => new ConfigError('dataDir', `a directory no running cluster uses (${why})`, dir);
  // Not another cluster's doing: this process cannot write there (it read as "no running cluster uses").
  const unwritable = (error: unknown): ConfigError =>
    new ConfigError(
      'dataDir',
      `a directory this process can write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message} writing ${file})`,
      dir,
    );
  try {
    writeFileSync(tmp, `${JSON.stringify(me)}\n`, { flag: 'wx' });
  } catch (error) {
    throw unwritable(error);
  }
  try {
    for (;;) {
      try {
        linkSync(tmp, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unwritable(error);
      }
      const holder = lockHolder(file);
      // Released meanwhile: linked again.
      if (holder === 'gone') continue;
      if (holder === undefined) throw refuse(`${DATA_DIR_LOCK} there is not one Meridian wrote; remove it if no cluster runs there`);
      if (holder.host !== me.host) throw refuse(`${DATA_DIR_LOCK} there names process ${holder.pid} on ${holder.host}; remove it if no cluster runs there`);
      if (holder.pid === me.pid || processAlive(holder.pid))
        throw refuse(`${DATA_DIR_LOCK} there names process ${holder.pid}${holder.pid === me.pid ? ' (this one)' : ''}, still running`);
      // Stale: its process is gone. Removed, and linked again.
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const holder = lockHolder(file);
    if (typeof holder === 'object' && holder.token === me.token) rmSync(file, { force: true });
  };
}

/** The file that records the layout of the cluster that writes a data directory (see checkLayout). */
export const DATA_DIR_LAYOUT = 'meridian-layout.json';

function layoutText(regions: ClusterLayout['regions']): string {
  return regions.map((r) => `${r.name} (${r.servers} server${r.servers === 1 ? '' : 's'})`).join(', ');
}

/**
 * A cluster's record: its layout, its replication settings, each shard's Paxos group as it was
 * placed then (groupOf, what `cluster.replicasOf(shard)` gives), and its commit protocol; all
 * but the layout undefined in a file an earlier version wrote.
 */
interface ClusterRecord {
  layout: ClusterLayout;
  replication: ReplicationRecord | undefined;
  groups: string[][] | undefined;
  commit: CommitProtocol | undefined;
  /** The largest messageBytesMax its data was written under (see messageBytesRefusal); undefined before session 67. */
  messageBytesMax: number | undefined;
}

/** What `meridian-layout.json` says: nothing (no file), something Meridian did not write, a cluster's record, or a `meridian host`'s record. */
type LayoutFile = { kind: 'none' } | { kind: 'bad'; why: string } | { kind: 'cluster'; record: ClusterRecord } | { kind: 'host'; record: HostDataDirRecord };

function readLayoutFile(dir: string): LayoutFile {
  let text: string;
  try {
    text = readFileSync(join(dir, DATA_DIR_LAYOUT), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    return { kind: 'bad', why: `${(error as NodeJS.ErrnoException).code ?? (error as Error).message} reading ${DATA_DIR_LAYOUT}` };
  }
  const bad = { kind: 'bad', why: `${DATA_DIR_LAYOUT} there is not one Meridian wrote` } as const;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return bad;
  }
  if (typeof parsed !== 'object' || parsed === null) return bad;
  const { cluster, nodes, layout, replication, groups, commit, messageBytesMax } = parsed as {
    cluster?: unknown;
    nodes?: unknown;
    layout?: unknown;
    replication?: unknown;
    groups?: unknown;
    commit?: unknown;
    messageBytesMax?: unknown;
  };
  // Absent in a file of an earlier version (undefined); null if it is not a protocol.
  const protocol = commit === undefined || COMMIT_PROTOCOLS.includes(commit as CommitProtocol) ? (commit as CommitProtocol | undefined) : null;
  // Absent in a file of an earlier version (undefined); null if it is not a limit Meridian takes.
  const bytes = messageBytesMax;
  const limit =
    bytes === undefined || (Number.isSafeInteger(bytes) && (bytes as number) >= MESSAGE_BYTES_MAX_MIN && (bytes as number) <= MESSAGE_BYTES_MAX_MAX)
      ? (bytes as number | undefined)
      : null;
  if (cluster === undefined) {
    const plain = parseLayout(parsed);
    const settings = replication === undefined ? undefined : parseReplication(replication);
    const placed = groups === undefined || plain === undefined ? undefined : parseGroups(groups, plain.shards);
    return plain === undefined || settings === null || placed === null || protocol === null || limit === null
      ? bad
      : { kind: 'cluster', record: { layout: plain, replication: settings, groups: placed, commit: protocol, messageBytesMax: limit } };
  }
  const hostLayout = layout === null ? null : parseLayout(layout);
  // Absent in a file of an earlier version (undefined); null with no layout.
  const hostReplication = replication === undefined || replication === null ? replication : (parseReplication(replication) ?? false);
  // Absent in a file of an earlier version; null with no layout or no settings.
  const hostGroups = groups === undefined || groups === null ? groups : (parseGroups(groups, hostLayout?.shards ?? -1) ?? false);
  if (
    typeof cluster !== 'string' ||
    !Array.isArray(nodes) ||
    !nodes.every((n) => typeof n === 'string') ||
    hostLayout === undefined ||
    hostReplication === false ||
    hostGroups === false ||
    protocol === null ||
    limit === null
  )
    return bad;
  const record: HostDataDirRecord = { cluster, nodes: nodes as string[], layout: hostLayout, replication: hostReplication, groups: hostGroups };
  if (protocol !== undefined) record.commit = protocol;
  if (limit !== undefined) record.messageBytesMax = limit;
  return { kind: 'host', record };
}

/** Each shard's group as the file holds it (one list of server ids a shard, `shards` of them), or null if it is not what Meridian wrote. */
function parseGroups(parsed: unknown, shards: number): string[][] | null {
  if (!Array.isArray(parsed) || parsed.length !== shards) return null;
  for (const g of parsed as unknown[]) if (!Array.isArray(g) || g.length === 0 || !g.every((s) => typeof s === 'string')) return null;
  return parsed as string[][];
}

/** The replication settings as the file holds them, or null if they are not ones Meridian wrote. */
function parseReplication(parsed: unknown): ReplicationRecord | null {
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { mode, factor } = parsed as { mode?: unknown; factor?: unknown };
  if (!REPLICATION_MODES.includes(mode as ReplicationMode) || !Number.isSafeInteger(factor) || (factor as number) < 1) return null;
  return { mode: mode as ReplicationMode, factor: factor as number };
}

/**
 * Writes `meridian-layout.json` whole (a rename), synced with its folder, or a ConfigError from
 * `refuse`. Until session 68 it was not synced: a power loss soon after a folder's first start
 * could leave it empty, and every later start was refused (not one Meridian wrote) though the
 * logs beside it were whole. Written once a start at most: synced whatever `fsync` says.
 */
function writeLayoutFile(dir: string, content: unknown, refuse: (why: string) => ConfigError): void {
  const file = join(dir, DATA_DIR_LAYOUT);
  const tmp = `${file}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, `${JSON.stringify(content)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    syncFolder(dir);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw refuse(`${(error as NodeJS.ErrnoException).code ?? (error as Error).message} writing ${DATA_DIR_LAYOUT}`);
  }
}

/** What differs between two layouts, as [what it was, what it is] phrases (none if they agree). */
function layoutDiff(old: ClusterLayout, now: ClusterLayout): [string[], string[]] {
  const was: string[] = [];
  const is: string[] = [];
  if (old.shards !== now.shards) {
    was.push(`${old.shards} shards`);
    is.push(`${now.shards} shards`);
  }
  if (layoutText(old.regions) !== layoutText(now.regions)) {
    was.push(`regions ${layoutText(old.regions)}`);
    is.push(`regions ${layoutText(now.regions)}`);
  }
  return [was, is];
}

/** `servers` for a message: joined, and `alone` for one. */
function groupText(servers: readonly string[]): string {
  return servers.length === 1 ? `${servers[0]!} alone` : `a majority of ${servers.join(', ')}`;
}

/** Shard `shard`'s Paxos group in `layout` under `replication` (groupOf). */
function groupIn(layout: ClusterLayout, shard: number, replication: ReplicationRecord): string[] {
  return groupOf(shard, { regions: layout.regions, shards: layout.shards, ...replication });
}

/** Every shard's Paxos group in `layout` under `replication`, as a folder records them. */
function groupsIn(layout: ClusterLayout, replication: ReplicationRecord): string[][] {
  return Array.from({ length: layout.shards }, (_, shard) => groupIn(layout, shard, replication));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s) => b.includes(s));
}

/**
 * The refusal of replication settings under which some shard's Paxos group (groupOf: the
 * servers whose majority decides its log) is not the set of servers it was when the data was
 * written, or undefined if every shard's group is the same set. What it was is `recorded`,
 * each shard's group as the folder records it; in a file of a version before groups were
 * recorded, what `was` (the recorded mode and factor) places now. Another group can lose an
 * acknowledged write: one chosen by a majority that the new group lacks (active factor 3 to
 * factor 1 or mode 'none': the first replica alone, which was down when the write was
 * chosen), or outvoted by added servers that start empty (factor 1 to 3: two empty replicas
 * are a majority that has never heard of the log). With the same group the same acceptors
 * decide, from the promises and votes in their logs, and every mode applies the chosen log to
 * the same state machine ('none' is a group of one), so the mode may change. Changes that only
 * keep every new majority meeting every old one (factor 1 to 2, 3 to 4) are refused too: the
 * file keeps the last settings only, and a chain of such changes can leave a write on servers
 * no majority of the last group meets. When the recorded settings themselves no longer place
 * the recorded groups (the placement rule changed: groups over regions of different sizes,
 * session 59), the refusal names `dataDir`: no mode or factor given restores them.
 * `dirOption` is what the message tells the user to start on anew: a cluster's `dataDir`, a
 * `meridian host`'s `--data-dir`.
 */
function replicationRefusal(
  dir: string,
  layout: ClusterLayout,
  was: ReplicationRecord,
  now: ReplicationRecord,
  dirOption: 'dataDir' | '--data-dir',
  recorded: readonly (readonly string[])[] | undefined,
): ConfigError | undefined {
  const before = (shard: number): readonly string[] => recorded?.[shard] ?? groupIn(layout, shard, was);
  // Whether `r` places every shard's group where it was.
  const keeps = (r: ReplicationRecord): boolean => {
    for (let shard = 0; shard < layout.shards; shard++) if (!sameSet(before(shard), groupIn(layout, shard, r))) return false;
    return true;
  };
  const settings = (r: ReplicationRecord): string => `mode '${r.mode}', factor ${r.factor}`;
  for (let shard = 0; shard < layout.shards; shard++) {
    const after = groupIn(layout, shard, now);
    if (sameSet(before(shard), after)) continue;
    const file = join(dir, DATA_DIR_LAYOUT);
    if (recorded !== undefined && !keeps(was)) {
      // A factor of the recorded mode that places every recorded group, if one does.
      const servers = layout.regions.reduce((n, r) => n + r.servers, 0);
      const restores = Array.from({ length: servers }, (_, i) => ({ mode: was.mode, factor: i + 1 })).find(keeps);
      const instead = restores === undefined ? '' : `start with ${settings(restores)} (which places the recorded groups), `;
      return new ConfigError(
        'dataDir',
        `a directory whose recorded Paxos groups this version places alike (${file} records shard ${shard}'s group as ` +
          `${groupText(before(shard))}, written with ${settings(was)}; this version places it, with ${settings(now)}, on ${groupText(after)} ` +
          `(the placement over regions of different sizes changed), and a write the recorded group acknowledged could be lost; ` +
          `${instead}${instead === '' ? 'start' : 'or'} on a new ${dirOption}, or with the version that wrote it)`,
        dir,
      );
    }
    // The option to blame: the factor if the given mode with the recorded factor keeps every group.
    const field = was.mode === now.mode || keeps({ mode: now.mode, factor: was.factor }) ? 'replication.factor' : 'replication.mode';
    const shown = field === 'replication.mode' ? `'${was.mode}'` : String(was.factor);
    return new ConfigError(
      field,
      `${shown}, as recorded in ${file} (its data was written with ${settings(was)}; ` +
        `with ${settings(now)} shard ${shard}'s log would be decided by ${groupText(after)}, not ${groupText(before(shard))}, ` +
        `and a write that group acknowledged could be lost; ` +
        `start with ${settings(was)}, or on a new ${dirOption})`,
      field === 'replication.mode' ? now.mode : now.factor,
    );
  }
  return undefined;
}

/**
 * The refusal of a commit protocol other than the one `was` recorded, or undefined if it is the
 * same. A transaction's durable records are its protocol's own (a 2PC coordinator's commit
 * records, a Paxos Commit acceptor's promises and accepted values in the coordinator's log; a
 * participant's `voted`, `prepared`, `decided` records in its shard's Paxos log), and the cores
 * of another protocol misread what a transaction left in doubt at the stop: a 2PC participant
 * core built from a Paxos Commit RM's records throws (at every try of every server that leads
 * the shard), a Paxos Commit core ignores a 2PC yes vote (the transaction's locks are then held
 * for good), a Paxos Commit coordinator ignores the 2PC commits it owes. Before (a class audit,
 * session 66) the folder did not record the protocol and such a start was taken. Refused
 * whether or not a transaction is in doubt: nothing before the actors start can tell.
 */
function commitRefusal(dir: string, was: CommitProtocol, now: CommitProtocol, dirOption: 'dataDir' | '--data-dir'): ConfigError | undefined {
  if (was === now) return undefined;
  return new ConfigError(
    'commit',
    `'${was}', as recorded in ${join(dir, DATA_DIR_LAYOUT)} (its logs hold the durable records of '${was}' transactions, which '${now}' ` +
      `cannot read: a transaction in doubt would hold its keys' locks for good, or fail every server that leads its shard; ` +
      `start with commit '${was}', or on a new ${dirOption})`,
    now,
  );
}

/**
 * The refusal of a messageBytesMax under `was`, the largest its data was written under, or
 * undefined if `now` is not less. The logs hold what the limit of the time let through: slots
 * of commands up to half of it, and commands up to nearly all of it (commandBytesMax in
 * server.ts). Each must still go alone in one message (an accept, a catch-up's entries, a part
 * of a promise: multipaxos.ts promiseParts counts on "a slot alone always fits"), and one over a
 * smaller limit is dropped by its host every time it is sent: a lagging replica never catches
 * up, and a majority holding such a slot accepted and not chosen elects nobody (the failure of
 * seed 5640, session 63). A larger limit takes everything a smaller one let through: it is
 * taken, and recorded. Not caught: on NATS, a messageBytesMax left unset is lowered to the
 * servers' max_payload once the runtime connects, after this check; a smaller max_payload than
 * the last run's lowers it unseen.
 */
function messageBytesRefusal(dir: string, was: number, now: number, dirOption: 'dataDir' | '--data-dir'): ConfigError | undefined {
  if (now >= was) return undefined;
  return new ConfigError(
    'messageBytesMax',
    `${was} or more, as recorded in ${join(dir, DATA_DIR_LAYOUT)} (its logs may hold slots and commands sized for a limit of ${was} bytes, ` +
      `which could no longer be sent to a replica catching up or a candidate: a shard could elect no leader; ` +
      `start with messageBytesMax ${was} or more, or on a new ${dirOption})`,
    now,
  );
}

/**
 * Refuses, with a ConfigError naming dataDir and what differs, a folder written by a cluster
 * of another layout: its keys would be looked for in other shards and on other servers (a
 * restart from 4 shards with 8 read undefined for half the keys, and new writes mixed with the
 * old state). Refuses, with a ConfigError naming replication.mode or replication.factor, the
 * recorded value and the given one, replication settings under which a shard's Paxos group is
 * another set of servers than the file records (see replicationRefusal); other changes of
 * mode or factor are taken, and recorded. The file records each shard's group too, and a
 * start whose groups differ from those under the recorded mode and factor (the placement
 * rule changed, session 59) is refused naming dataDir, the shard and both groups. A folder
 * without the file, new or written before it existed, is taken as it is, and the file
 * written (replaced whole, by a rename); so is one whose file records no replication
 * settings (written by a version before they were recorded): this start's are recorded; and
 * one whose file records no groups (before session 59) is checked on its mode and factor,
 * and this start's groups recorded. Refuses, with a ConfigError naming commit, another commit
 * protocol than the one recorded (see commitRefusal); a file that records none (before
 * session 66) is taken, and this start's recorded. Refuses, with a ConfigError naming
 * messageBytesMax, a smaller limit than the largest recorded (see messageBytesRefusal); a larger
 * one is recorded, as this start's is in a file that records none (before session 67). One a
 * `meridian host` wrote holds only that host's actors, and is refused. Called
 * under the folder's lock, before any server starts.
 *
 * Returns, when it wrote the folder's first record, what takes that record back (see
 * unrecordLayout): for a start that fails, called under the lock.
 */
export function checkLayout(
  dir: string,
  config: {
    readonly shards: number;
    readonly regions: readonly RegionConfig[];
    readonly replication: ReplicationRecord;
    readonly commit: CommitProtocol;
    readonly messageBytesMax: number;
  },
): (() => void) | undefined {
  const refuse = (why: string): ConfigError => new ConfigError('dataDir', `a directory written by a cluster of the same layout, or a new one (${why})`, dir);
  const found = readLayoutFile(dir);
  // Its shards and regions, its mode and factor, and its commit protocol, only (a cluster passes its whole config).
  const wanted = clusterLayout(config);
  const replication: ReplicationRecord = { mode: config.replication.mode, factor: config.replication.factor };
  const groups = groupsIn(wanted, replication);
  const commit = config.commit;
  // The largest limit the folder's data was written under (see messageBytesRefusal).
  const recordedBytes = found.kind === 'cluster' ? found.record.messageBytesMax : undefined;
  const messageBytesMax = Math.max(recordedBytes ?? 0, config.messageBytesMax);
  const write = (): void => writeLayoutFile(dir, { ...wanted, replication, groups, commit, messageBytesMax }, refuse);
  if (found.kind === 'none') {
    write();
    return () => unrecordLayout(dir);
  }
  if (found.kind === 'bad') throw refuse(found.why);
  if (found.kind === 'host') throw refuse(`written by 'meridian host' for cluster ${JSON.stringify(found.record.cluster)}: it holds that host's actors only`);
  const [was, now] = layoutDiff(found.record.layout, wanted);
  if (was.length > 0) throw refuse(`written by a cluster of ${was.join(' and ')}; this one has ${now.join(' and ')}`);
  const recorded = found.record.replication;
  if (recorded !== undefined) {
    const refused = replicationRefusal(dir, wanted, recorded, replication, 'dataDir', found.record.groups);
    if (refused !== undefined) throw refused;
  }
  const protocol = found.record.commit;
  if (protocol !== undefined) {
    const refused = commitRefusal(dir, protocol, commit, 'dataDir');
    if (refused !== undefined) throw refused;
  }
  if (recordedBytes !== undefined) {
    const refused = messageBytesRefusal(dir, recordedBytes, config.messageBytesMax, 'dataDir');
    if (refused !== undefined) throw refused;
  }
  if (
    recorded?.mode === replication.mode &&
    recorded.factor === replication.factor &&
    found.record.groups !== undefined &&
    protocol !== undefined &&
    recordedBytes === messageBytesMax
  )
    return undefined;
  write();
  return undefined;
}

/**
 * Removes the layout record checkLayout wrote in a new folder if nothing else is there yet (no
 * actor wrote a log): the start that wrote it failed (its NATS servers out of reach, its
 * messageBytesMax over what they carry, a host that did not boot), and the folder holds no data
 * of that layout. Kept, it refused a corrected start of another layout, naming a cluster that
 * never ran (a leak audit, session 66). A folder with logs keeps its record: they are that
 * layout's.
 */
function unrecordLayout(dir: string): void {
  try {
    const others = readdirSync(dir).filter((name) => name !== DATA_DIR_LAYOUT && name !== DATA_DIR_LOCK);
    if (others.length === 0) rmSync(join(dir, DATA_DIR_LAYOUT), { force: true });
  } catch {
    // A folder that cannot be read now keeps its record, as it did before.
  }
}

/**
 * What a `meridian host --data-dir` folder records in `meridian-layout.json`: the cluster it
 * served (its nats.cluster name), that cluster's layout (null from a launcher that sends none),
 * its replication mode and factor (null with no layout; absent in a file an earlier version
 * wrote), and the nodes this host ran, whose logs are in it.
 */
export interface HostDataDirRecord {
  cluster: string;
  layout: ClusterLayout | null;
  replication?: ReplicationRecord | null;
  nodes: string[];
  /** Each shard's Paxos group (groupOf) when the host recorded it; null with no layout or settings; absent in a file of an earlier version. Worked out by checkHostLayout, not given. */
  groups?: string[][] | null;
  /** The commit protocol of the servers and coordinator it ran (see commitRefusal); absent if it ran none, and in a file of an earlier version. */
  commit?: CommitProtocol;
  /** The largest messageBytesMax of the assignments it took (see messageBytesRefusal); absent in a file of an earlier version. */
  messageBytesMax?: number;
}

/** The phrase a host's data directory is refused with: `allowed` of the ConfigError. */
function hostRefusal(dir: string, why: string): ConfigError {
  return new ConfigError('dataDir', `a directory this host wrote for the same cluster and nodes, or a new one (${why}; give another, or empty this one)`, dir);
}

/**
 * Before a `meridian host` connects: refuses (a ConfigError naming dataDir) a folder written
 * for another cluster by a host, or by a cluster started with startCluster's dataDir (all
 * its actors' logs, under another layout record). Before (audit, session 56) a new cluster
 * under another name read the old one's data: `get k` answered what it never wrote.
 */
export function checkHostDataDir(dir: string, cluster: string): void {
  refuseForHost(dir, readLayoutFile(dir), cluster);
}

/** checkHostDataDir's refusal, of what it read there. */
function refuseForHost(dir: string, found: LayoutFile, cluster: string): void {
  if (found.kind === 'bad') throw hostRefusal(dir, found.why);
  if (found.kind === 'cluster') throw hostRefusal(dir, `written by a cluster started with dataDir there, not by 'meridian host'`);
  if (found.kind === 'host' && found.record.cluster !== cluster)
    throw hostRefusal(dir, `it holds host data of cluster ${JSON.stringify(found.record.cluster)}; this host serves ${JSON.stringify(cluster)}`);
}

/** `nodes` for a message: the first few, and how many more. */
function nodesText(nodes: readonly string[]): string {
  const shown = nodes.slice(0, 6).join(', ');
  return nodes.length > 6 ? `${shown} and ${nodes.length - 6} more` : shown;
}

/**
 * When a `meridian host` is given its actors: refuses (a ConfigError naming dataDir and what
 * differs) an assignment of another cluster, layout or set of nodes than its folder records:
 * the logs there are other actors' (a host that served `a/0` last time, given `b/0` now,
 * would start `b/0` empty while `a/0`'s log sits unread). Of the same ones, refuses
 * replication settings under which some shard's Paxos group changes as checkLayout does (a
 * ConfigError naming replication.factor or replication.mode: see replicationRefusal), and
 * another commit protocol than the one recorded (a ConfigError naming commit: commitRefusal),
 * and a messageBytesMax under the largest recorded (a ConfigError naming messageBytesMax:
 * messageBytesRefusal). Returns what records `record` there (nothing recorded yet, other settings, or a file of an
 * earlier version without them; it does nothing when the file already says it), which the
 * host calls when its actors start, before they write: an assignment whose start never came
 * (the launcher failed) left a record of a cluster that stored nothing, and a later, different
 * one was refused (audit leftovers, session 59). Called under the folder's lock, which the
 * host holds until it exits, so nothing changes the file in between.
 */
export function checkHostLayout(dir: string, record: HostDataDirRecord): () => void {
  // Read once: what refuses another cluster's folder, and what is compared below.
  const found = readLayoutFile(dir);
  refuseForHost(dir, found, record.cluster);
  const nodes = [...new Set(record.nodes)].sort();
  const layout = record.layout === null ? null : clusterLayout(record.layout);
  const replication =
    record.replication === undefined || record.replication === null ? null : { mode: record.replication.mode, factor: record.replication.factor };
  const groups = layout === null || replication === null ? null : groupsIn(layout, replication);
  // One that starts no server or coordinator says none: the recorded one is kept.
  const commit = record.commit ?? (found.kind === 'host' ? found.record.commit : undefined);
  // The largest limit the folder's data was written under (see messageBytesRefusal).
  const recordedBytes = found.kind === 'host' ? found.record.messageBytesMax : undefined;
  const given = record.messageBytesMax;
  const bytes = given === undefined ? recordedBytes : Math.max(recordedBytes ?? 0, given);
  const write = (): void =>
    writeLayoutFile(
      dir,
      {
        cluster: record.cluster,
        layout,
        replication,
        nodes,
        groups,
        ...(commit === undefined ? {} : { commit }),
        ...(bytes === undefined ? {} : { messageBytesMax: bytes }),
      },
      (why) => hostRefusal(dir, why),
    );
  if (found.kind !== 'host') return write;
  const old = found.record;
  const was: string[] = [];
  const now: string[] = [];
  if (old.layout === null || layout === null) {
    if (old.layout !== layout) {
      was.push(old.layout === null ? 'no layout' : `${old.layout.shards} shards`);
      now.push(layout === null ? 'no layout' : `${layout.shards} shards`);
    }
  } else {
    const [w, n] = layoutDiff(old.layout, layout);
    was.push(...w);
    now.push(...n);
  }
  const oldNodes = [...new Set(old.nodes)].sort();
  if (oldNodes.join('\n') !== nodes.join('\n')) {
    was.push(`nodes ${nodesText(oldNodes)}`);
    now.push(`nodes ${nodesText(nodes)}`);
  }
  if (was.length > 0) throw hostRefusal(dir, `it holds host data of ${was.join(' and ')}; this assignment has ${now.join(' and ')}`);
  const recorded = old.replication ?? null;
  if (recorded !== null && replication !== null && layout !== null) {
    // A host's folder is its --data-dir (a launcher's user reads it as the host's option).
    const refused = replicationRefusal(dir, layout, recorded, replication, '--data-dir', old.groups ?? undefined);
    if (refused !== undefined) throw refused;
  }
  if (old.commit !== undefined && commit !== undefined) {
    const refused = commitRefusal(dir, old.commit, commit, '--data-dir');
    if (refused !== undefined) throw refused;
  }
  if (recordedBytes !== undefined && given !== undefined) {
    const refused = messageBytesRefusal(dir, recordedBytes, given, '--data-dir');
    if (refused !== undefined) throw refused;
  }
  if (
    recorded?.mode !== replication?.mode ||
    recorded?.factor !== replication?.factor ||
    old.replication === undefined ||
    old.groups === undefined ||
    (commit !== undefined && old.commit === undefined) ||
    bytes !== recordedBytes
  )
    return write;
  return () => undefined;
}

/** A layout as the file holds it, read as it was written (not checked as a config's: a layout that differs is reported as such). */
function parseLayout(parsed: unknown): ClusterLayout | undefined {
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { shards, regions } = parsed as { shards?: unknown; regions?: unknown };
  if (!Number.isSafeInteger(shards) || !Array.isArray(regions)) return undefined;
  const out: ClusterLayout['regions'] = [];
  for (const r of regions as unknown[]) {
    const { name, servers } = (r ?? {}) as { name?: unknown; servers?: unknown };
    if (typeof name !== 'string' || !Number.isSafeInteger(servers)) return undefined;
    out.push({ name, servers: servers as number });
  }
  return { shards: shards as number, regions: out };
}
