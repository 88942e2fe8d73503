/**
 * The dependency graph in compressed sparse row form, Tarjan's strongly connected components
 * (iterative: histories are deep) and breadth-first shortest paths, both restricted to a set
 * of nodes and a mask of edge kinds. Scratch arrays are allocated once per graph, so searching
 * many small components costs their size, not the graph's.
 */
import { EDGE_KINDS, type EdgeList, type TxnKey } from './types.js';

export interface DepGraph {
  n: number;
  /** Edges of node v: positions start[v] .. start[v + 1] - 1. */
  start: Int32Array;
  src: Int32Array;
  dst: Int32Array;
  kind: Uint8Array;
  /** Global position of the edge in the lists (see edgeAt), for its key and values. */
  ref: Int32Array;
  lists: readonly EdgeList[];
  /** First global position of each list. */
  offsets: number[];
}

export function kindBit(kind: number): number {
  return 1 << kind;
}

/** Orders keys: numbers before strings, numbers by value, strings by code units. */
export function compareKeys(a: TxnKey | undefined, b: TxnKey | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : 1;
}

/** The list and position of a global edge reference (lists are few: a binary search is overkill). */
export function edgeAt(g: DepGraph, ref: number): { list: EdgeList; pos: number } {
  let i = 0;
  while (i + 1 < g.offsets.length && g.offsets[i + 1]! <= ref) i++;
  return { list: g.lists[i] as EdgeList, pos: ref - g.offsets[i]! };
}

export function edgeKey(g: DepGraph, ref: number): TxnKey | undefined {
  const { list, pos } = edgeAt(g, ref);
  return list.key[pos];
}

/** Stable counting sort of `perm` by `of(perm[i])`, values in 0..buckets-1. */
function countingSort(perm: Int32Array, buckets: number, of: (e: number) => number): Int32Array {
  const count = new Int32Array(buckets + 1);
  for (let i = 0; i < perm.length; i++) count[of(perm[i]!) + 1]!++;
  for (let b = 0; b < buckets; b++) count[b + 1]! += count[b]!;
  const out = new Int32Array(perm.length);
  for (let i = 0; i < perm.length; i++) {
    const e = perm[i]!;
    out[count[of(e)]!++] = e;
  }
  return out;
}

/**
 * Builds the graph over nodes 0..n-1 from edge lists, leaving out edges that touch an
 * excluded node (a failed transaction). Edges are sorted by (from, to, kind) and merged, the
 * smallest key kept, so the graph does not depend on the order the lists came in.
 */
export function buildGraph(n: number, lists: readonly EdgeList[], excluded: (id: number) => boolean): DepGraph {
  const offsets: number[] = [];
  let total = 0;
  for (const l of lists) {
    offsets.push(total);
    total += l.from.length;
  }
  const from = new Int32Array(total);
  const to = new Int32Array(total);
  const kinds = new Uint8Array(total);
  let kept = 0;
  const keptRef = new Int32Array(total);
  lists.forEach((l, li) => {
    const base = offsets[li]!;
    for (let i = 0; i < l.from.length; i++) {
      const f = l.from[i]!;
      const t = l.to[i]!;
      if (excluded(f) || excluded(t)) continue;
      from[base + i] = f;
      to[base + i] = t;
      kinds[base + i] = l.kind[i]!;
      keptRef[kept++] = base + i;
    }
  });
  let perm: Int32Array = keptRef.subarray(0, kept);
  perm = countingSort(perm, EDGE_KINDS.length, (e) => kinds[e]!);
  perm = countingSort(perm, n, (e) => to[e]!);
  perm = countingSort(perm, n, (e) => from[e]!);
  const g: DepGraph = {
    n,
    start: new Int32Array(n + 1),
    src: new Int32Array(0),
    dst: new Int32Array(0),
    kind: new Uint8Array(0),
    ref: new Int32Array(0),
    lists,
    offsets,
  };
  const ref = new Int32Array(perm.length);
  let m = 0;
  for (let i = 0; i < perm.length; i++) {
    const e = perm[i]!;
    if (m > 0) {
      const p = ref[m - 1]!;
      if (from[p] === from[e] && to[p] === to[e] && kinds[p] === kinds[e]) {
        if (compareKeys(edgeKey(g, e), edgeKey(g, p)) < 0) ref[m - 1] = e;
        continue;
      }
    }
    ref[m++] = e;
  }
  const start = g.start;
  const src = new Int32Array(m);
  const dst = new Int32Array(m);
  const kind = new Uint8Array(m);
  for (let i = 0; i < m; i++) {
    const e = ref[i]!;
    src[i] = from[e]!;
    dst[i] = to[e]!;
    kind[i] = kinds[e]!;
    start[src[i]! + 1]!++;
  }
  for (let v = 0; v < n; v++) start[v + 1]! += start[v]!;
  g.src = src;
  g.dst = dst;
  g.kind = kind;
  g.ref = ref.slice(0, m);
  return g;
}

/** Reusable per-graph scratch space. */
export class Scratch {
  readonly tag: Int32Array;
  readonly local: Int32Array;
  readonly seen: Int32Array;
  readonly prev: Int32Array;
  readonly queue: Int32Array;
  private tags = 0;
  private seens = 0;
  /** Edges looked at by shortest-path searches, for budgets. */
  steps = 0;

  constructor(n: number) {
    this.tag = new Int32Array(n);
    this.local = new Int32Array(n);
    this.seen = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.queue = new Int32Array(n);
  }

  /** Marks `nodes` as the current set; returns its tag. */
  mark(nodes: ArrayLike<number>): number {
    const t = ++this.tags;
    for (let i = 0; i < nodes.length; i++) {
      const v = nodes[i]!;
      this.tag[v] = t;
      this.local[v] = i;
    }
    return t;
  }

  nextSeen(): number {
    return ++this.seens;
  }
}

/**
 * Tarjan's algorithm over the nodes in `nodes`. When `ids` is given (one slot per node of
 * `nodes`), it receives each node's component number, in the order Tarjan completes them,
 * which is a reverse topological order: an edge between components goes from a higher
 * number to a lower one., following edges whose kind is in `mask`.
 * Returns the components of two or more nodes, in the order Tarjan completes them.
 */
export function components(g: DepGraph, nodes: ArrayLike<number>, mask: number, s: Scratch, ids?: Int32Array): number[][] {
  const k = nodes.length;
  const t = s.mark(nodes);
  const idx = new Int32Array(k).fill(-1);
  const low = new Int32Array(k);
  const onStack = new Uint8Array(k);
  const stack = new Int32Array(k);
  const callNode = new Int32Array(k);
  const callEdge = new Int32Array(k);
  let sp = 0;
  let counter = 0;
  let compCount = 0;
  const out: number[][] = [];
  const { start, dst, kind } = g;
  for (let root = 0; root < k; root++) {
    if (idx[root] !== -1) continue;
    let depth = 0;
    callNode[0] = root;
    callEdge[0] = start[nodes[root]!]!;
    idx[root] = low[root] = counter++;
    stack[sp++] = root;
    onStack[root] = 1;
    while (depth >= 0) {
      const u = callNode[depth]!;
      const gu = nodes[u]!;
      const end = start[gu + 1]!;
      let e = callEdge[depth]!;
      let descended = false;
      for (; e < end; e++) {
        if (((mask >> kind[e]!) & 1) === 0) continue;
        const gv = dst[e]!;
        if (s.tag[gv] !== t) continue;
        const v = s.local[gv]!;
        if (idx[v] === -1) {
          callEdge[depth] = e + 1;
          idx[v] = low[v] = counter++;
          stack[sp++] = v;
          onStack[v] = 1;
          depth++;
          callNode[depth] = v;
          callEdge[depth] = start[gv]!;
          descended = true;
          break;
        } else if (onStack[v] === 1 && idx[v]! < low[u]!) {
          low[u] = idx[v]!;
        }
      }
      if (descended) continue;
      if (low[u] === idx[u]) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack[--sp]!;
          onStack[w] = 0;
          comp.push(nodes[w]!);
          if (ids !== undefined) ids[w] = compCount;
        } while (w !== u);
        compCount++;
        if (comp.length > 1) out.push(comp.reverse());
      }
      depth--;
      if (depth >= 0) {
        const p = callNode[depth]!;
        if (low[u]! < low[p]!) low[p] = low[u]!;
      }
    }
  }
  return out;
}

/**
 * A shortest path from `from` to `to` over nodes with tag `t` and edges whose kind is in
 * `mask`, as edge positions; undefined when there is none or after `budget` edges looked at.
 */
export function shortestPath(
  g: DepGraph,
  from: number,
  to: number,
  t: number,
  mask: number,
  s: Scratch,
  budget: number,
  ids?: Int32Array,
): number[] | undefined {
  // With component numbers (see components), a node on a path from `from` to `to` has a
  // number between theirs: the search skips the others.
  const lo = ids === undefined ? 0 : ids[s.local[to]!]!;
  const hi = ids === undefined ? 0 : ids[s.local[from]!]!;
  const seen = s.nextSeen();
  const { start, dst, kind } = g;
  let head = 0;
  let tail = 0;
  s.queue[tail++] = from;
  s.seen[from] = seen;
  s.prev[from] = -1;
  let steps = 0;
  while (head < tail) {
    const u = s.queue[head++]!;
    const end = start[u + 1]!;
    for (let e = start[u]!; e < end; e++) {
      steps++;
      if (((mask >> kind[e]!) & 1) === 0) continue;
      const v = dst[e]!;
      if (s.tag[v] !== t || s.seen[v] === seen) continue;
      if (ids !== undefined) {
        const c = ids[s.local[v]!]!;
        if (c < lo || c > hi) continue;
      }
      s.seen[v] = seen;
      s.prev[v] = e;
      if (v === to) {
        s.steps += steps;
        const path: number[] = [];
        for (let x = to; x !== from;) {
          const pe = s.prev[x]!;
          path.push(pe);
          x = g.src[pe]!;
        }
        return path.reverse();
      }
      s.queue[tail++] = v;
    }
    if (steps > budget) break;
  }
  s.steps += steps;
  return undefined;
}
