/**
 * The trace page's tools (issue 13 item 5), on one OpenTelemetry-style trace sent as OTLP JSON:
 * search in the trace, timeline zoom and minimap (a reconcile span stretches the timeline so the
 * real work sits in 2% of it), a client and server span folded into one row with both timings, the
 * rpcid column's whole position on hover, long labels shrunk to an ellipsis without hiding the
 * badges, the span kind, and downloads (OTLP read back by a fresh server, Zipkin as the read API).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { encodeOtlpJson, type Span } from '@linktrace/model';
import { getJson, openBrowser, postJson, screenshot, startUiServer, waitFor, type Browser, type UiServer, UI_SUITE_TIMEOUT_MS } from './ui-harness.js';

const TRACE = `${Date.now().toString(16).padStart(12, '0')}${'7e57'.repeat(5)}`;
const T = Date.now() * 1000 - 120_000_000;
const MS = 1000;
const LONG_SERVICE = 'inventory-reservation-service-with-a-very-long-name-eu-west-1-production-blue';
const LONG_NAME = 'reserve every item of the order in the warehouse nearest to the customer, then confirm';
const DEEP = '0.1.1.1.1.1.1.1.1';

let next = 0;
function span(rpcid: string, over: Partial<Span> & Pick<Span, 'service' | 'name'>): Span {
  next++;
  return {
    traceId: TRACE,
    spanId: `5a${next.toString(16).padStart(14, '0')}`,
    kind: 'internal',
    startUs: T,
    durationUs: MS,
    status: { code: 'unset' },
    attributes: { 'linktrace.rpcid': rpcid },
    events: [],
    links: [],
    ...over,
  };
}

const root = span('0', { service: 'shop-front', name: 'POST /checkout', kind: 'server', durationUs: 40 * MS });
const client = span('0.1', { service: 'shop-front', name: 'GET', kind: 'client', parentSpanId: root.spanId, startUs: T + 2 * MS, durationUs: 10 * MS });
const server = span('0.1', {
  service: 'stock',
  name: 'GET /stock/:sku',
  kind: 'server',
  parentSpanId: client.spanId,
  startUs: T + 3 * MS,
  durationUs: 8 * MS,
  attributes: { 'linktrace.rpcid': '0.1', 'order.id': 'A-77' },
});
/** A chain of internal steps below the server span, down to DEEP. */
const steps: Span[] = [];
for (let rpcid = '0.1.1', up = server.spanId; rpcid.length <= DEEP.length; rpcid += '.1') {
  const s = span(rpcid, { service: 'stock', name: `step ${rpcid.length}`, parentSpanId: up, startUs: T + 4 * MS, durationUs: 2 * MS });
  steps.push(s);
  up = s.spanId;
}
const long = span('0.2', { service: LONG_SERVICE, name: LONG_NAME, parentSpanId: root.spanId, startUs: T + 15 * MS, durationUs: 20 * MS, status: { code: 'error', message: 'out of stock' } });
/** Runs for two seconds after the 40 ms of real work: the timeline is 50 times longer than it. */
const reconcile = span('0.3', { service: 'reconciler', name: 'reconcile', parentSpanId: root.spanId, startUs: T + 1 * MS, durationUs: 2000 * MS });
const SPANS = [root, client, server, ...steps, long, reconcile];

interface ViewSpan {
  spanId: string;
  parentSpanId?: string;
  service: string;
  name: string;
  kind: string;
  startUs: number;
  durationUs?: number;
  rpcid?: string;
  status: unknown;
  attributes: Record<string, unknown>;
}
const spanKey = (s: ViewSpan): string => JSON.stringify([s.spanId, s.parentSpanId, s.service, s.name, s.kind, s.startUs, s.durationUs, s.rpcid, s.status, s.attributes]);

describe('web UI: the trace page tools', { timeout: UI_SUITE_TIMEOUT_MS }, () => {
  let ui: UiServer;
  let browser: Browser;

  before(async () => {
    ui = await startUiServer();
    await postJson(`${ui.url}/v1/traces`, encodeOtlpJson(SPANS));
    await waitFor('the trace stored', async () => {
      const res = await fetch(`${ui.url}/api/v1/traces/${TRACE}`);
      return res.status === 200 && ((await res.json()) as { spanCount: number }).spanCount === SPANS.length ? true : undefined;
    });
    browser = await openBrowser(ui);
    await browser.page.goto(`${ui.url}/#/trace/${TRACE}`);
    await browser.page.getByRole('treegrid').getByRole('row').first().waitFor();
  });
  after(async () => {
    await browser?.close();
    await ui?.close();
  });

  const rowNamed = (name: RegExp) => browser.page.getByRole('treegrid').getByRole('row', { name });

  it('folds the client span and the server span it caused into one row with both timings', async () => {
    const { page } = browser;
    assert.equal(await page.getByRole('treegrid').getAttribute('aria-rowcount'), String(SPANS.length - 1), 'one row fewer than spans');
    // Named by both halves: the server's name says more than the client's.
    const call = rowNamed(/^shop-front → stock: GET → GET \/stock\/:sku, client 10\.0 ms, server 8\.00 ms$/);
    assert.equal(await call.count(), 1);
    assert.match((await call.locator('.wf-bar-label').textContent()) ?? '', /^10\.0 ms \(server 8\.00 ms\)$/);
    assert.equal(await call.locator('.wf-bar.server-half').count(), 1, "the server half's own bar");
    assert.equal(await call.locator('.wf-kind').textContent(), 'client/server');
    assert.deepEqual(browser.takeErrors(), []);
  });

  it('shows the span kind in the row and in the details', async () => {
    const { page } = browser;
    const top = rowNamed(/^shop-front: POST \/checkout/);
    assert.equal(await top.locator('.wf-kind').textContent(), 'server');
    assert.equal(await rowNamed(/^reconciler: reconcile/).locator('.wf-kind').textContent(), 'internal');
    await top.click();
    const details = page.getByRole('complementary');
    await details.waitFor();
    assert.equal(await details.locator('.kind-badge').textContent(), 'kind: server');
    await rowNamed(/^shop-front → stock/).click();
    assert.match((await details.getByRole('row', { name: /Server half/ }).textContent()) ?? '', /stock: GET \/stock\/:sku \(server span\)/);
    await details.getByRole('button', { name: 'Close span details' }).click();
  });

  it('abbreviates a long rpcid to its tail and shows the whole position on hover', async () => {
    const deep = rowNamed(new RegExp(`^stock: step ${DEEP.length},`));
    const cell = deep.locator('.wf-rpcid-col');
    const shown = (await cell.textContent()) ?? '';
    assert.ok(shown.startsWith('…') && DEEP.endsWith(shown.slice(1)), `abbreviated to its tail: ${shown}`);
    assert.equal(await cell.getAttribute('title'), DEEP);
    // A short one is shown whole, with no title to repeat it.
    const short = rowNamed(/^reconciler: reconcile/).locator('.wf-rpcid-col');
    assert.equal(await short.textContent(), '0.3');
    assert.equal(await short.getAttribute('title'), null);
  });

  it('never clips a label: long names end in an ellipsis, the whole text on hover, the badges stay in view', async () => {
    const row = rowNamed(new RegExp(`^${LONG_SERVICE}: `));
    const cell = row.locator('.wf-name-col');
    assert.equal(await cell.getAttribute('title'), `${LONG_SERVICE}: ${LONG_NAME}, 20.0 ms, error`);
    for (const part of ['.wf-service', '.wf-op']) {
      const m = await row.locator(part).evaluate((el) => ({ cut: el.scrollWidth > el.clientWidth, overflow: getComputedStyle(el).textOverflow, width: el.clientWidth }));
      assert.ok(m.cut, `${part} is longer than its room`);
      assert.equal(m.overflow, 'ellipsis', `${part} ends in an ellipsis`);
      assert.ok(m.width >= 20, `${part} keeps some room (${m.width}px)`);
    }
    const box = (await cell.boundingBox())!;
    for (const part of ['.wf-kind', '.error-badge']) {
      const b = (await row.locator(part).boundingBox())!;
      assert.ok(b.x >= box.x && b.x + b.width <= box.x + box.width + 0.5, `${part} is inside the cell (${b.x}+${b.width} in ${box.x}+${box.width})`);
    }
    // The deepest row's indent leaves its label room.
    const deep = rowNamed(new RegExp(`^stock: step ${DEEP.length},`)).locator('.wf-service');
    assert.ok(((await deep.boundingBox())?.width ?? 0) >= 20);
  });

  it('searches in the trace: by attribute value, service and name; counts, highlights and steps through the matches', async () => {
    const { page } = browser;
    const box = page.getByRole('searchbox', { name: 'Find in trace' });
    const count = page.locator('.find-count');
    await box.fill('a-77');
    assert.equal(await count.textContent(), '1 match');
    assert.equal(await page.locator('.wf-row.match').count(), 1);
    assert.match((await page.locator('.wf-row.match').getAttribute('aria-label')) ?? '', /^shop-front → stock/);
    await box.fill('no such thing anywhere');
    assert.equal(await count.textContent(), 'no match');
    assert.equal(await page.getByRole('button', { name: 'Next match' }).isDisabled(), true);
    // A service: the folded call (its server half is in stock), every step below it, and the
    // long span by its status message (`out of stock`).
    const n = 2 + steps.length;
    await page.getByRole('button', { name: 'Collapse all' }).click();
    await box.fill('stock');
    assert.equal(await count.textContent(), `${n} matches`);
    await box.press('Enter');
    assert.equal(await count.textContent(), `1 of ${n}`);
    await page.getByRole('button', { name: 'Previous match' }).click();
    assert.equal(await count.textContent(), `${n} of ${n}`);
    const current = page.locator('.wf-row.current-match');
    assert.match((await current.getAttribute('aria-label')) ?? '', new RegExp(`^${LONG_SERVICE}`));
    // The one before sat in a closed subtree: stepping to it opened it.
    await box.press('Shift+Enter');
    assert.equal(await count.textContent(), `${n - 1} of ${n}`);
    await current.waitFor();
    assert.match((await current.getAttribute('aria-label')) ?? '', new RegExp(`^stock: step ${DEEP.length},`));
    assert.ok(await current.isVisible());
    assert.equal(await page.locator('.wf-row.match').count(), n, 'every match highlighted');
    await page.getByRole('button', { name: 'Next match' }).click();
    assert.equal(await count.textContent(), `${n} of ${n}`);
    await screenshot(page, 'trace-search');
    await box.fill('');
    assert.equal(await page.locator('.wf-row.match').count(), 0);
    assert.deepEqual(browser.takeErrors(), []);
  });

  /** The width of a row's bar as a share of the time column. */
  const barShare = async (name: RegExp): Promise<number> => {
    const row = rowNamed(name);
    const col = (await row.locator('.wf-time-col').boundingBox())!;
    const bar = (await row.locator('.wf-bar').first().boundingBox())!;
    return Math.min(bar.x + bar.width, col.x + col.width) / col.width - Math.max(bar.x, col.x) / col.width;
  };

  it('zooms the timeline by dragging on the ruler or the minimap, and resets', async () => {
    const { page } = browser;
    const work = /^shop-front: POST \/checkout/;
    const before = await barShare(work);
    assert.ok(before < 0.03, `the real work is squeezed into ${(before * 100).toFixed(1)}% of the timeline`);
    const ruler = (await page.locator('.wf-ruler').boundingBox())!;
    const y = ruler.y + ruler.height / 2;
    // Drag across the first 2.5% of the timeline: the 40 ms of work of a 2 s trace.
    await page.mouse.move(ruler.x, y);
    await page.mouse.down();
    await page.mouse.move(ruler.x + ruler.width * 0.0125, y);
    await page.mouse.move(ruler.x + ruler.width * 0.025, y);
    await page.mouse.up();
    const zoomed = await barShare(work);
    assert.ok(zoomed > 0.6, `after the zoom the work fills ${(zoomed * 100).toFixed(1)}% of the timeline`);
    assert.notEqual(await page.locator('.wf-ruler span').last().textContent(), '2.00 s', 'the ruler follows the zoom');
    // The minimap still shows the whole trace, the window framed at its start.
    const frame = await page.getByTestId('minimap-window').evaluate((el) => ({ left: parseFloat((el as HTMLElement).style.left), width: parseFloat((el as HTMLElement).style.width) }));
    assert.ok(frame.left < 0.2 && frame.width > 1 && frame.width < 4, `window framed: ${JSON.stringify(frame)}`);
    // Every bar's time stays inside its column, the reconcile span's too (it runs past the window).
    for (const row of await page.locator('.wf-row').all()) {
      const col = (await row.locator('.wf-time-col').boundingBox())!;
      const label = await row.locator('.wf-bar-label').boundingBox();
      if (label === null) continue;
      assert.ok(label.x >= col.x && label.x + label.width <= col.x + col.width + 0.5, `${await row.getAttribute('aria-label')}: its time is in view`);
    }
    await screenshot(page, 'trace-zoom');
    await page.getByRole('button', { name: 'Reset zoom' }).click();
    assert.ok(Math.abs((await barShare(work)) - before) < 0.002, 'back to the whole trace');
    assert.equal(await page.getByRole('button', { name: 'Reset zoom' }).isDisabled(), true);

    // The same by dragging on the minimap.
    const map = (await page.getByTestId('minimap').locator('.drag-range').boundingBox())!;
    await page.mouse.move(map.x, map.y + map.height / 2);
    await page.mouse.down();
    await page.mouse.move(map.x + map.width * 0.025, map.y + map.height / 2);
    await page.mouse.up();
    assert.ok((await barShare(work)) > 0.6, 'the minimap drag zoomed too');
    // And to the selected span.
    await page.getByRole('button', { name: 'Reset zoom' }).click();
    await rowNamed(/^shop-front → stock/).click();
    await page.getByRole('button', { name: 'Zoom to selected span' }).click();
    assert.ok((await barShare(/^shop-front → stock/)) > 0.85, 'the selected span fills the timeline');
    await page.getByRole('button', { name: 'Reset zoom' }).click();
    assert.deepEqual(browser.takeErrors(), []);
  });

  it('downloads the trace as OTLP JSON that a fresh server reads back, and as Zipkin JSON', async () => {
    const { page } = browser;
    const save = async (label: string): Promise<{ name: string; text: string }> => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: label }).click()]);
      const path = await download.path();
      return { name: download.suggestedFilename(), text: readFileSync(path, 'utf8') };
    };
    const otlp = await save('OTLP JSON');
    assert.equal(otlp.name, `trace-${TRACE}.otlp.json`);
    const fresh = await startUiServer();
    try {
      const r = (await postJson(`${fresh.url}/v1/traces`, JSON.parse(otlp.text))) as { partialSuccess?: { rejectedSpans?: number } };
      assert.ok((r.partialSuccess?.rejectedSpans ?? 0) === 0, JSON.stringify(r));
      const theirs = await waitFor('the downloaded trace stored again', async () => {
        const res = await fetch(`${fresh.url}/api/v1/traces/${TRACE}`);
        if (res.status !== 200) return undefined;
        const v = (await res.json()) as { spans: ViewSpan[] };
        return v.spans.length === SPANS.length ? v : undefined;
      });
      const ours = await getJson<{ spans: ViewSpan[] }>(`${ui.url}/api/v1/traces/${TRACE}`);
      assert.deepEqual(theirs.spans.map(spanKey).sort(), ours.spans.map(spanKey).sort(), 'the same spans');
    } finally {
      await fresh.close();
    }
    const zipkin = await save('Zipkin JSON');
    assert.equal(zipkin.name, `trace-${TRACE}.zipkin.json`);
    assert.deepEqual(JSON.parse(zipkin.text), await getJson(`${ui.url}/api/v2/trace/${TRACE}`), 'as the Zipkin read API gives it');
    assert.deepEqual(browser.takeErrors(), []);
  });
});
