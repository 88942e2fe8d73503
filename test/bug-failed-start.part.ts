import test from 'ava';
import { eventually, TimeoutError, UnavailableError, withCluster } from '../src/index.js';
import type { Cluster } from '../src/cluster/cluster.js';
import type { SimRuntime } from '../src/runtime/transports/sim-runtime.js';
import { DAMAGED_LOG_CLUSTER, restartDamaged } from './helpers/damaged-log.js';

// A server whose actor fails to start (its log is damaged in the middle, and refused at load)
// still heartbeat before (found by an audit, session 55): its heartbeat actor shares its node
// and beat on, so its region and the balancers counted it up and routed requests to it, which
// sat in the mailbox of an actor that never started until their callers timed out (an
// indefinite outcome). Now the server's stand-in (serverBehavior.standIn) refuses them at once
// and has its heartbeat actor fall silent, so the region convicts it and the balancers route
// elsewhere; an actor-error says why at each try, and inspect() shows it.

// The log is damaged on purpose: the actor's failed start (an actor error) is what is tested.
const DAMAGES_LOGS = { allowActorErrors: true };

const config = DAMAGED_LOG_CLUSTER;

const stateOf = (cluster: Cluster, id: string): string | undefined => cluster.members().find((m) => m.id === id)?.state;

test('a server whose start fails refuses what reaches it at once (UnavailableError), falls silent, is convicted, and its region is served elsewhere', async (t) => {
  await withCluster(
    t,
    config,
    async (cluster) => {
      const errors: string[] = [];
      cluster.on('actor-error', (e: { address: string; error: { message: string } }) => errors.push(`${e.address}: ${e.error.message}`));
      const a = cluster.client({ region: 'a' });
      for (let i = 0; i < 20; i++) await a.put(`k${i}`, i);
      await restartDamaged(cluster, 'b/0');
      t.true(
        errors.some((e) => /^b\/0: durable store: the log of b\/0 is damaged in the middle/.test(e)),
        errors.join('\n') || 'no actor-error',
      );
      // Region b's balancer still holds b/0 up (its heartbeats stopped only now): its calls go
      // there, and are refused at once. Before, both timed out.
      const b = cluster.client({ region: 'b' });
      const started = cluster.now();
      const read = await t.throwsAsync(b.get('k3', { consistency: 'local' }));
      t.true(read instanceof UnavailableError, `a local read: ${String(read)}`);
      t.false(read instanceof TimeoutError);
      t.regex(read!.message, /b\/0 is not serving: it could not start \(durable store: the log of b\/0 is damaged in the middle/);
      const write = await t.throwsAsync(b.put('k3', 'x'));
      t.true(write instanceof UnavailableError, `a put straight from the balancer: ${String(write)}`);
      t.true(cluster.now() - started < 2_000, 'answered before the request timeout');
      // The region convicts it; it stays down while it cannot start (its retries do not bring
      // its heartbeats back).
      await eventually(cluster, () => stateOf(cluster, 'b/0') === 'down', { timeoutMs: 5_000, message: 'b/0 convicted' });
      for (let i = 0; i < 5; i++) {
        await cluster.sleep(1_000);
        t.is(stateOf(cluster, 'b/0'), 'down', `still down ${i + 1} s later`);
      }
      // Region b's calls go to another region now, and are served.
      t.is(await b.get('k3'), 3);
      t.is(await b.get('k4', { consistency: 'local' }), 4);
      await b.put('k5', 'five');
      t.is(await a.get('k5'), 'five');
      // inspect() says why.
      const inspected = (await cluster.inspect('b/0')) as { status: string; state: { notServing?: string } | null };
      t.is(inspected.status, 'backoff');
      t.regex(inspected.state?.notServing ?? '', /^durable store: the log of b\/0 is damaged in the middle/);
      const hb = (await cluster.inspect('b/0/hb')) as { state: { notServing?: string } | null };
      t.regex(hb.state?.notServing ?? '', /damaged in the middle/);
    },
    DAMAGES_LOGS,
  );
});

test('a server whose start failed serves again once its log is moved aside: its heartbeats come back, and it is routed to', async (t) => {
  await withCluster(
    t,
    config,
    async (cluster) => {
      const a = cluster.client({ region: 'a' });
      for (let i = 0; i < 5; i++) await a.put(`k${i}`, i);
      await restartDamaged(cluster, 'b/0');
      await eventually(cluster, () => stateOf(cluster, 'b/0') === 'down', { timeoutMs: 5_000, message: 'b/0 convicted' });
      // The operator's fix: the log moved aside (the store forgets it); the next try starts it
      // empty, and it catches up from the others.
      const store = (cluster.internals.runtime as SimRuntime).world.durable;
      store.replace('b/0', []);
      await eventually(cluster, () => stateOf(cluster, 'b/0') === 'up', { timeoutMs: 10_000, message: 'b/0 up again' });
      await eventually(
        cluster,
        async () => {
          const value = await cluster.client({ region: 'b' }).get('k2', { consistency: 'local' });
          return value === 2;
        },
        { timeoutMs: 10_000, message: 'b/0 caught up' },
      );
      const inspected = (await cluster.inspect('b/0')) as { status: string };
      t.is(inspected.status, 'running');
    },
    DAMAGES_LOGS,
  );
});
