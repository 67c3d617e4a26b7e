/**
 * Issue 13 item 5, the UI people expect (besides the trace page's own items): a trace-id box on
 * every page, a RED service page, trace comparison (two traces, two searches), dark mode that
 * follows the system with every page legible in both schemes, correct plurals, and axes on the flow
 * history chart. A real server with the shop-sync demo and hand-made traces; a real chromium.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { Span } from '@linktrace/model';
import { ingestTrace, runShopSync, SHOP_FLOW } from './ui-data.js';
import { getJson, openBrowser, screenshot, startUiServer, waitFor, type Browser, type UiServer, UI_SUITE_TIMEOUT_MS } from './ui-harness.js';

/** A trace of calls [service, name, durationUs, rpcid, parent index], every span tagged `cmp.group`. */
function trace(traceId: string, group: string, calls: [string, string, number, string, number | undefined][]): Span[] {
  const startUs = Date.now() * 1000 - 120_000_000;
  const id = (i: number): string => `${traceId.slice(0, 8)}${(i + 1).toString(16).padStart(8, '0')}`;
  return calls.map(([service, name, durationUs, rpcid, parent], i) => ({
    traceId,
    spanId: id(i),
    ...(parent === undefined ? {} : { parentSpanId: id(parent) }),
    rpcid,
    service,
    name,
    kind: parent === undefined ? 'server' : 'client',
    startUs: startUs + i * 1000,
    durationUs,
    status: { code: 'unset' },
    attributes: { 'cmp.group': group },
    events: [],
    links: [],
  }));
}

const A1 = 'a1a1a1a1000000000000000000000001';
const A2 = 'a2a2a2a2000000000000000000000002';
const B1 = 'b1b1b1b1000000000000000000000003';
const LONE = 'c1c1c1c1000000000000000000000004';

/** What a text's colours are, for every visible text on the page, where contrast is under WCAG AA. */
async function illegibleTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    type Rgba = [number, number, number, number];
    const parse = (c: string): Rgba | undefined => {
      const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(c);
      return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : undefined;
    };
    const over = (top: Rgba, under: Rgba): Rgba => [0, 1, 2].map((i) => top[i]! * top[3] + under[i]! * (1 - top[3])).concat(1) as Rgba;
    /** The colour behind an element: its and its ancestors' backgrounds, blended down to the page. */
    const background = (el: Element | null): Rgba => {
      const layers: Rgba[] = [];
      const box = el?.getBoundingClientRect();
      const cx = box === undefined ? 0 : box.left + box.width / 2;
      const cy = box === undefined ? 0 : box.top + box.height / 2;
      for (let e = el; e !== null; e = e.parentElement) {
        // An ancestor the text is drawn outside of (a label placed beside its bar) is not behind it.
        const r = e.getBoundingClientRect();
        if (e !== el && (cx < r.left || cx > r.right || cy < r.top || cy > r.bottom) && e !== document.documentElement && e !== document.body) continue;
        const bg = parse(getComputedStyle(e).backgroundColor);
        if (bg !== undefined && bg[3] > 0) {
          layers.push(bg);
          if (bg[3] >= 1) break;
        }
      }
      let c: Rgba = [255, 255, 255, 1];
      for (const l of layers.reverse()) c = over(l, c);
      return c;
    };
    const lum = ([r, g, b]: Rgba): number => {
      const f = (v: number): number => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const ratio = (a: Rgba, b: Rgba): number => {
      const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p) as [number, number];
      return (x + 0.05) / (y + 0.05);
    };
    const bad: string[] = [];
    const seen = new Set<Element>();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const check = (el: Element, what: string): void => {
      if (seen.has(el)) return;
      seen.add(el);
      const rect = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (rect.width === 0 || rect.height === 0 || style.visibility === 'hidden' || rect.right < 0 || rect.left < -100) return;
      const isSvg = el instanceof SVGElement;
      const fg = parse(isSvg ? style.fill : style.color);
      if (fg === undefined) return;
      const bg = background(isSvg ? el.closest('div, figure, section, main') : el);
      const r = ratio(over(fg, bg), bg);
      // WCAG AA: 4.5 for text, 3 for large text (24px, or 18.66px bold).
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (r < (large ? 3 : 4.5)) bad.push(`${r.toFixed(2)} ${what} <${el.tagName.toLowerCase()} class="${el.getAttribute('class') ?? ''}"> ${style.color}/${isSvg ? style.fill : ''} on rgb(${bg.slice(0, 3).map(Math.round).join(',')})`);
    };
    for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
      const text = n.textContent?.trim() ?? '';
      if (text === '' || n.parentElement === null || n.parentElement.closest('title, style, script, option') !== null) continue;
      check(n.parentElement, JSON.stringify(text.slice(0, 30)));
    }
    for (const el of Array.from(document.querySelectorAll('input:not([type=checkbox]), select, textarea, button'))) check(el, 'control');
    return bad;
  });
}

describe('the UI people expect', { timeout: UI_SUITE_TIMEOUT_MS }, () => {
  let ui: UiServer;
  let browser: Browser;
  let demoTrace: string;

  before(async () => {
    ui = await startUiServer();
    const findings = await runShopSync(ui.url);
    demoTrace = findings.find((f) => f.rule === 'missing-write')!.traceId;
    const a = (id: string, root: number, reserve: number, charge: number): Span[] =>
      trace(id, 'a', [
        ['gateway', 'GET /order', root, '0', undefined],
        ['orders', 'reserve', reserve, '0.1', 0],
        ['payments', 'charge', charge, '0.2', 0],
      ]);
    await ingestTrace(ui.url, A1, a(A1, 100_000, 40_000, 20_000));
    await ingestTrace(ui.url, A2, a(A2, 110_000, 44_000, 22_000));
    const b = trace(B1, 'b', [
      ['gateway', 'GET /order', 150_000, '0', undefined],
      ['orders', 'reserve', 90_000, '0.1', 0],
      ['notify', 'send', 5_000, '0.3', 0],
    ]);
    await ingestTrace(ui.url, B1, b);
    await ingestTrace(ui.url, LONE, trace(LONE, 'lone', [['lonely', 'tick', 1_000, '0', undefined]]));
    browser = await openBrowser(ui);
  });
  after(async () => {
    await browser?.close();
    await ui?.close();
  });

  const noErrors = (where: string): void => assert.deepEqual(browser.takeErrors(), [], `console errors on ${where}`);

  it('a trace-id box on every page: an id opens its trace, a malformed one is explained', async () => {
    const { page } = browser;
    for (const at of ['#/search', '#/map', '#/flows', '#/findings', `#/trace/${demoTrace}`, '#/service/merchant-api', '#/compare']) {
      await page.goto(`${ui.url}/${at}`);
      const box = page.getByRole('search', { name: 'Open a trace by id' });
      await box.waitFor();
      await box.getByRole('textbox', { name: 'Trace id' }).fill('not-a-trace');
      await box.getByRole('button', { name: 'Open' }).click();
      const alert = box.getByRole('alert');
      assert.match((await alert.textContent()) ?? '', /“not-a-trace” is not a trace id: a trace id is 32 hex digits \(or 16, from Zipkin\)/, at);
      assert.ok(page.url().endsWith(at), 'a malformed id does not leave the page');
    }
    const box = page.getByRole('search', { name: 'Open a trace by id' });
    // Pasted with blanks around, in capitals, as people copy it from logs.
    await box.getByRole('textbox', { name: 'Trace id' }).fill(`  ${B1.toUpperCase()}\n`);
    await box.getByRole('textbox', { name: 'Trace id' }).press('Enter');
    await page.waitForURL(new RegExp(`#/trace/${B1}$`));
    await page.getByRole('treegrid').getByRole('row').first().waitFor();
    assert.equal(await box.getByRole('alert').count(), 0);
    // A traceparent header value works too.
    await box.getByRole('textbox', { name: 'Trace id' }).fill(`00-${A1}-${A1.slice(0, 16)}-01`);
    await box.getByRole('button', { name: 'Open' }).click();
    await page.waitForURL(new RegExp(`#/trace/${A1}$`));
    noErrors('the trace-id box');
  });

  it('service page: rate, errors and p50/p95/p99 charts with axes and units, the slowest operations; reached from the map and a search', async () => {
    const { page } = browser;
    await page.goto(`${ui.url}/#/map`);
    await page.getByRole('navigation', { name: 'Service pages' }).getByRole('link', { name: 'merchant-api' }).click();
    await page.waitForURL(/#\/service\/merchant-api$/);
    await page.getByRole('heading', { name: 'merchant-api' }).waitFor();
    const charts = page.locator('figure.chart');
    await charts.first().waitFor();
    assert.deepEqual(await charts.locator('figcaption').allTextContents(), ['Rate', 'Errors', 'Duration']);
    const rate = page.getByRole('img', { name: /^Rate: \d+ spans?$/ });
    const spans = Number(/(\d+) span/.exec((await rate.getAttribute('aria-label')) ?? '')![1]);
    assert.ok(spans >= 7, `${spans} spans of merchant-api counted`);
    // Axes: value ticks with their unit, a value axis title, time ticks and the time axis title.
    assert.equal(await rate.locator('.y-axis .axis-title').textContent(), 'spans per second');
    assert.ok((await rate.locator('.y-axis text:not(.axis-title)').allTextContents()).every((t) => /^[\d.]+\/s$/.test(t)));
    assert.equal(await rate.locator('.x-axis .axis-title').textContent(), 'time (local)');
    const timeTicks = await rate.locator('.x-axis text:not(.axis-title)').allTextContents();
    assert.ok(timeTicks.length >= 3 && timeTicks.every((t) => /^\d\d:\d\d$/.test(t)), timeTicks.join(' '));
    assert.match((await rate.locator('path').first().getAttribute('d')) ?? '', /^M[\d.]+,[\d.]+/);
    const duration = page.getByRole('img', { name: /^Duration/ });
    assert.equal(await duration.locator('.y-axis .axis-title').textContent(), 'duration');
    assert.ok((await duration.locator('.y-axis text:not(.axis-title)').allTextContents()).slice(1).every((t) => /^[\d.]+ (µs|ms|s)$/.test(t)));
    assert.deepEqual(await charts.nth(2).locator('.chart-legend li').allTextContents(), ['p50', 'p95', 'p99']);
    assert.equal(await duration.locator('path').count(), 3);
    assert.match((await page.getByRole('img', { name: /^Errors/ }).locator('.y-axis .axis-title').textContent()) ?? '', /^errors per minute$/);
    // The slowest operations, slowest p99 first, as the server counted them.
    const table = page.getByRole('table', { name: 'Slowest operations' });
    const rows = table.locator('tbody tr');
    await rows.first().waitFor();
    const api = await getJson<{ operations: { operation: string; p99: number }[] }>(`${ui.url}/api/v1/metrics/red/operations?service=merchant-api`);
    assert.ok(api.operations.length >= 1);
    assert.deepEqual(await rows.locator('td:first-child').allTextContents(), api.operations.map((o) => o.operation));
    await screenshot(page, 'service');
    // An operation's own charts.
    await rows.first().locator('td:first-child a').click();
    await page.waitForURL(/#\/service\/merchant-api\?lookback=1h&operation=/);
    await page.getByRole('heading', { name: `merchant-api: ${api.operations[0]!.operation}` }).waitFor();
    await page.getByRole('img', { name: /^Rate: \d+ spans?$/ }).waitFor();
    // From a search by service.
    await page.goto(`${ui.url}/#/search?service=sync-worker`);
    await page.getByRole('link', { name: 'RED metrics of sync-worker ›' }).click();
    await page.getByRole('heading', { name: 'sync-worker' }).waitFor();
    await page.locator('figure.chart').first().waitFor();
    noErrors('the service page');
  });

  it('compare: two traces give the calls missing, added, slower and faster', async () => {
    const { page } = browser;
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Compare' }).click();
    await page.getByRole('heading', { name: 'Compare traces' }).waitFor();
    await page.getByRole('textbox', { name: /^A/ }).fill(A1);
    await page.getByRole('textbox', { name: /^B/ }).fill(B1);
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.waitForURL(new RegExp(`#/compare\\?a=${A1}&b=${B1}$`));
    const table = page.getByRole('table', { name: 'Compared calls' });
    await table.waitFor();
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).slice(0, 4).map((td) => td.textContent?.trim()).join(' | ')));
    assert.deepEqual(rows, [
      'missing in B | payments | charge client | 0.2',
      'added in B | notify | send client | 0.3',
      // Both 50 ms slower: by position.
      'slower | gateway | GET /order server | 0',
      'slower | orders | reserve client | 0.1',
    ]);
    assert.match((await page.getByRole('status').textContent()) ?? '', /1 call missing in B.*1 call added in B.*2 calls slower.*0 calls faster.*0 calls same/);
    // Swapped: what was added is missing, slower is faster.
    await page.goto(`${ui.url}/#/compare?a=${B1}&b=${A1}`);
    // The previous comparison's table stays on screen while the new one loads (a hash change, the
    // same page): wait for the new answer, not for a table.
    await page.getByRole('status').filter({ hasText: /1 call missing in B.*1 call added in B.*0 calls slower.*2 calls faster/ }).waitFor();
    assert.match((await table.locator('tbody tr', { hasText: 'reserve' }).textContent()) ?? '', /faster.*90\.0 ms.*40\.0 ms.*−50\.0 ms/);
    await screenshot(page, 'compare');
    noErrors('the compare page (two traces)');
  });

  it('compare: the trace page offers its trace as side A', async () => {
    const { page } = browser;
    await page.goto(`${ui.url}/#/trace/${A1}`);
    await page.getByRole('link', { name: 'Compare with…' }).click();
    await page.waitForURL(new RegExp(`#/compare\\?a=${A1}$`));
    assert.equal(await page.getByRole('textbox', { name: /^A/ }).inputValue(), A1);
    noErrors('the compare link of the trace page');
  });

  it('compare: two groups of traces from two searches', async () => {
    const { page } = browser;
    await page.goto(`${ui.url}/#/search?attr=cmp.group%3Da`);
    await page.getByRole('list', { name: 'Traces found' }).getByRole('listitem').first().waitFor();
    await page.getByRole('link', { name: 'Compare these traces with… ›' }).click();
    await page.waitForURL(/#\/compare\?a=search/);
    assert.equal(await page.getByRole('textbox', { name: /^A/ }).inputValue(), 'search:attr=cmp.group%3Da');
    await page.getByRole('textbox', { name: /^B/ }).fill('search:attr=cmp.group%3Db');
    await page.getByRole('button', { name: 'Compare' }).click();
    const table = page.getByRole('table', { name: 'Compared calls' });
    await table.waitFor();
    assert.match((await page.locator('.compare-sides').textContent()) ?? '', /A: 2 traces from a search, median 105 ms\s*B: [0-9a-f]{32} from a search, 150 ms/);
    // Medians over the group, and in how many of its traces a call is.
    assert.match((await table.locator('tbody tr', { hasText: 'reserve' }).textContent()) ?? '', /slower.*42\.0 ms in 2\/2.*90\.0 ms in 1\/1.*\+48\.0 ms/);
    assert.match((await table.locator('tbody tr', { hasText: 'charge' }).textContent()) ?? '', /missing in B.*21\.0 ms in 2\/2/);
    // A malformed side is explained, not sent.
    await page.goto(`${ui.url}/#/compare?a=${A1}&b=zzz`);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /Side B: “zzz” is not a trace id/);
    noErrors('the compare page (two searches)');
  });

  it('plurals: one span, one service, one trace', async () => {
    const { page } = browser;
    await page.goto(`${ui.url}/#/search?service=lonely`);
    const item = page.getByRole('list', { name: 'Traces found' }).getByRole('listitem');
    await item.first().waitFor();
    assert.equal(await page.getByRole('status').first().textContent(), '1 trace');
    const meta = (await item.locator('.result-meta').textContent()) ?? '';
    assert.match(meta, /1 span(?!s)/);
    assert.match(meta, /1 service(?!s)/);
    assert.match((await item.getByRole('link').getAttribute('aria-label')) ?? '', /, 1 span, 1 service$/);
    await page.goto(`${ui.url}/#/trace/${LONE}`);
    await page.getByRole('treegrid').getByRole('row').first().waitFor();
    const head = (await page.locator('.trace-meta').textContent()) ?? '';
    assert.match(head, /1 span(?!s)/);
    assert.match(head, /1 service(?!s)/);
    await page.goto(`${ui.url}/#/findings?traceId=${demoTrace}`);
    await page.getByRole('table', { name: 'Findings' }).waitFor();
    const count = (await page.getByRole('status').first().textContent()) ?? '';
    assert.match(count, /^(1 finding|[02-9]\d* findings)$/);
    noErrors('plurals');
  });

  it('flow history: instances per minute with a time axis and a count axis, both labelled', async () => {
    const { page } = browser;
    await waitFor('flow history', async () => {
      const d = await getJson<{ history: unknown[] }>(`${ui.url}/api/v1/flows/${SHOP_FLOW.name}`);
      return d.history.length > 0 ? true : undefined;
    });
    await page.goto(`${ui.url}/#/flows?flow=${SHOP_FLOW.name}`);
    const chart = page.getByRole('img', { name: /^Instances per minute: \d+ instances?, \d+ broken$/ });
    await chart.waitFor();
    assert.equal(await chart.locator('.y-axis .axis-title').textContent(), 'instances');
    assert.equal(await chart.locator('.x-axis .axis-title').textContent(), 'time (local)');
    const counts = await chart.locator('.y-axis text:not(.axis-title)').allTextContents();
    assert.equal(counts[0], '0');
    assert.ok(counts.length >= 2 && counts.every((t) => /^\d+(\.\d+)?$/.test(t)), counts.join(' '));
    const times = await chart.locator('.x-axis text:not(.axis-title)').allTextContents();
    assert.ok(times.length >= 1 && times.every((t) => /^\d\d:\d\d$/.test(t)), times.join(' '));
    assert.ok((await chart.locator('.chart-bar rect').count()) >= 1);
    assert.deepEqual(await page.locator('.chart-legend li').allTextContents(), ['complete', 'broken']);
    noErrors('the flow history');
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`${scheme} scheme follows the system, and every page is legible in it (WCAG AA contrast)`, async () => {
      const { page } = browser;
      await page.emulateMedia({ colorScheme: scheme });
      try {
        const pages = [
          '#/search',
          `#/trace/${demoTrace}`,
          '#/map',
          `#/flows?flow=${SHOP_FLOW.name}`,
          '#/findings',
          '#/service/merchant-api',
          `#/compare?a=${A1}&b=${B1}`,
        ];
        const problems: string[] = [];
        for (const at of pages) {
          await page.goto(`${ui.url}/${at}`);
          await page.locator('main h1').first().waitFor();
          // Wait for the page's data (no "Loading…" left).
          await waitFor(`${at} loaded`, async () => ((await page.getByText('Loading…').count()) === 0 ? true : undefined));
          if (at.startsWith('#/trace')) {
            await page.getByRole('treegrid').getByRole('row').nth(1).click();
            await page.getByRole('complementary').waitFor();
          }
          if (at.startsWith('#/search')) {
            const box = page.getByRole('search', { name: 'Open a trace by id' });
            await box.getByRole('textbox').fill('nope');
            await box.getByRole('button', { name: 'Open' }).click();
            await box.getByRole('alert').waitFor();
          }
          const bodyBg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
          const [r, g, b] = (/\d+/g.exec(bodyBg) ? bodyBg.match(/\d+/g)! : []).map(Number) as [number, number, number];
          const light = (r + g + b) / 3 > 128;
          assert.equal(light, scheme === 'light', `${at}: page background ${bodyBg} in the ${scheme} scheme`);
          for (const p of await illegibleTexts(page)) problems.push(`${at}: ${p}`);
          if (scheme === 'dark' && at.startsWith('#/service')) await screenshot(page, 'service-dark');
        }
        assert.deepEqual(problems, [], `texts under WCAG AA contrast in the ${scheme} scheme`);
        noErrors(`the ${scheme} scheme`);
      } finally {
        await page.emulateMedia({ colorScheme: null });
      }
    });
  }
});
