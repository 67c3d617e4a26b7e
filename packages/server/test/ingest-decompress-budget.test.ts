/**
 * Issue 11 item 1: the bytes being decompressed are bounded across requests, not only per request.
 * A burst of gzip bombs is refused with 429 (before inflating, or as soon as the shared budget is
 * spent) instead of taking cap × requests of memory; the budget comes back after every error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { encodeOtlpJson, type Span } from '@linktrace/model';
import { ByteBudget } from '../src/ingest/byte-budget.js';
import { DecompressError, gunzipBudgeted, type Inflated } from '../src/ingest/decompress.js';
import { errorCode, post, withApp } from './ingest-helpers.js';

const MB = 1024 * 1024;
const GZIP_JSON = { 'content-type': 'application/json', 'content-encoding': 'gzip' };

/** A valid empty OTLP export padded with spaces: inflates to `bytes`, compresses to ~1/1000 of it. */
function paddedBomb(bytes: number): Buffer {
  const body = Buffer.alloc(bytes, 0x20);
  Buffer.from('{"resourceSpans":[]}').copy(body);
  return gzipSync(body, { level: 9 });
}

function span(i: number): Span {
  return {
    traceId: '5bf92f3577b34da6a3ce929d0e0e4736',
    spanId: (0x2000 + i).toString(16).padStart(16, '0'),
    service: 'svc',
    name: `op-${i}`,
    kind: 'server',
    startUs: Date.now() * 1000,
    durationUs: 100,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
  };
}

describe('decompression budget shared by all requests', () => {
  it('concurrent bodies that together pass the budget: the rest are refused busy; what succeeded fits the budget', async () => {
    const budget = new ByteBudget(4 * MB);
    const bomb = paddedBomb(1.5 * MB);
    const settled = await Promise.allSettled(Array.from({ length: 20 }, () => gunzipBudgeted(bomb, 2 * MB, budget)));
    const ok = settled.filter((s): s is PromiseFulfilledResult<Inflated> => s.status === 'fulfilled');
    const busy = settled.filter((s) => s.status === 'rejected' && s.reason instanceof DecompressError && s.reason.kind === 'busy');
    assert.equal(ok.length + busy.length, 20, 'every body either inflated or was refused busy');
    assert.ok(ok.length * 1.5 * MB <= 4 * MB, `${ok.length} bodies of 1.5 MB inflated at once under a 4 MB budget`);
    assert.ok(busy.length >= 18, `${busy.length} refused`);
    assert.ok(budget.inUse <= 4 * MB);
    for (const s of ok) s.value.release();
    assert.equal(budget.inUse, 0, 'released bodies give their bytes back');
  });

  it('a body over the per-request cap is too_large, and gives its share back', async () => {
    const budget = new ByteBudget(8 * MB);
    await assert.rejects(gunzipBudgeted(paddedBomb(3 * MB), 2 * MB, budget), (e: unknown) => e instanceof DecompressError && e.kind === 'too_large');
    await assert.rejects(gunzipBudgeted(Buffer.from('not gzip'), 2 * MB, budget), (e: unknown) => e instanceof DecompressError && e.kind === 'corrupt');
    assert.equal(budget.inUse, 0);
  });

  it('HTTP: a spent budget answers 429 decompress_busy with Retry-After before inflating; over the cap is still 413', async () => {
    await withApp({ limits: { maxDecompressedBytes: 2 * MB, maxDecompressingBytes: 4 * MB } }, async ({ app, url }) => {
      const budget = app.linktrace.decompressBudget;
      const good = gzipSync(JSON.stringify(encodeOtlpJson([span(1)])));
      // Another request holds the whole budget.
      assert.ok(budget.tryTake(budget.capacity));
      const refused = await post(`${url}/v1/traces`, good, GZIP_JSON);
      assert.equal(refused.status, 429, refused.body.toString());
      assert.equal(errorCode(refused), 'decompress_busy');
      assert.equal(refused.headers.get('retry-after'), '1');
      budget.give(budget.capacity);
      assert.equal(budget.inUse, 0, 'the refused request took nothing');

      const accepted = await post(`${url}/v1/traces`, good, GZIP_JSON);
      assert.equal(accepted.status, 200, accepted.body.toString());
      const over = await post(`${url}/v1/traces`, paddedBomb(3 * MB), GZIP_JSON);
      assert.equal(over.status, 413);
      assert.equal(errorCode(over), 'payload_too_large');
      assert.equal(budget.inUse, 0);
    });
  });

  it('HTTP: a burst of bombs gets 200 or 429, never an error of ours; after many failing bombs a normal body is accepted', async () => {
    await withApp({ limits: { maxDecompressedBytes: 2 * MB, maxDecompressingBytes: 4 * MB } }, async ({ app, url }) => {
      const budget = app.linktrace.decompressBudget;
      const bomb = paddedBomb(1.9 * MB);
      const answers = await Promise.all(Array.from({ length: 30 }, () => post(`${url}/v1/traces`, bomb, GZIP_JSON)));
      for (const a of answers) assert.ok(a.status === 200 || (a.status === 429 && errorCode(a) === 'decompress_busy'), `status ${a.status}`);
      // Failing bombs of every kind: over the cap, corrupt, inflating to bad JSON.
      const failing = [paddedBomb(3 * MB), Buffer.from('not gzip'), gzipSync(Buffer.alloc(MB, 0x7b))];
      for (let i = 0; i < 60; i++) {
        const a = await post(`${url}/api/v1/spans`, failing[i % failing.length]!, GZIP_JSON);
        assert.ok(a.status === 413 || a.status === 400, `status ${a.status}`);
      }
      assert.equal(budget.inUse, 0, 'no bytes leaked by the failures');
      const good = await post(`${url}/v1/traces`, gzipSync(JSON.stringify(encodeOtlpJson([span(2)]))), GZIP_JSON);
      assert.equal(good.status, 200, good.body.toString());
    });
  });
});
