import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The layers of `src/` point one way, and no file imports itself back, type imports included:
 *
 *   core ← net, protocols, balance, liveness ← runtime, replication ← metrics ← cluster ← harness ← cli
 *
 * A file may import from its own layer or any layer below it. Read from the sources with the
 * TypeScript pre-processor (static imports, `import type`, re-exports and dynamic imports).
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const src = join(root, 'src');

const RANK: Record<string, number> = {
  core: 0,
  net: 1,
  protocols: 1,
  balance: 1,
  liveness: 1,
  runtime: 2,
  replication: 2,
  metrics: 3,
  cluster: 4,
  harness: 5,
  cli: 6,
  // The package entry points sit on top of everything.
  'cli.ts': 7,
  'index.ts': 7,
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function layerOf(file: string): string {
  return relative(src, file).split('/')[0]!;
}

/** Files under src/ that `file` imports (imports outside src/, such as workers/, are not layered here). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const out: string[] = [];
  for (const ref of info.importedFiles) {
    if (!ref.fileName.startsWith('.')) continue;
    const base = resolve(dirname(file), ref.fileName).replace(/\.js$/, '');
    const target = [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
    if (target && target.startsWith(src + '/')) out.push(target);
  }
  return out;
}

const files = sources(src);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

test('every top-level entry of src/ has a layer', (t) => {
  const unknown = [...new Set(files.map(layerOf))].filter((l) => RANK[l] === undefined);
  t.deepEqual(unknown, []);
  t.true(files.length > 100, `read ${files.length} source files`);
});

function upwardEdges(g: Map<string, string[]>): string[] {
  const upward: string[] = [];
  for (const [from, targets] of g) {
    for (const to of targets) {
      if (RANK[layerOf(to)]! > RANK[layerOf(from)]!) upward.push(`${relative(src, from)} -> ${relative(src, to)}`);
    }
  }
  return upward;
}

/** Tarjan's strongly connected components; a component of two or more files (or a self-import) is a cycle. */
function cyclesOf(g: Map<string, string[]>): string[] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(relative(src, w));
      } while (w !== v);
      if (component.length > 1 || (g.get(v) ?? []).includes(v)) cycles.push(component.sort().join(' <-> '));
    }
  };
  for (const f of g.keys()) if (!index.has(f)) visit(f);
  return cycles;
}

test('no file imports from a layer above its own', (t) => {
  t.deepEqual(upwardEdges(graph), []);
});

test('no import cycle in src/, type imports included', (t) => {
  t.deepEqual(cyclesOf(graph), []);
});

test('the checks find a planted cycle and a planted upward import', (t) => {
  const a = join(src, 'core', 'a.ts');
  const b = join(src, 'core', 'b.ts');
  const h = join(src, 'harness', 'h.ts');
  const planted = new Map([
    [a, [b]],
    [b, [a, h]],
    [h, [a]],
  ]);
  t.deepEqual(upwardEdges(planted), ['core/b.ts -> harness/h.ts']);
  t.deepEqual(cyclesOf(planted), ['core/a.ts <-> core/b.ts <-> harness/h.ts']);
  // And the real graph was read: cluster.ts imports from runtime/.
  const edges = [...graph.values()].reduce((n, targets) => n + targets.length, 0);
  t.true(edges > 200, `${edges} import edges read`);
  t.true((graph.get(join(src, 'cluster', 'cluster.ts')) ?? []).some((f) => layerOf(f) === 'runtime'));
});

test('at most 5 double casts (`as unknown as`) in src/, each with a comment saying why', (t) => {
  const casts: string[] = [];
  const bare: string[] = [];
  for (const f of files) {
    const lines = readFileSync(f, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.includes('as unknown as')) return;
      const where = `${relative(src, f)}:${i + 1}`;
      casts.push(where);
      const commented = line.includes('//') || /^\s*(\/\/|\*)/.test(lines[i - 1] ?? '');
      if (!commented) bare.push(where);
    });
  }
  t.true(casts.length <= 5, `${casts.length} double casts: ${casts.join(', ')}`);
  t.deepEqual(bare, [], 'every double cast has a comment on its line or the line above');
});
