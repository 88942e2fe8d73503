import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, existsSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Packr } from 'msgpackr';
import { createPackr } from '../core/codec.js';
import { frameRecord, parseLog, type DurableStore } from './durable.js';
import { crc32js as crc32 } from './durable-memory.js';

/**
 * One append-only file per actor under the cluster's data directory. Appends are synchronous
 * so a step's records are on disk (in the OS, or on the device with `fsync`) before the
 * step's messages leave.
 */
export class FileDurableStore implements DurableStore {
  private readonly packr: Packr = createPackr();
  private readonly fds = new Map<string, number>();
  tornTailsTruncated = 0;

  constructor(private readonly dir: string, private readonly fsync: boolean) {
    mkdirSync(dir, { recursive: true });
  }

  fileOf(address: string): string {
    return join(this.dir, `${address.replace(/[^A-Za-z0-9_-]/g, '_')}.log`);
  }

  append(address: string, records: unknown[]): void {
    const parts = records.map((r) => frameRecord(this.packr, r, crc32));
    let fd = this.fds.get(address);
    if (fd === undefined) {
      fd = openSync(this.fileOf(address), 'a');
      this.fds.set(address, fd);
    }
    if (parts.length === 1) writeSync(fd, parts[0]!);
    else writeSync(fd, Buffer.concat(parts));
    if (this.fsync) fsyncSync(fd);
  }

  load(address: string): unknown[] {
    const file = this.fileOf(address);
    if (!existsSync(file)) return [];
    const bytes = readFileSync(file);
    const parsed = parseLog(this.packr, bytes, crc32);
    if (parsed.tornTail) {
      // A torn or corrupt tail is cut off, never applied.
      this.tornTailsTruncated++;
      const fd = this.fds.get(address);
      if (fd !== undefined) {
        closeSync(fd);
        this.fds.delete(address);
      }
      truncateSync(file, parsed.validBytes);
    }
    return parsed.records;
  }

  /** Test hook: append raw bytes, as a torn write would leave them. */
  appendRaw(address: string, bytes: Uint8Array): void {
    appendFileSync(this.fileOf(address), bytes);
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
