/**
 * An HTML timeline of a checked history (as Porcupine's visualisation and Jepsen's
 * timeline.html): `meridian verify FILE --timeline OUT.html`. Pure: the runs, their checkers'
 * findings and their fault log lines in, one self-contained HTML document out (inline SVG and
 * CSS, no script: the hover titles are SVG `<title>` elements).
 *
 * Per run one section; single-key operations one block per key (the failing keys first, then
 * those the checker could not decide, then those it does not check, then at most KEYS_SHOWN others), transactions one block. Each client/process a lane, each operation a bar
 * from invocation to completion coloured by outcome (ok, fail, unknown: open to the end of the
 * run, hatched up to its client's next call and dashed after), labelled `put(3)`, `get() = 1`,
 * `a x 1 r y [1,2]`. The checker's witness
 * (single-key) or the transactions of each reported anomaly (its cycle's) carry the class
 * `witness` (the operation no order explains also `failed-op`), with the explanation above the
 * lanes. Fault log lines with a time (`     695 ms  start checkpoint-crash ...`) are drawn:
 * start/end pairs (and the builtin schedules' crash/restart, pause/resume and partition/heal) as
 * shaded spans (their bars sharing rows where they do not overlap), others as vertical lines;
 * lines without a time are listed.
 * Every text from the history is escaped.
 *
 * Transactions (Elle's events) are placed by their `time` (cluster.history() records one since
 * session 49) with their faults drawn as the single-key operations' are; a history without
 * times (older files, EDN without `:time`) is drawn by the events' order, its faults listed.
 */
import type { History, HistoryOp } from '../core/history.js';
import type { Anomaly, ElleOp, MicroOp } from './elle/types.js';
import type { Violation } from './linearizability.js';
import { bytesHex } from '../cluster/history.js';

/** Bars drawn per run at most (the witnesses and the anomalies' transactions first); the rest are left out, and the section says so. */
export const TIMELINE_BARS_MAX = 3_000;
/** Keys neither failing nor undecided drawn per run at most (those are all drawn). */
export const KEYS_SHOWN = 12;
/** Anomalies explained and highlighted per transactional run (and printed by meridian verify; its verdict line names every type). */
export const ANOMALIES_SHOWN = 5;

export type TimelineRun = {
  label: string;
  /** The verdict line, e.g. `FAILED: not linearizable (2 keys)`. */
  verdict: string;
  /** What the verdict line is coloured by: green a pass, red a failure, amber unknown (not a pass). */
  outcome: 'pass' | 'fail' | 'unknown';
  /** The run's fault log lines (ScenarioResult.faults), when the document has them. */
  faults?: readonly string[];
} & (
  | {
      kind: 'kv';
      history: History;
      violations: readonly Violation[];
      /** Keys the checker could not decide (CheckResult.timedOut): listed, and drawn after the failing keys. */
      undecided?: readonly string[];
      /** The undecided keys whose search filled the checker's memory bound (CheckResult.memoryBound), which --check-budget does not raise; the others ran out of steps, or were cut short once another key failed. */
      memoryBound?: readonly string[];
      /** Keys the model does not check (CheckResult.unchecked: a list append wrote them): listed, and drawn after the undecided keys. */
      unchecked?: readonly string[];
    }
  | { kind: 'txn'; history: readonly ElleOp[]; anomalies: readonly Anomaly[] }
);

export interface TimelineInput {
  /** What was checked (a file name). */
  title: string;
  runs: readonly TimelineRun[];
}

/** Escapes text for HTML content and attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * A recorded value as a witness or the timeline shows it: JSON where JSON holds it, else what
 * it is (NaN, Infinity, -0, 5n, bytes(0102), Map{...}, undefined). JSON.stringify showed a byte
 * array as {"0":1,"1":2} and Infinity as null, the very values a witness tells apart (an audit,
 * session 61), and threw on a bigint.
 */
function json(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v !== 'object' || v === null) return v === undefined ? 'undefined' : (JSON.stringify(v) ?? String(v));
  if (ArrayBuffer.isView(v)) return `bytes(${bytesHex(v)})`;
  if (Array.isArray(v)) return `[${v.map(json).join(',')}]`;
  if (v instanceof Map) return `Map{${[...v].map(([k, x]) => `${json(k)}=>${json(x)}`).join(',')}}`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${JSON.stringify(k)}:${json(x)}`)
    .join(',')}}`;
}

/** A bar, in the run's time (ms, or event positions for transactions). */
interface Bar {
  lane: string;
  start: number;
  /** undefined: unknown outcome, open to the end of the run. */
  end: number | undefined;
  outcome: 'ok' | 'fail' | 'unknown';
  label: string;
  title: string;
  witness: boolean;
  failed: boolean;
  id: number;
}

interface FaultMarks {
  spans: Array<{ start: number; end: number; name: string; title: string }>;
  instants: Array<{ at: number; title: string }>;
  untimed: string[];
}

/**
 * Timed fault lines: `start X` ... `end X` pairs (by the text after start/end, else by order;
 * a `heal` line ends every one still open) and instants. The builtin schedules' lines (`677
 * crash r2/1`, `916 restart r2/1`, `244 partition r1 | rest`, `pause`/`resume`, `heal`, `heal
 * all`) pair too: a crash with its server's restart, a pause with its resume, a partition with
 * the next `heal` (partitions add up and a heal removes them all; it restarts no server), and
 * `heal all`, the schedule's end, ends every one (they were drawn as instants only: found by
 * an audit, session 55).
 */
export function faultMarks(lines: readonly string[], endMs: number): FaultMarks {
  const marks: FaultMarks = { spans: [], instants: [], untimed: [] };
  /** `start`: the Nemesis's episodes; the others the builtin schedules' faults, ended by `of` (a restart of that server, a resume). */
  type Open = { start: number; key: string; title: string; kind: 'start' | 'crash' | 'pause' | 'partition'; of?: string };
  const open: Open[] = [];
  const close = (o: Open, end: number, why: string): void => {
    marks.spans.push({ start: o.start, end, name: o.key.split(' ')[0] ?? '', title: `${o.title}\n${why}` });
  };
  /** Ends the open faults `which` picks (in the order they started); how many. */
  const closeAll = (which: (o: Open) => boolean, at: number, why: string): number => {
    const ended = open.filter(which);
    for (const o of ended) {
      open.splice(open.indexOf(o), 1);
      close(o, at, why);
    }
    return ended.length;
  };
  for (const line of lines) {
    // `     695 ms  start ...` (the Nemesis's log), `805 heal` (the transactional workload's own schedule).
    const m = /^\s*(\d+(?:\.\d+)?)(?: ms)?\s+(.*)$/.exec(line);
    if (m === null) {
      marks.untimed.push(line.trim());
      continue;
    }
    const at = Number(m[1]);
    const text = m[2]!;
    const key = (s: string): string => s.replace(/\s*\[#\d+\]\s*$/, '').trim();
    const builtin = /^(crash|pause|restart|resume) (\S+)/.exec(text);
    if (text.startsWith('start ')) {
      open.push({ start: at, key: key(text.slice(6)), title: line.trim(), kind: 'start' });
    } else if (text.startsWith('end ') && open.some((o) => o.kind === 'start')) {
      const k = key(text.slice(4));
      const starts = open.filter((o) => o.kind === 'start');
      const o = starts.find((x) => x.key === k) ?? starts[0]!;
      close(open.splice(open.indexOf(o), 1)[0]!, at, line.trim());
    } else if (builtin?.[1] === 'crash' || builtin?.[1] === 'pause') {
      open.push({ start: at, key: text, title: line.trim(), kind: builtin[1], of: builtin[2]! });
    } else if (text.startsWith('partition ')) {
      open.push({ start: at, key: text, title: line.trim(), kind: 'partition' });
    } else if (builtin !== null) {
      // A restart or a resume ends its server's crash or pause; one that ends none is an instant.
      const ended = closeAll((o) => o.kind === (builtin[1] === 'restart' ? 'crash' : 'pause') && o.of === builtin[2], at, line.trim());
      if (ended === 0) marks.instants.push({ at, title: line.trim() });
    } else {
      // The Nemesis's heal ends every fault it started (it logs no `end` for them); the builtin
      // schedules' heal removes every partition, and their `heal all` ends every fault.
      if (text === 'heal all') closeAll(() => true, at, line.trim());
      else if (text === 'heal' || text.startsWith('heal ')) closeAll((o) => o.kind === 'start' || o.kind === 'partition', at, line.trim());
      marks.instants.push({ at, title: line.trim() });
    }
  }
  for (const o of open) close(o, Math.max(endMs, o.start), '(no end: to the end of the run)');
  return marks;
}

const fmt = (ms: number): string => (Number.isInteger(ms) ? String(ms) : ms.toFixed(1));

/**
 * `put(3)`, `get() = 1`, `cas(1->2) = true`: an operation and what it answered. A value left out
 * (a read of a missing key, a cas expecting one) is `undefined`, apart from an explicit `null`.
 */
export function kvLabel(op: HistoryOp): string {
  const input =
    op.input === undefined
      ? ''
      : op.kind === 'cas'
        ? `${json((op.input as { expected?: unknown }).expected)}->${json((op.input as { next?: unknown }).next)}`
        : json(op.input);
  const output = op.outcome === 'ok' && (op.kind === 'get' || op.kind === 'read' || op.kind === 'cas') ? ` = ${json(op.output)}` : '';
  return `${op.kind}(${input})${output}`;
}

/**
 * An operation's completion time when it has one the axis can place: a finite number. The
 * checkers' validation refuses others, but this draws any history handed to it (a null from a
 * file threw here, Infinity drew a bar NaN wide: found by an audit, session 55).
 */
function completedMs(op: HistoryOp): number | undefined {
  const ms: unknown = op.completeMs;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
}

/** `[812..830 ms]`: when an operation ran (`?`: no completion time). */
function span(op: HistoryOp): string {
  const done = completedMs(op);
  return `[${fmt(op.invokeMs)}..${done === undefined ? '?' : fmt(done)} ms]`;
}

function kvBar(op: HistoryOp, witness: Set<number>, failed: Set<number>): Bar {
  const completed = completedMs(op);
  const done =
    completed !== undefined ? `completed ${fmt(completed)} ms` : op.outcome === 'unknown' ? 'never completed (unknown outcome)' : 'no completion time';
  return {
    lane: op.client,
    start: op.invokeMs,
    end: op.outcome === 'unknown' ? undefined : completed,
    outcome: op.outcome,
    label: kvLabel(op),
    title: `#${op.id} ${op.client} key ${op.key}: ${kvLabel(op)} ${op.outcome}, invoked ${fmt(op.invokeMs)} ms, ${done}`,
    witness: witness.has(op.id),
    failed: failed.has(op.id),
    id: op.id,
  };
}

function microLabel(m: MicroOp): string {
  const short = m[0] === 'append' ? 'a' : m[0];
  return m[0] === 'r' ? `r ${json(m[1])}=${json(m[2])}` : `${short} ${json(m[1])} ${json(m[2])}`;
}

/** Whether every event of a transactional history has a time (cluster.history() records one): then the axis is time, else the events' order. */
function timed(history: readonly ElleOp[]): boolean {
  return history.length > 0 && history.every((op) => typeof op.time === 'number' && Number.isFinite(op.time));
}

/** Transactions from Elle's events: an invocation paired with its process's next completion; placed by their times when `byTime`, else by position. */
function txnBars(history: readonly ElleOp[], highlighted: Set<number>, byTime: boolean): Bar[] {
  const bars: Bar[] = [];
  const open = new Map<string, { pos: number; op: ElleOp }>();
  const finish = (inv: { pos: number; op: ElleOp }, done: { pos: number; op: ElleOp } | undefined): void => {
    const type = done?.op.type ?? 'info';
    const outcome = type === 'ok' ? 'ok' : type === 'fail' ? 'fail' : 'unknown';
    const value = done?.op.type === 'ok' ? done.op.value : inv.op.value;
    const label = value.map(microLabel).join(' ');
    const ends = done === undefined ? 'never completed' : `completed at event ${done.pos} (index ${done.op.index}, ${done.op.type})`;
    const index = done?.op.index ?? inv.op.index;
    bars.push({
      lane: `process ${String(inv.op.process)}`,
      start: byTime ? inv.op.time! : inv.pos,
      end: outcome === 'unknown' ? undefined : byTime ? done!.op.time! : done!.pos,
      outcome,
      label,
      title: `txn ${index}, process ${String(inv.op.process)}: ${value.map((m) => json(m)).join(' ')} ${type}; invoked at event ${inv.pos} (index ${inv.op.index}), ${ends}`,
      witness: highlighted.has(index) || highlighted.has(inv.op.index),
      failed: false,
      id: index,
    });
  };
  history.forEach((op, pos) => {
    const p = String(op.process);
    if (op.type === 'invoke') {
      const prev = open.get(p);
      if (prev !== undefined) finish(prev, undefined);
      open.set(p, { pos, op });
    } else {
      const inv = open.get(p);
      if (inv === undefined) return;
      open.delete(p);
      finish(inv, { pos, op });
    }
  });
  for (const inv of open.values()) finish(inv, undefined);
  bars.sort((a, b) => a.start - b.start);
  return bars;
}

const CSS = `body{font:13px system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px}h2{font-size:16px;margin-top:28px;border-top:1px solid #ccc;padding-top:8px}h3{font-size:14px;margin:14px 0 4px}
.verdict.fail{color:#b00;font-weight:bold}.verdict.pass{color:#070}.verdict.unknown{color:#a35a00;font-weight:bold}
pre.explain{background:#fff4d6;border-left:4px solid #e0a000;padding:4px 8px;white-space:pre-wrap;margin:4px 0}
.note{color:#666;font-style:italic}
.scroll{overflow-x:auto}
svg text{font:11px ui-monospace,monospace}
.lane-label{fill:#333}
.op rect{stroke:#333;stroke-width:.5}
.op.ok rect{fill:#9fd89f}.op.fail rect{fill:#f2a8a8}.op.unknown rect{fill:url(#tl-hatch);stroke:#888;stroke-dasharray:4 2}.op-open{stroke:#888;stroke-dasharray:4 2}
.op.witness rect{stroke:#d00;stroke-width:2.5}.op.failed-op rect{stroke:#d00;stroke-width:3.5;stroke-dasharray:none}
.fault-span{fill:#f5b041;opacity:.18}.fault-bar{fill:#f5b041}.fault-line{stroke:#c0392b;stroke-width:1.5}
.axis line{stroke:#999}.grid{stroke:#eee}
.legend span{display:inline-block;padding:1px 6px;margin-right:6px;border:1px solid #333}`;

const LEFT = 210;
const PLOT = 1100;
const LANE = 18;
const FAULT_ROW = 12;
/** The width of a character of the lanes' 11px monospace text. */
const CHAR_PX = 6.6;

function ticks(t0: number, t1: number): number[] {
  const span = t1 - t0 || 1;
  const raw = span / 10;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1 + 1e-9; t += step) out.push(t);
  return out;
}

/** One block of lanes: an axis, the fault rows and spans, a lane per client/process. */
function lanesSvg(bars: readonly Bar[], t0: number, t1: number, marks: FaultMarks | undefined, unit: string): string {
  const lanes = [...new Set(bars.map((b) => b.lane))];
  const x = (t: number): number => LEFT + ((t - t0) / (t1 - t0 || 1)) * PLOT;
  // Fault episodes share rows: each takes the first row free from its start (its bar and its
  // name), so a long run's forty episodes one after another fill a few rows, not forty.
  const rowEnds: number[] = [];
  const rowOf = (marks?.spans ?? []).map((s) => {
    const end = Math.max(x(s.end), x(s.start) + 6 + s.name.length * CHAR_PX);
    let row = rowEnds.findIndex((e) => e <= x(s.start));
    if (row < 0) row = rowEnds.length;
    rowEnds[row] = end;
    return row;
  });
  const faultRows = rowEnds.length;
  const top = 20 + faultRows * FAULT_ROW + (faultRows > 0 ? 4 : 0);
  const height = top + lanes.length * LANE + 4;
  const out: string[] = [`<svg width="${LEFT + PLOT + 20}" height="${height}" xmlns="http://www.w3.org/2000/svg">`];
  out.push('<g class="axis">');
  for (const t of ticks(t0, t1)) {
    out.push(`<line class="grid" x1="${x(t).toFixed(1)}" y1="16" x2="${x(t).toFixed(1)}" y2="${height}"/>`);
    out.push(`<text x="${x(t).toFixed(1)}" y="12" text-anchor="middle">${fmt(t)}${unit === 'ms' ? ' ms' : ''}</text>`);
  }
  out.push('</g>');
  if (marks !== undefined) {
    marks.spans.forEach((s, i) => {
      const w = Math.max(1, x(s.end) - x(s.start));
      const y = 18 + rowOf[i]! * FAULT_ROW;
      out.push(
        `<g class="fault"><title>${esc(s.title)}</title><rect class="fault-span" x="${x(s.start).toFixed(1)}" y="${top}" width="${w.toFixed(1)}" height="${lanes.length * LANE}"/>` +
          `<rect class="fault-bar" x="${x(s.start).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${FAULT_ROW - 2}"/>` +
          `<text x="${(x(s.start) + 2).toFixed(1)}" y="${y + 9}">${esc(s.name)}</text></g>`,
      );
    });
    for (const f of marks.instants)
      out.push(
        `<g class="fault"><title>${esc(f.title)}</title><line class="fault-line" x1="${x(f.at).toFixed(1)}" y1="16" x2="${x(f.at).toFixed(1)}" y2="${height}"/></g>`,
      );
  }
  lanes.forEach((lane, i) => {
    const y = top + i * LANE;
    const name = lane.length > 30 ? `…${lane.slice(-29)}` : lane;
    out.push(`<text class="lane-label" x="4" y="${y + 13}"><title>${esc(lane)}</title>${esc(name)}</text>`);
  });
  const laneOf = new Map(lanes.map((l, i) => [l, i]));
  // An operation of unknown outcome is open to the end of the run; its client goes on with
  // other calls. Its bar stops where the lane's next operation starts and a dashed line along
  // the lane's foot carries it on, so that it does not cover what its client did next.
  const nextStart = new Map<Bar, number>();
  const lastOpen = new Map<string, Bar>();
  for (const b of [...bars].sort((a, c) => a.start - c.start)) {
    const open = lastOpen.get(b.lane);
    if (open !== undefined && b.start > open.start) {
      nextStart.set(open, b.start);
      lastOpen.delete(b.lane);
    }
    if (b.end === undefined) lastOpen.set(b.lane, b);
  }
  for (const b of bars) {
    const y = top + laneOf.get(b.lane)! * LANE + 2;
    const x0 = x(b.start);
    const cut = nextStart.get(b);
    const w = Math.max(2, x(b.end ?? cut ?? t1) - x0);
    if (cut !== undefined)
      out.push(
        `<line class="op-open" x1="${(x0 + w).toFixed(1)}" y1="${y + LANE - 4}" x2="${x(t1).toFixed(1)}" y2="${y + LANE - 4}"><title>${esc(b.title)}</title></line>`,
      );
    const cls = `op ${b.outcome}${b.witness ? ' witness' : ''}${b.failed ? ' failed-op' : ''}`;
    const chars = Math.floor((w - 4) / CHAR_PX);
    const text = chars < 2 ? '' : b.label.length > chars ? `${b.label.slice(0, chars - 1)}…` : b.label;
    out.push(
      `<g class="${cls}" data-op="${b.id}"><title>${esc(b.title)}</title><rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${LANE - 4}" rx="2"/>` +
        (text === '' ? '' : `<text x="${(x0 + 3).toFixed(1)}" y="${y + 11}">${esc(text)}</text>`) +
        '</g>',
    );
  }
  out.push('</svg>');
  return `<div class="scroll">${out.join('\n')}</div>`;
}

function kvSection(run: Extract<TimelineRun, { kind: 'kv' }>, marks: FaultMarks | undefined, t0: number, t1: number): string {
  const out: string[] = [];
  const witness = new Set(run.violations.flatMap((v) => v.ops.map((o) => o.id)));
  const failed = new Set(run.violations.map((v) => v.failedOp.id));
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of run.history) {
    const list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, [op]);
    else list.push(op);
  }
  const failing = [...new Set(run.violations.map((v) => v.key))].filter((k) => byKey.has(k));
  // The keys the checker could not decide are no pass: listed, and drawn after the failing
  // ones (the page said only UNKNOWN, and drew the first keys by name: found by an audit,
  // session 55).
  const undecided = [...new Set(run.undecided ?? [])].filter((k) => byKey.has(k) && !failing.includes(k));
  // Which of them the memory bound stopped, as the text output says (format.ts's undecidedLine):
  // more budget cannot decide those, and the page said "ran out of budget" of every key (an
  // audit, session 61).
  const memory = undecided.filter((k) => run.memoryBound?.includes(k) === true);
  if (undecided.length > 0)
    out.push(
      `<p class="verdict unknown">keys the checker could not decide (not a pass): ${esc(undecided.map((k) => JSON.stringify(k)).join(', '))}${
        memory.length === 0 ? '' : esc(` (${memory.map((k) => JSON.stringify(k)).join(', ')} on its memory bound, which --check-budget does not raise)`)
      }</p>`,
    );
  // The keys the model does not check (a list append wrote them) are no pass either: listed,
  // and each marked (the page drew them as any other: an audit, session 58).
  const unchecked = [...new Set(run.unchecked ?? [])].filter((k) => byKey.has(k) && !failing.includes(k) && !undecided.includes(k));
  if (unchecked.length > 0)
    out.push(
      `<p class="verdict unknown">keys a list append wrote, which the register model does not check (not a pass): ${esc(unchecked.map((k) => JSON.stringify(k)).join(', '))}</p>`,
    );
  const others = [...byKey.keys()].filter((k) => !failing.includes(k) && !undecided.includes(k) && !unchecked.includes(k)).sort();
  const shown = [...failing, ...undecided, ...unchecked, ...others.slice(0, KEYS_SHOWN)];
  if (others.length > KEYS_SHOWN)
    out.push(
      `<p class="note">${others.length - KEYS_SHOWN} of ${byKey.size} keys left out (the failing, undecided and unchecked keys first, then ${KEYS_SHOWN} others).</p>`,
    );
  // The witnesses and the operations no order explains are drawn whatever the budget (a key of
  // 7,000 operations drew its first 3,000 and left out the failure at 19 s: found by an audit,
  // session 55); what the budget has left goes to each key's earliest operations, in the order
  // the keys are shown.
  const marked = (op: HistoryOp): boolean => witness.has(op.id) || failed.has(op.id);
  let markedLeft = TIMELINE_BARS_MAX;
  const markedOf = new Map(
    shown.map((key) => {
      const keep = byKey.get(key)!.filter(marked).slice(0, markedLeft);
      markedLeft -= keep.length;
      return [key, new Set(keep)];
    }),
  );
  let budget = markedLeft;
  // A key's search stops on the memory bound, on steps, or (in a run where a key failed) when
  // another key's failure cuts it short: CheckResult.timedOut does not tell the last two apart.
  const undecidedWhy = (key: string): string =>
    memory.includes(key)
      ? "the checker's search filled its memory bound (fixed: --check-budget does not raise it)"
      : run.violations.length > 0
        ? 'the checker ran out of steps (--check-budget raises them), or stopped once another key failed'
        : 'the checker ran out of steps (--check-budget raises them)';
  for (const key of shown) {
    const ops = byKey.get(key)!;
    const note = failing.includes(key)
      ? ' <span class="verdict fail">no order explains it</span>'
      : undecided.includes(key)
        ? ` <span class="verdict unknown">not decided: ${undecidedWhy(key)}</span>`
        : unchecked.includes(key)
          ? ' <span class="verdict unknown">unchecked: a list append wrote it, which the register model does not check</span>'
          : '';
    out.push(`<h3>key ${esc(JSON.stringify(key))}: ${ops.length === 1 ? '1 operation' : `${ops.length} operations`}${note}</h3>`);
    for (const v of run.violations.filter((v) => v.key === key)) {
      const lines = [
        `no order explains ${v.failedOp.client} ${kvLabel(v.failedOp)} ${span(v.failedOp)}`,
        `witness (${v.ops.length === 1 ? '1 op' : `${v.ops.length} ops`}${v.minimal ? ', minimal' : ''}, outlined red):`,
        ...v.ops.map((o) => `  ${o.client} ${kvLabel(o)} ${o.outcome} ${span(o)}`),
      ];
      out.push(`<pre class="explain">${esc(lines.join('\n'))}</pre>`);
    }
    const kept = markedOf.get(key)!;
    const earliest = ops.filter((op) => !kept.has(op)).slice(0, budget);
    budget -= earliest.length;
    for (const op of earliest) kept.add(op);
    if (kept.size === 0) {
      out.push('<p class="note">not drawn: the run reached its limit of bars.</p>');
      continue;
    }
    const drawn = ops.filter((op) => kept.has(op));
    if (drawn.length < ops.length)
      out.push(
        `<p class="note">${ops.length - drawn.length} of ${ops.length} operations left out: at most ${TIMELINE_BARS_MAX} bars a run${ops.some(marked) ? ' (the witness kept, then the earliest)' : ''}.</p>`,
      );
    out.push(
      lanesSvg(
        drawn.map((op) => kvBar(op, witness, failed)),
        t0,
        t1,
        marks,
        'ms',
      ),
    );
  }
  return out.join('\n');
}

function txnSection(run: Extract<TimelineRun, { kind: 'txn' }>, marks: FaultMarks | undefined, t0: number, t1: number): string {
  const out: string[] = [];
  const anomalies = run.anomalies.slice(0, ANOMALIES_SHOWN);
  const highlighted = new Set<number>();
  for (const a of anomalies) {
    for (const e of a.cycle ?? []) highlighted.add(e.from).add(e.to);
    for (const op of a.ops) highlighted.add(op.index);
  }
  for (const a of anomalies) {
    const cycle =
      a.cycle === undefined ? '' : `\ncycle: ${a.cycle.map((e) => `${e.from} -${e.kind}${e.key === undefined ? '' : ` ${json(e.key)}`}-> ${e.to}`).join(', ')}`;
    out.push(`<pre class="explain">${esc(`${a.type}: ${a.explanation}${cycle}`.slice(0, 4_000))}\n(transactions outlined red)</pre>`);
  }
  if (run.anomalies.length > ANOMALIES_SHOWN)
    out.push(`<p class="note">... and ${run.anomalies.length - ANOMALIES_SHOWN} more anomalies, not highlighted.</p>`);
  const byTime = timed(run.history);
  let bars = txnBars(run.history, highlighted, byTime);
  if (bars.length > TIMELINE_BARS_MAX) {
    // Keep the highlighted transactions, then the earliest.
    const keep = new Set(bars.filter((b) => b.witness).slice(0, TIMELINE_BARS_MAX));
    for (const b of bars) if (keep.size < TIMELINE_BARS_MAX) keep.add(b);
    out.push(
      `<p class="note">${bars.length - keep.size} of ${bars.length} transactions left out: at most ${TIMELINE_BARS_MAX} bars a run (the highlighted ones kept).</p>`,
    );
    bars = bars.filter((b) => keep.has(b));
  }
  if (byTime) out.push(lanesSvg(bars, t0, t1, marks, 'ms'));
  else {
    out.push('<p class="note">These transactions carry no times: the axis is the position of the events in the history.</p>');
    out.push(lanesSvg(bars, 0, Math.max(1, run.history.length - 1), undefined, 'events'));
  }
  return out.join('\n');
}

function runSection(run: TimelineRun): string {
  // By the outcome, not the verdict's words: verify's undecided and empty runs begin with the
  // run's label, and were green (found by an audit, session 55).
  const out = [`<section><h2>${esc(run.label)}</h2>`, `<p class="verdict ${run.outcome}">${esc(run.verdict)}</p>`];
  let t0 = 0;
  let t1 = 1;
  if (run.kind === 'kv') {
    for (const op of run.history) {
      t0 = Math.min(t0, op.invokeMs);
      t1 = Math.max(t1, op.invokeMs, completedMs(op) ?? 0);
    }
  }
  const byTime = run.kind === 'kv' || timed(run.history);
  if (run.kind === 'txn' && byTime) {
    for (const op of run.history) {
      t0 = Math.min(t0, op.time!);
      t1 = Math.max(t1, op.time!);
    }
  }
  const marks = run.faults === undefined ? undefined : faultMarks(run.faults, t1);
  if (byTime && marks !== undefined) {
    for (const s of marks.spans) t1 = Math.max(t1, s.end);
    for (const f of marks.instants) t1 = Math.max(t1, f.at);
  }
  if (marks !== undefined && !byTime) {
    out.push(
      `<details><summary>faults (${run.faults!.length} lines; not drawn: the axis is not time)</summary><pre>${esc(run.faults!.join('\n'))}</pre></details>`,
    );
  } else if (marks !== undefined && marks.untimed.length > 0) {
    out.push(`<details><summary>faults without a time (${marks.untimed.length})</summary><pre>${esc(marks.untimed.join('\n'))}</pre></details>`);
  }
  out.push(run.kind === 'kv' ? kvSection(run, marks, t0, t1) : txnSection(run, marks, t0, t1));
  out.push('</section>');
  return out.join('\n');
}

/** The whole document. */
export function timelineHtml(input: TimelineInput): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>meridian timeline: ${esc(input.title)}</title>
<style>${CSS}</style></head><body>
<svg width="0" height="0" style="position:absolute"><defs><pattern id="tl-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"/><line x1="0" y1="0" x2="0" y2="6" stroke="#aaa" stroke-width="3"/></pattern></defs></svg>
<h1>meridian timeline: ${esc(input.title)}</h1>
<p class="legend"><span style="background:#9fd89f">ok</span><span style="background:#f2a8a8">fail</span><span style="background:#eee;border-style:dashed">unknown (open to the end)</span><span style="border:2.5px solid #d00">witness / anomaly</span><span style="background:#f5b04155">fault episode</span><span style="border-color:#c0392b">| fault instant</span> Hover over a bar or fault for its detail.</p>
${input.runs.map(runSection).join('\n')}
</body></html>
`;
}
