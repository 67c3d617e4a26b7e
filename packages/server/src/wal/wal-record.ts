/**
 * One write-ahead-log record: `[u32 LE payload length][u32 LE crc][u8 tag][payload]`. The CRC-32
 * covers the length field, the tag and the payload, so a torn write (a crash mid-append), a zeroed
 * tail or a flipped bit ends the readable log at the last whole record.
 */
import { crc32 } from './crc32.js';

export const RECORD_HEADER_BYTES = 9;

/** Larger is corruption: no request body comes near it. */
export const MAX_RECORD_BYTES = 1024 * 1024 * 1024;

/** The header for a payload; the payload itself is written as it is, after it (no copy). */
export function encodeRecordHeader(tag: number, payload: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  header[8] = tag;
  let crc = crc32(header.subarray(0, 4));
  crc = crc32(header.subarray(8, 9), crc);
  header.writeUInt32LE(crc32(payload, crc), 4);
  return header;
}

export type RecordVisitor = (tag: number, payload: Buffer, end: number) => void;

/**
 * Visits the whole records of `buf` from `start`, in order, while their checksums hold. Returns the
 * offset just past the last good record: `buf.length` for an intact log, less for a torn tail.
 * `isValidTag` rejects a tag the reader does not know (corruption that happens to checksum).
 */
export function scanRecords(buf: Buffer, start: number, isValidTag: (tag: number) => boolean, visit: RecordVisitor): number {
  let pos = start;
  while (pos + RECORD_HEADER_BYTES <= buf.length) {
    const length = buf.readUInt32LE(pos);
    const end = pos + RECORD_HEADER_BYTES + length;
    if (length > MAX_RECORD_BYTES || end > buf.length) break;
    let crc = crc32(buf.subarray(pos, pos + 4));
    crc = crc32(buf.subarray(pos + 8, end), crc);
    if (crc !== buf.readUInt32LE(pos + 4)) break;
    const tag = buf[pos + 8];
    if (!isValidTag(tag)) break;
    visit(tag, buf.subarray(pos + RECORD_HEADER_BYTES, end), end);
    pos = end;
  }
  return pos;
}
