/**
 * A minimal protobuf reader over a Uint8Array. Every read is bounds-checked against the end of the
 * enclosing message and throws CodecError on truncated or malformed input, so a decoder built on it
 * can never loop forever or let a RangeError escape.
 */
import { Buffer } from 'node:buffer';
import { CodecError } from './codec-error.js';

const FORMAT = 'otlp-proto';

/** Strings up to this many bytes go through the cache. */
const MAX_CACHED = 48;
const CACHE_SIZE = 4096;
/** Slot -> the ASCII string last decoded there ('' when empty): its bytes are its char codes, so no copy of them is kept. */
const cacheStrings: string[] = new Array<string>(CACHE_SIZE).fill('');

/** Node's Buffer decoders without `toString`'s argument checks (the reader checks its bounds itself). */
interface BufferSlices {
  utf8Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
}

export class ProtobufReader {
  readonly buf: Uint8Array;
  /** The same bytes as a Buffer (no copy), for native UTF-8 decoding and doubles. */
  private readonly nodeBuf: Buffer;
  private readonly slices: BufferSlices;
  pos = 0;
  /** Low / high 32 bits of the last 64-bit value read by varint64() or fixed64(). */
  lo = 0;
  hi = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.nodeBuf = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.slices = this.nodeBuf as unknown as BufferSlices;
  }

  private truncated(): never {
    throw new CodecError(FORMAT, `truncated or malformed message at byte ${this.pos}`);
  }

  /** A varint as an unsigned 32-bit number (higher bits, if any, are discarded as protobuf does). */
  uint32(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= end) this.truncated();
    let b = buf[pos++];
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let v = b & 0x7f;
    for (let shift = 7; shift < 70; shift += 7) {
      if (pos >= end) this.truncated();
      b = buf[pos++];
      if (shift < 32) v |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return v >>> 0;
      }
    }
    return this.truncated(); // more than 10 bytes
  }

  /** A varint into lo / hi. */
  varint64(end: number): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) this.truncated();
      const b = buf[pos++];
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (i * 7);
      else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (i * 7 - 32);
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    this.truncated();
  }

  /** A signed int64 varint as a number (exact up to 2^53). */
  int64(end: number): number {
    this.varint64(end);
    const { lo, hi } = this;
    if (hi & 0x80000000) return -((~hi >>> 0) * 4294967296 + ((~lo >>> 0) + 1));
    return hi * 4294967296 + lo;
  }

  /** A fixed64 into lo / hi. */
  fixed64(end: number): void {
    const pos = this.pos;
    if (pos + 8 > end) this.truncated();
    const buf = this.buf;
    this.lo = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0;
    this.hi = (buf[pos + 4] | (buf[pos + 5] << 8) | (buf[pos + 6] << 16) | (buf[pos + 7] << 24)) >>> 0;
    this.pos = pos + 8;
  }

  double(end: number): number {
    if (this.pos + 8 > end) this.truncated();
    const v = this.nodeBuf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads a length prefix and returns the end of the value it announces (checked against `end`). */
  lengthEnd(end: number): number {
    const len = this.uint32(end);
    const valueEnd = this.pos + len;
    if (valueEnd > end) this.truncated();
    return valueEnd;
  }

  /**
   * UTF-8 text of [start, end). Short strings (attribute keys, enum-like values, service names) repeat
   * across the spans of a request, so they come from a small cache: the same string instance is
   * returned for the same bytes, which saves the allocation and lets V8 share object shapes. Only
   * ASCII strings are cached (their char codes are their bytes, so a hit is checked against the
   * string itself and a miss allocates nothing but the string).
   */
  string(start: number, end: number): string {
    const len = end - start;
    if (len === 0) return '';
    if (len > MAX_CACHED) return this.slices.utf8Slice(start, end);
    const buf = this.buf;
    let h = len;
    let high = 0;
    for (let i = start; i < end; i++) {
      const b = buf[i];
      high |= b;
      h = Math.imul(h ^ b, 0x01000193);
    }
    if (high >= 0x80) return this.slices.utf8Slice(start, end);
    const slot = (h >>> 0) & (CACHE_SIZE - 1);
    const cached = cacheStrings[slot];
    if (cached.length === len) {
      let i = 0;
      while (i < len && cached.charCodeAt(i) === buf[start + i]) i++;
      if (i === len) return cached;
    }
    const s = this.slices.utf8Slice(start, end);
    cacheStrings[slot] = s;
    return s;
  }

  /** Lowercase hex of [start, end) (ids). */
  hex(start: number, end: number): string {
    return this.slices.hexSlice(start, end);
  }

  /** Skips one field value of the given wire type. */
  skip(wireType: number, end: number): void {
    switch (wireType) {
      case 0:
        this.varint64(end);
        return;
      case 1:
        if (this.pos + 8 > end) this.truncated();
        this.pos += 8;
        return;
      case 2:
        this.pos = this.lengthEnd(end);
        return;
      case 5:
        if (this.pos + 4 > end) this.truncated();
        this.pos += 4;
        return;
      default:
        throw new CodecError(FORMAT, `unsupported wire type ${wireType} at byte ${this.pos}`);
    }
  }
}
