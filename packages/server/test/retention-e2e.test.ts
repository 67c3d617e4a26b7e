/**
 * End to end, as a user does it: `linktrace import` of traces recorded years ago, then `linktrace
 * serve` on the same data directory with the default retention. Retention counts from arrival
 * (DESIGN §6), so the import is fresh data: every span is kept and nothing is reported removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openEmbeddedStore } from '@linktrace/storage';
import { FIXTURES, get, tempDir } from './ingest-helpers.js';
import { exitWithin, runCli, startServe, type ServerProcess } from './serve-helpers.js';

const YEAR_US = 365 * 86_400_000_000;

async function storedRecords(dataDir: string): Promise<{ records: number; newestStartUs: number }> {
  const store = await openEmbeddedStore({ dataDir });
  try {
    const records = (await store.stats()).spanRecords;
    const [newest] = await store.findTraces({ limit: 1 });
    return { records, newestStartUs: newest?.startUs ?? 0 };
  } finally {
    await store.close();
  }
}

/** The value of a metric line (`name{labels} value`) in Prometheus text, undefined when absent. */
function metric(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

void test('import of year-old traces, then serve with the default retention: every span kept, nothing reported removed', async () => {
  const dataDir = await tempDir('lt-retention-e2e-');
  let server: ServerProcess | undefined;
  try {
    const files = readdirSync(join(FIXTURES, 'zipkin'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => join(FIXTURES, 'zipkin', f));
    const imported = runCli(['import', '--data', dataDir, ...files]);
    assert.equal((await exitWithin(imported, 60_000)).code, 0, imported.stderr());
    const before = await storedRecords(dataDir);
    assert.ok(before.records > 100, `the fixtures hold hundreds of spans (${before.records} stored)`);
    assert.ok(before.newestStartUs < Date.now() * 1000 - YEAR_US, 'every imported trace started over a year ago');

    server = await startServe(['--data', dataDir]);
    assert.match(server.stdout(), /retention +168h00m after arrival/);
    // The first retention run comes a second after start; its completion shows on /metrics.
    let text = '';
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      text = (await get(`${server.url}/metrics`)).body.toString('utf8');
      if ((metric(text, 'linktrace_retention_runs_total') ?? 0) >= 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(metric(text, 'linktrace_retention_runs_total'), 1, 'a retention run completed');
    assert.equal(metric(text, 'linktrace_retention_removed_total{what="span_records"}'), 0);
    assert.equal(metric(text, 'linktrace_retention_removed_total{what="findings"}'), 0);
    server.child.kill('SIGTERM');
    assert.equal((await exitWithin(server, 20_000)).code, 0);
    assert.doesNotMatch(server.stdout(), /retention removed/);
    assert.equal(server.stderr(), '');
    assert.equal((await storedRecords(dataDir)).records, before.records);
  } finally {
    server?.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
});
