import type { Packr } from 'msgpackr';
import { createPackr, FastEncoder } from '../core/codec.js';
import { frameRecord, parseLog, RECORD_HEADER_BYTES, type Crc32, type DurableStore } from './durable.js';

/** CRC-32 (IEEE) in plain JS, so the simulator needs no node:zlib. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export const crc32js: Crc32 = (data) => {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = (TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)) >>> 0;
  return (c ^ 0xffffffff) >>> 0;
};

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
  private readonly logs = new Map<string, Uint8Array[]>();
  /** Per actor, when each frame of `logs` was appended (same indices); synced frames are -Infinity. */
  private readonly appendedAt = new Map<string, number[]>();
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
    if (log === undefined) this.logs.set(address, (log = []));
    let times = this.appendedAt.get(address);
    if (times === undefined) this.appendedAt.set(address, (times = []));
    const at = this.fsync ? -Infinity : this.clock();
    for (const record of records) {
      log.push(this.frame(record));
      times.push(at);
    }
  }

  replace(address: string, records: unknown[]): void {
    this.logs.set(
      address,
      records.map((r) => this.frame(r)),
    );
    this.appendedAt.set(
      address,
      records.map(() => -Infinity),
    );
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
      const times = this.appendedAt.get(address) ?? [];
      let keep = log.length;
      while (keep > 0 && (times[keep - 1] ?? -Infinity) > horizon) keep--;
      if (keep === log.length) continue;
      result.lost += log.length - keep;
      const first = log[keep]!;
      const kept = log.slice(0, keep);
      const keptTimes = times.slice(0, keep);
      if (first.byteLength > 1 && tear()) {
        kept.push(first.slice(0, Math.max(1, Math.min(first.byteLength - 1, cut(first.byteLength)))));
        keptTimes.push(-Infinity);
        result.torn++;
      }
      this.logs.set(address, kept);
      this.appendedAt.set(address, keptTimes);
    }
    return result;
  }

  /** frameRecord(packr, record, crc32js), through the fast encoder when it can. */
  private frame(record: unknown): Uint8Array {
    const end = this.fast.encode(record);
    if (end < 0) return frameRecord(this.packr, record, crc32js);
    const out = new Uint8Array(RECORD_HEADER_BYTES + end);
    out.set(this.fast.buffer.subarray(0, end), RECORD_HEADER_BYTES);
    const view = new DataView(out.buffer);
    view.setUint32(0, end);
    view.setUint32(4, crc32js(out.subarray(RECORD_HEADER_BYTES)) >>> 0);
    return out;
  }

  /** Records an actor's log holds now (tests). */
  size(address: string): number {
    return this.load(address).length;
  }

  load(address: string): unknown[] {
    const log = this.logs.get(address);
    if (log === undefined) return [];
    const bytes = concat(log);
    const parsed = parseLog(this.packr, bytes, crc32js);
    if (parsed.tornTail) {
      this.tornTailsTruncated++;
      this.logs.set(address, [bytes.slice(0, parsed.validBytes)]);
      this.appendedAt.set(address, [-Infinity]);
    }
    return parsed.records;
  }

  /** Test hook: damage the last `bytes` bytes of an actor's log, as a torn write would. */
  tearTail(address: string, bytes: number): void {
    const log = this.logs.get(address);
    if (log === undefined || log.length === 0) return;
    const whole = concat(log);
    this.logs.set(address, [whole.slice(0, Math.max(0, whole.byteLength - bytes))]);
    this.appendedAt.set(address, [-Infinity]);
  }

  close(): void {
    this.logs.clear();
    this.appendedAt.clear();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
