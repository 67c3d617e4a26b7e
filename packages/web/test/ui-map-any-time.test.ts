/**
 * The service map of imported traces: years-old Zipkin data (shared fixture skew.json, 2016) is not
 * in the default last 24 hours, and "Any time" shows it (the page asks with no bounds and the server
 * answers for all stored data, not for the day before now).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { openBrowser, postJson, startUiServer, type Browser, type UiServer, UI_SUITE_TIMEOUT_MS } from './ui-harness.js';

const FIXTURE = fileURLToPath(new URL('../../../../../shared/fixtures/zipkin/skew.json', import.meta.url));

describe('service map over imported old traces', { timeout: UI_SUITE_TIMEOUT_MS }, () => {
  let ui: UiServer;
  let browser: Browser;

  before(async () => {
    ui = await startUiServer();
    await postJson(`${ui.url}/api/v2/spans`, JSON.parse(readFileSync(FIXTURE, 'utf8')));
    browser = await openBrowser(ui);
  });
  after(async () => {
    await browser?.close();
    await ui?.close();
  });

  it('"Any time" draws the services of 2016 traces; the last 24 hours has none', async () => {
    const { page } = browser;
    await page.goto(`${ui.url}/#/map`);
    await page.getByText('No calls in this window.').waitFor();
    await page.getByLabel('Time range').selectOption('all');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/#\/map\?lookback=all$/);
    const edge = page.getByRole('group', { name: 'Service dependency graph' }).getByRole('link', { name: /^servicea to serviceb: 1 req/ });
    await edge.waitFor();
    const rows = await page.getByRole('table', { name: 'Edges' }).getByRole('row').allTextContents();
    assert.ok(rows.some((r) => r.startsWith('serviceaserviceb1')), rows.join(' | '));
    assert.deepEqual(browser.takeErrors(), []);
  });
});
