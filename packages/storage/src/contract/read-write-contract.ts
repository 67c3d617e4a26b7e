/** Contract: a trace read back by id is what was written; start records merge; bad input is refused. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { fullSpan, sortForCompare, span, spanIdOf, startRecordOf, T0, traceIdOf } from './contract-spans.js';
import { rejectsInput, withStore } from './contract-harness.js';
import type { CreateContractStore } from './contract-harness.js';

export function readWriteContract(create: CreateContractStore): void {
  describe('trace by id', () => {
    it('returns every field of every span exactly as written', async () => {
      await withStore(create, async (store) => {
        const tid = traceIdOf(1);
        const root = fullSpan(tid, spanIdOf(1, 0));
        const child = { ...fullSpan(tid, spanIdOf(1, 1), root.spanId), kind: 'client' as const, startUs: T0 + 200_000 };
        const plain = span({ traceId: tid, spanId: spanIdOf(1, 2), parentSpanId: child.spanId });
        await store.writeSpans([child, root, plain]);
        const got = await store.getTrace(tid);
        assert.deepStrictEqual(sortForCompare(got), sortForCompare([root, child, plain]));
        assert.deepStrictEqual(
          got.map((s) => s.startUs),
          [...got.map((s) => s.startUs)].sort((a, b) => a - b),
          'spans come back by start time',
        );
      });
    });

    it('keeps traces apart and leaves other traces untouched', async () => {
      await withStore(create, async (store) => {
        const a = [span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0), service: 'a' })];
        const b = [span({ traceId: traceIdOf(2), spanId: spanIdOf(2, 0), service: 'b' }), span({ traceId: traceIdOf(2), spanId: spanIdOf(2, 1), service: 'b' })];
        await store.writeSpans([...b, ...a]);
        assert.deepStrictEqual(await store.getTrace(traceIdOf(1)), a);
        assert.deepStrictEqual(sortForCompare(await store.getTrace(traceIdOf(2))), sortForCompare(b));
        assert.deepStrictEqual(await store.getTrace(traceIdOf(3)), []);
      });
    });

    it('stores a Zipkin 64-bit trace id and finds it by the same 16 hex (and by its zero-padded form)', async () => {
      await withStore(create, async (store) => {
        const tid = '463ac35c9f6413ad';
        const spans = [span({ traceId: tid, spanId: 'a2fb4a1d1a96d312', service: 'zipkin-client' })];
        await store.writeSpans(spans);
        assert.deepStrictEqual(await store.getTrace(tid), spans);
        assert.deepStrictEqual(await store.getTrace(`0000000000000000${tid}`), spans);
        const hits = await store.findTraces({ service: 'zipkin-client' });
        assert.deepStrictEqual(hits.map((h) => h.traceId), [tid]);
        assert.deepStrictEqual(await store.getTrace('0000000000000001463ac35c9f6413ad'), []);
      });
    });

    it('merges a start record with its end record, the full record winning in either order', async () => {
      await withStore(create, async (store) => {
        const tid = traceIdOf(5);
        const full = fullSpan(tid, spanIdOf(5, 0));
        const early = span({ traceId: tid, spanId: spanIdOf(5, 1), parentSpanId: full.spanId, service: 'worker' });
        await store.writeSpans([startRecordOf(full)]);
        assert.deepStrictEqual(await store.getTrace(tid), [startRecordOf(full)], 'a lone start record reads back as a start record');
        await store.writeSpans([full]);
        // The end record first, its start record late (a retried start): the full one still wins.
        await store.writeSpans([early]);
        await store.writeSpans([startRecordOf(early)]);
        assert.deepStrictEqual(sortForCompare(await store.getTrace(tid)), sortForCompare([full, early]));
        // Both records in one batch.
        const tid2 = traceIdOf(6);
        const both = span({ traceId: tid2, spanId: spanIdOf(6, 0) });
        await store.writeSpans([startRecordOf(both), both]);
        assert.deepStrictEqual(await store.getTrace(tid2), [both]);
      });
    });

    it('returns a span written twice once', async () => {
      await withStore(create, async (store) => {
        const s = span({ traceId: traceIdOf(7), spanId: spanIdOf(7, 0) });
        await store.writeSpans([s]);
        await store.writeSpans([s, s]);
        assert.deepStrictEqual(await store.getTrace(traceIdOf(7)), [s]);
      });
    });

    it("keeps both halves of Zipkin's shared client/server span (same span id, two kinds)", async () => {
      await withStore(create, async (store) => {
        const tid = '1e223ff1f80f1c69';
        const client = span({ traceId: tid, spanId: '74280ae0c10d8062', parentSpanId: 'bf396325699c84bf', kind: 'client', service: 'servicea', startUs: T0 + 10 });
        const server = span({ traceId: tid, spanId: '74280ae0c10d8062', parentSpanId: 'bf396325699c84bf', kind: 'server', service: 'serviceb', shared: true, startUs: T0 + 20, durationUs: 50 });
        await store.writeSpans([server, client]);
        assert.deepStrictEqual(await store.getTrace(tid), [client, server]);
      });
    });

    it('returns [] and never rejects for malformed ids', async () => {
      await withStore(create, async (store) => {
        await store.writeSpans([span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0) })]);
        const bad: unknown[] = [
          '',
          'xyz',
          traceIdOf(1).toUpperCase(),
          traceIdOf(1).slice(1),
          `${traceIdOf(1)}0`,
          '00000000000000000000000000000000',
          '0000000000000000',
          `${traceIdOf(1).slice(0, 31)}g`,
          "' OR 1=1 --",
          null,
          undefined,
          42,
          {},
        ];
        for (const id of bad) assert.deepStrictEqual(await store.getTrace(id as string), [], `getTrace(${String(id)})`);
      });
    });

    it('getTraces answers in the order asked, with [] for unknown and malformed ids', async () => {
      await withStore(create, async (store) => {
        const a = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0) });
        const b = span({ traceId: traceIdOf(2), spanId: spanIdOf(2, 0) });
        await store.writeSpans([a, b]);
        const got = await store.getTraces([traceIdOf(2), 'nope', traceIdOf(9), traceIdOf(1), traceIdOf(2)]);
        assert.deepStrictEqual(got, [[b], [], [], [a], [b]]);
        assert.deepStrictEqual(await store.getTraces([]), []);
      });
    });

    it('reads a large trace and many traces in one call', async () => {
      await withStore(create, async (store) => {
        const big: Span[] = [];
        for (let i = 0; i < 2000; i++) {
          big.push(span({ traceId: traceIdOf(1), spanId: spanIdOf(1, i), parentSpanId: i ? spanIdOf(1, 0) : undefined, startUs: T0 + i, attributes: { i } }));
        }
        for (const s of big) if (s.parentSpanId === undefined) delete s.parentSpanId;
        const many: Span[] = [];
        for (let t = 10; t < 510; t++) many.push(span({ traceId: traceIdOf(t), spanId: spanIdOf(t, 0) }));
        await store.writeSpans([...big, ...many]);
        assert.deepStrictEqual(await store.getTrace(traceIdOf(1)), big);
        const got = await store.getTraces(many.map((s) => s.traceId));
        assert.deepStrictEqual(got, many.map((s) => [s]));
      });
    });
  });

  describe('writeSpans input checks', () => {
    const good = (): Span => span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0) });
    const cases: [string, unknown, string][] = [
      ['a trace id that is not hex', { ...good(), traceId: 'z'.repeat(32) }, 'spans[1].traceId'],
      ['an upper-case trace id', { ...good(), traceId: traceIdOf(1).toUpperCase() }, 'spans[1].traceId'],
      ['an all-zero trace id', { ...good(), traceId: '0'.repeat(32) }, 'spans[1].traceId'],
      ['a short span id', { ...good(), spanId: 'abc' }, 'spans[1].spanId'],
      ['a bad parent id', { ...good(), parentSpanId: 'not-an-id' }, 'spans[1].parentSpanId'],
      ['an unknown kind', { ...good(), kind: 'SERVER' }, 'spans[1].kind'],
      ['a NaN start', { ...good(), startUs: Number.NaN }, 'spans[1].startUs'],
      ['a negative duration', { ...good(), durationUs: -1 }, 'spans[1].durationUs'],
      ['a service that is not text', { ...good(), service: 42 }, 'spans[1].service'],
      ['an unknown status', { ...good(), status: { code: 'bad' } }, 'spans[1].status'],
      ['an object attribute value', { ...good(), attributes: { nested: { a: 1 } } }, 'spans[1].attributes.nested'],
      ['attributes that are not an object', { ...good(), attributes: 'a=b' }, 'spans[1].attributes'],
      ['events that are not an array', { ...good(), events: {} }, 'spans[1].events'],
      ['an event without time', { ...good(), events: [{ name: 'x' }] }, 'spans[1].events[0]'],
      ['a link without span id', { ...good(), links: [{ traceId: traceIdOf(2) }] }, 'spans[1].links[0]'],
      ['a startUnknown that is not a boolean', { ...good(), startUnknown: 'yes' }, 'spans[1].startUnknown'],
      ['null', null, 'spans[1]'],
      // The decoders' rules (model findSpanProblem), enforced by the stores too: one rule set.
      ['an rpcid that is not a position', { ...good(), rpcid: '1.2' }, 'spans[1].rpcid'],
      ['an empty service', { ...good(), service: '' }, 'spans[1].service'],
      ['a value longer than any receiver accepts', { ...good(), attributes: { big: 'x'.repeat(131_073) } }, 'spans[1].attributes.big'],
    ];
    for (const [what, bad, field] of cases) {
      it(`refuses the whole batch for ${what}`, async () => {
        await withStore(create, async (store) => {
          const ok = span({ traceId: traceIdOf(2), spanId: spanIdOf(2, 0) });
          await rejectsInput(store.writeSpans([ok, bad as Span]), 'invalid_span', field);
          assert.deepStrictEqual(await store.getTrace(traceIdOf(2)), [], 'nothing of a refused batch is stored');
          await store.writeSpans([ok]);
          assert.deepStrictEqual(await store.getTrace(traceIdOf(2)), [ok], 'the store still works');
        });
      });
    }

    it('refuses a batch that is not an array and accepts an empty one', async () => {
      await withStore(create, async (store) => {
        await rejectsInput(store.writeSpans('spans' as unknown as Span[]), 'invalid_span', 'spans');
        await store.writeSpans([]);
        assert.equal((await store.stats()).spanRecords, 0);
      });
    });
  });
}
