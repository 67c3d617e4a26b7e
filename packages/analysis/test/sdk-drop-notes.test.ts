import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SdkDropReport, Span } from '@linktrace/model';
import { checkTrace } from '../src/check-trace.js';
import { annotateSdkDrops } from '../src/sdk-drop-notes.js';
import { ID, LATER, shopSync, without } from './shop-sync.js';

const report = (service: string, instance: string, droppedSpans: number): SdkDropReport => ({ service, instance, droppedSpans, reportedUs: 1 });

/** The shop-sync trace with an instance on every span: `<service>:1`. */
function withInstances(spans: Span[]): Span[] {
  return spans.map((s) => ({ ...s, instance: `${s.service}:1` }));
}

describe('annotateSdkDrops', () => {
  const lostReceive = withInstances(without(shopSync(), ID.queryReceive, ID.queryWrite));
  const findings = checkTrace(lostReceive, {}, LATER);

  it('a missing downstream receive whose target service reported drops says "possibly dropped by the SDK of" it', () => {
    const [f] = annotateSdkDrops(findings, lostReceive, [report('shop-query', 'shop-query:1', 12), report('merchant-api', 'merchant-api:1', 0)]);
    assert.equal(f!.rule, 'missing-downstream-receive');
    assert.equal(
      f!.message,
      'sync-worker wrote shop 42 v7 to http:shop-query and no service received it; possibly dropped by the SDK of shop-query:1 (shop-query, 12 spans lost)',
    );
  });

  it('a missing write whose own instance reported drops is annotated too', () => {
    const spans = withInstances(without(shopSync(), ID.queryWrite));
    const [f] = annotateSdkDrops(checkTrace(spans, {}, LATER), spans, [report('shop-query', 'shop-query:1', 3)]);
    assert.equal(f!.rule, 'missing-write');
    assert.match(f!.message, /never wrote it; possibly dropped by the SDK of shop-query:1 \(shop-query, 3 spans lost\)$/);
  });

  it('no report, a report of 0, or a report from an unrelated instance: the findings stay as they are', () => {
    assert.deepEqual(annotateSdkDrops(findings, lostReceive, []), findings);
    assert.deepEqual(annotateSdkDrops(findings, lostReceive, [report('shop-query', 'shop-query:1', 0)]), findings);
    const spans = withInstances(without(shopSync(), ID.queryWrite));
    const missingWrite = checkTrace(spans, {}, LATER);
    assert.deepEqual(annotateSdkDrops(missingWrite, spans, [report('billing', 'billing:1', 40)]), missingWrite);
  });

  it('findings that are not about a missing hop are never annotated', () => {
    const spans = withInstances(shopSync());
    const stageError = { ...findings[0]!, rule: 'stage-error' as const, spanId: ID.workerHttp };
    assert.deepEqual(annotateSdkDrops([stageError], spans, [report('sync-worker', 'sync-worker:1', 5)]), [stageError]);
  });

  it('spans without an instance (the checker keeps none) match every lossy instance of their service', () => {
    const spans = without(shopSync(), ID.queryWrite);
    const [f] = annotateSdkDrops(checkTrace(spans, {}, LATER), spans, [report('shop-query', '', 7), report('shop-query', 'b:2', 1)]);
    assert.match(f!.message, /possibly dropped by the SDK of shop-query \(7 spans lost\), b:2 \(shop-query, 1 span lost\)$/);
  });

  it('is pure: the inputs are not changed', () => {
    const before = JSON.stringify(findings);
    annotateSdkDrops(findings, lostReceive, [report('shop-query', 'shop-query:1', 12)]);
    assert.equal(JSON.stringify(findings), before);
  });
});
