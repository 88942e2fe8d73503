/** `meridian check` in a new process, signalled mid-run: the Ctrl-C and SIGTERM tests'. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface InterruptedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether stdout matched `when`, so the signal went. */
  signalled: boolean;
}

export interface InterruptOptions {
  /** SIGINT (Ctrl-C) by default. */
  signal?: NodeJS.Signals;
  /** How many times it is sent at once (2: as `timeout` and `npm run` deliver one signal). */
  times?: number;
  /** How long after stdout matched, in ms (0: at once). */
  delayMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** `meridian check ARGS`, sent `signal` once its stdout matches `when`. */
export async function interrupted(args: string[], when: RegExp, options: InterruptOptions = {}): Promise<InterruptedRun> {
  const { signal = 'SIGINT', times = 1, delayMs = 0, env } = options;
  const child = spawn(process.execPath, [cli, 'check', ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(env === undefined ? {} : { env }) });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  const send = (): void => {
    for (let i = 0; i < times; i++) child.kill(signal);
  };
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!signalled && when.test(stdout)) {
        signalled = true;
        if (delayMs > 0) setTimeout(send, delayMs);
        else send();
      }
    });
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  return { code, stdout, stderr, signalled };
}
