/** What the commands' flag parsers share: the error a bad flag throws, a choice among names, a flag given once. */

/** A bad flag or flag value: the command prints its message and its usage, and exits 2. */
export class FlagError extends Error {}

/** `value` if it is one of `allowed`; else a FlagError naming the flag, the choices and what it got (null: no value). */
export function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new FlagError(`${flag} takes ${allowed.join(', ')}, got ${JSON.stringify(value ?? null)}`);
  return value as T;
}

/**
 * Records that `flag` was given `value`, in `given`; a FlagError naming the flag and both values
 * when it was given before with another value (the last would win silently: a run of other
 * seeds, a file not written where asked). The same value again is harmless: scripts that put
 * flags together (scripts/mutants.mjs) may repeat one.
 */
export function once(given: Map<string, string | undefined>, flag: string, value: string | undefined): void {
  if (given.has(flag) && given.get(flag) !== value)
    throw new FlagError(`${flag} given twice (${JSON.stringify(given.get(flag) ?? null)} and ${JSON.stringify(value ?? null)}): give it once`);
  given.set(flag, value);
}
