import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFromEnv, DEFAULT_SERVICE } from '../src/auto/env-config.js';
import type { SamplingInput } from '../src/index.js';

const BUILTINS = ['fetch', 'http', 'pg', 'mysql2'];

function parse(env: Record<string, string>): { config: ReturnType<typeof configFromEnv>; warnings: string[] } {
  const warnings: string[] = [];
  const config = configFromEnv(env, BUILTINS, (m) => warnings.push(m), ['console']);
  return { config, warnings };
}

function rootInput(traceId: string): SamplingInput {
  return { parent: undefined, name: 'x', kind: 'server', attributes: undefined, baggage: undefined, traceId };
}

describe('configFromEnv', () => {
  it('defaults: on, unknown service, local collector, all instrumentations, no values', () => {
    const { config, warnings } = parse({});
    assert.deepEqual(warnings, []);
    assert.equal(config.disabled, false);
    assert.equal(config.service, DEFAULT_SERVICE);
    assert.equal(config.tracesUrl, 'http://127.0.0.1:4318/v1/traces');
    assert.equal(config.encoding, 'protobuf');
    assert.deepEqual(config.headers, {});
    assert.deepEqual(config.instrumentations, BUILTINS);
    assert.equal(config.captureValues, false);
    assert.equal(config.traceparent, undefined);
  });

  it('service: LINKTRACE_SERVICE wins over OTEL_SERVICE_NAME; blank values are unset', () => {
    assert.equal(parse({ LINKTRACE_SERVICE: 'a', OTEL_SERVICE_NAME: 'b' }).config.service, 'a');
    assert.equal(parse({ LINKTRACE_SERVICE: '  ', OTEL_SERVICE_NAME: 'b' }).config.service, 'b');
  });

  it('instance: LINKTRACE_INSTANCE, trimmed; unset or blank: none', () => {
    assert.equal(parse({ LINKTRACE_INSTANCE: ' 10.0.0.5:3000 ' }).config.instance, '10.0.0.5:3000');
    assert.equal(parse({ LINKTRACE_INSTANCE: '  ' }).config.instance, undefined);
    assert.equal(parse({}).config.instance, undefined);
  });

  it('endpoint: LINKTRACE_ENDPOINT is a base, the OTLP traces endpoint is taken as is, the OTLP base gets /v1/traces', () => {
    assert.equal(parse({ LINKTRACE_ENDPOINT: 'http://lt:9000/', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://x/y' }).config.tracesUrl, 'http://lt:9000/v1/traces');
    assert.equal(parse({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c:4318/custom/path', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://z' }).config.tracesUrl, 'https://c:4318/custom/path');
    assert.equal(parse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/base' }).config.tracesUrl, 'http://c:4318/base/v1/traces');
  });

  it('a bad endpoint warns and falls through to the next setting or the default', () => {
    const { config, warnings } = parse({ LINKTRACE_ENDPOINT: 'ftp://nope', OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' });
    assert.equal(config.tracesUrl, 'http://127.0.0.1:4318/v1/traces');
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /LINKTRACE_ENDPOINT="ftp:\/\/nope" is not an http\(s\) URL/);
  });

  it('token, protocol, capture values, disabled', () => {
    const { config, warnings } = parse({
      LINKTRACE_TOKEN: 't0k',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      LINKTRACE_CAPTURE_VALUES: 'TRUE',
      LINKTRACE_DISABLED: '0',
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.headers, { authorization: 'Bearer t0k' });
    assert.equal(config.encoding, 'json');
    assert.equal(config.captureValues, true);
    assert.equal(config.disabled, false);
    assert.equal(parse({ LINKTRACE_DISABLED: 'yes' }).config.disabled, true);
    assert.equal(parse({ OTEL_SDK_DISABLED: 'true' }).config.disabled, true);
    const bad = parse({ LINKTRACE_DISABLED: 'perhaps', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    assert.equal(bad.config.disabled, false);
    assert.equal(bad.config.encoding, 'protobuf');
    assert.equal(bad.warnings.length, 2);
  });

  it('instrumentation lists: chosen, disabled, unknown names, none, all', () => {
    assert.deepEqual(parse({ LINKTRACE_INSTRUMENTATIONS: ' PG, http ' }).config.instrumentations, ['http', 'pg']);
    assert.deepEqual(parse({ LINKTRACE_DISABLED_INSTRUMENTATIONS: 'pg,fetch' }).config.instrumentations, ['http', 'mysql2']);
    assert.deepEqual(parse({ LINKTRACE_INSTRUMENTATIONS: 'none' }).config.instrumentations, []);
    assert.deepEqual(parse({ LINKTRACE_INSTRUMENTATIONS: 'all', LINKTRACE_DISABLED_INSTRUMENTATIONS: 'http' }).config.instrumentations, ['fetch', 'pg', 'mysql2']);
    const unknown = parse({ LINKTRACE_INSTRUMENTATIONS: 'http,mongo' });
    assert.deepEqual(unknown.config.instrumentations, ['http']);
    assert.match(unknown.warnings[0]!, /unknown instrumentation "mongo"/);
    assert.deepEqual(parse({ LINKTRACE_INSTRUMENTATIONS: 'all,console' }).config.instrumentations, [...BUILTINS, 'console']);
    assert.deepEqual(parse({ LINKTRACE_INSTRUMENTATIONS: 'console,http' }).config.instrumentations, ['http', 'console']);
    const allUnknown = parse({ LINKTRACE_INSTRUMENTATIONS: 'htp' });
    assert.deepEqual(allUnknown.config.instrumentations, BUILTINS);
    assert.equal(allUnknown.warnings.length, 2);
  });

  it('sampling: LINKTRACE_SAMPLE_RATIO, OTEL_TRACES_SAMPLER precedence, bad values', () => {
    const low = '00000000000000000000000000000001';
    const high = 'ffffffffffffffffffffffffffffffff';
    const zero = parse({ LINKTRACE_SAMPLE_RATIO: '0' });
    assert.deepEqual(zero.warnings, []);
    assert.equal(zero.config.sampler.shouldSample(rootInput(low)), false);
    const all = parse({ LINKTRACE_SAMPLE_RATIO: '1' });
    assert.equal(all.config.sampler.shouldSample(rootInput(high)), true);
    const bad = parse({ LINKTRACE_SAMPLE_RATIO: '1.5' });
    assert.match(bad.warnings[0]!, /LINKTRACE_SAMPLE_RATIO="1.5" is not a ratio/);
    assert.equal(bad.config.sampler.shouldSample(rootInput(high)), true);
    const both = parse({ LINKTRACE_SAMPLE_RATIO: '0', OTEL_TRACES_SAMPLER: 'always_on' });
    assert.match(both.warnings[0]!, /ignored because OTEL_TRACES_SAMPLER is set/);
    assert.equal(both.config.sampler.shouldSample(rootInput(low)), true);
    assert.equal(parse({ OTEL_TRACES_SAMPLER: 'always_off' }).config.sampler.shouldSample(rootInput(low)), false);
  });

  it('TRACEPARENT and TRACESTATE are passed through', () => {
    const { config } = parse({ TRACEPARENT: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', TRACESTATE: 'lt=0.3' });
    assert.equal(config.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(config.tracestate, 'lt=0.3');
  });
});
