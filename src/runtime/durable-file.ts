import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, existsSync, renameSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Packr } from 'msgpackr';
import { createPackr } from '../core/codec.js';
import { frameRecord, parseLog, type DurableStore } from './durable.js';
import { crc32js as crc32 } from './durable-memory.js';

/**
 * One append-only file per actor under the cluster's data directory.
 *
 * Appends are gathered and written by `sync()`, one write per file. The host calls `sync()`
 * before any message leaves it (every frame flush and every same-host delivery), and a step's
 * messages only leave through those, so a step's records are on disk (in the OS, or on the
 * device with `fsync`) before the messages that depend on them: the Ready rule, with the
 * writes of many steps in one system call. A thread that dies in between loses both the
 * records and the messages, which is the same as dying before the step.
 */
export class FileDurableStore implements DurableStore {
  private readonly packr: Packr = createPackr();
  private readonly fds = new Map<string, number>();
  /** Framed records not yet written, per actor. */
  private readonly pending = new Map<string, Uint8Array[]>();
  tornTailsTruncated = 0;

  constructor(
    private readonly dir: string,
    private readonly fsync: boolean,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  fileOf(address: string): string {
    return join(this.dir, `${address.replace(/[^A-Za-z0-9_-]/g, '_')}.log`);
  }

  append(address: string, records: unknown[]): void {
    let list = this.pending.get(address);
    if (list === undefined) this.pending.set(address, (list = []));
    for (const r of records) list.push(frameRecord(this.packr, r, crc32));
  }

  /** Write (and with `fsync`, force) everything appended so far. */
  sync(): void {
    if (this.pending.size === 0) return;
    for (const [address, parts] of this.pending) {
      let fd = this.fds.get(address);
      if (fd === undefined) {
        fd = openSync(this.fileOf(address), 'a');
        this.fds.set(address, fd);
      }
      writeSync(fd, parts.length === 1 ? parts[0]! : Buffer.concat(parts));
      if (this.fsync) fsyncSync(fd);
    }
    this.pending.clear();
  }

  replace(address: string, records: unknown[]): void {
    // What was pending for this actor is in the checkpoint (the actor built it from its state).
    this.pending.delete(address);
    const fd = this.fds.get(address);
    if (fd !== undefined) {
      closeSync(fd);
      this.fds.delete(address);
    }
    const file = this.fileOf(address);
    const tmp = `${file}.tmp`;
    const out = openSync(tmp, 'w');
    const parts = records.map((r) => frameRecord(this.packr, r, crc32));
    if (parts.length > 0) writeSync(out, Buffer.concat(parts));
    if (this.fsync) fsyncSync(out);
    closeSync(out);
    // A rename is atomic: a crash leaves the old log or the new one, never half of either.
    renameSync(tmp, file);
  }

  load(address: string): unknown[] {
    this.sync();
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
    this.sync();
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
