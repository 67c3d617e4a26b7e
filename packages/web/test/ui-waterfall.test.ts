/**
 * The waterfall at size, in a real browser: a 1,000-span trace must show its rows within a second
 * of navigation, a 10,000-span trace keeps only a window of rows in the DOM and still scrolls and
 * answers the keyboard, and lost rpcid positions are drawn as placeholders among their siblings.
 * The measured times are printed (`# ui: …`) for docs/benchmarks.md.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { generateTrace, ingestTrace } from './ui-data.js';
import { openBrowser, screenshot, startUiServer, type Browser, type UiServer, UI_SUITE_TIMEOUT_MS } from './ui-harness.js';

const ROWS = '[role="treegrid"] [role="row"]';

interface Load {
  /** Navigation start until the rows are seen on screen. */
  total: number;
  /** The trace's API call (started by index.html, before the app's script runs). */
  api: number;
  /** Navigation start until the app's script runs (HTML, script download and compile). */
  script: number;
  /** The API's answer until the rows are drawn (JSON, tree, first render). */
  render: number;
  /** When the trace's API call started. */
  apiStart: number;
  /** The scripts the page loaded (file names). */
  scripts: string[];
  /** Calls to the trace route (1 when the app took the early call over). */
  apiCalls: number;
}

/** Loads the trace page afresh; ms from navigation start until its rows are on screen, and its parts. */
async function timeToRows(page: Page, url: string): Promise<Load> {
  await page.goto('about:blank');
  await page.goto(url);
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length > 0, ROWS, { timeout: 10_000 });
  return page.evaluate(() => {
    const api = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v1/traces/'));
    const mark = (name: string): number => performance.getEntriesByName(name, 'mark')[0]?.startTime ?? NaN;
    const scripts = performance
      .getEntriesByType('resource')
      .map((e) => e.name.replace(/^.*\//, ''))
      .filter((n) => n.endsWith('.js'));
    return { total: performance.now(), api: api?.duration ?? NaN, apiStart: api?.startTime ?? NaN, script: mark('lt:app-start'), render: mark('lt:trace-rows') - mark('lt:trace-data'), scripts, apiCalls: performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/traces/')).length };
  });
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Opens a trace in the running app and waits until its rows (not the previous trace's) are shown. */
async function openTrace(page: Page, base: string, traceId: string): Promise<void> {
  await page.goto(`${base}/#/trace/${traceId}`);
  await page.waitForFunction((id) => document.querySelector('.trace-meta .mono')?.textContent === id && document.querySelector('[role="treegrid"] [role="row"]') !== null, traceId);
}

const fmt = (ms: number): string => ms.toFixed(0);

describe('web UI waterfall at size', { timeout: UI_SUITE_TIMEOUT_MS }, () => {
  let ui: UiServer;
  let browser: Browser;
  const small = generateTrace(1_000, { seed: 1 });
  const large = generateTrace(10_000, { seed: 2 });
  const lossy = generateTrace(12, { fanout: 3, lose: ['0.2', '0.1.2'], seed: 3 });

  before(async () => {
    ui = await startUiServer({ checkDelay: '30s' });
    await ingestTrace(ui.url, small.traceId, small.spans);
    await ingestTrace(ui.url, large.traceId, large.spans);
    await ingestTrace(ui.url, lossy.traceId, lossy.spans);
    browser = await openBrowser(ui);
  });
  after(async () => {
    await browser?.close();
    await ui?.close();
  });

  const report = (what: string, loads: readonly Load[]): string =>
    `${what}: rows on screen after ${loads.map((t) => fmt(t.total)).join(' / ')} ms from navigation start; API call ${loads.map((t) => fmt(t.api)).join(' / ')} ms; app script running at ${loads.map((t) => fmt(t.script)).join(' / ')} ms; answer to rows drawn ${loads.map((t) => fmt(t.render)).join(' / ')} ms`;

  it('renders a 1,000-span trace from one script and one API call, on the first load of a new browser too', async () => {
    const url = `${ui.url}/#/trace/${small.traceId}`;
    // First loads: each in a browser of its own (new profile: nothing cached, no compiled code),
    // as someone opening a shared trace link sees it. Three, for the median: one load slowed by a
    // neighbour on the shared machine does not decide it.
    const cold: Load[] = [];
    for (let i = 0; i < 3; i++) {
      const fresh = await openBrowser(ui);
      try {
        cold.push(await timeToRows(fresh.page, url));
        assert.deepEqual(fresh.takeErrors(), []);
      } finally {
        await fresh.close();
      }
    }
    // Warm loads: the same browser again (cached script, compiled code), after one to warm it.
    const { page } = browser;
    await timeToRows(page, url);
    const warm: Load[] = [];
    for (let i = 0; i < 3; i++) warm.push(await timeToRows(page, url));
    console.log(`# ui: ${report('1,000-span trace, first load of a new browser', cold)}`);
    console.log(`# ui: ${report('1,000-span trace, warm browser', warm)}`);
    for (const t of [...cold, ...warm]) {
      assert.ok(t.render >= 0 && t.script > 0, `the app marked its steps: ${JSON.stringify(t)}`);
      // index.html starts the trace's call; the app's script takes its answer over (one call).
      assert.equal(t.apiCalls, 1, 'one call for the trace');
      assert.ok(t.apiStart < t.script, `the trace's API call started at ${fmt(t.apiStart)} ms, before the app's script ran at ${fmt(t.script)} ms`);
      // The trace page comes with the first script; no other page's chunk is loaded for it.
      assert.deepEqual(
        t.scripts.filter((n) => /-page-/.test(n)),
        [],
        `scripts loaded: ${t.scripts.join(', ')}`,
      );
      // Besides early-call.js (index.html's early trace call, a file because the CSP allows no inline script).
      assert.equal(t.scripts.filter((n) => n !== 'early-call.js').length, 1, `one script for a trace link: ${t.scripts.join(', ')}`);
    }
    // The load times are printed, not asserted: on a shared machine they measure the machine's load
    // as much as the UI (the targets, 2 s first load and 1 s warm, belong in a benchmark).
    console.log(`# ui: 1,000-span trace, median ${fmt(median(cold.map((t) => t.total)))} ms on a new browser (target 2000), ${fmt(median(warm.map((t) => t.total)))} ms warm (target 1000)`);
    assert.equal(await page.getByRole('treegrid').getAttribute('aria-rowcount'), '1000');
    assert.deepEqual(browser.takeErrors(), []);
  });

  it('keyboard: arrows move, Left/Right close and open a subtree, Enter opens the span', async () => {
    const { page } = browser;
    const grid = page.getByRole('treegrid');
    await grid.getByRole('row').first().focus();
    await page.keyboard.press('ArrowDown');
    const focused = (): Promise<string | null | undefined> => page.evaluate(() => document.activeElement?.getAttribute('data-index'));
    assert.equal(await focused(), '1');
    // Row 1 is the root's first child (0.1), which has children: close, then reopen.
    await page.keyboard.press('ArrowLeft');
    const closed = Number(await grid.getAttribute('aria-rowcount'));
    assert.ok(closed < 1000, `collapsing 0.1 hides its subtree (${closed} rows)`);
    assert.equal(await grid.locator('[data-index="1"]').getAttribute('aria-expanded'), 'false');
    await page.keyboard.press('ArrowRight');
    assert.equal(await grid.getAttribute('aria-rowcount'), '1000');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await focused(), '0', 'Left on a closed row goes to its parent');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await page.waitForURL(/span=[0-9a-f]{16}/);
    assert.match((await page.getByRole('complementary').getByRole('table', { name: 'Attributes', exact: true }).textContent()) ?? '', /gen\.index/);
    assert.deepEqual(browser.takeErrors(), []);
  });

  it('a 10,000-span trace keeps only a window of rows in the DOM and scrolls to the end', async () => {
    const { page } = browser;
    const t = await timeToRows(page, `${ui.url}/#/trace/${large.traceId}`);
    console.log(`# ui: ${report('10,000-span trace', [t])}`);
    const grid = page.getByRole('treegrid');
    assert.equal(await grid.getAttribute('aria-rowcount'), '10000');
    const inDom = await page.locator(ROWS).count();
    console.log(`# ui: 10,000-span trace: ${inDom} row elements in the DOM`);
    assert.ok(inDom > 10 && inDom < 150, `${inDom} rows in the DOM`);
    // Scroll to the bottom: the last rows are rendered, the first ones gone.
    const body = page.getByTestId('waterfall-body');
    const start = Date.now();
    for (let i = 1; i <= 10; i++) {
      await body.evaluate((el, f) => {
        el.scrollTop = el.scrollHeight * f;
      }, i / 10);
      await page.waitForFunction(() => requestAnimationFrame !== undefined);
    }
    await page.locator(`${ROWS}[aria-rowindex="10000"]`).waitFor();
    const scrollMs = Date.now() - start;
    console.log(`# ui: 10,000-span trace scrolled top to bottom in 10 steps in ${scrollMs} ms`);
    // Rows from the top are gone (the focusable first row alone stays, for Tab).
    assert.equal(await page.locator(`${ROWS}[aria-rowindex="50"]`).count(), 0);
    assert.ok((await page.locator(ROWS).count()) < 150);
    // Keyboard from the top to the end.
    await body.evaluate((el) => {
      el.scrollTop = 0;
    });
    await page.locator(`${ROWS}[aria-rowindex="1"]`).focus();
    // Focus lands once the target row is rendered (the next frame or two): wait for it, bounded.
    const focusedRow = () => page.evaluate(() => document.activeElement?.getAttribute('aria-rowindex') ?? null);
    await page.keyboard.press('End');
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-rowindex') === '10000', undefined, { timeout: 5000 }).catch(() => undefined);
    assert.equal(await focusedRow(), '10000');
    await page.keyboard.press('PageUp');
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-rowindex') !== '10000', undefined, { timeout: 5000 }).catch(() => undefined);
    const after = Number(await focusedRow());
    assert.ok(after < 10000 && after > 9950, `PageUp moved to row ${after}`);
    assert.deepEqual(browser.takeErrors(), []);
  });

  it('a key pressed right after a scroll still moves focus, and keys start from the row that has focus', async () => {
    const { page } = browser;
    await page.goto('about:blank');
    await openTrace(page, ui.url, large.traceId);
    // Focus a row that is not the active one: the keys must move from there.
    await page.locator(`${ROWS}[aria-rowindex="5"]`).focus();
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-rowindex') === '6', undefined, { timeout: 5000 }).catch(() => undefined);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-rowindex') ?? null), '6');
    // A scroll's render commits in one task and runs its effects in a later one; a key that arrived
    // in between once lost focus (CI saw it as a flaky End). The gap here is 2 tasks after the scroll
    // on this machine's Chromium; 1 to 3 are tried so the test still lands in it elsewhere.
    const landed = await page.evaluate(async () => {
      const body = document.querySelector<HTMLElement>('[data-testid="waterfall-body"]')!;
      const nextTask = (): Promise<void> =>
        new Promise((resolve) => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => resolve();
          ch.port2.postMessage(0);
        });
      const frame = (): Promise<void> => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      const results: string[] = [];
      for (const waits of [1, 2, 3]) {
        for (let k = 0; k < 2; k++) {
          body.scrollTop = 0;
          await frame();
          await frame();
          body.querySelector<HTMLElement>('[aria-rowindex="1"]')!.focus();
          await frame();
          body.scrollTop = 26 * (40 + 10 * waits + k);
          body.dispatchEvent(new Event('scroll'));
          for (let w = 0; w < waits; w++) await nextTask();
          document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true, cancelable: true }));
          for (let f = 0; f < 5 && document.activeElement?.getAttribute('aria-rowindex') !== '10000'; f++) await frame();
          results.push(`${waits}:${document.activeElement?.getAttribute('aria-rowindex') ?? 'lost'}`);
        }
      }
      return results;
    });
    assert.deepEqual(landed, ['1:10000', '1:10000', '2:10000', '2:10000', '3:10000', '3:10000']);
    assert.deepEqual(browser.takeErrors(), []);
  });

  it('lost rpcid positions are placeholders among their siblings', async () => {
    const { page } = browser;
    await openTrace(page, ui.url, lossy.traceId);
    const rows = page.locator(ROWS);
    const text = await rows.evaluateAll((els) => els.map((e) => `${e.querySelector('.wf-rpcid-col')?.textContent ?? ''}|${e.classList.contains('placeholder') ? 'lost' : 'span'}`));
    // 0.2 is lost (and so its children are orphans under a missing parent); 0.1.2 is lost under 0.1.
    const at = (t: string): number => text.indexOf(t);
    assert.ok(at('0.1.1|span') >= 0 && at('0.1.1|span') < at('0.1.2|lost') && at('0.1.2|lost') < at('0.1.3|span'), text.join(' '));
    assert.ok(text.includes('0.2|lost'), text.join(' '));
    // One placeholder per lost hop: 0.2 (a missing parent and a missing position, the same hop) and 0.1.2.
    assert.equal(text.filter((t) => t.endsWith('|lost')).length, 2, text.join(' '));
    assert.match((await page.getByRole('note').first().textContent()) ?? '', /lost positions? \(rpcid with no span\)/);
    await screenshot(page, 'trace-placeholders');
    assert.deepEqual(browser.takeErrors(), []);
  });
});
