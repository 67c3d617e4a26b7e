import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSamplerFromEnv } from '../src/sampling/from-env.js';
import type { Sampler } from '../src/types.js';
import { ManualClock, TestInput, baggage, parent } from './sampling-input.js';

/** Parses with warnings collected instead of printed. */
function parse(env: Record<string, string | undefined>, force?: boolean): { sampler: Sampler; warnings: string[] } {
  const warnings: string[] = [];
  const sampler = parseSamplerFromEnv(env, { warn: (m) => warnings.push(m), force, now: new ManualClock().now });
  return { sampler, warnings };
}

/** Answers for: root, remote sampled parent, remote unsampled parent, forced by baggage. */
function behaviour(s: Sampler): boolean[] {
  const input = new TestInput('00000000000000000000000000000001');
  const root = s.shouldSample(input);
  input.parent = parent(true, true);
  const sampledParent = s.shouldSample(input);
  input.parent = parent(false, true);
  const unsampledParent = s.shouldSample(input);
  input.baggage = baggage({ 'linktrace.debug': '1' });
  const forced = s.shouldSample(input);
  return [root, sampledParent, unsampledParent, forced];
}

void test('env: unset or empty means parentbased_always_on (with force sampling)', () => {
  for (const env of [{}, { OTEL_TRACES_SAMPLER: '' }, { OTEL_TRACES_SAMPLER: '  ' }]) {
    const { sampler, warnings } = parse(env);
    assert.deepEqual(behaviour(sampler), [true, true, false, true]);
    assert.match(String(sampler), /^ForceSampling\{key=linktrace\.debug, ParentBased\{root=AlwaysOn/);
    assert.deepEqual(warnings, []);
  }
});

void test('env: every OpenTelemetry sampler name, case-insensitive', () => {
  // traceIdHash of the test id is 3696499901, i.e. 0.8607 of 2^32: kept at 0.9, dropped at 0.5.
  const cases: [string, string | undefined, boolean[]][] = [
    ['always_on', undefined, [true, true, true, true]],
    ['ALWAYS_OFF', undefined, [false, false, false, false]],
    ['traceidratio', '0.9', [true, true, true, true]],
    ['TraceIdRatio', '0.5', [false, false, false, true]],
    ['traceidratio', undefined, [true, true, true, true]],
    ['parentbased_always_on', undefined, [true, true, false, true]],
    [' parentbased_always_off ', undefined, [false, true, false, true]],
    ['parentbased_traceidratio', '0.9', [true, true, false, true]],
    ['parentbased_traceidratio', '0.5', [false, true, false, true]],
  ];
  for (const [name, arg, expected] of cases) {
    const { sampler, warnings } = parse({ OTEL_TRACES_SAMPLER: name, OTEL_TRACES_SAMPLER_ARG: arg });
    assert.deepEqual(behaviour(sampler), expected, `${name} ${arg}`);
    assert.deepEqual(warnings, [], name);
  }
});

void test('env: linktrace_rate and linktrace_adaptive are parent-based roots', () => {
  const rate = parse({ OTEL_TRACES_SAMPLER: 'linktrace_rate', OTEL_TRACES_SAMPLER_ARG: '2' }).sampler;
  assert.match(String(rate), /ParentBased\{root=RateLimited\{2\/s, burst=2\}/);
  const input = new TestInput();
  assert.deepEqual([1, 2, 3].map(() => rate.shouldSample(input)), [true, true, false]);
  input.parent = parent(true, true);
  assert.equal(rate.shouldSample(input), true, 'children of kept traces are not rate limited');

  const defaults = parse({ OTEL_TRACES_SAMPLER: 'linktrace_rate' }).sampler;
  assert.match(String(defaults), /RateLimited\{100\/s/);

  const adaptive = parse({ OTEL_TRACES_SAMPLER: 'LINKTRACE_ADAPTIVE', OTEL_TRACES_SAMPLER_ARG: '250' }).sampler;
  assert.match(String(adaptive), /ParentBased\{root=Adaptive\{250 spans\/s/);
  assert.equal(typeof adaptive.onSampledSpanEnd, 'function', 'the tracer must be able to feed it');
  assert.match(String(parse({ OTEL_TRACES_SAMPLER: 'linktrace_adaptive' }).sampler), /Adaptive\{1000 spans\/s/);
});

void test('env: bad arguments warn and fall back to the default argument', () => {
  for (const arg of ['1.5', '-0.1', 'abc', 'NaN', '0x']) {
    const { sampler, warnings } = parse({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg });
    assert.equal(String(sampler), 'ForceSampling{key=linktrace.debug, TraceIdRatio{1}}', arg);
    assert.equal(warnings.length, 1, arg);
    assert.match(warnings[0]!, /OTEL_TRACES_SAMPLER_ARG/);
  }
  const rate = parse({ OTEL_TRACES_SAMPLER: 'linktrace_rate', OTEL_TRACES_SAMPLER_ARG: '-3' });
  assert.match(String(rate.sampler), /RateLimited\{100\/s/);
  assert.equal(rate.warnings.length, 1);
  const adaptive = parse({ OTEL_TRACES_SAMPLER: 'linktrace_adaptive', OTEL_TRACES_SAMPLER_ARG: '0' });
  assert.match(String(adaptive.sampler), /Adaptive\{1000 spans/);
  assert.equal(adaptive.warnings.length, 1);
  const ignored = parse({ OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: '0.1' });
  assert.deepEqual(behaviour(ignored.sampler), [true, true, true, true]);
  assert.match(ignored.warnings[0]!, /ignored/);
});

void test('env: unknown sampler names warn and use parentbased_always_on', () => {
  for (const name of ['jaeger_remote', 'xray', 'always', 'parentbased_jaeger_remote']) {
    const { sampler, warnings } = parse({ OTEL_TRACES_SAMPLER: name });
    assert.deepEqual(behaviour(sampler), [true, true, false, true], name);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(name));
  }
});

void test('env: force=false leaves force sampling out; always_off is never forced', () => {
  const plain = parse({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }, false).sampler;
  assert.deepEqual(behaviour(plain), [false, true, false, false]);
  assert.equal(String(parse({ OTEL_TRACES_SAMPLER: 'always_off' }).sampler), 'AlwaysOff');
});

void test('env: default warning goes to process warnings; default env is process.env', async () => {
  const seen: string[] = [];
  const onWarning = (w: Error): void => void seen.push(w.message);
  process.on('warning', onWarning);
  try {
    parseSamplerFromEnv({ OTEL_TRACES_SAMPLER: 'bogus' });
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  assert.equal(seen.length, 1);
  assert.match(seen[0]!, /bogus/);
  assert.equal(typeof parseSamplerFromEnv().shouldSample, 'function');
});
