import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { generateLogs, scoreLinks } from '@linktrace/analysis/testing';
import type { LogRecord } from '@linktrace/analysis';
import { inferCommand } from '../src/cli/infer.js';
import type { CliIo } from '../src/cli/cli-io.js';
import { detectFormat } from '../src/import/access-log/access-log-format.js';
import { parseEnvoyLine } from '../src/import/access-log/envoy-line.js';
import { parseNginxLine, parseTimeLocal } from '../src/import/access-log/nginx-line.js';
import { parseSdkJsonLine } from '../src/import/access-log/sdk-json-line.js';
import { Capture, tempDir } from './query-test-support.js';
import { exitWithin, runCli, startServe } from './serve-helpers.js';

const dir = tempDir('lt-infer-');
after(() => rmSync(dir, { recursive: true, force: true }));

function io(): CliIo & { out: Capture; err: Capture } {
  const out = new Capture();
  const err = new Capture();
  return { stdout: out, stderr: err, out, err, setExitCode: () => {}, now: () => 0, env: {} };
}

function toLine(r: LogRecord): string {
  const o: Record<string, unknown> = { direction: r.direction, service: r.service, instance: r.instance, endpoint: r.endpoint, start: r.startUs, end: r.endUs };
  for (const k of ['remote', 'local', 'peer', 'status'] as const) if (r[k] !== undefined) o[k] = r[k];
  return JSON.stringify(o);
}

function linksOf(text: string): Map<number, { parent: number | null; confidence: number }> {
  const m = new Map<number, { parent: number | null; confidence: number }>();
  for (const line of text.trim().split('\n')) {
    const o = JSON.parse(line) as { record: number; parent: number | null; confidence: number };
    assert.deepStrictEqual(Object.keys(o), ['record', 'parent', 'confidence']);
    m.set(o.record, o);
  }
  return m;
}

describe('access-log importers', () => {
  it('nginx combined + $request_time $upstream_addr: the served request and the upstream call', () => {
    const line = '10.0.0.5 - - [07/Dec/2026:20:00:01 +0100] "GET /shops/42?x=1 HTTP/1.1" 502 12 "-" "curl/8.0" 0.250 10.0.0.9:8080 0.200 1796670001.500';
    const res = parseNginxLine(line, { service: 'edge', instance: '10.0.0.1:80' });
    assert.ok('records' in res);
    const [inRec, out] = res.records;
    assert.deepStrictEqual(inRec, { direction: 'in', service: 'edge', instance: '10.0.0.1:80', endpoint: 'GET /shops/42', startUs: 1796670001_500_000 - 250_000, endUs: 1796670001_500_000, status: 502 });
    assert.equal(out?.direction, 'out');
    assert.equal(out?.remote, '10.0.0.9:8080');
    assert.equal(out!.endUs - out!.startUs, 200_000);
    // Without $msec the end is $time_local (whole seconds, with its zone).
    assert.equal(parseTimeLocal('07/Dec/2026:20:00:01 +0100'), Date.UTC(2026, 11, 7, 19, 0, 1) * 1000);
    const noUpstream = parseNginxLine('10.0.0.5 - - [07/Dec/2026:20:00:01 +0000] "GET / HTTP/1.1" 200 12 "-" "-" 0.001 -', { service: 'e', instance: 'i:1' });
    assert.ok('records' in noUpstream && noUpstream.records.length === 1);
    assert.ok('problem' in parseNginxLine('GET / 200', { service: 'e', instance: 'i:1' }));
  });

  it("Envoy's default format: the request and the forwarded call to %UPSTREAM_HOST%", () => {
    const line = '[2026-12-07T20:00:01.310Z] "POST /api/orders HTTP/1.1" 201 - 102 45 12 9 "-" "curl/8.0" "7b1c-4f" "orders" "10.0.0.7:9000"';
    const res = parseEnvoyLine(line, { service: 'mesh', instance: '10.0.0.2:15001' });
    assert.ok('records' in res);
    const start = Date.parse('2026-12-07T20:00:01.310Z') * 1000;
    assert.deepStrictEqual(res.records[0], { direction: 'in', service: 'mesh', instance: '10.0.0.2:15001', endpoint: 'POST /api/orders', startUs: start, endUs: start + 12_000, status: 201 });
    assert.deepStrictEqual(res.records[1], { direction: 'out', service: 'mesh', instance: '10.0.0.2:15001', endpoint: 'POST /api/orders', startUs: start + 3000, endUs: start + 12_000, remote: '10.0.0.7:9000', status: 201 });
    assert.ok('problem' in parseEnvoyLine('[nope', { service: 'm', instance: 'i:1' }));
  });

  it('SDK logger JSON lines: a request-completed record is an `in` record; a plain message is skipped', () => {
    const line = JSON.stringify({ level: 30, time: 1796670001500, name: 'shop-api', hostname: '10.0.0.3', port: 3000, req: { method: 'GET', url: '/shops/42', remoteAddress: '10.0.0.8', remotePort: 51234 }, res: { statusCode: 200 }, responseTime: 12.5, msg: 'request completed', trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16), rpcid: '0.1' });
    const res = parseSdkJsonLine(line, { service: 'x', instance: 'y:1' });
    assert.ok('records' in res);
    assert.deepStrictEqual(res.records[0], { direction: 'in', service: 'shop-api', instance: '10.0.0.3:3000', endpoint: 'GET /shops/42', startUs: 1796670001_500_000 - 12_500, endUs: 1796670001_500_000, status: 200, remote: '10.0.0.8:51234' });
    assert.ok('skip' in parseSdkJsonLine(JSON.stringify({ level: 30, time: 1, msg: 'shop saved', trace_id: 'a'.repeat(32) }), { service: 'x', instance: 'y:1' }));
    assert.ok('problem' in parseSdkJsonLine('{"req":', { service: 'x', instance: 'y:1' }));
  });

  it('detects the format from the first line', () => {
    assert.equal(detectFormat('{"direction":"in","service":"a"}'), 'jsonl');
    assert.equal(detectFormat('{"level":30,"msg":"x"}'), 'sdk');
    assert.equal(detectFormat('[2026-12-07T20:00:01.310Z] "GET / HTTP/1.1" 200'), 'envoy');
    assert.equal(detectFormat('10.0.0.5 - - [07/Dec/2026:20:00:01 +0000] "GET / HTTP/1.1"'), 'nginx');
  });
});

describe('linktrace infer', () => {
  it('writes one line per `in` record with parent and confidence, and reports bad lines by number', async () => {
    const g = generateLogs({ seed: 5, concurrency: 0.2, skewUs: 1000, peers: true, traces: 150 });
    const lines = g.records.map(toLine);
    // Bad input, each counted and named: not JSON, end before start, an unknown field, a blank line.
    lines.splice(3, 0, 'not json at all');
    const file = join(dir, 'logs.jsonl');
    const truth = [...g.truth];
    truth.splice(3, 0, undefined);
    const shifted = truth.map((t) => (t === null || t === undefined ? t : t >= 3 ? t + 1 : t));
    lines.push('{"direction":"in","service":"x","instance":"10.9.9.9:1","endpoint":"e","start":20,"end":10}');
    shifted.push(undefined);
    const withUnknown = JSON.parse(lines[10]!) as Record<string, unknown>;
    withUnknown.region = 'eu';
    lines[10] = JSON.stringify(withUnknown);
    writeFileSync(file, `${lines.join('\n')}\n\n`);
    const c = io();
    const out = join(dir, 'links.jsonl');
    assert.equal(await inferCommand(file, { out }, c), 0);
    const links = linksOf(readFileSync(out, 'utf8'));
    const ins = shifted.filter((t) => t !== undefined).length;
    assert.equal(links.size, ins);
    const parent: (number | null)[] = [];
    for (const [record, l] of links) parent[record] = l.parent;
    const s = scoreLinks(shifted, parent);
    assert.ok(s.f1 >= 0.97, `F1 ${s.f1}`);
    assert.match(c.err.text, /2 malformed lines skipped/);
    assert.match(c.err.text, /line 4: not JSON/);
    assert.match(c.err.text, new RegExp(`line ${lines.length}: "end" \\(10\\) is before "start" \\(20\\)`));
    assert.match(c.err.text, /unknown fields ignored: region \(1 line\)/);
    assert.match(c.err.text, /dependency graph \(inferred\)/);
    assert.match(c.err.text, /catalog → catalog-db \(does not log\)/);
  });

  it('refuses a bad flag with exit code 2 and a missing file with 1', async () => {
    const c = io();
    assert.equal(await inferCommand(join(dir, 'logs.jsonl'), { window: 'soon' }, c), 2);
    assert.match(c.err.text, /--window/);
    assert.equal(await inferCommand(join(dir, 'nope.jsonl'), {}, c), 1);
    assert.match(c.err.text, /cannot read/);
  });

  it('streams a large file with memory bounded by the window, not the file', async () => {
    // 400 000 records over ~30 minutes of log; read as a stream, a 2 s window holds a few thousand.
    const file = join(dir, 'big.jsonl');
    const ws = createWriteStream(file);
    let chunk = '';
    for (let i = 0; i < 100_000; i++) {
      const t = 1_767_225_600_000_000 + i * 18_000;
      const port = 30000 + (i % 500);
      chunk +=
        `{"direction":"in","service":"front","instance":"10.0.0.1:80","endpoint":"GET /","start":${t},"end":${t + 9000}}\n` +
        `{"direction":"out","service":"front","instance":"10.0.0.1:80","endpoint":"GET /b","start":${t + 1000},"end":${t + 5000},"local":"10.0.0.1:${port}"}\n` +
        `{"direction":"in","service":"back","instance":"10.0.0.2:80","endpoint":"GET /b","start":${t + 1300},"end":${t + 4700},"remote":"10.0.0.1:${port}"}\n` +
        `{"direction":"in","service":"other","instance":"10.0.0.3:80","endpoint":"GET /c","start":${t + 10000},"end":${t + 12000}}\n`;
      if (chunk.length > 1 << 20) {
        if (!ws.write(chunk)) await once(ws, 'drain');
        chunk = '';
      }
    }
    ws.end(chunk);
    await once(ws, 'close');
    const c = io();
    const out = join(dir, 'big-links.jsonl');
    assert.equal(await inferCommand(file, { out, window: '2s' }, c), 0);
    assert.match(c.err.text, /400000 lines, 400000 records \(300000 in, 100000 out\)/);
    // The file is ~60 MB of text and 400 000 records; held records stay at a few seconds' worth.
    const m = /inferred: 100000 links, 200000 roots; at most (\d+) records held at once/.exec(c.err.text);
    assert.ok(m !== null, c.err.text);
    assert.ok(Number(m[1]) < 5000, `held ${m[1]}`);
    assert.equal(linksOf(readFileSync(out, 'utf8')).size, 300_000);
  });

  it('--server sends the inferred traces as spans marked linktrace.inferred to a running linktrace serve', async () => {
    const data = tempDir('lt-infer-serve-');
    const server = await startServe(['--data', data, '--check-delay', '1s']);
    try {
      const t = 1_767_225_600_000_000;
      const file = join(dir, 'small.jsonl');
      writeFileSync(
        file,
        [
          `{"direction":"in","service":"front","instance":"10.0.0.1:80","endpoint":"GET /","start":${t},"end":${t + 9000}}`,
          `{"direction":"out","service":"front","instance":"10.0.0.1:80","endpoint":"GET /b","start":${t + 1000},"end":${t + 5000},"local":"10.0.0.1:40000"}`,
          `{"direction":"in","service":"back","instance":"10.0.0.2:80","endpoint":"GET /b","start":${t + 1300},"end":${t + 4700},"remote":"10.0.0.1:40000"}`,
          `{"direction":"out","service":"front","instance":"10.0.0.1:80","endpoint":"POST /pay","start":${t + 5500},"end":${t + 8000},"peer":"payments"}`,
        ].join('\n') + '\n',
      );
      const proc = runCli(['infer', file, '--server', server.url]);
      const exit = await exitWithin(proc, 60_000);
      assert.equal(exit.code, 0, proc.stderr());
      assert.match(proc.stderr(), /sent 4 spans marked linktrace.inferred=true/);
      const links = linksOf(proc.stdout());
      assert.equal(links.get(2)?.parent, 0);
      // The spans arrive through the normal ingest route, marked, and the map draws inferred edges.
      let map: { edges: { from: string; to: string; inferred?: boolean }[] } = { edges: [] };
      for (let i = 0; i < 100 && map.edges.length < 2; i++) {
        map = (await (await fetch(`${server.url}/api/v1/service-map`)).json()) as typeof map;
        if (map.edges.length < 2) await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepStrictEqual(
        map.edges.map((e) => `${e.from}>${e.to}:${e.inferred === true}`),
        ['front>back:true', 'front>payments:true'],
      );
      const found = (await (await fetch(`${server.url}/api/v1/traces?service=back`)).json()) as { traces: { traceId: string }[] };
      assert.equal(found.traces.length, 1);
      const view = (await (await fetch(`${server.url}/api/v2/trace/${found.traces[0]!.traceId}`)).json()) as { tags?: Record<string, string> }[];
      assert.equal(view.length, 4);
      for (const s of view) assert.equal(s.tags?.['linktrace.inferred'], 'true');
    } finally {
      server.kill();
      await server.exited;
      rmSync(data, { recursive: true, force: true });
    }
  });
});
