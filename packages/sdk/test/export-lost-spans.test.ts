/**
 * Every lost span accounted for: spans that will never be delivered (queue full, export failed after
 * the last attempt — a collector that is down — or still held when the process exits) are counted by
 * cause, summarised in one line at exit, and the cumulative count rides with the next batch that gets
 * through (`linktrace.sdk.dropped_spans`).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { ATTR } from '@linktrace/model';
import { BatchSpanProcessor } from '../src/export/batch-span-processor.js';
import { otlpHttpExporter } from '../src/export/otlp-http-exporter.js';
import { makeSpans, RESOURCE, ScriptedExporter, startRecordingServer } from './export-test-helpers.js';

const APPS = fileURLToPath(new URL('../../test/fixtures/apps/', import.meta.url));
const EXPORT_INDEX_JS = fileURLToPath(new URL('../src/export/index.js', import.meta.url));

async function closedPortEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

function runApp(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = { ...process.env };
  for (const key of Object.keys(clean)) {
    if (key.startsWith('LINKTRACE_') || key.startsWith('OTEL_') || key === 'NODE_OPTIONS' || key === 'NODE_TEST_CONTEXT') delete clean[key];
  }
  const child = spawn(process.execPath, ['--import', '@linktrace/sdk/register', script], { cwd: APPS, env: { ...clean, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

it('a script under the register hook with the collector down: one summary line says all 3000 spans were lost', async () => {
  const endpoint = await closedPortEndpoint();
  const run = await runApp('lose-spans.mjs', { LINKTRACE_ENDPOINT: endpoint, LINKTRACE_SERVICE: 'lose-spans' });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'script done\n');
  const summaries = run.stderr.split('\n').filter((line) => line.includes('never delivered'));
  assert.equal(summaries.length, 1, run.stderr);
  assert.match(summaries[0]!, /^\[linktrace\] 3000 spans lost, never delivered: 0 queue full, 3000 export failed, 0 after shutdown, 0 unsent at exit \(last: .*ECONNREFUSED/);
});

it('nothing lost, nothing said: a delivered script prints no summary', async () => {
  const server = await startRecordingServer();
  const run = await runApp('lose-spans.mjs', { LINKTRACE_ENDPOINT: server.url(''), SPANS: '20' });
  await server.close();
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  assert.equal(server.requests.length, 1);
});

it('a collector that refuses the first batches and then recovers: the next accepted batch carries the count', async () => {
  // The first two requests are refused (400: not worth retrying), then everything is accepted.
  const server = await startRecordingServer((_req, res, i) => {
    if (i < 2) res.writeHead(400, { 'content-type': 'text/plain' }).end('not now');
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const errors: string[] = [];
  const p = new BatchSpanProcessor(otlpHttpExporter({ url: server.url('/v1/traces'), encoding: 'json' }), {
    resource: RESOURCE,
    flushOnExit: false,
    maxExportsInFlight: 1,
    onError: (e) => errors.push(e.message),
  });
  for (const batch of [makeSpans(3), makeSpans(4, 3), makeSpans(5, 7)]) {
    for (const s of batch) p.onEnd(s);
    await p.forceFlush();
  }
  await p.shutdown();
  await server.close();
  assert.equal(server.requests.length, 3);
  const accepted = JSON.parse(server.requests[2]!.body.toString()) as {
    resourceSpans: { resource: { attributes: { key: string; value: { intValue?: string } }[] } }[];
  };
  const dropped = accepted.resourceSpans[0]!.resource.attributes.find((a) => a.key === ATTR.droppedSpans)?.value.intValue;
  assert.equal(dropped, '7');
  assert.equal(p.stats().droppedExportFailed, 7);
  assert.match(errors[1]!, /export failed: HTTP 400: not now \(4 spans dropped\); lost so far: 0 queue full, 7 export failed/);
});

it('each running report says what was lost so far by cause, so a rate-limited line covers failed exports too', async () => {
  const errors: string[] = [];
  const exporter = new ScriptedExporter([{ code: 'failed', error: new Error('HTTP 400') }]);
  const p = new BatchSpanProcessor(exporter, { resource: RESOURCE, flushOnExit: false, maxQueueSize: 4, onError: (e) => errors.push(e.message) });
  for (const s of makeSpans(4)) p.onEnd(s);
  await p.forceFlush();
  for (const s of makeSpans(6, 4)) p.onEnd(s); // 4 fit, 2 find the queue full
  assert.equal(errors.length, 2);
  assert.match(errors[1]!, /^span queue full \(4 spans\): dropping spans; lost so far: 1 queue full, 4 export failed, 0 after shutdown, 0 unsent at exit$/);
  await p.shutdown();
});

it('at exit, what is still queued or waiting for a retry counts as unsent', async () => {
  const exporter = new ScriptedExporter([{ code: 'retryable', error: new Error('HTTP 503') }]);
  const p = new BatchSpanProcessor(exporter, { resource: RESOURCE, flushOnExit: false, maxBatchSize: 2, retryBaseMs: 60_000, onError: () => {} });
  for (const s of makeSpans(2)) p.onEnd(s);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r)); // the first batch was tried and now waits for its retry
  for (const s of makeSpans(3, 2)) p.onEnd(s);
  const loss = p.onExit();
  assert.deepEqual({ ...loss, lastReason: undefined }, { queueFull: 0, exportFailed: 0, afterShutdown: 0, unsentAtExit: 5, lastReason: undefined });
  assert.equal(p.stats().dropped, 5);
});

it('a processor without the exit flush that still holds spans at exit: they are counted and summarised', async () => {
  const script = `import * as x from ${JSON.stringify(EXPORT_INDEX_JS)};
    const p = new x.BatchSpanProcessor(x.noopExporter(), { flushOnExit: false, scheduleDelayMs: 60000 });
    for (let i = 0; i < 5; i++) p.onEnd({ traceId: '0000018f2a3b4c5d0001c0a800010001', spanId: '00000000abcd000' + i, service: 's', name: 'op',
      kind: 'internal', startUs: 1, durationUs: 1, status: { code: 'unset' }, attributes: {}, events: [], links: [] });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '[linktrace] 5 spans lost, never delivered: 0 queue full, 0 export failed, 0 after shutdown, 5 unsent at exit (last: process exited before they were sent)\n');
});
