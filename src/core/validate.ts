import { ConfigError } from './errors.js';

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
