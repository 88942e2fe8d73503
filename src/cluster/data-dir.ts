import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';

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
      mkdirSync(dir, { recursive: true });
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
