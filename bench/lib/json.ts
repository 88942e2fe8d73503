import type { SuiteResult } from './suite.js';

/** The one machine-readable line a suite ends with: `{ suite, ...figures }`. */
export function jsonLine(result: SuiteResult): string {
  return JSON.stringify({ suite: result.suite, ...result.figures });
}
