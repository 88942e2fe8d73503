import type { ExecutionContext } from 'ava';
import { readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { seedWindow } from './seed-window.js';

/** scripts/mutants.mjs, from dist/test/helpers/. */
const mutants = fileURLToPath(new URL('../../../scripts/mutants.mjs', import.meta.url));
/** The repository's root, whose dist/ scripts/mutants.mjs copies. */
const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Mutant {
  name: string;
  what: string;
  /** The `meridian check` flags scripts/mutants.mjs runs the mutant with. */
  flags: string[];
  /** [file under dist/, text, its replacement]: the files the mutant edits. */
  edits: Array<[string, string, string]>;
}

/**
 * In a mutant's scratch copy (`dir`), each module that does not reach an edited file (`edited`,
 * paths under dist/) becomes a link to the original: node resolves a module through its links to
 * the real file, so that module is the one this process has loaded already, its code compiled
 * and warm. The modules that reach an edited one by a path of relative references stay copies,
 * and load the edit. A reference is any string that starts with ./ or ../ (an import, a dynamic
 * import, a `new URL('./x.js', import.meta.url)`, a behaviors table's module): one that names no
 * module only keeps more copies; dist/ builds no module path any other way (no `join(dir,
 * 'x.js')`), which would be missed. The code a copy runs is the same as when every module was a
 * copy: the mutant's where it reaches the edit, the right code's elsewhere.
 *
 * Each mutant's copy compiled all of dist/'s modules anew until session 68 (2026-12-07): about 1 CPU s more
 * for its first seeds (2.6 -> 1.6 s for sm-no-dedup's three seeds of `--faults late-copies`,
 * 2.2 -> 1.7 for hole-left-open's of `--faults log-hole`, in a thread that had run the right
 * code's).
 */
function linkUnedited(dir: string, edited: readonly string[]): void {
  const files: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.[cm]?js$/.test(entry.name)) files.push(path);
    }
  };
  walk(join(dir, 'dist'));
  const referrers = new Map<string, string[]>();
  for (const file of files) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(['"`])(\.\.?\/[^'"`\n]*)\1/g)) {
      const target = resolve(dirname(file), m[2]!);
      const known = referrers.get(target);
      if (known === undefined) referrers.set(target, [file]);
      else known.push(file);
    }
  }
  const reach = new Set(edited.map((file) => join(dir, 'dist', file)));
  const todo = [...reach];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    for (const referrer of referrers.get(file) ?? []) {
      if (!reach.has(referrer)) {
        reach.add(referrer);
        todo.push(referrer);
      }
    }
  }
  for (const file of files) {
    if (reach.has(file)) continue;
    unlinkSync(file);
    symlinkSync(join(root, relative(dir, file)), file);
  }
}

/**
 * Runs `use` on a module of a scratch copy of dist/ with the mutant `name` of scripts/mutants.mjs
 * in it (a bug that nothing in the project knows about; its mutatedCopy, which copies what a module imported here reads,
 * and linkUnedited, which links the modules the edit does not reach to this process's): `module` is the
 * module's path under dist/, `test/helpers/twopc-random.js` say, and `use` gets what it exports.
 * The copy is removed afterwards. This is how a randomized core test shows it catches the bug
 * it is there for. `use` gets the mutant's `check` flags too (test/helpers/mutant-power.ts runs
 * the copy's `meridian check` with them, as the script does).
 */
export async function withMutant<T>(
  name: string,
  module: string,
  use: (exports: Record<string, unknown>, what: string, flags: readonly string[]) => T | Promise<T>,
): Promise<T> {
  const lib = (await import(pathToFileURL(mutants).href)) as { MUTANTS: Mutant[]; mutatedCopy: (m: Mutant) => string };
  const mutant = lib.MUTANTS.find((m) => m.name === name);
  if (mutant === undefined) throw new Error(`no mutant named ${name} in scripts/mutants.mjs`);
  const dir = lib.mutatedCopy(mutant);
  try {
    linkUnedited(
      dir,
      mutant.edits.map(([file]) => file),
    );
    const exports = (await import(pathToFileURL(join(dir, 'dist', module)).href)) as Record<string, unknown>;
    return await use(exports, mutant.what, mutant.flags);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The seeds a randomized core test sweeps on the correct code: `MERIDIAN_SEED_BASE` (default 1)
 * and `MERIDIAN_SEEDS` (default `seeds`), whole numbers (a bad value throws, naming it, rather
 * than sweeping nothing); the range is logged, as every randomized test prints its seeds.
 */
export function seedRange(t: ExecutionContext, seeds: number): { base: number; seeds: number } {
  const range = seedWindow(seeds);
  t.log(`seeds ${range.base}..${range.base + range.seeds - 1} (MERIDIAN_SEED_BASE, MERIDIAN_SEEDS)`);
  return range;
}

/**
 * Seeds `base`..`base + seeds - 1` of a randomized core test; a seed fails when its run has
 * problems (or throws). With `enough`, the sweep stops at the seed that makes that many failed
 * (`ran` says how many seeds ran). `harnessThrows` lists the seeds whose run threw something
 * other than a failed invariant of Meridian's code (`assert`'s "assertion failed: ..."): a
 * TypeError in the test's own generator, say, which is a broken test, not a caught bug.
 */
export function sweep<R extends { problems: string[] }>(
  run: (seed: number) => R,
  base: number,
  seeds: number,
  enough = Number.POSITIVE_INFINITY,
): { failed: string[]; failedSeeds: number[]; results: R[]; ran: number; harnessThrows: string[] } {
  const failed: string[] = [];
  const failedSeeds: number[] = [];
  const results: R[] = [];
  const harnessThrows: string[] = [];
  let ran = 0;
  for (let seed = base; seed < base + seeds && failed.length < enough; seed++) {
    ran++;
    let problems: string[];
    try {
      const r = run(seed);
      results.push(r);
      problems = r.problems;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      problems = [`threw: ${message}`];
      if (!message.startsWith('assertion failed:')) harnessThrows.push(`seed ${seed}: ${error instanceof Error ? error.name : typeof error}: ${message}`);
    }
    if (problems.length > 0) {
      failed.push(`seed ${seed}: ${problems.slice(0, 3).join('; ')}`);
      failedSeeds.push(seed);
    }
  }
  return { failed, failedSeeds, results, ran, harnessThrows };
}

/** A shell word for `text`: single-quoted. */
const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * The sweep a randomized core test runs on the correct code: the seeds of seedRange (logged)
 * over `run`. Gives the results, for the test's checks that the generator did what the seeds
 * are for; `seeds`, how many ran; `sum` of a count over the results; and `noneFailed(summary)`,
 * which logs the summary with how many seeds failed, the first ten failures and the command
 * that replays the first failing seed, and requires that none failed.
 */
export function sweepSeeds<R extends { problems: string[] }>(
  t: ExecutionContext,
  run: (seed: number) => R,
  defaultSeeds: number,
): { seeds: number; results: R[]; sum: (f: (r: R) => number) => number; noneFailed: (summary: string) => void } {
  const { base, seeds } = seedRange(t, defaultSeeds);
  const { failed, failedSeeds, results } = sweep(run, base, seeds);
  return {
    seeds,
    results,
    sum: (f) => results.reduce((n, r) => n + f(r), 0),
    noneFailed: (summary) => {
      t.log(`${summary}; seeds failed: ${failed.length}`);
      for (const f of failed.slice(0, 10)) t.log(f);
      if (failedSeeds.length > 0) {
        t.log(
          `replay seed ${failedSeeds[0]}: npm run build --silent && MERIDIAN_SEED_BASE=${failedSeeds[0]} MERIDIAN_SEEDS=1 npx ava --match ${shellQuote(t.title)}`,
        );
      }
      t.deepEqual(failed, []);
    },
  };
}

/**
 * A randomized core test catches a bug (a mutant's, or an unsafe variant's that `run` turns on):
 * over seeds `base`..`base + seeds - 1` (logged), `run` must fail at least `share` of them.
 * The seeds run in order and stop at the one that reaches the share: what runs after it could
 * not change the verdict. `label` starts the line that says how many it caught.
 */
export function requireCaught(
  t: ExecutionContext,
  run: (seed: number) => { problems: string[] },
  o: { base?: number; seeds: number; share: number; label?: string },
): void {
  const base = o.base ?? 1;
  t.log(`seeds ${base}..${base + o.seeds - 1}`);
  const need = Math.ceil(o.share * o.seeds);
  const { failed, ran, harnessThrows } = sweep(run, base, o.seeds, need);
  t.log(
    `${o.label ?? ''}caught in ${failed.length} of the first ${ran} of ${o.seeds} seeds${ran < o.seeds ? ` (${need} needed: the rest not run)` : ''}; first: ${failed[0] ?? 'none'}`,
  );
  // A run that threw outside an invariant broke the test; counted as a catch, it would let a
  // broken generator pass for a test that finds the bug.
  t.deepEqual(harnessThrows, [], 'runs that threw something other than a failed assertion');
  t.true(failed.length >= need, `caught ${failed.length} of ${o.seeds}, ${need} needed`);
}

/**
 * The body of a test that a randomized core test catches `mutant`: the seed runner that
 * `runner` takes from `module` of a scratch copy of dist/ with the mutant in it, over seeds
 * `base`..`base + seeds - 1`, must fail at least `share` of them.
 */
export async function catchesMutant(
  t: ExecutionContext,
  o: {
    mutant: string;
    module: string;
    runner: (exports: Record<string, unknown>) => (seed: number) => { problems: string[] };
    base?: number;
    seeds: number;
    share: number;
  },
): Promise<void> {
  await withMutant(o.mutant, o.module, (exports, what) => {
    t.log(`${o.mutant}: ${what}`);
    requireCaught(t, o.runner(exports), o);
  });
}
