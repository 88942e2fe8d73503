/** An invariant that must hold; a failure is a bug in Meridian, not in the caller's input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

export function unreachable(value: never, what = 'value'): never {
  throw new Error(`assertion failed: unexpected ${what} ${JSON.stringify(value)}`);
}
