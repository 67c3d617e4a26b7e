import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '../src/span.js';
import { LIMITS, findSpanProblem, isRpcid, normalizeSpanId, normalizeTraceId, validateSpan } from '../src/codec/validate.js';
import { microsToNanoHalves, microsToNanoString, nanoHalvesToMicros, nanoStringToMicros } from '../src/codec/nanos.js';
import { formatInstance, parseInstance } from '../src/codec/instance-address.js';

const ok: Span = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  service: 's',
  name: 'n',
  kind: 'client',
  startUs: 1,
  status: { code: 'unset' },
  attributes: {},
  events: [],
  links: [],
};

void test('ids: either case in, lowercase out; wrong length, non-hex and all-zero refused', () => {
  assert.equal(normalizeTraceId('4BF92F3577B34DA6A3CE929D0E0E4736'), '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(normalizeTraceId('463AC35C9F6413AD'), '463ac35c9f6413ad');
  for (const bad of ['', '4bf92f3577b34da6a3ce929d0e0e473', '4bf92f3577b34da6a3ce929d0e0e4736a', 'g'.repeat(32), '0'.repeat(32), '0'.repeat(16), ' '.repeat(32), 'é'.repeat(32), 42, null]) {
    assert.equal(normalizeTraceId(bad), undefined, String(bad));
  }
  assert.equal(normalizeSpanId('00F067AA0BA902B7'), '00f067aa0ba902b7');
  for (const bad of ['00f067aa0ba902b', '0000000000000000', '00f067aa0ba902bz', undefined]) assert.equal(normalizeSpanId(bad), undefined);
});

void test('rpcid shape ^0(\\.(0|[1-9][0-9]*))*$, segments up to 2^53 - 1', () => {
  for (const good of ['0', '0.1', '0.1.2', '0.10.999', '0.0', '0.1.1.2.7.1.21.0', '0.112512741']) assert.ok(isRpcid(good), good);
  for (const bad of ['', '1', '0.', '0.00', '0.01', '.1', '0..1', '0.1a', ' 0', '0.9007199254740992', 0, null]) assert.equal(isRpcid(bad), false, String(bad));
});

void test('validateSpan accepts a minimal span and names the first bad field', () => {
  assert.equal(validateSpan(ok), undefined);
  const cases: [Partial<Span> | Record<string, unknown>, RegExp][] = [
    [{ traceId: 'ABC' }, /^traceId/],
    [{ traceId: '4BF92F3577B34DA6A3CE929D0E0E4736' }, /^traceId/],
    [{ spanId: '0000000000000000' }, /^spanId/],
    [{ rpcid: '0.01' }, /^rpcid: not a position id like 0\.1\.2/],
    [{ rpcid: '0.1.99999999999999999999' }, /^rpcid: segment 99999999999999999999 is larger than 2\^53 - 1$/],
    [{ kind: 'remote' }, /^kind/],
    [{ startUs: 0 }, /^startUs/],
    [{ startUs: NaN }, /^startUs/],
    [{ startUs: 2 ** 60 }, /^startUs/],
    [{ durationUs: -1 }, /^durationUs/],
    [{ durationUs: Infinity }, /^durationUs/],
    [{ status: { code: 'error', message: 5 } }, /^status\.message/],
    [{ attributes: { a: undefined } }, /^attributes\.a/],
    [{ attributes: { a: [1, [2]] } }, /^attributes\.a/],
    [{ attributes: { a: 'x'.repeat(LIMITS.maxStringLength + 1) } }, /^attributes\.a: string too long/],
    [{ events: [{ timeUs: -1, name: 'e' }] }, /^events\[0\]\.timeUs/],
    [{ links: [{ traceId: ok.traceId, spanId: 'x' }] }, /^links\[0\]\.spanId/],
    [{ resource: { r: {} } }, /^resource\.r/],
    [{ scope: { version: '1' } }, /^scope\.name/],
    [{ remote: { port: 1.5 } }, /^remote\.port/],
    [{ doubleKeys: [1] }, /^doubleKeys/],
    [{ dropped: { links: 0.5 } }, /^dropped\.links/],
  ];
  for (const [over, re] of cases) {
    const problem = validateSpan({ ...ok, ...over } as Span);
    assert.match(problem ?? 'accepted', re, JSON.stringify(over));
  }
});

void test('findSpanProblem: the part at fault and the message, for any value (the stores report the field)', () => {
  assert.equal(findSpanProblem(ok), undefined);
  assert.deepEqual(findSpanProblem(null), { field: '', message: 'span: not an object' });
  assert.deepEqual(findSpanProblem([ok]), { field: '', message: 'span: not an object' });
  const cases: [Partial<Record<keyof Span, unknown>>, string, string][] = [
    [{ traceId: 'z'.repeat(32) }, 'traceId', 'traceId: not 32 or 16 lowercase hex, or all zero'],
    [{ status: { code: 'bad' } }, 'status', 'status.code: not unset, ok or error'],
    [{ attributes: { nested: { a: 1 } } }, 'attributes.nested', 'attributes.nested: not a string, number, boolean, array or bytes'],
    [{ attributes: 'a=b' }, 'attributes', 'attributes: not an object'],
    [{ events: [{ name: 'x' }] }, 'events[0]', 'events[0].timeUs: not a non-negative number of µs'],
    [{ links: [{ traceId: ok.traceId }] }, 'links[0]', 'links[0].spanId: invalid'],
    [{ rpcid: '1.2' }, 'rpcid', 'rpcid: not a position id like 0.1.2'],
    [{ scope: { name: 's', attributes: { k: null } } }, 'scope.attributes.k', 'scope.attributes.k: null value'],
  ];
  for (const [over, field, message] of cases) {
    assert.deepEqual(findSpanProblem({ ...ok, ...over }), { field, message }, field);
    assert.equal(validateSpan({ ...ok, ...over } as Span), message, 'validateSpan reports the same message');
  }
});

void test('ns <-> µs conversions are exact for integral µs and floor sub-µs values', () => {
  const halves = { lo: 0, hi: 0 };
  for (const us of [1, 999, 1_544_712_660_123_456, 4_000_000_000_000_000, 2 ** 52]) {
    microsToNanoHalves(us, halves);
    assert.equal(nanoHalvesToMicros(halves.lo, halves.hi), us);
    assert.equal(BigInt(halves.hi) * 2n ** 32n + BigInt(halves.lo), BigInt(us) * 1000n);
    assert.equal(microsToNanoString(us), (BigInt(us) * 1000n).toString());
    assert.equal(nanoStringToMicros(microsToNanoString(us)), us);
  }
  assert.equal(microsToNanoString(1.5), '1500');
  assert.equal(microsToNanoString(0), '0');
  assert.equal(nanoStringToMicros('999'), 0);
  assert.equal(nanoStringToMicros('1544712660123456789'), 1544712660123456);
  for (const bad of ['', '-1', '1.5', '1e9', '123456789012345678901']) assert.equal(nanoStringToMicros(bad), -1, bad);
});

void test('instance <-> endpoint address', () => {
  assert.deepEqual(parseInstance('10.0.0.1:80'), { ipv4: '10.0.0.1', port: 80 });
  assert.deepEqual(parseInstance('10.0.0.1'), { ipv4: '10.0.0.1' });
  assert.deepEqual(parseInstance('[::1]:443'), { ipv6: '::1', port: 443 });
  assert.deepEqual(parseInstance('2001:db8::1'), { ipv6: '2001:db8::1' });
  assert.deepEqual(parseInstance(':9000'), { port: 9000 });
  for (const other of ['host:80', 'host', '10.0.0.1:99999', '[::1]x', '[zz]:1', '']) assert.equal(parseInstance(other), undefined, other);
  assert.equal(formatInstance('1.2.3.4', undefined, 5), '1.2.3.4:5');
  assert.equal(formatInstance(undefined, '::1', 5), '[::1]:5');
  assert.equal(formatInstance(undefined, undefined, undefined), undefined);
});
