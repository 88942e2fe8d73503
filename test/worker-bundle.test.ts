import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ThreadsRuntime } from '../src/runtime/transports/threads.js';
import { Worker } from 'node:worker_threads';
import { CLUSTER_WORKER_BUNDLE, CLUSTER_WORKER_LOADER, bundleCodeCache, freshBundle, startCluster } from '../src/cluster/cluster.js';
import { createCheckPool, runChecks } from '../src/harness/check-runner.js';
import { WORKER_OLD_GENERATION_MB_MAX, WORKER_YOUNG_GENERATION_MB_MAX } from '../src/runtime/transports/threads.js';

// `npm run build` (which `npm test` runs first) bundles the cluster's worker entry; a threads
// cluster's workers load that one file instead of some sixty modules each.

test('the build left a bundle of the cluster worker entry, and the list of the files it was made from with their hashes', (t) => {
  t.is(freshBundle(CLUSTER_WORKER_BUNDLE)?.href, CLUSTER_WORKER_BUNDLE.href);
  const inputs = JSON.parse(readFileSync(new URL(`${CLUSTER_WORKER_BUNDLE.href}.inputs.json`), 'utf8')) as { file: string; sha1: string }[];
  const files = inputs.map((input) => input.file);
  t.true(files.includes('cluster-host.js') && files.includes('../src/cluster/server.js'), files.slice(0, 5).join(', '));
  // Meridian's own files only: an installed package's dependencies are hoisted out of its folder.
  t.deepEqual(
    files.filter((file) => file.includes('node_modules')),
    [],
  );
  t.true(inputs.every((input) => /^[0-9a-f]{40}$/.test(input.sha1)));
});

/** Whether V8 rejects the build's code cache in a worker thread started as the runtime starts them. */
async function codeCacheRejected(): Promise<boolean> {
  // Compiled as the loader compiles it (its wrapper, its file name), with the runtime's heap limits.
  const worker = new Worker(
    [
      `const { wrapBundle } = require(${JSON.stringify(fileURLToPath(CLUSTER_WORKER_LOADER))});`,
      "const { readFileSync } = require('node:fs'); const { Script } = require('node:vm');",
      `const file = ${JSON.stringify(fileURLToPath(CLUSTER_WORKER_BUNDLE))};`,
      "const script = new Script(wrapBundle(readFileSync(file, 'utf8')), { filename: file, cachedData: readFileSync(file + '.cache') });",
      "require('node:worker_threads').parentPort.postMessage(script.cachedDataRejected);",
    ].join('\n'),
    { eval: true, resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_GENERATION_MB_MAX, maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB_MAX } },
  );
  try {
    return await new Promise<boolean>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

test.serial('the build made a code cache of the bundle that V8 accepts in a worker thread started as the runtime starts them', async (t) => {
  t.is(bundleCodeCache(CLUSTER_WORKER_BUNDLE), `${fileURLToPath(CLUSTER_WORKER_BUNDLE)}.cache`);
  t.false(await codeCacheRejected(), 'V8 rejected the code cache');
});

// A run of simulated seeds lowers V8's inlining budget for the process while it goes on
// (src/harness/inline-budget.ts), and V8 keys a code cache by its flags: the last run to end must
// put the default back, or every threads cluster started after a check run in the same process
// (a bench run's transport suite after its sim suite) would boot without the cache. A real-time
// run (its seeds boot clusters of threads) leaves the budget alone.
test.serial("while a simulated check run goes on the build's code cache is not V8's to take; once the run ends, it is again", async (t) => {
  const pool = createCheckPool({ workers: 1 });
  try {
    t.false(await codeCacheRejected(), 'a pool open, no run on it');
    const stop = new AbortController();
    let firstReport!: () => void;
    const reported = new Promise<void>((resolve) => (firstReport = resolve));
    const run = runChecks({ seeds: 1_000, pool, signal: stop.signal, onReport: () => firstReport() });
    await reported;
    // The run goes on with its next seeds while the probe's thread starts.
    const during = await codeCacheRejected();
    stop.abort();
    const summary = await run;
    t.true(summary.interrupted, 'the run was still going when the probe ended');
    t.true(during, 'during the run');
    t.false(await codeCacheRejected(), 'after the run');
  } finally {
    await pool.close();
  }
});

test('a code cache made from other bytes than the bundle and its loader, or by another Node, is not handed to the workers', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bundle-'));
  try {
    const bundle = pathToFileURL(join(dir, 'entry.bundle.cjs'));
    const loader = pathToFileURL(join(dir, 'loader.cjs'));
    const file = fileURLToPath(bundle);
    const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');
    writeFileSync(file, 'module.exports = 1;');
    writeFileSync(loader, '(wrapper A)');
    writeFileSync(`${file}.cache`, 'not a cache');
    t.is(bundleCodeCache(bundle, loader), undefined, 'no record of what it was made from');
    const made = { bundleSha1: sha1('module.exports = 1;'), loaderSha1: sha1('(wrapper A)') };
    writeFileSync(`${file}.cache.json`, JSON.stringify({ ...made, node: 'v20.19.0-other' }));
    utimesSync(file, 1_000, 1_000);
    // V8 took a cache another build of Node made and crashed deserializing it (Node 20.20.2's on
    // 20.19.0 segfaulted in 8 of 10 double Ctrl-C runs, session 59): only this Node's is used.
    t.is(bundleCodeCache(bundle, loader), undefined, 'made by another Node');
    writeFileSync(`${file}.cache.json`, JSON.stringify({ ...made, node: process.version }));
    utimesSync(file, 1_500, 1_500);
    t.is(bundleCodeCache(bundle, loader), `${file}.cache`, 'made from these bytes, by this Node');
    writeFileSync(loader, '(wrapper B)');
    utimesSync(loader, 2_000, 2_000);
    t.is(bundleCodeCache(bundle, loader), undefined, 'the loader (its wrapper) changed since');
    writeFileSync(loader, '(wrapper A)');
    utimesSync(loader, 3_000, 3_000);
    writeFileSync(file, 'module.exports = 2;');
    utimesSync(file, 2_000, 2_000);
    t.is(bundleCodeCache(bundle, loader), undefined, 'the bundle changed since');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bundle is not used when a file it was made from changed (tsc alone, or tsc --watch), is missing, or its list is missing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bundle-'));
  try {
    const at = (name: string): URL => pathToFileURL(join(dir, name));
    const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');
    const bundle = at('entry.bundle.js');
    writeFileSync(at('entry.js'), 'entry');
    writeFileSync(at('dep.js'), 'dep');
    t.is(freshBundle(bundle), undefined, 'no bundle');
    writeFileSync(bundle, '');
    t.is(freshBundle(bundle), undefined, 'no list of inputs');
    const list = (files: string[]): string => JSON.stringify(files.map((file) => ({ file, sha1: sha1(file.replace('.js', '')) })));
    writeFileSync(at('entry.bundle.js.inputs.json'), list(['entry.js', 'dep.js']));
    utimesSync(at('entry.js'), 1_000, 1_000);
    utimesSync(at('dep.js'), 1_000, 1_000);
    utimesSync(bundle, 2_000, 2_000);
    t.is(freshBundle(bundle)?.href, bundle.href, 'every input older');
    utimesSync(at('dep.js'), 3_000, 3_000);
    t.is(freshBundle(bundle)?.href, bundle.href, 'one input newer, the same bytes (as npm unpacks an installed package)');
    writeFileSync(at('dep.js'), 'dep, changed');
    t.is(freshBundle(bundle), undefined, 'one input changed (a module tsc --watch re-emitted alone)');
    utimesSync(at('dep.js'), 1_000, 1_000);
    t.is(freshBundle(bundle)?.href, bundle.href, 'a changed input no newer than the bundle is not read');
    writeFileSync(at('entry.bundle.js.inputs.json'), list(['entry.js', 'gone.js']));
    t.is(freshBundle(bundle), undefined, 'an input missing');
    writeFileSync(at('entry.bundle.js.inputs.json'), JSON.stringify(['entry.js', 'dep.js']));
    t.is(freshBundle(bundle), undefined, 'a list without hashes (written by an older build)');
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
    const runtime = cluster.internals.runtime as ThreadsRuntime;
    t.is(runtime.workerEntry.href, CLUSTER_WORKER_LOADER.href);
    t.is(runtime.workerCodeCache, `${fileURLToPath(CLUSTER_WORKER_BUNDLE)}.cache`);
    for (const region of ['r1', 'r2']) {
      const client = cluster.client({ region });
      await client.put(`k-${region}`, region);
      t.is(await client.get(`k-${region}`), region);
    }
  } finally {
    await cluster.stop();
  }
});
