/**
 * Tail sampling end to end through `linktrace serve` flags (a child process, its real clock): with
 * `--keep error`, a failed trace stays, a healthy one is deleted once its flow window is over, the
 * banner and /healthz name the policy, /metrics counts both, RED still counts the dropped trace. The
 * test only polls for outcomes (with a generous bound); it asserts nothing about timing.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { it } from 'node:test';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { eventually, newTraceId } from './checker-traces.js';
import { get, post, tempDir } from './ingest-helpers.js';
import { startServe } from './serve-helpers.js';

function trace(traceId: string, service: string, error: boolean): Span[] {
  const t0 = (Date.now() - 1000) * 1000;
  return [
    {
      traceId,
      spanId: `${traceId.slice(0, 15)}1`,
      service,
      name: 'GET /item',
      kind: 'server',
      startUs: t0,
      durationUs: 3000,
      status: { code: error ? 'error' : 'ok' },
      attributes: {},
      events: [],
      links: [],
    },
  ];
}

void it('linktrace serve --keep error: keeps the failed trace, deletes the healthy one, counts both', async () => {
  const dataDir = await tempDir();
  const server = await startServe(['--data', dataDir, '--no-ui', '--check-delay', '200ms', '--keep', 'error', '--keep-window', '300ms']);
  try {
    assert.match(server.stdout(), /sampling {3}keep error \+ 0\/s, flows kept together within 300 ms/);
    const failed = newTraceId();
    const healthy = newTraceId();
    const json = { 'content-type': 'application/json' };
    const body = JSON.stringify(encodeNativeJson([...trace(failed, 'tail-e2e', true), ...trace(healthy, 'tail-e2e', false)]));
    assert.equal((await post(`${server.url}/api/v1/spans`, body, json)).status, 200);
    // The healthy trace's drop is done once its spans are deleted (a trace not stored yet answers 404 too).
    await eventually(
      async () => {
        const health = (await get(`${server.url}/healthz`)).json() as { sampling: { deletedSpans: number } };
        return health.sampling.deletedSpans >= 1 ? true : undefined;
      },
      30_000,
      'the healthy trace dropped and deleted',
    );
    assert.equal((await get(`${server.url}/api/v1/traces/${healthy}`)).status, 404, 'the healthy trace is gone');
    assert.equal((await get(`${server.url}/api/v1/traces/${failed}`)).status, 200, 'the failed trace is kept');
    const metrics = (await get(`${server.url}/metrics`)).body.toString();
    assert.match(metrics, /^linktrace_tail_traces_total\{decision="kept",reason="error"\} 1$/m);
    assert.match(metrics, /^linktrace_tail_traces_total\{decision="dropped",reason="rate"\} 1$/m);
    assert.match(metrics, /^linktrace_tail_deleted_spans_total 1$/m);
    const health = (await get(`${server.url}/healthz`)).json() as { sampling: { policies: string[]; dropped: number } };
    assert.deepStrictEqual([health.sampling.policies, health.sampling.dropped], [['error'], 1]);
    // Both calls are in the RED metrics, the dropped one too.
    const red = (await get(`${server.url}/api/v1/metrics/red?service=tail-e2e&step=1h`)).json() as { points: { rate: number; errors: number }[] };
    const calls = Math.round(red.points.reduce((n, p) => n + p.rate * 3600, 0));
    assert.deepStrictEqual([calls, red.points.reduce((n, p) => n + p.errors, 0)], [2, 1]);
  } finally {
    server.kill();
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
