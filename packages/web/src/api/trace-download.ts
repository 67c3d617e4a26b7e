/**
 * A trace as a file: the server encodes it (`GET /api/v1/traces/{id}?format=otlp|zipkin`, the one
 * place a trace is assembled); the page saves the answer. Fetched rather than linked, so the
 * bearer token goes with it and an error shows the server's message.
 */
import { getJson } from './client.js';

export type DownloadFormat = 'otlp' | 'zipkin';

/** Fetches the trace in `format` and hands it to the browser as a download; throws the API's error. */
export async function downloadTrace(traceId: string, format: DownloadFormat): Promise<void> {
  const body = await getJson<unknown>(`traces/${encodeURIComponent(traceId)}`, { format });
  const url = URL.createObjectURL(new Blob([JSON.stringify(body, null, 1)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `trace-${traceId}.${format}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has taken the blob once the click is handled.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
