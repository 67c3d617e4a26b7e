/**
 * Inferred traces as spans, for `linktrace infer --server`: each `in` record a server span, each
 * `out` record with a known parent a client span under it, the callee's server span under that.
 * Every span says it is inferred (`linktrace.inferred` = true) and how sure
 * (`linktrace.inferred.confidence`), and which input line it came from, so the UI can mark it and
 * nobody mistakes it for a recorded trace. Ids are derived from the run and the line numbers: the
 * same file sent twice gives the same ids (the store keeps one copy).
 */
import { stringHash32, type Span } from '@linktrace/model';
import type { EmittedCall, EmittedLink, LogRecord } from '@linktrace/analysis';

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

export class InferredSpans {
  private readonly runHi: number;
  private readonly runLo: number;

  /** `runKey`: what makes this run's ids its own (the input's path and size). */
  constructor(runKey: string) {
    this.runHi = stringHash32(runKey);
    this.runLo = stringHash32(runKey, 0x9e3779b9);
  }

  traceId(rootLine: number): string {
    return `${hex8(this.runHi)}${hex8(this.runLo)}${hex8(Math.floor(rootLine / 2 ** 32))}${hex8(rootLine)}`;
  }

  /** Server spans and client spans of one line never share an id (a proxy's line is both). */
  spanId(line: number, client: boolean): string {
    const hi = (stringHash32(String(line), this.runHi) & 0x7fffffff) | (client ? 0x80000000 : 0);
    return `${hex8(hi)}${hex8(line + 1)}`;
  }

  private base(r: LogRecord, kind: 'server' | 'client', confidence: number): Span {
    const error = typeof r.status === 'number' && r.status >= 500;
    return {
      traceId: '',
      spanId: '',
      service: r.service,
      instance: r.instance,
      name: r.endpoint === '' ? (kind === 'server' ? 'request' : 'call') : r.endpoint,
      kind,
      startUs: r.startUs,
      durationUs: r.endUs - r.startUs,
      status: error ? { code: 'error', message: `status ${r.status}` } : { code: 'unset' },
      attributes: {
        'linktrace.inferred': true,
        'linktrace.inferred.confidence': Math.round(confidence * 1000) / 1000,
        'linktrace.inferred.line': r.line,
        ...(typeof r.status === 'number' ? { 'http.response.status_code': r.status } : {}),
      },
      doubleKeys: ['linktrace.inferred.confidence'],
      events: [],
      links: [],
    };
  }

  server(link: EmittedLink, r: LogRecord): Span {
    const span = this.base(r, 'server', link.confidence);
    span.traceId = this.traceId(link.root);
    span.spanId = this.spanId(r.line, false);
    if (link.parent !== null) span.parentSpanId = link.call !== undefined ? this.spanId(link.call, true) : this.spanId(link.parent, false);
    return span;
  }

  /** A client span for an outgoing call whose parent request is known; undefined otherwise (nowhere to hang it). */
  client(call: EmittedCall, r: LogRecord): Span | undefined {
    if (call.parent === null || call.root === null) return undefined;
    const span = this.base(r, 'client', call.confidence);
    span.traceId = this.traceId(call.root);
    span.spanId = this.spanId(r.line, true);
    span.parentSpanId = this.spanId(call.parent, false);
    const peer = r.peer ?? r.remote;
    if (peer !== undefined) span.remote = { service: peer };
    return span;
  }
}
