/**
 * What the browser tests share: a real `linktrace serve` (in this process, embedded store in a temp
 * directory), span ingestion over its public routes, and Debian's chromium driven by playwright-core
 * with a fresh profile. Console errors and page errors are collected per page so each test can
 * assert there were none.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { parseServeFlags, startServer, type RunningServer } from '@linktrace/server';

export const CHROMIUM = '/usr/bin/chromium';
/**
 * A browser suite's bound: it only tells a hang from a slow machine (a suite that takes 8 s alone
 * took 83 s at load 26), so it is wide; how fast pages are is measured and printed, not asserted here.
 */
export const UI_SUITE_TIMEOUT_MS = 300_000;
const WEB_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const UI_DIR = join(WEB_ROOT, 'dist', 'ui');
const OUTPUT_DIR = join(WEB_ROOT, 'test-output');
const SCREENSHOT_DIR = fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url));

export interface UiServer {
  server: RunningServer;
  url: string;
  dir: string;
  close(): Promise<void>;
}

export async function startUiServer(
  flags: { checkDelay?: string; slowChain?: string; token?: string; remedies?: { token: string; secret: string; perServicePerMinute?: number } } = {},
): Promise<UiServer> {
  assert.ok(existsSync(join(UI_DIR, 'index.html')), `the UI is not built: ${UI_DIR}/index.html is missing (npm run build -w @linktrace/web)`);
  const dir = mkdtempSync(join(tmpdir(), 'lt-web-'));
  const options = parseServeFlags({
    port: '0',
    host: '127.0.0.1',
    data: dir,
    checkDelay: flags.checkDelay ?? '1s',
    maxWait: '60s',
    ui: UI_DIR,
    // runShopSync declares its flow contract without a token.
    allowAnonymousWrites: true,
    ...(flags.slowChain ? { slowChain: flags.slowChain } : {}),
    ...(flags.token ? { token: flags.token } : {}),
    ...(flags.remedies ? { remedyToken: flags.remedies.token, remedySecret: flags.remedies.secret } : {}),
  });
  // The rate limit has no flag; a test lowers it to reach it with a few clicks.
  if (flags.remedies?.perServicePerMinute !== undefined) options.remedies = { ...options.remedies, perServicePerMinute: flags.remedies.perServicePerMinute };
  const server = await startServer(options, { print: () => undefined, warn: () => undefined });
  try {
    // As a browser asks for it.
    const res = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 200, 'linktrace serve answers / with the UI');
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await res.text(), /<div id="root">/);
  } catch (error) {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    server,
    url: server.url,
    dir,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function postJson(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.status >= 200 && res.status < 300, `POST ${url}: ${res.status} ${text.slice(0, 300)}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  return (await res.json()) as T;
}

/** Polls `probe` until it returns a value, or fails after `ms`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen since the last `takeErrors()`. */
  takeErrors(): string[];
  close(): Promise<void>;
}

/** A fresh chromium (new profile); any request not for the server is refused and reported. */
export async function openBrowser(ui: UiServer): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'lt-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
    timeout: 30_000,
  });
  const origin = new URL(ui.url).origin;
  // Anything not for the server is refused: the UI must work without network access.
  await context.route(
    (u) => u.origin !== origin,
    (route) => route.abort('blockedbyclient'),
  );
  const errors: string[] = [];
  const offsite: string[] = [];
  context.on('request', (r) => {
    if (new URL(r.url()).origin !== origin && !r.url().startsWith('data:')) offsite.push(r.url());
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return {
    context,
    page,
    takeErrors: () => {
      const all = [...errors, ...offsite.map((u) => `request off the server: ${u}`)];
      errors.length = 0;
      offsite.length = 0;
      return all;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot to test-output/ always, and to docs/screenshots/ with LINKTRACE_UPDATE_SCREENSHOTS=1. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const png = await page.screenshot({ fullPage: false });
  writeFileSync(join(OUTPUT_DIR, `${name}.png`), png);
  if (process.env['LINKTRACE_UPDATE_SCREENSHOTS'] === '1') {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    writeFileSync(join(SCREENSHOT_DIR, `${name}.png`), png);
  }
}
