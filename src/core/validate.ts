import { ConfigError, ValidationError, describe as described } from './errors.js';
import { WAIT_MS_MAX } from './limits.js';

/** Bounds for a numeric option. */
export interface NumberRule {
  min: number;
  max: number;
  /** Exclude `min` itself. */
  minExclusive?: boolean;
  integer?: boolean;
}

/** A finite number (an integer if asked) within the rule's bounds, or a ConfigError naming `field`. */
export function numberIn(value: unknown, field: string, rule: NumberRule): number {
  const lower = `${rule.minExclusive === true ? '>' : '>='} ${rule.min}`;
  const allowed = `${rule.integer === true ? 'an integer' : 'a finite number'} ${lower} and <= ${rule.max}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(field, allowed, value);
  if (rule.integer === true && !Number.isInteger(value)) throw new ConfigError(field, allowed, value);
  if (value < rule.min || (rule.minExclusive === true && value === rule.min) || value > rule.max) throw new ConfigError(field, allowed, value);
  return value;
}

/**
 * An options object of a public call: a plain object whose keys are all in `known`, or a
 * ValidationError naming the field (`options` itself, or `options.<unknown key>`). A misspelt
 * option (`{ consistensy: 'local' }`) fails here instead of being ignored.
 */
export function checkOptions(value: unknown, field: string, known: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, `an object { ${known.map((k) => `${k}?`).join(', ')} }, got ${describe(value)}`);
  }
  // for-in, not Object.keys: nothing allocated on the call path (client.get checks every call's options).
  for (const key in value) {
    if (!known.includes(key)) throw new ValidationError(`${field}.${key}`, `not an option here (${known.join(', ')} ${known.length === 1 ? 'is' : 'are'})`);
  }
  return value as Record<string, unknown>;
}

/**
 * A wait of a public call, in ms (see WAIT_MS_MAX): a finite number from `min` to WAIT_MS_MAX,
 * or a ValidationError naming `field` and the range.
 */
export function waitMs(value: unknown, field: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > WAIT_MS_MAX)
    throw new ValidationError(field, `a number of milliseconds from ${min} to ${WAIT_MS_MAX} (an hour), got ${described(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/**
 * Every key of T, checked at compile time: `allKeys<Options>()(['a', 'b'])` fails to compile if
 * Options has a key not listed (the error names it as `missing`), so an option added to an
 * interface cannot be refused by checkOptions for want of being listed.
 */
export function allKeys<T>() {
  return <const K extends ReadonlyArray<keyof T>>(
    keys: K & ([Exclude<keyof T, K[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, K[number]> }),
  ): K => keys;
}

/**
 * `options` without the keys whose value is `undefined`: spread over defaults, an option given
 * as `undefined` (`{ clients: undefined }`, as a caller forwarding its own optional fields
 * writes) then means the default, as leaving it out does, instead of overwriting it.
 */
export function definedOnly<T extends object>(options: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (value !== undefined) out[key] = value;
  return out as T;
}

/**
 * The first value `values` holds twice, or undefined (none, or no list): a list meant as a set
 * (episodes to carry out, protocols to run) names each once, and a repeat is a slip.
 */
export function firstRepeated<T>(values: readonly T[] | undefined): T | undefined {
  const seen = new Set<T>();
  for (const value of values ?? []) {
    if (seen.has(value)) return value;
    seen.add(value);
  }
  return undefined;
}
