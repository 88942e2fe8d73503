/**
 * The checkers' search budget as `meridian check` and `meridian verify` take it: a multiple of
 * each checker's default (CHECK_STEPS_MAX search steps per key for single-key histories,
 * CYCLE_SEARCH_BUDGET edges per cycle search for transactions). A history the default leaves
 * undecided ('unknown': neither a pass nor a catch) may be decided with more; less shows what
 * an undecided run looks like.
 */
import { ConfigError } from '../core/errors.js';

/** The largest `checkBudget` taken: a thousand times the default. */
export const CHECK_BUDGET_MAX = 1_000;

/** `checkBudget`, when given: a number above 0, at most CHECK_BUDGET_MAX (a ConfigError naming it). */
export function checkCheckBudget(budget: unknown): void {
  if (budget !== undefined && (typeof budget !== 'number' || !Number.isFinite(budget) || budget <= 0 || budget > CHECK_BUDGET_MAX))
    throw new ConfigError('checkBudget', `a number above 0 and at most ${CHECK_BUDGET_MAX} (a multiple of the checker's default search budget)`, budget);
}

/** `defaultSteps` scaled by `checkBudget` (absent: the default), at least 1. */
export function scaledBudget(defaultSteps: number, checkBudget: number | undefined): number {
  return checkBudget === undefined ? defaultSteps : Math.max(1, Math.round(defaultSteps * checkBudget));
}
