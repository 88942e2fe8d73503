/**
 * Ids of the form `<source>:<n>` (the source's part before the last ':', n an integer counting
 * up per source: a client's request ids, a coordinator incarnation's transaction ids) split in
 * two; undefined for any other form.
 */
export function sourceAndNumber(id: string): [string, number] | undefined {
  const at = splitAt(id);
  return at < 0 ? undefined : [id.slice(0, at), splitCount];
}

/** The count splitAt read last (set when it returns an index): a state machine's two reads a request make no pair. */
let splitCount = 0;

/** The index of `id`'s last ':' when a source precedes it and an integer follows (that integer in splitCount), else -1. */
function splitAt(id: string): number {
  const at = id.lastIndexOf(':');
  if (at <= 0) return -1;
  const n = numberAfter(id, at);
  if (!Number.isInteger(n)) return -1;
  splitCount = n;
  return at;
}

/** Digits a count is read from without a substring (see numberAfter): 15 stay below 2^53. */
const PLAIN_DIGITS_MAX = 15;

/**
 * `Number(id.slice(at + 1))`: the part of `id` after its ':' at `at`, as a number (NaN, or not
 * an integer, for another form). A plain run of 1 to PLAIN_DIGITS_MAX decimal digits, the form
 * every request and transaction id takes, is read in place: a shard's state machine reads two
 * ids a request (covers for the new one, forgot for the one it drops), and the substring and
 * the pair sourceAndNumber returns were a third of that cost (scratch bench, 2026-12-07).
 * Anything else (spaces, a sign, a fraction, hex, an empty part) goes through Number as before.
 */
function numberAfter(id: string, at: number): number {
  const end = id.length;
  const digits = end - at - 1;
  if (digits >= 1 && digits <= PLAIN_DIGITS_MAX) {
    let n = 0;
    let i = at + 1;
    for (; i < end; i++) {
      const d = id.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    if (i === end) return n;
  }
  return Number(id.slice(at + 1));
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
    const at = splitAt(id);
    if (at >= 0) this.raise(id.slice(0, at), splitCount);
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
    const at = splitAt(id);
    if (at < 0) return false;
    const n = splitCount;
    const upTo = this.marks.get(id.slice(0, at));
    return upTo !== undefined && n <= upTo;
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
