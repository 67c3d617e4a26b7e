/**
 * Serves the built web UI at `/`: its files as they are, and `index.html` for any other GET that
 * asks for HTML (a single-page app routes in the browser, so `/traces/…` must load it too). The
 * API's prefixes (`/api/`, `/v1/`, `/healthz`, `/metrics`) never fall back to it.
 *
 * The UI is static and public: with a token set, the browser loads the page without one and the
 * page then calls the (still guarded) API with it. Requests the UI does not answer (a file it does
 * not have, a non-HTML request) stay guarded, so unknown paths are not discoverable without the
 * token. Hashed assets (`assets/name-<hash>.js`) are cached for good; everything else revalidates.
 * While the UI is not built, an HTML request gets a short page saying how to build it.
 */
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

export interface UiOptions {
  /** The directory holding `index.html` and `assets/`. */
  dir: string;
}

const RESERVED = ['/api', '/v1', '/healthz', '/metrics'];
/** Vite names built assets `name-<hash>.<ext>` under `assets/`. */
const HASHED_ASSET = /^\/assets\/.+-[\w-]{8,}\.[a-z0-9]+$/i;

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';

export const UI_NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Linktrace</title></head>
<body>
<h1>Linktrace</h1>
<p>The web UI is not built. Build it with <code>npm run build</code> at the repository root, then reload this page.</p>
<p>The API answers meanwhile: <a href="/api/v1/services">/api/v1/services</a>, <a href="/healthz">/healthz</a>.</p>
</body></html>
`;

function pathOf(request: FastifyRequest): string | undefined {
  const raw = request.url.split('?')[0] ?? '/';
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function isReserved(path: string): boolean {
  return RESERVED.some((p) => path === p || path.startsWith(`${p}/`));
}

function acceptsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

/** The file `path` names inside `root`, when it is a regular file there (never outside it). */
function fileIn(root: string, path: string): string | undefined {
  if (path.includes('\0')) return undefined;
  const file = resolve(root, `.${path}`);
  if (!file.startsWith(root + sep)) return undefined;
  try {
    return statSync(file).isFile() ? file.slice(root.length + 1) : undefined;
  } catch {
    return undefined;
  }
}

export async function registerUiRoutes(app: FastifyInstance, options: UiOptions): Promise<void> {
  const root = resolve(options.dir);
  // Files are always sent with `root` given per call: the directory may appear (npm run build) after start.
  await app.register(fastifyStatic, { root: existsSync(root) ? root : tmpdir(), serve: false });

  /** Whether the UI answers this request (then it needs no token). */
  const answers = (request: FastifyRequest): boolean => {
    const path = pathOf(request);
    if (path === undefined || isReserved(path)) return false;
    return acceptsHtml(request) || fileIn(root, path) !== undefined;
  };

  const send = (reply: FastifyReply, file: string, cache: string): FastifyReply =>
    reply.header('cache-control', cache).sendFile(file, root, { cacheControl: false });

  app.get('/*', { config: { public: answers } }, (request, reply) => {
    const path = pathOf(request);
    if (path === undefined || isReserved(path)) throw new ApiError('not_found', `no route GET ${request.url.split('?')[0]!.slice(0, 200)}`);
    const built = existsSync(resolve(root, 'index.html'));
    const file = built ? fileIn(root, path) : undefined;
    if (file !== undefined) return send(reply, file, file !== 'index.html' && HASHED_ASSET.test(path) ? IMMUTABLE : REVALIDATE);
    if (!acceptsHtml(request)) throw new ApiError('not_found', `no route GET ${request.url.split('?')[0]!.slice(0, 200)}`);
    if (!built) return reply.header('cache-control', REVALIDATE).type('text/html; charset=utf-8').send(UI_NOT_BUILT_PAGE);
    return send(reply, 'index.html', REVALIDATE);
  });
}
