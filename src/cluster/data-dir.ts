import { accessSync, constants, linkSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomId } from '../core/ids.js';
import { ConfigError } from '../core/errors.js';

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
  try {
    writeFileSync(tmp, `${JSON.stringify(me)}\n`, { flag: 'wx' });
  } catch (error) {
    throw refuse(`${(error as NodeJS.ErrnoException).code ?? (error as Error).message} writing ${DATA_DIR_LOCK}`);
  }
  try {
    for (;;) {
      try {
        linkSync(tmp, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
          throw refuse(`${(error as NodeJS.ErrnoException).code ?? (error as Error).message} making ${DATA_DIR_LOCK}`);
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

/**
 * What decides where a key's data lives: its shard (`shards`), and the servers holding that
 * shard (the regions in order, and their servers; see replicasOf). The replication factor and
 * mode are not in it: a shard's first replica stays where it was, and the servers it adds
 * copy from it.
 */
export interface DataDirLayout {
  shards: number;
  regions: Array<{ name: string; servers: number }>;
}

function layoutText(regions: DataDirLayout['regions']): string {
  return regions.map((r) => `${r.name} (${r.servers} server${r.servers === 1 ? '' : 's'})`).join(', ');
}

/**
 * Refuses, with a ConfigError naming dataDir and what differs, a folder written by a cluster
 * of another layout: its keys would be looked for in other shards and on other servers (a
 * restart from 4 shards with 8 read undefined for half the keys, and new writes mixed with the
 * old state). A folder without the file, new or written before it existed, is taken as it is,
 * and the file written (replaced whole, by a rename). Called under the folder's lock.
 */
export function checkLayout(dir: string, layout: DataDirLayout): void {
  const file = join(dir, DATA_DIR_LAYOUT);
  const refuse = (why: string): ConfigError => new ConfigError('dataDir', `a directory written by a cluster of the same layout, or a new one (${why})`, dir);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw refuse(`${(error as NodeJS.ErrnoException).code ?? (error as Error).message} reading ${DATA_DIR_LAYOUT}`);
  }
  const wanted = { shards: layout.shards, regions: layout.regions.map((r) => ({ name: r.name, servers: r.servers })) };
  if (text === undefined) {
    const tmp = `${file}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(wanted)}\n`);
      renameSync(tmp, file);
    } catch (error) {
      rmSync(tmp, { force: true });
      throw refuse(`${(error as NodeJS.ErrnoException).code ?? (error as Error).message} writing ${DATA_DIR_LAYOUT}`);
    }
    return;
  }
  const old = parseLayout(text);
  if (old === undefined) throw refuse(`${DATA_DIR_LAYOUT} there is not one Meridian wrote`);
  const was: string[] = [];
  const now: string[] = [];
  if (old.shards !== wanted.shards) {
    was.push(`${old.shards} shards`);
    now.push(`${wanted.shards} shards`);
  }
  if (layoutText(old.regions) !== layoutText(wanted.regions)) {
    was.push(`regions ${layoutText(old.regions)}`);
    now.push(`regions ${layoutText(wanted.regions)}`);
  }
  if (was.length > 0) throw refuse(`written by a cluster of ${was.join(' and ')}; this one has ${now.join(' and ')}`);
}

function parseLayout(text: string): DataDirLayout | undefined {
  try {
    const parsed = JSON.parse(text) as { shards?: unknown; regions?: unknown };
    const { shards, regions } = parsed;
    if (!Number.isSafeInteger(shards) || !Array.isArray(regions)) return undefined;
    const out: DataDirLayout['regions'] = [];
    for (const r of regions as unknown[]) {
      const { name, servers } = (r ?? {}) as { name?: unknown; servers?: unknown };
      if (typeof name !== 'string' || !Number.isSafeInteger(servers)) return undefined;
      out.push({ name, servers: servers as number });
    }
    return { shards: shards as number, regions: out };
  } catch {
    return undefined;
  }
}
