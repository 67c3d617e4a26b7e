/**
 * Parsed JSON values from trace files -> model spans, through the model's own decoders (so every
 * span is checked exactly as the receivers check it). A value may be an OTLP/HTTP JSON request, a
 * Zipkin v2 span array or single span, a native `linktrace/1` batch or span, or one record of the
 * SDK's JSON-lines exporter.
 */
import {
  CodecError,
  NATIVE_FORMAT,
  decodeNativeJson,
  decodeOtlpJson,
  decodeZipkinJson,
  type DecodeResult,
} from '@linktrace/model';

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON null -> absent. */
function setIf(out: Obj, key: string, v: unknown): void {
  if (v !== null && v !== undefined) out[key] = v;
}

function hasKeys(o: unknown): boolean {
  if (!isObject(o)) return false;
  for (const _ in o) return true;
  return false;
}

/**
 * A JSON-lines exporter record (see the SDK's json-line-record.ts: every field present, `null` for
 * none, `status` a string) -> a native span for the native decoder.
 */
export function nativeSpanFromJsonLine(r: Obj): Obj {
  const out: Obj = {
    traceId: r.traceId,
    spanId: r.spanId,
    service: r.service,
    name: r.name,
    kind: r.kind,
    startUs: r.startUs,
  };
  setIf(out, 'parentSpanId', r.parentSpanId);
  setIf(out, 'rpcid', r.rpcid);
  setIf(out, 'instance', r.instance);
  setIf(out, 'durationUs', r.durationUs);
  if (r.status !== undefined && r.status !== null) {
    const status: Obj = { code: r.status };
    setIf(status, 'message', r.statusMessage);
    out.status = status;
  }
  setIf(out, 'attributes', r.attributes);
  setIf(out, 'events', r.events);
  setIf(out, 'links', r.links);
  if (hasKeys(r.resource)) out.resource = r.resource;
  if (typeof r.scope === 'string') {
    const scope: Obj = { name: r.scope };
    setIf(scope, 'version', r.scopeVersion);
    out.scope = scope;
  }
  const remote: Obj = {};
  setIf(remote, 'service', r.remoteService);
  if (typeof r.remoteAddress === 'string') remote[r.remoteAddress.includes(':') ? 'ipv6' : 'ipv4'] = r.remoteAddress;
  setIf(remote, 'port', r.remotePort);
  if (hasKeys(remote)) out.remote = remote;
  return out;
}

function isJsonLineRecord(o: Obj): boolean {
  return typeof o.status === 'string' || '@timestamp' in o || 'startRecord' in o;
}

/**
 * Decodes one parsed value, or throws CodecError when it is none of the known shapes (or a payload
 * as a whole is malformed). Spans rejected inside a valid payload are counted in the result.
 */
export function decodeJsonValue(value: unknown): DecodeResult {
  if (Array.isArray(value)) return decodeZipkinJson(value);
  if (!isObject(value)) throw new CodecError('json', 'not a JSON object or array');
  if ('resourceSpans' in value) return decodeOtlpJson(value);
  if (value.format === NATIVE_FORMAT) return decodeNativeJson(value);
  if ('spanId' in value && 'startUs' in value) {
    const span = isJsonLineRecord(value) ? nativeSpanFromJsonLine(value) : value;
    return decodeNativeJson({ format: NATIVE_FORMAT, spans: [span] });
  }
  if ('traceId' in value && 'id' in value) return decodeZipkinJson([value]);
  throw new CodecError('json', 'not a span: expected OTLP JSON (resourceSpans), Zipkin v2 JSON, a linktrace/1 batch or a JSON-lines span record');
}
