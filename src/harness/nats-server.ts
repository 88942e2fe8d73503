import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';

/**
 * A real nats-server for the NATS tests and benches, on free loopback ports. The binary comes from
 * MERIDIAN_NATS_SERVER_BIN (CI sets it from scripts/ci-nats.sh) or the PATH; without one the
 * tests are skipped and say why.
 */
export interface NatsServer {
  url: string;
  /** The monitoring endpoint (connz, subsz): what tests read to see nothing is left connected. */
  monitorUrl: string;
  stop(): Promise<void>;
}

/** A nats-server binary, and where it was found: the variable MERIDIAN_NATS_SERVER_BIN, or the PATH. */
export interface NatsServerBinary {
  bin: string;
  from: 'MERIDIAN_NATS_SERVER_BIN' | 'PATH';
}

export function natsServerBinary(): NatsServerBinary | { reason: string } {
  const fromEnv = process.env.MERIDIAN_NATS_SERVER_BIN;
  if (fromEnv !== undefined && fromEnv !== '') return { bin: fromEnv, from: 'MERIDIAN_NATS_SERVER_BIN' };
  const found = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  const bin = found.stdout.trim();
  if (found.status === 0 && bin !== '') return { bin, from: 'PATH' };
  return { reason: 'no nats-server binary (set MERIDIAN_NATS_SERVER_BIN or install Debian package nats-server: bash scripts/ci-nats.sh)' };
}

/**
 * One line saying that `binary` did not start, naming where it came from (what to fix):
 * `MERIDIAN_NATS_SERVER_BIN=/nonexistent did not start: ...`, what startNatsServer threw (its
 * server's output) on the same line.
 */
export function natsServerFailure(binary: NatsServerBinary, error: unknown): string {
  const what = binary.from === 'PATH' ? `the PATH's nats-server (${binary.bin})` : `MERIDIAN_NATS_SERVER_BIN=${binary.bin}`;
  const message = (error instanceof Error ? error.message : String(error)).trim().replace(/\s*\n\s*/g, ' / ');
  return `${what} did not start: ${message}`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Tries to start a nats-server this many times. Its ports are found free and then handed to
 * it, so another process (a test file running beside this one) may take one in between: CI
 * saw "bind: address already in use" on the monitor port once (2026-11-30).
 */
export const NATS_SERVER_START_TRIES = 5;

export async function startNatsServer(bin: string, extraArgs: string[] = []): Promise<NatsServer> {
  for (let attempt = 1; ; attempt++) {
    const started = await startOnce(bin, extraArgs);
    if (!('portTaken' in started)) return started;
    if (attempt >= NATS_SERVER_START_TRIES) throw new Error(`nats-server did not start in ${NATS_SERVER_START_TRIES} tries; last: ${started.portTaken}`);
  }
}

/**
 * The shell a nats-server runs under, so that it never outlives the process that started it:
 * the server runs in the background and a watcher (cat) reads the pipe this process holds as
 * the shell's stdin; when that pipe closes (stop() ends it, or this process exits however it
 * exits, SIGKILL included), the watcher stops the server. The shell waits for the server alone
 * and exits with it, so a server that fails to start is seen as an exit. A background job's
 * stdin is /dev/null in a shell without job control, hence the pipe's copy on descriptor 3.
 * $0 is the binary, "$@" its arguments.
 */
const LIFELINE = [
  'exec 3<&0',
  '"$0" "$@" 3<&- </dev/null &',
  'pid=$!',
  '{ cat <&3 >/dev/null; kill -TERM "$pid" 2>/dev/null; } &',
  'exec 3<&-',
  'wait "$pid"',
].join('\n');

async function startOnce(bin: string, extraArgs: string[]): Promise<NatsServer | { portTaken: string }> {
  const port = await freePort();
  const monitor = await freePort();
  const args = ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitor), ...extraArgs];
  const child: ChildProcess = spawn('sh', ['-c', LIFELINE, bin, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  // The lifeline pipe adds nothing to what keeps this process alive: the child does that.
  if (child.stdin instanceof Socket) child.stdin.unref();
  child.stdin!.on('error', () => undefined);
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (log.length < 16_384) log += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const monitorUrl = `http://127.0.0.1:${monitor}`;
  // Ending the lifeline stops the server (and the watcher, if the server had already exited).
  const stop = async (): Promise<void> => {
    child.stdin!.end();
    await exited;
  };
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`${monitorUrl}/healthz`);
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (child.exitCode !== null || i >= 100) {
      await stop();
      const message = `nats-server did not start on 127.0.0.1:${port}: ${log}`;
      if (log.includes('address already in use')) return { portTaken: message };
      throw new Error(message);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `nats://127.0.0.1:${port}`, monitorUrl, stop };
}

/** Connections and subscriptions the server holds now. */
export async function serverLoad(server: NatsServer): Promise<{ connections: number; subscriptions: number }> {
  const connz = (await (await fetch(`${server.monitorUrl}/connz`)).json()) as { num_connections: number };
  const subsz = (await (await fetch(`${server.monitorUrl}/subsz`)).json()) as { num_subscriptions: number };
  return { connections: connz.num_connections, subscriptions: subsz.num_subscriptions };
}

/** True while a process with this pid exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
