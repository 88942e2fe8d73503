import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** scripts/mutants.mjs, from dist/test/helpers/. */
const mutants = fileURLToPath(new URL('../../../scripts/mutants.mjs', import.meta.url));

interface Mutant {
  name: string;
  what: string;
}

/**
 * Runs `use` on a module of a scratch copy of dist/ into which scripts/mutants.mjs put the mutant
 * `name` (a bug that nothing in the project knows about): `module` is the module's path under
 * dist/, `test/helpers/twopc-random.js` say, and `use` gets what it exports. The copy is removed
 * afterwards. This is how a randomized core test shows it catches the bug it is there for.
 */
export async function withMutant<T>(name: string, module: string, use: (exports: Record<string, unknown>, what: string) => T | Promise<T>): Promise<T> {
  const lib = (await import(pathToFileURL(mutants).href)) as { MUTANTS: Mutant[]; mutatedCopy: (m: Mutant) => string };
  const mutant = lib.MUTANTS.find((m) => m.name === name);
  if (mutant === undefined) throw new Error(`no mutant named ${name} in scripts/mutants.mjs`);
  const dir = lib.mutatedCopy(mutant);
  try {
    const exports = (await import(pathToFileURL(join(dir, 'dist', module)).href)) as Record<string, unknown>;
    return await use(exports, mutant.what);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
