import { closeSync, existsSync, openSync, unlinkSync } from 'node:fs';

/**
 * Whether `file` can be written, asked before a long run that ends by writing it (so a bad
 * path fails at once, not after the run, its results lost): undefined when it can, else the
 * reason (`ENOENT: no such file or directory, open '...'`). Leaves no trace: an existing file
 * is opened for appending and not written (its content stays, so `--json old.json --compare
 * old.json` still reads the old report), a new one is created and removed again.
 */
export function unwritableReason(file: string): string | undefined {
  try {
    if (existsSync(file)) {
      closeSync(openSync(file, 'a'));
    } else {
      closeSync(openSync(file, 'wx'));
      unlinkSync(file);
    }
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
