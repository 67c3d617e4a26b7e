/**
 * docs/ecosystem.md's Prometheus section, run as written: its scrape configuration (target and
 * interval adapted to the test) in a real Prometheus from Debian's `prometheus` package (`.ci/run`
 * installs it; a machine without it fails here), scraping a `linktrace serve` that has a token, and
 * the section's PromQL queries answered with data. A changed metric name, a broken exposition or a
 * token the scrape cannot pass would all fail here.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { it } from 'node:test';
import { encodeNativeJson } from '@linktrace/model';
import { eventually, ID, shopSync, without } from './checker-traces.js';
import { get, post, tempDir } from './ingest-helpers.js';
import { startServe } from './serve-helpers.js';

const DOC = new URL('../../../../docs/ecosystem.md', import.meta.url);

function prometheusSection(): string {
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf('## Prometheus');
  assert.ok(start >= 0, 'docs/ecosystem.md has a Prometheus section');
  const next = text.indexOf('\n## ', start + 1);
  return text.slice(start, next < 0 ? undefined : next);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface PromAnswer {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function promQuery(base: string, query: string): Promise<PromAnswer> {
  const answer = await get(`${base}/api/v1/query?query=${encodeURIComponent(query)}`);
  assert.equal(answer.status, 200, `${query}: ${answer.body.toString()}`);
  return JSON.parse(answer.body.toString()) as PromAnswer;
}

void it("docs/ecosystem.md's scrape config and queries work in a real Prometheus against a server with a token", async () => {
  const section = prometheusSection();
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(yaml !== undefined, 'the section has a yaml block');
  const queries = [...section.matchAll(/`([^`]*\(linktrace_[^`]*)`/g)].map((m) => m[1]!);
  assert.ok(queries.length >= 3, `the section's PromQL queries: ${queries.join(' | ')}`);

  const dir = await tempDir();
  const token = 'prom-scrape-token';
  const server = await startServe(['--data', join(dir, 'data'), '--token', token, '--check-delay', '200ms']);
  const promPort = await freePort();
  let prometheus: ReturnType<typeof spawn> | undefined;
  try {
    const auth = { authorization: `Bearer ${token}` };
    // A trace whose worker never wrote: stored, then a missing-write finding (the findings query has data).
    const spans = JSON.stringify(encodeNativeJson(without(shopSync(), ID.workerMysql)));
    assert.equal((await post(`${server.url}/api/v1/spans`, spans, { 'content-type': 'application/json', ...auth })).status, 200);

    const tokenFile = join(dir, 'linktrace-token');
    await writeFile(tokenFile, token);
    const config = yaml
      .replace('linktrace-host:4318', new URL(server.url).host)
      .replace('scrape_interval: 15s', 'scrape_interval: 1s')
      .replace('/etc/prometheus/linktrace-token', tokenFile);
    assert.notEqual(config, yaml);
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(configFile, config);
    let log = '';
    prometheus = spawn('prometheus', [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    prometheus.on('error', (error) => {
      log += `\nprometheus could not be run (${error.message}): install Debian's prometheus package (.ci/run does)`;
    });
    prometheus.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const base = `http://127.0.0.1:${promPort}`;

    // Scraped with the token: up is 1 and our series are there.
    await eventually(async () => {
      if (prometheus?.exitCode !== null) throw new Error(`prometheus exited: ${log.slice(-2000)}`);
      const up = await promQuery(base, 'up{job="linktrace"}').catch(() => undefined);
      return up?.data.result[0]?.value[1] === '1' ? true : undefined;
    }, 60_000, 'Prometheus scraping Linktrace (up == 1)');
    await eventually(async () => {
      const stored = await promQuery(base, 'linktrace_spans_stored_total');
      return Number(stored.data.result[0]?.value[1] ?? 0) >= shopSync().length - 1 ? true : undefined;
    }, 60_000, 'linktrace_spans_stored_total scraped');
    // Every query of the section parses and runs (rate() needs two scrapes: wait for a value).
    for (const query of queries) {
      const answer = await eventually(async () => {
        const a = await promQuery(base, query);
        return a.data.result.length > 0 ? a : undefined;
      }, 60_000, `a value for ${query}`);
      assert.equal(answer.status, 'success', query);
    }
  } finally {
    prometheus?.kill();
    server.kill();
    await server.exited;
    await rm(dir, { recursive: true, force: true });
  }
});
