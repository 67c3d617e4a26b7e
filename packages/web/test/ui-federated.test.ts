/**
 * The trace page of a trace read through a federated gateway: every hop listed, and an
 * unreachable hop shown as such with the last healthy hop named. A real gateway serving the UI,
 * one real agent holding the first hop, and a second hop whose agent is gone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTraceIdGenerator, encodeNativeJson, type Span } from '@linktrace/model';
import { parseAgentFlags, parseGatewayFlags, startAgent, startGateway, type RunningAgent, type RunningGateway } from '@linktrace/server';
import { openBrowser, postJson, UI_DIR, UI_SUITE_TIMEOUT_MS, waitFor, type Browser, type UiServer } from './ui-harness.js';

const traceId = createTraceIdGenerator({ ipv4: '10.7.7.7', port: 700 })();

function span(over: Partial<Span> & Pick<Span, 'spanId'>): Span {
  return { traceId, service: 'cart', instance: '127.0.0.1:7001', name: 'GET /cart', kind: 'server', startUs: Date.now() * 1000 - 1_000_000, durationUs: 500, status: { code: 'unset' }, attributes: {}, events: [], links: [], ...over };
}

describe('trace page of a federated trace', { timeout: UI_SUITE_TIMEOUT_MS }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lt-web-fed-'));
  let gateway: RunningGateway;
  let agent: RunningAgent;
  let browser: Browser;

  before(async () => {
    gateway = await startGateway(parseGatewayFlags({ port: '0', ui: UI_DIR, hopTimeout: '1s' }));
    agent = await startAgent(parseAgentFlags({ port: '0', data: join(dir, 'agent'), gateway: gateway.url, heartbeat: '100ms' }), { print: () => undefined, warn: () => undefined });
    // The next hop's agent is registered, then gone: nothing listens at its address.
    gateway.directory.register({ agent: 'http://127.0.0.1:9', heartbeatMs: 100, startedAtMs: 0, instances: [], addresses: [{ address: '127.0.0.1:7002', service: 'pricing' }], queues: [], origins: [], spansStored: 0 });
    await postJson(`${agent.server.url}/api/v1/spans`, encodeNativeJson([
      span({ spanId: '00000000000000a1' }),
      span({ spanId: '00000000000000a2', parentSpanId: '00000000000000a1', kind: 'client', name: 'GET /price', attributes: { 'server.address': '127.0.0.1', 'server.port': 7002 } }),
    ]));
    await waitFor('the walk to reach the agent', async () => {
      const res = await fetch(`${gateway.url}/api/v1/traces/${traceId}`);
      return res.status === 200 && ((await res.json()) as { spanCount: number }).spanCount === 2 ? true : undefined;
    }, 60_000);
    browser = await openBrowser({ url: gateway.url } as UiServer);
  });

  after(async () => {
    await browser?.close();
    await agent?.close();
    await gateway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the hops and names the unreachable one and the last healthy one', async () => {
    const { page } = browser;
    await page.goto(`${gateway.url}/#/trace/${traceId}`);
    const note = page.getByRole('note', { name: 'Broken hop' });
    await note.waitFor();
    assert.match((await note.textContent()) ?? '', /stops at hop 2, pricing \(127\.0\.0\.1:7002\): its agent did not answer .*Last healthy hop: cart \(127\.0\.0\.1:7001\)/);
    const hops = await page.getByRole('list', { name: 'Hops' }).locator('li').allTextContents();
    assert.equal(hops.length, 2);
    assert.match(hops[0]!, /^ok cart \(127\.0\.0\.1:7001\) 2 spans/);
    assert.match(hops[1]!, /^unreachable pricing \(127\.0\.0\.1:7002\)/);
    assert.deepEqual(browser.takeErrors(), []);
  });
});
