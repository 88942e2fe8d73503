/**
 * Entry of a host process the NATS transport spawns on this machine:
 *   MERIDIAN_NATS_SERVERS=URL[,URL] node workers/nats-host.js --cluster NAME --uid UID
 * (the URLs in the environment, not on the command line: see NATS_SERVERS_ENV).
 * Its stdin is a pipe from the launcher: when the launcher is gone (the pipe closes), the
 * host exits; also when its NATS connection is lost or the launcher shuts it down.
 */
import { runNatsHost } from '../src/runtime/transports/nats-host.js';
import { NATS_SERVERS_ENV } from '../src/runtime/transports/nats-wire.js';

function arg(name: string): string {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (value === undefined) {
    console.error(`nats-host: missing ${name}`);
    process.exit(2);
  }
  return value;
}

const handle = await runNatsHost({
  servers: (process.env[NATS_SERVERS_ENV] ?? arg('--nats')).split(','),
  cluster: arg('--cluster'),
  uid: arg('--uid'),
  fallbackBehaviorsModule: new URL('../src/cluster/behaviors-lazy.js', import.meta.url).href,
  watchBeat: false,
}).catch((error: unknown) => {
  console.error(`nats-host: ${(error as Error).message}`);
  process.exit(1);
});
const parentGone = (): void => void handle.stop('the launcher is gone (stdin closed)');
process.stdin.on('end', parentGone);
process.stdin.on('close', parentGone);
process.stdin.on('error', parentGone);
process.stdin.resume();
await handle.done;
process.exit(0);
