/**
 * A small world of traces for search and dependency tests. Each trace starts one second after the
 * previous one, so "newest first" has one right answer.
 *
 *  1  frontend GET /shop (ok, 10 ms) → shop-api load-shop (4 ms, shop.id 42, 200) → client SELECT to mysql
 *  2  frontend GET /shop (error, 20 ms) → shop-api load-shop (error, 15 ms, shop.id 43, 500)
 *  3  frontend POST /order (50 ms) → producer publish to rabbitmq → billing consume (parent: producer);
 *     billing's resource has k8s.pod billing-1, its scope attribute lib.flavour fast
 *  4  billing batch (internal, 30 ms, event with attribute batch.size 10) → consumer linked to trace 3's producer
 *  5  frontend GET /slow: a start record only (no duration yet)
 *  6  Zipkin 64-bit id: gateway client GET /users + users server half (shared) + users db-query
 *  7  frontend GET /shop (ok, 1 ms, attribute http.status_code 200 as text, region "eu|west")
 */
import type { Span } from '@linktrace/model';
import { span, spanIdOf, startRecordOf, T0, traceIdOf } from './contract-spans.js';

export const SECOND = 1_000_000;
export const startOf = (trace: number): number => T0 + trace * SECOND;
export const ZIPKIN_TRACE = '5af7183fb1d4cf5f';

export function searchWorld(): Span[] {
  const t = (n: number): string => traceIdOf(n);
  const id = spanIdOf;
  const spans: Span[] = [
    span({ traceId: t(1), spanId: id(1, 0), service: 'frontend', name: 'GET /shop', kind: 'server', startUs: startOf(1), durationUs: 10_000, status: { code: 'ok' }, instance: '10.0.0.1:80' }),
    span({ traceId: t(1), spanId: id(1, 1), parentSpanId: id(1, 0), service: 'shop-api', name: 'load-shop', kind: 'server', startUs: startOf(1) + 1000, durationUs: 4000, attributes: { 'shop.id': '42', 'http.status_code': 200 } }),
    span({ traceId: t(1), spanId: id(1, 2), parentSpanId: id(1, 1), service: 'shop-api', name: 'SELECT', kind: 'client', startUs: startOf(1) + 2000, durationUs: 1000, remote: { service: 'mysql' } }),

    span({ traceId: t(2), spanId: id(2, 0), service: 'frontend', name: 'GET /shop', kind: 'server', startUs: startOf(2), durationUs: 20_000, status: { code: 'error', message: 'bad gateway' } }),
    span({ traceId: t(2), spanId: id(2, 1), parentSpanId: id(2, 0), service: 'shop-api', name: 'load-shop', kind: 'server', startUs: startOf(2) + 1000, durationUs: 15_000, status: { code: 'error' }, attributes: { 'shop.id': '43', 'http.status_code': 500 } }),

    span({ traceId: t(3), spanId: id(3, 0), service: 'frontend', name: 'POST /order', kind: 'server', startUs: startOf(3), durationUs: 50_000 }),
    span({ traceId: t(3), spanId: id(3, 1), parentSpanId: id(3, 0), service: 'frontend', name: 'publish', kind: 'producer', startUs: startOf(3) + 1000, durationUs: 500, remote: { service: 'rabbitmq' } }),
    span({
      traceId: t(3), spanId: id(3, 2), parentSpanId: id(3, 1), service: 'billing', name: 'consume', kind: 'consumer', startUs: startOf(3) + 3000, durationUs: 2000,
      resource: { 'k8s.pod': 'billing-1' }, scope: { name: 'amqp-instr', attributes: { 'lib.flavour': 'fast' } },
    }),

    span({ traceId: t(4), spanId: id(4, 0), service: 'billing', name: 'batch', kind: 'internal', startUs: startOf(4), durationUs: 30_000, events: [{ timeUs: startOf(4) + 5, name: 'flush', attributes: { 'batch.size': 10 } }] }),
    span({ traceId: t(4), spanId: id(4, 1), parentSpanId: id(4, 0), service: 'billing', name: 'consume', kind: 'consumer', startUs: startOf(4) + 100, durationUs: 300, links: [{ traceId: t(3), spanId: id(3, 1), attributes: { 'link.why': 'batched' } }] }),

    startRecordOf(span({ traceId: t(5), spanId: id(5, 0), service: 'frontend', name: 'GET /slow', kind: 'server', startUs: startOf(5) })),

    span({ traceId: ZIPKIN_TRACE, spanId: 'aaaa000000000001', service: 'gateway', name: 'GET /users', kind: 'client', startUs: startOf(6), durationUs: 9000, instance: '10.0.0.9' }),
    span({ traceId: ZIPKIN_TRACE, spanId: 'aaaa000000000001', service: 'users', name: 'GET /users', kind: 'server', shared: true, startUs: startOf(6) + 100, durationUs: 8000, instance: '10.0.0.10:8080' }),
    span({ traceId: ZIPKIN_TRACE, spanId: 'aaaa000000000002', parentSpanId: 'aaaa000000000001', service: 'users', name: 'db-query', kind: 'client', startUs: startOf(6) + 200, durationUs: 5000, instance: '10.0.0.10:8080', status: { code: 'error' } }),

    span({ traceId: t(7), spanId: id(7, 0), service: 'frontend', name: 'GET /shop', kind: 'server', startUs: startOf(7), durationUs: 1000, status: { code: 'ok' }, attributes: { 'http.status_code': '200', region: 'eu|west' } }),
  ];
  return spans;
}

/** The trace id of world trace `n` as the store reports it. */
export function worldTrace(n: number): string {
  return n === 6 ? ZIPKIN_TRACE : traceIdOf(n);
}
