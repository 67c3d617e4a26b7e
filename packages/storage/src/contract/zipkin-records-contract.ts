/**
 * Contract: Zipkin data is kept as Zipkin keeps it. A fan-out recorded by each callee (several
 * SERVER spans with one span id, from different instances or at different times) stays several
 * spans; a span without timestamp merges with its partner, or stays a span of unknown start; a span
 * without duration is a finished span of unknown length. Search summaries count as reads do.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { span, startRecordOf, T0, traceIdOf } from './contract-spans.js';
import { withStore } from './contract-harness.js';
import type { CreateContractStore } from './contract-harness.js';

const ID = '9d2d35b746db84f3';

/** Canonical order when one span id and kind occur several times. */
function sortForCompare(spans: readonly Span[]): Span[] {
  const key = (s: Span): string => `${s.spanId} ${s.kind} ${s.instance ?? ''} ${String(s.startUs).padStart(20, '0')}`;
  return [...spans].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The caller of the fan-out and its callees: like smartthings-oauth-authorization.json (Zipkin's test data). */
function fanOut(tid: string): Span[] {
  const client = span({ traceId: tid, spanId: ID, parentSpanId: '19b91ab9a7d47f3d', kind: 'client', service: 'bouncer', instance: '10.0.0.173:8194', startUs: T0 + 10, durationUs: 900 });
  const server = (instance: string, at: number): Span =>
    span({ traceId: tid, spanId: ID, parentSpanId: '19b91ab9a7d47f3d', kind: 'server', service: 'pusher', instance, startUs: T0 + at, durationUnknown: true, shared: true, durationUs: undefined });
  const servers = [server('10.0.0.187:8197', 300), server('10.0.0.187:8197', 120), server('10.0.0.187:8197', 130), server('10.0.0.79:8197', 40), server('10.0.0.79:8197', 20)];
  for (const s of servers) delete s.durationUs;
  return [client, ...servers];
}

export function zipkinRecordsContract(create: CreateContractStore): void {
  describe('Zipkin records', () => {
    it('keeps every SERVER span of a fan-out (one span id, several instances and starts), in one batch or several', async () => {
      await withStore(create, async (store) => {
        const one = traceIdOf(60);
        const spans = fanOut(one);
        // A start record in the batch: the in-batch merge of start and end records must not fold the fan-out.
        const other = span({ traceId: one, spanId: '00000000000000aa', startUs: T0 + 5 });
        await store.writeSpans([...spans, startRecordOf(other), other]);
        assert.deepStrictEqual(sortForCompare(await store.getTrace(one)), sortForCompare([...spans, other]));
        const [hit] = await store.findTraces({ service: 'pusher' });
        assert.equal(hit!.spanCount, 7);

        const apart = traceIdOf(61);
        const spans2 = fanOut(apart);
        for (const s of spans2) await store.writeSpans([s]);
        await store.writeSpans(spans2); // a re-sent batch adds nothing
        assert.deepStrictEqual(sortForCompare(await store.getTrace(apart)), sortForCompare(spans2));
      });
    });

    it('merges a span without timestamp into its timed record (same id, kind, service, instance)', async () => {
      await withStore(create, async (store) => {
        const tid = traceIdOf(62);
        const timed = span({ traceId: tid, spanId: '00000000000000b1', kind: 'server', instance: '10.0.0.1:80', name: 'get', startUs: T0 + 100, durationUs: 50, attributes: { a: '1' } });
        const late = span({ traceId: tid, spanId: '00000000000000b1', kind: 'server', instance: '10.0.0.1:80', name: '', startUs: 0, startUnknown: true, attributes: { a: 'late', b: '2' } });
        delete late.durationUs;
        late.durationUnknown = true;
        await store.writeSpans([late]);
        await store.writeSpans([timed]);
        assert.deepStrictEqual(await store.getTrace(tid), [{ ...timed, attributes: { a: '1', b: '2' } }]);
        const [hit] = await store.findTraces({ service: 'svc', startUs: T0, endUs: T0 + 1_000 });
        assert.deepStrictEqual([hit!.spanCount, hit!.startUs, hit!.durationUs], [1, T0 + 100, 50]);

        // Pieces with less of an endpoint match any: no instance, or neither instance nor service.
        const noHost = { ...late, instance: undefined, attributes: { c: '3' } };
        delete noHost.instance;
        const noEndpoint = { ...noHost, service: 'unknown_service', attributes: { d: '4' } };
        await store.writeSpans([noHost, noEndpoint]);
        assert.deepStrictEqual(await store.getTrace(tid), [{ ...timed, attributes: { a: '1', b: '2', c: '3', d: '4' } }]);
        const [again] = await store.findTraces({ service: 'svc' });
        assert.equal(again!.spanCount, 1);
      });
    });

    it('keeps a span without timestamp and without partner as a span of unknown start, placed by its shared partner or parent', async () => {
      await withStore(create, async (store) => {
        const tid = traceIdOf(63);
        const client = span({ traceId: tid, spanId: '00000000000000c1', kind: 'client', service: 'front', startUs: T0 + 100, durationUs: 80 });
        const server = span({ traceId: tid, spanId: '00000000000000c1', kind: 'server', service: 'back', shared: true, startUs: 0, startUnknown: true, durationUs: 30 });
        const child = span({ traceId: tid, spanId: '00000000000000c2', parentSpanId: '00000000000000c1', service: 'back', startUs: 0, startUnknown: true });
        delete child.durationUs;
        child.durationUnknown = true;
        await store.writeSpans([server, child, client]);
        const read = await store.getTrace(tid);
        assert.deepStrictEqual(
          read.map((s) => [s.spanId, s.kind, s.startUs, s.startUnknown, s.durationUs, s.durationUnknown]),
          [
            ['00000000000000c1', 'client', T0 + 100, undefined, 80, undefined],
            ['00000000000000c1', 'server', T0 + 100, true, 30, undefined],
            ['00000000000000c2', 'internal', T0 + 100, true, undefined, true],
          ],
          'placed at the partner / parent start, still marked unknown, in start order',
        );
        const [hit] = await store.findTraces({ service: 'front' });
        assert.deepStrictEqual([hit!.spanCount, hit!.startUs, hit!.durationUs], [3, T0 + 100, 80], 'unknown starts are left out of the trace time');
        // A duration filter never matches a span of unknown length; the untimed span with a duration does.
        assert.equal((await store.findTraces({ service: 'back', minDurationUs: 0 })).length, 1);
        assert.equal((await store.findTraces({ service: 'back', operation: 'op', minDurationUs: 31 })).length, 0);

        // Alone in its trace: read back as written.
        const lone = traceIdOf(64);
        const only = { ...child, traceId: lone };
        await store.writeSpans([only]);
        assert.deepStrictEqual(await store.getTrace(lone), [only]);
      });
    });
  });
}
