import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/config.js';
import { parseStoreUrl } from '../src/cli/store-url.js';
import { parseServeFlags } from '../src/cli/serve.js';

describe('--store URLs', () => {
  it('a directory path is the embedded store', () => {
    assert.deepStrictEqual(parseStoreUrl('./data'), { kind: 'embedded', dataDir: './data' });
  });

  it('clickhouse://host:port/db, port 8123 by default, credentials from the environment', () => {
    assert.deepStrictEqual(parseStoreUrl('clickhouse://ch.local/traces', { LINKTRACE_CLICKHOUSE_USER: 'lt', LINKTRACE_CLICKHOUSE_PASSWORD: 's3' }), {
      kind: 'clickhouse',
      endpoint: { url: 'http://ch.local:8123', user: 'lt', password: 's3' },
      nodes: [{ url: 'http://ch.local:8123', user: 'lt', password: 's3' }],
      database: 'traces',
      display: 'clickhouse://ch.local/traces',
    });
  });

  it('credentials in the URL win over the environment, and the password never shows in messages', () => {
    const spec = parseStoreUrl('clickhouse://writer:p%40ss@10.0.0.5:9123/db', { LINKTRACE_CLICKHOUSE_USER: 'other' });
    assert.ok(spec.kind === 'clickhouse');
    assert.deepStrictEqual(spec.endpoint, { url: 'http://10.0.0.5:9123', user: 'writer', password: 'p@ss' });
    assert.equal(spec.display, 'clickhouse://writer:***@10.0.0.5:9123/db');
  });

  it('several hosts name a cluster\'s nodes and need --clickhouse-cluster', () => {
    const spec = parseStoreUrl('clickhouse://a:8123,b:8124/db', {}, 'traces');
    assert.ok(spec.kind === 'clickhouse');
    assert.deepStrictEqual(spec.nodes.map((n) => n.url), ['http://a:8123', 'http://b:8124']);
    assert.equal(spec.cluster, 'traces');
    assert.throws(() => parseStoreUrl('clickhouse://a,b/db'), /several ClickHouse hosts need --clickhouse-cluster/);
  });

  for (const [what, url, message] of [
    ['another scheme', 'postgres://h/db', /is not a directory nor clickhouse:/],
    ['no database', 'clickhouse://h:8123/', /database "" must be a name/],
    ['a database that is no identifier', 'clickhouse://h/my-db', /must be a name of letters/],
    ['a bad host', 'clickhouse://h h/db', /is not host or host:port/],
  ] as const) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parseStoreUrl(url), (err: unknown) => err instanceof ConfigError && message.test(err.message));
    });
  }

  it('serve takes --store and --clickhouse-cluster, and refuses the cluster flag without a ClickHouse store', () => {
    const options = parseServeFlags({ store: 'clickhouse://a:8123,b:8123/db', clickhouseCluster: 'c', ui: false });
    assert.equal(options.store?.kind, 'clickhouse');
    assert.throws(() => parseServeFlags({ clickhouseCluster: 'c', ui: false }), /--clickhouse-cluster: only with --store clickhouse/);
  });
});
