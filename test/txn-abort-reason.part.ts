/**
 * An aborted transaction says why. A failed check and an append to a key holding a string both
 * said `transaction ... aborted (vote-no)`: the participant's reason, worked out with its vote,
 * went no further than the shard (found by an audit, session 58). Now each commit protocol
 * carries the first no-voter's reason to the coordinator, whose answer puts it in the
 * AbortedError's message and `reason`.
 */
import test from 'ava';
import { AbortedError, startCluster, type Client, type ClusterConfig } from '../src/index.js';

type Ops = Parameters<Client['transaction']>[0];

/** One region of three servers, active, in the simulator, committing by `commit`. */
function oneRegion(commit: '2pc' | '3pc' | 'paxos-commit'): ClusterConfig {
  return { regions: [{ name: 'r1', servers: 3 }], transport: 'sim', seed: 1, replication: { mode: 'active', factor: 3 }, commit };
}

for (const commit of ['2pc', '3pc', 'paxos-commit'] as const) {
  test(`sim, ${commit}: an aborted transaction's AbortedError names the key and why (message and reason)`, async (t) => {
    const cluster = await startCluster(oneRegion(commit));
    const c = cluster.client({ region: 'r1' });
    try {
      await c.put('balance', 100);
      await c.put('name', 'bob');
      const cases: Array<[Ops, string]> = [
        [
          [
            { op: 'put', key: 'x', value: 1 },
            { op: 'check', key: 'balance', value: 50 },
          ],
          'check failed on key "balance"',
        ],
        [[{ op: 'append', key: 'name', value: 1 }], 'append to key "name", which holds a value that is not a list'],
        // A key of over 60 characters is cut short in the reason.
        [[{ op: 'check', key: 'k'.repeat(300), value: 1 }], `check failed on key "${'k'.repeat(57)}..."`],
      ];
      for (const [ops, reason] of cases) {
        const error = await t.throwsAsync(c.transaction(ops), { instanceOf: AbortedError });
        t.is(error!.reason, reason);
        t.regex(error!.message, /^transaction \S+ aborted: /);
        t.true(error!.message.endsWith(`aborted: ${reason}`), error!.message);
      }
      t.is(await c.get('x'), undefined, 'the aborted put did not apply');
    } finally {
      c.close();
      await cluster.stop();
    }
  });
}

// A lock conflict's reason had no test at the cluster level: transactions that meet another's
// lock vote no with `key "x" is locked by another transaction`, which must reach the caller
// (for Paxos Commit through the acceptors, see test/protocols-paxoscommit's recovery tests).
for (const commit of ['2pc', '3pc', 'paxos-commit'] as const) {
  test(`sim, ${commit}: a transaction aborted by another's lock says so (message and reason)`, async (t) => {
    const cluster = await startCluster(oneRegion(commit));
    const clients = Array.from({ length: 6 }, () => cluster.client({ region: 'r1' }));
    try {
      // Six at once on one key: those that prepare while another holds its lock vote no.
      const results = await Promise.allSettled(
        clients.map((c, i) =>
          c.transaction([
            { op: 'put', key: 'x', value: i },
            { op: 'put', key: `y${i}`, value: i },
          ]),
        ),
      );
      const reasons: string[] = [];
      for (const r of results) {
        if (r.status === 'fulfilled') continue;
        t.true(r.reason instanceof AbortedError, String(r.reason));
        const error = r.reason as AbortedError;
        reasons.push(error.reason ?? '');
        t.true(error.message.endsWith(`aborted: ${error.reason}`), error.message);
      }
      t.log(`${results.length - reasons.length} committed; aborted: ${JSON.stringify(reasons)}`);
      t.true(reasons.includes('key "x" is locked by another transaction'), `an abort names the locked key: ${JSON.stringify(reasons)}`);
    } finally {
      for (const c of clients) c.close();
      await cluster.stop();
    }
  });
}

// Paxos Commit, finished by a recovery leader: the coordinator hears no acceptor but its own
// (a one-way partition), so a prepared shard leads a recovery, which found the no-voter's
// `aborted` without its reason and told the coordinator the outcome alone: the caller read
// `a recovery leader aborted it` or `shard/N voted to abort` (audit leftovers, session 59).
test('sim, paxos-commit: an abort a recovery leader decides still names the key and why', async (t) => {
  const cluster = await startCluster({
    regions: ['r0', 'r1', 'r2'].map((name) => ({ name, servers: 3 })),
    transport: 'sim',
    seed: 1,
    replication: { mode: 'active', factor: 3 },
    commit: 'paxos-commit',
    requestTimeoutMs: 60_000,
  });
  const c = cluster.client({ region: 'r0' });
  try {
    await c.put('balance', 100);
    await cluster.partition(['coordinator/r1', 'coordinator/r2'], ['coordinator/r0'], { oneWay: true });
    const started = cluster.now();
    const error = await t.throwsAsync(
      c.transaction([
        { op: 'put', key: 'x', value: 1 },
        { op: 'check', key: 'balance', value: 50 },
      ]),
      { instanceOf: AbortedError },
    );
    t.log(`${cluster.now() - started} virtual ms: ${error!.message}`);
    t.is(error!.reason, 'check failed on key "balance"');
    t.true(error!.message.endsWith('aborted: check failed on key "balance"'), error!.message);
    await cluster.heal();
    t.is(await c.get('x'), undefined, 'the aborted put did not apply');
  } finally {
    c.close();
    await cluster.stop();
  }
});
