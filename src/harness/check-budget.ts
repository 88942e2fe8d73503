/**
 * The checkers' search budget as `meridian check` and `meridian verify` take it: a multiple of
 * each checker's default (CHECK_STEPS_MAX search steps per key for single-key histories,
 * CYCLE_SEARCH_BUDGET edges per cycle search for transactions). A history the default leaves
 * undecided ('unknown': neither a pass nor a catch) may be decided with more; less shows what
 * an undecided run looks like.
 */
import { ConfigError } from '../core/errors.js';
import { CYCLE_SEARCH_BUDGET } from './elle/classify.js';
import { CHECK_STEPS_MAX } from './linearizability.js';

/** The largest `checkBudget` taken: a thousand times the default. */
export const CHECK_BUDGET_MAX = 1_000;

/** `checkBudget`, when given: a number above 0, at most CHECK_BUDGET_MAX (a ConfigError naming it). */
export function checkCheckBudget(budget: unknown): void {
  if (budget !== undefined && (typeof budget !== 'number' || !Number.isFinite(budget) || budget <= 0 || budget > CHECK_BUDGET_MAX))
    throw new ConfigError('checkBudget', `a number above 0 and at most ${CHECK_BUDGET_MAX} (a multiple of the checker's default search budget)`, budget);
}

/** `defaultSteps` scaled by `checkBudget` (absent: the default), at least 1. */
function scaled(defaultSteps: number, checkBudget: number | undefined): number {
  return checkBudget === undefined ? defaultSteps : Math.max(1, Math.round(defaultSteps * checkBudget));
}

/** The linearizability checker's search steps a key (CheckOptions.stepsMax) for `checkBudget`. */
export function stepsMaxFor(checkBudget: number | undefined): number {
  return scaled(CHECK_STEPS_MAX, checkBudget);
}

/** The Elle checker's edges a cycle search (TxnCheckOptions.searchBudget) for `checkBudget`. */
export function searchBudgetFor(checkBudget: number | undefined): number {
  return scaled(CYCLE_SEARCH_BUDGET, checkBudget);
}
