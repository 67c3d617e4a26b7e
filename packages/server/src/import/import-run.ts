/**
 * `linktrace import`: reads trace files, turns every record into model spans, and hands them to a
 * sink in batches. Bad records are counted and the first few reported with their line numbers;
 * they never stop the import. Only a failing destination does.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Span } from '@linktrace/model';
import { CallGraphMemo, callGraphColumns, callGraphSpan, type CallGraphColumns, type CallGraphOptions } from './callgraph-csv.js';
import { csvFields } from './csv-fields.js';
import { formatFromName, isGzipName, sniffFormat, type FileFormat } from './file-format.js';
import { listImportFiles, type ImportFile } from './import-files.js';
import { decodeJsonValue } from './json-records.js';
import { readLines } from './line-reader.js';
import type { SpanSink } from './span-sink.js';

export interface ImportIssue {
  file: string;
  /** Line number (from 1) for line formats. */
  line?: number;
  message: string;
}

export interface ImportState {
  file: string;
  bytesDone: number;
  spans: number;
  bad: number;
  rejected: number;
}

export interface ImportProgress {
  start(totalBytes: number, files: number): void;
  update(state: ImportState): void;
  stop(): void;
}

export interface ImportOptions {
  paths: readonly string[];
  sink: SpanSink;
  /** Skip detection: read every file as this format. */
  format?: FileFormat;
  /** Call-graph CSV: µs added to the timestamps (see callgraph-csv.ts for the default). */
  baseTimeUs?: number;
  /** Spans per write. Default 1000. */
  batchSize?: number;
  progress?: ImportProgress;
  /** Issues kept for the report (all are counted). Default 10. */
  maxIssues?: number;
  now?: () => number;
}

export interface ImportSummary {
  target: string;
  /** Files read (skipped ones not included). */
  files: number;
  skippedFiles: number;
  bytes: number;
  /** Spans the destination accepted. */
  spans: number;
  /** Bad lines (in a JSON document: bad spans): unreadable, or not a valid span. */
  bad: number;
  /** Valid-looking spans the destination refused. */
  rejected: number;
  /** Problems in the order met; at most `maxIssues`. */
  issues: ImportIssue[];
  elapsedMs: number;
}

/** The destination failed: the import stops (unlike a bad record or an unreadable file). */
export class DestinationError extends Error {
  override readonly name = 'DestinationError';

  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** Bytes read per chunk: large enough for throughput, small enough for a smooth progress bar. */
const CHUNK_BYTES = 256 * 1024;

class ImportJob {
  readonly summary: ImportSummary;
  private batch: Span[] = [];
  private readonly batchSize: number;
  private readonly maxIssues: number;
  private readonly csvOptions: CallGraphOptions;
  private bytesBefore = 0;
  private current = '';
  private raw: ReadStream | undefined;

  constructor(private readonly opts: ImportOptions) {
    this.batchSize = opts.batchSize ?? 1000;
    this.maxIssues = opts.maxIssues ?? 10;
    this.csvOptions = opts.baseTimeUs === undefined ? {} : { baseUs: opts.baseTimeUs };
    this.summary = { target: opts.sink.target, files: 0, skippedFiles: 0, bytes: 0, spans: 0, bad: 0, rejected: 0, issues: [], elapsedMs: 0 };
  }

  issue(file: string, message: string, line?: number): void {
    if (this.summary.issues.length >= this.maxIssues) return;
    this.summary.issues.push(line === undefined ? { file, message } : { file, line, message });
  }

  private bad(message: string, line?: number): void {
    this.summary.bad++;
    this.issue(this.current, message, line);
  }

  private report(): void {
    const s = this.summary;
    this.opts.progress?.update({
      file: this.current,
      bytesDone: this.bytesBefore + (this.raw?.bytesRead ?? 0),
      spans: s.spans,
      bad: s.bad,
      rejected: s.rejected,
    });
  }

  /** Queues spans; returns the write to wait for when a batch is full. */
  private add(spans: readonly Span[]): Promise<void> | undefined {
    for (const s of spans) this.batch.push(s);
    return this.batch.length >= this.batchSize ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    let r;
    try {
      r = await this.opts.sink.write(batch);
    } catch (err) {
      throw new DestinationError(err);
    }
    this.summary.spans += r.accepted;
    this.summary.rejected += r.rejected;
    for (const e of r.errors) this.issue(this.current, `rejected by ${this.opts.sink.target}: ${e}`);
  }

  private open(path: string): AsyncIterable<Buffer> {
    const raw = createReadStream(path, { highWaterMark: CHUNK_BYTES });
    this.raw = raw;
    return isGzipName(path) ? pipeline(raw, createGunzip({ chunkSize: CHUNK_BYTES }), () => {}) : raw;
  }

  async importFile(file: ImportFile): Promise<void> {
    this.current = file.path;
    try {
      const source = this.open(file.path)[Symbol.asyncIterator]();
      const first = await source.next();
      const head: Buffer = first.done === true ? Buffer.alloc(0) : first.value;
      const named = this.opts.format ?? formatFromName(file.path);
      const format = named === 'jsonl' || named === 'csv' ? named : sniffFormat(head.toString('utf8'), first.done === true) ?? named;
      if (format === undefined) {
        this.summary.skippedFiles++;
        this.issue(file.path, 'skipped: not OTLP JSON, Zipkin JSON, JSON lines or call-graph CSV');
        return;
      }
      this.summary.files++;
      const chunks = rest(head, first.done === true, source);
      if (format === 'json') await this.readDocument(chunks);
      else if (format === 'jsonl') await this.readJsonLines(chunks);
      else await this.readCsv(chunks);
      await this.flush();
    } catch (err) {
      if (err instanceof DestinationError) throw err;
      this.issue(file.path, `cannot read: ${(err as Error).message}`);
      this.summary.bad++;
    } finally {
      this.raw?.destroy();
      this.bytesBefore += file.bytes;
      this.raw = undefined;
      this.report();
    }
  }

  private async readDocument(chunks: AsyncIterable<Buffer>): Promise<void> {
    const parts: Buffer[] = [];
    for await (const c of chunks) {
      parts.push(c);
      this.report();
    }
    let value: unknown;
    try {
      value = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch (err) {
      this.bad(`not valid JSON: ${(err as Error).message}`);
      return;
    }
    let result;
    try {
      result = decodeJsonValue(value);
    } catch (err) {
      this.bad((err as Error).message);
      return;
    }
    this.summary.bad += result.rejected;
    for (const e of result.errors) this.issue(this.current, e);
    for (let i = 0; i < result.spans.length; i += this.batchSize) {
      this.batch.push(...result.spans.slice(i, i + this.batchSize));
      await this.flush();
      this.report();
    }
  }

  private readJsonLines(chunks: AsyncIterable<Buffer>): Promise<number> {
    return readLines(chunks, {
      line: (text, lineNo) => {
        if (text.trim() === '') return;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (err) {
          this.bad(`not valid JSON: ${(err as Error).message}`, lineNo);
          return;
        }
        let result;
        try {
          result = decodeJsonValue(value);
        } catch (err) {
          this.bad((err as Error).message, lineNo);
          return;
        }
        if (result.rejected > 0) this.bad(result.errors[0] ?? 'span rejected', lineNo);
        return this.add(result.spans);
      },
      tooLong: (lineNo) => this.bad('line too long', lineNo),
      progress: () => this.report(),
    });
  }

  private async readCsv(chunks: AsyncIterable<Buffer>): Promise<void> {
    let cols: CallGraphColumns | undefined;
    const options: CallGraphOptions = { ...this.csvOptions, memo: new CallGraphMemo() };
    let refused = false;
    await readLines(chunks, {
      line: (text, lineNo) => {
        if (refused || text.trim() === '') return;
        const fields = csvFields(text);
        if (fields === undefined) {
          this.bad('a quoted field is not closed', lineNo);
          return;
        }
        if (cols === undefined) {
          const c = callGraphColumns(fields);
          if (typeof c === 'string') {
            refused = true;
            this.bad(c, lineNo);
          } else cols = c;
          return;
        }
        const span = callGraphSpan(fields, cols, options);
        if (typeof span === 'string') {
          this.bad(span, lineNo);
          return;
        }
        return this.add([span]);
      },
      tooLong: (lineNo) => this.bad('line too long', lineNo),
      progress: () => this.report(),
    });
  }
}

/** The chunks of a file, its first (already read for detection) included. */
async function* rest(head: Buffer, done: boolean, source: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  if (done) return;
  yield head;
  for (;;) {
    const next = await source.next();
    if (next.done === true) return;
    yield next.value;
  }
}

export async function runImport(opts: ImportOptions): Promise<ImportSummary> {
  const now = opts.now ?? Date.now;
  const t0 = now();
  const files = await listImportFiles(opts.paths);
  const job = new ImportJob(opts);
  const total = files.reduce((n, f) => n + f.bytes, 0);
  job.summary.bytes = total;
  opts.progress?.start(total, files.length);
  try {
    for (const f of files) await job.importFile(f);
    await job.flush();
  } finally {
    opts.progress?.stop();
    job.summary.elapsedMs = now() - t0;
  }
  return job.summary;
}
