/**
 * An aborted transaction says why. A failed check and an append to a key holding a string both
 * said `transaction ... aborted (vote-no)`: the participant's reason, worked out with its vote,
 * went no further than the shard (found by an audit, session 58). Now each commit protocol
 * carries the first no-voter's reason to the coordinator, whose answer puts it in the
 * AbortedError's message and `reason`.
 */
import test from 'ava';
import { AbortedError, startCluster, type Client } from '../src/index.js';

type Ops = Parameters<Client['transaction']>[0];

for (const commit of ['2pc', '3pc', 'paxos-commit'] as const) {
  test(`sim, ${commit}: an aborted transaction's AbortedError names the key and why (message and reason)`, async (t) => {
    const cluster = await startCluster({
      regions: [{ name: 'r1', servers: 3 }],
      transport: 'sim',
      seed: 1,
      replication: { mode: 'active', factor: 3 },
      commit,
    });
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
