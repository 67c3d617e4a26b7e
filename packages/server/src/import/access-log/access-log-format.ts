/**
 * The access-log formats `linktrace infer` reads, and the shape every importer returns: the input
 * records of inference (docs/inference.md), or why a line cannot be used.
 */
import type { LogRecord } from '@linktrace/analysis';

export const ACCESS_LOG_FORMATS = ['auto', 'jsonl', 'nginx', 'envoy', 'sdk'] as const;
export type AccessLogFormat = (typeof ACCESS_LOG_FORMATS)[number];

/** Who wrote a log that does not say it itself (nginx, Envoy, most SDK logs). */
export interface LogSource {
  service: string;
  instance: string;
}

/** A record as an importer makes it (the line number is added by the reader). */
export type ImportedRecord = Omit<LogRecord, 'line'>;

/** A line gives zero or more records (a proxy's line is a served request and the upstream call it made). */
export type LineResult =
  | { records: ImportedRecord[]; unknownFields?: readonly string[] }
  /** Not a request (an SDK log line that only says something): skipped and counted, not an error. */
  | { skip: string }
  | { problem: string };

/** The format of a file from its first non-empty line. */
export function detectFormat(firstLine: string): Exclude<AccessLogFormat, 'auto'> {
  const line = firstLine.trimStart();
  if (line.startsWith('{')) return /"direction"\s*:/.test(line) ? 'jsonl' : 'sdk';
  if (/^\[\d{4}-\d{2}-\d{2}T/.test(line)) return 'envoy';
  return 'nginx';
}

/** Method and path, without the query string (an endpoint, not one request). */
export function endpointOf(method: string, target: string): string {
  const q = target.search(/[?#]/);
  return `${method} ${q >= 0 ? target.slice(0, q) : target}`;
}
