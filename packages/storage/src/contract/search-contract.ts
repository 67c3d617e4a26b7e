/** Contract: trace search by each filter and combinations, limit, summaries, services, operations. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Finding, SpanStore, TraceQuery } from '../types.js';
import { span, spanIdOf, T0, traceIdOf } from './contract-spans.js';
import { rejectsInput, withStore } from './contract-harness.js';
import type { ContractStore, CreateContractStore } from './contract-harness.js';
import { searchWorld, SECOND, startOf, worldTrace, ZIPKIN_TRACE } from './search-world.js';

export function searchContract(create: CreateContractStore): void {
  describe('trace search', () => {
    let handle: ContractStore;
    let store: SpanStore;
    before(async () => {
      handle = await create();
      store = handle.store;
      await store.writeSpans(searchWorld());
    });
    after(async () => {
      await store.close();
      await handle.dispose?.();
    });

    /** World trace numbers found, in the order returned. */
    const find = async (q: TraceQuery): Promise<number[]> => {
      const hits = await store.findTraces(q);
      return hits.map((h) => {
        const n = [1, 2, 3, 4, 5, 6, 7].find((i) => worldTrace(i) === h.traceId);
        assert.ok(n !== undefined, `unexpected trace ${h.traceId}`);
        return n;
      });
    };

    const cases: [string, TraceQuery, number[]][] = [
      ['everything, newest first', {}, [7, 6, 5, 4, 3, 2, 1]],
      ['by service', { service: 'shop-api' }, [2, 1]],
      ['by service absent from the store', { service: 'nobody' }, []],
      ['by operation', { operation: 'consume' }, [4, 3]],
      ['by service and operation', { service: 'frontend', operation: 'GET /shop' }, [7, 2, 1]],
      ['service and operation on different spans do not combine', { service: 'frontend', operation: 'load-shop' }, []],
      ['by a text attribute', { attributes: { 'shop.id': '42' } }, [1]],
      ['by an integer attribute given as a number', { attributes: { 'http.status_code': 500 } }, [2]],
      ['by an integer attribute given as text (matches text and integer values)', { attributes: { 'http.status_code': '200' } }, [7, 1]],
      ['by a value with regex/LIKE metacharacters, literally', { attributes: { region: 'eu|west' } }, [7]],
      ['a pattern is not a wildcard', { attributes: { region: 'eu%' } }, []],
      ['by a resource attribute', { attributes: { 'k8s.pod': 'billing-1' } }, [3]],
      ['by a scope attribute', { attributes: { 'lib.flavour': 'fast' } }, [3]],
      ['by an event attribute', { attributes: { 'batch.size': 10 } }, [4]],
      ['by a link attribute', { attributes: { 'link.why': 'batched' } }, [4]],
      ['by an attribute key with another value', { attributes: { 'shop.id': '44' } }, []],
      ['all attributes must hold on one span', { attributes: { 'shop.id': '42', 'http.status_code': 500 } }, []],
      ['attributes from several places of one span combine', { attributes: { 'k8s.pod': 'billing-1', 'lib.flavour': 'fast' } }, [3]],
      ['by minimum duration (µs)', { minDurationUs: 20_000 }, [4, 3, 2]],
      ['by maximum duration', { maxDurationUs: 500 }, [4, 3]],
      ['by duration range, bounds inclusive', { minDurationUs: 4000, maxDurationUs: 15_000 }, [6, 2, 1]],
      ['duration filters never match a start record', { service: 'frontend', operation: 'GET /slow', minDurationUs: 0 }, []],
      ['a start record is found by other filters', { operation: 'GET /slow' }, [5]],
      ['by start time range, bounds inclusive', { startUs: startOf(3), endUs: startOf(4) }, [4, 3]],
      ['by start time from', { startUs: startOf(6) }, [7, 6]],
      ['a span starting inside the range brings its whole trace', { startUs: startOf(1) + 2000, endUs: startOf(1) + 2000 }, [1]],
      ['by error status', { status: 'error' }, [6, 2]],
      ['by ok status', { status: 'ok' }, [7, 1]],
      ['by unset status', { status: 'unset', service: 'shop-api' }, [1]],
      ['combined filters', { service: 'shop-api', operation: 'load-shop', status: 'error', minDurationUs: 10_000, attributes: { 'shop.id': '43' }, startUs: startOf(2), endUs: startOf(3) }, [2]],
      ['combined filters that exclude each other', { service: 'shop-api', status: 'error', attributes: { 'shop.id': '42' } }, []],
      ['limit keeps the newest', { service: 'frontend', limit: 2 }, [7, 5]],
      ['by a Zipkin 64-bit trace span', { service: 'users' }, [6]],
    ];
    for (const [what, q, expected] of cases) {
      it(what, async () => {
        assert.deepStrictEqual(await find(q), expected);
      });
    }

    it('summarises each hit over the whole trace (start records merged)', async () => {
      const [t2] = await store.findTraces({ attributes: { 'shop.id': '43' } });
      assert.deepStrictEqual(t2, {
        traceId: traceIdOf(2),
        startUs: startOf(2),
        durationUs: 20_000,
        spanCount: 2,
        errorCount: 2,
        services: ['frontend', 'shop-api'],
        root: { service: 'frontend', name: 'GET /shop' },
        findingCount: 0,
      });
      const [t5] = await store.findTraces({ operation: 'GET /slow' });
      assert.deepStrictEqual(t5, {
        traceId: traceIdOf(5),
        startUs: startOf(5),
        durationUs: 0,
        spanCount: 1,
        errorCount: 0,
        services: ['frontend'],
        root: { service: 'frontend', name: 'GET /slow' },
        findingCount: 0,
      });
      const [t6] = await store.findTraces({ service: 'gateway' });
      assert.equal(t6!.spanCount, 3, 'shared halves are two spans');
      assert.deepStrictEqual(t6!.services, ['gateway', 'users']);
    });

    const bad: [string, unknown, string][] = [
      ['limit 0', { limit: 0 }, 'limit'],
      ['a fractional limit', { limit: 1.5 }, 'limit'],
      ['a limit above the maximum', { limit: 10_001 }, 'limit'],
      ['a negative duration', { minDurationUs: -1 }, 'minDurationUs'],
      ['a NaN bound', { startUs: Number.NaN }, 'startUs'],
      ['a duration given as text', { maxDurationUs: '5' }, 'maxDurationUs'],
      ['an unknown status', { status: 'failed' }, 'status'],
      ['an object attribute value', { attributes: { a: { b: 1 } } }, 'attributes.a'],
      ['attributes given as text', { attributes: 'a=b' }, 'attributes'],
      ['a service that is not text', { service: 7 }, 'service'],
      ['hasFindings given as text', { hasFindings: 'true' }, 'hasFindings'],
      ['no query at all', null, 'query'],
    ];
    for (const [what, q, field] of bad) {
      it(`refuses ${what}`, async () => {
        await rejectsInput(store.findTraces(q as TraceQuery), 'invalid_query', field);
      });
    }

    it('lists services, sorted', async () => {
      assert.deepStrictEqual(await store.services(), ['billing', 'frontend', 'gateway', 'shop-api', 'users']);
    });

    it('lists the operations of a service, optionally of one kind', async () => {
      assert.deepStrictEqual(await store.operations('frontend'), [
        { name: 'GET /shop', kind: 'server' },
        { name: 'GET /slow', kind: 'server' },
        { name: 'POST /order', kind: 'server' },
        { name: 'publish', kind: 'producer' },
      ]);
      assert.deepStrictEqual(await store.operations('frontend', 'producer'), [{ name: 'publish', kind: 'producer' }]);
      assert.deepStrictEqual(await store.operations('billing', 'consumer'), [{ name: 'consume', kind: 'consumer' }]);
      assert.deepStrictEqual(await store.operations('nobody'), []);
      await rejectsInput(store.operations('frontend', 'SERVER' as 'server'), 'invalid_query', 'kind');
      await rejectsInput(store.operations(undefined as unknown as string), 'invalid_query', 'service');
    });
  });

  describe('search by findings', () => {
    const finding = (traceId: string, rule: Finding['rule'], spanId: string): Finding => ({
      traceId,
      rule,
      service: 'frontend',
      spanId,
      message: `${rule} at ${spanId}`,
      timeUs: T0,
    });

    it('hasFindings keeps traces with (or without) stored findings; each summary counts its findings', async () => {
      await withStore(create, async (store) => {
        await store.writeSpans(searchWorld());
        await store.writeFindings([
          finding(worldTrace(2), 'stage-error', spanIdOf(2, 1)),
          finding(worldTrace(2), 'missing-write', spanIdOf(2, 0)),
          // The same (trace, rule, span) again: it replaces the first, it is not a second finding.
          finding(worldTrace(2), 'missing-write', spanIdOf(2, 0)),
          finding(worldTrace(3), 'not-consumed', spanIdOf(3, 1)),
          // A Zipkin 64-bit trace, its finding stored under the padded id.
          finding(`0000000000000000${ZIPKIN_TRACE}`, 'unfinished-span', 'aaaa000000000002'),
        ]);
        const ids = async (q: TraceQuery): Promise<[string, number][]> => (await store.findTraces(q)).map((h) => [h.traceId, h.findingCount]);
        assert.deepStrictEqual(await ids({ hasFindings: true }), [
          [worldTrace(6), 1],
          [worldTrace(3), 1],
          [worldTrace(2), 2],
        ]);
        assert.deepStrictEqual(await ids({ hasFindings: false }), [7, 5, 4, 1].map((n) => [worldTrace(n), 0]));
        assert.deepStrictEqual(await ids({ hasFindings: true, service: 'shop-api' }), [[worldTrace(2), 2]]);
        assert.deepStrictEqual(await ids({ hasFindings: false, service: 'shop-api' }), [[worldTrace(1), 0]]);
        assert.deepStrictEqual(await ids({ service: 'frontend', limit: 3 }), [
          [worldTrace(7), 0],
          [worldTrace(5), 0],
          [worldTrace(3), 1],
        ]);
        // A re-check that cleared the faults leaves the trace without findings.
        await store.replaceFindings([worldTrace(2)], []);
        assert.deepStrictEqual(await ids({ hasFindings: true }), [
          [worldTrace(6), 1],
          [worldTrace(3), 1],
        ]);
      });
    });
  });

  describe('search over many matching spans', () => {
    it('finds the newest traces even when the newest one holds hundreds of matching spans', async () => {
      await withStore(create, async (store) => {
        const spans = [];
        for (let t = 1; t <= 5; t++) spans.push(span({ traceId: traceIdOf(t), spanId: spanIdOf(t, 0), name: 'poll', startUs: T0 + t * SECOND }));
        for (let i = 1; i <= 600; i++) spans.push(span({ traceId: traceIdOf(6), spanId: spanIdOf(6, i), name: 'poll', startUs: T0 + 6 * SECOND + i }));
        await store.writeSpans(spans);
        const hits = await store.findTraces({ operation: 'poll', limit: 3 });
        assert.deepStrictEqual(hits.map((h) => h.traceId), [6, 5, 4].map(traceIdOf));
        assert.equal(hits[0]!.spanCount, 600);
        assert.deepStrictEqual((await store.findTraces({ operation: 'poll', limit: 100 })).map((h) => h.traceId), [6, 5, 4, 3, 2, 1].map(traceIdOf));
      });
    });
  });

  describe('search over awkward text', () => {
    it('finds services, names and values holding separators, quotes and non-ASCII exactly', async () => {
      await withStore(create, async (store) => {
        const weird = ["o'brien \"svc\"", 'a\u001eb', 'x\u001f', '漢字 \u{1F680}', '%_*?', 'tab\there'];
        const spans = weird.map((w, i) =>
          span({ traceId: traceIdOf(i + 1), spanId: spanIdOf(i + 1, 0), service: w, name: w, startUs: T0 + i * SECOND, attributes: { [w]: w } }),
        );
        await store.writeSpans(spans);
        assert.deepStrictEqual(await store.services(), [...weird].sort());
        for (let i = 0; i < weird.length; i++) {
          const w = weird[i]!;
          const hits = await store.findTraces({ service: w, operation: w, attributes: { [w]: w } });
          assert.deepStrictEqual(hits.map((h) => h.traceId), [traceIdOf(i + 1)], JSON.stringify(w));
          assert.deepStrictEqual(await store.operations(w), [{ name: w, kind: 'internal' }]);
        }
        assert.deepStrictEqual(await store.findTraces({ service: 'a' }), []);
        assert.deepStrictEqual(await store.findTraces({ attributes: { a: 'b' } }), []);
      });
    });
  });
}
