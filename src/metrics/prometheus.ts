import type { Labels, MetricsSnapshot } from './registry.js';

/**
 * The Prometheus text exposition format, version 0.0.4: per metric a HELP and a TYPE line,
 * then one line per series; a histogram as cumulative `_bucket{le="..."}` series ending in
 * le="+Inf", then `_sum` and `_count`. No timestamps: the scraper stamps the scrape.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** HELP text: backslash and newline are escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Label values: backslash, double quote and newline are escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Numbers as Go's ParseFloat reads them: +Inf, -Inf, NaN, else JavaScript's shortest form. */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

function formatLabels(labels: Labels, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  if (extra !== undefined) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

export function toPrometheusText(snapshot: MetricsSnapshot): string {
  const lines: string[] = [];
  for (const family of snapshot.families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.type === 'histogram') {
      for (const s of family.series) {
        for (const b of s.buckets) lines.push(`${family.name}_bucket${formatLabels(s.labels, ['le', formatValue(b.le)])} ${formatValue(b.count)}`);
        lines.push(`${family.name}_sum${formatLabels(s.labels)} ${formatValue(s.sum)}`);
        lines.push(`${family.name}_count${formatLabels(s.labels)} ${formatValue(s.count)}`);
      }
    } else {
      for (const s of family.series) lines.push(`${family.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    }
  }
  // The format wants every line, the last included, ended by a newline.
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
