import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type * as PgTypes from 'pg';
import { activeContext, alwaysOff, createTracing, CollectingSpanProcessor, runWithContext } from '../src/index.js';
import { instrument, isWrapped, suppressTracing, type InstrumentationHandle } from '../src/instrumentations/core/index.js';
import { pgInstrumentation } from '../src/instrumentations/pg/index.js';
import { captureStderr, closedPort, collectingTracing, fakePackage, runEsmChild, spansOf, uniqueName } from './instrumentation-db-helpers.js';

const require = createRequire(import.meta.url);
const connection = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const table = uniqueName('lt_pg');

describe('pg instrumentation (PostgreSQL at 127.0.0.1:5432)', () => {
  const { tracing, collector } = collectingTracing('pg-test');
  const tracer = tracing.getTracer('test');
  let handle: InstrumentationHandle;
  let pg: typeof PgTypes;
  let client: PgTypes.Client;

  before(async () => {
    handle = instrument({ tracing, instrumentations: [pgInstrumentation()] });
    pg = require('pg') as typeof PgTypes;
    client = new pg.Client(connection);
    await client.connect();
    await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text)`);
    await client.query(`INSERT INTO ${table} VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma')`);
  });

  after(async () => {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.end();
    handle.disable();
  });

  const last = (): ReturnType<typeof spansOf>[number] => {
    const spans = spansOf(collector.spans, 'pg');
    assert.ok(spans.length > 0, 'no pg span');
    return spans[spans.length - 1]!;
  };

  it('promise query: a client span, child of the active span, with sanitised text and peer', async () => {
    collector.clear();
    const parent = tracer.startSpan('parent');
    const result = await runWithContext(activeContext().withSpan(parent), async () => {
      const res = await client.query(`SELECT id, name FROM ${table} WHERE name = 'beta' OR id IN (1, 3) ORDER BY id`);
      assert.equal(activeContext().span, parent, 'continuation in the caller context');
      return res;
    });
    parent.end();
    assert.deepEqual(result.rows.map((r: { id: number }) => r.id), [1, 2, 3]);
    const span = last();
    assert.equal(span.kind, 'client');
    assert.equal(span.parentSpanId, parent.spanId);
    assert.equal(span.traceId, parent.traceId);
    assert.equal(span.name, `SELECT ${table}`);
    assert.equal(span.attributes['db.system.name'], 'postgresql');
    assert.equal(span.attributes['db.query.text'], `SELECT id, name FROM ${table} WHERE name = ? OR id IN (?) ORDER BY id`);
    assert.equal(span.attributes['db.operation.name'], 'SELECT');
    assert.equal(span.attributes['db.collection.name'], table);
    assert.equal(span.attributes['db.namespace'], 'test');
    assert.equal(span.attributes['server.address'], '127.0.0.1');
    assert.equal(span.attributes['server.port'], 5432);
    assert.equal(span.attributes['db.response.returned_rows'], 3);
    assert.equal(span.attributes['db.query.parameters'], undefined, 'no values unless captureValues');
    assert.equal(span.status.code, 'unset');
  });

  it('callback query: the callback runs in the caller context with the library arguments', async () => {
    collector.clear();
    const parent = tracer.startSpan('cb-parent');
    const { args, ctxSpan } = await new Promise<{ args: unknown[]; ctxSpan: unknown }>((resolve) => {
      runWithContext(activeContext().withSpan(parent), () => {
        client.query(`UPDATE ${table} SET name = $1 WHERE id = $2`, ['beta2', 2], (...cbArgs: unknown[]) => {
          resolve({ args: cbArgs, ctxSpan: activeContext().span });
        });
      });
    });
    parent.end();
    assert.equal(args.length, 2);
    assert.equal(args[0], null);
    assert.equal((args[1] as PgTypes.QueryResult).rowCount, 1);
    assert.equal(ctxSpan, parent);
    const span = last();
    assert.equal(span.parentSpanId, parent.spanId);
    assert.equal(span.name, `UPDATE ${table}`);
    assert.equal(span.attributes['db.query.text'], `UPDATE ${table} SET name = $1 WHERE id = $2`);
    assert.equal(span.attributes['db.response.affected_rows'], 1);
  });

  it('config object with a prepared statement name; values only with captureValues', async () => {
    handle.disable();
    const captured = instrument({ tracing, captureValues: true, instrumentations: [pgInstrumentation()] });
    try {
      collector.clear();
      const res = await client.query({ name: `by-id-${table}`, text: `SELECT name FROM ${table} WHERE id = $1`, values: [3] });
      assert.equal(res.rows[0].name, 'gamma');
      const span = last();
      assert.equal(span.attributes['db.pg.statement_name'], `by-id-${table}`);
      assert.equal(span.attributes['db.query.parameters'], '[3]');
      // The callback may also ride in the config object.
      const viaConfig = await new Promise<unknown[]>((resolve) => {
        void client.query({ text: 'SELECT 1 AS one', callback: (...args: unknown[]) => resolve(args) } as unknown as PgTypes.QueryConfig);
      });
      assert.equal(viaConfig[0], null);
      assert.equal((viaConfig[1] as PgTypes.QueryResult).rows[0].one, 1);
      assert.equal(last().name, 'SELECT');
    } finally {
      captured.disable();
      handle = instrument({ tracing, instrumentations: [pgInstrumentation()] });
    }
  });

  it('a Submittable (Query object) is returned as it is and still traced', async () => {
    collector.clear();
    const query = new pg.Query(`SELECT id FROM ${table} ORDER BY id`);
    const rows: unknown[] = [];
    query.on('row', (row: unknown) => rows.push(row));
    const returned = client.query(query);
    assert.equal(returned, query);
    await new Promise<void>((resolve, reject) => {
      query.on('end', () => resolve());
      query.on('error', reject);
    });
    assert.equal(rows.length, 3);
    await new Promise((resolve) => setImmediate(resolve));
    const span = last();
    assert.equal(span.name, `SELECT ${table}`);
    assert.equal(span.attributes['db.response.returned_rows'], 3);
  });

  it("a Query without callback emits 'row' and 'end' in its caller's context, not in the one that opened the connection", async () => {
    // The connection (and its socket) belongs to the context that opened it; each query to its caller.
    const opener = tracer.startSpan('opens-the-connection');
    const shared = runWithContext(activeContext().withSpan(opener), () => new pg.Client(connection));
    await runWithContext(activeContext().withSpan(opener), () => shared.connect());
    opener.end();
    try {
      const caller = tracer.startSpan('queries');
      const seen = await runWithContext(activeContext().withSpan(caller), () => {
        const query = shared.query(new pg.Query(`SELECT id FROM ${table} ORDER BY id`));
        const spans: unknown[] = [];
        query.on('row', () => spans.push(activeContext().span));
        return new Promise<unknown[]>((resolve, reject) => {
          query.on('end', () => resolve([...spans, activeContext().span]));
          query.on('error', reject);
        });
      });
      caller.end();
      assert.equal(seen.length, 4, 'three rows and the end');
      for (const span of seen) assert.equal(span, caller);
    } finally {
      await shared.end();
    }
  });

  it('bad SQL: the span fails with the exception; the error object is the one pg gives without instrumentation', async () => {
    collector.clear();
    const bad = `SELEC id FROM ${table} WHERE name = 'secret'`;
    const withInstr = await client.query(bad).then(() => undefined, (error: unknown) => error);
    const span = last();
    assert.equal(span.status.code, 'error');
    assert.match(span.status.message ?? '', /syntax error/);
    assert.equal(span.attributes['db.response.status_code'], '42601');
    assert.equal(span.attributes['db.query.text'], `SELEC id FROM ${table} WHERE name = ?`);
    assert.ok(span.events.some((e) => e.name === 'exception'));
    handle.disable();
    const without = await client.query(bad).then(() => undefined, (error: unknown) => error);
    handle = instrument({ tracing, instrumentations: [pgInstrumentation()] });
    assert.ok(withInstr instanceof pg.DatabaseError);
    assert.ok(without instanceof pg.DatabaseError);
    for (const key of ['message', 'code', 'position', 'severity'] as const) {
      assert.equal((withInstr as PgTypes.DatabaseError)[key], (without as PgTypes.DatabaseError)[key]);
    }
    // Synchronous misuse throws the same TypeError as before, and records nothing.
    assert.throws(() => client.query(null as unknown as string), TypeError);
  });

  it('results are the same with and without instrumentation', async () => {
    const sql = `SELECT id, name FROM ${table} ORDER BY id`;
    const traced = await client.query(sql);
    handle.disable();
    assert.equal(isWrapped(pg.Client.prototype.query), false);
    const plain = await client.query(sql);
    handle = instrument({ tracing, instrumentations: [pgInstrumentation()] });
    assert.equal(isWrapped(pg.Client.prototype.query), true);
    assert.deepEqual(traced.rows, plain.rows);
    assert.equal(traced.rowCount, plain.rowCount);
    assert.equal(traced.command, plain.command);
  });

  it('pool: one span per pool.query, parented to each caller, also after waiting for the only connection', async () => {
    const pool = new pg.Pool({ ...connection, max: 1 });
    try {
      collector.clear();
      const a = tracer.startSpan('caller-a');
      const b = tracer.startSpan('caller-b');
      const seen: unknown[] = [];
      const run = (parent: typeof a, sql: string) =>
        runWithContext(activeContext().withSpan(parent), () =>
          new Promise<void>((resolve, reject) => {
            pool.query(sql, (error: Error | undefined) => {
              seen.push(activeContext().span === parent);
              if (error) reject(error);
              else resolve();
            });
          }),
        );
      // b's query waits for a's connection: its callback must still run in b's context.
      await Promise.all([run(a, 'SELECT pg_sleep(0.05)'), run(b, `SELECT count(*) FROM ${table}`)]);
      const viaPromise = await runWithContext(activeContext().withSpan(b), async () => {
        const res = await pool.query(`SELECT id FROM ${table} WHERE id = $1`, [1]);
        return { res, same: activeContext().span === b };
      });
      a.end();
      b.end();
      assert.deepEqual(seen, [true, true]);
      assert.equal(viaPromise.same, true);
      assert.equal(viaPromise.res.rows.length, 1);
      const spans = spansOf(collector.spans, 'pg');
      assert.equal(spans.length, 3, spans.map((s) => s.name).join(', '));
      assert.equal(spans.find((s) => s.attributes['db.query.text'] === 'SELECT pg_sleep(?)')?.parentSpanId, a.spanId);
      const counted = spans.find((s) => s.name === `SELECT ${table}` && s.attributes['db.query.text']!.toString().includes('count'));
      assert.equal(counted?.parentSpanId, b.spanId);
      assert.equal(counted?.attributes['server.port'], 5432);
      assert.equal(counted?.attributes['db.namespace'], 'test');
    } finally {
      await pool.end();
    }
  });

  it('connection refused: the pool query span fails with the connection error', async () => {
    const port = await closedPort();
    const pool = new pg.Pool({ ...connection, port, max: 1, connectionTimeoutMillis: 2000 });
    collector.clear();
    const parent = tracer.startSpan('refused-parent');
    const error = await runWithContext(activeContext().withSpan(parent), () => pool.query('SELECT 1').then(() => undefined, (e: unknown) => e));
    parent.end();
    await pool.end();
    assert.equal((error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    const span = last();
    assert.equal(span.parentSpanId, parent.spanId);
    assert.equal(span.status.code, 'error');
    assert.equal(span.attributes['server.port'], port);
    assert.equal(span.attributes['error.type'], 'ECONNREFUSED');
    // A lone client that failed to connect: its query fails and is traced as failed too.
    const lone = new pg.Client({ ...connection, port });
    await lone.connect().catch(() => undefined);
    collector.clear();
    await lone.query('SELECT 1').catch(() => undefined);
    assert.equal(last().status.code, 'error');
  });

  it('suppressed calls and unsampled traces record nothing', async () => {
    collector.clear();
    await runWithContext(suppressTracing(), () => client.query('SELECT 1'));
    assert.equal(spansOf(collector.spans, 'pg').length, 0);
    const offCollector = new CollectingSpanProcessor();
    const off = createTracing({ service: 'pg-off', sampler: alwaysOff(), processors: [offCollector] });
    handle.disable();
    const offHandle = instrument({ tracing: off, instrumentations: [pgInstrumentation()] });
    try {
      const res = await client.query('SELECT 2 AS two');
      assert.equal(res.rows[0].two, 2);
      assert.equal(offCollector.spans.length, 0);
    } finally {
      offHandle.disable();
      handle = instrument({ tracing, instrumentations: [pgInstrumentation()] });
    }
  });

  it('ESM import of pg is patched through the same hook', async () => {
    const out = await runEsmChild(`
      const { CollectingSpanProcessor, createTracing } = await import('SDK/index.js');
      const { instrument } = await import('SDK/instrumentations/core/index.js');
      const { pgInstrumentation } = await import('SDK/instrumentations/pg/index.js');
      const collector = new CollectingSpanProcessor();
      instrument({ tracing: createTracing({ service: 'esm', processors: [collector] }), instrumentations: [pgInstrumentation()] });
      const { default: pg } = await import('pg');
      const client = new pg.Client(${JSON.stringify(connection)});
      await client.connect();
      await client.query("SELECT 'x' AS v");
      await client.end();
      console.log(JSON.stringify(collector.spans.map((s) => [s.name, s.attributes['db.query.text']])));
    `);
    assert.deepEqual(out, [['SELECT', 'SELECT ? AS v']]);
  });

  it('an unexpected pg shape is logged once and left untouched', async () => {
    const root = fakePackage('pg', '8.99.0', 'exports.Client = function Client() {}; exports.Client.prototype.connect = function () { return 1; };\n');
    const fake = createTracing({ service: 'pg-fake' });
    let fakeHandle: InstrumentationHandle | undefined;
    let mod: { Client: { prototype: Record<string, unknown> } } | undefined;
    const written = await captureStderr(() => {
      fakeHandle = instrument({ tracing: fake, instrumentations: [pgInstrumentation()] });
      mod = createRequire(`${root}/index.js`)('pg') as typeof mod;
    });
    fakeHandle!.disable();
    assert.match(written, /instrumentation pg: could not patch pg@8\.99\.0; left untouched: pg\.Client\.prototype\.query is not a function/);
    assert.deepEqual(Object.keys(mod!.Client.prototype), ['connect']);
    const old = fakePackage('pg', '6.0.0', 'exports.Client = function Client() {}; exports.Client.prototype.query = function query() { return 6; };\n');
    const again = await captureStderr(() => {
      fakeHandle = instrument({ tracing: fake, instrumentations: [pgInstrumentation()] });
      mod = createRequire(`${old}/index.js`)('pg') as typeof mod;
    });
    fakeHandle!.disable();
    assert.match(again, /version 6\.0\.0 is not supported/);
    assert.equal(isWrapped(mod!.Client.prototype.query), false);
  });
});
