import { ConfigError } from '../core/errors.js';

/** Validates a tick count or size limit: a positive safe integer. `field` names it in the error. */
export function requirePositiveInt(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(field, 'a positive integer', value);
  }
  return value;
}

export function requireNonEmptyString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(field, 'a non-empty string', value);
  return value;
}

/** A list of distinct non-empty addresses, at least `min` long. */
export function requireAddresses(field: string, value: unknown, min: number): string[] {
  if (!Array.isArray(value) || value.length < min) {
    throw new ConfigError(field, `an array of at least ${min} distinct addresses`, value);
  }
  const seen = new Set<string>();
  for (const item of value) {
    if (typeof item !== 'string' || item.length === 0 || seen.has(item)) {
      throw new ConfigError(field, `an array of at least ${min} distinct addresses`, value);
    }
    seen.add(item);
  }
  return [...(value as string[])];
}
