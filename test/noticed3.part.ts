import test from 'ava';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClientMetrics, buildClusterMetrics } from '../src/metrics/cluster-metrics.js';
import { sampleValue } from '../src/metrics/registry.js';
import { BACKLOG_BYTES_MAX, CREDIT_WINDOW_BYTES, NatsLink, subjects } from '../src/runtime/transports/nats-wire.js';

// Findings of the audit slice 'noticed3' (session 68): each test failed before its fix.

/** A connection that takes every publish and never delivers: enough to fill a credit window (see nats-link.part.ts). */
function silentConnection(): NatsConnection {
  return {
    publish: () => undefined,
    isClosed: () => false,
    isDraining: () => false,
    subscribe: () => ({ unsubscribe: () => undefined }),
  } as unknown as NatsConnection;
}

test("nats link: a frame past a peer's full backlog is dropped as 'backlog-full', not as the network model's 'loss'", (t) => {
  const link = new NatsLink(silentConnection(), subjects('t', 'g1'), 1, () => undefined);
  const frame = 256 * 1024;
  const fit = (CREDIT_WINDOW_BYTES + BACKLOG_BYTES_MAX) / frame;
  for (let i = 0; i < fit; i++) t.is(link.send(3, new Uint8Array(frame)), undefined);
  t.is(link.send(3, new Uint8Array(frame)), 'backlog-full');
  link.close();
});

test("metrics: meridian_messages_dropped_total has a 'backlog-full' series apart from 'loss'", (t) => {
  const m = buildClusterMetrics({
    stats: { sent: 5, delivered: 0, bytes: 0, errors: 0, dropped: { 'backlog-full': 3, loss: 2 }, actors: {}, links: {}, types: {}, servers: {} },
    members: [],
    regions: [],
    coordinators: [],
    info: { transport: 'nats', replication: 'active', commit: '2pc' },
    client: new ClientMetrics().snapshot(),
  });
  t.is(sampleValue(m, 'meridian_messages_dropped_total', { cause: 'backlog-full' }), 3);
  t.is(sampleValue(m, 'meridian_messages_dropped_total', { cause: 'loss' }), 2);
});
