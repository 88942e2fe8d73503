import test from 'ava';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { runCommand } from './helpers/run-node.js';

/**
 * The package as npm publishes it (`npm pack`): what a user who installs Meridian gets. The
 * tests read dist/ as `npm test` just built it (`--ignore-scripts`: no second build).
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  types: string;
  exports: Record<string, Record<string, string>>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};

/** Where the tarball is packed; removed once every test has run. */
const packDir = mkdtempSync(join(tmpdir(), 'meridian-package-'));
test.after.always(() => rmSync(packDir, { recursive: true, force: true }));

let packing: Promise<{ files: Set<string>; tarball: string }> | undefined;

/**
 * The package packed once for both tests (`npm pack --json` lists what it packed): its files,
 * relative to the package root, and the tarball's path. A dry run beside a real pack ran npm
 * twice for one list.
 */
function packed(): Promise<{ files: Set<string>; tarball: string }> {
  packing ??= (async () => {
    const r = await runCommand('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], 60_000, root);
    if (r.code !== 0) throw new Error(`npm pack exited ${String(r.code)}: ${r.stderr}`);
    const [pack] = JSON.parse(r.stdout) as [{ filename: string; files: { path: string }[] }];
    return { files: new Set(pack.files.map((file) => file.path)), tarball: join(packDir, pack.filename) };
  })();
  return packing;
}

/** What a module file imports: static and dynamic imports, require() and `new URL('...', import.meta.url)` (a worker's entry). */
function importsOf(text: string): string[] {
  const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
  for (const m of text.matchAll(/new URL\(\s*(['"])([^'"\n]+)\1,\s*import\.meta\.url/g)) specifiers.push(m[2]!);
  return specifiers;
}

test('every file the package holds finds what it imports in the package or its dependencies', async (t) => {
  const { files } = await packed();
  const dependencies = new Set(Object.keys(pkg.dependencies));
  const problems: string[] = [];
  let modules = 0;
  for (const file of files) {
    if (!/\.(c?js|d\.c?ts)$/.test(file)) continue;
    modules++;
    for (const specifier of importsOf(readFileSync(join(root, file), 'utf8'))) {
      if (specifier.startsWith('.')) {
        let target = posix.normalize(posix.join(posix.dirname(file), specifier));
        if (/\.d\.c?ts$/.test(file)) target = target.replace(/\.(c?)js$/, '.d.$1ts');
        if (!files.has(target)) problems.push(`${file} imports ${specifier}: ${target} is not in the package`);
        continue;
      }
      // The worker bundle holds its dependencies, comlink's UMD wrapper among them, whose
      // AMD branch names 'exports': not an import.
      if (file.endsWith('.bundle.cjs')) continue;
      const name = specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/');
      if (specifier.startsWith('node:') || builtinModules.includes(name) || dependencies.has(name)) continue;
      problems.push(`${file} imports ${specifier}, which is not a dependency (a user's install would not have it)`);
    }
  }
  t.true(modules > 100, `${modules} modules`);
  t.deepEqual(problems, []);
  const entries = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap((e) => Object.values(e)), ...Object.values(pkg.bin)];
  for (const entry of entries) t.true(files.has(posix.normalize(entry)), `${entry} is in the package`);
  for (const bin of Object.values(pkg.bin)) t.true(readFileSync(join(root, bin), 'utf8').startsWith('#!/usr/bin/env node'), bin);
});

test('installed from its tarball into an empty project, it boots from its worker bundle and its code cache, runs the tour, a CommonJS script requires it, and `meridian check` passes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-package-'));
  try {
    const { tarball } = await packed();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'meridian-user', version: '1.0.0', private: true, type: 'module' }));
    // From npm's cache where it can (`npm ci` filled it), so the test needs no network after that.
    const installed = await runCommand('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], 180_000, dir);
    t.is(installed.code, 0, `npm install: ${installed.stderr}`);
    const home = join(dir, 'node_modules', 'meridian');

    // The threads runtime uses the bundle (one file a worker, not some sixty): npm gives every
    // unpacked file the time it wrote it, so the bundle's freshness is told by the hashes. Two
    // packed worker threads load it as six dedicated ones would (one start each, at less CPU).
    // Then the README's tour, importing 'meridian' as a user's script does, in the same process
    // (until 2026-12-07 a process of its own: a start and the package's imports, about half a
    // CPU second): the boot's line first, then the tour's.
    // Before them all, a CommonJS script: Node 20.19 and later load an ES module by require()
    // (the package's graph has no top-level await), and the exports' 'default' condition lets
    // require() find it. Imported first (a .cjs file is CommonJS, with its own require()), so
    // its require('meridian') is the process's first load of the package, as in a script of its
    // own (until 2026-12-07 a process of its own).
    writeFileSync(join(dir, 'require.cjs'), "const { startCluster, runChecks } = require('meridian'); console.log(typeof startCluster, typeof runChecks);");
    copyFileSync(join(root, 'docs/examples/tour.mjs'), join(dir, 'tour.mjs'));
    writeFileSync(
      join(dir, 'boot.mjs'),
      [
        "await import('./require.cjs');",
        "const { startCluster } = await import('meridian');",
        `const { CLUSTER_WORKER_LOADER } = await import(${JSON.stringify(join(home, 'dist/src/cluster/cluster.js'))});`,
        "const cluster = await startCluster({ regions: [{ name: 'a', servers: 2 }, { name: 'b', servers: 2 }], transport: 'threads', placement: 'packed', threads: 2, replication: { mode: 'active', factor: 2 }, seed: 1 });",
        'const entry = cluster.internals.runtime.workerEntry.href;',
        'const codeCache = cluster.internals.runtime.workerCodeCache;',
        "const client = cluster.client({ region: 'b' });",
        "await client.put('k', 'v');",
        "const got = await client.get('k');",
        'await cluster.stop();',
        'console.log(JSON.stringify({ bundled: entry === CLUSTER_WORKER_LOADER.href, entry, codeCache, got }));',
        "await import('./tour.mjs');",
      ].join('\n'),
    );
    const boot = await runCommand(process.execPath, ['boot.mjs'], 120_000, dir);
    t.is(boot.code, 0, boot.stderr);
    const [required, booted, ...tour] = boot.stdout.split('\n');
    t.is(required, 'function function');
    const bundle = join(home, 'dist/workers/cluster-host.bundle.cjs');
    t.deepEqual(JSON.parse(booted!) as unknown, {
      bundled: true,
      entry: pathToFileURL(join(home, 'dist/workers/cluster-host-loader.cjs')).href,
      codeCache: `${bundle}.cache`,
      got: 'v',
    });
    t.regex(tour.join('\n'), /history: \d+ operations, linearizable/);

    // The installed command, its pool's thread and a seed that passes; two clients and 500 ms of
    // faults (the defaults, 12 and 4000, until 2026-12-07: 1.5 CPU s, 1.15 so, 2 runs each), as
    // what is checked is that the installed package runs it, not what the seed finds.
    const check = await runCommand(
      process.execPath,
      [join(dir, 'node_modules', '.bin', 'meridian'), 'check', '--seeds', '1', '--workers', '1', '--clients', '2', '--fault-ms', '500'],
      120_000,
      dir,
    );
    t.is(check.code, 0, check.stderr);
    t.regex(check.stdout, /check: 1 seed, 1 passed, 0 failed, 0 unknown/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
