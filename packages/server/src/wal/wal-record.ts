/**
 * Write-ahead-log records. A segment written by this version starts with `SEGMENT_HEADER` (magic +
 * format version 2) and holds records
 *
 *   `[u32 sync marker][u32 LE payload length][u32 LE crc][u8 tag][f64 LE arrival ms][payload]`
 *
 * The CRC-32 covers length, tag, arrival time and payload. The sync marker lets a reader that meets
 * a damaged record scan forward to the next record whose checksum holds, so one bad record costs
 * only itself. The arrival time (ms since the epoch, 0 = not recorded) is carried for replay.
 *
 * Segments without the header are version 1 (`[u32 LE length][u32 LE crc][u8 tag][payload]`, CRC
 * over length, tag and payload): still read, never written. Their first four bytes can never equal
 * the version-2 magic: read as a v1 length, the magic is over MAX_RECORD_BYTES.
 */
import { crc32 } from './crc32.js';

/** `\x89LTWAL\r` + format version. */
export const SEGMENT_HEADER = Buffer.from([0x89, 0x4c, 0x54, 0x57, 0x41, 0x4c, 0x0d, 0x02]);
export const SEGMENT_HEADER_BYTES = SEGMENT_HEADER.length;

/** Chosen to be rare in protobuf and JSON bodies; a false match still has to pass the CRC. */
const SYNC_MARKER = Buffer.from([0xfe, 0x4c, 0x54, 0xd5]);
export const RECORD_HEADER_BYTES = 21;
const V1_HEADER_BYTES = 9;

/** Larger is corruption: no request body comes near it. */
export const MAX_RECORD_BYTES = 1024 * 1024 * 1024;

/** The header for a payload; the payload itself is written as it is, after it (no copy). */
export function encodeRecordHeader(tag: number, payload: Uint8Array, arrivedAtMs = 0): Buffer {
  const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  SYNC_MARKER.copy(header, 0);
  header.writeUInt32LE(payload.length, 4);
  header[12] = tag;
  header.writeDoubleLE(arrivedAtMs, 13);
  let crc = crc32(header.subarray(4, 8));
  crc = crc32(header.subarray(12, RECORD_HEADER_BYTES), crc);
  header.writeUInt32LE(crc32(payload, crc), 8);
  return header;
}

export interface RecordInfo {
  /** Offset of the record in its segment, and just past it. */
  offset: number;
  end: number;
  /** When the record's request arrived (ms since the epoch), when the writer recorded it. */
  arrivedAtMs: number | undefined;
}

export type RecordVisitor = (tag: number, payload: Buffer, record: RecordInfo) => void;

/**
 * A stretch of a segment that failed its checksum and was skipped: one record, or several adjacent
 * ones when a damaged header hid where the first ended.
 */
export interface DamagedStretch {
  offset: number;
  bytes: number;
}

export interface SegmentScan {
  damaged: DamagedStretch[];
  /** Bytes after the last whole record that do not form a record: a write cut short by a crash. */
  tornBytes: number;
}

function isVersion2(buf: Buffer): boolean {
  return buf.length >= SEGMENT_HEADER_BYTES && buf.subarray(0, SEGMENT_HEADER_BYTES).equals(SEGMENT_HEADER);
}

/** The end of the v2 record at `pos` when it is whole and its checksum holds, else -1. */
function recordEndV2(buf: Buffer, pos: number, isValidTag: (tag: number) => boolean): number {
  if (pos + RECORD_HEADER_BYTES > buf.length || buf.compare(SYNC_MARKER, 0, 4, pos, pos + 4) !== 0) return -1;
  const length = buf.readUInt32LE(pos + 4);
  const end = pos + RECORD_HEADER_BYTES + length;
  if (length > MAX_RECORD_BYTES || end > buf.length || !isValidTag(buf[pos + 12])) return -1;
  const crc = crc32(buf.subarray(pos + 12, end), crc32(buf.subarray(pos + 4, pos + 8)));
  return crc === buf.readUInt32LE(pos + 8) ? end : -1;
}

function recordEndV1(buf: Buffer, pos: number, isValidTag: (tag: number) => boolean): number {
  if (pos + V1_HEADER_BYTES > buf.length) return -1;
  const length = buf.readUInt32LE(pos);
  const end = pos + V1_HEADER_BYTES + length;
  if (length > MAX_RECORD_BYTES || end > buf.length || !isValidTag(buf[pos + 8])) return -1;
  const crc = crc32(buf.subarray(pos + 8, end), crc32(buf.subarray(pos, pos + 4)));
  return crc === buf.readUInt32LE(pos + 4) ? end : -1;
}

/**
 * Where the damaged v2 record at `pos` ends when its header still holds (its marker, and a length
 * that lands on the next marker or the end of the segment), else -1. Such a record is skipped whole,
 * so its payload (which a sender chose) is never searched for markers; only a record whose header
 * is damaged makes the reader scan.
 */
function wholeRecordEnd(buf: Buffer, pos: number): number {
  if (pos + RECORD_HEADER_BYTES > buf.length || buf.compare(SYNC_MARKER, 0, 4, pos, pos + 4) !== 0) return -1;
  const length = buf.readUInt32LE(pos + 4);
  const end = pos + RECORD_HEADER_BYTES + length;
  if (length > MAX_RECORD_BYTES || end > buf.length) return -1;
  return end === buf.length || (end + 4 <= buf.length && buf.compare(SYNC_MARKER, 0, 4, end, end + 4) === 0) ? end : -1;
}

/**
 * Whether a checkpoint offset falls between records of segment `buf`: at its start, at its end, or
 * at a whole record. Anything else (mid-record, past the end) means the checkpoint is wrong.
 */
export function isRecordBoundary(buf: Buffer, offset: number, isValidTag: (tag: number) => boolean): boolean {
  if (offset === 0 || offset === buf.length) return true;
  if (isVersion2(buf)) return offset === SEGMENT_HEADER_BYTES || recordEndV2(buf, offset, isValidTag) !== -1;
  return recordEndV1(buf, offset, isValidTag) !== -1;
}

/**
 * Visits the whole records of segment `buf` from `start` (a record boundary), in order. In a v2
 * segment a damaged record is skipped up to the next record whose checksum holds; a v1 segment ends
 * at its first bad record, as it always did. `isValidTag` rejects a tag the reader does not know
 * (corruption that happens to checksum).
 */
export function scanSegment(buf: Buffer, start: number, isValidTag: (tag: number) => boolean, visit: RecordVisitor): SegmentScan {
  const damaged: DamagedStretch[] = [];
  if (!isVersion2(buf)) {
    let pos = start;
    for (let end = recordEndV1(buf, pos, isValidTag); end !== -1; end = recordEndV1(buf, pos, isValidTag)) {
      visit(buf[pos + 8], buf.subarray(pos + V1_HEADER_BYTES, end), { offset: pos, end, arrivedAtMs: undefined });
      pos = end;
    }
    return { damaged, tornBytes: buf.length - pos };
  }
  let pos = Math.max(start, SEGMENT_HEADER_BYTES);
  while (pos < buf.length) {
    const end = recordEndV2(buf, pos, isValidTag);
    if (end !== -1) {
      const arrived = buf.readDoubleLE(pos + 13);
      visit(buf[pos + 12], buf.subarray(pos + RECORD_HEADER_BYTES, end), { offset: pos, end, arrivedAtMs: arrived > 0 ? arrived : undefined });
      pos = end;
      continue;
    }
    let next = wholeRecordEnd(buf, pos);
    if (next === buf.length) {
      damaged.push({ offset: pos, bytes: buf.length - pos });
      return { damaged, tornBytes: 0 };
    }
    if (next === -1) {
      next = buf.indexOf(SYNC_MARKER, pos + 1);
      while (next !== -1 && recordEndV2(buf, next, isValidTag) === -1) next = buf.indexOf(SYNC_MARKER, next + 1);
    }
    if (next !== -1) {
      damaged.push({ offset: pos, bytes: next - pos });
      pos = next;
      continue;
    }
    // Nothing good follows: what is left is a write a crash cut short.
    return { damaged, tornBytes: buf.length - pos };
  }
  return { damaged, tornBytes: 0 };
}
