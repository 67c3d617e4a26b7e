/** The native input format of `linktrace infer` (docs/inference.md): one JSON record per line. */
import { readLogRecord, scanLogRecord } from '@linktrace/analysis';
import type { LineResult } from './access-log-format.js';

const NO_FIELDS: readonly string[] = Object.freeze([]);

export function parseJsonlLine(line: string): LineResult {
  // The plain line of known fields, read in one pass; anything else (and every problem) by JSON.parse.
  const plain = scanLogRecord(line);
  if (plain !== undefined) return { records: [plain], unknownFields: NO_FIELDS };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { problem: 'not JSON' };
  }
  const read = readLogRecord(value, 0);
  if ('problem' in read) return read;
  // The record keeps its `line` field (the reader sets it): no copy of every record to drop it.
  return { records: [read.record], unknownFields: read.unknownFields };
}
