import type { ExportResult, SpanExporter } from '../types.js';

const SUCCESS: Promise<ExportResult> = Promise.resolve({ code: 'success' });
const DONE: Promise<void> = Promise.resolve();

/** Accepts and discards every batch, allocating nothing: measures the SDK without any I/O. */
export function noopExporter(): SpanExporter {
  return { export: () => SUCCESS, shutdown: () => DONE };
}
