import test from 'ava';
import { ConfigError } from '../src/core/errors.js';
import { startCluster } from '../src/cluster/cluster.js';
import type { ClusterConfig } from '../src/cluster/config.js';

// Findings of the slice 'noticed4' (session 69): each test failed before its fix.

test("config: replication.preVote is refused with mode 'none' (a group of one elects itself), as sync is; accepted with the other modes, factor 1 too", async (t) => {
  const base = { regions: [{ name: 'r', servers: 1 }], transport: 'sim', seed: 1 } satisfies ClusterConfig;
  for (const preVote of [true, false]) {
    const error = await t.throwsAsync(startCluster({ ...base, replication: { mode: 'none', preVote } }), { instanceOf: ConfigError });
    t.is(error!.field, 'replication.preVote');
    t.is(
      error!.message,
      `config.replication.preVote: expected absent with mode 'none' (a group of one elects itself: only modes 'passive', 'active' and 'hybrid' run a pre-vote), got ${preVote}`,
    );
  }
  for (const replication of [{ mode: 'none' }, { mode: 'active', factor: 1, preVote: false }, { mode: 'passive', factor: 1, preVote: true }] as const) {
    const cluster = await startCluster({ ...base, replication });
    await cluster.stop();
    t.pass(`${JSON.stringify(replication)} starts`);
  }
});
