// Bundles the cluster's worker entry (dist/workers/cluster-host.js, built by tsc) with every
// module it imports, msgpackr and comlink included, into dist/workers/cluster-host.bundle.js:
// each worker thread then reads, links and compiles one file instead of some sixty. Run by
// `npm run build` after tsc; src/cluster/cluster.ts falls back to the unbundled entry
// (dist/workers/host.js) when the bundle is missing.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: ['dist/workers/cluster-host.js'],
  outfile: 'dist/workers/cluster-host.bundle.js',
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
  logLevel: 'warning',
});
