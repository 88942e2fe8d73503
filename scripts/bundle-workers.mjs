// Bundles the cluster's worker entry (dist/workers/cluster-host.js, built by tsc) with every
// module it imports, msgpackr and comlink included, into dist/workers/cluster-host.bundle.js:
// each worker thread then reads, links and compiles one file instead of some sixty. Run by
// `npm run build` after tsc. Beside the bundle, cluster-host.bundle.js.inputs.json lists the
// files it was made from (relative to it) and their SHA-1s: src/cluster/cluster.ts uses the
// bundle only while none of them has changed (tsc run alone, or in watch mode, after a
// change), and falls back to the unbundled entry (dist/workers/host.js) otherwise.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = 'dist/workers';
const result = await build({
  absWorkingDir: root,
  entryPoints: [`${outDir}/cluster-host.js`],
  outfile: `${outDir}/cluster-host.bundle.js`,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Line mappings only: the sources are in dist/ and src/ beside it.
  sourcemap: true,
  sourcesContent: false,
  // CommonJS code in the bundle (comlink's UMD build, msgpackr's optional native loader)
  // calls require(), which an ES module does not have: give it Node's.
  banner: { js: "import { createRequire as __meridianCreateRequire } from 'node:module'; const require = __meridianCreateRequire(import.meta.url);" },
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
    sha1: createHash('sha1')
      .update(readFileSync(join(root, input)))
      .digest('hex'),
  }));
writeFileSync(`${root}/${outDir}/cluster-host.bundle.js.inputs.json`, `${JSON.stringify(inputs, null, 1)}\n`);
