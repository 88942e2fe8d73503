import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { BroadcastChannel, isMainThread } from 'node:worker_threads';

/**
 * The temporary data folders of the runtimes of this thread (a cluster given no dataDir, the
 * bench's pairs): each made here, removed by its runtime's stop(), and at the latest as the
 * process exits (process.exit, the end of its work, or a signal that ends it: signalExit), when
 * a runtime was never stopped: a command that quits at once (a second Ctrl-C, `meridian bench`
 * abandoning the suite it ran) left its logs in the system's temporary folder (found by an
 * audit, session 56). A thread
 * ended from outside (Worker.terminate) runs no exit listener: a pool that stops a seed's
 * worker stops the seed's clusters first (check-runner's SeedJob). And a worker thread's folders
 * are the main thread's to remove at exit too (the CHANNEL below): a second Ctrl-C to `meridian
 * check` quits at once, ending its pool's threads under their seeds, whose folders stayed
 * (found by a review, session 57).
 */
const made = new Set<string>();
let listening = false;

/**
 * Where a worker thread tells the main thread of the folders it makes and removes (a
 * BroadcastChannel reaches every thread of the process, a pool's nested in another's too); the
 * main thread keeps them in `elsewhere` and removes those left as the process exits.
 */
const CHANNEL = 'meridian-temp-dirs';
const elsewhere = new Set<string>();
type Note = { made: string } | { removed: string };
const channel = new BroadcastChannel(CHANNEL);
// It never keeps a process alive; a worker's notes still come while the main thread runs.
channel.unref();
if (isMainThread) {
  channel.onmessage = (event: unknown): void => {
    const note = (event as { data: Note }).data;
    if ('made' in note) {
      elsewhere.add(note.made);
      listen();
    } else {
      forget(note.removed);
      unlistenSignals();
    }
  };
}

/**
 * The signals whose default action ends the process without its 'exit' listeners: a library
 * program interrupted (Ctrl-C, `kill`, the terminal closed) with a cluster never stopped left
 * its folder (found by an audit, session 60). While a folder is there, the main thread listens
 * for them (signalExit).
 */
const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let signalsHeard = false;

/**
 * A signal came: if ours is its only listener (the program has none of its own, so the signal
 * would have ended it), the folders go now, and the signal is raised again with no listener
 * left, ending the process as it would have ended (status 128 + the signal's number). A program
 * with listeners of its own decides what the signal does; its exit runs the 'exit' listener.
 */
function signalExit(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) !== 1) return;
  removeAll();
  unlistenSignals(); // removeAll left no folder
  process.kill(process.pid, signal);
}

/** Listens for EXIT_SIGNALS (main thread only: a worker thread gets no signals) while a folder is there. */
function listenSignals(): void {
  if (signalsHeard || !isMainThread) return;
  signalsHeard = true;
  for (const s of EXIT_SIGNALS) process.on(s, signalExit);
}

/** No folder left: the signals do what they did before, a program without folders untouched. */
function unlistenSignals(): void {
  if (!signalsHeard || made.size > 0 || elsewhere.size > 0) return;
  signalsHeard = false;
  for (const s of EXIT_SIGNALS) process.off(s, signalExit);
}

/** Removes the folders left at this thread's exit (once). */
function listen(): void {
  if (!listening) {
    listening = true;
    process.on('exit', removeAll);
  }
  listenSignals();
}
/** The runtimes of this thread on such a folder, not stopped yet (trackRuntime). */
const running = new Set<{ stop(): Promise<void> }>();

/**
 * A new empty folder in the system's temporary folder, its name `prefix` and six characters;
 * removed at exit unless removeTempDir removed it first. `owned`: its name holds this process's
 * id after `prefix` (makeOwnedDir), and the folders of that prefix whose process is gone go
 * first: a process killed (SIGKILL) runs no exit listener.
 */
export function makeTempDir(prefix: string, options: { owned?: boolean } = {}): string {
  const dir = options.owned === true ? makeOwnedDir(prefix) : mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  listen();
  if (!isMainThread) channel.postMessage({ made: dir } satisfies Note);
  return dir;
}

/**
 * Removes `dir` (one makeTempDir made) with everything in it, and forgets the folders noted in
 * it (a check pool's threads make theirs in the pool's folder): a thread ended before it said
 * it removed one (a real-time seed dropped after SEED_STOP_WAIT_MS, a pool closed under its
 * seeds) left it in `elsewhere` for the life of the process, and the signals listened to
 * (found by an audit of what a long-lived process accumulates, session 69).
 */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  forget(dir);
  if (!isMainThread) channel.postMessage({ removed: dir } satisfies Note);
  unlistenSignals();
}

/** Drops `dir`, removed, from the folders noted, and every folder noted inside it. */
function forget(dir: string): void {
  const inside = dir + sep;
  for (const noted of [made, elsewhere]) for (const d of noted) if (d === dir || d.startsWith(inside)) noted.delete(d);
}

/** Testing only: the folders this thread would remove at exit (its own, and, the main thread, its worker threads'). */
export function notedTempDirsForTests(): string[] {
  return [...made, ...elsewhere];
}

/**
 * `runtime` runs on a folder makeTempDir made: stopRuntimes() stops it. Its stop() calls the
 * function returned.
 */
export function trackRuntime(runtime: { stop(): Promise<void> }): () => void {
  running.add(runtime);
  return () => void running.delete(runtime);
}

/**
 * Stops every runtime trackRuntime holds, and resolves when all have stopped (their folders
 * removed): for a command about to quit with work still running (`meridian bench`'s suite cut
 * short by Ctrl-C). The exit listener alone was not enough: a thread still starting made its
 * folder again after the listener removed it (the threads end after the exit listeners run).
 */
export async function stopRuntimes(): Promise<void> {
  await Promise.allSettled([...running].map((r) => r.stop()));
}

/**
 * The folders still there (the main thread's: the worker threads' too, which may still be
 * writing in them as it exits: hence the retries), each removed as well as it can be (an exit
 * listener cannot throw).
 */
function removeAll(): void {
  for (const dir of [...made, ...elsewhere]) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 10 });
    } catch {
      // A folder that cannot be removed now stays, as it did before.
    }
  }
  made.clear();
  elsewhere.clear();
}

/**
 * A new empty folder in the system's temporary folder named `${prefix}${pid}-`, then `tag` and
 * a dash if given, then six characters: the process that made it, so that a later one can tell
 * whether it is still there. Made after sweepStaleTempDirs(prefix). Not removed at exit (see
 * makeTempDir's `owned`): a script with its own clean-up (scripts/mutants.mjs) uses it as is.
 */
export function makeOwnedDir(prefix: string, tag?: string): string {
  sweepStaleTempDirs(prefix);
  return mkdtempSync(join(tmpdir(), `${prefix}${process.pid}-${tag === undefined ? '' : `${tag}-`}`));
}

/**
 * Removes the folders in `parent` that makeOwnedDir made with `prefix` for a process that is
 * gone (killed with no chance to clean up: SIGKILL, a crash of node itself), and returns them.
 * A folder of a live process (its id answers signal 0, or is another user's: EPERM) is left,
 * and so is every folder whose name has no process id after the prefix (made otherwise: a test's
 * own `meridian-host-layout-...`). A process id reused since by another process keeps its
 * folder until that one ends too. Process ids are read in this process's namespace: a /tmp
 * shared with a container of another pid namespace is not supported.
 */
export function sweepStaleTempDirs(prefix: string, parent: string = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = /^(\d+)-/.exec(name.slice(prefix.length))?.[1];
    if (pid === undefined || processAlive(Number(pid))) continue;
    const dir = join(parent, name);
    try {
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Another process's sweep, or a folder not ours to remove: left.
    }
  }
  return removed;
}

/** Whether process `pid` exists (signal 0 checks without sending); an id that cannot be one counts as alive (never swept). */
function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
