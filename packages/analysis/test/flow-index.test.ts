/**
 * Issue 11 item 3: checking a trace against flow contracts costs the contracts the trace could be
 * an instance of, not the number in force.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkTrace } from '../src/check-trace.js';
import type { FlowContract } from '../src/flow-contract.js';
import { FlowIndex } from '../src/flow-index.js';
import { readFacts } from '../src/trace-facts.js';
import { validateFlows, MAX_FLOW_STEPS } from '../src/validate-flows.js';
import { LATER, T0, shopSync, without, ID } from './shop-sync.js';

/** The shop-sync flow, plus `others` contracts whose first step is a service no shop-sync trace has. */
function contracts(others: number): FlowContract[] {
  const list: FlowContract[] = [
    {
      name: 'shop-sync',
      deadlineMs: 1000,
      steps: [
        { service: 'merchant-api', stage: 'receive' },
        { service: 'sync-worker', stage: 'write', target: 'mysql:user_shop' },
      ],
    },
  ];
  for (let i = 0; i < others; i++) {
    list.push({ name: `other-${i}`, deadlineMs: 1000, steps: [{ service: `svc-${i}`, stage: 'receive' }, { service: `svc-${i}`, stage: 'write' }] });
  }
  return list;
}

describe('FlowIndex', () => {
  it('a trace is a candidate of the contracts its spans can start, whatever the number in force', () => {
    const facts = readFacts(shopSync());
    assert.deepEqual(new FlowIndex(contracts(0)).candidates(facts).map((c) => c.name), ['shop-sync']);
    assert.deepEqual(new FlowIndex(contracts(1000)).candidates(facts).map((c) => c.name), ['shop-sync']);
  });

  it('indexes by the match when it has one: stage, target, entity type; keeps declaration order', () => {
    const list: FlowContract[] = [
      { name: 'by-entity', deadlineMs: 1, match: { entityType: 'shop' }, steps: [{ service: 'x', stage: 'receive' }] },
      { name: 'by-target', deadlineMs: 1, match: { target: 'mq:shop-changed' }, steps: [{ service: 'x', stage: 'receive' }] },
      { name: 'by-stage', deadlineMs: 1, match: { stage: 'enqueue' }, steps: [{ service: 'x', stage: 'receive' }] },
      { name: 'no-such-entity', deadlineMs: 1, match: { entityType: 'order' }, steps: [{ service: 'merchant-api', stage: 'receive' }] },
      { name: 'by-service', deadlineMs: 1, match: { service: 'shop-query', stage: 'write' }, steps: [{ service: 'x', stage: 'receive' }] },
    ];
    const names = new FlowIndex(list).candidates(readFacts(shopSync())).map((c) => c.name);
    assert.deepEqual(names, ['by-entity', 'by-target', 'by-stage', 'by-service']);
  });

  it('checkTrace finds the same flow findings with an index of 1 000 contracts as with the one list', () => {
    const broken = without(shopSync(), ID.workerMysql);
    const one = checkTrace(broken, { flows: contracts(0) }, LATER);
    const indexed = checkTrace(broken, { flows: new FlowIndex(contracts(1000)) }, LATER);
    assert.ok(one.some((f) => f.rule === 'flow-step-missing'), 'the missing step is found');
    assert.deepEqual(indexed, one);
    assert.ok(T0 < LATER);
  });

  it('validateFlows bounds the steps and the text of a contract', () => {
    const steps = Array.from({ length: MAX_FLOW_STEPS + 1 }, () => ({ service: 's', stage: 'receive' }));
    const many = validateFlows([{ name: 'x', deadlineMs: 1, steps }]);
    assert.ok(!many.ok && many.errors.some((e) => e.path === 'flows[0].steps' && /at most 64 steps/.test(e.message)));
    const long = validateFlows([{ name: 'n'.repeat(300), deadlineMs: 1, steps: [{ service: 's'.repeat(300), stage: 'receive' }] }]);
    assert.ok(!long.ok);
    assert.deepEqual(long.errors.map((e) => e.path), ['flows[0].name', 'flows[0].steps[0].service']);
  });
});
