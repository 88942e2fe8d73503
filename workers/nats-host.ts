/**
 * Entry of a host process the NATS transport spawns on this machine:
 *   MERIDIAN_NATS_SERVERS=URL[,URL] node workers/nats-host.js --cluster NAME --uid UID --data-dir DIR
 * (the URLs in the environment, not on the command line: see NATS_SERVERS_ENV; DIR the
 * launcher's data directory, which this host writes under the launcher's lock).
 * Its stdin is a pipe from the launcher: when the launcher is gone (the pipe closes), the
 * host exits (0); also when the launcher shuts it down (0) or its NATS connection is lost (1).
 * Its first connection is retried for a few seconds (FIRST_CONNECT_RETRY_MS).
 */
import { performance } from 'node:perf_hooks';
import { hostExitStatus, LAUNCHER_GONE, runNatsHost, type NatsHostHandle } from '../src/runtime/transports/nats-host.js';
import { NATS_SERVERS_ENV, NatsUnreachableError } from '../src/runtime/transports/nats-wire.js';

// Flag and value pairs, read in order: a cluster named `--uid` (nats.cluster allows it) is a value.
const given = new Map<string, string>();
for (let i = 2; i + 1 < process.argv.length; i += 2) given.set(process.argv[i]!, process.argv[i + 1]!);

function arg(name: string): string {
  const value = given.get(name);
  if (value === undefined) {
    console.error(`nats-host: missing ${name}`);
    process.exit(2);
  }
  return value;
}

/**
 * How long a spawned host retries its first connection: a NATS server bouncing as the launcher
 * spawns it (a restart of a second or so) failed the host at once, and the launcher's seed or
 * restart with it (audit, session 60). Well within the launcher's HOST_READY_TIMEOUT_MS.
 */
const FIRST_CONNECT_RETRY_MS = 8_000;
const FIRST_CONNECT_PAUSE_MS = 250;

// The launcher gone while this host still connects: nothing to stop yet.
let stopHost: ((reason: string) => Promise<void>) | undefined;
const parentGone = (): void => {
  if (stopHost === undefined) process.exit(0);
  void stopHost(LAUNCHER_GONE);
};
process.stdin.on('end', parentGone);
process.stdin.on('close', parentGone);
process.stdin.on('error', parentGone);
process.stdin.resume();

const options = {
  servers: (process.env[NATS_SERVERS_ENV] ?? arg('--nats')).split(','),
  cluster: arg('--cluster'),
  uid: arg('--uid'),
  dataDir: arg('--data-dir'),
  fallbackBehaviorsModule: new URL('../src/cluster/behaviors-lazy.js', import.meta.url).href,
  watchBeat: false,
};
const retryUntil = performance.now() + FIRST_CONNECT_RETRY_MS;
let handle: NatsHostHandle;
for (;;) {
  try {
    handle = await runNatsHost(options);
    break;
  } catch (error) {
    if (error instanceof NatsUnreachableError && performance.now() < retryUntil) {
      await new Promise((resolve) => setTimeout(resolve, FIRST_CONNECT_PAUSE_MS));
      continue;
    }
    console.error(`nats-host: ${(error as Error).message}`);
    process.exit(1);
  }
}
stopHost = handle.stop;
// Its NATS connection lost: 1, as `meridian host` (the launcher's 'host-exit' shows the status).
process.exit(hostExitStatus(await handle.done));
