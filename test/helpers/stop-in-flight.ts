/**
 * What stop() does to a crash, restart, pause or resume in flight (test/stop.test.ts on
 * threads, test/nats-transport.test.ts on NATS): each must complete or reject with a
 * StoppedError, and refuse with one after stop.
 */
import { StoppedError, type Cluster } from '../../src/index.js';

/**
 * The operations, each on a fresh cluster of region 'a' (the caller's start: two servers on
 * threads, one on NATS); `before` brings the node to the state the operation needs.
 */
export const LIFECYCLE_OPERATIONS: ReadonlyArray<{ name: string; before?: (c: Cluster) => Promise<void>; run: (c: Cluster) => Promise<void> }> = [
  { name: 'crash', run: (c) => c.crash('a/0') },
  { name: 'restart', before: (c) => c.crash('a/0'), run: (c) => c.restart('a/0') },
  { name: 'pause', run: (c) => c.pause('a/0') },
  { name: 'resume', before: (c) => c.pause('a/0'), run: (c) => c.resume('a/0') },
  // The crash of a coordinator: a node of a host that runs other nodes, with any placement.
  { name: 'crash coordinator', run: (c) => c.crash('coordinator/a') },
];

/**
 * How `p` settled, named: 'resolved', 'StoppedError' for a StoppedError itself (not a
 * subclass: a HostExitedError names a host), or the rejection's name and message.
 */
export async function outcomeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (error) {
    if (error instanceof Error && error.constructor === StoppedError) return 'StoppedError';
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}

/**
 * Runs each operation on a cluster from `start`, stops the cluster while it is in flight, and
 * calls it again after stop. Returns one line per outcome and those that break the rule
 * (in flight: resolved or StoppedError; after stop: StoppedError). `settled(cluster)` runs
 * once the operation has settled (to read what it left behind).
 */
export async function stopWhileInFlight(
  start: () => Promise<Cluster>,
  settled?: (cluster: Cluster) => void,
): Promise<{ outcomes: string[]; broken: string[] }> {
  const outcomes: string[] = [];
  for (const op of LIFECYCLE_OPERATIONS) {
    const cluster = await start();
    let inFlight: Promise<void> | undefined;
    try {
      await op.before?.(cluster);
      inFlight = op.run(cluster);
    } finally {
      await cluster.stop();
    }
    outcomes.push(`${op.name}: ${await outcomeOf(inFlight!)}`);
    outcomes.push(`${op.name} after stop: ${await outcomeOf(op.run(cluster))}`);
    settled?.(cluster);
  }
  const allowed = /^[a-z ]+: (resolved|StoppedError)$/;
  const broken = outcomes.filter((o) => !allowed.test(o) || (o.includes('after stop') && !o.endsWith('StoppedError')));
  return { outcomes, broken };
}
