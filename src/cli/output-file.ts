import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fchmodSync, lstatSync, openSync, readlinkSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FlagError, gotValue } from './flags.js';

/**
 * Whether `file` can be written, asked before a long run that ends by writing it (so a bad
 * path fails at once, not after the run, its results lost): undefined when it can, else the
 * reason (`ENOENT: no such file or directory, open '...'`). Leaves no trace: an existing file
 * is opened for appending and not written (its content stays, so `--json old.json --compare
 * old.json` still reads the old report), a new one is created and removed again.
 */
export function unwritableReason(file: string): string | undefined {
  return reasonThrough(file, 0);
}

/** unwritableReason of `file`, reached through `links` dangling symbolic links. */
function reasonThrough(file: string, links: number): string | undefined {
  try {
    if (existsSync(file)) {
      closeSync(openSync(file, 'a'));
    } else if (lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink() === true) {
      // A link to nothing yet: writing it creates its target, which is what to ask about
      // (creating the link itself with 'wx' failed EEXIST: found by an audit, session 55).
      if (links >= SYMLINKS_MAX) return `ELOOP: too many symbolic links, open '${file}'`;
      return reasonThrough(resolve(dirname(file), readlinkSync(file)), links + 1);
    } else {
      closeSync(openSync(file, 'wx'));
      unlinkSync(file);
    }
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Links followed to a dangling one's target before giving up (Linux's MAXSYMLINKS). */
const SYMLINKS_MAX = 40;

/**
 * The value of a flag that writes a file (check's --json and --history, bench's --json and
 * --html) as the file, or what is wrong with it, `${flag} needs ${needs}, got ...`: each
 * command throws its own flag error with it (as natsServersFlag). Missing, empty and the next
 * flag (`--json --trace`) are refused, and so is `-`: many tools read it as standard output,
 * here it would be a file named `-`, and standard output carries the command's own report,
 * which the file's content would be mixed into. A file of that name is still `./-`.
 */
export function outputFileFlag(flag: string, value: string | undefined, needs: string): { file: string } | { wrong: string } {
  if (value === undefined || value.length === 0 || value.startsWith('--')) return { wrong: `${flag} needs ${needs}, ${gotValue(value)}` };
  if (value === '-') return { wrong: `${flag} needs ${needs}, got "-": a path, not standard output (the command's report goes there; ./- names a file -)` };
  return { file: value };
}

/**
 * The file a flag writes (outputFileFlag's rules: a path, not `-`), or a FlagError saying what
 * `flag` needs. Here rather than in flags.ts: this file takes gotValue from there, and an import
 * back would make a cycle.
 */
export function outputFile(value: string | undefined, flag: string, needs: string): string {
  const parsed = outputFileFlag(flag, value, needs);
  if ('wrong' in parsed) throw new FlagError(parsed.wrong);
  return parsed.file;
}

/**
 * Whether `file` can be written (unwritableReason), asked before the run; when not, false and a
 * line on `err`: `${command}: ${flag}: cannot write "file": reason`.
 */
export function writable(command: string, file: string, flag: string, err: (line: string) => void): boolean {
  const reason = unwritableReason(file);
  if (reason !== undefined) err(`${command}: ${flag}: cannot write ${JSON.stringify(file)}: ${reason}`);
  return reason === undefined;
}

/**
 * Writes `text` to `file`; false (and a line on `err` naming `flag` and the error, as writable's)
 * when it cannot. The file is whole or as it was: the text goes to a new file beside it, renamed
 * over it once written (and removed if the writing fails). Written in place, a write that failed
 * part way (a full disk, `ulimit -f`) left a file cut short, an earlier good report overwritten
 * with invalid JSON (found by an audit, session 56). In place still where no file can be made
 * beside it (a folder this user cannot write, holding a file it can), and for a file that is
 * not a regular one (`/dev/null`, a FIFO, a shell's pipe: `--json >(jq .)`, /dev/stdout on a
 * pipe): renaming would replace it.
 */
export function writeText(command: string, file: string, text: string, flag: string, err: (line: string) => void): boolean {
  try {
    writeWhole(file, text);
    return true;
  } catch (error) {
    err(`${command}: ${flag}: cannot write ${JSON.stringify(file)}: ${(error as Error).message}`);
    return false;
  }
}

/** writeText's writing: through a file beside `file`'s target, renamed over it. Throws what failed. */
function writeWhole(file: string, text: string): void {
  // Asked of `file` itself, not of its link's target: a pipe a shell passes (`--json >(jq .)`,
  // /dev/fd/63; /dev/stderr on a pipe) is a link to `pipe:[131037]`, which names no file.
  // Resolved, it read as a missing file: a temporary file beside it (/dev/fd/.pipe:[...].tmp)
  // failed with ENOENT after the whole run, its report lost (an audit, session 69).
  const existing = statSync(file, { throwIfNoEntry: false });
  if (existing !== undefined && !existing.isFile()) {
    writeFileSync(file, text);
    return;
  }
  const target = linkTarget(file);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, 'wx');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENAMETOOLONG') {
      writeFileSync(target, text);
      return;
    }
    throw error;
  }
  try {
    try {
      // The file's permissions carry over (a new file's are the umask's, as writeFileSync's).
      if (existing !== undefined) fchmodSync(fd, existing.mode & 0o7777);
      writeFileSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** The file `file` names once its symbolic links are followed (a dangling one: the file it would create). */
function linkTarget(file: string): string {
  let path = file;
  for (let links = 0; lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true; links++) {
    if (links >= SYMLINKS_MAX) throw new Error(`ELOOP: too many symbolic links, open '${file}'`);
    path = resolve(dirname(path), readlinkSync(path));
  }
  return path;
}

/** Whether paths `a` and `b` are one file: the same path once resolved, or (both existing) the same device and inode, as a link makes them. */
export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false; // one of them does not exist (yet)
  }
}
