/**
 * What stop() does to a crash, restart, pause or resume in flight (test/stop.test.ts on
 * threads, test/nats-transport.test.ts on NATS): each must complete or reject with a
 * StoppedError, and refuse with one after stop.
 */
import { StoppedError, type Cluster } from '../../src/index.js';

/**
 * The operations, on fresh clusters of region 'a' (the caller's start: two servers on threads,
 * one on NATS; see GROUPS); `before` brings the node to the state the operation needs.
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
 * The operations by cluster: each group's run on one cluster, all of them in flight when it
 * stops. The coordinator's crash goes beside the pause of a/0 (another node, whose process or
 * thread it does not end), not on a cluster of its own: each cluster boot costs threads or
 * processes, about a fifth of a run (5 clusters until 2026-12-07).
 */
const GROUPS: ReadonlyArray<readonly string[]> = [['crash'], ['restart'], ['pause', 'crash coordinator'], ['resume']];
if (
  GROUPS.flat().sort().join() !==
  LIFECYCLE_OPERATIONS.map((op) => op.name)
    .sort()
    .join()
)
  throw new Error('stop-in-flight: GROUPS must hold every operation once');

/**
 * Runs each operation on a cluster from `start` (see GROUPS), stops the cluster while it is in
 * flight, and calls it again after stop. Returns one line per outcome and those that break the
 * rule (in flight: resolved or StoppedError; after stop: StoppedError). `settled(cluster)` runs
 * once the operations have settled (to read what they left behind).
 */
export async function stopWhileInFlight(
  start: () => Promise<Cluster>,
  settled?: (cluster: Cluster) => void,
): Promise<{ outcomes: string[]; broken: string[] }> {
  const outcomes: string[] = [];
  for (const group of GROUPS) {
    const ops = group.map((name) => LIFECYCLE_OPERATIONS.find((op) => op.name === name)!);
    const cluster = await start();
    const inFlight: Promise<void>[] = [];
    try {
      for (const op of ops) await op.before?.(cluster);
      for (const op of ops) inFlight.push(op.run(cluster));
    } finally {
      await cluster.stop();
    }
    for (const [i, op] of ops.entries()) outcomes.push(`${op.name}: ${await outcomeOf(inFlight[i]!)}`);
    for (const op of ops) outcomes.push(`${op.name} after stop: ${await outcomeOf(op.run(cluster))}`);
    settled?.(cluster);
  }
  const allowed = /^[a-z ]+: (resolved|StoppedError)$/;
  const broken = outcomes.filter((o) => !allowed.test(o) || (o.includes('after stop') && !o.endsWith('StoppedError')));
  return { outcomes, broken };
}
