import type { Packr } from 'msgpackr';
import { createPackr } from '../core/codec.js';
import { frameRecord, parseLog, type Crc32, type DurableStore } from './durable.js';

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
  tornTailsTruncated = 0;

  append(address: string, records: unknown[]): void {
    let log = this.logs.get(address);
    if (log === undefined) this.logs.set(address, (log = []));
    for (const record of records) log.push(frameRecord(this.packr, record, crc32js));
  }

  replace(address: string, records: unknown[]): void {
    this.logs.set(address, records.map((r) => frameRecord(this.packr, r, crc32js)));
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
