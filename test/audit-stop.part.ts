/**
 * Session 68's class audit of stop paths and full queues (every stop, close and shutdown a user
 * reaches; every bounded queue and buffer): each test fails on the code before its fix.
 */
import test from 'ava';
import { StoppedError } from '../src/index.js';
import type { Runtime } from '../src/runtime/transports/runtime.js';
import { runtimeWith } from './helpers/runtimes.js';

// A setNetwork or setPartitions still waiting for a worker's answer when stop() began resolved
// on threads (the StoppedError of the call to that worker was taken for a host that died, which
// is left out), as if every host had applied a change that none may have; a crash or a pause in
// flight rejected with StoppedError. Now they reject the same way. (NATS had the same hole, for a
// host that had not answered yet when stop() closed the connection.)
test('threads: a setNetwork or setPartitions in flight when stop() begins rejects with StoppedError instead of resolving', async (t) => {
  const rt: Runtime = await runtimeWith('threads', [{ host: 1, address: 'echo/a', behavior: 'echo', params: {} }]);
  const network = rt.setNetwork({ loss: 0 });
  const partitions = rt.setPartitions([]);
  await rt.stop();
  await t.throwsAsync(network, { instanceOf: StoppedError, message: /stopped before the call ended/ });
  await t.throwsAsync(partitions, { instanceOf: StoppedError, message: /stopped before the call ended/ });
});
