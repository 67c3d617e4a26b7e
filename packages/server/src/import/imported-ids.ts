/**
 * Ids for traces imported from files whose ids are not Linktrace's (the Alibaba call-graph data has
 * 26-30 hex trace ids and no span ids). The mapping is a pure function of the file's values, so
 * importing a file twice, or importing its rows in pieces, yields the same ids, and
 * `linktrace trace <id as in the file>` finds the trace.
 */

import { stringHash32 } from '@linktrace/model';

const HEX = /^[0-9a-f]{1,32}$/;
const ZEROS = '00000000000000000000000000000000';


const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** 8 hex digits; table lookups because toString(16) + padStart dominated the import profile. */
function hex8(n: number): string {
  return BYTE_HEX[n >>> 24]! + BYTE_HEX[(n >>> 16) & 255]! + BYTE_HEX[(n >>> 8) & 255]! + BYTE_HEX[n & 255]!;
}

/** 16 hex digits derived from `text`, never all zero. */
export function hashedId64(text: string): string {
  const id = hex8(stringHash32(text, 0x811c9dc5)) + hex8(stringHash32(text, 0x2f9be6cd));
  return id === ZEROS.slice(0, 16) ? '0000000000000001' : id;
}

/** 32 hex digits derived from `text`, never all zero. */
export function hashedId128(text: string): string {
  return hashedId64(text) + hashedId64(`\u0001${text}`);
}

/**
 * A file's trace id as a Linktrace trace id: hex of up to 32 digits is kept, lowercased and
 * left-padded with zeros to 16 or 32 digits (as Zipkin pads); anything else is hashed to 32 hex.
 */
export function importedTraceId(raw: string): string {
  const t = raw.trim().toLowerCase();
  if (HEX.test(t)) {
    const width = t.length <= 16 ? 16 : 32;
    const id = ZEROS.slice(0, width - t.length) + t;
    if (id !== ZEROS.slice(0, width)) return id;
  }
  return hashedId128(t);
}

/** The span id of the call at position `rpcid` of a trace: the same for both halves of the call. */
export function positionSpanId(traceId: string, rpcid: string): string {
  return hashedId64(`${traceId}/${rpcid}`);
}
