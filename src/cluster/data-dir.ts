import { accessSync, constants, lstatSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
