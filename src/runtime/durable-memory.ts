import type { Packr } from 'msgpackr';
import { copyEncoded, createPackr, FastEncoder, grownBytes } from '../core/codec.js';
import { crc32js, frameRecord, parseLog, RECORD_HEADER_BYTES, writeFrame, type DurableStore } from './durable.js';

/** A record of plain values kept as msgpackr would give it back; `msgpackr` below otherwise. */
type Entry = unknown;

/** A record only msgpackr writes (a Map, a Date, a typed array...): kept as its framed bytes. */
class Packed {
  constructor(readonly frame: Uint8Array) {}
}

/** The first bytes of a record a power loss tore (or the bytes a test hook left): kept as they are. */
class Torn {
  constructor(readonly bytes: Uint8Array) {}
}

/** Met a value the fast encoder declines (copyPlain gives up: the record goes to msgpackr). */
const NOT_PLAIN: unique symbol = Symbol('not plain');

/**
 * A deep copy of `value` if it holds only what the FastEncoder writes (plain objects, arrays,
 * strings, numbers, booleans, null, undefined), equal to what msgpackr decodes from its bytes
 * (as copyEncoded: -0 as 0); NOT_PLAIN otherwise.
 */
function copyPlain(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value;
    case 'number':
      return value === 0 ? 0 : value;
    case 'object': {
      if (value === null) return null;
      const ctor = (value as object).constructor;
      if (ctor === Array) {
        const array = value as unknown[];
        const n = array.length;
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) {
          const v = copyPlain(array[i]);
          if (v === NOT_PLAIN) return NOT_PLAIN;
          out[i] = v;
        }
        return out;
      }
      if (ctor !== Object) return NOT_PLAIN;
      const object = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const key in object) {
        const v = copyPlain(object[key]);
        if (v === NOT_PLAIN) return NOT_PLAIN;
        out[key] = v;
      }
      return out;
    }
    default:
      return NOT_PLAIN;
  }
}

/**
 * One actor's log in the memory store: its records as the store would read them back, and when
 * each was appended (same indices; synced ones -Infinity). Bytes are made only when they are
 * needed: the size of the record a power loss tears, a torn log's recovery (parseLog over the
 * frames, as the file store reads its file), and bytesOf. A record is framed, checksummed and
 * decoded only then, not at every append (that was a tenth of a `meridian check` seed's time).
 */
class MemoryLog {
  entries: Entry[] = [];
  times: number[] = [];
  /** Entries that are Torn (recovery must parse the bytes). */
  torn = 0;

  push(entry: Entry, at: number): void {
    this.entries.push(entry);
    this.times.push(at);
    if (entry instanceof Torn) this.torn++;
  }
}

/**
 * With `fsync: false`, how long an appended record sits in the (simulated) OS page cache
 * before write-back makes it durable: a power loss loses the records younger than this.
 */
export const SIM_WRITEBACK_MS_DEFAULT = 500;

export interface PowerLossResult {
  /** Records lost (appended, not yet synced). */
  lost: number;
  /** Actors whose last surviving bytes are a torn, partly written record. */
  torn: number;
}

/**
 * The simulator's durable store: framed bytes in memory, surviving simulated crashes. The
 * same framing and checksum as the file store, so torn tails can be tested here too.
 *
 * A plain crash (a process dying) loses nothing: what was appended is in the OS. A power loss
 * (`powerLoss`) loses what is not on the device: with `fsync: true` every append is synced
 * before the step's messages leave, so nothing; with `fsync: false` the records appended in
 * the last `writebackMs` (by the store's clock), and the first of them may survive as a torn
 * prefix, which recovery cuts off (never applies). Checkpoints (`replace`) count as synced.
 */
export class MemoryDurableStore implements DurableStore {
  private readonly logs = new Map<string, MemoryLog>();
  private readonly packr: Packr = createPackr();
  /** The same bytes as `packr` for the records it can write, faster (see FastEncoder). */
  private readonly fast = new FastEncoder();
  private fsync = true;
  private writebackMs = SIM_WRITEBACK_MS_DEFAULT;
  private clock: () => number = () => 0;
  tornTailsTruncated = 0;

  /** How power loss treats appends: `fsync` as the cluster's setting, time from `clock`. */
  configure(options: { fsync: boolean; clock: () => number; writebackMs?: number }): void {
    this.fsync = options.fsync;
    this.clock = options.clock;
    if (options.writebackMs !== undefined) this.writebackMs = options.writebackMs;
  }

  append(address: string, records: unknown[]): void {
    let log = this.logs.get(address);
    if (log === undefined) this.logs.set(address, (log = new MemoryLog()));
    const at = this.fsync ? -Infinity : this.clock();
    for (const record of records) log.push(this.entryOf(record), at);
  }

  replace(address: string, records: unknown[]): void {
    const log = new MemoryLog();
    for (const record of records) log.push(this.entryOf(record), -Infinity);
    this.logs.set(address, log);
  }

  /**
   * A power loss on the actors `match` selects: each loses its unsynced tail (none with
   * `fsync: true`), and with `tear(address)` true keeps a torn prefix of the first lost record.
   * `cut(frameBytes)` picks how many bytes of that record survive (1 to frameBytes - 1).
   */
  powerLoss(match: (address: string) => boolean, tear: () => boolean, cut: (frameBytes: number) => number): PowerLossResult {
    const result: PowerLossResult = { lost: 0, torn: 0 };
    if (this.fsync) return result;
    const horizon = this.clock() - this.writebackMs;
    for (const [address, log] of this.logs) {
      if (!match(address)) continue;
      const count = log.entries.length;
      const times = log.times;
      let keep = count;
      while (keep > 0 && (times[keep - 1] ?? -Infinity) > horizon) keep--;
      if (keep === count) continue;
      result.lost += count - keep;
      const first = this.frameOf(log.entries[keep]);
      log.entries.length = keep;
      log.times.length = keep;
      if (first.byteLength > 1 && tear()) {
        const torn = Math.max(1, Math.min(first.byteLength - 1, cut(first.byteLength)));
        log.push(new Torn(first.slice(0, torn)), -Infinity);
        result.torn++;
      }
    }
    return result;
  }

  /** What `append` keeps of `record`: a copy of its plain values, or its bytes from msgpackr. */
  private entryOf(record: unknown): Entry {
    const copy = copyPlain(record);
    return copy !== NOT_PLAIN ? copy : new Packed(frameRecord(this.packr, record, crc32js));
  }

  /** An entry's frame: what the file store would have written for it. */
  private frameOf(entry: Entry): Uint8Array {
    if (entry instanceof Packed) return entry.frame;
    if (entry instanceof Torn) return entry.bytes;
    const end = this.fast.encode(entry);
    if (end < 0) return frameRecord(this.packr, entry, crc32js);
    const out = new Uint8Array(RECORD_HEADER_BYTES + end);
    writeFrame(out, 0, this.fast.buffer, end);
    return out;
  }

  /** The log's bytes as a file store would hold them: its entries' frames back to back. */
  private bytesOfLog(log: MemoryLog): Uint8Array {
    let bytes = new Uint8Array(1024);
    let length = 0;
    for (const entry of log.entries) {
      const frame = this.frameOf(entry);
      bytes = grownBytes(bytes, length, length + frame.byteLength);
      bytes.set(frame, length);
      length += frame.byteLength;
    }
    return bytes.slice(0, length);
  }

  /** Records an actor's log holds now (tests). */
  size(address: string): number {
    return this.load(address).length;
  }

  /** The bytes of an actor's log as they stand (tests: what a file store would hold). */
  bytesOf(address: string): Uint8Array {
    const log = this.logs.get(address);
    return log === undefined ? new Uint8Array(0) : this.bytesOfLog(log);
  }

  load(address: string): unknown[] {
    const log = this.logs.get(address);
    if (log === undefined) return [];
    if (log.torn === 0) {
      // Every record whole: the values msgpackr would decode, made anew for the caller.
      return log.entries.map((entry) => (entry instanceof Packed ? this.packr.unpack(entry.frame.subarray(RECORD_HEADER_BYTES)) : copyEncoded(entry)));
    }
    // A torn record in the log: its frames are read as the file store reads its file.
    const parsed = parseLog(this.packr, this.bytesOfLog(log), crc32js);
    if (parsed.tornTail) {
      this.tornTailsTruncated++;
      // The valid records are kept, synced; what follows the torn one is gone with it.
      const kept = new MemoryLog();
      for (const record of parsed.records) kept.push(this.entryOf(record), -Infinity);
      this.logs.set(address, kept);
    }
    return parsed.records;
  }

  /** Test hook: damage the last `bytes` bytes of an actor's log, as a torn write would. */
  tearTail(address: string, bytes: number): void {
    const log = this.logs.get(address);
    if (log === undefined || log.entries.length === 0) return;
    const all = this.bytesOfLog(log);
    const damaged = new MemoryLog();
    damaged.push(new Torn(all.slice(0, Math.max(0, all.byteLength - bytes))), -Infinity);
    this.logs.set(address, damaged);
  }

  close(): void {
    this.logs.clear();
  }
}
