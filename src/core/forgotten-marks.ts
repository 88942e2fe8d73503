/**
 * Ids of the form `<source>:<n>` (the source's part before the last ':', n an integer counting
 * up per source: a client's request ids, a coordinator incarnation's transaction ids) split in
 * two; undefined for any other form.
 */
export function sourceAndNumber(id: string): [string, number] | undefined {
  const at = id.lastIndexOf(':');
  if (at <= 0) return undefined;
  const n = Number(id.slice(at + 1));
  return Number.isInteger(n) ? [id.slice(0, at), n] : undefined;
}

/**
 * What a bounded memory of ids forgot, per source: the highest number forgotten. An id at or
 * below its source's mark that the memory does not hold is older than what is remembered (a
 * late copy), and must not be taken for a new one. At most `maxSources` sources: past it, the
 * source whose mark was made first loses it (a raised mark keeps its place).
 */
export class ForgottenMarks {
  private readonly marks = new Map<string, number>();

  constructor(private readonly maxSources: number) {}

  get size(): number {
    return this.marks.size;
  }

  /** `id` left the memory: raise its source's mark. */
  forgot(id: string): void {
    const parts = sourceAndNumber(id);
    if (parts !== undefined) this.raise(parts[0], parts[1]);
  }

  /** Raise `source`'s mark to `n` (a mark read back from a log or checkpoint). */
  raise(source: string, n: number): void {
    const upTo = this.marks.get(source);
    if (upTo === undefined) {
      if (this.marks.size >= this.maxSources) this.marks.delete(this.marks.keys().next().value as string);
      this.marks.set(source, n);
    } else if (n > upTo) {
      this.marks.set(source, n);
    }
  }

  /** At or below its source's mark: older than what the memory holds. */
  covers(id: string): boolean {
    if (this.marks.size === 0) return false;
    const parts = sourceAndNumber(id);
    if (parts === undefined) return false;
    const upTo = this.marks.get(parts[0]);
    return upTo !== undefined && parts[1] <= upTo;
  }

  entries(): Array<[string, number]> {
    return [...this.marks];
  }

  /** Replace the marks with these (from `entries`), in their order. */
  restore(entries: Iterable<readonly [string, number]> | undefined): void {
    this.marks.clear();
    for (const [source, n] of entries ?? []) this.marks.set(source, n);
  }
}
