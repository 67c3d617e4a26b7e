import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import type { TraceView } from '../src/query/trace-view-types.js';
import { openEmbeddedStore, type TraceSummary } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import type { CliIo } from '../src/cli/cli-io.js';
import { importCommand } from '../src/cli/import.js';
import { register, searchCommand } from '../src/cli/search.js';
import { searchQueryFromFlags } from '../src/cli/search-flags.js';
import { formatSearchTable } from '../src/cli/search-table.js';
import { searchParams } from '../src/cli/query-source.js';
import { traceCommand } from '../src/cli/trace.js';
import { parseNativeSearch } from '../src/query/native-search.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import { Capture, decodeFixture, readZipkinFixture, tempDir } from './query-test-support.js';

const NOW = Date.UTC(2024, 0, 1);
let dir: string;
let data: string;
before(async () => {
  dir = tempDir('lt-search-');
  data = join(dir, 'data');
  const store = await openEmbeddedStore({ dataDir: data });
  for (const f of ['skew.json', 'messaging.json', 'messaging-kafka.json']) await store.writeSpans(decodeFixture(f));
  await store.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

function io(): CliIo & { out: Capture; err: Capture; code?: number } {
  const out = new Capture(false);
  const err = new Capture(false);
  const r: CliIo & { out: Capture; err: Capture; code?: number } = { stdout: out, stderr: err, out, err, setExitCode: (c) => (r.code = c), now: () => NOW, env: {} };
  return r;
}

void test('search flags: filters as the query API, durations with units, --since/--until relative or absolute', () => {
  assert.deepEqual(
    searchQueryFromFlags(
      { service: 'api', operation: 'GET /', attr: ['a=1', 'b=x=y'], minDuration: '10ms', maxDuration: '2s', since: '1h', until: '2024-01-01T00:00:00Z', status: 'error', limit: '5' },
      NOW,
    ),
    {
      service: 'api',
      operation: 'GET /',
      attributes: { a: '1', b: 'x=y' },
      minDurationUs: 10_000,
      maxDurationUs: 2_000_000,
      startUs: (NOW - 3_600_000) * 1000,
      endUs: NOW * 1000,
      status: 'error',
      limit: 5,
    },
  );
  assert.deepEqual(searchQueryFromFlags({ since: '1700000000000000', minDuration: '1500' }, NOW), { startUs: 1_700_000_000_000_000, minDurationUs: 1500 });
  assert.deepEqual(searchQueryFromFlags({}, NOW), {});
  for (const [flags, msg] of [
    [{ attr: ['novalue'] }, /--attr "novalue" is not key=value/],
    [{ attr: ['k=1', 'k=2'] }, /twice/],
    [{ minDuration: 'fast' }, /--min-duration "fast" is not a duration/],
    [{ minDuration: '2s', maxDuration: '1s' }, /--max-duration is less than --min-duration/],
    [{ since: 'last week' }, /--since "last week" is neither a duration/],
    [{ since: '1h', until: '2h' }, /--until is before --since/],
    [{ status: 'failed' }, /--status must be one of unset, ok, error/],
    [{ limit: '0' }, /--limit must be an integer/],
    [{ limit: '3.5' }, /--limit/],
  ] as const) {
    assert.throws(() => searchQueryFromFlags(flags, NOW), msg);
  }
});

void test('the CLI query and the server query agree: searchParams is undone by the native parser', () => {
  const q = searchQueryFromFlags({ service: 's', operation: 'o p', attr: ['k=v&w', 'x='], minDuration: '1ms', maxDuration: '2ms', since: '1h', until: '30m', status: 'ok', limit: '7' }, NOW);
  const raw: Record<string, string | string[]> = {};
  for (const [k, v] of searchParams(q)) raw[k] = k in raw ? [...[raw[k]!].flat(), v] : v;
  assert.deepEqual(parseNativeSearch(raw), q);
});

void test('search table: one row per trace with start, duration, counts and root; an empty result says so', () => {
  const traces: TraceSummary[] = [
    { traceId: '1e223ff1f80f1c69', startUs: 1470150004008761, durationUs: 161_718, spanCount: 4, errorCount: 0, services: ['servicea', 'serviceb'], root: { service: 'servicea', name: 'get' }, findingCount: 0 },
    { traceId: '5aab74dbb904746bb33447baae403ed6', startUs: 1521186011926119, durationUs: 3_357, spanCount: 4, errorCount: 2, services: ['backend', 'frontend'], findingCount: 1 },
  ];
  assert.equal(
    formatSearchTable(traces),
    [
      'TRACE ID                          START (UTC)                DURATION   SPANS  ERRORS  SERVICES  ROOT',
      '1e223ff1f80f1c69                  2016-08-02T15:00:04.008Z      162ms       4       0         2  servicea: get',
      '5aab74dbb904746bb33447baae403ed6  2018-03-16T07:40:11.926Z     3.36ms       4       2         2  (no root span)',
      '2 traces',
      '',
    ].join('\n'),
  );
  assert.equal(formatSearchTable([]), 'no traces found\n');
});

void test('linktrace search --data: table and --json; bad flags exit 2; registered with commander', async () => {
  const all = io();
  assert.equal(await searchCommand({ data }, all), 0);
  const lines = all.out.text.trimEnd().split('\n');
  assert.equal(lines.length, 5);
  assert.match(lines[0]!, /^TRACE ID +START \(UTC\) +DURATION +SPANS +ERRORS +SERVICES +ROOT$/);
  assert.match(lines[1]!, /^0562809467078eab +2018-11-05T08:09:57\.200Z +649ms +28 +3 +2 +servicea: poll$/);
  assert.equal(lines[4], '3 traces');
  const json = io();
  assert.equal(await searchCommand({ data, service: 'frontend', json: true }, json), 0);
  assert.deepEqual((JSON.parse(json.out.text) as TraceSummary[]).map((t) => t.traceId), ['5aab74dbb904746bb33447baae403ed6']);
  const errs = io();
  assert.equal(await searchCommand({ data, status: 'error' }, errs), 0);
  assert.match(errs.out.text, /^0562809467078eab /m);
  assert.match(errs.out.text, /1 trace\n$/);
  const none = io();
  assert.equal(await searchCommand({ data, service: 'servicea', since: '1h' }, none), 0);
  assert.equal(none.out.text, 'no traces found\n');
  const bad = io();
  assert.equal(await searchCommand({ data, minDuration: 'slow' }, bad), 2);
  assert.match(bad.err.text, /^linktrace search: --min-duration "slow"/);
  const c = io();
  const program = new Command('linktrace').exitOverride();
  register(program, c);
  await program.parseAsync(['node', 'linktrace', 'search', '--data', data, '--attr', 'rabbit.queue=backend', '--attr', 'rabbit.routing_key=backend', '--limit', '5']);
  assert.equal(c.code, 0);
  assert.match(c.out.text, /^5aab74dbb904746bb33447baae403ed6 /m);
  assert.match(c.out.text, /1 trace\n$/);
});

void test('against a running server (query routes in the app, --token guarding them): import, trace and search with --server', async () => {
  const d = tempDir('lt-e2e-');
  const store = await openEmbeddedStore({ dataDir: join(d, 'store') });
  const app = await buildApp({ store, dataDir: join(d, 'server'), token: 'tok', extraRoutes: (a) => registerQueryRoutes(a, { store }) });
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const file = join(d, 'skew.json');
    writeFileSync(file, JSON.stringify(readZipkinFixture('skew.json')));
    const imp = io();
    assert.equal(await importCommand([file], { server: url, token: 'tok' }, imp), 0, imp.err.text);
    assert.match(imp.out.text, /^imported 4 spans from 1 file/);

    const unauth = await fetch(`${url}/api/v2/services`);
    assert.equal(unauth.status, 401);
    assert.equal(((await unauth.json()) as { error: { code: string } }).error.code, 'unauthorized');

    // Accepted spans reach the store through the ingest pipeline: wait (bounded) for the trace.
    let t = io();
    for (let i = 0; i < 50; i++) {
      t = io();
      if ((await traceCommand('1e223ff1f80f1c69', { server: url, token: 'tok' }, t)) === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(t.out.text, /^trace 1e223ff1f80f1c69 {2}4 spans/, t.err.text);
    assert.match(t.out.text, /servicea → serviceb/);
    // The CLI draws the rows the API assembled: one line per row, same order, same depth.
    const api = (await (await fetch(`${url}/api/v1/traces/1e223ff1f80f1c69`, { headers: { authorization: 'Bearer tok' } })).json()) as TraceView;
    const printed = t.out.text.trimEnd().split('\n');
    const lines = printed.slice(printed.indexOf('') + 2);
    assert.equal(lines.length, api.rows.length);
    assert.equal(api.rows.length, 3, '4 spans, the call\'s two halves in one row');
    api.rows.forEach((r, k) => {
      const name = r.kind === 'span' ? api.spans[r.span]!.name : `(${r.text})`;
      assert.equal(lines[k]!.slice(2, 2 + 2 * r.depth + name.length), '  '.repeat(r.depth) + name, lines[k]);
    });
    // Search reads the per-trace summaries, committed just after the spans (their own transaction,
    // see span-writer): poll it too, bounded.
    let s = io();
    for (let i = 0; i < 50; i++) {
      s = io();
      assert.equal(await searchCommand({ server: url, token: 'tok', service: 'serviceb' }, s), 0, s.err.text);
      if (/^1e223ff1f80f1c69 /m.test(s.out.text)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(s.out.text, /^1e223ff1f80f1c69 /m);
    const zipkin = await fetch(`${url}/api/v2/trace/1e223ff1f80f1c69`, { headers: { authorization: 'Bearer tok' } });
    assert.equal(zipkin.status, 200);
    assert.equal(((await zipkin.json()) as unknown[]).length, 4);

    const denied = io();
    assert.equal(await traceCommand('1e223ff1f80f1c69', { server: url }, denied), 1);
    assert.match(denied.err.text, /answered 401/);
    const notFound = io();
    assert.equal(await traceCommand('1e223ff1f80f1c6a', { server: url, token: 'tok' }, notFound), 1);
    assert.match(notFound.err.text, /not found/);
    const badSearch = io();
    assert.equal(await searchCommand({ server: 'not a url' }, badSearch), 2);
    assert.match(badSearch.err.text, /--server "not a url" is not a URL/);
  } finally {
    await app.close();
    await store.close();
    rmSync(d, { recursive: true, force: true });
  }
});
