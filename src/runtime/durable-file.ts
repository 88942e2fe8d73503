import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, existsSync, renameSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Packr } from 'msgpackr';
import { createPackr, FastEncoder, grownBytes } from '../core/codec.js';
import { crc32js as crc32, damagedLogError, frameRecord, parseLog, RECORD_HEADER_BYTES, writeFrame, type DurableStore } from './durable.js';

/**
 * One append-only file per actor under the cluster's data directory.
 *
 * Appends are gathered and written by `sync()`, one write per file. The host calls `sync()`
 * before any message leaves it (every frame it posts), and a step's messages only leave
 * through frames, so a step's records are on disk (in the OS, or on the device with `fsync`)
 * before the messages that depend on them: the Ready rule, with the writes of many steps in
 * one system call. A message to an actor on the same host is delivered without a sync: what
 * that actor sends in turn leaves in a frame, after the sync. A thread that dies in between
 * loses both the records and the messages, which is the same as dying before the step; an
 * actor crashed on a thread that goes on (a node crash) keeps what it appended, written at
 * the next sync, as a write the OS took before the crash.
 */
export class FileDurableStore implements DurableStore {
  private readonly packr: Packr = createPackr();
  private readonly fds = new Map<string, number>();
  /** The same bytes as `packr` for the records it can write, faster (see FastEncoder). */
  private readonly fast = new FastEncoder();
  /**
   * Framed records not yet written, per actor: one buffer per actor, kept from one sync to
   * the next and written from (no array buffer per record, no concatenation per sync).
   */
  private readonly buffers = new Map<string, PendingBytes>();
  /** The actors with records pending, in the order they first appended since the last sync. */
  private pending: string[] = [];
  /**
   * The first write or fsync that failed (a sync's, or a checkpoint's: replace). From then on
   * every sync() and replace() throws it: the records it held are not on disk, and after a
   * failed fsync nothing written before it can be trusted to be either (the kernel may have
   * dropped the pages; PostgreSQL's "fsyncgate"), so no message that depends on them may
   * leave. The host's flush throws it and the thread ends (a
   * 'host-exit'; restart() starts it again from what is on disk). Before, the failing actor's
   * records were dropped from the pending list, its buffer never emptied, and its log was never
   * written again, while its puts were still acknowledged.
   */
  private failed: Error | undefined;
  tornTailsTruncated = 0;

  constructor(
    private readonly dir: string,
    private readonly fsync: boolean,
  ) {
    const made = mkdirSync(dir, { recursive: true });
    // With fsync, each folder made here is named durably in its parent (as a log file's name is
    // in its folder, syncDir): until session 68 a power loss soon after a first start could lose
    // the new folder, and the logs synced inside it with it.
    if (fsync && made !== undefined) for (let at = dir; at !== dirname(made); at = dirname(at)) syncFolder(dirname(at));
  }

  fileOf(address: string): string {
    return join(this.dir, `${address.replace(/[^A-Za-z0-9_-]/g, '_')}.log`);
  }

  append(address: string, records: unknown[]): void {
    if (records.length === 0) return;
    let p = this.buffers.get(address);
    if (p === undefined) this.buffers.set(address, (p = new PendingBytes()));
    if (p.length === 0) this.pending.push(address);
    for (const r of records) {
      // frameRecord(packr, r, crc32), written in place: [length u32][crc32 u32][msgpack].
      const end = this.fast.encode(r);
      if (end < 0) p.add(frameRecord(this.packr, r, crc32));
      else p.addFramed(this.fast.buffer, end);
    }
  }

  /** Write (and with `fsync`, force) everything appended so far. */
  sync(): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.pending.length === 0) return;
    const addresses = this.pending;
    this.pending = [];
    for (const address of addresses) {
      const p = this.buffers.get(address)!;
      if (p.length === 0) continue; // Replaced since it appended.
      try {
        let fd = this.fds.get(address);
        // A log file made by this write: its name is durable only once its folder is synced.
        const made = fd === undefined && this.fsync && !existsSync(this.fileOf(address));
        if (fd === undefined) {
          fd = openSync(this.fileOf(address), 'a');
          this.fds.set(address, fd);
        }
        writeSync(fd, p.bytes, 0, p.length);
        if (this.fsync) fsyncSync(fd);
        if (made) this.syncDir();
      } catch (error) {
        this.failed = new Error(
          `durable store: writing ${this.fileOf(address)} failed (${(error as Error).message}); no record is written from now on, and no message leaves this host`,
        );
        throw this.failed;
      }
      p.clear();
    }
  }

  replace(address: string, records: unknown[]): void {
    if (this.failed !== undefined) throw this.failed;
    // What was pending for this actor is in the checkpoint (the actor built it from its state).
    this.buffers.get(address)?.clear();
    const fd = this.fds.get(address);
    if (fd !== undefined) {
      closeSync(fd);
      this.fds.delete(address);
    }
    const file = this.fileOf(address);
    const tmp = tmpOf(file);
    let out: number | undefined;
    try {
      out = openSync(tmp, 'w');
      const parts = records.map((r) => frameRecord(this.packr, r, crc32));
      if (parts.length > 0) writeSync(out, Buffer.concat(parts));
      if (this.fsync) fsyncSync(out);
      closeSync(out);
      out = undefined;
      // A rename is atomic: a crash leaves the old log or the new one, never half of either.
      renameSync(tmp, file);
      this.syncDir();
    } catch (error) {
      // The half-written copy goes (it was left beside the log, its descriptor open), and the
      // store fails as a failed sync does: what was pending for this actor was dropped above
      // (the checkpoint was to hold it), so no message that depends on it may leave.
      try {
        if (out !== undefined) closeSync(out);
        rmSync(tmp, { force: true });
      } catch {
        // What failed is said below; a copy that cannot be removed is removed at the next load.
      }
      this.failed = new Error(
        `durable store: writing the checkpoint ${tmp} failed (${(error as Error).message}); no record is written from now on, and no message leaves this host`,
      );
      throw this.failed;
    }
  }

  /** With `fsync`, makes the folder's entries durable: a new log file's name, a checkpoint's rename (see syncFolder). */
  private syncDir(): void {
    if (this.fsync) syncFolder(this.dir);
  }

  load(address: string): unknown[] {
    this.sync();
    const file = this.fileOf(address);
    // A checkpoint's copy a crash left half-written (between its open and its rename): never
    // read (the log beside it is whole, the old one), removed as its actor starts again.
    rmSync(tmpOf(file), { force: true });
    if (!existsSync(file)) return [];
    const bytes = readFileSync(file);
    const parsed = parseLog(this.packr, bytes, crc32);
    // Refused, not cut as a torn tail (see damagedLogError): the actor does not start (an
    // 'actor-error' at each try). Before, it was cut.
    if (parsed.recordsAfterDamage > 0) throw damagedLogError(file, address, parsed, bytes.byteLength);
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
    try {
      // A store that failed has nothing more it may write (see failed).
      if (this.failed === undefined) this.sync();
    } finally {
      for (const fd of this.fds.values()) closeSync(fd);
      this.fds.clear();
    }
  }
}

/**
 * Makes the entries of folder `dir` durable (a file made or renamed there). A file's fsync does
 * not promise its name (POSIX; file systems differ): until session 68 the store never synced its
 * folder, and a power loss after a checkpoint could bring back the log it replaced, without the
 * records fsynced since into the file now named so. A platform that cannot open a folder
 * (Windows: EISDIR, EPERM) has nothing to sync it with.
 */
export function syncFolder(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'EPERM') return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Where replace() writes a log's new contents before renaming them over it. */
function tmpOf(file: string): string {
  return `${file}.tmp`;
}

/** Bytes appended for one actor and not yet written; the buffer is kept and grows as needed. */
class PendingBytes {
  bytes = new Uint8Array(PENDING_BYTES_INITIAL);
  length = 0;

  private reserve(n: number): void {
    this.bytes = grownBytes(this.bytes, this.length, this.length + n);
  }

  /** A framed record as frameRecord made it. */
  add(frame: Uint8Array): void {
    this.reserve(frame.byteLength);
    this.bytes.set(frame, this.length);
    this.length += frame.byteLength;
  }

  /** Frames `body[0, end)` as frameRecord does: its length, its CRC-32, then the bytes. */
  addFramed(body: Uint8Array, end: number): void {
    this.reserve(RECORD_HEADER_BYTES + end);
    this.length = writeFrame(this.bytes, this.length, body, end);
  }

  /** Written (or replaced): empty again, and back to the initial size if a burst grew it past the bound. */
  clear(): void {
    this.length = 0;
    if (this.bytes.byteLength > PENDING_BYTES_KEPT_MAX) {
      this.bytes = new Uint8Array(PENDING_BYTES_INITIAL);
    }
  }
}

const PENDING_BYTES_INITIAL = 4 * 1024;
/** A pending buffer larger than this after a sync is dropped for a new initial one. */
const PENDING_BYTES_KEPT_MAX = 1024 * 1024;
