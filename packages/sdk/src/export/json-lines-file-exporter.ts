import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Span } from '@linktrace/model';
import type { ExportResult, Resource, SpanExporter } from '../types.js';
import { flatResource, jsonLineRecord } from './json-line-record.js';

export interface JsonLinesFileExporterOptions {
  /** File to append to; created (with its directory) when missing. */
  path: string;
}

const SUCCESS: ExportResult = { code: 'success' };

/**
 * Appends one JSON object per span and line (schema: JsonLineRecord), ready for Filebeat/Logstash and
 * Elasticsearch, or the Linktrace JSON-log receiver. The file is opened per batch in append mode, so
 * external log rotation that moves the file simply starts a new one. Disk errors become `failed`
 * results; the exporter never throws.
 */
export function jsonLinesFileExporter(options: JsonLinesFileExporterOptions): SpanExporter {
  const { path } = options;
  if (typeof path !== 'string' || path === '') throw new TypeError('jsonLinesFileExporter: path is required');
  let directoryReady: Promise<unknown> | undefined;
  let stopped = false;

  return {
    async export(spans: readonly Span[], resource: Resource): Promise<ExportResult> {
      if (stopped) return { code: 'failed', error: new Error('exporter is shut down') };
      let text: string;
      try {
        const shared = flatResource(resource);
        text = '';
        for (const span of spans) text += JSON.stringify(jsonLineRecord(span, shared)) + '\n';
      } catch (error) {
        return { code: 'failed', error: new Error(`cannot serialise span: ${messageOf(error)}`) };
      }
      try {
        directoryReady ??= mkdir(dirname(path), { recursive: true });
        await directoryReady;
        await appendFile(path, text, 'utf8');
        return SUCCESS;
      } catch (error) {
        // Try creating the directory again next time: it may have been removed or fixed meanwhile.
        directoryReady = undefined;
        return { code: 'failed', error: new Error(`cannot append to ${path}: ${messageOf(error)}`) };
      }
    },
    shutdown(): Promise<void> {
      stopped = true;
      return Promise.resolve();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
