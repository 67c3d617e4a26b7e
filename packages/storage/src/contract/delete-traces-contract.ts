/**
 * Contract: tail sampling deletes whole traces (`deleteTraces`): every record of the traces named
 * (start records stored apart from their end records too), their findings, their search summaries
 * and what they added to services and dependencies; nothing of any other trace. Unknown and
 * malformed ids are ignored; a Zipkin 64-bit id names its trace in either form.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding } from '../types.js';
import { sortForCompare, span, spanIdOf, startRecordOf, traceIdOf } from './contract-spans.js';
import { rejectsInput, withStore } from './contract-harness.js';
import type { CreateContractStore } from './contract-harness.js';
import { searchWorld, startOf, worldTrace, ZIPKIN_TRACE } from './search-world.js';

const finding = (traceId: string, spanId: string, rule: Finding['rule'] = 'stage-error'): Finding => ({
  traceId,
  rule,
  service: 'svc',
  spanId,
  message: `finding on ${traceId}`,
  timeUs: startOf(1),
});

export function deleteTracesContract(create: CreateContractStore): void {
  describe('deleteTraces (tail sampling)', () => {
    it('removes the traces named, with their findings, and nothing else', async () => {
      await withStore(create, async (store) => {
        const world = searchWorld();
        await store.writeSpans(world);
        const dropped = [worldTrace(3), worldTrace(4)];
        const kept = world.filter((s) => !dropped.includes(s.traceId));
        const keptFinding = finding(worldTrace(1), spanIdOf(1, 0));
        await store.writeFindings([finding(worldTrace(3), spanIdOf(3, 1), 'not-consumed'), finding(worldTrace(4), spanIdOf(4, 1)), keptFinding]);
        const result = await store.deleteTraces(dropped);
        assert.deepStrictEqual(result, { spans: world.length - kept.length, findings: 2 });
        for (const id of dropped) assert.deepStrictEqual(await store.getTrace(id), [], `trace ${id} was dropped`);
        assert.deepStrictEqual(sortForCompare(await store.getTrace(worldTrace(1))), sortForCompare(world.filter((s) => s.traceId === worldTrace(1))));
        assert.deepStrictEqual((await store.findTraces({})).map((h) => h.traceId), [7, 6, 5, 2, 1].map(worldTrace));
        assert.deepStrictEqual(await store.findTraces({ service: 'billing' }), [], 'billing had spans in the dropped traces only');
        assert.deepStrictEqual(await store.findFindings(), [keptFinding]);
        assert.equal((await store.stats()).spanRecords, kept.length);
        assert.deepStrictEqual(await store.deleteTraces(dropped), { spans: 0, findings: 0 }, 'a second call finds nothing more');
      });
    });

    it('removes a start record stored apart from its end record, and a trace that has only a start record', async () => {
      await withStore(create, async (store) => {
        const root = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0), durationUs: 500 });
        const child = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 1), parentSpanId: root.spanId, durationUs: 100 });
        await store.writeSpans([startRecordOf(child)]);
        await store.writeSpans([root, child]);
        const other = span({ traceId: traceIdOf(2), spanId: spanIdOf(2, 0) });
        await store.writeSpans([other]);
        const records = (await store.stats()).spanRecords;
        assert.deepStrictEqual(await store.deleteTraces([traceIdOf(1), worldTrace(5)]), { spans: records - 1, findings: 0 });
        assert.deepStrictEqual(await store.getTrace(traceIdOf(1)), []);
        assert.deepStrictEqual(await store.getTrace(traceIdOf(2)), [other]);
        await store.writeSpans([startRecordOf(span({ traceId: traceIdOf(3), spanId: spanIdOf(3, 0) }))]);
        assert.deepStrictEqual(await store.deleteTraces([traceIdOf(3)]), { spans: 1, findings: 0 });
        assert.deepStrictEqual((await store.findTraces({})).map((h) => h.traceId), [traceIdOf(2)]);
      });
    });

    it('names a Zipkin 64-bit trace by its 16-hex id or the 32-hex id with leading zeros', async () => {
      for (const asked of [ZIPKIN_TRACE, `0000000000000000${ZIPKIN_TRACE}`]) {
        await withStore(create, async (store) => {
          const world = searchWorld();
          await store.writeSpans(world);
          await store.writeFindings([finding(ZIPKIN_TRACE, 'aaaa000000000002')]);
          const records = world.filter((s) => s.traceId === ZIPKIN_TRACE).length;
          assert.deepStrictEqual(await store.deleteTraces([asked]), { spans: records, findings: 1 }, asked);
          assert.deepStrictEqual(await store.getTrace(ZIPKIN_TRACE), []);
          assert.deepStrictEqual(await store.findFindings(), []);
          assert.ok(!(await store.services()).includes('gateway'), 'gateway had spans in the Zipkin trace only');
        });
      }
    });

    it('ignores unknown and malformed ids, and an empty list', async () => {
      await withStore(create, async (store) => {
        const world = searchWorld();
        await store.writeSpans(world);
        assert.deepStrictEqual(await store.deleteTraces([]), { spans: 0, findings: 0 });
        assert.deepStrictEqual(await store.deleteTraces([traceIdOf(99), 'not-a-trace-id', '', 'ABCDEF0123456789ABCDEF0123456789']), { spans: 0, findings: 0 });
        assert.equal((await store.stats()).spanRecords, world.length);
      });
    });

    it('takes a trace id given twice once, and lets the trace be written again afterwards', async () => {
      await withStore(create, async (store) => {
        const s = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0) });
        await store.writeSpans([s]);
        assert.deepStrictEqual(await store.deleteTraces([traceIdOf(1), traceIdOf(1)]), { spans: 1, findings: 0 });
        // Late spans of a dropped trace are a new, partial trace: stored and found as usual.
        const late = span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 1) });
        await store.writeSpans([late]);
        assert.deepStrictEqual(await store.getTrace(traceIdOf(1)), [late]);
        const [hit] = await store.findTraces({});
        assert.deepStrictEqual([hit?.traceId, hit?.spanCount], [traceIdOf(1), 1]);
      });
    });

    it('refuses a list that is not an array', async () => {
      await withStore(create, async (store) => {
        await rejectsInput(store.deleteTraces('0123' as unknown as string[]), 'invalid_query', 'traceIds');
      });
    });
  });
}
