import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The temporary data folders of the runtimes of this thread (a cluster given no dataDir, the
 * bench's pairs): each made here, removed by its runtime's stop(), and at the latest as the
 * process exits (process.exit, or the end of its work), when a runtime was never stopped: a
 * command that quits at once (a second Ctrl-C, `meridian bench` abandoning the suite it ran)
 * left its logs in the system's temporary folder (found by an audit, session 56). A thread
 * ended from outside (Worker.terminate) runs no exit listener: a pool that stops a seed's
 * worker stops the seed's clusters first (check-runner's SeedJob).
 */
const made = new Set<string>();
let listening = false;
/** The runtimes of this thread on such a folder, not stopped yet (trackRuntime). */
const running = new Set<{ stop(): Promise<void> }>();

/** A new empty folder in the system's temporary folder, its name `prefix` and six characters; removed at exit unless removeTempDir removed it first. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  if (!listening) {
    listening = true;
    process.on('exit', removeAll);
  }
  return dir;
}

/** Removes `dir` (one makeTempDir made) with everything in it. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  made.delete(dir);
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

/** The folders still there, each removed as well as it can be (an exit listener cannot throw). */
function removeAll(): void {
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // A folder that cannot be removed now stays, as it did before.
    }
  }
  made.clear();
}
