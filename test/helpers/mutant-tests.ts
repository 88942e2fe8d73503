import test from 'ava';
import { catchesMutant } from './core-mutant.js';

/**
 * Registers one test per row: `runSeed` of `module` (a test/helpers/*-random.js file), run on a
 * scratch copy of dist/ with the row's mutant in it over seeds 1..`seeds`, must fail at least
 * `share` of them. `subject` opens each title ("randomized balancer").
 */
export function mutantTests(subject: string, module: string, seeds: number, rows: ReadonlyArray<{ mutant: string; share: number }>): void {
  for (const { mutant, share } of rows) {
    test(`${subject} catches the ${mutant} mutant in at least ${Number((share * 100).toFixed(1))}% of seeds`, (t) =>
      catchesMutant(t, { mutant, module, runner: (e) => e['runSeed'] as (seed: number) => { problems: string[] }, seeds, share }));
  }
}
