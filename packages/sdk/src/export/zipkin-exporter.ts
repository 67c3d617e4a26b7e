import { ATTR, encodeZipkinJson, type Span } from '@linktrace/model';
import type { ExportResult, Resource, SpanExporter } from '../types.js';
import { HttpTransport } from './http-transport.js';

export interface ZipkinExporterOptions {
  /** Default `http://localhost:9411/api/v2/spans` (Zipkin, or `linktrace serve` on its port). */
  url?: string;
  gzip?: boolean;
  headers?: Readonly<Record<string, string>>;
  /** Per-request deadline. Default 10 000 ms. */
  timeoutMs?: number;
}

export const DEFAULT_ZIPKIN_SPANS_URL = 'http://localhost:9411/api/v2/spans';

/**
 * Zipkin v2 JSON exporter. Zipkin has no resource: when this process has dropped spans, the
 * cumulative count rides as the tag `linktrace.sdk.dropped_spans` on every span of the batch.
 */
export function zipkinExporter(options: ZipkinExporterOptions = {}): SpanExporter {
  const transport = new HttpTransport({
    url: options.url ?? DEFAULT_ZIPKIN_SPANS_URL,
    gzip: options.gzip,
    headers: options.headers,
    timeoutMs: options.timeoutMs,
  });
  let stopped = false;

  return {
    async export(spans: readonly Span[], resource: Resource): Promise<ExportResult> {
      if (stopped) return { code: 'failed', error: new Error('exporter is shut down') };
      let payload: string;
      try {
        const encoded = encodeZipkinJson(spans);
        const dropped = resource.attributes[ATTR.droppedSpans];
        if (typeof dropped === 'number' && dropped > 0) {
          const value = String(dropped);
          for (const z of encoded) (z.tags ??= {})[ATTR.droppedSpans] = value;
        }
        payload = JSON.stringify(encoded);
      } catch (error) {
        return { code: 'failed', error: new Error(`cannot encode Zipkin JSON: ${error instanceof Error ? error.message : String(error)}`) };
      }
      return (await transport.send(payload, 'application/json')).result;
    },
    shutdown(): Promise<void> {
      stopped = true;
      transport.shutdown();
      return Promise.resolve();
    },
  };
}
