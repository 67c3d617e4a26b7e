import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleExporter, formatSpanLine } from '../src/export/console-exporter.js';
import { noopExporter } from '../src/export/noop-exporter.js';
import { RESOURCE, makeSpan } from './export-test-helpers.js';

void test('console exporter: one readable line per span, one write per batch', async () => {
  const writes: string[] = [];
  const exporter = consoleExporter({ stream: { write: (c: string) => writes.push(c) } });
  const spans = [
    makeSpan(1),
    makeSpan(2, { durationUs: undefined, parentSpanId: '00000000abcd0001', rpcid: '0.1' }),
    makeSpan(3, { status: { code: 'error', message: 'db "down"' }, attributes: { tags: ['a', 'b'], n: 3 } }),
  ];
  assert.deepEqual(await exporter.export(spans, RESOURCE), { code: 'success' });
  assert.equal(writes.length, 1);
  const lines = writes[0]!.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.equal(
    lines[0],
    `2024-05-01T12:00:00.000Z checkout server "op-1" 1.501ms ok trace=${spans[0]!.traceId} span=${spans[0]!.spanId}` +
      ' linktrace.stage="receive" http.status_code=200 cache.hit=false',
  );
  assert.match(lines[1]!, / "op-2" started ok .* parent=00000000abcd0001 rpcid=0\.1 /);
  assert.match(lines[2]!, / error\("db \\"down\\""\) /);
  assert.match(lines[2]!, /tags="\[\\"a\\",\\"b\\"\]" n=3$/);
  await exporter.shutdown();
});

void test('console exporter: attributes can be left out; a broken stream is a failed result', async () => {
  assert.doesNotMatch(formatSpanLine(makeSpan(1), false), /linktrace\.stage/);
  assert.match(formatSpanLine(makeSpan(1, { startUs: Number.NaN })), /^@NaNus /);
  const broken = consoleExporter({
    stream: {
      write: () => {
        throw new Error('EPIPE');
      },
    },
  });
  const r = await broken.export([makeSpan(1)], RESOURCE);
  assert.equal(r.code, 'failed');
});

void test('noop exporter: always success, the same settled promise every time', async () => {
  const e = noopExporter();
  const a = e.export([makeSpan(1)], RESOURCE);
  const b = e.export([], RESOURCE);
  assert.equal(a, b, 'no allocation per call');
  assert.deepEqual(await a, { code: 'success' });
  await e.shutdown();
});
