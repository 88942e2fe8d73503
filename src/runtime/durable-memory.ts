import type { Packr } from 'msgpackr';
import { createPackr, FastEncoder, grownBytes } from '../core/codec.js';
import { crc32js, damagedLogError, frameRecord, parseLog, RECORD_HEADER_BYTES, writeFrame, type DurableStore } from './durable.js';

/** Initial bytes of an actor's log in the memory store (it doubles as it fills). */
export const MEMORY_LOG_BYTES_INITIAL = 1024;

/**
 * One actor's log in the memory store: its framed records back to back in one buffer, and
 * where each frame ends and when it was appended (same indices; synced frames -Infinity).
 * One buffer per actor instead of one per record: no ArrayBuffer per record.
 */
class MemoryLog {
  bytes = new Uint8Array(MEMORY_LOG_BYTES_INITIAL);
  length = 0;
  ends: number[] = [];
  times: number[] = [];

  /** Room for `more` bytes past `length`. */
  reserve(more: number): void {
    this.bytes = grownBytes(this.bytes, this.length, this.length + more);
  }

  /** Append one whole frame (or a torn part of one) as it is. */
  push(frame: Uint8Array, at: number): void {
    this.reserve(frame.byteLength);
    this.bytes.set(frame, this.length);
    this.length += frame.byteLength;
    this.ends.push(this.length);
    this.times.push(at);
  }

  /** Keep only bytes[0, length) as one synced frame (after a cut or a tear). */
  truncate(length: number): void {
    this.length = length;
    this.ends = [length];
    this.times = [-Infinity];
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
    for (const record of records) this.frame(log, record, at);
  }

  replace(address: string, records: unknown[]): void {
    const log = new MemoryLog();
    for (const record of records) this.frame(log, record, -Infinity);
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
      const frames = log.ends.length;
      const times = log.times;
      let keep = frames;
      while (keep > 0 && (times[keep - 1] ?? -Infinity) > horizon) keep--;
      if (keep === frames) continue;
      result.lost += frames - keep;
      const firstStart = keep === 0 ? 0 : log.ends[keep - 1]!;
      const firstBytes = log.ends[keep]! - firstStart;
      log.ends.length = keep;
      log.times.length = keep;
      log.length = firstStart;
      if (firstBytes > 1 && tear()) {
        const torn = Math.max(1, Math.min(firstBytes - 1, cut(firstBytes)));
        // The torn prefix is already in place: keep its bytes as a frame of their own.
        log.length = firstStart + torn;
        log.ends.push(log.length);
        log.times.push(-Infinity);
        result.torn++;
      }
    }
    return result;
  }

  /** Append frameRecord(packr, record, crc32js) to `log`, through the fast encoder when it can. */
  private frame(log: MemoryLog, record: unknown, at: number): void {
    const end = this.fast.encode(record);
    if (end < 0) {
      log.push(frameRecord(this.packr, record, crc32js), at);
      return;
    }
    log.reserve(RECORD_HEADER_BYTES + end);
    log.length = writeFrame(log.bytes, log.length, this.fast.buffer, end);
    log.ends.push(log.length);
    log.times.push(at);
  }

  /** Records an actor's log holds now (tests). */
  size(address: string): number {
    return this.load(address).length;
  }

  /** The bytes of an actor's log as they stand (tests: what a file store would hold). */
  bytesOf(address: string): Uint8Array {
    const log = this.logs.get(address);
    return log === undefined ? new Uint8Array(0) : log.bytes.slice(0, log.length);
  }

  load(address: string): unknown[] {
    const log = this.logs.get(address);
    if (log === undefined) return [];
    const parsed = parseLog(this.packr, log.bytes.subarray(0, log.length), crc32js);
    // As the file store: damage in the middle is refused, not cut (see damagedLogError).
    if (parsed.recordsAfterDamage > 0) throw damagedLogError(`the log of ${address}`, address, parsed, log.length);
    if (parsed.tornTail) {
      this.tornTailsTruncated++;
      log.truncate(parsed.validBytes);
    }
    return parsed.records;
  }

  /** Test hook: damage the last `bytes` bytes of an actor's log, as a torn write would. */
  tearTail(address: string, bytes: number): void {
    const log = this.logs.get(address);
    if (log === undefined || log.ends.length === 0) return;
    log.truncate(Math.max(0, log.length - bytes));
  }

  /** Test hook: flip the bits of byte `at` of an actor's log, as damage on a disk would (a bad record with whole ones after it is refused at load). */
  corrupt(address: string, at: number): void {
    const log = this.logs.get(address);
    if (log === undefined || at < 0 || at >= log.length) throw new RangeError(`corrupt(${address}, ${at}): no such byte in a log of ${log?.length ?? 0} bytes`);
    log.bytes[at] = log.bytes[at]! ^ 0xff;
  }

  close(): void {
    this.logs.clear();
  }
}
