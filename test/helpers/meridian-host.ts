/** `meridian host` processes the NATS tests start, as a user does on another machine. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface HostProcess {
  child: ChildProcess;
  /** Its exit code (null when killed by a signal), once it exits. */
  exited: Promise<number | null>;
  /** What it printed so far: stdout, and stderr too with `collectStderr`. */
  out(): string;
}

/**
 * `meridian host --nats URL --cluster NAME ...extra`: its stderr goes to the test's own unless
 * `collectStderr` (then `out()` holds it, after stdout's lines as they came).
 */
export function startHost(url: string, cluster: string, extra: readonly string[] = [], collectStderr = false): HostProcess {
  const child = spawn(process.execPath, [cli, 'host', '--nats', url, '--cluster', cluster, ...extra], {
    stdio: ['ignore', 'pipe', collectStderr ? 'pipe' : 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  if (collectStderr) child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, out: () => out };
}
