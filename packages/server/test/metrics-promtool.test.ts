/**
 * `promtool check metrics` (Prometheus' own linter) accepts what a live `linktrace serve` answers on
 * /metrics once every family has samples: spans stored and refused, error answers, chain checks run
 * with findings. promtool comes from Debian's `prometheus` package (`.ci/run` installs it); a machine
 * without it fails here rather than skipping, so a broken exposition cannot pass unnoticed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { it } from 'node:test';
import { encodeNativeJson } from '@linktrace/model';
import { eventually, ID, shopSync, without } from './checker-traces.js';
import { get, post, tempDir } from './ingest-helpers.js';
import { startServe } from './serve-helpers.js';

function promtool(text: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error !== undefined) {
    throw new Error(`promtool could not be run (${run.error.message}): install Debian's prometheus package (.ci/run does)`);
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

void it('promtool check metrics passes on /metrics after ingest, refusals and chain checks', async () => {
  const dataDir = await tempDir();
  // With tail sampling on, so that its families are linted too.
  const server = await startServe(['--data', dataDir, '--check-delay', '200ms', '--keep', 'error,finding', '--keep-rate', '1/s']);
  try {
    // A trace whose worker never wrote: stored, then checked with a missing-write finding.
    const json = { 'content-type': 'application/json' };
    const broken = without(shopSync(), ID.workerMysql);
    assert.equal((await post(`${server.url}/api/v1/spans`, JSON.stringify(encodeNativeJson(broken)), json)).status, 200);
    // A span with a malformed trace id: refused (invalid_span) beside a good one.
    const batch = encodeNativeJson(shopSync().slice(0, 2)) as { spans: { traceId: string }[] };
    batch.spans[1]!.traceId = 'not-a-trace-id';
    await post(`${server.url}/api/v1/spans`, JSON.stringify(batch), json);
    // An error answer.
    assert.equal((await post(`${server.url}/v1/traces`, '{', json)).status, 400);

    const text = await eventually(async () => {
      const body = (await get(`${server.url}/metrics`)).body.toString();
      return /^linktrace_findings_total\{rule="missing-write"\} [1-9]/m.test(body) ? body : undefined;
    }, 20_000, 'a missing-write finding on /metrics');
    assert.match(text, /^linktrace_spans_rejected_total\{receiver="native",reason="invalid_span"\} 1$/m);
    assert.match(text, /^linktrace_http_errors_total\{code="invalid_json"\} 1$/m);
    assert.match(text, /^linktrace_nodejs_active_handles\{/m, 'process metrics are on');
    assert.match(text, /^linktrace_tail_traces_total\{decision="kept",reason="finding"\} 1$/m);

    const check = promtool(text);
    assert.equal(check.status, 0, `promtool check metrics:\n${check.output}`);
  } finally {
    server.kill();
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
