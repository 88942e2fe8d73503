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
 * The simulator's durable store: framed bytes in memory, surviving simulated crashes. The
 * same framing and checksum as the file store, so torn tails can be tested here too.
 */
export class MemoryDurableStore implements DurableStore {
  private readonly logs = new Map<string, Uint8Array[]>();
  private readonly packr: Packr = createPackr();
  /** The same bytes as `packr` for the records it can write, faster (see FastEncoder). */
  private readonly fast = new FastEncoder();
  tornTailsTruncated = 0;

  append(address: string, records: unknown[]): void {
    let log = this.logs.get(address);
    if (log === undefined) this.logs.set(address, (log = []));
    for (const record of records) log.push(this.frame(record));
  }

  replace(address: string, records: unknown[]): void {
    this.logs.set(address, records.map((r) => this.frame(r)));
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
    }
    return parsed.records;
  }

  /** Test hook: damage the last `bytes` bytes of an actor's log, as a torn write would. */
  tearTail(address: string, bytes: number): void {
    const log = this.logs.get(address);
    if (log === undefined || log.length === 0) return;
    const whole = concat(log);
    this.logs.set(address, [whole.slice(0, Math.max(0, whole.byteLength - bytes))]);
  }

  close(): void {
    this.logs.clear();
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
