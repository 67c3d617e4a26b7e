import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkTrace } from '../src/check-trace.js';
import { evaluateFlow, summarizeFlow } from '../src/evaluate-flow.js';
import type { FlowContract, FlowResult } from '../src/flow-contract.js';
import { formatFlowError, parseFlows } from '../src/parse-flows.js';
import { validateFlows } from '../src/validate-flows.js';
import { ID, LATER, T0, byId, shopSync, without } from './shop-sync.js';

const YAML = `# flows checked on every shop-sync trace
flows:
  - name: shop-sync
    deadlineMs: 1000
    match:
      entityType: shop
    steps:
      - service: merchant-api
        stage: enqueue
        target: mq:shop-changed
      - { service: sync-worker, stage: write, target: "mysql:user_shop" }
      - { service: sync-worker, stage: write, target: 'redis:shop_cache' }
      - service: shop-query   # the read side
        stage: write
        target: memory:shop_cache
`;

function shopFlow(): FlowContract {
  const r = parseFlows(YAML, 'yaml');
  assert.ok(r.ok, JSON.stringify(r));
  return r.flows[0]!;
}

describe('parseFlows', () => {
  it('reads the documented YAML subset', () => {
    assert.deepEqual(shopFlow(), {
      name: 'shop-sync',
      deadlineMs: 1000,
      match: { entityType: 'shop' },
      steps: [
        { service: 'merchant-api', stage: 'enqueue', target: 'mq:shop-changed' },
        { service: 'sync-worker', stage: 'write', target: 'mysql:user_shop' },
        { service: 'sync-worker', stage: 'write', target: 'redis:shop_cache' },
        { service: 'shop-query', stage: 'write', target: 'memory:shop_cache' },
      ],
    });
  });
  it('JSON gives the same contracts; a bare list is accepted too', () => {
    const json = JSON.stringify({ flows: [shopFlow()] }, null, 2);
    assert.deepEqual(parseFlows(json, 'json'), { ok: true, flows: [shopFlow()] });
    assert.deepEqual(parseFlows(JSON.stringify([shopFlow()]), 'json'), { ok: true, flows: [shopFlow()] });
    const yamlList = `- name: a\n  deadlineMs: 5\n  steps:\n  - service: s\n    stage: receive\n`;
    assert.deepEqual(parseFlows(yamlList, 'yaml'), { ok: true, flows: [{ name: 'a', deadlineMs: 5, steps: [{ service: 's', stage: 'receive' }] }] });
  });
  it('a wrong field is refused with its path and line', () => {
    const bad = YAML.replace('stage: enqueue', 'stage: enqueued');
    const r = parseFlows(bad, 'yaml');
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.errors, [{ path: 'flows[0].steps[0].stage', line: 9, message: 'must be one of receive, process, write, skip, enqueue, dequeue, consume' }]);
    assert.equal(formatFlowError(r.errors[0]!), 'line 9: flows[0].steps[0].stage: must be one of receive, process, write, skip, enqueue, dequeue, consume');
  });
  it('JSON errors name the line too: syntax and validation', () => {
    const r1 = parseFlows('{\n  "flows": [\n    { "name": "x", }\n  ]\n}', 'json');
    assert.deepEqual(r1, { ok: false, errors: [{ path: '', line: 3, message: `expected a quoted key, found '}'` }] });
    const r2 = parseFlows('{\n  "flows": [\n    {\n      "name": "x",\n      "deadlineMs": -1,\n      "steps": [{ "service": "", "stage": "write" }]\n    }\n  ]\n}', 'json');
    assert.equal(r2.ok, false);
    if (r2.ok) return;
    assert.deepEqual(
      r2.errors.map((e) => formatFlowError(e)),
      ['line 5: flows[0].deadlineMs: must be a positive number of milliseconds', 'line 6: flows[0].steps[0].service: must be a non-empty string'],
    );
  });
  it('a missing key takes the line of the flow that lacks it; unknown keys and duplicate names are refused', () => {
    const r = parseFlows(`flows:\n  - name: a\n    steps: [{ service: s, stage: write }]\n  - name: a\n    deadlineMs: 10\n    stepz: []\n`, 'yaml');
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.errors.map(formatFlowError), [
      'line 2: flows[0].deadlineMs: must be a positive number of milliseconds',
      'line 6: flows[1].stepz: unknown key',
      'line 4: flows[1].name: duplicate flow name "a"',
      'line 4: flows[1].steps: must be a non-empty list of steps',
    ]);
  });
  it('YAML outside the subset is refused with the line and the reason', () => {
    const cases: [string, number, RegExp][] = [
      ['flows:\n\t- name: a\n', 2, /tab/],
      ['flows:\n  - name: &x a\n', 2, /anchor/],
      ['flows:\n  - name: "a\n', 2, /unterminated/],
      ['flows:\n  - name: a\n     deadlineMs: 3\n', 3, /indentation/],
      ['flows:\n  - name: a\n    name: b\n', 3, /duplicate key "name"/],
      ['a: 1\n---\nb: 2\n', 2, /one document/],
      ['flows:\n  - { service: a, stage write }\n', 2, /expected ':'/],
    ];
    for (const [text, line, reason] of cases) {
      const r = parseFlows(text, 'yaml');
      assert.equal(r.ok, false, text);
      if (r.ok) continue;
      assert.equal(r.errors[0]!.line, line, text);
      assert.match(r.errors[0]!.message, reason, text);
    }
  });
  it('non-text input, unknown formats and empty files are refused without throwing', () => {
    assert.equal(parseFlows(undefined as unknown as string, 'json').ok, false);
    assert.equal(parseFlows('[]', 'toml' as 'json').ok, false);
    assert.equal(parseFlows('', 'yaml').ok, false);
    assert.equal(parseFlows('', 'json').ok, false);
    assert.equal(parseFlows('['.repeat(100), 'json').ok, false);
  });
  it('validateFlows takes plain objects (e.g. from the API) and names paths', () => {
    const r = validateFlows({ flows: [{ name: 'x', deadlineMs: 1, steps: [{ service: 's', stage: 'write', target: 'nocolon' }], match: { entityType: 3 } }] });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.errors.map((e) => e.path), ['flows[0].steps[0].target', 'flows[0].match.entityType']);
  });
});

describe('evaluateFlow', () => {
  it('a healthy trace is a complete instance with its end-to-end time', () => {
    const r = evaluateFlow(shopFlow(), shopSync(), LATER);
    assert.equal(r.status, 'complete');
    // first matching span (entity shop) is merchant-api's receive at 0 ms; the last step ends at 161 ms
    assert.equal(r.startUs, T0);
    assert.equal(r.endToEndUs, 161_000);
    assert.deepEqual(r.steps.map((s) => s.status), ['ok', 'ok', 'ok', 'ok']);
    assert.deepEqual(r.findings, []);
  });
  it('Zipkin spans of unknown length or start do their step: complete, nothing missing or late', () => {
    for (const id of shopSync().map((x) => x.spanId)) {
      for (const unknown of ['length', 'start'] as const) {
        const spans = shopSync();
        const s = byId(spans, id);
        if (unknown === 'length') {
          delete s.durationUs;
          s.durationUnknown = true;
        } else {
          s.startUs = 0;
          s.startUnknown = true;
        }
        const r = evaluateFlow(shopFlow(), spans, LATER);
        assert.equal(r.status, 'complete', `${id} of unknown ${unknown}: ${JSON.stringify(r.steps)}`);
        assert.ok(r.startUs !== undefined && r.startUs >= T0, 'the flow starts at its first known start, never at 0');
      }
    }
  });
  it('a trace of another flow is not matched', () => {
    const spans = shopSync();
    for (const s of spans) delete s.attributes['linktrace.entity.type'];
    assert.equal(evaluateFlow(shopFlow(), spans, LATER).status, 'not-matched');
  });
  it('a missing step is pending before the deadline and broken after it, with one finding', () => {
    const spans = without(shopSync(), ID.workerRedis);
    assert.equal(evaluateFlow(shopFlow(), spans, T0 + 500_000).status, 'pending');
    const r = evaluateFlow(shopFlow(), spans, T0 + 2_000_000);
    assert.equal(r.status, 'broken');
    assert.deepEqual(r.steps.map((s) => s.status), ['ok', 'ok', 'missing', 'ok']);
    assert.equal(r.findings.length, 1);
    const f = r.findings[0]!;
    assert.equal(f.rule, 'flow-step-missing');
    assert.equal(f.service, 'sync-worker');
    assert.equal(f.spanId, ID.workerMysql);
    assert.equal(f.target, 'redis:shop_cache');
    assert.equal(f.message, 'flow shop-sync: step sync-worker write redis:shop_cache never happened (last seen: sync-worker write mysql:user_shop)');
  });
  it('a late step is broken at once; only the first late step is reported', () => {
    const spans = shopSync();
    byId(spans, ID.queryWrite).startUs = T0 + 1_500_000;
    const r = evaluateFlow(shopFlow(), spans, T0 + 1_600_000);
    assert.equal(r.status, 'broken');
    assert.deepEqual(r.steps.map((s) => s.status), ['ok', 'ok', 'ok', 'late']);
    assert.equal(r.findings.length, 1);
    assert.equal(r.findings[0]!.spanId, ID.queryWrite);
    assert.equal(r.findings[0]!.message, 'flow shop-sync: step shop-query write memory:shop_cache ended 1.5 s after the flow started (deadline 1.0 s)');
  });
  it('consecutive missing steps give one finding: where the chain stopped', () => {
    const r = evaluateFlow(shopFlow(), without(shopSync(), ID.workerMysql, ID.workerRedis, ID.queryWrite), LATER);
    assert.deepEqual(r.steps.map((s) => s.status), ['ok', 'missing', 'missing', 'missing']);
    assert.equal(r.findings.length, 1);
    assert.equal(r.findings[0]!.spanId, ID.apiEnqueue);
  });
  it('a failed span does not do its step', () => {
    const spans = shopSync();
    byId(spans, ID.workerRedis).status = { code: 'error' };
    assert.equal(evaluateFlow(shopFlow(), spans, LATER).steps[2]!.status, 'missing');
  });
});

describe('flows inside checkTrace', () => {
  it('a missing step no built-in rule sees is a flow-step-missing finding', () => {
    const findings = checkTrace(without(shopSync(), ID.workerRedis), { flows: [shopFlow()] }, LATER);
    assert.deepEqual(findings.map((f) => [f.rule, f.service, f.spanId]), [['flow-step-missing', 'sync-worker', ID.workerMysql]]);
  });
  it('precedence: a hop a built-in rule already names is not reported again by the flow', () => {
    const f1 = checkTrace(without(shopSync(), ID.queryWrite), { flows: [shopFlow()] }, LATER);
    assert.deepEqual(f1.map((f) => f.rule), ['missing-write']);
    const spans = shopSync();
    byId(spans, ID.workerRedis).status = { code: 'error', message: 'READONLY' };
    assert.deepEqual(checkTrace(spans, { flows: [shopFlow()] }, LATER).map((f) => f.rule), ['stage-error']);
    const gone = without(shopSync(), ID.workerReceive, ID.workerMysql, ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite);
    assert.deepEqual(checkTrace(gone, { flows: [shopFlow()] }, LATER).map((f) => f.rule), ['not-consumed']);
  });
  it('a healthy trace has no finding with flows on', () => {
    assert.deepEqual(checkTrace(shopSync(), { flows: [shopFlow()] }, LATER), []);
  });
});

describe('summarizeFlow', () => {
  it('counts instances and gives nearest-rank p50/p99 of complete ones', () => {
    const results: FlowResult[] = [];
    for (let i = 1; i <= 100; i++) results.push({ flow: 'f', traceId: `t${i}`, status: 'complete', endToEndUs: i * 1000, steps: [], findings: [] });
    results.push({ flow: 'f', traceId: 'b', status: 'broken', steps: [], findings: [] });
    results.push({ flow: 'f', traceId: 'p', status: 'pending', steps: [], findings: [] });
    results.push({ flow: 'f', traceId: 'n', status: 'not-matched', steps: [], findings: [] });
    assert.deepEqual(summarizeFlow(results), { flow: 'f', instances: 102, complete: 100, broken: 1, pending: 1, p50Us: 50_000, p99Us: 99_000 });
    assert.deepEqual(summarizeFlow([]), { flow: '', instances: 0, complete: 0, broken: 0, pending: 0 });
  });
  it('works on real evaluations', () => {
    const s = summarizeFlow([evaluateFlow(shopFlow(), shopSync(), LATER), evaluateFlow(shopFlow(), without(shopSync(), ID.workerRedis), LATER)]);
    assert.deepEqual(s, { flow: 'shop-sync', instances: 2, complete: 1, broken: 1, pending: 0, p50Us: 161_000, p99Us: 161_000 });
  });
});
