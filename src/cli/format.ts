import type { HistoryOp } from '../core/history.js';
import { CHECK_RECORD_WORDS_MAX, type Violation } from '../harness/linearizability.js';
import { kvLabel } from '../harness/timeline.js';

/**
 * The value at quantile q (0..1) of an ascending array; NaN for an empty one (latencyCell
 * prints it as '-'): it was 0, and a demo phase in which no call succeeded printed a p50 and a
 * p99 of 0.00 ms (found by an audit, session 67).
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** A latency in ms for a table: two decimals, or '-' for none (NaN: see percentile). */
export function latencyCell(ms: number): string {
  return Number.isNaN(ms) ? '-' : ms.toFixed(2);
}

/** A plain-text table with right-aligned numeric columns. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `argv` as one shell command line: a word with characters a POSIX shell reads specially (or an empty one) in single quotes. */
export function shellWords(argv: readonly string[]): string {
  return argv.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`)).join(' ');
}

/**
 * The checker's memory bound (CHECK_RECORD_WORDS_MAX words of records) in MiB (2^20 bytes), for
 * messages: 256. It said "256 MB", a MiB figure (268 MB) named MB (found by an audit, session 69).
 */
const MEMORY_BOUND_MIB = (CHECK_RECORD_WORDS_MAX * Int32Array.BYTES_PER_ELEMENT) / 2 ** 20;

/**
 * Why a linearizability check left keys undecided (CheckResult.timedOut), by what stopped each:
 * steps, which --check-budget raises, or the memory bound (memoryBound), which it does not. Both
 * were said "ran out of budget", and more budget could not decide the second (an audit, session 61).
 */
export function undecidedWhy(timedOut: readonly string[], memoryBound: readonly string[]): string {
  const memory = new Set(memoryBound);
  const steps = timedOut.filter((key) => !memory.has(key));
  return [
    ...(steps.length > 0 ? [`the checker ran out of steps on ${steps.join(', ')} (--check-budget B gives it B times as many)`] : []),
    ...(memoryBound.length > 0
      ? [`the checker's search filled its memory bound (${MEMORY_BOUND_MIB} MiB of records, fixed: --check-budget does not help) on ${memoryBound.join(', ')}`]
      : []),
  ].join('; ');
}

/** `keys the checker could not decide: a, b`, beside a failure, with those its memory bound stopped named. */
export function undecidedLine(timedOut: readonly string[], memoryBound: readonly string[]): string {
  const memory =
    memoryBound.length === 0 ? '' : ` (${memoryBound.join(', ')} on its memory bound of ${MEMORY_BOUND_MIB} MiB, which --check-budget does not raise)`;
  return `keys the checker could not decide: ${timedOut.join(', ')}${memory}`;
}

/** `1 seed`, `2 seeds`: a count with its noun (plural by an s). */
export function count(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`;
}

/** `c1 put(1004) ok [812..830 ms]`: one history operation as a line of a witness (kvLabel: a value left out reads `undefined`, apart from `null`). */
export function formatOp(op: HistoryOp): string {
  const done = op.completeMs === undefined ? '?' : op.completeMs.toFixed(0);
  return `${op.client} ${kvLabel(op)} ${op.outcome} [${op.invokeMs.toFixed(0)}..${done} ms]`;
}

export function formatViolation(v: Violation): string[] {
  return [
    `key ${v.key}: no order explains ${formatOp(v.failedOp)}`,
    `  witness (${count(v.ops.length, 'op')}${v.minimal ? ', minimal' : ''}):`,
    ...v.ops.map((op) => `    ${formatOp(op)}`),
  ];
}
