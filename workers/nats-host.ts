/**
 * Entry of a host process the NATS transport spawns on this machine:
 *   MERIDIAN_NATS_SERVERS=URL[,URL] node workers/nats-host.js --cluster NAME --uid UID --data-dir DIR
 * (the URLs in the environment, not on the command line: see NATS_SERVERS_ENV; DIR the
 * launcher's data directory, which this host writes under the launcher's lock).
 * Its stdin is a pipe from the launcher: when the launcher is gone (the pipe closes), the
 * host exits; also when its NATS connection is lost or the launcher shuts it down.
 */
import { runNatsHost } from '../src/runtime/transports/nats-host.js';
import { NATS_SERVERS_ENV } from '../src/runtime/transports/nats-wire.js';

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

const handle = await runNatsHost({
  servers: (process.env[NATS_SERVERS_ENV] ?? arg('--nats')).split(','),
  cluster: arg('--cluster'),
  uid: arg('--uid'),
  dataDir: arg('--data-dir'),
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
