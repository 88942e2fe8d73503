/** `--compare OLD.json`: the ratio new / old for every numeric figure both runs have. */
import { formatTable } from './table.js';

type Figures = Record<string, unknown>;

function flatten(figures: Figures, prefix = '', out = new Map<string, number>()): Map<string, number> {
  for (const [k, v] of Object.entries(figures)) {
    const name = prefix === '' ? k : `${prefix}.${k}`;
    if (typeof v === 'number' && Number.isFinite(v)) out.set(name, v);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Figures, name, out);
  }
  return out;
}

export interface ReportLike {
  results: Array<{ suite: string; figures: Figures }>;
}

export function compareReports(
  current: ReportLike,
  old: ReportLike,
): { table: string; rows: Array<{ suite: string; figure: string; old: number; now: number; ratio: number }> } {
  const rows: Array<{ suite: string; figure: string; old: number; now: number; ratio: number }> = [];
  for (const r of current.results) {
    const before = old.results.find((o) => o.suite === r.suite);
    if (before === undefined) continue;
    const a = flatten(before.figures);
    for (const [name, now] of flatten(r.figures)) {
      const was = a.get(name);
      if (was === undefined || was === 0) continue;
      rows.push({ suite: r.suite, figure: name, old: was, now, ratio: now / was });
    }
  }
  let table = formatTable(
    ['suite', 'figure', 'old', 'now', 'now / old'],
    rows.map((x) => [x.suite, x.figure, String(+x.old.toPrecision(4)), String(+x.now.toPrecision(4)), x.ratio.toFixed(3)]),
  );
  // An empty table said nothing of why (found by an audit, session 55): the suites it could not compare.
  const missing = current.results.filter((r) => !old.results.some((o) => o.suite === r.suite)).map((r) => r.suite);
  const had = old.results.length === 0 ? 'no suite' : old.results.map((o) => o.suite).join(', ');
  // None in common: "(not in the old report, which has replication: failover)" read as if the
  // old report's replication were missing (found by an audit, session 60).
  if (missing.length > 0 && missing.length === current.results.length)
    table += `\n(the two reports share no suite: this run has ${missing.join(', ')}, the old report ${had})`;
  else if (missing.length > 0) table += `\n(not in the old report, which has ${had}: ${missing.join(', ')})`;
  if (rows.length === 0 && current.results.length > missing.length) table += '\n(no figure in common with a nonzero old value)';
  return { table, rows };
}
