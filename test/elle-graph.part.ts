import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { cycleType, findCycles } from '../src/harness/elle/classify.js';
import { buildGraph, components, Scratch, type DepGraph } from '../src/harness/elle/graph.js';
import { emptyEdges, pushEdge, RT, RW, WR, WW } from '../src/harness/elle/types.js';
import { seedRange } from './helpers/seeds.js';

/** Random graphs over few nodes, rt edges kept acyclic (they follow node order, like time). */
function randomGraph(prng: Prng): DepGraph {
  const n = 2 + prng.int(12);
  const e = emptyEdges();
  const m = prng.int(n * 3);
  for (let i = 0; i < m; i++) {
    const a = prng.int(n);
    const b = prng.int(n);
    if (a === b) continue;
    const kind = [WW, WR, RW, RT][prng.int(4)]!;
    if (kind === RT) pushEdge(e, Math.min(a, b), Math.max(a, b), RT, undefined, undefined, undefined);
    else pushEdge(e, a, b, kind, `k${prng.int(3)}`, 1, 2);
  }
  return buildGraph(n, [e], () => false);
}

/** Floyd–Warshall over the edges whose kind is in mask: dist[i][j] in edges, Infinity if none. */
function distances(g: DepGraph, mask: number): number[][] {
  const d = Array.from({ length: g.n }, (_, i) => Array.from({ length: g.n }, (_, j) => (i === j ? 0 : Infinity)));
  for (let e = 0; e < g.src.length; e++) if ((mask >> g.kind[e]!) & 1) d[g.src[e]!]![g.dst[e]!] = 1;
  for (let k = 0; k < g.n; k++) for (let i = 0; i < g.n; i++) for (let j = 0; j < g.n; j++) d[i]![j] = Math.min(d[i]![j]!, d[i]![k]! + d[k]![j]!);
  return d;
}

/** The shortest cycle through an edge of kind `anchor` whose other edges are in `path`. */
function shortest(g: DepGraph, anchor: number, path: number): number {
  const d = distances(g, path);
  let best = Infinity;
  for (let e = 0; e < g.src.length; e++) if (g.kind[e] === anchor) best = Math.min(best, 1 + d[g.dst[e]!]![g.src[e]!]!);
  return best;
}

const B = (k: number): number => 1 << k;

test('Tarjan components and the cycle searches agree with brute force on random graphs', (t) => {
  const seeds = seedRange(300, 7000);
  t.log(`seeds ${seeds[0]}..${seeds[seeds.length - 1]}`);
  for (const seed of seeds) {
    const g = randomGraph(new Prng(seed));
    const all = Int32Array.from({ length: g.n }, (_, i) => i);
    const mask = B(WW) | B(WR) | B(RW) | B(RT);
    const d = distances(g, mask);
    // Components: i and j together exactly when each reaches the other.
    const comps = components(g, all, mask, new Scratch(g.n));
    const compOf = new Map<number, number>();
    comps.forEach((c, ci) => c.forEach((v) => compOf.set(v, ci)));
    for (let i = 0; i < g.n; i++) {
      for (let j = 0; j < g.n; j++) {
        if (i === j) continue;
        const together = compOf.has(i) && compOf.get(i) === compOf.get(j);
        t.is(together, d[i]![j]! < Infinity && d[j]![i]! < Infinity, `seed ${seed}: nodes ${i}, ${j}`);
      }
    }
    // Serializable searches: a G0 cycle exists exactly when one is reported, and is the shortest.
    const { cycles } = findCycles(g, 'none');
    // Shortest cycle of each type over all components.
    const found = new Map<string, number>();
    for (const c of cycles) found.set(c.type, Math.min(found.get(c.type) ?? Infinity, c.edges.length));
    const g0 = shortest(g, WW, B(WW));
    t.is(found.get('G0') ?? Infinity, g0, `seed ${seed}: G0`);
    const anyCycle =
      shortest(g, WW, B(WW) | B(WR) | B(RW)) < Infinity ||
      shortest(g, WR, B(WW) | B(WR) | B(RW)) < Infinity ||
      shortest(g, RW, B(WW) | B(WR) | B(RW)) < Infinity;
    t.is(cycles.length > 0, anyCycle, `seed ${seed}: any cycle`);
    // The shortest cycle through one rw edge (G-single) or a wr edge (G1c) over ww/wr edges.
    const single = shortest(g, RW, B(WW) | B(WR));
    t.is(found.get('G-single') ?? Infinity, single, `seed ${seed}: G-single`);
    t.is(found.get('G1c') ?? Infinity, shortest(g, WR, B(WW) | B(WR)), `seed ${seed}: G1c`);
    for (const c of cycles) {
      t.is(cycleType(g, c.edges), c.type);
      for (let i = 0; i < c.edges.length; i++) t.is(g.dst[c.edges[i]!], g.src[c.edges[(i + 1) % c.edges.length]!]);
      t.false(c.type.endsWith('-realtime'));
    }
    // Strict: some cycle is reported exactly when the graph with rt edges has one.
    const strict = findCycles(g, 'realtime').cycles;
    t.is(strict.length > 0, comps.length > 0, `seed ${seed}: strict`);
  }
});

/**
 * Every simple cycle over ww, wr and rw edges (each once, from its smallest node), by depth-first
 * search: for the brute force below, on graphs of a few nodes.
 */
function simpleCycles(g: DepGraph): number[][] {
  const out: number[][] = [];
  const onPath = new Uint8Array(g.n);
  const path: number[] = [];
  const walk = (root: number, v: number): void => {
    for (let e = g.start[v]!; e < g.start[v + 1]!; e++) {
      if (g.kind[e] === RT) continue;
      const w = g.dst[e]!;
      if (w === root) out.push([...path, e]);
      else if (w > root && onPath[w] === 0) {
        onPath[w] = 1;
        path.push(e);
        walk(root, w);
        path.pop();
        onPath[w] = 0;
      }
    }
  };
  for (let root = 0; root < g.n; root++) {
    onPath[root] = 1;
    walk(root, root);
    onPath[root] = 0;
  }
  return out;
}

/** Two or more rw edges, no two next to each other going round. */
function nonadjacent(g: DepGraph, cycle: readonly number[]): boolean {
  const rw = cycle.map((e) => g.kind[e] === RW);
  return rw.filter(Boolean).length >= 2 && rw.every((x, i) => !x || !rw[(i + 1) % rw.length]);
}

test('G-nonadjacent (snapshot isolation): every one reported is a simple cycle of its kind, and one is reported wherever brute force finds one', (t) => {
  const seeds = seedRange(600, 7400);
  t.log(`seeds ${seeds[0]}..${seeds[seeds.length - 1]}`);
  let present = 0;
  for (const seed of seeds) {
    const prng = new Prng(seed);
    const n = 3 + prng.int(6);
    const e = emptyEdges();
    for (let i = 0, m = n + prng.int(3 * n); i < m; i++) {
      const a = prng.int(n);
      const b = prng.int(n);
      if (a !== b) pushEdge(e, a, b, [WW, WR, RW, RW][prng.int(4)]!, `k${prng.int(3)}`, 1, 2);
    }
    const g = buildGraph(n, [e], () => false);
    const exists = simpleCycles(g).some((c) => nonadjacent(g, c));
    if (exists) present++;
    const reported = findCycles(g, 'none', true).cycles.filter((c) => c.type === 'G-nonadjacent');
    t.is(reported.length > 0, exists, `seed ${seed}: G-nonadjacent ${exists ? 'present' : 'absent'}`);
    for (const c of reported) {
      t.true(nonadjacent(g, c.edges), `seed ${seed}: rw edges not adjacent`);
      t.is(new Set(c.edges.map((x) => g.src[x])).size, c.edges.length, `seed ${seed}: a simple cycle`);
      for (let i = 0; i < c.edges.length; i++) t.is(g.dst[c.edges[i]!], g.src[c.edges[(i + 1) % c.edges.length]!]);
    }
    // Without snapshot isolation's search, none.
    t.false(findCycles(g, 'none').cycles.some((c) => c.type === 'G-nonadjacent'));
  }
  t.log(`${present} of ${seeds.length} graphs hold one`);
  t.true(present >= seeds.length / 10, 'the graphs exercise the search');
});
