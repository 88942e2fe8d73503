import test from 'ava';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ThreadsRuntime } from '../src/runtime/transports/threads.js';
import { CLUSTER_WORKER_BUNDLE, CLUSTER_WORKER_ENTRY, freshBundle, startCluster } from '../src/cluster/cluster.js';

// `npm run build` (which `npm test` runs first) bundles the cluster's worker entry; a threads
// cluster's workers load that one file instead of some sixty modules each.

test('the build left a bundle of the cluster worker entry, as new as the entry', (t) => {
  t.is(freshBundle(CLUSTER_WORKER_BUNDLE, CLUSTER_WORKER_ENTRY)?.href, CLUSTER_WORKER_BUNDLE.href);
});

test('a bundle older than its entry (tsc run alone after a change) or missing is not used', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bundle-'));
  try {
    const entry = pathToFileURL(join(dir, 'entry.js'));
    const bundle = pathToFileURL(join(dir, 'entry.bundle.js'));
    writeFileSync(entry, '');
    t.is(freshBundle(bundle, entry), undefined, 'missing');
    writeFileSync(bundle, '');
    utimesSync(entry, 2_000, 2_000);
    utimesSync(bundle, 1_000, 1_000);
    t.is(freshBundle(bundle, entry), undefined, 'older');
    utimesSync(bundle, 3_000, 3_000);
    t.is(freshBundle(bundle, entry)?.href, bundle.href, 'newer');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('threads: a cluster booted from the bundle serves a put and a get in every region', async (t) => {
  const cluster = await startCluster({
    regions: [
      { name: 'r1', servers: 2 },
      { name: 'r2', servers: 2 },
    ],
    transport: 'threads',
    placement: 'dedicated',
    replication: { mode: 'active', factor: 2 },
    seed: 3,
  });
  try {
    t.is((cluster.internals.runtime as ThreadsRuntime).workerEntry.href, CLUSTER_WORKER_BUNDLE.href);
    for (const region of ['r1', 'r2']) {
      const client = cluster.client({ region });
      await client.put(`k-${region}`, region);
      t.is(await client.get(`k-${region}`), region);
    }
  } finally {
    await cluster.stop();
  }
});
