import { encodeOtlpJson, encodeOtlpProto, type Span } from '@linktrace/model';
import type { ExportResult, Resource, SpanExporter } from '../types.js';
import { HttpTransport } from './http-transport.js';
import { parsePartialSuccess, type PartialSuccess } from './otlp-partial-success.js';

export interface OtlpHttpExporterOptions {
  /** Default `http://localhost:4318/v1/traces` (an OpenTelemetry Collector or `linktrace serve`). */
  url?: string;
  /** Default `protobuf` (`application/x-protobuf`); `json` sends `application/json`. */
  encoding?: 'protobuf' | 'json';
  /** Gzip request bodies. Default false. */
  gzip?: boolean;
  /** Extra request headers, e.g. `{ authorization: 'Bearer …' }`. */
  headers?: Readonly<Record<string, string>>;
  /** Per-request deadline. Default 10 000 ms. */
  timeoutMs?: number;
  /**
   * Told when the server accepted a batch but rejected some spans (OTLP partial success).
   * Default: one `console.warn` the first time, then silence (the batch still counts as exported).
   */
  onPartialSuccess?: (partial: PartialSuccess) => void;
}

export const DEFAULT_OTLP_TRACES_URL = 'http://localhost:4318/v1/traces';

/**
 * OTLP/HTTP trace exporter. The resource attributes handed over by the processor (among them
 * `linktrace.sdk.dropped_spans`) are added to every ResourceSpans of the request.
 */
export function otlpHttpExporter(options: OtlpHttpExporterOptions = {}): SpanExporter {
  const protobuf = (options.encoding ?? 'protobuf') === 'protobuf';
  if (options.encoding !== undefined && options.encoding !== 'protobuf' && options.encoding !== 'json') {
    throw new TypeError(`otlpHttpExporter: encoding must be 'protobuf' or 'json', got ${String(options.encoding)}`);
  }
  const contentType = protobuf ? 'application/x-protobuf' : 'application/json';
  const transport = new HttpTransport({
    url: options.url ?? DEFAULT_OTLP_TRACES_URL,
    gzip: options.gzip,
    headers: options.headers,
    timeoutMs: options.timeoutMs,
  });
  let warned = false;
  const onPartialSuccess =
    options.onPartialSuccess ??
    ((p: PartialSuccess) => {
      if (warned) return;
      warned = true;
      console.warn(
        `[linktrace] ${transport.target} rejected ${p.rejectedSpans} span(s)${p.errorMessage ? `: ${p.errorMessage}` : ''} (reported once)`,
      );
    });
  let stopped = false;

  return {
    async export(spans: readonly Span[], resource: Resource): Promise<ExportResult> {
      if (stopped) return { code: 'failed', error: new Error('exporter is shut down') };
      let payload: Uint8Array | string;
      try {
        payload = protobuf ? encodeOtlpProto(spans, resource.attributes) : JSON.stringify(encodeOtlpJson(spans, resource.attributes));
      } catch (error) {
        return { code: 'failed', error: new Error(`cannot encode OTLP: ${error instanceof Error ? error.message : String(error)}`) };
      }
      const { result, reply } = await transport.send(payload, contentType);
      if (result.code === 'success' && reply !== undefined) {
        const partial = parsePartialSuccess(reply.body, reply.headers['content-type'], protobuf);
        if (partial !== undefined) {
          try {
            onPartialSuccess(partial);
          } catch {
            // The batch was accepted; a failing callback must not turn that into an error.
          }
        }
      }
      return result;
    },
    shutdown(): Promise<void> {
      stopped = true;
      transport.shutdown();
      return Promise.resolve();
    },
  };
}
