import test from 'ava';
import { startCluster, type Client, type Cluster } from '../src/index.js';
import { failoverConfig } from './helpers/failover-cluster.js';
import { shardOf } from '../src/cluster/topology.js';

/**
 * A region's coordinator cut off from every server, both ways (`both`), or only from the
 * coordinator to them (`mute`), while its region's balancer still reaches it. Transactions of
 * that region must go to another region's coordinator within a bounded time, stay there for the
 * cut, and come back once it heals. Found by a failover audit (session 59):
 * - cut both ways, the coordinator received no transaction (they come through a server) and
 *   sent nothing, so it never found itself cut off, and the balancer probed only coordinators it
 *   already held down: every transaction of r2 timed out (12 of 12 over 57 s, 2PC and Paxos Commit);
 * - mute under Paxos Commit, the servers' acceptor traffic (their votes go to every
 *   coordinator) counted as hearing from them: it answered the balancer's probes and was taken
 *   back again and again, half of r2's transactions timing out. Under 2PC this worked already.
 */
const SEEDS = [1, 2];
const CUT_MS = 15_000;
/** A transaction started this long into the cut must commit (the in-flight ones before it may time out). */
const SETTLED_MS = 3_000;
const EVERY_MS = 500;

type Cut = 'both' | 'mute';
type Commit = '2pc' | 'paxos-commit';

async function cluster(seed: number, commit: Commit): Promise<Cluster> {
  return startCluster(failoverConfig(seed, { commit }));
}

async function coordinatorsDown(c: Cluster): Promise<string[]> {
  const b = (await c.inspect('balancer/r2')) as { state: { coordinatorsDown: string[] } };
  return b.state.coordinatorsDown;
}

async function committedBy(c: Cluster, coordinator: string): Promise<number> {
  const s = (await c.inspect(coordinator)) as { state: { committed: number } };
  return s.state.committed;
}

interface Outcome {
  /** Virtual ms into the cut the transaction started, and how it ended. */
  at: number;
  outcome: string;
}

/** A transaction on keys of its own (a`i`, b`i`), started `at` ms into the cut, and how it ended. */
function pair(client: Client, i: number, at: number): Promise<Outcome> {
  return client
    .transaction([
      { op: 'put', key: `a${i}`, value: i },
      { op: 'put', key: `b${i}`, value: i },
    ])
    .then(
      () => ({ at, outcome: 'ok' }),
      (e: Error) => ({ at, outcome: e.name }),
    );
}

async function run(seed: number, commit: Commit, cut: Cut): Promise<{ during: Outcome[]; downDuring: string[][]; downAfter: string[]; backAtR2: boolean }> {
  const c = await cluster(seed, commit);
  try {
    const client = c.client({ region: 'r2' });
    await c.sleep(1_500);
    await client.transaction([{ op: 'put', key: 't0', value: 0 }]);
    const t0 = c.now();
    await c.partition(['coordinator/r2'], ['r0', 'r1', 'r2/0', 'r2/1', 'r2/2'], { oneWay: cut === 'mute' });
    // One transaction every EVERY_MS, each on keys of its own, without waiting for the ones before.
    const started: Array<Promise<Outcome>> = [];
    const downDuring: string[][] = [];
    for (let i = 0; c.now() - t0 < CUT_MS; i++) {
      const at = Math.round(c.now() - t0);
      started.push(pair(client, i, at));
      if (at >= SETTLED_MS) downDuring.push(await coordinatorsDown(c));
      await c.sleep(EVERY_MS);
    }
    const during = await Promise.all(started);
    await c.heal();
    await c.sleep(3_000);
    const downAfter = await coordinatorsDown(c);
    const before = await committedBy(c, 'coordinator/r2');
    await client.transaction([
      { op: 'put', key: 't0', value: -1 },
      { op: 'put', key: 't5', value: -1 },
    ]);
    const backAtR2 = (await committedBy(c, 'coordinator/r2')) > before;
    return { during, downDuring, downAfter, backAtR2 };
  } finally {
    await c.stop();
  }
}

for (const [commit, cut] of [
  ['2pc', 'both'],
  ['paxos-commit', 'both'],
  ['2pc', 'mute'],
  ['paxos-commit', 'mute'],
] as const) {
  test(`sim ${commit}: a coordinator cut off from the servers (${cut === 'both' ? 'both ways' : 'one way, mute'}) is held down for the cut, its region's transactions commit through another region's, and it is taken back after the heal`, async (t) => {
    for (const seed of SEEDS) {
      t.log(`seed ${seed}`);
      const { during, downDuring, downAfter, backAtR2 } = await run(seed, commit, cut);
      t.log(`seed ${seed}: ${during.map((o) => `+${o.at}:${o.outcome}`).join(' ')}`);
      const late = during.filter((o) => o.at >= SETTLED_MS);
      t.true(late.length >= 20, `seed ${seed}: ${late.length} transactions started ${SETTLED_MS} ms or more into the cut`);
      t.deepEqual(
        late.filter((o) => o.outcome !== 'ok'),
        [],
        `seed ${seed}: transactions started ${SETTLED_MS} ms or more into the cut that failed`,
      );
      t.true(
        downDuring.every((down) => down.includes('coordinator/r2')),
        `seed ${seed}: balancer/r2 held coordinator/r2 down throughout: ${JSON.stringify(downDuring)}`,
      );
      t.deepEqual(downAfter, [], `seed ${seed}: coordinators balancer/r2 still holds down 3 s after the heal`);
      t.true(backAtR2, `seed ${seed}: a transaction after the heal committed at coordinator/r2`);
    }
  });
}

/**
 * 2PC, mute from the commit point of a transaction on: its participants voted yes and never hear
 * the outcome, so each asks the coordinator for it every retry period. Those decision requests
 * counted as hearing from the servers, so the coordinator was never silent for a vote timeout
 * and never cut off: its region's transactions aborted for as long as the cut lasted. A
 * participant's own request shows nothing of the way back; it no longer counts.
 */
test('sim 2pc: a coordinator muted at a commit point, its participants asking for the outcome, is still held down for the cut', async (t) => {
  const seed = 1;
  t.log(`seed ${seed}`);
  const c = await startCluster({
    regions: ['r0', 'r1', 'r2'].map((name) => ({ name, servers: 3 })),
    transport: 'sim',
    seed,
    shards: 4,
    network: { latencyMs: { 'r0~r1': 40, 'r0~r2': 90, 'r1~r2': 70 }, jitterMs: 2 },
    replication: { mode: 'active', factor: 3 },
    commit: '2pc',
    heartbeat: { intervalMs: 100 },
  });
  try {
    const client = c.client({ region: 'r2' });
    await c.sleep(1_500);
    await client.transaction([{ op: 'put', key: 't0', value: 0 }]);
    let t0 = -1;
    c.atNextCommit('coordinator/r2', shardOf('x0', 4), () => {
      t0 = c.now();
      void c.partition(['coordinator/r2'], ['r0', 'r1', 'r2/0', 'r2/1', 'r2/2'], { oneWay: true });
    });
    const stuck = client.transaction([
      { op: 'put', key: 'x0', value: 1 },
      { op: 'put', key: 'x1', value: 1 },
    ]);
    stuck.catch(() => undefined);
    while (t0 < 0) await c.sleep(10);
    const outcomes: Outcome[] = [];
    for (let i = 0; c.now() - t0 < CUT_MS; i++) {
      const at = Math.round(c.now() - t0);
      outcomes.push(await pair(client, i, at));
      await c.sleep(200);
    }
    t.log(outcomes.map((o) => `+${o.at}:${o.outcome}`).join(' '));
    const late = outcomes.filter((o) => o.at >= SETTLED_MS);
    t.true(late.length >= 10, `${late.length} transactions started ${SETTLED_MS} ms or more into the cut`);
    t.deepEqual(
      late.filter((o) => o.outcome !== 'ok'),
      [],
      `transactions started ${SETTLED_MS} ms or more into the cut that failed`,
    );
  } finally {
    await c.stop();
  }
});
