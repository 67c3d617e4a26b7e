/**
 * Getters and setters that let every propagator read and write the carriers a Node service meets:
 * HTTP header objects, AMQP and NATS message headers, gRPC metadata and URL query parameters.
 * Propagators ask for lowercase names; getters match names exactly first and then in any case,
 * because other tracers write `X-B3-TraceId` or `Traceparent` into case-sensitive carriers.
 * Getters never throw on a malformed carrier (they return undefined); setters write what they are given.
 */
import type { Propagated, Propagator, TextMapGetter, TextMapSetter } from '../types.js';

/** Node's IncomingHttpHeaders / OutgoingHttpHeaders, or any plain object of header name to value. */
export type HeaderRecord = Record<string, string | string[] | number | undefined>;

/** Node's OutgoingMessage (ClientRequest, ServerResponse): headers live behind methods. */
export interface HeaderMethods {
  getHeader(name: string): number | string | string[] | undefined;
  setHeader(name: string, value: string): unknown;
  getHeaderNames(): string[];
}

export type HttpHeaderCarrier = HeaderRecord | HeaderMethods;

/** AMQP (amqplib `properties.headers`): values may be strings, Buffers or numbers. */
export type AmqpHeaders = Record<string, unknown>;

/** The shape of nats.js `MsgHdrs` and of WHATWG fetch `Headers`; no dependency on either package. */
export interface GetSetHeaders {
  get(key: string): string | null | undefined;
  set(key: string, value: string): void;
  keys(): Iterable<string>;
}

/** The shape of @grpc/grpc-js `Metadata`. */
export interface GrpcMetadataLike {
  get(key: string): Array<string | Uint8Array>;
  set(key: string, value: string): void;
  getMap(): Record<string, unknown>;
}

/** Byte values (AMQP, gRPC) longer than this are not decoded: no header we read is anywhere near it. */
const MAX_BYTES_DECODED = 65_536;

function lowerAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.toLowerCase();
  }
  return s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** The key of `record` equal to `lower` ignoring case, other than `exact`. */
function findKeyIgnoringCase(record: Record<string, unknown>, exact: string, lower: string): string | undefined {
  for (const k in record) {
    if (k.length === lower.length && k !== exact && k.toLowerCase() === lower) return k;
  }
  return undefined;
}

/** A carrier value as a getter returns it: strings, Buffers and numbers become strings; anything else is absent. */
function toText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) {
    return v.byteLength <= MAX_BYTES_DECODED ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8') : undefined;
  }
  return undefined;
}

function toValue(v: unknown): string | string[] | undefined {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return toText(v);
  if (v.length === 0) return undefined;
  let allStrings = true;
  for (const item of v) if (typeof item !== 'string') allStrings = false;
  if (allStrings) return v as string[];
  const out: string[] = [];
  for (const item of v) {
    const t = toText(item);
    if (t !== undefined) out.push(t);
  }
  return out.length === 0 ? undefined : out;
}

function hasHeaderMethods(c: unknown): c is HeaderMethods {
  return isObject(c) && typeof c.getHeader === 'function' && typeof c.setHeader === 'function';
}

function recordGet(record: Record<string, unknown>, key: string): unknown {
  let v = record[key];
  if (v !== undefined) return v;
  const lower = lowerAscii(key);
  if (lower !== key) v = record[lower];
  if (v !== undefined) return v;
  const found = findKeyIgnoringCase(record, key, lower);
  return found === undefined ? undefined : record[found];
}

/**
 * HTTP headers: a plain header object (Node's `req.headers`, an outgoing headers object, names in
 * any case) or an object with `getHeader`/`setHeader` (Node's `ClientRequest`, `ServerResponse`).
 * Names match in any case. Repeated headers come back as the array Node gives.
 */
export const headerGetter: TextMapGetter<HttpHeaderCarrier> = {
  get(carrier, key) {
    if (!isObject(carrier)) return undefined;
    if (hasHeaderMethods(carrier)) return toValue(carrier.getHeader(key));
    return toValue(recordGet(carrier, key));
  },
  keys(carrier) {
    if (!isObject(carrier)) return [];
    if (hasHeaderMethods(carrier) && typeof carrier.getHeaderNames === 'function') return carrier.getHeaderNames();
    return Object.keys(carrier);
  },
};

/**
 * Writes a header. On a plain object, names that differ from `key` only in case are removed first,
 * so the object never holds the same header twice; `setHeader` carriers are case-insensitive already.
 */
export const headerSetter: TextMapSetter<HttpHeaderCarrier> = {
  set(carrier, key, value) {
    if (!isObject(carrier)) return;
    if (hasHeaderMethods(carrier)) {
      carrier.setHeader(key, value);
      return;
    }
    const record = carrier as Record<string, unknown>;
    const lower = lowerAscii(key);
    for (let k = findKeyIgnoringCase(record, key, lower); k !== undefined; k = findKeyIgnoringCase(record, key, lower)) {
      delete record[k];
    }
    record[key] = value;
  },
};

/** amqplib message headers (`msg.properties.headers`); Buffer values are read as UTF-8. */
export const amqpHeadersGetter: TextMapGetter<AmqpHeaders | undefined> = {
  get(carrier, key) {
    return isObject(carrier) ? toValue(recordGet(carrier, key)) : undefined;
  },
  keys(carrier) {
    return isObject(carrier) ? Object.keys(carrier) : [];
  },
};

/** Writes string values into an amqplib `headers` object (the `publish` option). */
export const amqpHeadersSetter: TextMapSetter<AmqpHeaders> = {
  set(carrier, key, value) {
    if (isObject(carrier)) carrier[key] = value;
  },
};

/** nats.js `MsgHdrs` (and anything with `get`/`set`/`keys`): an empty string counts as absent. */
export const natsHeadersGetter: TextMapGetter<GetSetHeaders> = {
  get(carrier, key) {
    if (!isObject(carrier) || typeof carrier.get !== 'function') return undefined;
    const v = carrier.get(key);
    if (typeof v === 'string' && v.length > 0) return v;
    if (typeof carrier.keys !== 'function') return undefined;
    const lower = lowerAscii(key);
    for (const k of carrier.keys()) {
      if (k.length === lower.length && k !== key && k.toLowerCase() === lower) {
        const found = carrier.get(k);
        if (typeof found === 'string' && found.length > 0) return found;
      }
    }
    return undefined;
  },
  keys(carrier) {
    return isObject(carrier) && typeof carrier.keys === 'function' ? [...carrier.keys()] : [];
  },
};

export const natsHeadersSetter: TextMapSetter<GetSetHeaders> = {
  set(carrier, key, value) {
    if (isObject(carrier) && typeof carrier.set === 'function') carrier.set(key, value);
  },
};

/** WHATWG fetch `Headers` share the `get`/`set`/`keys` shape (and are case-insensitive themselves). */
export const fetchHeadersGetter: TextMapGetter<GetSetHeaders> = natsHeadersGetter;
export const fetchHeadersSetter: TextMapSetter<GetSetHeaders> = natsHeadersSetter;

/** @grpc/grpc-js `Metadata` (names are lowercase there); binary values are read as UTF-8. */
export const grpcMetadataGetter: TextMapGetter<GrpcMetadataLike> = {
  get(carrier, key) {
    if (!isObject(carrier) || typeof carrier.get !== 'function') return undefined;
    const values = toValue(carrier.get(lowerAscii(key)));
    return Array.isArray(values) && values.length === 1 ? values[0] : values;
  },
  keys(carrier) {
    return isObject(carrier) && typeof carrier.getMap === 'function' ? Object.keys(carrier.getMap()) : [];
  },
};

export const grpcMetadataSetter: TextMapSetter<GrpcMetadataLike> = {
  set(carrier, key, value) {
    if (isObject(carrier) && typeof carrier.set === 'function') carrier.set(lowerAscii(key), value);
  },
};

/** URL query parameters: exact name first, then any case; a repeated parameter comes back as an array. */
export const urlSearchParamsGetter: TextMapGetter<URLSearchParams> = {
  get(carrier, key) {
    if (!(carrier instanceof URLSearchParams)) return undefined;
    let all = carrier.getAll(key);
    if (all.length === 0) {
      const lower = lowerAscii(key);
      for (const k of carrier.keys()) {
        if (k.length === lower.length && k !== key && k.toLowerCase() === lower) {
          all = carrier.getAll(k);
          break;
        }
      }
    }
    return all.length === 0 ? undefined : all.length === 1 ? all[0] : all;
  },
  keys(carrier) {
    return carrier instanceof URLSearchParams ? [...new Set(carrier.keys())] : [];
  },
};

/** Replaces every parameter of that name (`URLSearchParams.set`). */
export const urlSearchParamsSetter: TextMapSetter<URLSearchParams> = {
  set(carrier, key, value) {
    if (carrier instanceof URLSearchParams) carrier.set(key, value);
  },
};

const collectSetter: TextMapSetter<Map<string, string>> = {
  set(carrier, key, value) {
    carrier.set(key, value);
  },
};

function decodedName(segment: string): string {
  const eq = segment.indexOf('=');
  const raw = eq < 0 ? segment : segment.slice(0, eq);
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * `url` with what `propagator` writes for `value` set as query parameters. Parameters of the same
 * names (in any case) are replaced; every other part of the URL is kept byte for byte, and relative
 * URLs work. Returns the URL unchanged when there is nothing to add or it cannot be processed.
 */
export function injectIntoUrl(url: string | URL, propagator: Propagator, value: Propagated): string {
  let href = '';
  try {
    href = typeof url === 'string' ? url : url.href;
    const added = new Map<string, string>();
    propagator.inject(value, added, collectSetter);
    if (added.size === 0) return href;
    const hashAt = href.indexOf('#');
    const beforeHash = hashAt < 0 ? href : href.slice(0, hashAt);
    const fragment = hashAt < 0 ? '' : href.slice(hashAt);
    const queryAt = beforeHash.indexOf('?');
    const path = queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt);
    const names = new Set<string>();
    for (const k of added.keys()) names.add(k.toLowerCase());
    const segments =
      queryAt < 0
        ? []
        : beforeHash
            .slice(queryAt + 1)
            .split('&')
            .filter((s) => s.length > 0 && !names.has(decodedName(s).toLowerCase()));
    for (const [k, v] of added) segments.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
    return `${path}?${segments.join('&')}${fragment}`;
  } catch {
    return href;
  }
}
