/**
 * The input of black-box inference (docs/inference.md): one record per served request (`in`) or
 * outgoing call (`out`), as an access log tells it. Times are µs since the epoch on the writing
 * host's own clock; `remote`/`local` are the two ends of the connection when the log knows them.
 */

export type Direction = 'in' | 'out';

export interface LogRecord {
  /** 0-based line number in the input: the record's identity in the output. */
  line: number;
  direction: Direction;
  service: string;
  /** `ip:port` of the process that wrote the record. */
  instance: string;
  endpoint: string;
  startUs: number;
  endUs: number;
  /** `in`: the caller's side of the connection; `out`: the called address (upstream). */
  remote?: string;
  /** `out`: our side (ip:port) of the connection the call went out on. */
  local?: string;
  /** `out`: the callee's name when the log knows it (an nginx upstream name); names edges to services that never log. */
  peer?: string;
  /** HTTP-like status; ≥ 500 counts as an error on the dependency edge. */
  status?: number;
}

/** One decision per `in` record, the output line of `linktrace infer`. */
export interface InferredLink {
  record: number;
  /** Line of the `in` record whose handling made the call, or null for a root. */
  parent: number | null;
  /** Probability that `parent` is right (0..1), calibrated: see docs/inference.md. */
  confidence: number;
}

/** Fields a record may carry; others are ignored and counted by name. */
export const RECORD_FIELDS: ReadonlySet<string> = new Set(['direction', 'service', 'instance', 'endpoint', 'start', 'end', 'remote', 'local', 'peer', 'status']);

/** Longest text field accepted. */
export const MAX_TEXT = 1024;

export type ReadRecordResult = { record: LogRecord; unknownFields: readonly string[] } | { problem: string };

const NO_FIELDS: readonly string[] = Object.freeze([]);

/**
 * One copy of each recent text value. JSON.parse makes a fresh string per line for longer values
 * (instances, connections, endpoints), and inference holds every record for three windows, so each
 * copy survived two young-generation collections; interned, the line's own copy dies young and the
 * held records share one. Bounded: cleared when full (connections come and go over a long log).
 */
const interned = new Map<string, string>();
const MAX_INTERNED = 1 << 16;

export function intern(v: string): string {
  const known = interned.get(v);
  if (known !== undefined) return known;
  if (interned.size >= MAX_INTERNED) interned.clear();
  interned.set(v, v);
  return v;
}

function text(obj: Record<string, unknown>, key: string, required: boolean): string | undefined | { problem: string } {
  const v = obj[key];
  if (v === undefined || v === null) return required ? { problem: `missing "${key}"` } : undefined;
  if (typeof v !== 'string') return { problem: `"${key}" is not a string` };
  if (v.length > MAX_TEXT) return { problem: `"${key}" is longer than ${MAX_TEXT} characters` };
  if (required && v === '' && key !== 'endpoint') return { problem: `"${key}" is empty` };
  return v === '' ? undefined : intern(v);
}

function time(obj: Record<string, unknown>, key: string): number | { problem: string } {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) return { problem: `"${key}" is not a number of µs since the epoch` };
  if (v < 0 || v > 1e17) return { problem: `"${key}" (${v}) is out of range` };
  return Math.round(v);
}

/** Checks one parsed JSON value as an input record; never throws. */
export function readLogRecord(value: unknown, line: number): ReadRecordResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not a JSON object' };
  const obj = value as Record<string, unknown>;
  const direction = obj.direction;
  if (direction !== 'in' && direction !== 'out') return { problem: '"direction" must be "in" or "out"' };
  const service = text(obj, 'service', true);
  if (typeof service === 'object') return service;
  const instance = text(obj, 'instance', true);
  if (typeof instance === 'object') return instance;
  const endpoint = text(obj, 'endpoint', false);
  if (typeof endpoint === 'object') return endpoint;
  const startUs = time(obj, 'start');
  if (typeof startUs === 'object') return startUs;
  const endUs = time(obj, 'end');
  if (typeof endUs === 'object') return endUs;
  if (endUs < startUs) return { problem: `"end" (${endUs}) is before "start" (${startUs})` };
  // Every field present (undefined when absent): one shape for all records, so the code reading them stays monomorphic.
  const record: LogRecord = { line, direction, service: service!, instance: instance!, endpoint: endpoint ?? '', startUs, endUs, remote: undefined, local: undefined, peer: undefined, status: undefined };
  const remote = text(obj, 'remote', false);
  if (typeof remote === 'object') return remote;
  if (remote !== undefined) record.remote = remote;
  const local = text(obj, 'local', false);
  if (typeof local === 'object') return local;
  if (local !== undefined) record.local = local;
  const peer = text(obj, 'peer', false);
  if (typeof peer === 'object') return peer;
  if (peer !== undefined) record.peer = peer;
  if (obj.status !== undefined && obj.status !== null) {
    if (typeof obj.status !== 'number' || !Number.isFinite(obj.status)) return { problem: '"status" is not a number' };
    record.status = obj.status;
  }
  // Allocated only when a line has some (most have none).
  let unknownFields: string[] | undefined;
  for (const key in obj) if (!RECORD_FIELDS.has(key)) (unknownFields ??= []).push(key);
  return { record, unknownFields: unknownFields ?? NO_FIELDS };
}

/** The host part of `ip:port` (instances on one host share its clock). */
export function hostOf(address: string): string {
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    return close > 0 ? address.slice(1, close) : address;
  }
  const colon = address.lastIndexOf(':');
  return colon > 0 && address.indexOf(':') === colon ? address.slice(0, colon) : address;
}
