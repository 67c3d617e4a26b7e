/**
 * Every error the server can give is in the one shape, also those Node's HTTP layer answers before a
 * route sees the request (parser refusals, 431, a missing Host, `Expect`, CONNECT). Hand-written
 * requests over raw sockets, since an HTTP client would refuse to send most of them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ERROR_CODES } from '../src/errors.js';
import { SECURITY_HEADERS } from '../src/http/security-headers.js';
import { registerUiRoutes } from '../src/ui/ui-routes.js';
import { tempDir, withApp } from './ingest-helpers.js';

interface RawAnswer {
  status: number;
  headers: string;
  body: string;
}

/** Writes `request` on a fresh connection and reads until the server closes it (or 5 s pass). */
function rawRequest(port: number, request: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      if (m === null || split < 0) return reject(new Error(`not an HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      resolve({ status: Number(m[1]), headers: text.slice(0, split), body: text.slice(split + 4) });
    });
    socket.write(request);
  });
}

function errorOf(answer: RawAnswer): { code: keyof typeof ERROR_CODES; message: string } {
  const body = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(typeof body.error?.code, 'string', answer.body);
  assert.equal(typeof body.error?.message, 'string', answer.body);
  const code = body.error?.code as keyof typeof ERROR_CODES;
  assert.ok(code in ERROR_CODES, `${code} is in the error table`);
  assert.equal(answer.status, ERROR_CODES[code].status, `${code} answers with its table status`);
  assert.match(answer.headers, /^content-type: application\/json/im);
  return { code, message: body.error?.message as string };
}

const POST = 'POST /api/v1/spans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';

const CASES: [string, string, keyof typeof ERROR_CODES, RegExp][] = [
  ['Content-Length with Transfer-Encoding', `${POST}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'bad_request', /Content-Length/],
  ['two Content-Length headers', `${POST}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`, 'bad_request', /Content-Length/],
  ['a Content-Length that is not a number', `${POST}Content-Length: 1e3\r\n\r\n{}`, 'bad_request', /HPE_INVALID_CONTENT_LENGTH/],
  ['a negative Content-Length', `${POST}Content-Length: -1\r\n\r\n{}`, 'bad_request', /Content-Length/],
  ['Transfer-Encoding: gzip', `${POST}Transfer-Encoding: gzip\r\n\r\n`, 'bad_request', /Transfer-Encoding/],
  ['a bad chunk size', `${POST}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, 'bad_request', /chunk/],
  ['headers over 16 KiB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 'headers_too_large', /headers/],
  ['a request line over 16 KiB', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 'headers_too_large', /headers/],
  ['an unknown method', 'BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n', 'bad_request', /method/],
  ['not HTTP at all', 'hello there\r\n\r\n', 'bad_request', /HPE_/],
  ['HTTP/1.1 without Host', 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n', 'bad_request', /Host/],
  ['an unsupported Expect', `${POST}Expect: teapot\r\nContent-Length: 2\r\n\r\n`, 'expectation_failed', /Expect/],
  ['CONNECT', 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example\r\n\r\n', 'bad_request', /CONNECT/],
  ['no such route', 'GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'not_found', /nope/],
  ['a method the route does not take', 'DELETE /api/v1/spans HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'not_found', /DELETE/],
  ['an unaccepted Content-Type', 'POST /api/v1/spans HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}', 'unsupported_media_type', /text\/plain/],
  ['malformed JSON', `${POST}Content-Length: 3\r\nConnection: close\r\n\r\n{x}`, 'invalid_json', /JSON/],
  ['a URL that cannot be decoded', 'GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'bad_request', /url/],
  ['a body over the limit', `${POST}Content-Length: 2000\r\nConnection: close\r\n\r\n${'x'.repeat(2000)}`, 'payload_too_large', /1024/],
];

describe('every error in the one shape (raw sockets)', () => {
  it('parser refusals, 431, Host, Expect, CONNECT, 404, 415, bad JSON and 413 answer {error:{code,message}}', async () => {
    await withApp({ limits: { maxRequestBytes: 1024 } }, async ({ app, url }) => {
      const port = Number(new URL(url).port);
      for (const [name, request, code, message] of CASES) {
        const answer = await rawRequest(port, request);
        const error = errorOf(answer);
        assert.equal(error.code, code, `${name}: ${answer.body}`);
        assert.match(error.message, message, name);
      }
      // The answers Node's layer gives are counted like the others.
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /^linktrace_http_errors_total\{code="headers_too_large"\} 2$/m);
      assert.match(metrics.body, /^linktrace_http_errors_total\{code="expectation_failed"\} 1$/m);
    });
  });
});

describe('protocol-relative paths and security headers', () => {
  it('//host and /\\host paths are refused in the error shape, never answered with the UI', async () => {
    const ui = await tempDir('lt-ui-');
    await mkdir(join(ui, 'assets'));
    await writeFile(join(ui, 'index.html'), '<!doctype html><div id="root"></div>');
    try {
      await withApp({ extraRoutes: (scope) => registerUiRoutes(scope, { dir: ui }) }, async ({ url }) => {
        const port = Number(new URL(url).port);
        for (const path of ['//evil.example/', '//evil.example/api/v1/traces/0123456789abcdef', '/\\evil.example/', '///evil.example/index.html']) {
          const answer = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nConnection: close\r\n\r\n`);
          assert.equal(errorOf(answer).code, 'bad_request', path);
          assert.doesNotMatch(answer.body, /root/, path);
        }
        // The UI itself, an API answer and an error answer all carry the headers.
        for (const [path, accept, status] of [['/', 'text/html', 200], ['/healthz', '*/*', 200], ['/nope', 'application/json', 404]] as const) {
          const res = await fetch(`${url}${path}`, { headers: { accept } });
          await res.arrayBuffer();
          assert.equal(res.status, status, path);
          for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers.get(name), value, `${path}: ${name}`);
        }
        assert.match(SECURITY_HEADERS['content-security-policy'] ?? '', /script-src 'self'(;|$)/);
      });
    } finally {
      await rm(ui, { recursive: true, force: true });
    }
  });
});
