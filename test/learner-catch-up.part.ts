/**
 * A hybrid learner far behind under small limits catches up within a quiet second (simulated
 * time). Its leader's feed sent it the commands it missed a message a tick (2-5 of them with a
 * small messageBytesMax), even when they took a hundred times the bytes of the state they lead
 * to: a few keys written over and over. `meridian check --shape random --nemesis swarm --mode
 * hybrid --txn-share 0.2 --limits small --faults <every kind>` failed seeds 2300411 and 2301310 so: a learner restarted empty in the catch-up phase was still
 * 44 and 60 commands short of 1335 and 651 after the check's three quiet seconds. The feed now
 * sends such a learner a snapshot (src/replication/learner.ts, LearnerFeed.snapshotSmaller).
 * Before that fix, the learner here took 2630 ms (restarted empty) and 2430 ms (cut off) to catch
 * up, with 241 and 240 learns; with it, 250 ms (the feed's probe finds it empty within
 * LEARN_RESEND_TICKS) and 40 ms, with 3 pieces of a snapshot of 430 bytes.
 *
 * The same two ways to fall behind as the check: restarted empty after the writes (it keeps no
 * log: the feed learns of it from its answer to a probe), and cut off from its shard's region
 * during them. Every message stays within messageBytesMax, and the learner ends with the
 * leader's data.
 */
import test from 'ava';
import { withCluster, type ClusterConfig } from '../src/index.js';
import type { Cluster } from '../src/cluster/cluster.js';
import type { ServerState } from '../src/cluster/server.js';
import { groupOf, learnersOf, topologyOf } from '../src/cluster/topology.js';
import { createPackr } from '../src/core/codec.js';
import type { KvStateMachine } from '../src/replication/state-machine.js';

/** As small as `--limits small` draws them (512-2048 bytes). */
const MESSAGE_BYTES_MAX = 768;
const KEYS = 4;
/** Puts, each key written over and over: the log grows, the state does not. */
const WRITES = 1_200;
/** Simulated time the learner may take to catch up: the check's quiet second (SCENARIO_QUIET_MS). */
const CATCH_UP_MS = 1_000;
/** How long to wait at most, to say how long it took when it is over CATCH_UP_MS. */
const WAIT_MS = 20_000;

function config(seed: number): ClusterConfig {
  return {
    // The shard's group in r1, its learner r2/0 (the only server of r2).
    regions: [
      { name: 'r1', servers: 3 },
      { name: 'r2', servers: 1 },
    ],
    transport: 'sim',
    seed,
    network: { latencyMs: { 'r1~r2': 20 } },
    replication: { mode: 'hybrid', factor: 3 },
    shards: 1,
    messageBytesMax: MESSAGE_BYTES_MAX,
    limits: { seenRequests: 8, finishedTxns: 8, begunRequests: 8, routedRequests: 8 },
  };
}

function serverState(cluster: Cluster, id: string): ServerState {
  const state = cluster.internals.runtime.host.cell(id)?.peekState() as ServerState | undefined;
  if (state === undefined) throw new Error(`no state for ${id}`);
  return state;
}

/** The shard's state machine at its leader's (undefined while it has none). */
function leaderSm(cluster: Cluster): KvStateMachine | undefined {
  for (const id of groupOf(0, topologyOf(cluster.config))) {
    const group = cluster.isDown(id) ? undefined : serverState(cluster, id).groups.get(0);
    if (group?.isLeader()) return group.sm;
  }
  return undefined;
}

function learnerSm(cluster: Cluster, id: string): KvStateMachine {
  return serverState(cluster, id).learners.get(0)!.sm;
}

/** Whether learner `id` applied as much as the shard's leader (it has one). */
function caughtUp(cluster: Cluster, id: string): boolean {
  const leader = leaderSm(cluster);
  return leader !== undefined && learnerSm(cluster, id).applied >= leader.applied;
}

/** Simulated ms until learner `id` caught up, looking every tick's worth; WAIT_MS at most. */
async function catchUpMs(cluster: Cluster, id: string): Promise<number> {
  const start = cluster.now();
  while (!caughtUp(cluster, id) && cluster.now() - start < WAIT_MS) await cluster.sleep(10);
  return cluster.now() - start;
}

/** WRITES puts of KEYS keys from four clients of r1 (again until acknowledged). */
async function writeAll(cluster: Cluster): Promise<void> {
  const clients = Array.from({ length: 4 }, () => cluster.client({ region: 'r1' }));
  await Promise.all(
    clients.map(async (client, c) => {
      for (let i = c; i < WRITES; i += clients.length) {
        for (let attempt = 0; ; attempt++) {
          try {
            await client.put(`k${i % KEYS}`, `v${i}`);
            break;
          } catch (error) {
            if (attempt >= 20) throw error;
          }
        }
      }
    }),
  );
}

for (const how of ['restarted empty', 'cut off'] as const) {
  test(`hybrid, messageBytesMax ${MESSAGE_BYTES_MAX}: a learner ${how} after its shard applied ${WRITES} commands of ${KEYS} keys catches up within ${CATCH_UP_MS} ms`, async (t) => {
    await withCluster(t, config(6501), async (cluster) => {
      const [learner] = learnersOf(0, topologyOf(cluster.config));
      if (how === 'cut off') {
        await cluster.partition([learner!], groupOf(0, topologyOf(cluster.config)));
        await writeAll(cluster);
        await cluster.heal();
      } else {
        await writeAll(cluster);
        // It holds every command first, then restarts with nothing written after: the feed
        // believes it acknowledged everything.
        const following = await catchUpMs(cluster, learner!);
        t.true(caughtUp(cluster, learner!), `${learner} followed the writes (${following} ms)`);
        await cluster.crash(learner!);
        await cluster.restart(learner!);
      }
      const from = learnerSm(cluster, learner!).applied;
      const sentBefore = cluster.stats().types;
      const took = await catchUpMs(cluster, learner!);
      const stats = cluster.stats();
      const sent = (type: string): number => (stats.types[type] ?? 0) - (sentBefore[type] ?? 0);
      const leader = leaderSm(cluster);
      const shown = `${learner} from ${from} to ${learnerSm(cluster, learner!).applied} of ${leader?.applied ?? '(no leader)'} commands in ${took} ms, with ${sent('learn')} learns and ${sent('learn-piece')} learn-pieces (the state: ${leader === undefined ? '?' : createPackr().pack(leader.snapshot()).byteLength} bytes)`;
      t.log(shown);
      if (leader === undefined) return t.fail(`no leader: ${shown}`);
      t.true(leader.applied >= WRITES, `the leader applied ${leader.applied} commands`);
      t.true(caughtUp(cluster, learner!), `caught up: ${shown}`);
      t.true(took <= CATCH_UP_MS, `within ${CATCH_UP_MS} ms: ${shown}`);
      t.is(stats.dropped['too-large'] ?? 0, 0, 'no message was over messageBytesMax');
      t.deepEqual(learnerSm(cluster, learner!).snapshot().data, leader.snapshot().data, `${learner} holds the leader's data`);
    });
  });
}
