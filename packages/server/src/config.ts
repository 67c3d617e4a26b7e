/**
 * Server settings: ingest limits, pipeline bounds, and the parsers for the CLI's duration and size
 * flags. Defaults are chosen for one process on a small machine: generous for real tracers (an
 * OpenTelemetry batch is 512 spans, a Zipkin reporter message ~500 KB), small enough that a handful of
 * concurrent maximal requests cannot exhaust memory.
 */

export interface IngestLimits {
  /** Bytes of one request body as sent (before decompression). */
  maxRequestBytes: number;
  /** Bytes of one gzip body once decompressed: caps a gzip bomb. */
  maxDecompressedBytes: number;
  /**
   * Bytes being decompressed (and decoded) at once, across all requests: a burst of gzip bodies past
   * it answers 429 instead of taking cap × requests of memory. At least one whole capped body.
   */
  maxDecompressingBytes: number;
  maxSpansPerRequest: number;
  /** Keys in one attribute map: a span's attributes, its resource, and each event's and link's. */
  maxAttributesPerSpan: number;
  /** UTF-16 code units of one string value (each item of an array), or bytes of a bytes value. */
  maxAttributeValueLength: number;
  /** A span starting more than this many ms after the server's clock is refused (reason future_start). */
  maxFutureMs: number;
}

export const DEFAULT_LIMITS: Readonly<IngestLimits> = Object.freeze({
  maxRequestBytes: 4 * 1024 * 1024,
  maxDecompressedBytes: 16 * 1024 * 1024,
  maxDecompressingBytes: 64 * 1024 * 1024,
  maxSpansPerRequest: 10_000,
  maxAttributesPerSpan: 256,
  maxAttributeValueLength: 32 * 1024,
  maxFutureMs: 3_600_000,
});

export interface PipelineOptions {
  /**
   * Accepted spans not yet in the store (queued or being written). Past it, ingest answers 429: the
   * bound on the memory the backlog can take and on the write-ahead log's size.
   */
  maxBacklogSpans: number;
  /** Most spans handed to the store in one write. */
  storeBatchSpans: number;
  /**
   * Store writes under way at once. Many, so that under load the embedded store gathers a whole
   * DuckDB row group (122 880 spans) from them in one batch (compressed once, straight to its file)
   * while the previous batch commits; a quiet server has one small write under way at a time.
   */
  storeConcurrency: number;
  /** `Retry-After` seconds on 429/503 answers. */
  retryAfterSeconds: number;
  /**
   * Queries first: while a query is under way, each background step of the pipeline (starting a
   * store write, handing stored spans to the checker) waits at most this long (ms) for it to end;
   * 0 never waits. See pipeline/queries-first.ts.
   */
  queryPauseMs: number;
}

// The backlog holds two row groups' worth (one being committed, one gathering) and some slack.
export const DEFAULT_PIPELINE: Readonly<PipelineOptions> = Object.freeze({
  maxBacklogSpans: 300_000,
  storeBatchSpans: 10_000,
  storeConcurrency: 24,
  retryAfterSeconds: 1,
  queryPauseMs: 250,
});

export interface WalOptions {
  /** A segment is closed and a new one started once it holds this many bytes. */
  segmentBytes: number;
}

export const DEFAULT_WAL: Readonly<WalOptions> = Object.freeze({ segmentBytes: 64 * 1024 * 1024 });

/** A flag or option value the server cannot use; the CLI prints the message and exits with code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30s`, `5m`, `7d`, `250ms`, `1.5h` -> milliseconds. `what` names the flag in the error message. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = DURATION_RE.exec(text.trim());
  if (m === null) {
    throw new ConfigError(`${what}: "${text}" is not a duration; use a number and a unit: ms, s, m, h, d or w (e.g. 30s, 5m, 7d)`);
  }
  const ms = Math.round(Number(m[1]) * DURATION_UNIT_MS[m[2]]);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new ConfigError(`${what}: "${text}" must be more than 0 and less than about 285 000 years`);
  return ms;
}

/** Words `--retention` takes for "keep data forever" (besides `0`). */
const RETENTION_OFF = new Set(['0', 'off']);

/**
 * `--retention`: a duration (`7d`), or `0` / `off` to keep data forever (returns 0). Other zero
 * durations (`0d`) are refused: "delete at once" and "never delete" must not hide behind one typo.
 */
export function parseRetention(text: string, what = '--retention'): number {
  if (RETENTION_OFF.has(text.trim().toLowerCase())) return 0;
  try {
    return parseDuration(text, what);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message} (0 or off keeps data forever)`);
  }
}

const SIZE_RE = /^(\d+)(b|kb|k|kib|mb|m|mib|gb|g|gib)?$/;
const SIZE_UNIT: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** `4mb`, `512k`, `1048576` -> bytes (units are powers of 1024). */
export function parseSize(text: string, what = 'size'): number {
  const m = SIZE_RE.exec(text.trim().toLowerCase());
  if (m === null) throw new ConfigError(`${what}: "${text}" is not a size; use bytes or a number with kb, mb or gb (e.g. 4mb)`);
  const bytes = Number(m[1]) * SIZE_UNIT[m[2] ?? 'b'];
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new ConfigError(`${what}: "${text}" must be more than 0 bytes`);
  return bytes;
}

/** A whole number within [min, max]; `what` names the flag. */
export function parseInteger(text: string, what: string, min: number, max: number): number {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(`${what}: "${text}" is not a whole number from ${min} to ${max}`);
  return n;
}

/** Limits with every field checked: a positive safe integer. */
export function resolveLimits(partial: Partial<IngestLimits> | undefined): IngestLimits {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(`limits.${key}: ${String(value)} is not a positive whole number`);
  }
  if (limits.maxDecompressingBytes < limits.maxDecompressedBytes) {
    throw new ConfigError(`limits.maxDecompressingBytes (${limits.maxDecompressingBytes}) is less than one body's limit, maxDecompressedBytes (${limits.maxDecompressedBytes})`);
  }
  return limits;
}

export function resolvePipeline(partial: Partial<PipelineOptions> | undefined): PipelineOptions {
  const options = { ...DEFAULT_PIPELINE, ...partial };
  for (const [key, value] of Object.entries(options)) {
    // 0 turns queries-first off; every other option needs at least 1.
    if (key === 'queryPauseMs' && value === 0) continue;
    if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(`pipeline.${key}: ${String(value)} is not a positive whole number`);
  }
  return options;
}
