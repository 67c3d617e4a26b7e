import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Span } from '@linktrace/model';
import type { SpanExporter } from '@linktrace/sdk';
import { closeShop, startDemo } from '../src/services.js';

describe('print-spans example', () => {
  it('records one connected trace across both services', async () => {
    const spans: Span[] = [];
    const exporter = (): SpanExporter => ({
      export: (batch) => {
        spans.push(...batch);
        return Promise.resolve({ code: 'success' });
      },
      shutdown: () => Promise.resolve(),
    });
    const demo = await startDemo(exporter);
    await closeShop(demo, '42');
    await demo.close();
    assert.equal(spans.length, 5, spans.map((s) => `${s.service}:${s.name}`).join());
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
    const byName = (name: string) => spans.find((s) => s.name === name)!;
    const root = byName('POST /shops/:id/close');
    const notify = byName('notify shop-query');
    const received = byName('POST /shops/:id/changed');
    assert.equal(root.service, 'merchant-api');
    assert.equal(root.rpcid, '0');
    assert.equal(notify.parentSpanId, root.spanId);
    assert.equal(received.service, 'shop-query');
    assert.equal(received.parentSpanId, notify.spanId);
    // The receiving half takes the caller's position; its own calls go below it.
    assert.equal(received.rpcid, notify.rpcid);
    assert.equal(byName('cache write').rpcid, `${notify.rpcid}.1`);
    assert.equal(byName('cache write').attributes['linktrace.entity.key'], '42');
  });

  it('runs as `npm start` does and prints spans of both services', () => {
    const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
    const run = spawnSync(process.execPath, [main, '--once'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /merchant-api server "POST \/shops\/:id\/close"/);
    assert.match(run.stdout, /shop-query server "POST \/shops\/:id\/changed"/);
  });

  it('runs as `npm start` does: the server plus the demo services, traces queryable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'linktrace-start-'));
    const script = fileURLToPath(new URL('../src/demo-with-server.js', import.meta.url));
    // Its own process group, so that cleanup can stop the demo and the server it started together.
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, PORT: '0', LINKTRACE_DATA: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!/closed shop 41 — traces: (\S+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const url = /closed shop 41 — traces: (\S+)/.exec(out)?.[1];
      assert.ok(url, out);
      // Both services export on their own schedule and the server stores asynchronously: wait until
      // one whole trace (5 spans over both services) is queryable.
      type Summary = { spanCount: number; services: string[] };
      let complete: Summary | undefined;
      let last: Summary[] = [];
      while (complete === undefined && Date.now() < deadline) {
        const answer = await fetch(url);
        if (answer.ok) last = ((await answer.json()) as { traces: Summary[] }).traces;
        complete = last.find((t) => t.spanCount === 5);
        if (complete === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(complete, `no complete trace; last answer ${JSON.stringify(last)}; output:\n${out}`);
      assert.deepEqual(complete.services, ['merchant-api', 'shop-query']);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      child.stdout.destroy();
      child.stderr.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
