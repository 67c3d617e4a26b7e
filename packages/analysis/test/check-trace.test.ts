import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Span } from '@linktrace/model';
import { checkTrace, HOST_CROSSING_RULES } from '../src/check-trace.js';
import type { Finding } from '../src/finding.js';
import { ID, LATER, SHOP, T0, TRACE, byId, shopSync, startRecord, without } from './shop-sync.js';

const SHOP_V7 = { type: 'shop', key: '42', version: '7' };

function only(findings: Finding[]): Finding {
  assert.equal(findings.length, 1, `expected one finding, got ${JSON.stringify(findings, null, 1)}`);
  return findings[0]!;
}

describe('checkTrace: healthy traces', () => {
  it('a complete shop-sync trace has no finding', () => {
    assert.deepEqual(checkTrace(shopSync(), {}, LATER), []);
  });
  it('spans in any order, reported twice (start record then full record), still no finding', () => {
    const spans = shopSync();
    const twice = [...spans.map(startRecord), ...spans].reverse();
    assert.deepEqual(checkTrace(twice, {}, LATER), []);
  });
  it('spans from another tracer (no rpcid, Zipkin-style) with linktrace.* attributes are checked the same', () => {
    const spans = shopSync().map((s) => {
      const c = { ...s };
      delete c.rpcid;
      return c;
    });
    assert.deepEqual(checkTrace(spans, {}, LATER), []);
    const f = only(checkTrace(without(spans, ID.queryWrite), {}, LATER));
    assert.equal(f.rule, 'missing-write');
  });
  it('an empty trace has no finding', () => {
    assert.deepEqual(checkTrace([], {}, LATER), []);
  });
});

describe('checkTrace: one fault, one finding', () => {
  it('missing-write: shop-query received shop 42 v7 and never wrote it', () => {
    const f = only(checkTrace(without(shopSync(), ID.queryWrite), {}, LATER));
    assert.deepEqual(f, {
      traceId: TRACE,
      rule: 'missing-write',
      service: 'shop-query',
      spanId: ID.queryReceive,
      message: 'shop-query received shop 42 v7 and never wrote it',
      timeUs: T0 + 150_000,
      entity: SHOP_V7,
    });
  });
  it('missing-write: sync-worker received and wrote nothing (and called nobody)', () => {
    const f = only(checkTrace(without(shopSync(), ID.workerMysql, ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite), {}, LATER));
    assert.equal(f.rule, 'missing-write');
    assert.equal(f.spanId, ID.workerReceive);
    assert.equal(f.message, 'sync-worker received shop 42 v7 and never wrote it');
  });
  it('missing-write: a write of another entity does not count; a write of another version does not count', () => {
    const spans = shopSync();
    for (const id of [ID.workerMysql, ID.workerRedis, ID.workerHttp]) byId(spans, id).attributes['linktrace.entity.key'] = '43';
    let f = only(checkTrace(spans, {}, LATER));
    assert.equal(f.rule, 'missing-write');
    assert.equal(f.spanId, ID.workerReceive);
    for (const id of [ID.workerMysql, ID.workerRedis, ID.workerHttp]) {
      byId(spans, id).attributes['linktrace.entity.key'] = '42';
      byId(spans, id).attributes['linktrace.entity.version'] = 6;
    }
    f = only(checkTrace(spans, {}, LATER));
    assert.equal(f.rule, 'missing-write');
  });
  it('missing-write: a skip with a reason counts as handled', () => {
    const spans = without(shopSync(), ID.queryWrite);
    const skip: Span = { ...byId(shopSync(), ID.queryWrite), attributes: { ...SHOP, 'linktrace.stage': 'skip', 'linktrace.skip.reason': 'unchanged' } };
    assert.deepEqual(checkTrace([...spans, skip], {}, LATER), []);
  });
  it("missing-write: a write in a sibling span of the same service counts (the service's subtree)", () => {
    const spans = shopSync();
    // shop-query records its receive as a short child of the server span, and the write as its sibling.
    const server = byId(spans, ID.queryReceive);
    delete server.attributes['linktrace.stage'];
    const receive: Span = { ...server, spanId: 'c000000000000009', parentSpanId: ID.queryReceive, kind: 'internal', attributes: { ...SHOP, 'linktrace.stage': 'receive' } };
    assert.deepEqual(checkTrace([...spans, receive], {}, LATER), []);
  });
  it('missing-downstream-receive: sync-worker wrote to http:shop-query and no service received it', () => {
    const f = only(checkTrace(without(shopSync(), ID.queryReceive, ID.queryWrite), {}, LATER));
    assert.deepEqual(f, {
      traceId: TRACE,
      rule: 'missing-downstream-receive',
      service: 'sync-worker',
      spanId: ID.workerHttp,
      message: 'sync-worker wrote shop 42 v7 to http:shop-query and no service received it',
      timeUs: T0 + 145_000,
      entity: SHOP_V7,
      target: 'http:shop-query',
    });
  });
  it('a write to a store target expects no downstream receive', () => {
    const spans = shopSync();
    byId(spans, ID.workerHttp).attributes['linktrace.target'] = 'postgres:shops';
    assert.deepEqual(checkTrace(without(spans, ID.queryReceive, ID.queryWrite), {}, LATER), []);
  });
  it('not-consumed: shop-changed message enqueued by merchant-api, never consumed', () => {
    const spans = without(shopSync(), ID.workerReceive, ID.workerMysql, ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite);
    const f = only(checkTrace(spans, {}, LATER));
    assert.equal(f.rule, 'not-consumed');
    assert.equal(f.service, 'merchant-api');
    assert.equal(f.spanId, ID.apiEnqueue);
    assert.equal(f.target, 'mq:shop-changed');
    assert.equal(f.message, 'shop-changed message enqueued by merchant-api, never consumed');
  });
  it('not-consumed: a consumer that started after the deadline is late', () => {
    const spans = shopSync();
    for (const s of spans) if (s.service !== 'merchant-api') s.startUs += 40_000_000;
    const f = only(checkTrace(spans, {}, T0 + 80_000_000));
    assert.equal(f.rule, 'not-consumed');
    assert.match(f.message, /^shop-changed message enqueued by merchant-api, consumed only after 40 s \(deadline 30 s\)$/);
    assert.deepEqual(checkTrace(spans, { deadlineMs: 60_000 }, T0 + 80_000_000), []);
  });
  it('not-consumed: a consumer in a trace of its own, linked to the producer, consumes it', () => {
    const spans = shopSync();
    const consumer = byId(spans, ID.workerReceive);
    delete consumer.parentSpanId;
    delete consumer.rpcid;
    consumer.links = [{ traceId: TRACE, spanId: ID.apiEnqueue }];
    assert.deepEqual(checkTrace(spans, {}, LATER), []);
    // and the rules keep following the chain across the link: shop-query's missing write is found
    assert.equal(only(checkTrace(without(spans, ID.queryWrite), {}, LATER)).rule, 'missing-write');
  });
  it('duplicate-write: shop 42 v7 written twice to mysql:user_shop', () => {
    const spans = shopSync();
    const again: Span = { ...byId(spans, ID.workerMysql), spanId: 'b000000000000005', rpcid: '0.2.4', startUs: T0 + 250_000 };
    const f = only(checkTrace([...spans, again], {}, LATER));
    assert.equal(f.rule, 'duplicate-write');
    assert.equal(f.spanId, 'b000000000000005');
    assert.equal(f.service, 'sync-worker');
    assert.equal(f.message, 'shop 42 v7 written twice to mysql:user_shop');
    assert.deepEqual(f.entity, SHOP_V7);
    const third: Span = { ...again, spanId: 'b000000000000006' };
    assert.equal(only(checkTrace([...spans, again, third], {}, LATER)).message, 'shop 42 v7 written 3 times to mysql:user_shop');
  });
  it('duplicate-write: a failed write then a retry is no duplicate; another version is no duplicate', () => {
    const spans = shopSync();
    const failed: Span = { ...byId(spans, ID.workerMysql), spanId: 'b000000000000005', status: { code: 'error', message: 'timeout' } };
    const findings = checkTrace([...spans, failed], {}, LATER);
    assert.deepEqual(findings.map((f) => f.rule), ['stage-error']);
    const v8: Span = { ...byId(spans, ID.workerMysql), spanId: 'b000000000000006', attributes: { ...byId(spans, ID.workerMysql).attributes, 'linktrace.entity.version': 8 } };
    assert.deepEqual(checkTrace([...spans, v8], {}, LATER), []);
  });
  it('unfinished-span: the worker crashed while writing; only the deepest open span is reported', () => {
    const spans = without(shopSync(), ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite);
    const crashed = spans.map((s) => (s.service === 'sync-worker' ? startRecord(s) : s));
    const f = only(checkTrace(crashed, {}, LATER));
    assert.equal(f.rule, 'unfinished-span');
    assert.equal(f.spanId, ID.workerMysql);
    assert.equal(f.service, 'sync-worker');
    assert.equal(f.target, 'mysql:user_shop');
    assert.match(f.message, /^sync-worker write of shop 42 v7 to mysql:user_shop started 31 s before the check and never ended$/);
  });
  it('unfinished-span: a span still within the deadline is in progress, and nothing waiting on it is reported', () => {
    const spans = without(shopSync(), ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite);
    const running = spans.map((s) => (s.service === 'sync-worker' ? startRecord(s) : s));
    assert.deepEqual(checkTrace(running, {}, T0 + 5_000_000), []);
    assert.equal(only(checkTrace(running, { deadlineMs: 2_000 }, T0 + 5_000_000)).rule, 'unfinished-span');
  });
  it('stage-error: a failed write is reported once, not also on the failed receive above it, and not as missing-write', () => {
    const spans = without(shopSync(), ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite);
    byId(spans, ID.workerMysql).status = { code: 'error', message: 'ER_LOCK_DEADLOCK' };
    byId(spans, ID.workerReceive).status = { code: 'error', message: 'handler failed' };
    const f = only(checkTrace(spans, {}, LATER));
    assert.equal(f.rule, 'stage-error');
    assert.equal(f.spanId, ID.workerMysql);
    assert.equal(f.message, 'sync-worker write of shop 42 v7 to mysql:user_shop failed: ER_LOCK_DEADLOCK');
  });
  it('stage-error: a failed receive with nothing written is stage-error, not missing-write', () => {
    const spans = without(shopSync(), ID.workerMysql, ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite);
    byId(spans, ID.workerReceive).status = { code: 'error' };
    const f = only(checkTrace(spans, {}, LATER));
    assert.equal(f.rule, 'stage-error');
    assert.equal(f.spanId, ID.workerReceive);
    assert.equal(f.message, 'sync-worker receive of shop 42 v7 failed');
  });
  it('precedence across services: shop-query hung, so the open call above it and the missing write are not reported', () => {
    const spans = shopSync().map((s) => (s.spanId === ID.workerHttp || s.spanId === ID.workerReceive || s.spanId === ID.queryReceive ? startRecord(s) : s));
    const f = only(checkTrace(without(spans, ID.queryWrite), {}, LATER));
    assert.equal(f.rule, 'unfinished-span');
    assert.equal(f.spanId, ID.queryReceive);
  });
  it('precedence: a failed http write is stage-error, not missing-downstream-receive', () => {
    const spans = without(shopSync(), ID.queryReceive, ID.queryWrite);
    byId(spans, ID.workerHttp).status = { code: 'error', message: 'ECONNREFUSED' };
    const f = only(checkTrace(spans, {}, LATER));
    assert.equal(f.rule, 'stage-error');
    assert.equal(f.spanId, ID.workerHttp);
  });
  it('slow-chain: off by default; first receive → last write against the objective', () => {
    assert.deepEqual(checkTrace(shopSync(), {}, LATER), []);
    assert.deepEqual(checkTrace(shopSync(), { slowChainObjectiveMs: 500 }, LATER), []);
    const f = only(checkTrace(shopSync(), { slowChainObjectiveMs: 100 }, LATER));
    assert.equal(f.rule, 'slow-chain');
    // the call to shop-query is the last write to end (245 ms), after shop-query's own cache write
    assert.equal(f.spanId, ID.workerHttp);
    assert.equal(f.service, 'sync-worker');
    assert.equal(f.message, 'chain from merchant-api receive of shop 42 v7 to sync-worker write to http:shop-query took 245 ms (objective 100 ms)');
  });
  it('two independent faults in one trace give two findings', () => {
    const spans = without(shopSync(), ID.queryWrite);
    byId(spans, ID.apiWrite).status = { code: 'error', message: 'deadlock' };
    assert.deepEqual(checkTrace(spans, {}, LATER).map((f) => f.rule).sort(), ['missing-write', 'stage-error']);
  });
});

describe('checkTrace: Zipkin spans of unknown start or length (no timestamp, no duration)', () => {
  const objective = { slowChainObjectiveMs: 500 };
  it('a span without duration is finished: no unfinished-span, whichever span it is', () => {
    for (const id of shopSync().map((s) => s.spanId)) {
      const spans = shopSync();
      const s = byId(spans, id);
      delete s.durationUs;
      s.durationUnknown = true;
      assert.deepEqual(checkTrace(spans, objective, LATER), [], id);
    }
  });
  it('a span without timestamp (start 0 as decoded) breaks no time rule: not-consumed, slow-chain', () => {
    for (const id of shopSync().map((s) => s.spanId)) {
      const spans = shopSync();
      const s = byId(spans, id);
      s.startUs = 0;
      s.startUnknown = true;
      assert.deepEqual(checkTrace(spans, objective, LATER), [], id);
    }
  });
  it('every span of unknown start and length: still no finding; a lost write is still found', () => {
    const unknown = (spans: Span[]): Span[] =>
      spans.map((s) => {
        const c: Span = { ...s, startUs: 0, startUnknown: true, durationUnknown: true };
        delete c.durationUs;
        return c;
      });
    assert.deepEqual(checkTrace(unknown(shopSync()), objective, LATER), []);
    assert.equal(only(checkTrace(unknown(without(shopSync(), ID.queryWrite)), objective, LATER)).rule, 'missing-write');
  });
});

describe('checkTrace: missing spans and rpcids', () => {
  it("a lost server span: its child is attached by rpcid, so the caller's write was received", () => {
    assert.deepEqual(checkTrace(without(shopSync(), ID.queryReceive), {}, LATER), []);
  });
  it('without the rpcid the same loss is visible as a missing downstream receive', () => {
    const spans = without(shopSync(), ID.queryReceive);
    delete byId(spans, ID.queryWrite).rpcid;
    assert.equal(only(checkTrace(spans, {}, LATER)).rule, 'missing-downstream-receive');
  });
  it('a lost consumer span: the worker writes hang below the producer by rpcid, so the message was consumed', () => {
    assert.deepEqual(checkTrace(without(shopSync(), ID.workerReceive), {}, LATER), []);
  });
  it('the rpcid may come from the linktrace.rpcid attribute of another tracer', () => {
    const spans = without(shopSync(), ID.queryReceive);
    const w = byId(spans, ID.queryWrite);
    delete w.rpcid;
    w.attributes['linktrace.rpcid'] = '0.2.3.1';
    assert.deepEqual(checkTrace(spans, {}, LATER), []);
  });
});

describe('checkTrace: bad input is checked as far as possible and never throws', () => {
  it('unknown stages are ignored by the chain rules, but a failed one is still a stage error', () => {
    const spans = shopSync();
    const odd: Span = { ...byId(spans, ID.workerRedis), spanId: 'b000000000000007', attributes: { ...SHOP, 'linktrace.stage': 'frobnicate' } };
    assert.deepEqual(checkTrace([...spans, odd], {}, LATER), []);
    odd.status = { code: 'error' };
    assert.equal(only(checkTrace([...spans, odd], {}, LATER)).rule, 'stage-error');
  });
  it('missing entity fields: the hop is still checked, named as "a record"', () => {
    const spans = without(shopSync(), ID.queryWrite);
    delete byId(spans, ID.queryReceive).attributes['linktrace.entity.key'];
    const f = only(checkTrace(spans, {}, LATER));
    assert.equal(f.message, 'shop-query received a record and never wrote it');
    assert.equal(f.entity, undefined);
  });
  it('duplicate span ids: the full record wins over a start record; a second full record is ignored', () => {
    const spans = shopSync();
    const dupe = { ...byId(spans, ID.workerMysql) };
    assert.deepEqual(checkTrace([startRecord(dupe), ...spans, dupe], {}, LATER), []);
  });
  it('a cycle in parent ids does not hang or throw', () => {
    const spans = shopSync();
    byId(spans, ID.apiReceive).parentSpanId = ID.queryWrite;
    byId(spans, ID.workerMysql).parentSpanId = ID.workerMysql;
    const findings = checkTrace(spans, {}, LATER);
    assert.ok(Array.isArray(findings));
  });
  it('garbage records and fields of the wrong type are skipped', () => {
    const junk = [null, 42, 'x', {}, { spanId: 7 }, { spanId: 'z', attributes: null, status: null, links: 'no' }] as unknown as Span[];
    const spans = [...junk, ...without(shopSync(), ID.queryWrite)];
    assert.equal(only(checkTrace(spans, {}, LATER)).rule, 'missing-write');
    assert.deepEqual(checkTrace(null as unknown as Span[], {}, LATER), []);
    assert.deepEqual(checkTrace(shopSync(), { deadlineMs: NaN, slowChainObjectiveMs: -1, flows: 'x' as never }, LATER), []);
  });
  it('property: random span soup never throws and every finding names a span of the input', () => {
    const ids = ['s1', 's2', 's3', 's4', 's5'];
    const arbSpan = fc.record({
      traceId: fc.constant(TRACE),
      spanId: fc.constantFrom(...ids),
      parentSpanId: fc.option(fc.constantFrom(...ids, 'gone'), { nil: undefined }),
      rpcid: fc.option(fc.constantFrom('0', '0.1', '0.1.1', '0.2', 'bad'), { nil: undefined }),
      service: fc.constantFrom('a', 'b'),
      name: fc.string(),
      kind: fc.constantFrom('server', 'client', 'producer', 'consumer', 'internal'),
      startUs: fc.oneof(fc.integer({ min: T0, max: T0 + 60_000_000 }), fc.constant(NaN)),
      durationUs: fc.option(fc.integer({ min: -5, max: 60_000_000 }), { nil: undefined }),
      status: fc.record({ code: fc.constantFrom('unset', 'ok', 'error') }),
      attributes: fc.dictionary(
        fc.constantFrom('linktrace.stage', 'linktrace.entity.type', 'linktrace.entity.key', 'linktrace.entity.version', 'linktrace.target'),
        fc.oneof(fc.constantFrom('receive', 'write', 'enqueue', 'skip', 'consume', 'http:x', 'mq:q', 'mysql:t', 'shop', '42'), fc.integer(), fc.boolean()),
      ),
      events: fc.constant([]),
      links: fc.array(fc.record({ traceId: fc.constant(TRACE), spanId: fc.constantFrom(...ids) }), { maxLength: 2 }),
    });
    fc.assert(
      fc.property(fc.array(arbSpan, { maxLength: 12 }), (spans) => {
        const findings = checkTrace(spans as unknown as Span[], { slowChainObjectiveMs: 1 }, LATER);
        for (const f of findings) assert.ok(ids.includes(f.spanId));
      }),
      { numRuns: 500 },
    );
  });
});

describe('checkTrace: skipRules (a federated agent sees one host only)', () => {
  it('HOST_CROSSING_RULES leave out not-consumed and slow-chain, and keep the host-local rules', () => {
    const unconsumed = without(shopSync(), ID.workerReceive, ID.workerMysql, ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite);
    assert.equal(only(checkTrace(unconsumed, {}, LATER)).rule, 'not-consumed');
    assert.deepEqual(checkTrace(unconsumed, { skipRules: HOST_CROSSING_RULES }, LATER), []);
    assert.equal(only(checkTrace(shopSync(), { slowChainObjectiveMs: 100 }, LATER)).rule, 'slow-chain');
    assert.deepEqual(checkTrace(shopSync(), { slowChainObjectiveMs: 100, skipRules: HOST_CROSSING_RULES }, LATER), []);
    // missing-write is judged on the writing hop's own spans: still reported.
    const f = only(checkTrace(without(shopSync(), ID.queryWrite), { skipRules: HOST_CROSSING_RULES }, LATER));
    assert.equal(f.rule, 'missing-write');
  });
});
