// Test support shared by the packages' tests and the storage contract suite (`@linktrace/model/testing`):
// span factories only, never imported by the model code itself.
import type { Span } from '../span.js';

/** µs: 2024-01-01T00:00:00Z, so times look real and stay far from zero. */
export const T0 = 1_704_067_200_000_000;

/** A plain finished span (service `svc`, `op`, internal, at T0 for 100 µs); `over` replaces any field. */
export function span(over: Partial<Span> & Pick<Span, 'traceId' | 'spanId'>): Span {
  return {
    service: 'svc',
    name: 'op',
    kind: 'internal',
    startUs: T0,
    durationUs: 100,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    ...over,
  };
}
