/**
 * A minimal protobuf writer: varints, fixed 32/64-bit values, doubles, strings, bytes and nested
 * (length-delimited) messages. A nested message reserves one length byte, which covers nearly every
 * span-sized message; when a message turns out longer than 127 bytes its body is moved right by the
 * few extra bytes the length needs, so sizes never have to be computed in a separate pass.
 */
import { Buffer } from 'node:buffer';
import { hexToBytesInto } from './hex.js';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

export class ProtobufWriter {
  private buf: Buffer;
  private pos = 0;
  /** Positions of the reserved length byte of each open nested message. */
  private readonly open: number[] = [];

  constructor(initialSize = 4096) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** An unsigned 32-bit varint (no tag). */
  uint32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    v >>>= 0;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  tag(field: number, wire: number): void {
    this.uint32((field << 3) | wire);
  }

  /** A 64-bit varint from its unsigned 32-bit halves. */
  private varint64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (hi > 0 || lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  /** An int64 varint field (two's complement for negatives) from an integral number below 2^63. */
  int64Field(field: number, n: number): void {
    this.tag(field, WIRE_VARINT);
    if (n >= 0 && n < TWO_32) {
      this.varint64(n >>> 0, 0);
      return;
    }
    const m = Math.abs(n);
    let lo = m % TWO_32 >>> 0;
    let hi = Math.floor(m / TWO_32) >>> 0;
    if (n < 0) {
      lo = (~lo + 1) >>> 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    }
    this.varint64(lo, hi);
  }

  uint32Field(field: number, v: number): void {
    this.tag(field, WIRE_VARINT);
    this.uint32(v);
  }

  boolField(field: number, v: boolean): void {
    this.tag(field, WIRE_VARINT);
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  fixed64Field(field: number, lo: number, hi: number): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    // Byte stores instead of writeUInt32LE, whose argument checks cost more than the write.
    const buf = this.buf;
    const pos = this.pos;
    buf[pos] = lo;
    buf[pos + 1] = lo >>> 8;
    buf[pos + 2] = lo >>> 16;
    buf[pos + 3] = lo >>> 24;
    buf[pos + 4] = hi;
    buf[pos + 5] = hi >>> 8;
    buf[pos + 6] = hi >>> 16;
    buf[pos + 7] = hi >>> 24;
    this.pos = pos + 8;
  }

  doubleField(field: number, v: number): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  stringField(field: number, s: string): void {
    this.tag(field, WIRE_LEN);
    const n = s.length;
    if (n < 43) {
      // At most 3 UTF-8 bytes per UTF-16 unit: the length fits one byte.
      this.ensure(1 + n * 3);
      const buf = this.buf;
      const lenPos = this.pos;
      let pos = lenPos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[pos++] = c;
      }
      if (i < n) pos = lenPos + 1 + buf.write(s, lenPos + 1, 'utf8');
      buf[lenPos] = pos - lenPos - 1;
      this.pos = pos;
      return;
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.uint32(len);
    this.ensure(len);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += len;
  }

  /**
   * A whole OTLP KeyValue message as field `field` (< 16): `{1: key, 2: AnyValue{1: value}}` for a
   * string value, `{…, 2: AnyValue{3: value}}` for an integer in 0..2^31-1. Attributes are most of a
   * span's bytes and nearly all are short ASCII, so this writes them in one pass with every length
   * known in advance (one byte each) instead of nesting two messages. Returns false, having written
   * nothing, when a string is not ASCII or the message would not fit lengths of one byte.
   */
  shortKeyValue(field: number, key: string, value: string | number): boolean {
    const kLen = key.length;
    let vLen: number;
    if (typeof value === 'string') {
      vLen = value.length;
      if (kLen + vLen > 121) return false;
    } else {
      if (!(value >= 0 && value <= 0x7fffffff) || value !== Math.floor(value)) return false;
      vLen = varintSize(value);
      if (kLen + vLen > 122) return false;
    }
    this.ensure(kLen + vLen + 8);
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    buf[pos++] = (field << 3) | WIRE_LEN;
    pos++; // the KeyValue's length, written last
    buf[pos++] = 0x0a; // key: field 1, LEN
    buf[pos++] = kLen;
    for (let i = 0; i < kLen; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) return false;
      buf[pos++] = c;
    }
    buf[pos++] = 0x12; // value: field 2, LEN
    if (typeof value === 'string') {
      buf[pos++] = vLen + 2;
      buf[pos++] = 0x0a; // AnyValue.string_value: field 1, LEN
      buf[pos++] = vLen;
      for (let i = 0; i < vLen; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) return false;
        buf[pos++] = c;
      }
    } else {
      buf[pos++] = vLen + 1;
      buf[pos++] = 0x18; // AnyValue.int_value: field 3, VARINT
      let v = value;
      while (v > 0x7f) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
    }
    buf[start + 1] = pos - start - 2;
    this.pos = pos;
    return true;
  }

  bytesField(field: number, bytes: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.uint32(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A bytes field holding the binary form of a hex id. */
  hexField(field: number, hex: string): void {
    const len = hex.length >>> 1;
    this.tag(field, WIRE_LEN);
    this.ensure(1 + len);
    this.buf[this.pos++] = len;
    hexToBytesInto(hex, this.buf, this.pos);
    this.pos += len;
  }

  /** Opens a nested message as field `field`; close it with end(). */
  begin(field: number): void {
    this.tag(field, WIRE_LEN);
    this.ensure(1);
    this.open.push(this.pos);
    this.pos++;
  }

  end(): void {
    const start = this.open.pop() as number;
    const len = this.pos - start - 1;
    if (len < 0x80) {
      this.buf[start] = len;
      return;
    }
    const extra = varintSize(len) - 1;
    this.ensure(extra);
    const buf = this.buf;
    buf.copyWithin(start + 1 + extra, start + 1, this.pos);
    let v = len;
    let p = start;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
    this.pos += extra;
  }

  /** The encoded bytes (a view of the writer's buffer; the writer must not be used afterwards). */
  finish(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos);
  }
}
