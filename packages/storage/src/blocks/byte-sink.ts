/**
 * A growable byte buffer written in place (the Parquet writer's output and its page scratch), and
 * the Thrift compact protocol on it for page headers and the footer (parquet-pages.ts). Written
 * for our fixed structures, field by field: the generic writers (hyparquet-writer's) infer a type
 * per value from `field_<n>` object keys, a cost per page and per footer entry.
 */

const encoder = new TextEncoder();

export class ByteSink {
  buf: Buffer;
  at = 0;

  constructor(capacity = 1 << 16) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Room for `n` more bytes (grown by doubling, contents kept). */
  ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  /** The bytes written (a view, valid until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.at++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.at);
    this.at += 4;
  }

  /** Unsigned LEB128 of a non-negative safe integer. */
  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.at++] = v;
  }

  /** Zigzag varint of a safe integer (Thrift i16/i32/i64). */
  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  append(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.at);
    this.at += bytes.length;
  }

  /**
   * The UTF-8 bytes of `s` (ASCII copied by a loop: most of our texts are short and ASCII, where a
   * native call per string costs more than the copy); returns the byte count.
   */
  utf8(s: string): number {
    const n = s.length;
    this.ensure(n * 3);
    const buf = this.buf;
    const start = this.at;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[start + i] = c;
    }
    if (i === n) {
      this.at = start + n;
      return n;
    }
    const rest = buf.write(s.slice(i), start + i, 'utf8');
    this.at = start + i + rest;
    return i + rest;
  }
}

/** Thrift compact protocol field types. */
export const T = { TRUE: 1, FALSE: 2, I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;

/**
 * A Thrift compact protocol struct writer: fields in increasing id order, nested structs on a
 * stack of last field ids.
 */
export class Thrift {
  private last = 0;
  private readonly stack: number[] = [];

  constructor(readonly out: ByteSink) {}

  private field(id: number, type: number): void {
    const delta = id - this.last;
    if (delta > 0 && delta <= 15) this.out.u8((delta << 4) | type);
    else {
      this.out.u8(type);
      this.out.zigzag(id);
    }
    this.last = id;
  }

  i32(id: number, v: number): void {
    this.field(id, T.I32);
    this.out.zigzag(v);
  }

  /** An i64 field (our values are sizes, offsets and counts: safe integers). */
  i64(id: number, v: number): void {
    this.field(id, T.I64);
    this.out.zigzag(v);
  }

  bool(id: number, v: boolean): void {
    this.field(id, v ? T.TRUE : T.FALSE);
  }

  binary(id: number, v: Uint8Array | string): void {
    this.field(id, T.BINARY);
    const bytes = typeof v === 'string' ? encoder.encode(v) : v;
    this.out.varint(bytes.length);
    this.out.append(bytes);
  }

  /** A list field header; then its `count` elements of `elem` type are written by the caller. */
  list(id: number, elem: number, count: number): void {
    this.field(id, T.LIST);
    this.listHeader(elem, count);
  }

  listHeader(elem: number, count: number): void {
    if (count < 15) this.out.u8((count << 4) | elem);
    else {
      this.out.u8(0xf0 | elem);
      this.out.varint(count);
    }
  }

  /** Opens a struct field (`id`) or, without an id, a struct element of a list. */
  begin(id?: number): void {
    if (id !== undefined) this.field(id, T.STRUCT);
    this.stack.push(this.last);
    this.last = 0;
  }

  end(): void {
    this.out.u8(0);
    this.last = this.stack.pop() ?? 0;
  }

  /** A list element of type i32. */
  elemI32(v: number): void {
    this.out.zigzag(v);
  }

  /** A list element of type binary. */
  elemBinary(v: string): void {
    const bytes = encoder.encode(v);
    this.out.varint(bytes.length);
    this.out.append(bytes);
  }
}
