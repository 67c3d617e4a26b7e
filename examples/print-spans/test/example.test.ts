import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
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
});
