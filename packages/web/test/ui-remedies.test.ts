/**
 * The repair control in a real browser against a real `linktrace serve` with remedies on, and a fake
 * live instance (the SDK's RemedyAgent in this process, service `ledger-sync`): the remedy token is
 * asked for on first use, kept in sessionStorage only and never in a URL; a wrong one is refused
 * (403) and forgotten; a dry run queues nothing; a replay is pending while no instance is live, then
 * delivered, run and verified, with a link to the remedy trace; a second click shows the remedy that
 * exists and runs nothing; a duplicate write is undone from the trace page; the rate limit's 429 is
 * shown with its Retry-After.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTracing, otlpHttpExporter, RemedyAgent, stagesFor, type Tracing } from '@linktrace/sdk';
import type { FindingView } from '../src/api/types.js';
import { getJson, openBrowser, screenshot, startUiServer, waitFor, type Browser, type UiServer, UI_SUITE_TIMEOUT_MS } from './ui-harness.js';

const REMEDY_TOKEN = `remedy-${process.pid}-token`;
const SECRET = 'a-remedy-secret-for-the-ui-test';
const SERVICE = 'ledger-sync';

describe('web UI: the repair of a finding', { timeout: UI_SUITE_TIMEOUT_MS }, () => {
  let ui: UiServer;
  let browser: Browser;
  let tracing: Tracing;
  let agent: RemedyAgent | undefined;
  const replayed: string[] = [];
  const undone: string[] = [];
  const requested: string[] = [];
  const run = Date.now().toString(36);
  const key = (n: string): string => `${run}-${n}`;
  const findingOf = new Map<string, FindingView>();

  before(async () => {
    // Three remedies a minute for a service: the fourth click meets the limit.
    ui = await startUiServer({ remedies: { token: REMEDY_TOKEN, secret: SECRET, perServicePerMinute: 3 } });
    tracing = createTracing({ service: SERVICE, instance: 'ledger-1', exporter: otlpHttpExporter({ url: `${ui.url}/v1/traces` }) });
    const stages = stagesFor(tracing);
    const entity = (k: string) => ({ type: 'ledger', key: k, version: '1' });
    // Received and never written: missing-write (a, c, d). Written twice: duplicate-write (b).
    for (const k of ['a', 'c', 'd']) await stages.receive(entity(key(k)), () => Promise.resolve());
    await stages.receive(entity(key('b')), async () => {
      await stages.write(entity(key('b')), 'pg:ledger', () => Promise.resolve());
      await stages.write(entity(key('b')), 'pg:ledger', () => Promise.resolve());
    });
    await tracing.forceFlush();
    await waitFor('the four findings', async () => {
      const { findings } = await getJson<{ findings: FindingView[] }>(`${ui.url}/api/v1/findings?service=${SERVICE}`);
      for (const f of findings) if (f.entity !== undefined) findingOf.set(f.entity.key.slice(run.length + 1), f);
      return ['a', 'b', 'c', 'd'].every((k) => findingOf.has(k)) ? true : undefined;
    }, 20_000);
    assert.equal(findingOf.get('a')!.rule, 'missing-write');
    assert.equal(findingOf.get('b')!.rule, 'duplicate-write');
    browser = await openBrowser(ui);
    browser.context.on('request', (r) => requested.push(r.url()));
  });
  after(async () => {
    await agent?.stop();
    await tracing?.shutdown();
    await browser?.close();
    await ui?.close();
  });

  /** The instance comes up: it replays a receive (receive → write of the entity) and undoes a write. */
  const startInstance = (): void => {
    const stages = stagesFor(tracing);
    agent = new RemedyAgent({ tracing, endpoint: ui.url, secret: SECRET, pollMs: 1000, warn: () => {} })
      .register({
        stage: 'receive',
        replay: async (r) => {
          replayed.push(r.entity!.key);
          const e = { type: r.entity!.type, key: r.entity!.key, version: r.entity!.version };
          await stages.receive(e, () => stages.write(e, 'pg:ledger', () => Promise.resolve()));
        },
      })
      .register({
        stage: 'write',
        replay: () => Promise.reject(new Error('not used here')),
        undo: (r) => {
          undone.push(r.entity!.key);
        },
      })
      .start();
  };

  const remediesOf = async (f: FindingView) => (await getJson<{ remedies: { id: string; state: string }[] }>(`${ui.url}/api/v1/remedies?findingId=${f.id}`)).remedies;

  /** The failed calls the browser logs for refusals are expected here; nothing else is. */
  const onlyRefusals = (...statuses: number[]): void => {
    for (const e of browser.takeErrors()) assert.match(e, new RegExp(`Failed to load resource: the server responded with a status of (${statuses.join('|')})`));
  };

  it('asks for the remedy token on first use, refuses a wrong one, and a dry run queues nothing', async () => {
    const { page } = browser;
    const f = findingOf.get('a')!;
    await page.goto(`${ui.url}/#/findings?traceId=${f.traceId}`);
    const group = page.getByRole('group', { name: `Remedy of missing-write at ${SERVICE}` });
    await group.waitFor();
    assert.equal(await group.getByRole('button', { name: /Undo/ }).count(), 0, 'a missing write is replayed, not undone');
    await group.getByRole('button', { name: 'Dry run' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remedy token' });
    await dialog.waitFor();
    await dialog.getByLabel('Remedy token').fill('not-the-remedy-token');
    await dialog.getByRole('button', { name: 'Save' }).click();
    const row = page.getByRole('row').filter({ has: group });
    const alert = row.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /403 remedy_forbidden: requesting a remedy needs the remedy token.*forgotten/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('linktrace.remedyToken')), null, 'a refused token is not kept');
    onlyRefusals(403);

    await group.getByRole('button', { name: 'Dry run' }).click();
    await dialog.waitFor();
    await dialog.getByLabel('Remedy token').fill(REMEDY_TOKEN);
    await dialog.getByRole('button', { name: 'Save' }).click();
    const dry = row.locator('.remedy-dry-run');
    await dry.waitFor();
    // No instance of the service is live yet: the dry run says it would wait for one.
    assert.match((await dry.textContent()) ?? '', new RegExp(`queued until a live instance of ${SERVICE} with a replay handler for stage receive.*Nothing was queued`));
    assert.equal(await alert.count(), 0, 'the error of the refused token is gone');
    assert.deepEqual(await remediesOf(f), []);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('linktrace.remedyToken')), REMEDY_TOKEN);
    assert.equal(await page.evaluate(() => localStorage.getItem('linktrace.remedyToken')), null, 'kept for the tab only');
  });

  it('a replay is pending until an instance is live, then verified with its trace; a second click runs nothing', async () => {
    const { page } = browser;
    const f = findingOf.get('a')!;
    const group = page.getByRole('group', { name: `Remedy of missing-write at ${SERVICE}` });
    const row = page.getByRole('row').filter({ has: group });
    const state = row.locator('.remedy-state');
    await group.getByRole('button', { name: 'Replay', exact: true }).click();
    assert.equal(await page.getByRole('dialog').count(), 0, 'the kept token is used');
    await row.locator('.remedy-state[data-state="pending"]').waitFor();
    assert.match((await state.textContent()) ?? '', /replay pending/);
    startInstance();
    await row.locator('.remedy-state[data-state="verified"]').waitFor({ timeout: 30_000 });
    assert.match((await state.textContent()) ?? '', /replay verified/);
    const link = state.getByRole('link', { name: /Open the remedy trace [0-9a-f]{32}/ });
    const remedyTrace = /#\/trace\/([0-9a-f]{32})$/.exec((await link.getAttribute('href')) ?? '')?.[1];
    assert.ok(remedyTrace !== undefined, 'the link names the remedy trace');
    assert.deepEqual(replayed, [key('a')]);
    await screenshot(page, 'remedy-verified');

    // A second click: the server answers with the remedy that exists; nothing runs again.
    await group.getByRole('button', { name: 'Replay', exact: true }).click();
    const note = row.locator('.remedy-note');
    await note.waitFor();
    assert.match((await note.textContent()) ?? '', /already has a remedy \(.*missing-write\.replay\.1, verified\): showing it; nothing ran again/);
    assert.deepEqual(replayed, [key('a')]);
    const remedies = await remediesOf(f);
    assert.deepEqual(remedies.map((r) => r.state), ['verified']);
    // The link opens the remedy's own trace.
    await link.click();
    await page.getByRole('treegrid').getByRole('row').first().waitFor();
    assert.ok(page.url().endsWith(`#/trace/${remedyTrace}`));
    assert.deepEqual(browser.takeErrors(), []);
  });

  it('a duplicate write is undone from the trace page', async () => {
    const { page } = browser;
    const f = findingOf.get('b')!;
    await page.goto(`${ui.url}/#/trace/${f.traceId}`);
    const item = page.getByRole('list', { name: 'Findings of this trace' }).getByRole('listitem').filter({ hasText: 'duplicate-write' });
    const group = item.getByRole('group', { name: `Remedy of duplicate-write at ${SERVICE}` });
    assert.equal(await group.getByRole('button', { name: 'Replay', exact: true }).count(), 0, 'a duplicate is undone, not replayed');
    await group.getByRole('button', { name: 'Undo duplicate' }).click();
    await item.locator('.remedy-state[data-state="verified"]').waitFor({ timeout: 30_000 });
    assert.match((await item.locator('.remedy-state').textContent()) ?? '', /undo verified/);
    assert.deepEqual(undone, [key('b')]);
    assert.deepEqual(browser.takeErrors(), []);
  });

  it('the rate limit is shown with when to try again', async () => {
    const { page } = browser;
    for (const k of ['c', 'd']) {
      await page.goto(`${ui.url}/#/findings?traceId=${findingOf.get(k)!.traceId}`);
      await page.getByRole('group', { name: `Remedy of missing-write at ${SERVICE}` }).getByRole('button', { name: 'Replay', exact: true }).click();
      if (k === 'c') await page.locator('.remedy-state[data-state="verified"]').waitFor({ timeout: 30_000 });
    }
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /429 remedy_rate_limited: ledger-sync was asked for 3 remedies in the last minute.*Try again in \d+ s\./);
    assert.deepEqual(await remediesOf(findingOf.get('d')!), []);
    onlyRefusals(429);
    // The remedy token never went into a URL.
    assert.ok(requested.length > 0);
    assert.deepEqual(requested.filter((u) => u.includes(REMEDY_TOKEN)), []);
  });
});
