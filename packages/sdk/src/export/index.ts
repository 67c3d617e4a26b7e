// The export pipeline: processors that batch and retry, the HTTP transport, and the exporters.
export { BatchSpanProcessor, type BatchSpanProcessorOptions, type BatchSpanProcessorStats } from './batch-span-processor.js';
export { SimpleSpanProcessor, type SimpleSpanProcessorOptions } from './simple-span-processor.js';
export { HttpTransport, classify, type HttpOutcome, type HttpReply, type HttpTransportOptions } from './http-transport.js';
export { otlpHttpExporter, DEFAULT_OTLP_TRACES_URL, type OtlpHttpExporterOptions } from './otlp-http-exporter.js';
export { parsePartialSuccess, type PartialSuccess } from './otlp-partial-success.js';
export { zipkinExporter, DEFAULT_ZIPKIN_SPANS_URL, type ZipkinExporterOptions } from './zipkin-exporter.js';
export { jsonLinesFileExporter, type JsonLinesFileExporterOptions } from './json-lines-file-exporter.js';
export { jsonLineRecord, type JsonLineRecord } from './json-line-record.js';
export { consoleExporter, formatSpanLine, type ConsoleExporterOptions } from './console-exporter.js';
export { noopExporter } from './noop-exporter.js';
export { parseRetryAfter } from './retry-after.js';
export { retryDelayMs, type RetryPolicy } from './retry-delay.js';
