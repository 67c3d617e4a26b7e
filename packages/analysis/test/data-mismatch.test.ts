import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Attributes, Span } from '@linktrace/model';
import { checkTrace } from '../src/check-trace.js';
import { RULE_IDS } from '../src/finding.js';
import { ID, LATER, T0, TRACE, byId, shopSync } from './shop-sync.js';

const SOURCE_HASH = 'ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12';
const TARGET_HASH = '9f00aa11bb22cc33dd44ee55ff6600117f00aa11bb22cc33dd44ee55ff660011';

/** What the SDK's reconciler records 5 s after sync-worker's redis write. */
function reconcile(result: string, extra: Attributes = {}, id = 'd000000000000001', parent: string | undefined = ID.workerRedis): Span {
  const s: Span = {
    traceId: TRACE,
    spanId: id,
    rpcid: '0.2.2.1',
    service: 'sync-worker',
    name: 'reconcile shop',
    kind: 'internal',
    startUs: T0 + 5_140_000,
    durationUs: 3000,
    status: { code: 'unset' },
    attributes: {
      'linktrace.entity.type': 'shop',
      'linktrace.entity.key': '42',
      'linktrace.entity.version': '7',
      'linktrace.target': 'redis:shop_cache',
      'linktrace.reconcile.delay_ms': 5000,
      'linktrace.reconcile.result': result,
      ...extra,
    },
    events: [],
    links: [],
  };
  if (parent !== undefined) s.parentSpanId = parent;
  return s;
}

const MISMATCH = {
  'linktrace.reconcile.source.version': '7',
  'linktrace.reconcile.source.hash': SOURCE_HASH,
  'linktrace.reconcile.target.version': '7',
  'linktrace.reconcile.target.hash': TARGET_HASH,
};

describe('checkTrace: data-mismatch', () => {
  it('is a known rule id', () => {
    assert.ok(RULE_IDS.includes('data-mismatch'));
  });

  it('a reconcile span that found a mismatch yields exactly one finding, on the write it checked', () => {
    const findings = checkTrace([...shopSync(), reconcile('mismatch', MISMATCH)], {}, LATER);
    assert.deepEqual(findings, [
      {
        traceId: TRACE,
        rule: 'data-mismatch',
        service: 'sync-worker',
        spanId: ID.workerRedis,
        message:
          'sync-worker wrote shop 42 v7 to redis:shop_cache; 5.0 s later redis:shop_cache differs from the source (source v7, hash ab12cd34…; target v7, hash 9f00aa11…)',
        timeUs: byId(shopSync(), ID.workerRedis).startUs,
        entity: { type: 'shop', key: '42', version: '7' },
        target: 'redis:shop_cache',
      },
    ]);
  });

  it('a record missing at the target is a data-mismatch too', () => {
    const findings = checkTrace([...shopSync(), reconcile('missing', { 'linktrace.reconcile.source.version': 7 })], {}, LATER);
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.rule, 'data-mismatch');
    assert.equal(findings[0]!.message, 'sync-worker wrote shop 42 v7 to redis:shop_cache; 5.0 s later redis:shop_cache has no such record (source v7)');
  });

  it('match and unknown results, and a trace without reconcile spans, yield nothing', () => {
    assert.deepEqual(checkTrace([...shopSync(), reconcile('match', { ...MISMATCH, 'linktrace.reconcile.target.hash': SOURCE_HASH })], {}, LATER), []);
    assert.deepEqual(checkTrace([...shopSync(), reconcile('unknown')], {}, LATER), []);
    assert.deepEqual(checkTrace([...shopSync(), reconcile('MISMATCH')], {}, LATER), []);
  });

  it('a reconcile span below a service write does not count as the downstream receive', () => {
    const spans = shopSync().filter((s) => s.spanId !== ID.queryReceive && s.spanId !== ID.queryWrite);
    const check = reconcile('match', {}, 'd000000000000002', ID.workerHttp);
    const findings = checkTrace([...spans, check], {}, LATER);
    assert.deepEqual(findings.map((f) => [f.rule, f.spanId]), [['missing-downstream-receive', ID.workerHttp]]);
  });

  it('the same write checked twice is one finding', () => {
    const findings = checkTrace([...shopSync(), reconcile('mismatch', MISMATCH), reconcile('mismatch', MISMATCH, 'd000000000000003')], {}, LATER);
    assert.equal(findings.filter((f) => f.rule === 'data-mismatch').length, 1);
  });

  it('a failed write is left to stage-error', () => {
    const spans = shopSync();
    byId(spans, ID.workerRedis).status = { code: 'error', message: 'READONLY' };
    const findings = checkTrace([...spans, reconcile('mismatch', MISMATCH)], {}, LATER);
    assert.deepEqual(findings.map((f) => f.rule), ['stage-error']);
  });

  it('without its write in the trace, the finding names the reconcile span; malformed attributes do not throw', () => {
    const lone = reconcile('mismatch', { 'linktrace.reconcile.source.version': 8, 'linktrace.reconcile.target.version': '' }, 'd000000000000004', undefined);
    const [f] = checkTrace([lone], {}, LATER);
    assert.equal(f!.spanId, 'd000000000000004');
    assert.equal(f!.message, 'sync-worker wrote shop 42 v7 to redis:shop_cache; 5.0 s later redis:shop_cache differs from the source (source v8; target nothing recorded)');
    const bare = { ...lone, attributes: { 'linktrace.reconcile.result': 'missing' } } as Span;
    assert.equal(checkTrace([bare], {}, LATER)[0]!.message, 'sync-worker wrote a record to its target; its target has no such record (source nothing recorded)');
    assert.deepEqual(checkTrace([{ ...lone, attributes: null } as unknown as Span], {}, LATER), []);
  });
});
