import type { HistoryOp } from '../core/history.js';
import type { Violation } from '../harness/linearizability.js';

/** The value at quantile q (0..1) of an ascending array; 0 for an empty one. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** A plain-text table with right-aligned numeric columns. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `1 seed`, `2 seeds`: a count with its noun (plural by an s). */
export function count(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`;
}

/** `c1 put(1004) ok [812..830]`: one history operation as a line of a witness. */
export function formatOp(op: HistoryOp): string {
  const input =
    op.input === undefined
      ? ''
      : op.kind === 'cas'
        ? (() => {
            const c = op.input as { expected?: unknown; next?: unknown };
            return `${JSON.stringify(c.expected ?? null)}->${JSON.stringify(c.next ?? null)}`;
          })()
        : JSON.stringify(op.input);
  const output = op.outcome === 'ok' && (op.kind === 'get' || op.kind === 'read' || op.kind === 'cas') ? ` = ${JSON.stringify(op.output ?? null)}` : '';
  const done = op.completeMs === undefined ? '?' : op.completeMs.toFixed(0);
  return `${op.client} ${op.kind}(${input})${output} ${op.outcome} [${op.invokeMs.toFixed(0)}..${done} ms]`;
}

export function formatViolation(v: Violation): string[] {
  return [
    `key ${v.key}: no order explains ${formatOp(v.failedOp)}`,
    `  witness (${v.ops.length} ops${v.minimal ? ', minimal' : ''}):`,
    ...v.ops.map((op) => `    ${formatOp(op)}`),
  ];
}
