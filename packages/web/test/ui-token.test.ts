/**
 * A server started with --token: the UI loads without one, asks for it on the API's 401, keeps it
 * in localStorage and sends it as a bearer token; a wrong token is asked for again. Bad input in
 * the URL (an unknown trace, a malformed duration) shows the server's message, not a blank page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateTrace } from './ui-data.js';
import { openBrowser, startUiServer, type Browser, type UiServer, UI_SUITE_TIMEOUT_MS } from './ui-harness.js';
import { encodeNativeJson } from '@linktrace/model';

const TOKEN = `t-${process.pid}-secret`;

describe('web UI with a token, and bad input', { timeout: UI_SUITE_TIMEOUT_MS }, () => {
  let ui: UiServer;
  let browser: Browser;
  const trace = generateTrace(5, { seed: 9 });

  before(async () => {
    ui = await startUiServer({ token: TOKEN });
    const res = await fetch(`${ui.url}/api/v1/spans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(encodeNativeJson(trace.spans)),
    });
    assert.equal(res.status, 200);
    browser = await openBrowser(ui);
  });
  after(async () => {
    await browser?.close();
    await ui?.close();
  });

  /** The 401s and 4xx answers the browser logs as failed loads are expected here; nothing else is. */
  const onlyFailedLoads = (status: number): void => {
    const errors = browser.takeErrors();
    assert.ok(errors.length > 0, 'the failed call was seen');
    for (const e of errors) assert.match(e, new RegExp(`Failed to load resource: the server responded with a status of ${status}`));
  };

  it('asks for the token on 401, keeps it, and loads the page with it', async () => {
    const { page } = browser;
    await page.goto(`${ui.url}/`);
    const dialog = page.getByRole('dialog', { name: 'This server needs a token' });
    await dialog.waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /needs a token/);
    // A wrong token: the API refuses it too, and the dialog comes back.
    await dialog.getByLabel('Token').fill('wrong');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor();
    await dialog.getByLabel('Token').fill(TOKEN);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('list', { name: 'Traces found' }).getByRole('listitem').first().waitFor();
    assert.equal(await dialog.count(), 0);
    assert.equal(await page.evaluate(() => localStorage.getItem('linktrace.token')), TOKEN);
    onlyFailedLoads(401);
    // A new page load uses the stored token straight away, in the trace call index.html starts too.
    await page.goto('about:blank');
    await page.goto(`${ui.url}/#/trace/${trace.traceId}`);
    await page.getByRole('treegrid').getByRole('row').first().waitFor();
    assert.equal(await page.getByRole('treegrid').getAttribute('aria-rowcount'), '5');
    assert.deepEqual(browser.takeErrors(), []);
  });

  it('an unknown trace and a malformed search show the server message', async () => {
    const { page } = browser;
    // A fresh load: the early trace call of index.html gets the 404, and the page shows it.
    await page.goto('about:blank');
    await page.goto(`${ui.url}/#/trace/${'ab'.repeat(16)}`);
    await page.getByRole('alert').waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', new RegExp(`trace ${'ab'.repeat(16)} not found`));
    onlyFailedLoads(404);
    await page.goto(`${ui.url}/#/search?minDuration=soon`);
    await page.getByRole('alert').waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /minDuration/);
    assert.equal(await page.locator('#f-min').inputValue(), 'soon', 'the form shows what the URL asked');
    onlyFailedLoads(400);
  });
});
