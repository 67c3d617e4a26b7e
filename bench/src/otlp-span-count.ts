/**
 * The number of spans in an OTLP ExportTraceServiceRequest (protobuf), found by stepping over
 * length-delimited fields — resource_spans (1) → scope_spans (2) → spans (2) — without decoding
 * any of them: a few varint reads per span and no allocation. -1 when the bytes are not a
 * well-formed message.
 */

/** Position after the last varint read (module state instead of a result object per read). */
let next = 0;

/** The varint at `pos` (next set past it), or -1 when it runs past `end`. */
function varint(buf: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let scale = 1;
  while (pos < end && scale < 2 ** 63) {
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      next = pos;
      return value;
    }
    scale *= 128;
  }
  return -1;
}

/**
 * Occurrences of length-delimited field `field` in the message at buf[start, end), each counted
 * as `inner` of its contents when given (else 1); -1 when the bytes do not parse.
 */
function countField(buf: Uint8Array, start: number, end: number, field: number, inner?: (buf: Uint8Array, s: number, e: number) => number): number {
  let count = 0;
  let pos = start;
  while (pos < end) {
    const tag = varint(buf, pos, end);
    if (tag < 0) return -1;
    pos = next;
    const wire = tag % 8;
    if (wire === 0) {
      if (varint(buf, pos, end) < 0) return -1;
      pos = next;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = varint(buf, pos, end);
      if (len < 0 || next + len > end) return -1;
      pos = next;
      if (Math.floor(tag / 8) === field) {
        const n = inner === undefined ? 1 : inner(buf, pos, pos + len);
        if (n < 0) return -1;
        count += n;
      }
      pos += len;
    } else return -1;
  }
  return pos === end ? count : -1;
}

const spansOfScope = (buf: Uint8Array, s: number, e: number): number => countField(buf, s, e, 2);
const spansOfResource = (buf: Uint8Array, s: number, e: number): number => countField(buf, s, e, 2, spansOfScope);

export function countOtlpSpans(body: Uint8Array): number {
  return countField(body, 0, body.length, 1, spansOfResource);
}
