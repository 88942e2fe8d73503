/**
 * A server id the cluster does not have, as a key of `network.nodeDelayMs` (at startCluster and
 * in setNetwork) or of `balancer.weights`: the error says what was given. It said
 * `got "unknown server \"zz/0\""`, a sentence quoted as if it were the value given (an audit
 * of concurrent API use, session 61).
 */
import test from 'ava';
import { ConfigError, startCluster, type ClusterConfig } from '../src/index.js';

const config: ClusterConfig = { regions: [{ name: 'a', servers: 2 }], transport: 'sim', seed: 1 };

test('setNetwork: a nodeDelayMs key naming no server says the id given', async (t) => {
  const cluster = await startCluster(config);
  try {
    t.throws(() => cluster.setNetwork({ nodeDelayMs: { 'zz/0': 3 } }), {
      instanceOf: ConfigError,
      message: 'network.nodeDelayMs["zz/0"]: expected a server id of this cluster (region/index, index from 0), got "zz/0"',
    });
  } finally {
    await cluster.stop();
  }
});

test('startCluster: a nodeDelayMs or balancer.weights key naming no server says the id given', async (t) => {
  await t.throwsAsync(startCluster({ ...config, network: { nodeDelayMs: { 'a/5': 3 } } }), {
    instanceOf: ConfigError,
    message: 'config.network.nodeDelayMs["a/5"]: expected a server id of this cluster (region/index, index from 0), got "a/5"',
  });
  await t.throwsAsync(startCluster({ ...config, balancer: { strategy: 'weighted-round-robin', weights: { 'a/5': 2 } } }), {
    instanceOf: ConfigError,
    message: 'config.balancer.weights["a/5"]: expected a server id of this cluster (region/index, index from 0), got "a/5"',
  });
});
