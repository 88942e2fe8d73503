/** Ctrl-C (SIGINT) and SIGTERM for the commands that run long: `meridian demo`, `check` and `bench`. */
import { settledWithin } from '../core/clock.js';

/** The exit status of a run stopped by Ctrl-C (SIGINT), as a shell gives a command it kills so. */
export const INTERRUPTED_STATUS = 130;
/** The exit status of a run stopped by SIGTERM (`kill`, `timeout`), as a shell gives a command it kills so. */
const TERMINATED_STATUS = 143;

/** The signals that stop a run: each aborts the run's signal with its name as the reason. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * The exit status of a run that `signal` stopped (untilInterrupted's): TERMINATED_STATUS for
 * SIGTERM, else INTERRUPTED_STATUS (Ctrl-C, or a caller's own AbortController).
 */
export function interruptedStatus(signal: AbortSignal): number {
  return signal.reason === 'SIGTERM' ? TERMINATED_STATUS : INTERRUPTED_STATUS;
}

/** What a command prints at the first Ctrl-C or SIGTERM: `what` it does next, and that the signal again quits at once. */
export function interruptLine(command: string, name: NodeJS.Signals, what: string): string {
  const interrupt = name === 'SIGINT';
  return `${command}: ${interrupt ? 'interrupted' : 'terminated'}; ${what} (${interrupt ? 'Ctrl-C' : name} again quits at once)`;
}

/**
 * The longest a second signal waits for untilInterrupted's `onQuit` before the process quits
 * regardless.
 */
export const QUIT_WAIT_MS = 5_000;

/**
 * A repeat of the first signal this soon after it is the same stop delivered twice, not a second
 * Ctrl-C: `timeout` sends its signal to the command and then to the command's process group
 * (the command again), and `npm run` passes a Ctrl-C on to the command that the terminal sent
 * it too. Taken as the second, it quit at once: `timeout 60 meridian check --seeds 50 --json
 * F` ended 143 with no summary and no F (an audit of the CLI, session 61). A person's second
 * Ctrl-C comes later than this.
 */
export const REPEAT_SIGNAL_MS = 500;

/**
 * Runs `body` with a signal that the first Ctrl-C or SIGTERM aborts (its reason the signal's
 * name, 'SIGINT' or 'SIGTERM'; after `onFirst`, which says what happens next), so that the run
 * stops what it started (its clusters and their temporary folders) and ends by itself; the
 * second quits at once, with the status of the first (interruptedStatus): after `onQuit`, if
 * given, which ends what must not outlive the exit listeners (`meridian check`'s pool threads:
 * one still booting a cluster made its folder again after they removed it), for at most
 * QUIT_WAIT_MS; a third does not wait. The first signal again within REPEAT_SIGNAL_MS is not a
 * second (one stop delivered twice). Without a handler a SIGTERM ended the process at once,
 * its clusters' folders left behind. The handlers are gone afterwards.
 */
export async function untilInterrupted<T>(
  body: (signal: AbortSignal) => Promise<T>,
  onFirst?: (signal: NodeJS.Signals) => void,
  onQuit?: () => Promise<void>,
): Promise<T> {
  const stop = new AbortController();
  let quitting = false;
  let firstAt = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    if (stop.signal.aborted) {
      if (name === stop.signal.reason && performance.now() - firstAt < REPEAT_SIGNAL_MS) return;
      const status = interruptedStatus(stop.signal);
      if (onQuit === undefined || quitting) process.exit(status);
      quitting = true;
      void settledWithin(onQuit(), QUIT_WAIT_MS).then(() => process.exit(status));
      return;
    }
    firstAt = performance.now();
    onFirst?.(name);
    stop.abort(name);
  };
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  try {
    return await body(stop.signal);
  } finally {
    // Quitting: the signals stay handled (the next one quits at once, not by the default).
    if (!quitting) for (const name of STOP_SIGNALS) process.off(name, onSignal);
  }
}
