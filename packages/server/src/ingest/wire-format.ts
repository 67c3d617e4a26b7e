/**
 * The wire formats the receivers accept, as the one-byte tags the write-ahead log stores with each
 * request body (so that recovery decodes a record exactly as the receiver did).
 */
import { isAscii } from 'node:buffer';
import { decodeNativeJson, decodeOtlpJson, decodeOtlpProto, decodeZipkinJson, type DecodeResult } from '@linktrace/model';

export const WIRE_FORMAT = {
  otlpJson: 1,
  otlpProto: 2,
  zipkinJson: 3,
  nativeJson: 4,
} as const;
export type WireFormat = (typeof WIRE_FORMAT)[keyof typeof WIRE_FORMAT];

/** Set on a tag when the stored body is gzip-compressed as it arrived. */
export const GZIP_FLAG = 0x80;

export function isWireFormat(value: number): value is WireFormat {
  return value >= WIRE_FORMAT.otlpJson && value <= WIRE_FORMAT.nativeJson;
}

/** A body that is not the format claimed: the receiver answers `invalid_json` or `invalid_payload`. */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';

  constructor(
    readonly kind: 'json' | 'payload',
    message: string,
  ) {
    super(message);
  }
}

const UTF8_BOM = 0xfeff;

/** Node's Latin-1 decoder without `toString`'s argument checks. */
interface Latin1Slice {
  latin1Slice(start: number, end: number): string;
}

/**
 * The body as text. Trace JSON is nearly always pure ASCII, whose UTF-8 and Latin-1 readings are
 * the same string: checked first (a vectorised scan), it is copied as Latin-1 at several GB/s
 * instead of being decoded as UTF-8 at ~250 MB/s (measured on bench:ingest's OTLP JSON bodies,
 * ~960 bytes a span: ~4 µs per span saved; JSON.parse itself takes ~5.5). Anything else is decoded
 * as UTF-8, as before.
 */
export function bodyText(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return isAscii(buf) ? (buf as unknown as Latin1Slice).latin1Slice(0, buf.length) : buf.toString('utf8');
}

function parseJson(bytes: Uint8Array): unknown {
  let text = bodyText(bytes);
  if (text.charCodeAt(0) === UTF8_BOM) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PayloadError('json', `the body is not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Decodes an uncompressed body. Throws PayloadError for a body the format cannot use; any other
 * exception from a decoder is also the payload's fault (it is the only input), so it becomes one too.
 */
export function decodeBody(format: WireFormat, bytes: Uint8Array): DecodeResult {
  const body = format === WIRE_FORMAT.otlpProto ? bytes : parseJson(bytes);
  try {
    switch (format) {
      case WIRE_FORMAT.otlpJson:
        return decodeOtlpJson(body);
      case WIRE_FORMAT.otlpProto:
        return decodeOtlpProto(bytes);
      case WIRE_FORMAT.zipkinJson:
        return decodeZipkinJson(body);
      case WIRE_FORMAT.nativeJson:
        return decodeNativeJson(body);
    }
  } catch (error) {
    throw new PayloadError('payload', error instanceof Error ? error.message : String(error));
  }
}
