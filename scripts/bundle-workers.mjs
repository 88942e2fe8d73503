// Bundles the cluster's worker entry (dist/workers/cluster-host.js, built by tsc) with every
// module it imports, msgpackr and comlink included, into one CommonJS file,
// dist/workers/cluster-host.bundle.cjs, and makes V8's code cache of it: each worker thread
// (dist/workers/cluster-host-loader.cjs) then reads one file instead of some sixty and
// compiles it from the cache. Run by `npm run build` after tsc.
//
// Beside the bundle:
// - cluster-host.bundle.cjs.inputs.json lists the files it was made from (relative to it) and
//   their SHA-1s: src/cluster/cluster.ts uses the bundle only while none of them has changed
//   (tsc run alone, or in watch mode, after a change), and falls back to the unbundled entry
//   (dist/workers/host.js) otherwise;
// - cluster-host.bundle.cjs.cache is the code cache, and cluster-host.bundle.cjs.cache.json
//   the SHA-1s of the bundle and of the loader (whose wrapper is part of what was compiled)
//   it was made from, and the Node version that made it: V8 checks its own version and flags
//   but not the source's bytes, so the calling thread hands the cache to its workers only
//   when both SHA-1s match.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = 'dist/workers';
const bundleFile = join(root, outDir, 'cluster-host.bundle.cjs');
const sha1 = (bytes) => createHash('sha1').update(bytes).digest('hex');
const result = await build({
  absWorkingDir: root,
  entryPoints: [`${outDir}/cluster-host.js`],
  outfile: bundleFile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Line mappings only: the sources are in dist/ and src/ beside it.
  sourcemap: true,
  sourcesContent: false,
  // A CommonJS module has no import.meta: its URL from __filename (msgpackr's node entry reads it).
  define: { 'import.meta.url': '__meridianImportMetaUrl' },
  banner: { js: "const __meridianImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  metafile: true,
  logLevel: 'warning',
});
// Written after the bundle, so the bundle is never newer than the list that vouches for it.
// Only Meridian's own files (dist/), each with its SHA-1: the dependencies do not change under
// a `tsc --watch`, and once the package is installed they are hoisted out of its folder, where
// the paths seen here would not find them and the bundle would never be used.
const inputs = Object.keys(result.metafile.inputs)
  .filter((input) => !input.split('\\').join('/').includes('node_modules/'))
  .map((input) => ({
    file: relative(outDir, input).split('\\').join('/'),
    sha1: sha1(readFileSync(join(root, input))),
  }));
writeFileSync(`${bundleFile}.inputs.json`, `${JSON.stringify(inputs, null, 1)}\n`);

// The code cache of the bundle as the loader compiles it (its wrapper, its file name): the
// top level compiled, the functions compiled lazily as they first run are not in it.
const loaderFile = join(root, outDir, 'cluster-host-loader.cjs');
const { wrapBundle } = createRequire(import.meta.url)(loaderFile);
const source = readFileSync(bundleFile, 'utf8');
const cache = new Script(wrapBundle(source), { filename: bundleFile }).createCachedData();
writeFileSync(`${bundleFile}.cache`, cache);
const made = { bundleSha1: sha1(source), loaderSha1: sha1(readFileSync(loaderFile)), node: process.version };
writeFileSync(`${bundleFile}.cache.json`, `${JSON.stringify(made)}\n`);
