import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ThreadsRuntime } from '../src/runtime/transports/threads.js';
import { CLUSTER_WORKER_BUNDLE, freshBundle, startCluster } from '../src/cluster/cluster.js';

// `npm run build` (which `npm test` runs first) bundles the cluster's worker entry; a threads
// cluster's workers load that one file instead of some sixty modules each.

test('the build left a bundle of the cluster worker entry, newer than every file it was made from', (t) => {
  t.is(freshBundle(CLUSTER_WORKER_BUNDLE)?.href, CLUSTER_WORKER_BUNDLE.href);
  const inputs = JSON.parse(readFileSync(new URL(`${CLUSTER_WORKER_BUNDLE.href}.inputs.json`), 'utf8')) as string[];
  t.true(inputs.includes('cluster-host.js') && inputs.includes('../src/cluster/server.js'), inputs.slice(0, 5).join(', '));
});

test('a bundle is not used when a file it was made from is newer (tsc alone, or tsc --watch, after a change), or its list is missing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bundle-'));
  try {
    const at = (name: string): URL => pathToFileURL(join(dir, name));
    const bundle = at('entry.bundle.js');
    writeFileSync(at('entry.js'), '');
    writeFileSync(at('dep.js'), '');
    t.is(freshBundle(bundle), undefined, 'no bundle');
    writeFileSync(bundle, '');
    t.is(freshBundle(bundle), undefined, 'no list of inputs');
    writeFileSync(at('entry.bundle.js.inputs.json'), JSON.stringify(['entry.js', 'dep.js']));
    utimesSync(at('entry.js'), 1_000, 1_000);
    utimesSync(at('dep.js'), 1_000, 1_000);
    utimesSync(bundle, 2_000, 2_000);
    t.is(freshBundle(bundle)?.href, bundle.href, 'every input older');
    utimesSync(at('dep.js'), 3_000, 3_000);
    t.is(freshBundle(bundle), undefined, 'one input newer (a module tsc --watch re-emitted alone)');
    writeFileSync(at('entry.bundle.js.inputs.json'), JSON.stringify(['entry.js', 'gone.js']));
    t.is(freshBundle(bundle), undefined, 'an input missing');
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
