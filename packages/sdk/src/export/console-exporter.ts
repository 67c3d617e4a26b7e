import type { Span } from '@linktrace/model';
import type { ExportResult, SpanExporter } from '../types.js';
import { flatValue } from './flat-attributes.js';

export interface ConsoleExporterOptions {
  /** Where lines go. Default `process.stdout`. */
  stream?: { write(chunk: string): unknown };
  /** Print span attributes after the ids. Default true. */
  attributes?: boolean;
}

const SUCCESS: ExportResult = { code: 'success' };

/**
 * Human-readable, one line per span:
 * `2024-05-01T12:00:00.123Z checkout server "GET /cart" 12.345ms ok trace=… span=… parent=… rpcid=0.1 k=v`
 * A start record shows `started` instead of its duration. One write per batch.
 */
export function consoleExporter(options: ConsoleExporterOptions = {}): SpanExporter {
  const stream = options.stream ?? process.stdout;
  const withAttributes = options.attributes ?? true;
  return {
    export(spans: readonly Span[]): Promise<ExportResult> {
      try {
        let text = '';
        for (const span of spans) text += formatSpanLine(span, withAttributes) + '\n';
        stream.write(text);
        return Promise.resolve(SUCCESS);
      } catch (error) {
        return Promise.resolve({ code: 'failed', error: error instanceof Error ? error : new Error(String(error)) });
      }
    },
    shutdown: () => Promise.resolve(),
  };
}

export function formatSpanLine(span: Span, withAttributes = true): string {
  const ms = span.startUs / 1000;
  const time = Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(Math.floor(ms)).toISOString() : `@${span.startUs}us`;
  const duration = span.durationUs === undefined ? 'started' : `${(span.durationUs / 1000).toFixed(3)}ms`;
  const status = span.status.message ? `${span.status.code}(${JSON.stringify(span.status.message)})` : span.status.code;
  let line = `${time} ${span.service} ${span.kind} ${JSON.stringify(span.name)} ${duration} ${status} trace=${span.traceId} span=${span.spanId}`;
  if (span.parentSpanId !== undefined) line += ` parent=${span.parentSpanId}`;
  if (span.rpcid !== undefined) line += ` rpcid=${span.rpcid}`;
  if (withAttributes) {
    for (const key in span.attributes) {
      const value = flatValue(span.attributes[key] as Span['attributes'][string]);
      line += ` ${key}=${typeof value === 'string' ? JSON.stringify(value) : String(value)}`;
    }
  }
  return line;
}
