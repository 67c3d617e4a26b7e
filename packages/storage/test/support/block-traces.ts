/** Small synthetic traces and an exactly-once check shared by the block store's tests. */
import assert from 'node:assert/strict';
import type { Span } from '@linktrace/model';
import { span, spanIdOf, T0, traceIdOf } from '../../src/contract/contract-spans.js';
import type { BlockStore } from '../../src/blocks/block-store.js';

/** `perTrace` spans for each trace number in [from, to): a root and its children, a route and the trace number as attributes. */
export function traces(from: number, to: number, perTrace = 3): Span[] {
  const out: Span[] = [];
  for (let t = from; t < to; t++) {
    for (let i = 0; i < perTrace; i++) {
      out.push(
        span({
          traceId: traceIdOf(t),
          spanId: spanIdOf(t, i),
          ...(i > 0 ? { parentSpanId: spanIdOf(t, 0) } : {}),
          service: `svc-${t % 3}`,
          startUs: T0 + t * 10 + i,
          attributes: { 'http.route': `/r/${t % 7}`, n: t },
        }),
      );
    }
  }
  return out;
}

/** Every span record of traces [0, n) is read exactly once, each trace whole, by trace id and by count. */
export async function assertAllOnce(store: BlockStore, n: number, perTrace = 3): Promise<void> {
  const got = await store.getTraces(Array.from({ length: n }, (_, t) => traceIdOf(t)));
  got.forEach((spans, t) => assert.equal(spans.length, perTrace, `trace ${t}: ${spans.length} spans`));
  assert.equal((await store.stats()).spanRecords, n * perTrace);
}
