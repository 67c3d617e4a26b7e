import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { rm } from 'node:fs/promises';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { openEmbeddedStore } from '@linktrace/storage';
import { ConfigError, DEFAULT_LIMITS, parseDuration, parseSize } from '../src/config.js';
import { parseServeFlags } from '../src/cli/serve.js';
import { get, post, tempDir } from './ingest-helpers.js';
import { exitWithin, runCli, startServe, type ServerProcess } from './serve-helpers.js';

describe('serve flags', () => {
  it('parses durations, sizes and numbers, with defaults', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('2w'), 1_209_600_000);
    assert.equal(parseSize('4mb'), 4 * 1024 * 1024);
    assert.equal(parseSize('512K'), 512 * 1024);
    assert.equal(parseSize('1000'), 1000);
    const o = parseServeFlags({});
    assert.equal(o.port, 4318);
    assert.equal(o.host, '127.0.0.1');
    assert.match(o.dataDir, /linktrace-data$/);
    assert.equal(o.retentionMs, 7 * 86_400_000);
    assert.equal(o.checkDelayMs, 30_000);
    assert.equal(o.token, undefined);
    assert.deepEqual(o.limits, DEFAULT_LIMITS);
    const p = parseServeFlags({ port: '0', maxSpans: '50', maxRequestSize: '1mb', maxBacklog: '1000' }, { LINKTRACE_TOKEN: 'from-env' });
    assert.equal(p.port, 0);
    assert.equal(p.limits.maxSpansPerRequest, 50);
    assert.equal(p.limits.maxRequestBytes, 1024 * 1024);
    assert.equal(p.pipeline.maxBacklogSpans, 1000);
    assert.equal(p.token, 'from-env');
    assert.equal(parseServeFlags({ token: 'flag' }, { LINKTRACE_TOKEN: 'env' }).token, 'flag');
    // 0 and off keep data forever (retentionMs 0: no retention job).
    assert.equal(parseServeFlags({ retention: '0' }).retentionMs, 0);
    assert.equal(parseServeFlags({ retention: 'off' }).retentionMs, 0);
    assert.equal(parseServeFlags({ retention: ' OFF ' }).retentionMs, 0);
    assert.equal(parseServeFlags({ retention: '36h' }).retentionMs, 36 * 3_600_000);
    assert.deepEqual(o.timeouts, { headerMs: 30_000, bodyMs: 60_000, idleMs: 72_000 });
    assert.deepEqual(parseServeFlags({ headerTimeout: '5s', bodyTimeout: '20s', idleTimeout: '1m' }).timeouts, { headerMs: 5000, bodyMs: 20_000, idleMs: 60_000 });
  });

  it('rejects bad values with a message naming the flag', () => {
    const bad: [Parameters<typeof parseServeFlags>[0], RegExp][] = [
      [{ port: '65536' }, /--port/],
      [{ port: 'http' }, /--port/],
      [{ port: '-1' }, /--port/],
      [{ retention: '7x' }, /--retention: "7x" is not a duration/],
      [{ retention: '0d' }, /--retention: .*\(0 or off keeps data forever\)/],
      [{ retention: 'never' }, /--retention: "never" is not a duration/],
      [{ retention: '7' }, /--retention/],
      [{ checkDelay: '' }, /--check-delay/],
      [{ checkDelay: '-30s' }, /--check-delay/],
      [{ maxRequestSize: 'big' }, /--max-request-size/],
      [{ maxSpans: '0' }, /--max-spans/],
      [{ maxAttributes: '1.5' }, /--max-attributes/],
      [{ token: 'has space' }, /--token/],
      [{ token: '' }, /--token/],
      [{ host: ' ' }, /--host/],
      [{ headerTimeout: '0s' }, /--header-timeout/],
      [{ headerTimeout: '2m' }, /--header-timeout: must not be longer than --body-timeout/],
      [{ bodyTimeout: 'slow' }, /--body-timeout/],
      [{ idleTimeout: '-1s' }, /--idle-timeout/],
    ];
    for (const [flags, message] of bad) assert.throws(() => parseServeFlags(flags), (e: unknown) => e instanceof ConfigError && message.test(e.message), JSON.stringify(flags));
  });
});

describe('linktrace serve (child process)', () => {
  it('bad flags: a clear message on stderr and exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['serve', '--port', '99999'], /--port: "99999" is not a whole number from 0 to 65535/],
      [['serve', '--retention', '7x'], /--retention: "7x" is not a duration/],
      [['serve', '--check-delay', 'soon'], /--check-delay/],
      [['serve', '--bogus'], /unknown option '--bogus'/],
      [['serve', '--port'], /argument missing/],
    ];
    for (const [args, message] of cases) {
      const proc = runCli(args);
      const exit = await exitWithin(proc, 15_000);
      assert.equal(exit.code, 2, `${args.join(' ')}: ${proc.stderr()}`);
      assert.match(proc.stderr(), message, args.join(' '));
      assert.equal(proc.stdout(), '', 'nothing on stdout');
    }
  });

  it('starts, prints its URLs, takes spans with the token, and stops cleanly on SIGTERM and SIGINT (exit 0, spans stored)', async () => {
    const dataDir = await tempDir();
    try {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        const server = await startServe(['--data', dataDir, '--token', 'tok', '--retention', '1d', '--check-delay', '5s']);
        try {
          const out = server.stdout();
          assert.match(out, /OTLP\/HTTP\s+POST http:\/\/127\.0\.0\.1:\d+\/v1\/traces/);
          assert.match(out, /Zipkin\s+POST http:\/\/127\.0\.0\.1:\d+\/api\/v2\/spans/);
          assert.match(out, /query API/);
          assert.match(out, /query API\s+http:\/\/127\.0\.0\.1:\d+\/api\/v2\//);
          assert.ok(out.includes(dataDir));
          const health = await get(`${server.url}/healthz`);
          assert.equal(health.status, 200, health.body.toString());
          assert.equal((health.json() as { status: string }).status, 'ok');
          const spans: Span[] = [
            {
              traceId: (signal === 'SIGTERM' ? 'a' : 'b').repeat(32),
              spanId: '1'.repeat(16),
              service: 'cli-test',
              name: 'op',
              kind: 'server',
              startUs: Date.now() * 1000,
              durationUs: 10,
              status: { code: 'ok' },
              attributes: {},
              events: [],
              links: [],
            },
          ];
          const body = JSON.stringify(encodeNativeJson(spans));
          assert.equal((await post(`${server.url}/api/v1/spans`, body, { 'content-type': 'application/json' })).status, 401);
          const accepted = await post(`${server.url}/api/v1/spans`, body, { 'content-type': 'application/json', authorization: 'Bearer tok' });
          assert.equal(accepted.status, 200, accepted.body.toString());
          // The query API is served by the same process, behind the same token.
          const traceUrl = `${server.url}/api/v2/trace/${spans[0]!.traceId}`;
          assert.equal((await get(traceUrl)).status, 401);
          let found: unknown[] = [];
          for (let attempt = 0; attempt < 50 && found.length === 0; attempt++) {
            const answer = await get(traceUrl, { authorization: 'Bearer tok' });
            if (answer.status === 200) found = answer.json() as unknown[];
            else await new Promise((resolve) => setTimeout(resolve, 100));
          }
          assert.equal(found.length, 1, 'the stored span is found through the Zipkin read API');
          server.child.kill(signal);
          const exit = await exitWithin(server, 20_000);
          assert.equal(exit.code, 0, `${signal}: ${server.stderr()}`);
          assert.match(server.stdout(), new RegExp(`${signal}: shutting down[\\s\\S]*stopped`), server.stdout());
        } finally {
          server.kill();
        }
      }
      const store = await openEmbeddedStore({ dataDir });
      try {
        assert.equal((await store.getTrace('a'.repeat(32))).length, 1);
        assert.equal((await store.getTrace('b'.repeat(32))).length, 1);
      } finally {
        await store.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('the retention job removes what ARRIVED longer than --retention ago, whatever the spans\' own times, soon after start', async () => {
    const dataDir = await tempDir();
    let server: ServerProcess | undefined;
    try {
      const span = (traceChar: string, ageMs: number): Span => ({
        traceId: traceChar.repeat(32),
        spanId: '2'.repeat(16),
        service: 'retention-test',
        name: 'op',
        kind: 'internal',
        startUs: (Date.now() - ageMs) * 1000,
        durationUs: 1,
        status: { code: 'unset' },
        attributes: {},
        events: [],
        links: [],
      });
      // A span that looks fresh but arrived three hours ago (written with the store's clock set back),
      // and one recorded a year ago that arrives now (an import).
      const earlier = await openEmbeddedStore({ dataDir, clock: () => Date.now() - 3 * 3_600_000 });
      await earlier.writeSpans([span('c', 60_000)]);
      await earlier.close();
      const now = await openEmbeddedStore({ dataDir });
      await now.writeSpans([span('d', 365 * 86_400_000)]);
      await now.close();
      server = await startServe(['--data', dataDir, '--retention', '2h']);
      const deadline = Date.now() + 15_000;
      while (!/retention removed/.test(server.stdout()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(server.stdout(), /retention removed 1 span records and 0 findings \(arrived before \d{4}-/);
      server.child.kill('SIGTERM');
      assert.equal((await exitWithin(server, 20_000)).code, 0);
      const store = await openEmbeddedStore({ dataDir });
      try {
        assert.deepEqual(await store.getTrace('c'.repeat(32)), []);
        assert.equal((await store.getTrace('d'.repeat(32))).length, 1);
      } finally {
        await store.close();
      }
    } finally {
      server?.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a port in use: a message and exit code 1', async () => {
    const dataDir = await tempDir();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const proc = runCli(['serve', '--port', String(port), '--data', dataDir]);
      const exit = await exitWithin(proc, 20_000);
      assert.equal(exit.code, 1);
      assert.match(proc.stderr(), /could not start: .*EADDRINUSE/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
