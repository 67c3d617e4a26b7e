import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { HttpTransport } from '../src/export/http-transport.js';
import { startRecordingServer } from './export-test-helpers.js';

const TRANSPORT_JS = fileURLToPath(new URL('../src/export/http-transport.js', import.meta.url));

/** A server that accepts connections and never answers. */
async function startHangingServer(): Promise<{ url: string; sockets: Socket[]; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer(() => {});
  server.on('connection', (s: Socket) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A port with nothing listening on it (taken from a server that is closed again). */
async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}/v1/traces`;
}

void test('2xx is success; content type, custom headers and body arrive as sent', async () => {
  const server = await startRecordingServer((_req, res) => res.writeHead(202).end());
  const t = new HttpTransport({ url: server.url('/v1/traces'), headers: { Authorization: 'Bearer abc', 'X-Tenant': 't1' } });
  const out = await t.send('{"hello":"world"}', 'application/json');
  assert.deepEqual(out.result, { code: 'success' });
  assert.equal(out.reply?.status, 202);
  const req = server.requests[0]!;
  assert.equal(req.method, 'POST');
  assert.equal(req.path, '/v1/traces');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['authorization'], 'Bearer abc');
  assert.equal(req.headers['x-tenant'], 't1');
  assert.equal(req.headers['content-encoding'], undefined);
  assert.equal(req.body.toString(), '{"hello":"world"}');
  t.shutdown();
  await server.close();
});

void test('gzip: compressed on the wire, identical after decoding', async () => {
  const server = await startRecordingServer();
  const t = new HttpTransport({ url: server.url('/x'), gzip: true });
  const payload = new Uint8Array(20_000).map((_, i) => i % 7);
  const out = await t.send(payload, 'application/x-protobuf');
  assert.equal(out.result.code, 'success');
  const req = server.requests[0]!;
  assert.equal(req.headers['content-encoding'], 'gzip');
  assert.equal(Number(req.headers['content-length']), req.raw.length);
  assert.ok(req.raw.length < payload.length / 5, `compressed to ${req.raw.length} bytes`);
  assert.deepEqual(new Uint8Array(req.body), payload);
  t.shutdown();
  await server.close();
});

void test('status classification: retryable 429/502/503/504 with Retry-After, other non-2xx failed', async () => {
  const plan: [number, Record<string, string>, string][] = [
    [429, { 'retry-after': '2' }, 'slow down'],
    [503, { 'retry-after': new Date(Date.now() + 5000).toUTCString() }, ''],
    [502, {}, ''],
    [504, { 'retry-after': 'garbage' }, ''],
    [400, {}, '{"error":"bad span"}'],
    [401, {}, ''],
    [404, {}, ''],
    [413, {}, ''],
    [500, {}, ''],
    [301, { location: '/elsewhere' }, ''],
  ];
  const server = await startRecordingServer((_req, res, i) => {
    const [status, headers, body] = plan[i]!;
    res.writeHead(status, headers).end(body);
  });
  const t = new HttpTransport({ url: server.url('/v1/traces') });
  const results = [];
  for (let i = 0; i < plan.length; i++) results.push((await t.send('{}', 'application/json')).result);
  const codes = results.map((r) => r.code);
  assert.deepEqual(codes, ['retryable', 'retryable', 'retryable', 'retryable', 'failed', 'failed', 'failed', 'failed', 'failed', 'failed']);
  const r0 = results[0]!;
  assert.ok(r0.code === 'retryable' && r0.retryAfterMs === 2000);
  assert.match(r0.code === 'retryable' ? r0.error.message : '', /HTTP 429: slow down/);
  const r1 = results[1]!;
  assert.ok(r1.code === 'retryable' && r1.retryAfterMs !== undefined && r1.retryAfterMs > 3000 && r1.retryAfterMs <= 5000, JSON.stringify(r1));
  assert.ok(results[2]!.code === 'retryable' && results[2]!.retryAfterMs === undefined);
  assert.ok(results[3]!.code === 'retryable' && results[3]!.retryAfterMs === undefined);
  assert.match(results[4]!.code === 'failed' ? results[4]!.error.message : '', /HTTP 400: \{"error":"bad span"\}/);
  t.shutdown();
  await server.close();
});

void test('keep-alive: consecutive requests share one connection', async () => {
  const server = await startRecordingServer();
  const t = new HttpTransport({ url: server.url('/v1/traces') });
  for (let i = 0; i < 5; i++) await t.send('{}', 'application/json');
  assert.equal(server.requests.length, 5);
  for (const r of server.requests) assert.equal(r.headers['connection'], 'keep-alive');
  assert.equal(server.connections(), 1);
  t.shutdown();
  await server.close();
});

void test('connection refused is retryable and names the endpoint', async () => {
  const url = await refusedUrl();
  const t = new HttpTransport({ url, timeoutMs: 2000 });
  const out = await t.send('{}', 'application/json');
  assert.equal(out.result.code, 'retryable');
  assert.equal(out.reply, undefined);
  assert.match(out.result.code === 'retryable' ? out.result.error.message : '', /ECONNREFUSED/);
  assert.match(out.result.code === 'retryable' ? out.result.error.message : '', /127\.0\.0\.1/);
  t.shutdown();
});

void test('a server that never answers: retryable after the timeout, not later', async () => {
  const hang = await startHangingServer();
  const t = new HttpTransport({ url: hang.url, timeoutMs: 150 });
  const t0 = Date.now();
  const out = await t.send('{}', 'application/json');
  const took = Date.now() - t0;
  assert.equal(out.result.code, 'retryable');
  assert.match(out.result.code === 'retryable' ? out.result.error.message : '', /within 150 ms/);
  // The upper bound only says the timeout ended it (the server never answers).
  assert.ok(took >= 140 && took < 60_000, `took ${took} ms`);
  t.shutdown();
  await hang.close();
});

void test('an answer cut off mid-body, or stalled mid-body, is retryable', async () => {
  const server = await startRecordingServer((_r, res, i) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('{"partial');
    // First request: the server dies mid-answer. Second: it stalls forever.
    if (i === 0) setTimeout(() => res.socket?.destroy(), 20);
  });
  const t = new HttpTransport({ url: server.url('/v1/traces'), timeoutMs: 300 });
  const cut = await t.send('{}', 'application/json');
  assert.equal(cut.result.code, 'retryable');
  const t0 = Date.now();
  const stalled = await t.send('{}', 'application/json');
  assert.equal(stalled.result.code, 'retryable');
  assert.ok(Date.now() - t0 < 60_000, 'the 300 ms timeout ended the stalled answer');
  t.shutdown();
  await server.close();
});

void test('bad configuration is rejected at construction', () => {
  assert.throws(() => new HttpTransport({ url: 'ftp://example.com/x' }), TypeError);
  assert.throws(() => new HttpTransport({ url: 'not a url' }), TypeError);
  assert.throws(() => new HttpTransport({ url: 'http://127.0.0.1:1/x', timeoutMs: 0 }), RangeError);
});

/** Runs `body` in a child node process with `HttpTransport` in scope; resolves with exit code and time. */
function runChild(body: string, env: Record<string, string>): Promise<{ code: number | null; ms: number; stderr: string }> {
  const script = `import { HttpTransport } from ${JSON.stringify(TRANSPORT_JS)};\n${body}`;
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, ms: Date.now() - t0, stderr });
    });
  });
}

void test('idle keep-alive sockets do not keep a finished process alive', async () => {
  // The server keeps idle connections open for a minute: only the client's unref'd socket lets it exit.
  const server = await startRecordingServer();
  const child = await runChild(
    `const t = new HttpTransport({ url: process.env.URL });
     const out = await t.send('{}', 'application/json');
     if (out.result.code !== 'success') process.exit(3);`,
    { URL: server.url('/v1/traces') },
  );
  assert.equal(child.code, 0, child.stderr);
  assert.ok(child.ms < 30_000, `child took ${child.ms} ms`);
  assert.equal(server.requests.length, 1);
  await server.close();
});

void test('a request to a never-answering endpoint holds the process no longer than its timeout', async () => {
  const hang = await startHangingServer();
  const child = await runChild(
    `const t = new HttpTransport({ url: process.env.URL, timeoutMs: 300 });
     const out = await t.send('{}', 'application/json');
     process.exitCode = out.result.code === 'retryable' ? 0 : 3;`,
    { URL: hang.url },
  );
  assert.equal(child.code, 0, child.stderr);
  assert.ok(child.ms >= 300 && child.ms < 30_000, `child took ${child.ms} ms`);
  await hang.close();
});
