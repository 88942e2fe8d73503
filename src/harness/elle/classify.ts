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
 * looked at runs out: a type that then has no cycle is `unfinished`, which the checker reports
 * as undecided, not as absent). Where the level keeps an order between transactions (real time for
 * strict serializability and strong snapshot isolation, each process's order for the
 * strong-session levels), the same four searches are repeated with its edges (rt or process)
 * allowed when the first found nothing; a cycle is named by the edges it has, with `-realtime`
 * when one of them is rt, else `-process` when one is a process edge (as Elle names them: the
 * graph holds one kind of order or the other, never both).
 */
import { components, edgeAt, kindBit, Scratch, shortestPath, type DepGraph } from './graph.js';
import { EDGE_KINDS, PROCESS, RT, RW, show, WR, WW, type CycleEdge, type LevelOrder, type TxnModel } from './types.js';

/** Edges looked at per search and component before a search settles for what it has (TxnCheckOptions.searchBudget's default). */
export const CYCLE_SEARCH_BUDGET = 1_000_000;

interface Spec {
  /** The anomaly it looks for (with the order's suffix when its path may use rt or process edges). */
  type: string;
  anchor: number;
  path: number;
}

const B_WW = kindBit(WW);
const B_WR = kindBit(WR);
const B_RW = kindBit(RW);
const B_RT = kindBit(RT);
const B_PROCESS = kindBit(PROCESS);

const SPECS: readonly Spec[] = [
  { type: 'G0', anchor: WW, path: B_WW },
  { type: 'G1c', anchor: WR, path: B_WW | B_WR },
  { type: 'G-single', anchor: RW, path: B_WW | B_WR },
  { type: 'G2', anchor: RW, path: B_WW | B_WR | B_RW },
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
  let process = 0;
  for (const e of cycle) {
    const k = g.kind[e]!;
    if (k === RW) rw++;
    else if (k === WR) wr++;
    else if (k === RT) rt++;
    else if (k === PROCESS) process++;
  }
  const base = rw >= 2 ? 'G2' : rw === 1 ? 'G-single' : wr >= 1 ? 'G1c' : 'G0';
  return base + orderSuffix(rt, process);
}

function orderSuffix(rt: number, process: number): string {
  return rt > 0 ? '-realtime' : process > 0 ? '-process' : '';
}

/**
 * Every cycle anomaly of the graph: per component, at most one cycle of each type. With
 * `nonadjacent` (snapshot isolation and its strong variants), also G-nonadjacent: see
 * findNonadjacent. `order` 'realtime' lets cycles use rt edges, 'process' process edges (a
 * graph holds one kind or the other), 'none' neither.
 */
export function findCycles(
  g: DepGraph,
  order: LevelOrder,
  nonadjacent = false,
  budget = CYCLE_SEARCH_BUDGET,
): { cycles: FoundCycle[]; components: number; unfinished: string[] } {
  const s = new Scratch(g.n);
  const all = new Int32Array(g.n);
  for (let i = 0; i < g.n; i++) all[i] = i;
  const orderMask = order === 'realtime' ? B_RT : order === 'process' ? B_PROCESS : 0;
  const fullMask = B_WW | B_WR | B_RW | orderMask;
  const top = components(g, all, fullMask, s);
  const cycles: FoundCycle[] = [];
  // Types whose search ran out of its budget in some component before it tried every
  // anchor, and found none: the history is not shown free of them (a checker's unknown).
  const unfinished = new Set<string>();
  const suffix = order === 'realtime' ? '-realtime' : order === 'process' ? '-process' : '';
  const rounds: Array<readonly Spec[]> = [SPECS];
  if (orderMask !== 0) rounds.push(SPECS.map((sp) => ({ type: `${sp.type}${suffix}`, anchor: sp.anchor, path: sp.path | orderMask })));
  for (const comp of top) {
    const types = new Set<string>();
    const foundBySpec: boolean[] = [];
    rounds.forEach((specs, round) => {
      specs.forEach((spec, i) => {
        if (round > 0 && foundBySpec[i] === true) return;
        const { cycle, complete } = searchSpec(g, comp, spec, fullMask, s, budget);
        if (cycle === undefined) {
          if (!complete) unfinished.add(spec.type);
          return;
        }
        foundBySpec[i] = true;
        const type = cycleType(g, cycle);
        if (types.has(type)) return;
        types.add(type);
        cycles.push({ type, edges: cycle });
      });
    });
    if (nonadjacent) {
      let found = findNonadjacent(g, comp, s, 0, budget);
      if (found.cycle === undefined && !found.complete) unfinished.add('G-nonadjacent');
      if (found.cycle === undefined && orderMask !== 0) {
        found = findNonadjacent(g, comp, s, orderMask, budget);
        if (found.cycle === undefined && !found.complete) unfinished.add(`G-nonadjacent${suffix}`);
      }
      const cycle = found.cycle;
      if (cycle !== undefined) cycles.push({ type: `G-nonadjacent${orderSuffix(countKind(g, cycle, RT), countKind(g, cycle, PROCESS))}`, edges: cycle });
    }
  }
  return { cycles, components: top.length, unfinished: [...unfinished] };
}

function countKind(g: DepGraph, cycle: readonly number[], kind: number): number {
  let n = 0;
  for (const e of cycle) if (g.kind[e] === kind) n++;
  return n;
}

/**
 * G-nonadjacent (Elle's name; Adya's G-SI, less its G-single part): a cycle of ww, wr and rw
 * edges with two or more rw edges, no two of them next to each other going round. Snapshot
 * isolation proscribes it, though it allows G2 in general (write skew: two rw edges in a row).
 * For each rw anchor a -> b of the component, a breadth-first search from b back to a over
 * states (transaction, whether the edge into it was rw, whether the path has an rw edge yet):
 * the path's first and last edges are not rw (they touch the anchor), an rw edge follows only a
 * non-rw one, and the path holds at least one rw edge (else the cycle is a G-single). The
 * shortest over the anchors, within `budget` edges looked at. Where the shortest
 * such walk passes a transaction twice (not a cycle), a depth-first search over simple paths
 * takes over for that anchor (simpleNonadjacentPath); what it finds need not be the shortest.
 * Edges of the kinds in `orderMask` (rt or process) may stand where ww and wr edges may: that
 * finds G-nonadjacent-realtime and G-nonadjacent-process.
 */
function findNonadjacent(
  g: DepGraph,
  comp: readonly number[],
  s: Scratch,
  orderMask: number,
  budget: number,
): { cycle: number[] | undefined; complete: boolean } {
  const allowed = B_WW | B_WR | B_RW | orderMask;
  const t = s.mark(comp);
  const k = comp.length;
  // State of node v (local index i): 4 * i + 2 * lastRw + sawRw.
  const seen = new Int32Array(4 * k);
  const prevEdge = new Int32Array(4 * k);
  const prevState = new Int32Array(4 * k);
  const queue = new Int32Array(4 * k);
  const { start, dst, kind } = g;
  let stamp = 0;
  let steps = 0;
  let best: number[] | undefined;
  for (const a of comp) {
    for (let anchor = start[a]!; anchor < start[a + 1]!; anchor++) {
      if (kind[anchor] !== RW) continue;
      const b = dst[anchor]!;
      if (s.tag[b] !== t) continue;
      if (steps > budget) return { cycle: best, complete: false };
      stamp++;
      const first = 4 * s.local[b]! + 2;
      let head = 0;
      let tail = 0;
      queue[tail++] = first;
      seen[first] = stamp;
      prevEdge[first] = -1;
      let found = -1;
      search: while (head < tail) {
        const st = queue[head++]!;
        const u = comp[st >> 2]!;
        const lastRw = (st >> 1) & 1;
        const sawRw = st & 1;
        for (let e = start[u]!; e < start[u + 1]!; e++) {
          steps++;
          const kd = kind[e]!;
          if (((allowed >> kd) & 1) === 0) continue;
          const v = dst[e]!;
          if (s.tag[v] !== t) continue;
          const rw = kd === RW ? 1 : 0;
          if (rw === 1 && lastRw === 1) continue;
          // Back at the anchor's tail ends the path (when it may); at its head, it would loop.
          if (v === a && (rw === 1 || sawRw === 0)) continue;
          if (v === b) continue;
          const next = 4 * s.local[v]! + 2 * rw + (sawRw | rw);
          if (seen[next] === stamp) continue;
          seen[next] = stamp;
          prevEdge[next] = e;
          prevState[next] = st;
          if (v === a) {
            found = next;
            break search;
          }
          queue[tail++] = next;
        }
      }
      if (found < 0) continue;
      const path: number[] = [];
      for (let st = found; prevEdge[st] !== -1; st = prevState[st]!) path.push(prevEdge[st]!);
      path.reverse();
      // A state is a node and two bits, so the shortest walk may pass a node twice: then it is
      // not a cycle (it may be two G-single ones), and a depth-first search over simple paths
      // looks for one (exponential at worst: within what is left of the budget).
      if (new Set(path.map((e) => g.src[e]!)).size !== path.length) {
        const simple = simpleNonadjacentPath(g, b, a, t, s, budget - steps, allowed);
        steps += simple.steps;
        if (simple.path === undefined) {
          // Out of budget, this anchor was not searched through: the search is incomplete.
          if (steps > budget) return { cycle: best, complete: false };
          continue;
        }
        path.length = 0;
        path.push(...simple.path);
      }
      if (best === undefined || path.length + 1 < best.length) {
        best = [anchor, ...path];
        if (best.length === 4) return { cycle: best, complete: true };
      }
    }
  }
  // A breadth-first search cut by the budget ends like one that found nothing.
  return { cycle: best, complete: steps <= budget };
}

/** The shortest cycle of the spec's kind in the component, and whether every anchor was tried to the end (false: out of budget). */
function searchSpec(g: DepGraph, comp: number[], spec: Spec, fullMask: number, s: Scratch, budget: number): { cycle: number[] | undefined; complete: boolean } {
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
        const remaining = budget - s.steps;
        if (remaining <= 0) return { cycle: best, complete: false };
        const path = shortestPath(g, b, a, t, spec.path, s, remaining, ids);
        if (path !== undefined && (best === undefined || path.length + 1 < best.length)) {
          best = [e, ...path];
          if (best.length === 2) return { cycle: best, complete: true };
        }
      }
    }
  }
  // shortestPath cut by the budget returns as if it found nothing: then s.steps passed it.
  return { cycle: best, complete: s.steps < budget };
}

/**
 * A simple path from b to a for findNonadjacent's anchor a -> b (the same rules on its edges),
 * by depth-first search; `steps` the edges it looked at, at most about `budget`.
 */
function simpleNonadjacentPath(
  g: DepGraph,
  b: number,
  a: number,
  t: number,
  s: Scratch,
  budget: number,
  allowed: number,
): { path: number[] | undefined; steps: number } {
  const { start, dst, kind } = g;
  const onPath = new Set<number>([b]);
  const path: number[] = [];
  let steps = 0;
  const walk = (u: number, lastRw: boolean, sawRw: boolean): boolean => {
    for (let e = start[u]!; e < start[u + 1]!; e++) {
      if (++steps > budget) return false;
      const kd = kind[e]!;
      if (((allowed >> kd) & 1) === 0) continue;
      const v = dst[e]!;
      const rw = kd === RW;
      if (s.tag[v] !== t || onPath.has(v) || (rw && lastRw)) continue;
      if (v === a) {
        if (rw || !sawRw) continue;
        path.push(e);
        return true;
      }
      onPath.add(v);
      path.push(e);
      if (walk(v, rw, sawRw || rw)) return true;
      path.pop();
      onPath.delete(v);
    }
    return false;
  };
  return { path: walk(b, true, false) ? path : undefined, steps };
}

/** The cycle as reported: edges between transactions named by their op's index. */
export function cycleEdges(g: DepGraph, cycle: readonly number[], indexOf: (id: number) => number): CycleEdge[] {
  return cycle.map((e) => {
    const out: CycleEdge = { from: indexOf(g.src[e]!), to: indexOf(g.dst[e]!), kind: EDGE_KINDS[g.kind[e]!]! };
    const { list, pos } = edgeAt(g, g.ref[e]!);
    const key = list.key[pos];
    if (key !== undefined) out.key = key;
    if (g.kind[e] === PROCESS) out.process = list.a[pos] as number | string;
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
          ? `${from} < ${to} (rw): ${from} read key ${key} ${a === null ? 'empty' : `up to ${show(a)}`}, without ${show(b)}, which ${to} appended later`
          : `${from} < ${to} (rw): ${from} read key ${key} = ${show(a)}, and ${to} wrote ${show(b)}, a later version`;
      case PROCESS:
        return `${from} < ${to} (process): process ${show(a)} ran ${from}, then ${to}`;
      default:
        return `${from} < ${to} (rt): ${from} completed before ${to} was invoked`;
    }
  });
  const order = type.endsWith('-realtime')
    ? 'real-time order of these transactions'
    : type.endsWith('-process')
      ? "order of these transactions that keeps each process's own"
      : 'order of these transactions';
  return `transactions named T<index>; ${parts.join('; ')}; a cycle, so no ${order} explains what they saw`;
}
