import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.js';

// Fixtures are plain .mjs/.cjs files read from the source tree (tsc does not copy them), inside the
// repository so that `@linktrace/sdk/register` resolves through the workspace's node_modules.
const APPS = fileURLToPath(new URL('../../test/fixtures/apps/', import.meta.url));

interface Child {
  firstLine: Promise<string>;
  exit: Promise<{ code: number | null; stderr: string; stdout: string }>;
}

function run(args: string[], env: Record<string, string>): Child {
  const clean = { ...process.env };
  for (const key of Object.keys(clean)) {
    if (key.startsWith('LINKTRACE_') || key.startsWith('OTEL_') || key === 'NODE_OPTIONS' || key === 'NODE_TEST_CONTEXT' || key === 'TRACEPARENT') delete clean[key];
  }
  const child = spawn(process.execPath, args, { cwd: APPS, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let resolveLine!: (line: string) => void;
  const firstLine = new Promise<string>((resolve) => (resolveLine = resolve));
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    if (stdout.includes('\n')) resolveLine(stdout.slice(0, stdout.indexOf('\n')));
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const exit = new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveLine('');
      resolve({ code, stderr, stdout });
    });
  });
  return { firstLine, exit };
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** The request tree of front-and-down: front server → (http client → down server, fetch client → down server). */
function assertTree(spans: Span[], service: string): void {
  assert.equal(spans.length, 5, spans.map((s) => `${s.kind}:${s.name}:${s.rpcid}`).join(', '));
  const front = spans.find((s) => s.kind === 'server' && s.parentSpanId === undefined);
  assert.ok(front, 'a root server span');
  assert.equal(front.rpcid, '0');
  assert.equal(front.name, 'GET');
  assert.equal(front.attributes['url.path'], '/front');
  const clients = spans.filter((s) => s.kind === 'client').sort((a, b) => a.rpcid!.localeCompare(b.rpcid!));
  assert.deepEqual(clients.map((s) => [s.parentSpanId, s.rpcid, s.attributes['url.path'], s.scope?.name]), [
    [front.spanId, '0.1', '/via-http', '@linktrace/sdk/instrumentations/http'],
    [front.spanId, '0.2', '/via-fetch', '@linktrace/sdk/instrumentations/fetch'],
  ]);
  for (const client of clients) {
    // Headers propagated: the downstream server span is a child of the client span, same position.
    const down = spans.find((s) => s.kind === 'server' && s.parentSpanId === client.spanId);
    assert.ok(down, `a server span under ${client.attributes['url.path']}`);
    assert.equal(down.rpcid, client.rpcid);
    assert.equal(down.attributes['url.path'], client.attributes['url.path']);
    assert.equal(client.attributes['http.response.status_code'], 200);
  }
  for (const span of spans) {
    assert.equal(span.traceId, front.traceId);
    assert.equal(span.service, service);
  }
}

describe('@linktrace/sdk/register in real processes', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(() => receiver.close());

  it('ESM app with --import: server → http and fetch clients → downstream servers', async () => {
    receiver.spans.length = 0;
    const child = run(['--import', '@linktrace/sdk/register', 'front-and-down.mjs'], {
      OTEL_SERVICE_NAME: 'esm-app',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    });
    const line = await child.firstLine;
    if (!line.startsWith('{')) assert.fail(`app did not start: ${(await child.exit).stderr}`);
    const { port } = JSON.parse(line) as { port: number };
    assert.equal(await get(`http://127.0.0.1:${port}/front`), '["down/via-http","down/via-fetch"]');
    const exit = await child.exit;
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal(exit.stderr, '');
    assertTree(await receiver.waitFor((s) => s.length >= 5, 'five spans'), 'esm-app');
  });

  it('CommonJS app with -r: the same tree, token sent, service from LINKTRACE_SERVICE', async () => {
    receiver.spans.length = 0;
    receiver.authorizations.length = 0;
    const child = run(['-r', '@linktrace/sdk/register', 'front-and-down.cjs'], {
      LINKTRACE_SERVICE: 'cjs-app',
      OTEL_SERVICE_NAME: 'loses-to-linktrace-service',
      LINKTRACE_ENDPOINT: `${receiver.url}/`,
      LINKTRACE_TOKEN: 'sekret',
    });
    const line = await child.firstLine;
    if (!line.startsWith('{')) assert.fail(`app did not start: ${(await child.exit).stderr}`);
    const { port } = JSON.parse(line) as { port: number };
    assert.equal(await get(`http://127.0.0.1:${port}/front`), '["down/via-http","down/via-fetch"]');
    const exit = await child.exit;
    assert.equal(exit.code, 0, exit.stderr);
    assertTree(await receiver.waitFor((s) => s.length >= 5, 'five spans'), 'cjs-app');
    assert.ok(receiver.authorizations.length > 0);
    for (const auth of receiver.authorizations) assert.equal(auth, 'Bearer sekret');
  });

  it("a plain app that calls downstream from req.on('end') after a multi-chunk POST keeps one trace", async () => {
    receiver.spans.length = 0;
    const child = run(['--import', '@linktrace/sdk/register', 'post-body-then-down.mjs'], {
      OTEL_SERVICE_NAME: 'body-app',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    });
    const line = await child.firstLine;
    if (!line.startsWith('{')) assert.fail(`app did not start: ${(await child.exit).stderr}`);
    const { port } = JSON.parse(line) as { port: number };
    const body = Buffer.alloc(1 << 20, 'x');
    const reply = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/front', method: 'POST' }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.deepEqual(JSON.parse(reply), { size: 1 << 20, severalChunks: true, body: 'down/after-end' });
    const exit = await child.exit;
    assert.equal(exit.code, 0, exit.stderr);
    const spans = await receiver.waitFor((s) => s.length >= 3, 'three spans');
    const front = spans.find((s) => s.kind === 'server' && s.attributes['url.path'] === '/front');
    const client = spans.find((s) => s.kind === 'client');
    const down = spans.find((s) => s.kind === 'server' && s.attributes['url.path'] === '/after-end');
    assert.ok(front && client && down, spans.map((s) => `${s.kind}:${String(s.attributes['url.path'])}`).join(', '));
    assert.equal(client.traceId, front.traceId, 'the call made in req.on(end) started a new trace');
    assert.equal(client.parentSpanId, front.spanId);
    assert.equal(client.rpcid, '0.1');
    assert.equal(down.traceId, front.traceId);
    assert.equal(down.parentSpanId, client.spanId);
  });

  it('TRACEPARENT from the environment is the parent of the root spans; bad values warn once and fall back', async () => {
    receiver.spans.length = 0;
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parentId = 'b7ad6b7169203331';
    const child = run(['--import', '@linktrace/sdk/register', 'script-with-parent.mjs'], {
      LINKTRACE_SERVICE: 'script',
      LINKTRACE_ENDPOINT: receiver.url,
      TRACEPARENT: `00-${traceId}-${parentId}-01`,
      LINKTRACE_CAPTURE_VALUES: 'maybe',
      LINKTRACE_INSTRUMENTATIONS: 'http,nonsense',
      OTEL_TRACES_SAMPLER: 'sometimes',
    });
    const exit = await child.exit;
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal(exit.stdout, 'script done\n');
    const warnings = exit.stderr.trim().split('\n');
    assert.equal(warnings.length, 3, exit.stderr);
    assert.match(exit.stderr, /LINKTRACE_CAPTURE_VALUES="maybe" is not true or false; using false/);
    assert.match(exit.stderr, /unknown instrumentation "nonsense"/);
    assert.match(exit.stderr, /OTEL_TRACES_SAMPLER="sometimes" is not supported/);
    const spans = await receiver.waitFor((s) => s.length >= 2, 'client and server spans');
    const client = spans.find((s) => s.kind === 'client')!;
    const server = spans.find((s) => s.kind === 'server')!;
    assert.equal(client.traceId, traceId);
    assert.equal(client.parentSpanId, parentId);
    assert.equal(server.parentSpanId, client.spanId);
  });

  it('LINKTRACE_DISABLED=true: the app runs untouched and nothing is sent', async () => {
    receiver.spans.length = 0;
    const child = run(['-r', '@linktrace/sdk/register', 'script-with-parent.mjs', '3'], {
      LINKTRACE_DISABLED: 'true',
      LINKTRACE_ENDPOINT: receiver.url,
    });
    const exit = await child.exit;
    assert.equal(exit.code, 3);
    assert.equal(exit.stdout, 'script done\n');
    assert.equal(exit.stderr, '');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(receiver.spans.length, 0);
  });
});
