/** What the commands' flag parsers share: the error a bad flag throws, and a choice among names. */

/** A bad flag or flag value: the command prints its message and its usage, and exits 2. */
export class FlagError extends Error {}

/** `value` if it is one of `allowed`; else a FlagError naming the flag, the choices and what it got (null: no value). */
export function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new FlagError(`${flag} takes ${allowed.join(', ')}, got ${JSON.stringify(value ?? null)}`);
  return value as T;
}
