/**
 * `meridian host --nats URL[,URL] --cluster NAME [--data-dir DIR]`: a host for a cluster
 * launched elsewhere with `transport: 'nats', nats: { hosts: N, cluster: NAME }`. It waits
 * for the launcher, runs the actors it is given, and exits when the cluster stops, when its
 * NATS connection is lost or when the launcher goes silent.
 */
import { randomId } from '../core/ids.js';
import { validateNats } from '../cluster/validate-nats.js';
import { isPlainObject } from '../cluster/config.js';
import { runNatsHost } from '../runtime/transports/nats-host.js';

const USAGE = 'usage: meridian host --nats URL[,URL] --cluster NAME [--data-dir DIR]';

export async function main(args: string[]): Promise<number> {
  let servers: string | undefined;
  let cluster: string | undefined;
  let dataDir: string | undefined;
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1];
    if (value === undefined) {
      console.error(`meridian host: ${args[i]} needs a value\n${USAGE}`);
      return 2;
    }
    if (args[i] === '--nats') servers = value;
    else if (args[i] === '--cluster') cluster = value;
    else if (args[i] === '--data-dir') dataDir = value;
    else {
      console.error(`meridian host: unknown option ${JSON.stringify(args[i])}\n${USAGE}`);
      return 2;
    }
  }
  if (servers === undefined || cluster === undefined) {
    console.error(`meridian host: --nats and --cluster are required\n${USAGE}`);
    return 2;
  }
  let resolved;
  try {
    resolved = validateNats({ servers: servers.split(','), cluster, hosts: 1 }, 1, isPlainObject);
  } catch (error) {
    console.error(`meridian host: ${(error as Error).message}`);
    return 2;
  }
  const uid = `r${randomId().replace(/[^A-Za-z0-9]/g, '')}`;
  const handle = await runNatsHost({
    servers: resolved.servers,
    cluster,
    uid,
    fallbackBehaviorsModule: new URL('../cluster/behaviors.js', import.meta.url).href,
    ...(dataDir === undefined ? {} : { dataDir }),
    watchBeat: true,
    log: (line) => console.log(line),
  });
  console.log(`meridian host ${uid}: waiting for cluster ${cluster} on ${resolved.servers.join(', ')}`);
  const stop = (): void => void handle.stop('interrupted');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const reason = await handle.done;
  console.log(`meridian host ${uid}: exiting (${reason})`);
  return 0;
}
