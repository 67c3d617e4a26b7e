/**
 * The UI in a real browser against a real server holding every shared fixture and the shop-sync
 * demo with faults: search → trace → span → service map → findings → flows, checking what is on
 * screen, with no console error on any page. Screenshots of each page go to test-output/ (and to
 * docs/screenshots/ with LINKTRACE_UPDATE_SCREENSHOTS=1).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator } from 'playwright-core';
import { ingestFixtures, runShopSync, SHOP_FLOW } from './ui-data.js';
import { getJson, openBrowser, screenshot, startUiServer, waitFor, type Browser, type UiServer, UI_SUITE_TIMEOUT_MS } from './ui-harness.js';

describe('web UI pages', { timeout: UI_SUITE_TIMEOUT_MS }, () => {
  let ui: UiServer;
  let browser: Browser;
  let zipkin: Map<string, string>;
  let findings: { traceId: string; rule: string; spanId: string }[];

  before(async () => {
    ui = await startUiServer();
    ({ zipkin } = await ingestFixtures(ui.url));
    findings = await runShopSync(ui.url);
    browser = await openBrowser(ui);
  });
  after(async () => {
    await browser?.close();
    await ui?.close();
  });

  const nav = (): Locator => browser.page.getByRole('navigation', { name: 'Pages' });
  const noErrors = (where: string): void => assert.deepEqual(browser.takeErrors(), [], `console errors on ${where}`);

  it('is served at / and opens on the search page with the newest traces', async () => {
    const { page } = browser;
    await page.goto(`${ui.url}/`);
    await page.getByRole('heading', { name: 'Search traces' }).waitFor();
    const results = page.getByRole('list', { name: 'Traces found' }).getByRole('listitem');
    await results.first().waitFor();
    assert.ok((await results.count()) >= 10, 'fixtures and demo traces are listed');
    assert.match((await page.getByRole('status').first().textContent()) ?? '', /\d+ traces/);
    noErrors('the search page');
  });

  it('search: filters by service and findings, keeps the query in the URL, shows badges and bars', async () => {
    const { page } = browser;
    await page.getByRole('combobox', { name: /^Service/ }).selectOption('sync-worker');
    await page.getByRole('combobox', { name: /^Findings/ }).selectOption('true');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/#\/search\?.*service=sync-worker.*hasFindings=true/);
    const items = page.getByRole('list', { name: 'Traces found' }).getByRole('listitem');
    // The URL changes at the click; the previous search's rows stay until the new answer is drawn.
    await page.waitForFunction(() => {
      const rows = document.querySelectorAll('ol[aria-label="Traces found"] > li');
      return rows.length > 0 && Array.from(rows).every((li) => li.querySelector('.finding-badge') !== null);
    });
    const n = await items.count();
    // The server's findings now: rules with deadlines (an unfinished span) may report after the
    // demo's first findings were seen.
    const now = await getJson<{ findings: { traceId: string }[] }>(`${ui.url}/api/v1/findings?limit=10000`);
    const withFindings = new Set(now.findings.map((f) => f.traceId)).size;
    assert.ok(n >= 3 && n <= withFindings, `${n} traces with findings (server has ${withFindings})`);
    for (let i = 0; i < n; i++) {
      const item = items.nth(i);
      assert.match((await item.locator('.finding-badge').textContent()) ?? '', /\d+ findings?/);
      assert.equal(await item.locator('.chip', { hasText: 'sync-worker' }).count(), 1);
      assert.equal(await item.locator('.duration-bar > span').count(), 1);
    }
    // The URL alone reproduces the search.
    const shared = page.url();
    await page.goto(`${ui.url}/#/findings`);
    await page.goto(shared);
    await items.first().waitFor();
    assert.equal(await items.count(), n);
    assert.equal(await page.getByRole('combobox', { name: /^Service/ }).inputValue(), 'sync-worker');
    await screenshot(page, 'search');
    noErrors('the search results');
  });

  it('trace: waterfall with findings pinned to the hop; a span shows its attributes, stage and entity', async () => {
    const { page } = browser;
    const drop = findings.find((f) => f.rule === 'missing-write')!;
    await page.goto(`${ui.url}/#/search?service=sync-worker&hasFindings=true`);
    await page.locator(`a[href="#/trace/${drop.traceId}"]`).click();
    await page.waitForURL(new RegExp(`#/trace/${drop.traceId}$`));
    const grid = page.getByRole('treegrid', { name: 'Spans of the trace' });
    await grid.getByRole('row').first().waitFor();
    assert.ok((await grid.getByRole('row').count()) >= 4);
    assert.match((await page.getByRole('list', { name: 'Findings of this trace' }).textContent()) ?? '', /missing-write/);
    const broken = grid.locator('.wf-row.has-finding');
    assert.equal(await broken.count(), 1, 'one hop carries the finding');
    assert.match((await broken.textContent()) ?? '', /sync-worker.*missing-write/);
    assert.ok((await grid.locator('.wf-bar.critical').count()) >= 1, 'the critical path is drawn');
    // Open the broken hop with the keyboard: focus the first row, walk down to it, Enter.
    await grid.getByRole('row').first().focus();
    const target = Number(await broken.getAttribute('data-index'));
    for (let i = 0; i < target; i++) await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-index')), String(target));
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`span=${drop.spanId}`));
    const details = page.getByRole('complementary');
    await details.getByRole('heading', { level: 2 }).waitFor();
    assert.match((await details.getByRole('heading', { level: 2 }).textContent()) ?? '', /sync-worker: receive shop/);
    const attrs = details.getByRole('table', { name: 'Attributes', exact: true });
    assert.match((await attrs.textContent()) ?? '', /linktrace\.stage\s*receive/);
    assert.match((await details.locator('.stage-badge').textContent()) ?? '', /stage receive/);
    assert.match((await details.locator('.entity-badge').textContent()) ?? '', /^shop:ui.+@1$/);
    assert.match((await details.getByRole('list', { name: 'Findings on this span' }).textContent()) ?? '', /missing-write/);
    await screenshot(page, 'trace');
    noErrors('the trace page');
  });

  it('trace: fixtures show the clock-skew note and missing parents as placeholders', async () => {
    const { page } = browser;
    await page.goto(`${ui.url}/#/trace/${zipkin.get('skew.json')!}`);
    await page.getByRole('treegrid').getByRole('row').first().waitFor();
    assert.match((await page.getByRole('note').first().textContent()) ?? '', /Clock skew adjusted on \d+ span/);
    assert.ok((await page.locator('.wf-row .skew-badge').count()) >= 1);
    await page.goto(`${ui.url}/#/trace/${zipkin.get('messaging2.json')!}`);
    await page.getByRole('treegrid').getByRole('row').first().waitFor();
    const placeholder = page.locator('.wf-row.placeholder').first();
    assert.match((await placeholder.textContent()) ?? '', /missing parent span [0-9a-f]{16}/);
    // Jaeger's link fixture: the span's link is a link to the other trace, at the linked span.
    const linked = '000000000000000000000000000000ff';
    await page.goto(`${ui.url}/#/trace/00000000000000000000000000000226?span=0000000000000004`);
    const links = page.getByRole('complementary').getByRole('list', { name: 'Links' });
    await links.waitFor();
    assert.equal(await links.getByRole('link').first().getAttribute('href'), `#/trace/${linked}?span=00000000000000ff`);
    assert.match((await links.getByRole('table', { name: 'Link attributes' }).first().textContent()) ?? '', /sameplacelinkattribute1\s*sameplacevalue/);
    noErrors('the fixture traces');
  });

  it('service map: a queue between producer and consumer, edges labelled with calls, errors and p99; a node opens its search', async () => {
    const { page } = browser;
    await nav().getByRole('link', { name: 'Service map' }).click();
    await page.getByRole('heading', { name: 'Service map' }).waitFor();
    const graph = page.getByRole('group', { name: 'Service dependency graph' });
    await graph.waitFor();
    const queue = graph.locator('.map-node.queue', { hasText: 'shop-changed' });
    assert.equal(await queue.count(), 1, 'the queue is a node');
    const edges = page.getByRole('table', { name: 'Edges' });
    assert.match((await edges.textContent()) ?? '', /merchant-api.*shop-changed/s);
    const label = await graph.locator('.map-edge .edge-label').first().textContent();
    assert.match(label ?? '', /^\d+ req · [\d.<]+% err · p99 [\d.]+ (µs|ms|s)$/);
    await screenshot(page, 'service-map');
    await graph.locator('.map-node.service', { hasText: 'shop-query' }).click();
    await page.waitForURL(/#\/search\?service=shop-query$/);
    await page.getByRole('list', { name: 'Traces found' }).getByRole('listitem').first().waitFor();
    // An edge opens the search for its far end: into the queue, the producer's writes to it.
    await page.goBack();
    await page.waitForURL(/#\/map$/);
    await graph.locator('.map-edge', { hasText: 'req' }).first().waitFor();
    await page.getByRole('link', { name: /^merchant-api to shop-changed: / }).click();
    await page.waitForURL(/#\/search\?service=merchant-api&attr=linktrace\.target%3D[^&]*shop-changed$/);
    assert.equal(await page.getByRole('combobox', { name: /^Service/ }).inputValue(), 'merchant-api');
    assert.match(await page.getByLabel(/^Attributes/).inputValue(), /^linktrace\.target=(mq:)?shop-changed$/);
    const found = page.getByRole('list', { name: 'Traces found' }).getByRole('listitem');
    await found.first().waitFor();
    assert.match((await found.first().textContent()) ?? '', /merchant-api/);
    noErrors('the service map');
  });

  it('keyboard: search submits with Enter, a map edge and a finding open with Enter', async () => {
    const { page } = browser;
    const focusedId = (): Promise<string | undefined> => page.evaluate(() => document.activeElement?.id);
    // Search: from the skip link, Tab reaches the service select; type in the operation field and submit with Enter.
    await page.goto(`${ui.url}/#/search`);
    await page.getByRole('heading', { name: 'Search traces' }).waitFor();
    await page.getByRole('list', { name: 'Traces found' }).getByRole('listitem').first().waitFor();
    await page.getByRole('link', { name: 'Service map' }).focus();
    for (let i = 0; i < 10 && (await focusedId()) !== 'f-service'; i++) await page.keyboard.press('Tab');
    assert.equal(await focusedId(), 'f-service', 'Tab reaches the service select after the navigation');
    await page.keyboard.press('Tab');
    assert.equal(await focusedId(), 'f-operation');
    await page.keyboard.type('receive shop');
    // The new search's answer, not the list the page showed before it (a loaded machine renders late).
    const searched = page.waitForResponse((r) => r.url().includes('/api/v1/traces?') && r.url().includes('operation=receive'));
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/search\?operation=receive\+shop(&|$)/, { timeout: 5000 });
    const found = ((await (await searched).json()) as { traces: unknown[] }).traces.length;
    assert.ok(found > 0, 'the search finds traces');
    const items = page.getByRole('list', { name: 'Traces found' }).getByRole('listitem');
    await items.first().waitFor();
    // Rendered: the list holds exactly the new answer's traces.
    for (let i = 0; i < 100 && (await items.count()) !== found; i++) await page.waitForTimeout(50);
    assert.equal(await items.count(), found);
    // Tab from the form's button to the first result, Enter opens it.
    await page.getByRole('button', { name: 'Search' }).focus();
    await page.keyboard.press('Tab');
    const firstHref = await page.evaluate(() => document.activeElement?.getAttribute('href'));
    assert.match(firstHref ?? '', /^#\/trace\/[0-9a-f]{32}$/);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`${firstHref!.replace(/[/#]/g, '\\$&')}$`));
    await page.getByRole('treegrid').getByRole('row').first().waitFor();

    // Map: Tab from the Show button into the graph; Enter on an edge opens its search.
    await page.goto(`${ui.url}/#/map`);
    const graph = page.getByRole('group', { name: 'Service dependency graph' });
    await graph.waitFor();
    await page.getByRole('button', { name: 'Show' }).focus();
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => ({ cls: document.activeElement?.getAttribute('class'), label: document.activeElement?.getAttribute('aria-label') }));
    assert.match(first.cls ?? '', /map-edge/, 'the first Tab stop in the graph is an edge');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/search\?service=/);
    await page.getByRole('list', { name: 'Traces found' }).getByRole('listitem').first().waitFor();

    // Findings: choose a rule with the keyboard, Tab to Filter, Enter submits (Enter on a select
    // does not submit a form); Tab to the first hop link, Enter opens it.
    await page.goto(`${ui.url}/#/findings`);
    const table = page.getByRole('table', { name: 'Findings' });
    await table.waitFor();
    await page.locator('#g-rule').focus();
    await page.keyboard.press('ArrowDown'); // missing-write, the first rule
    assert.equal(await page.locator('#g-rule').inputValue(), 'missing-write');
    const onFilter = (): Promise<boolean> => page.evaluate(() => document.activeElement?.textContent === 'Filter');
    for (let i = 0; i < 5 && !(await onFilter()); i++) await page.keyboard.press('Tab');
    assert.ok(await onFilter(), 'Tab reaches the Filter button');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/findings\?rule=missing-write/, { timeout: 5000 });
    await page.waitForFunction(() => Array.from(document.querySelectorAll('table[aria-label="Findings"] tbody tr')).every((r) => r.textContent?.includes('missing-write')));
    await page.getByRole('button', { name: 'Filter' }).focus();
    const hop = table.getByRole('link').first();
    const want = await hop.getAttribute('href');
    for (let i = 0; i < 5 && (await page.evaluate(() => document.activeElement?.getAttribute('href'))) !== want; i++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('href')), want, 'Tab reaches the first hop link');
    await page.keyboard.press('Enter');
    await page.locator('.wf-row.selected').waitFor();
    assert.match((await page.locator('.wf-row.selected').textContent()) ?? '', /missing-write/);
    noErrors('keyboard paths');
  });

  it('findings: filter by rule; each links to its trace and hop', async () => {
    const { page } = browser;
    await nav().getByRole('link', { name: 'Findings' }).click();
    await page.getByRole('heading', { name: 'Findings' }).waitFor();
    const table = page.getByRole('table', { name: 'Findings' });
    await table.waitFor();
    // Flow checks may add flow-step-missing findings meanwhile: at least the demo's are listed.
    assert.ok((await table.locator('tbody tr').count()) >= findings.length);
    for (const rule of new Set(findings.map((f) => f.rule))) assert.ok((await table.locator('.finding-badge', { hasText: rule }).count()) >= 1, rule);
    await screenshot(page, 'findings');
    await page.getByLabel('Rule').selectOption('duplicate-write');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/#\/findings\?rule=duplicate-write/);
    await table.locator('tbody tr').first().waitFor();
    const rows = table.locator('tbody tr');
    const want = findings.filter((f) => f.rule === 'duplicate-write');
    await page.waitForFunction((n) => document.querySelectorAll('table[aria-label="Findings"] tbody tr').length === n, want.length);
    assert.match((await rows.first().textContent()) ?? '', /duplicate-write.*sync-worker/);
    const link = rows.first().getByRole('link');
    const hrefText = (await link.getAttribute('href')) ?? '';
    const m = /^#\/trace\/([0-9a-f]{32})\?span=([0-9a-f]{16})$/.exec(hrefText);
    assert.ok(m, hrefText);
    assert.ok(want.some((f) => f.traceId === m[1] && f.spanId === m[2]));
    await link.click();
    await page.getByRole('complementary').getByRole('heading', { level: 2 }).waitFor();
    const selected = page.locator('.wf-row.selected');
    assert.equal(await selected.count(), 1, 'the hop is selected in the waterfall');
    assert.match((await selected.textContent()) ?? '', /duplicate-write/);
    // Back and forward: the form shows the query of the results on screen.
    await page.goBack();
    await page.waitForURL(/#\/findings\?rule=duplicate-write/);
    await table.waitFor();
    assert.equal(await page.getByLabel('Rule').inputValue(), 'duplicate-write');
    await page.goBack();
    await page.waitForURL(/#\/findings$/);
    await page.waitForFunction(() => (document.querySelector('#g-rule') as HTMLSelectElement | null)?.value === '');
    assert.equal(await page.getByLabel('Rule').inputValue(), '', 'back to the unfiltered list: the form forgets the rule');
    await page.waitForFunction((n) => document.querySelectorAll('table[aria-label="Findings"] tbody tr').length > n, want.length);
    await page.goForward();
    await page.waitForURL(/#\/findings\?rule=duplicate-write/);
    await page.waitForFunction(() => (document.querySelector('#g-rule') as HTMLSelectElement | null)?.value === 'duplicate-write');
    await page.waitForFunction((n) => document.querySelectorAll('table[aria-label="Findings"] tbody tr').length === n, want.length);
    // A draft that was not submitted is dropped when the URL changes.
    await page.getByLabel('Rule').selectOption('stage-error');
    await page.goBack();
    await page.waitForURL(/#\/findings$/);
    await page.waitForFunction(() => (document.querySelector('#g-rule') as HTMLSelectElement | null)?.value === '');
    noErrors('the findings page');
  });

  it('flows: the contract with its health; broken instances link to their traces', async () => {
    const { page } = browser;
    // A broken instance is known once its deadline has passed and the checker has looked again.
    await waitFor('a broken shop-change instance', async () => {
      const d = await getJson<{ brokenInstances: unknown[] }>(`${ui.url}/api/v1/flows/${SHOP_FLOW.name}`);
      return d.brokenInstances.length > 0 ? true : undefined;
    });
    await nav().getByRole('link', { name: 'Flows' }).click();
    const table = page.getByRole('table', { name: 'Flow contracts' });
    await table.waitFor();
    const row = table.locator('tbody tr', { hasText: SHOP_FLOW.name });
    assert.match((await row.textContent()) ?? '', /merchant-api receive → merchant-api enqueue mq:shop-changed/);
    await row.getByRole('link', { name: SHOP_FLOW.name }).click();
    await page.waitForURL(/#\/flows\?flow=shop-change/);
    await page.getByRole('heading', { name: SHOP_FLOW.name, level: 2 }).waitFor();
    const broken = page.getByRole('list', { name: 'Broken instances' });
    await broken.waitFor();
    const links = broken.getByRole('link');
    assert.ok((await links.count()) >= 1);
    await screenshot(page, 'flows');
    const hrefText = (await links.first().getAttribute('href')) ?? '';
    assert.match(hrefText, /^#\/trace\/[0-9a-f]{32}$/);
    await links.first().click();
    await page.getByRole('treegrid').getByRole('row').first().waitFor();
    noErrors('the flows page');
  });
});
