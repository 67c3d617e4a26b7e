/**
 * The write-ahead log: an accepted request is appended here and fsynced before the server answers
 * 2xx. Appends that arrive while a write+fsync is under way wait and share the next one (group
 * commit), so the number of fsyncs follows disk speed, not request rate.
 *
 * The log is a series of segment files. The pipeline confirms records (in append order) once the
 * store holds them; fully confirmed segments are deleted and a checkpoint remembers the exact
 * position, so a restart replays only what the store has not confirmed.
 */
import { mkdir, open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { SEGMENT_HEADER, encodeRecordHeader, isRecordBoundary, scanSegment, type RecordInfo } from './wal-record.js';
import { listSegments, readCheckpoint, segmentPath, syncDirectory, writeCheckpoint, type Checkpoint } from './segment-files.js';

export interface WalOpenOptions {
  segmentBytes: number;
  /** Tags this log may hold; a record with another tag is treated as corruption on replay. */
  isValidTag: (tag: number) => boolean;
  /** Called after each group commit. */
  onFlush?: (records: number, bytes: number) => void;
}

export interface WalStats {
  segments: number;
  /** Bytes of log on disk (segments not yet deleted). */
  bytes: number;
  /** Records appended and fsynced since open. */
  records: number;
  fsyncs: number;
  /** Appended records the store has not confirmed yet. */
  unconfirmed: number;
  /** The last write or fsync failure, cleared by the next success. */
  lastError: Error | undefined;
  /** Set while the last append failed for want of space (disk full, quota): ingest is refused. */
  noSpace: boolean;
}

/** Errors that mean the file system has no room (or no write access) rather than a broken disk. */
const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS']);

export function isNoSpaceError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NO_SPACE_CODES.has(code);
}

/** A damaged stretch of a segment skipped on replay: at least one record lost. */
export interface DamagedRecord {
  segment: number;
  offset: number;
  bytes: number;
}

export interface ReplayReport {
  segments: number;
  records: number;
  /** Bytes after the last whole record of a segment: a torn write, dropped. */
  tornBytes: number;
  /** Stretches whose checksum failed; every good record after them was replayed. */
  damaged: DamagedRecord[];
  /** Set when the checkpoint pointed inside a record: that segment was replayed from its start. */
  misplacedCheckpoint?: Checkpoint;
}

/** Where a replayed record sits, and when its request arrived (when the writer recorded it). */
export interface ReplayedRecord extends RecordInfo {
  segment: number;
}

/** Buffers per writev call (Linux's IOV_MAX is 1024); always even, so a record is never split. */
const MAX_IOV = 1024;

async function writeFully(handle: FileHandle, bufs: Buffer[], position: number): Promise<void> {
  for (let i = 0; i < bufs.length; i += MAX_IOV) {
    const chunk = bufs.length <= MAX_IOV ? bufs : bufs.slice(i, i + MAX_IOV);
    let want = 0;
    for (const b of chunk) want += b.length;
    const { bytesWritten } = await handle.writev(chunk, position);
    position += bytesWritten;
    if (bytesWritten < want) {
      // Short writes are rare on regular files; finish the rest as one buffer.
      let rest = Buffer.concat(chunk).subarray(bytesWritten);
      while (rest.length > 0) {
        const r = await handle.write(rest, 0, rest.length, position);
        if (r.bytesWritten === 0) throw new Error('write-ahead log: the disk accepted no bytes');
        position += r.bytesWritten;
        rest = rest.subarray(r.bytesWritten);
      }
    }
  }
}

export class WriteAheadLog {
  /** Undefined only for a read-only log (`openReadOnly`), which never writes. */
  private handle: FileHandle | undefined;
  private readOnlyError: Error | undefined;
  private segment: number;
  private offset = 0;
  private needsRotate = false;
  private closed = false;
  /** Closed segments not yet deleted: id -> bytes of whole records. */
  private readonly closedSegments = new Map<number, number>();
  private replayIds: number[];
  private checkpoint: Checkpoint | undefined;

  // The group being gathered: header/payload pairs and their waiters.
  private queue: Buffer[] = [];
  private resolvers: (() => void)[] = [];
  private rejecters: ((error: Error) => void)[] = [];
  private flushing: Promise<void> | undefined;

  // Positions (segment, end offset) of fsynced records not yet confirmed, oldest at `posHead`.
  private posSegments: number[] = [];
  private posEnds: number[] = [];
  private posHead = 0;

  private housekeeping: Promise<void> = Promise.resolve();
  private housekeepingQueued = false;
  private records = 0;
  private fsyncs = 0;
  private lastError: Error | undefined;

  private constructor(
    readonly dir: string,
    private readonly options: WalOpenOptions,
    handle: FileHandle | undefined,
    segment: number,
    replayIds: number[],
    checkpoint: Checkpoint | undefined,
  ) {
    this.handle = handle;
    this.segment = segment;
    this.replayIds = replayIds;
    this.checkpoint = checkpoint;
  }

  /** Opens (creating) the log in `dir`, starting a fresh segment. Call `replay` next. */
  static async open(dir: string, options: WalOpenOptions): Promise<WriteAheadLog> {
    await mkdir(dir, { recursive: true });
    const existing = await listSegments(dir);
    const checkpoint = await readCheckpoint(dir);
    const id = Math.max(existing.at(-1) ?? 0, checkpoint?.segment ?? 0) + 1;
    const handle = await open(segmentPath(dir, id), 'w');
    await syncDirectory(dir);
    return new WriteAheadLog(dir, options, handle, id, existing, checkpoint);
  }

  /**
   * A log that cannot be written (the disk had no room at start-up): it creates no file, replays
   * nothing (what the previous run left stays for the next start that can write) and refuses every
   * append with `reason`, so that the server can still answer queries.
   */
  static openReadOnly(dir: string, options: WalOpenOptions, reason: Error): WriteAheadLog {
    const wal = new WriteAheadLog(dir, options, undefined, 0, [], undefined);
    const error = new Error(`started read-only: ${reason.message}; ingest resumes once space is free`) as NodeJS.ErrnoException;
    error.code = isNoSpaceError(reason) ? (reason as NodeJS.ErrnoException).code : 'ENOSPC';
    wal.readOnlyError = error;
    wal.lastError = error;
    return wal;
  }

  private get file(): FileHandle {
    if (this.handle === undefined) throw new Error('write-ahead log: read-only');
    return this.handle;
  }

  /**
   * Hands every record the store has not confirmed (from segments left by the previous run) to
   * `visit`, in log order, then deletes those segments. A torn tail is dropped; a damaged record is
   * skipped and reported, and the records after it are replayed. Records are replayed
   * at least once: the store must accept duplicates. `settle` runs after the last record and before
   * the segments are deleted: the caller's last batch must be stored by the time it resolves.
   */
  async replay(visit: (tag: number, payload: Buffer, record: ReplayedRecord) => Promise<void> | void, settle?: () => Promise<void>): Promise<ReplayReport> {
    const report: ReplayReport = { segments: 0, records: 0, tornBytes: 0, damaged: [] };
    if (this.readOnlyError !== undefined) return report;
    const cp = this.checkpoint;
    for (const id of this.replayIds) {
      if (cp !== undefined && id < cp.segment) continue;
      const buf = await readFile(segmentPath(this.dir, id));
      let start = 0;
      if (cp !== undefined && id === cp.segment) {
        // A checkpoint inside a record would make every later record unreadable: replay the whole
        // segment instead (the store merges the records it already holds).
        if (isRecordBoundary(buf, cp.offset, this.options.isValidTag)) start = cp.offset;
        else report.misplacedCheckpoint = cp;
      }
      const found: { tag: number; payload: Buffer; record: ReplayedRecord }[] = [];
      const scan = scanSegment(buf, start, this.options.isValidTag, (tag, payload, record) => {
        found.push({ tag, payload, record: { ...record, segment: id } });
      });
      report.segments++;
      report.tornBytes += scan.tornBytes;
      for (const d of scan.damaged) report.damaged.push({ segment: id, ...d });
      for (const r of found) {
        await visit(r.tag, r.payload, r.record);
        report.records++;
      }
    }
    if (settle !== undefined) await settle();
    for (const id of this.replayIds) await unlink(segmentPath(this.dir, id));
    if (this.replayIds.length > 0) await syncDirectory(this.dir);
    this.replayIds = [];
    this.checkpoint = { segment: this.segment, offset: 0 };
    await writeCheckpoint(this.dir, this.checkpoint);
    return report;
  }

  /** Resolves once the record is on disk (fsynced); rejects when the write or fsync failed. */
  append(tag: number, payload: Buffer, arrivedAtMs?: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('write-ahead log: closed'));
    if (this.readOnlyError !== undefined) return Promise.reject(this.readOnlyError);
    this.queue.push(encodeRecordHeader(tag, payload, arrivedAtMs), payload);
    const done = new Promise<void>((resolve, reject) => {
      this.resolvers.push(resolve);
      this.rejecters.push(reject);
    });
    this.flushing ??= this.flushLoop();
    return done;
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const bufs = this.queue;
      const resolvers = this.resolvers;
      const rejecters = this.rejecters;
      this.queue = [];
      this.resolvers = [];
      this.rejecters = [];
      try {
        if (this.needsRotate || this.offset >= this.options.segmentBytes) await this.rotate();
        // A segment gets its header with its first records, so an unused segment stays empty.
        if (this.offset === 0) bufs[0] = Buffer.concat([SEGMENT_HEADER, bufs[0]]);
        await writeFully(this.file, bufs, this.offset);
        await this.file.datasync();
      } catch (error) {
        this.lastError = error instanceof Error ? error : new Error(String(error));
        await this.discardFailedWrite();
        for (const reject of rejecters) reject(this.lastError);
        continue;
      }
      let end = this.offset;
      for (let i = 0; i < bufs.length; i += 2) {
        end += bufs[i].length + bufs[i + 1].length;
        this.posSegments.push(this.segment);
        this.posEnds.push(end);
      }
      this.options.onFlush?.(resolvers.length, end - this.offset);
      this.offset = end;
      this.records += resolvers.length;
      this.fsyncs++;
      this.lastError = undefined;
      for (const resolve of resolvers) resolve();
    }
    this.flushing = undefined;
  }

  /**
   * What reached the file after `offset` is unknown after a failed write: cut it off, so the segment
   * ends at its last fsynced record and the next append continues there (a full disk then costs no
   * new, empty segment per refused request). When even that fails, later records go to a fresh one.
   */
  private async discardFailedWrite(): Promise<void> {
    try {
      await this.file.truncate(this.offset);
    } catch {
      this.needsRotate = true;
    }
  }

  private async rotate(): Promise<void> {
    const next = this.segment + 1;
    const handle = await open(segmentPath(this.dir, next), 'w');
    try {
      await syncDirectory(this.dir);
    } catch (error) {
      await handle.close();
      throw error;
    }
    const old = this.file;
    this.closedSegments.set(this.segment, this.offset);
    this.handle = handle;
    this.segment = next;
    this.offset = 0;
    this.needsRotate = false;
    await old.close().catch(() => undefined);
    // A segment closed after its last record was confirmed is deletable at once.
    this.scheduleHousekeeping();
  }

  /** The store holds the next `count` records (in append order): advance the checkpoint. */
  confirm(count: number): void {
    if (count <= 0) return;
    const last = this.posHead + count - 1;
    if (last >= this.posEnds.length) throw new Error(`write-ahead log: confirm(${count}) past the ${this.posEnds.length - this.posHead} unconfirmed records`);
    this.checkpoint = { segment: this.posSegments[last], offset: this.posEnds[last] };
    this.posHead += count;
    if (this.posHead >= 4096 && this.posHead * 2 >= this.posEnds.length) {
      this.posSegments = this.posSegments.slice(this.posHead);
      this.posEnds = this.posEnds.slice(this.posHead);
      this.posHead = 0;
    }
    this.scheduleHousekeeping();
  }

  private scheduleHousekeeping(): void {
    if (this.housekeepingQueued) return;
    this.housekeepingQueued = true;
    this.housekeeping = this.housekeeping.then(() => this.houseKeep());
  }

  /** Saves the checkpoint and deletes segments whose every record is confirmed. Never rejects. */
  private async houseKeep(): Promise<void> {
    this.housekeepingQueued = false;
    const cp = this.checkpoint;
    if (cp === undefined) return;
    try {
      await writeCheckpoint(this.dir, cp);
      for (const [id, size] of this.closedSegments) {
        if (size === 0 || id < cp.segment || (id === cp.segment && size <= cp.offset)) {
          this.closedSegments.delete(id);
          await unlink(segmentPath(this.dir, id));
        }
      }
    } catch (error) {
      // Left for the next round: an undeleted segment is only replayed (and merged) again.
      this.lastError = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** The last append failed for want of space (cheap: read on every ingest request). */
  get noSpace(): boolean {
    return this.lastError !== undefined && isNoSpaceError(this.lastError);
  }

  stats(): WalStats {
    let bytes = this.offset;
    for (const size of this.closedSegments.values()) bytes += size;
    return {
      segments: this.closedSegments.size + 1,
      bytes,
      records: this.records,
      fsyncs: this.fsyncs,
      unconfirmed: this.posEnds.length - this.posHead,
      lastError: this.lastError,
      noSpace: this.noSpace,
    };
  }

  /** Waits for appends under way, saves the checkpoint and closes the file. Later appends reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing !== undefined) await this.flushing;
    this.scheduleHousekeeping();
    await this.housekeeping;
    await this.handle?.close();
  }
}
