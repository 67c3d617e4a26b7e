/** The trace page's download buttons: the trace as OTLP JSON or Zipkin JSON, encoded by the server. */
import { useState, type ReactNode } from 'react';
import { downloadTrace, type DownloadFormat } from '../api/trace-download.js';

const FORMATS: readonly { format: DownloadFormat; label: string; title: string }[] = [
  { format: 'otlp', label: 'OTLP JSON', title: 'OpenTelemetry OTLP/HTTP JSON: POST it to any OTLP receiver (/v1/traces)' },
  { format: 'zipkin', label: 'Zipkin JSON', title: 'Zipkin v2 JSON: POST it to any Zipkin receiver (/api/v2/spans)' },
];

export function DownloadTrace({ traceId }: { traceId: string }): ReactNode {
  const [error, setError] = useState<string | undefined>(undefined);
  return (
    <span className="download-trace">
      Download:
      {FORMATS.map((f) => (
        <button
          key={f.format}
          type="button"
          className="link-button"
          title={f.title}
          onClick={() => {
            setError(undefined);
            downloadTrace(traceId, f.format).catch((e: unknown) => setError(`Download failed: ${e instanceof Error ? e.message : String(e)}`));
          }}
        >
          {f.label}
        </button>
      ))}
      {error !== undefined ? (
        <span role="alert" className="status error">
          {error}
        </span>
      ) : null}
    </span>
  );
}
