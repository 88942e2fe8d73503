import type { Packr } from 'msgpackr';
import { writeUint32 } from '../core/codec.js';

/**
 * The durable log of each actor, keyed by address (stable across restarts). The runtime
 * appends a step's records before it sends that step's messages.
 */
export interface DurableStore {
  append(address: string, records: unknown[]): void;
  load(address: string): unknown[];
  /** Replace an actor's whole log by `records` (a checkpoint): written at once, atomically. */
  replace(address: string, records: unknown[]): void;
  /**
   * Make everything appended durable. Stores that write at once need not have it; a store
   * that gathers appends must be synced by its host before any message leaves.
   */
  sync?(): void;
  /**
   * Release what the store holds (the file store writes what is pending and closes its files;
   * the memory store forgets its logs). The runtimes call it from stop().
   */
  close(): void;
}

/** Record framing shared by the file and memory stores: [length u32][crc32 u32][msgpack]. */
export const RECORD_HEADER_BYTES = 8;

export interface Crc32 {
  (data: Uint8Array): number;
}

/**
 * CRC-32 (IEEE) in plain JS, so the simulator needs no node:zlib: four tables, so that a loop
 * step takes four bytes ("slicing by 4"). The memory store checksums every record it frames
 * (about 270 KB a seed of `meridian check`), and a byte a step was a hundredth of a seed.
 * Int32 entries: the XORs stay small integers.
 */
const CRC_TABLES = (() => {
  const t = new Int32Array(4 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 4; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC-32 of bytes[start, end), without a view of them. */
export function crc32Range(bytes: Uint8Array, start: number, end: number): number {
  const t = CRC_TABLES;
  let c = -1;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

export const crc32js: Crc32 = (data) => crc32Range(data, 0, data.length);

/**
 * frameRecord's bytes for a record already encoded, body[0, end): written into `out` at `at`
 * (which has room for RECORD_HEADER_BYTES + end); returns where they end. Plain byte writes,
 * no views: records are mostly a few dozen bytes. Both stores frame their fast-encoded records here.
 */
export function writeFrame(out: Uint8Array, at: number, body: Uint8Array, end: number): number {
  // [length u32][crc32 u32], big-endian, as frameRecord's DataView writes them.
  writeUint32(out, at, end);
  writeUint32(out, at + 4, crc32Range(body, 0, end));
  const start = at + RECORD_HEADER_BYTES;
  for (let i = 0; i < end; i++) out[start + i] = body[i]!;
  return start + end;
}

export function frameRecord(packr: Packr, record: unknown, crc32: Crc32): Uint8Array {
  const body = packr.pack(record);
  const out = new Uint8Array(RECORD_HEADER_BYTES + body.byteLength);
  writeUint32(out, 0, body.byteLength);
  writeUint32(out, 4, crc32(body) >>> 0);
  out.set(body, RECORD_HEADER_BYTES);
  return out;
}

export interface ParsedLog {
  records: unknown[];
  /** Bytes of whole, valid records; anything after it is a torn or corrupt tail. */
  validBytes: number;
  tornTail: boolean;
  /**
   * Whole valid records after the first bad one, when its header is whole and says where it
   * ends: more than 0 is a log damaged in the middle (a flipped bit on disk), not a torn last
   * write, and those records would be lost by a cut.
   */
  recordsAfterDamage: number;
}

/**
 * The error a store throws for a log damaged in the middle (`parsed.recordsAfterDamage` > 0):
 * cut there, its acknowledged records after the damage would be gone without a word (an
 * acceptor that forgets its promises breaks Paxos, as the amnesia variant does), so the actor
 * does not start. `where` names the log (the file, or the actor's address in memory).
 */
export function damagedLogError(where: string, address: string, parsed: ParsedLog, totalBytes: number): Error {
  return new Error(
    `durable store: ${where} is damaged in the middle, at byte ${parsed.validBytes} of ${totalBytes}, with ${parsed.recordsAfterDamage} whole records after it (not a torn last write): ` +
      `${address} does not recover from it; move the file aside to start it empty (it then forgets what it acknowledged)`,
  );
}

/** Reads framed records; stops at the first torn or corrupt record and reports where. */
export function parseLog(packr: Packr, bytes: Uint8Array, crc32: Crc32): ParsedLog {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: unknown[] = [];
  const validBytes = readRecords(packr, view, bytes, 0, crc32, records);
  const tornTail = validBytes !== bytes.byteLength;
  let recordsAfterDamage = 0;
  if (tornTail && validBytes + RECORD_HEADER_BYTES <= bytes.byteLength) {
    const end = validBytes + RECORD_HEADER_BYTES + view.getUint32(validBytes);
    if (end < bytes.byteLength) {
      const after: unknown[] = [];
      readRecords(packr, view, bytes, end, crc32, after);
      recordsAfterDamage = after.length;
    }
  }
  return { records, validBytes, tornTail, recordsAfterDamage };
}

/** Pushes the records from `offset` on to `records`, up to the first torn or corrupt one; returns where it stopped. */
function readRecords(packr: Packr, view: DataView, bytes: Uint8Array, offset: number, crc32: Crc32, records: unknown[]): number {
  while (offset < bytes.byteLength) {
    if (offset + RECORD_HEADER_BYTES > bytes.byteLength) break;
    const length = view.getUint32(offset);
    const sum = view.getUint32(offset + 4);
    const start = offset + RECORD_HEADER_BYTES;
    if (start + length > bytes.byteLength) break;
    const body = bytes.subarray(start, start + length);
    if (crc32(body) >>> 0 !== sum) break;
    try {
      records.push(packr.unpack(body));
    } catch {
      // A body whose checksum matches but does not decode is treated as corrupt: stop here.
      break;
    }
    offset = start + length;
  }
  return offset;
}
