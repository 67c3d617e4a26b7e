/** Spans the contract suite writes: every field of the model set, and small named scenarios. */
import type { Span } from '@linktrace/model';
import { T0 } from '@linktrace/model/testing';

// The span factory and its start time are the model's test support, shared with the other packages' tests.
export { span, T0 } from '@linktrace/model/testing';

/** A 32-hex trace id whose first bytes grow with `n`, like Linktrace's time-prefixed ids. */
export function traceIdOf(n: number): string {
  return (T0 * 1000 + n * 1_000_000).toString(16).padStart(16, '0') + n.toString(16).padStart(4, '0') + '7f0000011f90';
}

/** A span id unique per (trace number, span number). */
export function spanIdOf(trace: number, span: number): string {
  return `${(trace + 1).toString(16).padStart(8, '0')}${(span + 1).toString(16).padStart(8, '0')}`;
}

/** One span with every optional field set, values of every attribute type, and awkward text. */
export function fullSpan(traceId: string, spanId: string, parentSpanId?: string): Span {
  const s: Span = {
    traceId,
    spanId,
    rpcid: '0.2.1',
    service: 'checkout-service',
    instance: '10.1.2.3:8080',
    name: 'POST /api/orders/:id',
    kind: 'server',
    startUs: T0 + 123_456,
    durationUs: 7_890,
    status: { code: 'error', message: 'upstream said "no" \u2014 retry later' },
    attributes: {
      'http.method': 'POST',
      'http.status_code': 503,
      'retry.ratio': 0.25,
      'whole.double': 3,
      'cache.hit': false,
      'tags': ['a', 'b', ''],
      'codes': [1, 2.5, -3],
      'flags': [true, false],
      'payload.hash': new Uint8Array([0, 1, 254, 255]),
      'empty': '',
      'unicode': 'ünïcödé \u{1F680} 漢字',
      'separators': 'a\u001eb\u001fc\u001dd\u001ce\u001bf\u0000g\n\t',
      'linktrace.stage': 'write',
      'linktrace.entity.type': 'order',
      'linktrace.entity.key': '4711',
      'linktrace.entity.version': 7,
      'linktrace.target': 'mysql:orders',
      // A computed key makes an own property: a client may send any key, this one included.
      ['__proto__']: 'not a prototype',
    },
    events: [
      { timeUs: T0 + 124_000, name: 'retry', attributes: { attempt: 2, 'error.type': 'timeout' } },
      { timeUs: T0 + 125_000, name: 'no-attributes' },
      { timeUs: T0 + 126_000, name: 'empty-attributes', attributes: {} },
    ],
    links: [
      { traceId: traceIdOf(999), spanId: 'aaaaaaaaaaaaaaaa', traceState: 'lt=0.1,vendor=x', attributes: { 'link.kind': 'batch' } },
      { traceId: 'bbbbbbbbbbbbbbbb', spanId: 'cccccccccccccccc' },
    ],
    traceState: 'lt=0.2.1,congo=t61rcWkgMzE',
    resource: { 'host.name': 'node-7', 'process.pid': 4242, 'deployment.environment': 'prod' },
    scope: { name: '@linktrace/sdk', version: '0.1.0', attributes: { 'scope.flag': true } },
    remote: { service: 'orders-db', ipv4: '10.9.8.7', port: 3306 },
    shared: false,
    debug: true,
    doubleKeys: ['retry.ratio', 'whole.double'],
    dropped: { attributes: 1, events: 2, links: 3 },
  };
  if (parentSpanId !== undefined) s.parentSpanId = parentSpanId;
  return s;
}

/** `s` without its duration: the start record the SDK sends when the span begins. */
export function startRecordOf(s: Span): Span {
  const start: Span = { ...s, status: { code: 'unset' }, events: [] };
  delete start.durationUs;
  return start;
}

/** Canonical order for comparing span lists read back with what was written. */
export function sortForCompare(spans: readonly Span[]): Span[] {
  return [...spans].sort((a, b) =>
    a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0,
  );
}
