import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../src/errors.js';
import { parseAnnotationQuery } from '../src/query/annotation-query.js';
import { formatDurationUs, parseDurationUs } from '../src/query/duration-text.js';
import { parseFindingFilter } from '../src/query/native-findings.js';
import { parseNativeSearch } from '../src/query/native-search.js';
import { durationParam, integerParam, stringParam, timeParam, traceIdValue } from '../src/query/query-params.js';
import { formatTimeUs, parseTimeUs } from '../src/query/time-text.js';
import { alternateTraceId } from '../src/query/trace-lookup.js';
import { parseZipkinSearch, ZIPKIN_DEFAULT_LIMIT } from '../src/query/zipkin-search.js';

function apiError(fn: () => unknown, code: string, match?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, `not an ApiError: ${String(e)}`);
    assert.equal(e.code, code);
    if (match !== undefined) assert.match(e.message, match);
    return true;
  });
}

void test('durations: bare integers are µs, units and compounds convert, junk is refused', () => {
  assert.equal(parseDurationUs('1500'), 1500);
  assert.equal(parseDurationUs('250us'), 250);
  assert.equal(parseDurationUs('250µs'), 250);
  assert.equal(parseDurationUs('10ms'), 10_000);
  assert.equal(parseDurationUs('1.5s'), 1_500_000);
  assert.equal(parseDurationUs('2m'), 120_000_000);
  assert.equal(parseDurationUs('1h30m'), 5_400_000_000);
  assert.equal(parseDurationUs('1d'), 86_400_000_000);
  assert.equal(parseDurationUs(' 7ms '), 7000);
  for (const bad of ['', 'ms', '-5ms', '10 ms', '10x', '1.ms', '5ms3', '99999999999999999', '1e3', 'NaN']) {
    assert.equal(parseDurationUs(bad), undefined, bad);
  }
});

void test('durations format with three significant figures and a unit', () => {
  assert.equal(formatDurationUs(812), '812µs');
  assert.equal(formatDurationUs(12_345), '12.3ms');
  assert.equal(formatDurationUs(1_000), '1ms');
  assert.equal(formatDurationUs(4_560_000), '4.56s');
  assert.equal(formatDurationUs(125_000_000), '2m05s');
  assert.equal(formatDurationUs(3_720_000_000), '1h02m');
  assert.equal(formatDurationUs(NaN), '?');
});

void test('times: µs integers, ISO dates and date-times with µs fractions and zones; impossible dates refused', () => {
  assert.equal(parseTimeUs('1700000000000000'), 1_700_000_000_000_000);
  assert.equal(parseTimeUs('2024-05-01'), Date.UTC(2024, 4, 1) * 1000);
  assert.equal(parseTimeUs('2024-05-01T12:00:00Z'), Date.UTC(2024, 4, 1, 12) * 1000);
  assert.equal(parseTimeUs('2024-05-01T12:00:00.123456Z'), Date.UTC(2024, 4, 1, 12) * 1000 + 123_456);
  // No zone: UTC, so the same text is the same instant everywhere.
  assert.equal(parseTimeUs('2024-05-01T12:00'), Date.UTC(2024, 4, 1, 12) * 1000);
  assert.equal(parseTimeUs('2024-05-01T14:00:00+02:00'), Date.UTC(2024, 4, 1, 12) * 1000);
  assert.equal(parseTimeUs('2024-05-01T14:00:00+0200'), Date.UTC(2024, 4, 1, 12) * 1000);
  for (const bad of ['', 'yesterday', '2024-02-30', '2024-13-01', '2024-05-01T25:00', '1.5', '2024-05-01Z', '12:00']) {
    assert.equal(parseTimeUs(bad), undefined, bad);
  }
  assert.equal(formatTimeUs(Date.UTC(2024, 4, 1, 12) * 1000 + 123_456), '2024-05-01T12:00:00.123Z');
});

void test('query parameters: repeated single-valued parameters, bad integers, durations and times are 400s naming the parameter', () => {
  apiError(() => stringParam({ service: ['a', 'b'] }, 'service'), 'bad_request', /service is given more than once/);
  assert.equal(stringParam({ service: '' }, 'service'), undefined);
  apiError(() => integerParam({ limit: '0' }, 'limit', 1, 10), 'bad_request', /limit must be an integer in 1\.\.10/);
  apiError(() => integerParam({ limit: '11' }, 'limit', 1, 10), 'bad_request');
  apiError(() => integerParam({ limit: '1.5' }, 'limit', 1, 10), 'bad_request');
  apiError(() => integerParam({ limit: '0x5' }, 'limit', 1, 10), 'bad_request');
  assert.equal(integerParam({ limit: '7' }, 'limit', 1, 10), 7);
  apiError(() => durationParam({ minDuration: 'fast' }, 'minDuration'), 'bad_request', /minDuration/);
  assert.equal(durationParam({ minDuration: '10ms' }, 'minDuration'), 10_000);
  apiError(() => timeParam({ start: 'soon' }, 'start'), 'bad_request', /start/);
  apiError(() => timeParam({ start: '-5' }, 'start'), 'bad_request');
});

void test('trace ids: 16 or 32 hex in any case, lowercased; anything else is invalid_trace_id', () => {
  assert.equal(traceIdValue('1E223FF1F80F1C69'), '1e223ff1f80f1c69');
  assert.equal(traceIdValue('5aab74dbb904746bb33447baae403ed6'), '5aab74dbb904746bb33447baae403ed6');
  for (const bad of ['', 'abc', '1e223ff1f80f1c6', '1e223ff1f80f1c699', 'g'.repeat(16), '0'.repeat(16), '0'.repeat(32), `${'a'.repeat(31)} `]) {
    apiError(() => traceIdValue(bad), 'invalid_trace_id');
  }
  assert.equal(alternateTraceId('1e223ff1f80f1c69'), '00000000000000001e223ff1f80f1c69');
  assert.equal(alternateTraceId('00000000000000001e223ff1f80f1c69'), '1e223ff1f80f1c69');
  assert.equal(alternateTraceId('5aab74dbb904746bb33447baae403ed6'), undefined);
});

void test('annotationQuery: terms joined by and, bare keys and key=value, empty keys refused', () => {
  assert.deepEqual(parseAnnotationQuery('error and http.method=GET'), [{ key: 'error' }, { key: 'http.method', value: 'GET' }]);
  assert.deepEqual(parseAnnotationQuery(' foo  and  a=b=c '), [{ key: 'foo' }, { key: 'a', value: 'b=c' }]);
  assert.deepEqual(parseAnnotationQuery('k='), [{ key: 'k' }]);
  // `and` inside a word is not a separator.
  assert.deepEqual(parseAnnotationQuery('brand=sandy'), [{ key: 'brand', value: 'sandy' }]);
  apiError(() => parseAnnotationQuery('=GET'), 'bad_request', /no key/);
  apiError(() => parseAnnotationQuery(Array.from({ length: 33 }, (_, i) => `k${i}`).join(' and ')), 'bad_request');
});

void test('Zipkin search: defaults (limit 10, one day back), ms windows, error pushed to the store, the rest checked after', () => {
  const now = 1_700_000_000_000;
  const plain = parseZipkinSearch({}, now);
  assert.deepEqual(plain, {
    query: { startUs: (now - 86_400_000) * 1000, endUs: now * 1000, limit: ZIPKIN_DEFAULT_LIMIT },
    limit: ZIPKIN_DEFAULT_LIMIT,
  });
  const s = parseZipkinSearch({ serviceName: 'frontend', spanName: 'all', endTs: '2000', lookback: '1000', limit: '3', annotationQuery: 'error', minDuration: '5', maxDuration: '9' }, now);
  assert.deepEqual(s.query, { startUs: 1_000_000, endUs: 2_000_000, limit: 3, service: 'frontend', status: 'error', minDurationUs: 5, maxDurationUs: 9 });
  assert.equal(s.check, undefined);
  const t = parseZipkinSearch({ serviceName: 'frontend', remoteServiceName: 'backend', annotationQuery: 'http.method=GET and foo', limit: '5' }, now);
  assert.deepEqual(t.query.attributes, { 'http.method': 'GET' });
  assert.equal(t.query.limit, 20, 'over-fetches when results are checked after the store');
  assert.equal(t.limit, 5);
  assert.deepEqual(t.check, { terms: [{ key: 'http.method', value: 'GET' }, { key: 'foo' }], serviceName: 'frontend', remoteServiceName: 'backend' });
  // Tags that are span fields in the model are not sent to the store as attributes.
  assert.equal(parseZipkinSearch({ annotationQuery: 'linktrace.rpcid=0.1' }, now).query.attributes, undefined);
  apiError(() => parseZipkinSearch({ minDuration: '10', maxDuration: '5' }, now), 'bad_request', /maxDuration/);
  apiError(() => parseZipkinSearch({ minDuration: '0' }, now), 'bad_request', /minDuration/);
  apiError(() => parseZipkinSearch({ endTs: 'now' }, now), 'bad_request', /endTs/);
  apiError(() => parseZipkinSearch({ lookback: '-1' }, now), 'bad_request', /lookback/);
  apiError(() => parseZipkinSearch({ limit: '10001' }, now), 'bad_request', /limit/);
});

void test('native search: every filter, repeatable attr, ISO or µs times, unit durations; bad ones are 400', () => {
  const q = parseNativeSearch({
    service: 'api',
    operation: 'GET /x',
    attr: ['linktrace.stage=write', 'http.status_code=200'],
    minDuration: '10ms',
    maxDuration: '2000000',
    start: '2024-05-01T00:00:00Z',
    end: '1714608000000000',
    status: 'error',
    limit: '50',
  });
  assert.deepEqual(q, {
    service: 'api',
    operation: 'GET /x',
    attributes: { 'linktrace.stage': 'write', 'http.status_code': '200' },
    minDurationUs: 10_000,
    maxDurationUs: 2_000_000,
    startUs: Date.UTC(2024, 4, 1) * 1000,
    endUs: 1_714_608_000_000_000,
    status: 'error',
    limit: 50,
  });
  assert.deepEqual(parseNativeSearch({ attr: 'k=' }), { attributes: { k: '' } });
  apiError(() => parseNativeSearch({ servce: 'api' }), 'bad_request', /unknown query parameter "servce"/);
  apiError(() => parseNativeSearch({ attr: 'novalue' }), 'bad_request', /key=value/);
  apiError(() => parseNativeSearch({ attr: '=v' }), 'bad_request', /key=value/);
  apiError(() => parseNativeSearch({ attr: ['k=1', 'k=2'] }), 'bad_request', /twice/);
  apiError(() => parseNativeSearch({ status: 'failed' }), 'bad_request', /status must be one of unset, ok, error/);
  apiError(() => parseNativeSearch({ minDuration: '5ms', maxDuration: '1ms' }), 'bad_request', /maxDuration/);
  apiError(() => parseNativeSearch({ start: '2024-05-02', end: '2024-05-01' }), 'bad_request', /end must not be before start/);
  apiError(() => parseNativeSearch({ limit: '0' }), 'bad_request', /limit/);
  apiError(() => parseNativeSearch({ service: ['a', 'b'] }), 'bad_request', /more than once/);
});

void test('findings filter: trace id checked, rule must be a DESIGN §4 rule id, time range ordered', () => {
  assert.deepEqual(parseFindingFilter({ traceId: '5AAB74DBB904746BB33447BAAE403ED6', rule: 'missing-write', service: 'a', start: '1', end: '2', limit: '5' }), {
    traceId: '5aab74dbb904746bb33447baae403ed6',
    rule: 'missing-write',
    service: 'a',
    startUs: 1,
    endUs: 2,
    limit: 5,
  });
  apiError(() => parseFindingFilter({ rule: 'missing-read' }), 'bad_request', /rule must be one of missing-write/);
  apiError(() => parseFindingFilter({ traceId: 'xyz' }), 'invalid_trace_id');
  apiError(() => parseFindingFilter({ start: '5', end: '4' }), 'bad_request');
  apiError(() => parseFindingFilter({ limit: '10001' }), 'bad_request');
  apiError(() => parseFindingFilter({ severity: 'high' }), 'bad_request', /unknown query parameter/);
});
