/**
 * The UI never sends the token to another host. A page opened at `http://host//evil.example/#/trace/<id>`
 * has the path `//evil.example/`; URLs built from that path alone point at evil.example, and the
 * bearer token from localStorage went along. The server now refuses such paths, the UI builds every
 * API URL from its own origin, and pages carry a Content-Security-Policy without inline script.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeNativeJson } from '@linktrace/model';
import type { Request } from 'playwright-core';
import { generateTrace } from './ui-data.js';
import { openBrowser, startUiServer, type Browser, type UiServer, UI_SUITE_TIMEOUT_MS } from './ui-harness.js';

const TOKEN = `t-${process.pid}-security`;
const EVIL = '//evil.example/';

describe('web UI: the token stays on this origin', { timeout: UI_SUITE_TIMEOUT_MS }, () => {
  let ui: UiServer;
  let browser: Browser;
  let origin: string;
  const trace = generateTrace(4, { seed: 11 });

  before(async () => {
    ui = await startUiServer({ token: TOKEN });
    origin = new URL(ui.url).origin;
    const res = await fetch(`${ui.url}/api/v1/spans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(encodeNativeJson(trace.spans)),
    });
    assert.equal(res.status, 200);
    browser = await openBrowser(ui);
    // The token is in localStorage, as after the user entered it once.
    await browser.page.goto(`${ui.url}/healthz`);
    await browser.page.evaluate((token) => localStorage.setItem('linktrace.token', token), TOKEN);
    browser.takeErrors();
  });
  after(async () => {
    await browser?.close();
    await ui?.close();
  });

  const offsite = (errors: string[]): string[] => errors.filter((e) => e.startsWith('request off the server'));

  it(`opening ${EVIL}#/trace/<id> on the server sends nothing to another host (the server refuses the path)`, async () => {
    const { page } = browser;
    await page.goto('about:blank');
    const response = await page.goto(`${ui.url}${EVIL}#/trace/${trace.traceId}`);
    await page.waitForLoadState('networkidle');
    assert.deepEqual(offsite(browser.takeErrors()), []);
    assert.equal(response?.status(), 400);
    assert.equal(((await response?.json()) as { error: { code: string } }).error.code, 'bad_request');
  });

  it('the UI itself, served at such a path (by any server), still calls only its own origin', async () => {
    const { page } = browser;
    // Serve the real UI at //evil.example/ as a server without the refusal (or a proxy) would.
    const atEvil = (u: URL): boolean => u.origin === origin && u.pathname.startsWith(EVIL);
    await page.route(atEvil, async (route) => {
      const path = new URL(route.request().url()).pathname.slice(EVIL.length - 1);
      const res = await fetch(`${ui.url}${path}`, { headers: { accept: route.request().headers()['accept'] ?? '*/*' } });
      const headers: Record<string, string> = {};
      res.headers.forEach((value, key) => (headers[key] = value));
      await route.fulfill({ status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) });
    });
    const traceCalls: Request[] = [];
    page.on('request', (r) => {
      if (r.url().includes(`api/v1/traces/${trace.traceId}`)) traceCalls.push(r);
    });
    try {
      const called = page.waitForRequest((r) => r.url().includes(`api/v1/traces/${trace.traceId}`));
      // The previous test left the page at this very URL: without a blank page between, goto would
      // only change the hash.
      await page.goto('about:blank');
      await page.goto(`${ui.url}${EVIL}#/trace/${trace.traceId}`);
      await called;
      await page.waitForLoadState('networkidle');
      assert.deepEqual(offsite(browser.takeErrors()), []);
      assert.ok(traceCalls.length > 0);
      for (const r of traceCalls) {
        assert.equal(new URL(r.url()).origin, origin, r.url());
        assert.equal(r.headers()['authorization'], `Bearer ${TOKEN}`);
      }
    } finally {
      await page.unroute(atEvil);
    }
  });

  it('the UI works under its Content-Security-Policy (no inline script, no violation)', async () => {
    const { page } = browser;
    await page.goto('about:blank');
    const response = await page.goto(`${ui.url}/#/trace/${trace.traceId}`);
    const headers = response?.headers() ?? {};
    assert.match(headers['content-security-policy'] ?? '', /script-src 'self'(;|$)/);
    assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    const html = await response?.text();
    assert.doesNotMatch(html ?? '', /<script(?![^>]*\bsrc=)[^>]*>/, 'index.html has no inline script');
    await page.getByRole('treegrid').getByRole('row').first().waitFor();
    assert.equal(await page.getByRole('treegrid').getAttribute('aria-rowcount'), '4');
    assert.deepEqual(browser.takeErrors(), []);
  });
});
