import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseTraceIdInput } from '../src/trace-id-input.js';

it('takes a trace id, a traceparent or a trace link; explains anything else', () => {
  const id = '4bf92f3577b34da6a3ce929d0e0e4736';
  assert.deepEqual(parseTraceIdInput(`  ${id.toUpperCase()} `), { ok: true, traceId: id });
  assert.deepEqual(parseTraceIdInput('463ac35c9f6413ad'), { ok: true, traceId: '463ac35c9f6413ad' });
  assert.deepEqual(parseTraceIdInput(`00-${id}-00f067aa0ba902b7-01`), { ok: true, traceId: id });
  assert.deepEqual(parseTraceIdInput(`http://localhost:4318/#/trace/${id}?span=00f067aa0ba902b7`), { ok: true, traceId: id });
  for (const bad of ['', 'hello', id.slice(1), `${id}0`, 'g'.repeat(32), '0'.repeat(32)]) {
    const r = parseTraceIdInput(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.ok(r.message.length > 10);
  }
  const r = parseTraceIdInput('not-an-id');
  assert.ok(!r.ok && r.message.includes('not-an-id') && r.message.includes('32 hex digits'));
});
