/**
 * The web UI at `/`: its files, the single-page fallback for HTML requests, cache headers, the page
 * shown while the UI is not built, and the token (the UI is open, the API stays guarded).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openEmbeddedStore, type EmbeddedStore } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import { parseServeFlags } from '../src/cli/serve.js';
import { ConfigError } from '../src/config.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import { locateUiDir } from '../src/ui/ui-dir.js';
import { IMMUTABLE, REVALIDATE, registerUiRoutes } from '../src/ui/ui-routes.js';
import { tempDir } from './query-test-support.js';

const TOKEN = 'ui-test-token';
const INDEX = '<!doctype html><html><body><div id="app">linktrace ui</div></body></html>\n';
const ASSET = 'console.log("linktrace");\n';
const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Served {
  app: FastifyInstance;
  store: EmbeddedStore;
  dir: string;
}

async function serve(uiDir: string, token?: string): Promise<Served> {
  const dir = tempDir('lt-serve-ui-');
  const store = await openEmbeddedStore({ dataDir: dir });
  const app = await buildApp({
    store,
    dataDir: dir,
    ...(token === undefined ? {} : { token }),
    extraRoutes: async (scope) => {
      registerQueryRoutes(scope, { store });
      await registerUiRoutes(scope, { dir: uiDir });
    },
  });
  await app.ready();
  return { app, store, dir };
}

async function close(s: Served | undefined): Promise<void> {
  if (s === undefined) return;
  await s.app.close();
  await s.store.close();
  rmSync(s.dir, { recursive: true, force: true });
}

function errorCode(body: string): string {
  return (JSON.parse(body) as { error: { code: string } }).error.code;
}

describe('web UI, built', () => {
  let ui: string;
  let s: Served;
  before(async () => {
    ui = tempDir('lt-ui-dist-');
    mkdirSync(join(ui, 'assets'));
    writeFileSync(join(ui, 'index.html'), INDEX);
    writeFileSync(join(ui, 'assets', 'index-B4x9_Qz1.js'), ASSET);
    writeFileSync(join(ui, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    s = await serve(ui, TOKEN);
  });
  after(async () => {
    await close(s);
    rmSync(ui, { recursive: true, force: true });
  });

  it('serves index.html at / without a token, revalidated on every load', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/', headers: HTML });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, INDEX);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.equal(res.headers['cache-control'], REVALIDATE);
  });

  it('serves hashed assets as immutable and other files revalidated', async () => {
    const js = await s.app.inject({ method: 'GET', url: '/assets/index-B4x9_Qz1.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.body, ASSET);
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.equal(js.headers['cache-control'], IMMUTABLE);
    const icon = await s.app.inject({ method: 'GET', url: '/favicon.svg' });
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers['cache-control'], REVALIDATE);
    const direct = await s.app.inject({ method: 'GET', url: '/index.html' });
    assert.equal(direct.headers['cache-control'], REVALIDATE);
  });

  it('answers any other HTML GET with index.html (client-side routes)', async () => {
    for (const url of ['/traces/0123456789abcdef0123456789abcdef', '/service-map?start=1', '/flows/shop-sync']) {
      const res = await s.app.inject({ method: 'GET', url, headers: HTML });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.body, INDEX, url);
      assert.equal(res.headers['cache-control'], REVALIDATE, url);
    }
  });

  it('never falls back for the API, health and metrics paths; they stay guarded', async () => {
    for (const url of ['/api/v1/nope', '/api/v2/nope', '/v1/nope', '/api', '/healthz/x', '/metrics']) {
      const res = await s.app.inject({ method: 'GET', url, headers: HTML });
      assert.equal(res.statusCode, 401, url);
      assert.equal(errorCode(res.body), 'unauthorized', url);
    }
    const unknownApi = await s.app.inject({ method: 'GET', url: '/api/v1/nope', headers: { ...HTML, ...AUTH } });
    assert.equal(unknownApi.statusCode, 404);
    assert.equal(errorCode(unknownApi.body), 'not_found');
    const api = await s.app.inject({ method: 'GET', url: '/api/v1/services', headers: HTML });
    assert.equal(api.statusCode, 401);
    const allowed = await s.app.inject({ method: 'GET', url: '/api/v1/services', headers: AUTH });
    assert.equal(allowed.statusCode, 200);
    assert.deepEqual(JSON.parse(allowed.body), { services: [] });
    assert.equal((await s.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });

  it('a non-HTML request for a path the UI does not have is no route, and guarded', async () => {
    const anon = await s.app.inject({ method: 'GET', url: '/nope', headers: { accept: 'application/json' } });
    assert.equal(anon.statusCode, 401);
    const res = await s.app.inject({ method: 'GET', url: '/nope', headers: { accept: 'application/json', ...AUTH } });
    assert.equal(res.statusCode, 404);
    assert.equal(errorCode(res.body), 'not_found');
    const post = await s.app.inject({ method: 'POST', url: '/', headers: { ...HTML, ...AUTH } });
    assert.equal(post.statusCode, 404);
  });

  it('never serves a file outside its directory', async () => {
    for (const url of ['/../package.json', '/assets/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd']) {
      const res = await s.app.inject({ method: 'GET', url, headers: { ...HTML, ...AUTH } });
      assert.ok(res.statusCode === 404 || res.body === INDEX, `${url}: ${res.statusCode} ${res.body.slice(0, 80)}`);
      assert.doesNotMatch(res.body, /root:|"name"/, url);
    }
  });
});

describe('web UI, not built', () => {
  let s: Served;
  let ui: string;
  before(async () => {
    ui = join(tempDir('lt-ui-missing-'), 'dist', 'ui');
    s = await serve(ui);
  });
  after(async () => {
    await close(s);
  });

  it('answers an HTML request with a page saying how to build the UI', async () => {
    for (const url of ['/', '/traces/abc']) {
      const res = await s.app.inject({ method: 'GET', url, headers: HTML });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, /npm run build/);
    }
    const json = await s.app.inject({ method: 'GET', url: '/', headers: { accept: 'application/json' } });
    assert.equal(json.statusCode, 404);
    assert.equal(errorCode(json.body), 'not_found');
  });

  it('picks the build up once it appears, without a restart', async () => {
    mkdirSync(ui, { recursive: true });
    writeFileSync(join(ui, 'index.html'), INDEX);
    const res = await s.app.inject({ method: 'GET', url: '/', headers: HTML });
    assert.equal(res.body, INDEX);
  });
});

describe('serve flags for the UI', () => {
  it('--ui <dir> overrides, --no-ui turns it off, the default is the web package build', () => {
    assert.equal(parseServeFlags({ ui: 'some/dir' }).uiDir, join(process.cwd(), 'some/dir'));
    assert.equal(parseServeFlags({ ui: false }).uiDir, false);
    const dflt = parseServeFlags({}).uiDir;
    assert.equal(dflt, locateUiDir());
    assert.match(String(dflt), /web[\\/]dist[\\/]ui$/);
    assert.throws(() => parseServeFlags({ ui: ' ' }), (e: Error) => e instanceof ConfigError && /--ui/.test(e.message));
  });
});
