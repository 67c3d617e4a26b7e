/**
 * Which reader a file needs: a whole JSON document (`json`), one JSON value per line (`jsonl`), or
 * call-graph CSV (`csv`). Decided by extension (`.json`, `.jsonl`/`.ndjson`, `.csv`, each optionally
 * `.gz`), and by content when the extension says nothing or a `.json` file holds JSON lines.
 */
import { csvFields } from './csv-fields.js';
import { isCallGraphHeader } from './callgraph-csv.js';

export type FileFormat = 'json' | 'jsonl' | 'csv';
export const FILE_FORMATS: readonly FileFormat[] = ['json', 'jsonl', 'csv'];

const BY_EXTENSION: Readonly<Record<string, FileFormat>> = {
  json: 'json',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  csv: 'csv',
};

export function isGzipName(path: string): boolean {
  return path.toLowerCase().endsWith('.gz');
}

/** The format the file name announces (`.gz` looked through), if any. */
export function formatFromName(path: string): FileFormat | undefined {
  let name = path.toLowerCase();
  if (name.endsWith('.gz')) name = name.slice(0, -3);
  const dot = name.lastIndexOf('.');
  const slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  if (dot <= slash + 1) return undefined;
  return BY_EXTENSION[name.slice(dot + 1)];
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The format of a file from its first bytes (decompressed): JSON text whose first line is a whole
 * value followed by more values is JSON lines; other JSON is a document; a header row naming the
 * call-graph columns is CSV. `complete` says `head` is the whole file.
 */
export function sniffFormat(head: string, complete: boolean): FileFormat | undefined {
  const text = head.charCodeAt(0) === 0xfeff ? head.slice(1) : head;
  const start = text.search(/\S/);
  if (start < 0) return undefined;
  const c = text[start];
  const nl = text.indexOf('\n', start);
  if (c === '{' || c === '[') {
    if (nl < 0) return 'json';
    const first = text.slice(start, nl);
    const rest = text.slice(nl + 1);
    // A line cut off by the end of `head` cannot be judged; a first line that is a whole value is enough.
    return parses(first) && (/\S/.test(rest) || !complete) ? 'jsonl' : 'json';
  }
  const line = (nl < 0 ? text.slice(start) : text.slice(start, nl)).replace(/\r$/, '');
  const fields = csvFields(line);
  return fields !== undefined && isCallGraphHeader(fields) ? 'csv' : undefined;
}
