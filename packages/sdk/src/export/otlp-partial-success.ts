/** What an OTLP server reports in `ExportTraceServiceResponse.partial_success`. */
export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/**
 * Reads the partial-success part of an OTLP/HTTP answer, JSON or protobuf. Returns undefined when it
 * is absent, empty (0 rejected, no message: a full success by the spec) or unreadable: a 2xx answer
 * is a success whatever its body says.
 */
export function parsePartialSuccess(body: Uint8Array, contentType: string | undefined, sentProtobuf: boolean): PartialSuccess | undefined {
  if (body.length === 0) return undefined;
  const isJson = contentType !== undefined ? /json/i.test(contentType) : !sentProtobuf;
  const found = isJson ? fromJson(body) : fromProtobuf(body);
  if (found === undefined || (found.rejectedSpans === 0 && found.errorMessage === '')) return undefined;
  return found;
}

function fromJson(body: Uint8Array): PartialSuccess | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const raw = (parsed as Record<string, unknown>)['partialSuccess'] ?? (parsed as Record<string, unknown>)['partial_success'];
  if (typeof raw !== 'object' || raw === null) return undefined;
  const p = raw as Record<string, unknown>;
  // Proto3 JSON writes int64 as a string; accept a number too.
  const rejected = Number(p['rejectedSpans'] ?? p['rejected_spans'] ?? 0);
  const message = p['errorMessage'] ?? p['error_message'] ?? '';
  return {
    rejectedSpans: Number.isFinite(rejected) && rejected >= 0 ? rejected : 0,
    errorMessage: typeof message === 'string' ? message : '',
  };
}

/**
 * Just enough protobuf to read `ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1 }`
 * and `ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2 }`, skipping anything else.
 */
function fromProtobuf(body: Uint8Array): PartialSuccess | undefined {
  const outer = readFields(body);
  const inner = outer?.get(1);
  if (!(inner instanceof Uint8Array)) return undefined;
  const fields = readFields(inner);
  if (fields === undefined) return undefined;
  const rejected = fields.get(1);
  const message = fields.get(2);
  return {
    rejectedSpans: typeof rejected === 'number' ? rejected : 0,
    errorMessage: message instanceof Uint8Array ? Buffer.from(message).toString('utf8') : '',
  };
}

/** Field number -> last value (varint as number, length-delimited as bytes); undefined when malformed. */
function readFields(buf: Uint8Array): Map<number, number | Uint8Array> | undefined {
  const out = new Map<number, number | Uint8Array>();
  let pos = 0;
  const varint = (): number | undefined => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) return undefined;
      const byte = buf[pos++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    return undefined;
  };
  while (pos < buf.length) {
    const key = varint();
    if (key === undefined) return undefined;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const v = varint();
      if (v === undefined) return undefined;
      out.set(field, v);
    } else if (wire === 2) {
      const len = varint();
      if (len === undefined || pos + len > buf.length) return undefined;
      out.set(field, buf.subarray(pos, pos + len));
      pos += len;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
      if (pos > buf.length) return undefined;
    } else {
      return undefined;
    }
  }
  return out;
}
