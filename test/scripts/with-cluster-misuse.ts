/**
 * withCluster called wrongly, on threads: each call must fail naming what is wrong, and leave
 * no cluster running (the process must then exit by itself). Prints one line per call.
 */
import { withCluster, type ClusterConfig, type TestContextLike } from '../../src/index.js';

const config: ClusterConfig = { regions: [{ name: 'a', servers: 1 }], transport: 'threads', seed: 1 };
const calls: Array<[string, () => Promise<unknown>]> = [
  ['no teardown', () => withCluster({ log() {} } as unknown as TestContextLike, config, async () => 1)],
  ['no t', () => withCluster(undefined as unknown as TestContextLike, config, async () => 1)],
  ['body not a function', () => withCluster({ log() {}, teardown() {} }, config, 'notfn' as never)],
  // These start the cluster; it must be stopped all the same.
  [
    'teardown throws',
    () =>
      withCluster(
        {
          log() {},
          teardown() {
            throw new Error('teardown refused');
          },
        },
        config,
        async () => 1,
      ),
  ],
  [
    'log throws',
    () =>
      withCluster(
        {
          log() {
            throw new Error('log refused');
          },
          teardown() {},
        },
        config,
        async () => 1,
      ),
  ],
];
for (const [name, call] of calls) {
  try {
    await call();
    console.log(`${name}: resolved`);
  } catch (error) {
    console.log(`${name}: ${(error as Error).name}: ${(error as Error).message}`);
  }
}
console.log('done');
