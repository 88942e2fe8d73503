/**
 * Cycle search and classification (Adya's phenomena, as Elle names them). Within each
 * strongly connected component of the whole graph, one search per kind of cycle, from the
 * strongest to the weakest:
 *
 *   G0        a cycle of ww edges
 *   G1c       ww and wr edges, at least one wr
 *   G-single  exactly one rw edge, the rest ww and wr
 *   G2        two or more rw edges
 *
 * Each search takes an edge of one kind (the anchor) and the shortest path back over the
 * allowed kinds (breadth first), within the component of the subgraph of those kinds, and
 * keeps the shortest cycle over the anchors it tries (all of them, unless a budget of edges
 * looked at runs out). Under strict serializability the same four searches are repeated with
 * rt edges allowed when the first found nothing; a cycle is named by the edges it has, with
 * `-realtime` when one of them is rt.
 */
import { components, edgeAt, kindBit, Scratch, shortestPath, type DepGraph } from './graph.js';
import { EDGE_KINDS, RT, RW, show, WR, WW, type CycleEdge, type TxnModel } from './types.js';

/** Edges looked at per search and component before a search settles for what it has. */
export const CYCLE_SEARCH_BUDGET = 1_000_000;

interface Spec {
  anchor: number;
  path: number;
}

const B_WW = kindBit(WW);
const B_WR = kindBit(WR);
const B_RW = kindBit(RW);
const B_RT = kindBit(RT);

const SPECS: readonly Spec[] = [
  { anchor: WW, path: B_WW },
  { anchor: WR, path: B_WW | B_WR },
  { anchor: RW, path: B_WW | B_WR },
  { anchor: RW, path: B_WW | B_WR | B_RW },
];

export interface FoundCycle {
  type: string;
  /** Edge positions in the graph, in cycle order. */
  edges: number[];
}

/** The type of a cycle from the kinds of its edges. */
export function cycleType(g: DepGraph, cycle: readonly number[]): string {
  let rw = 0;
  let wr = 0;
  let rt = 0;
  for (const e of cycle) {
    const k = g.kind[e]!;
    if (k === RW) rw++;
    else if (k === WR) wr++;
    else if (k === RT) rt++;
  }
  const base = rw >= 2 ? 'G2' : rw === 1 ? 'G-single' : wr >= 1 ? 'G1c' : 'G0';
  return rt > 0 ? `${base}-realtime` : base;
}

/** Every cycle anomaly of the graph: per component, at most one cycle of each type. */
export function findCycles(g: DepGraph, realtime: boolean): { cycles: FoundCycle[]; components: number } {
  const s = new Scratch(g.n);
  const all = new Int32Array(g.n);
  for (let i = 0; i < g.n; i++) all[i] = i;
  const fullMask = B_WW | B_WR | B_RW | (realtime ? B_RT : 0);
  const top = components(g, all, fullMask, s);
  const cycles: FoundCycle[] = [];
  for (const comp of top) {
    const types = new Set<string>();
    const rounds: Array<readonly Spec[]> = [SPECS];
    if (realtime) rounds.push(SPECS.map((sp) => ({ anchor: sp.anchor, path: sp.path | B_RT })));
    const foundBySpec: boolean[] = [];
    rounds.forEach((specs, round) => {
      specs.forEach((spec, i) => {
        if (round > 0 && foundBySpec[i] === true) return;
        const cycle = searchSpec(g, comp, spec, fullMask, s);
        if (cycle === undefined) return;
        foundBySpec[i] = true;
        const type = cycleType(g, cycle);
        if (types.has(type)) return;
        types.add(type);
        cycles.push({ type, edges: cycle });
      });
    });
  }
  return { cycles, components: top.length };
}

function searchSpec(g: DepGraph, comp: number[], spec: Spec, fullMask: number, s: Scratch): number[] | undefined {
  const anchorBit = kindBit(spec.anchor);
  const mask = spec.path | anchorBit;
  const subs = (mask & fullMask) === fullMask ? [comp] : components(g, comp, mask, s);
  let best: number[] | undefined;
  s.steps = 0;
  for (const sub of subs) {
    // When the anchor's kind is not a path kind (G-single), number the components of the
    // path kinds: an anchor a -> b closes a cycle only if b's number is at least a's.
    let ids: Int32Array | undefined;
    if ((spec.path & anchorBit) === 0) {
      ids = new Int32Array(sub.length);
      components(g, sub, spec.path, s, ids);
    }
    const t = s.mark(sub);
    for (const a of sub) {
      for (let e = g.start[a]!; e < g.start[a + 1]!; e++) {
        if (g.kind[e] !== spec.anchor) continue;
        const b = g.dst[e]!;
        if (s.tag[b] !== t) continue;
        if (ids !== undefined && ids[s.local[b]!]! < ids[s.local[a]!]!) continue;
        const remaining = CYCLE_SEARCH_BUDGET - s.steps;
        if (remaining <= 0) return best;
        const path = shortestPath(g, b, a, t, spec.path, s, remaining, ids);
        if (path !== undefined && (best === undefined || path.length + 1 < best.length)) {
          best = [e, ...path];
          if (best.length === 2) return best;
        }
      }
    }
  }
  return best;
}

/** The cycle as reported: edges between transactions named by their op's index. */
export function cycleEdges(g: DepGraph, cycle: readonly number[], indexOf: (id: number) => number): CycleEdge[] {
  return cycle.map((e) => {
    const out: CycleEdge = { from: indexOf(g.src[e]!), to: indexOf(g.dst[e]!), kind: EDGE_KINDS[g.kind[e]!]! };
    const { list, pos } = edgeAt(g, g.ref[e]!);
    const key = list.key[pos];
    if (key !== undefined) out.key = key;
    return out;
  });
}

/** One sentence per edge, saying why it is there. */
export function explainCycle(g: DepGraph, cycle: readonly number[], type: string, model: TxnModel, indexOf: (id: number) => number): string {
  const wrote = model === 'list-append' ? 'appended' : 'wrote';
  const parts = cycle.map((e) => {
    const from = `T${indexOf(g.src[e]!)}`;
    const to = `T${indexOf(g.dst[e]!)}`;
    const { list, pos } = edgeAt(g, g.ref[e]!);
    const key = show(list.key[pos]);
    const a = list.a[pos];
    const b = list.b[pos];
    switch (g.kind[e]) {
      case WW:
        return `${from} < ${to} (ww): ${from} ${wrote} ${show(a)} to key ${key} and ${to} ${wrote} ${show(b)} after it`;
      case WR:
        return `${from} < ${to} (wr): ${to} read ${model === 'list-append' ? `a list of key ${key} ending in` : `key ${key} =`} ${show(a)}, which ${from} ${wrote}`;
      case RW:
        return model === 'list-append'
          ? `${from} < ${to} (rw): ${from} read key ${key} ${a === null ? 'empty' : `up to ${show(a)}`}, without ${show(b)}, which ${to} appended next`
          : `${from} < ${to} (rw): ${from} read key ${key} = ${show(a)}, and ${to} wrote ${show(b)}, a later version`;
      default:
        return `${from} < ${to} (rt): ${from} completed before ${to} was invoked`;
    }
  });
  return `${type}: transactions named T<index>; ${parts.join('; ')}; a cycle, so no ${type.endsWith('-realtime') ? 'real-time ' : ''}order of these transactions explains what they saw`;
}
