/**
 * The service map page lists the processes whose SDK reported lost spans (resource attribute
 * `linktrace.sdk.dropped_spans`), read at ingest by a real `linktrace serve`; nothing when none did.
 * The trace page of a trace from such a process says spans may be missing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ATTR, encodeOtlpJson, type Span } from '@linktrace/model';
import { getJson, openBrowser, postJson, startUiServer, waitFor, type Browser, type UiServer, UI_SUITE_TIMEOUT_MS } from './ui-harness.js';

function span(service: string, instance: string, i: number): Span {
  return {
    traceId: `0000018f2a3b4c5d0001c0a80001${String(i).padStart(4, '0')}`,
    spanId: `00000000abcd${String(i).padStart(4, '0')}`,
    service,
    instance,
    name: 'op',
    kind: 'server',
    startUs: Date.now() * 1000 - 1_000_000,
    durationUs: 100,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
  };
}

describe('SDK drops on the service map page', { timeout: UI_SUITE_TIMEOUT_MS }, () => {
  let ui: UiServer;
  let browser: Browser;

  before(async () => {
    ui = await startUiServer();
    browser = await openBrowser(ui);
  });

  after(async () => {
    await browser?.close();
    await ui?.close();
  });

  it('no process lost spans: no table', async () => {
    await postJson(`${ui.url}/v1/traces`, encodeOtlpJson([span('cart', '10.0.0.1:80', 1)], { [ATTR.droppedSpans]: 0 }));
    await waitFor('the report of cart', async () => ((await getJson<{ sdkDrops: unknown[] }>(`${ui.url}/api/v1/sdk-drops`)).sdkDrops.length === 1 ? true : undefined));
    const { page } = browser;
    await page.goto(`${ui.url}/#/map`);
    await page.getByRole('heading', { name: 'Service map' }).waitFor();
    await page.locator('.map-canvas, .status').first().waitFor();
    assert.equal(await page.getByRole('table', { name: 'Spans lost by SDKs' }).count(), 0);
    assert.deepEqual(browser.takeErrors(), []);
  });

  it('a process that lost spans is listed with its instance and count', async () => {
    await postJson(`${ui.url}/v1/traces`, encodeOtlpJson([span('shop', '10.0.0.2:80', 2)], { [ATTR.droppedSpans]: 3000 }));
    await waitFor('the report of shop', async () => ((await getJson<{ sdkDrops: unknown[] }>(`${ui.url}/api/v1/sdk-drops`)).sdkDrops.length === 2 ? true : undefined));
    const { page } = browser;
    await page.goto(`${ui.url}/#/map?lookback=7d`);
    const table = page.getByRole('table', { name: 'Spans lost by SDKs' });
    await table.waitFor();
    const rows = await table.locator('tbody tr').allTextContents();
    assert.equal(rows.length, 1, rows.join(' | '));
    assert.match(rows[0]!, /^shop10\.0\.0\.2:803000\d{4}-\d{2}-\d{2} /);
    assert.deepEqual(browser.takeErrors(), []);
  });

  it("the trace page of a lossy process's trace says spans may be missing; a clean one does not", async () => {
    const { page } = browser;
    await page.goto(`${ui.url}/#/trace/${span('shop', '10.0.0.2:80', 2).traceId}`);
    const note = page.getByRole('note', { name: 'SDK drops' });
    await note.waitFor();
    assert.match((await note.textContent()) ?? '', /10\.0\.0\.2:80 \(shop\) lost 3,000 spans/);
    await page.goto(`${ui.url}/#/trace/${span('cart', '10.0.0.1:80', 1).traceId}`);
    await page.locator('.trace-meta').waitFor();
    assert.equal(await page.getByRole('note', { name: 'SDK drops' }).count(), 0);
    assert.deepEqual(browser.takeErrors(), []);
  });
});
