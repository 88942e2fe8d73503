/** Plain-text tables for bench output. */

export type Cell = string | number;

const NUMBER_TEXT = /^(-?[\d,]+(\.\d+)?)?$/;

/** Formats a number for people: thousands separators; integers and large values without decimals. */
export function fmt(value: number, decimals?: number): string {
  if (!Number.isFinite(value)) return String(value);
  const d = decimals ?? (Number.isInteger(value) || Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 2 : 3);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** A target table's verdict for a figure: 'met', or 'MISSED' in capitals to stand out. */
export function targetWord(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

/** A table with a header row; numbers are right-aligned, text left-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[], title?: string): string {
  const text = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? fmt(cell) : cell)));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => (row[i] ?? '').length)));
  // A column of figures (numbers, or text that reads as one) is right-aligned.
  const numeric = headers.map((_, i) => text.length > 0 && text.every((row) => row[i] === undefined || NUMBER_TEXT.test(row[i]!)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  if (title !== undefined) out.push(title);
  out.push(line(headers));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of text) out.push(line(row));
  return out.join('\n');
}
