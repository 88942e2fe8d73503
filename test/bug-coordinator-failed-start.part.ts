import test from 'ava';
import { eventually, TimeoutError, UnavailableError, withCluster } from '../src/index.js';
import type { SimRuntime } from '../src/runtime/transports/sim-runtime.js';
import { DAMAGED_LOG_CLUSTER, restartDamaged } from './helpers/damaged-log.js';

// A coordinator whose actor fails to start (its log is damaged in the middle, and refused at
// load) had no stand-in, unlike a server: the transactions sent to it waited in the mailbox of
// an actor that never started until their callers timed out (TimeoutError, outcome unknown),
// and its region's balancer kept sending it the next ones. Now its stand-in
// (coordinatorBehavior.standIn) refuses each at once, UNAVAILABLE with cutOff (definite: it
// began nothing), and the balancer sends the next ones to another region's coordinator.

// The log is damaged on purpose: the actor's failed start (an actor error) is what is tested.
const DAMAGES_LOGS = { allowActorErrors: true };

const config = DAMAGED_LOG_CLUSTER;

test('a coordinator whose start fails refuses transactions at once (UnavailableError), and its region is served by another coordinator', async (t) => {
  await withCluster(
    t,
    config,
    async (cluster) => {
      const errors: string[] = [];
      cluster.on('actor-error', (e: { address: string; error: { message: string } }) => errors.push(`${e.address}: ${e.error.message}`));
      const b = cluster.client({ region: 'b' });
      for (let i = 0; i < 20; i++) await b.transaction([{ op: 'append', key: `k${i}`, value: i }]);
      await restartDamaged(cluster, 'coordinator/b');
      t.true(
        errors.some((e) => /^coordinator\/b: durable store: the log of coordinator\/b is damaged in the middle/.test(e)),
        errors.join('\n') || 'no actor-error',
      );
      // Refused at once, definite. Before, it timed out.
      const started = cluster.now();
      const refused = await t.throwsAsync(b.transaction([{ op: 'append', key: 'x', value: 1 }]));
      t.true(refused instanceof UnavailableError, `a transaction: ${String(refused)}`);
      t.false(refused instanceof TimeoutError);
      t.regex(refused!.message, /coordinator\/b is not serving: it could not start \(durable store: the log of coordinator\/b is damaged in the middle/);
      t.true(cluster.now() - started < 2_000, 'answered before the request timeout');
      // The balancer holds it down (cutOff): region b's next transactions go to another region's
      // coordinator, and commit.
      await b.transaction([{ op: 'append', key: 'y', value: 2 }]);
      t.deepEqual(await b.transaction([{ op: 'get', key: 'y' }]), [[2]]);
      const inspected = (await cluster.inspect('coordinator/b')) as { status: string; state: { notServing?: string; refused?: number } | null };
      t.is(inspected.status, 'backoff');
      t.regex(inspected.state?.notServing ?? '', /^durable store: the log of coordinator\/b is damaged in the middle/);
      t.is(inspected.state?.refused, 1, 'the next ones went elsewhere');
    },
    DAMAGES_LOGS,
  );
});

test('a coordinator whose start failed serves again once its log is moved aside: it answers the balancer probes, and its region sends it transactions', async (t) => {
  await withCluster(
    t,
    config,
    async (cluster) => {
      const b = cluster.client({ region: 'b' });
      for (let i = 0; i < 10; i++) await b.transaction([{ op: 'append', key: `k${i}`, value: i }]);
      await restartDamaged(cluster, 'coordinator/b');
      await t.throwsAsync(b.transaction([{ op: 'append', key: 'x', value: 1 }]), { instanceOf: UnavailableError });
      // The operator's fix: the log moved aside (the store forgets it); the next try starts it empty.
      const store = (cluster.internals.runtime as SimRuntime).world.durable;
      store.replace('coordinator/b', []);
      const summary = async (): Promise<{ status: string; state: { committed?: number } | null }> =>
        (await cluster.inspect('coordinator/b')) as { status: string; state: { committed?: number } | null };
      await eventually(cluster, async () => (await summary()).status === 'running', { timeoutMs: 10_000, message: 'coordinator/b started' });
      await eventually(
        cluster,
        async () => {
          await b.transaction([{ op: 'append', key: 'y', value: 2 }]);
          return ((await summary()).state?.committed ?? 0) > 0;
        },
        { timeoutMs: 10_000, message: 'region b sends coordinator/b transactions again' },
      );
      t.pass();
    },
    DAMAGES_LOGS,
  );
});
