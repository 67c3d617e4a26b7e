import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ATTR, type Attributes } from '@linktrace/model';
import { deliveryParent } from '../src/instrumentations/messaging/redelivery.js';
import { createTracing } from '../src/trace/tracing.js';

const tracing = createTracing({ service: 'redelivery-unit', processors: [] });
const TRACEPARENT = '00-0123456789abcdef0123456789abcdef-00f067aa0ba902b7-01';

function upstream(rpcid: string | undefined, spanId = '00f067aa0ba902b7') {
  const headers: Record<string, string> = { traceparent: TRACEPARENT.replace('00f067aa0ba902b7', spanId) };
  if (rpcid !== undefined) headers.tracestate = `lt=${rpcid}`;
  return tracing.extract(headers);
}

describe('deliveryParent', () => {
  it('a first delivery continues the producer context unchanged and records count 1', () => {
    const up = upstream('0.1.2');
    const attributes: Attributes = {};
    assert.equal(deliveryParent(up, { count: 1, redelivered: false }, attributes), up);
    assert.deepEqual(attributes, { [ATTR.deliveryCount]: 1 });
  });

  it('the n-th delivery is below the same producer span at P.0.n', () => {
    const attributes: Attributes = {};
    const parent = deliveryParent(upstream('0.1.2'), { count: 4, redelivered: true }, attributes);
    assert.equal(parent.span?.spanId, '00f067aa0ba902b7');
    assert.equal(parent.span?.rpcid, '0.1.2.0.4');
    assert.deepEqual(attributes, { [ATTR.deliveryCount]: 4, [ATTR.redelivered]: true });
  });

  it('a producer that carried no position counts as 0', () => {
    assert.equal(deliveryParent(upstream(undefined), { count: 2, redelivered: true }, {}).span?.rpcid, '0.0.2');
  });

  it('flag only: the redeliveries of one producer span seen here take 2, 3, …; another producer starts at 2 again', () => {
    const seen = [1, 2, 3].map(() => deliveryParent(upstream('0.5', 'aaaaaaaaaaaaaaaa'), { count: undefined, redelivered: true }, {}).span?.rpcid);
    assert.deepEqual(seen, ['0.5.0.2', '0.5.0.3', '0.5.0.4']);
    assert.equal(deliveryParent(upstream('0.5', 'bbbbbbbbbbbbbbbb'), { count: undefined, redelivered: true }, {}).span?.rpcid, '0.5.0.2');
  });

  it('a count of 1 on a flagged message is not believed: no count recorded, a redelivery position', () => {
    const attributes: Attributes = {};
    const parent = deliveryParent(upstream('0.7', 'cccccccccccccccc'), { count: 1, redelivered: true }, attributes);
    assert.equal(parent.span?.rpcid, '0.7.0.2');
    assert.deepEqual(attributes, { [ATTR.redelivered]: true });
  });

  it('no producer context (a new trace each time), or a position past the bounds: the context as it is', () => {
    const none = tracing.extract({});
    assert.equal(deliveryParent(none, { count: 2, redelivered: true }, {}), none);
    const deep = upstream('0' + '.1'.repeat(63));
    assert.equal(deliveryParent(deep, { count: 2, redelivered: true }, {}), deep);
  });
});
