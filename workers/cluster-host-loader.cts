/**
 * Worker-thread entry of a cluster's hosts when `npm run build` left a fresh bundle: it runs
 * dist/workers/cluster-host.bundle.cjs (cluster-host.ts with everything it imports, made by
 * scripts/bundle-workers.mjs) compiled with the V8 code cache the build made of it, when the
 * calling thread found that cache made from these very bytes (`workerData.codeCache`, see
 * bundleCodeCache in src/cluster/cluster.ts). A CommonJS file: the worker neither resolves,
 * links nor evaluates an ES module graph, and it compiles the bundle from the cache instead
 * of from its source. Per
 * worker, on this machine (2026-12-04 23:53 UTC, a scratch probe of 11 workers each): 27 ms of CPU to
 * import the ES module bundle, 20 ms to require a CommonJS one, 14 ms with the code cache.
 */
// A CommonJS module (no ES module graph for the thread to link): its imports are require()s.
/* eslint-disable @typescript-eslint/no-require-imports */
import fs = require('node:fs');
import path = require('node:path');
import vm = require('node:vm');
import threads = require('node:worker_threads');

/** The bundle's file name, beside this one. */
const BUNDLE_FILE = 'cluster-host.bundle.cjs';

/**
 * The source V8 compiles: the bundle wrapped as Node wraps a CommonJS module. The build
 * compiles the same text for the cache (V8 checks a cache against the source's length only).
 */
function wrapBundle(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

/** The code cache's bytes; undefined without one, or if it cannot be read (a build under way): the bundle is then compiled from its source. */
function readCache(codeCache: string | undefined): Buffer | undefined {
  try {
    return codeCache === undefined ? undefined : fs.readFileSync(codeCache);
  } catch {
    return undefined;
  }
}

/** Compiles the bundle at `file` (with `codeCache` if given) and runs it as a CommonJS module. */
function runBundle(file: string, codeCache: string | undefined): void {
  const script = new vm.Script(wrapBundle(fs.readFileSync(file, 'utf8')), { filename: file, cachedData: readCache(codeCache) });
  const run = script.runInThisContext() as (exports: object, req: NodeJS.Require, mod: object, filename: string, dirname: string) => void;
  const mod = { exports: {} };
  run(mod.exports, require, mod, file, __dirname);
}

if (require.main === module) {
  const data = threads.workerData as { codeCache?: string } | null;
  runBundle(path.join(__dirname, BUNDLE_FILE), data?.codeCache);
}

// For scripts/bundle-workers.mjs, which makes the cache.
export = { wrapBundle };
