import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type * as Mysql from 'mysql2';
import type * as MysqlPromise from 'mysql2/promise';
import { activeContext, runWithContext } from '../src/index.js';
import { instrument, suppressTracing, type InstrumentationHandle } from '../src/instrumentations/core/index.js';
import { mysql2Instrumentation } from '../src/instrumentations/mysql2/index.js';
import { captureStderr, closedPort, collectingTracing, fakePackage, runEsmChild, spansOf, uniqueName } from './instrumentation-db-helpers.js';

const require = createRequire(import.meta.url);
const connection = { host: '127.0.0.1', port: 3306, user: 'root', database: 'test' };
const table = uniqueName('lt_my');

describe('mysql2 instrumentation (MariaDB at 127.0.0.1:3306)', () => {
  const { tracing, collector } = collectingTracing('mysql2-test');
  const tracer = tracing.getTracer('test');
  let handle: InstrumentationHandle;
  let mysql: typeof Mysql;
  let mysqlPromise: typeof MysqlPromise;
  let conn: MysqlPromise.Connection;

  before(async () => {
    handle = instrument({ tracing, instrumentations: [mysql2Instrumentation()] });
    mysql = require('mysql2') as typeof Mysql;
    mysqlPromise = require('mysql2/promise') as typeof MysqlPromise;
    conn = await mysqlPromise.createConnection(connection);
    await conn.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(64))`);
    await conn.query(`INSERT INTO ${table} VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma')`);
  });

  after(async () => {
    await conn.query(`DROP TABLE IF EXISTS ${table}`);
    await conn.end();
    handle.disable();
  });

  const mine = () => spansOf(collector.spans, 'mysql2');
  const last = () => {
    const spans = mine();
    assert.ok(spans.length > 0, 'no mysql2 span');
    return spans[spans.length - 1]!;
  };

  it('promise query: client span under the active span, values interpolated then sanitised', async () => {
    collector.clear();
    const parent = tracer.startSpan('parent');
    const [rows] = await runWithContext(activeContext().withSpan(parent), async () => {
      const result = await conn.query(`SELECT id, name FROM ${table} WHERE name = ? OR id IN (?)`, ['beta', [1, 3]]);
      assert.equal(activeContext().span, parent);
      return result;
    });
    parent.end();
    assert.equal((rows as unknown[]).length, 3);
    const span = last();
    assert.equal(span.kind, 'client');
    assert.equal(span.parentSpanId, parent.spanId);
    assert.equal(span.name, `SELECT ${table}`);
    // MariaDB is recognised from the handshake's server version.
    assert.equal(span.attributes['db.system.name'], 'mariadb');
    assert.equal(span.attributes['db.query.text'], `SELECT id, name FROM ${table} WHERE name = ? OR id IN (?)`);
    assert.equal(span.attributes['db.namespace'], 'test');
    assert.equal(span.attributes['server.address'], '127.0.0.1');
    assert.equal(span.attributes['server.port'], 3306);
    assert.equal(span.attributes['db.response.returned_rows'], 3);
    assert.equal(span.attributes['db.query.parameters'], undefined);
  });

  it('execute (prepared) with captureValues records the parameters', async () => {
    handle.disable();
    const captured = instrument({ tracing, captureValues: true, instrumentations: [mysql2Instrumentation()] });
    try {
      collector.clear();
      const [result] = await conn.execute(`UPDATE ${table} SET name = ? WHERE id = ?`, ['beta2', 2]);
      assert.equal((result as Mysql.ResultSetHeader).affectedRows, 1);
      const span = last();
      assert.equal(span.name, `UPDATE ${table}`);
      assert.equal(span.attributes['db.query.text'], `UPDATE ${table} SET name = ? WHERE id = ?`);
      assert.equal(span.attributes['db.query.parameters'], '["beta2",2]');
      assert.equal(span.attributes['db.response.affected_rows'], 1);
    } finally {
      captured.disable();
      handle = instrument({ tracing, instrumentations: [mysql2Instrumentation()] });
    }
  });

  it('callback API: the callback runs in the caller context with the library arguments', async () => {
    const cbConn = mysql.createConnection(connection);
    try {
      collector.clear();
      const parent = tracer.startSpan('cb-parent');
      const seen = await new Promise<{ args: unknown[]; same: boolean }>((resolve) => {
        runWithContext(activeContext().withSpan(parent), () => {
          cbConn.query(`SELECT name FROM ${table} WHERE id = 1`, (...args: unknown[]) => resolve({ args, same: activeContext().span === parent }));
        });
      });
      parent.end();
      assert.equal(seen.same, true);
      assert.equal(seen.args.length, 3, 'error, rows, fields');
      assert.equal(seen.args[0], null);
      assert.deepEqual(JSON.parse(JSON.stringify(seen.args[1])), [{ name: 'alpha' }]);
      assert.equal(last().parentSpanId, parent.spanId);
      assert.equal(last().attributes['db.query.text'], `SELECT name FROM ${table} WHERE id = ?`);
    } finally {
      await new Promise((resolve) => cbConn.end(resolve));
    }
  });

  it("a query without callback (events and .stream()) emits in its caller's context, not in the one that opened the connection", async () => {
    const opener = tracer.startSpan('opens-the-connection');
    const shared = runWithContext(activeContext().withSpan(opener), () => mysql.createConnection(connection));
    opener.end();
    try {
      const caller = tracer.startSpan('queries');
      const [events, streamed] = await runWithContext(activeContext().withSpan(caller), () =>
        Promise.all([
          new Promise<unknown[]>((resolve, reject) => {
            const seen: unknown[] = [];
            const query = shared.query(`SELECT id FROM ${table} ORDER BY id`);
            query.on('result', () => seen.push(activeContext().span));
            query.on('end', () => resolve([...seen, activeContext().span]));
            query.on('error', reject);
          }),
          new Promise<unknown[]>((resolve, reject) => {
            const seen: unknown[] = [];
            const stream = shared.execute(`SELECT id FROM ${table} WHERE id > ?`, [1]).stream();
            stream.on('data', () => seen.push(activeContext().span));
            stream.on('end', () => resolve([...seen, activeContext().span]));
            stream.on('error', reject);
          }),
        ]),
      );
      caller.end();
      assert.equal(events.length, 4, 'three rows and the end');
      assert.equal(streamed.length, 3, 'two rows and the end');
      for (const span of [...events, ...streamed]) assert.equal(span, caller);
    } finally {
      await new Promise((resolve) => shared.end(resolve));
    }
  });

  it('pool: query, execute and a pooled connection; a waiting caller keeps its context', async () => {
    const pool = mysqlPromise.createPool({ ...connection, connectionLimit: 1 });
    const cbPool = mysql.createPool({ ...connection, connectionLimit: 1 });
    try {
      collector.clear();
      const a = tracer.startSpan('a');
      const b = tracer.startSpan('b');
      const inCtx = <T>(span: typeof a, fn: () => Promise<T>) => runWithContext(activeContext().withSpan(span), fn);
      const seen: boolean[] = [];
      await Promise.all([
        inCtx(a, async () => {
          await pool.query('SELECT SLEEP(0.05)');
          seen.push(activeContext().span === a);
        }),
        inCtx(b, async () => {
          await pool.execute(`SELECT id FROM ${table} WHERE id = ?`, [2]);
          seen.push(activeContext().span === b);
        }),
      ]);
      // Callback pool: b's callback is served from a's release and must run in b's context.
      await Promise.all(
        [a, b].map((parent) =>
          inCtx(parent, () => new Promise<void>((resolve, reject) => {
            cbPool.query(`SELECT COUNT(*) AS n FROM ${table}`, (error) => {
              seen.push(activeContext().span === parent);
              if (error) reject(error);
              else resolve();
            });
          })),
        ),
      );
      const pooled = await inCtx(b, async () => {
        const c = await pool.getConnection();
        try {
          await c.query('SELECT 1');
        } finally {
          c.release();
        }
        return activeContext().span === b;
      });
      a.end();
      b.end();
      assert.deepEqual(seen, [true, true, true, true]);
      assert.equal(pooled, true);
      const spans = mine();
      assert.equal(spans.length, 5, spans.map((s) => s.name).join(', '));
      assert.equal(spans.find((s) => s.attributes['db.query.text'] === 'SELECT SLEEP(?)')?.parentSpanId, a.spanId);
      assert.equal(spans.find((s) => s.attributes['db.query.text'] === `SELECT id FROM ${table} WHERE id = ?`)?.parentSpanId, b.spanId);
      const counts = spans.filter((s) => String(s.attributes['db.query.text']).includes('COUNT'));
      assert.deepEqual(counts.map((s) => s.parentSpanId).sort(), [a.spanId, b.spanId].sort());
    } finally {
      await pool.end();
      await new Promise((resolve) => cbPool.end(resolve));
    }
  });

  it('bad SQL fails the span; the error is the one mysql2 gives without instrumentation', async () => {
    collector.clear();
    const bad = `SELEC name FROM ${table} WHERE id = 'x'`;
    const traced = await conn.query(bad).then(() => undefined, (e: unknown) => e);
    const span = last();
    assert.equal(span.status.code, 'error');
    assert.equal(span.attributes['db.response.status_code'], 'ER_PARSE_ERROR');
    assert.equal(span.attributes['db.query.text'], `SELEC name FROM ${table} WHERE id = ?`);
    assert.ok(span.events.some((e) => e.name === 'exception'));
    handle.disable();
    const plain = await conn.query(bad).then(() => undefined, (e: unknown) => e);
    const [tracedRows] = await conn.query(`SELECT * FROM ${table} ORDER BY id`);
    handle = instrument({ tracing, instrumentations: [mysql2Instrumentation()] });
    const [againRows] = await conn.query(`SELECT * FROM ${table} ORDER BY id`);
    for (const key of ['message', 'code', 'errno', 'sqlState'] as const) {
      assert.equal((traced as Mysql.QueryError)[key], (plain as Mysql.QueryError)[key]);
    }
    assert.deepEqual(JSON.parse(JSON.stringify(tracedRows)), JSON.parse(JSON.stringify(againRows)));
  });

  it('connection refused: the query span fails with ECONNREFUSED', async () => {
    const port = await closedPort();
    const pool = mysqlPromise.createPool({ ...connection, port, connectionLimit: 1 });
    collector.clear();
    const parent = tracer.startSpan('refused');
    const error = await runWithContext(activeContext().withSpan(parent), () => pool.query('SELECT 1').then(() => undefined, (e: unknown) => e));
    parent.end();
    await pool.end();
    assert.equal((error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    const lone = mysql.createConnection({ ...connection, port });
    lone.on('error', () => {});
    const loneError = await new Promise<unknown>((resolve) => lone.query('SELECT 1', (e) => resolve(e)));
    assert.equal((loneError as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    const span = last();
    assert.equal(span.status.code, 'error');
    assert.equal(span.attributes['server.port'], port);
    assert.equal(span.attributes['error.type'], 'ECONNREFUSED');
  });

  it('suppressed calls record nothing', async () => {
    collector.clear();
    await runWithContext(suppressTracing(), () => conn.query('SELECT 1'));
    assert.equal(mine().length, 0);
  });

  it('ESM import of mysql2/promise is traced', async () => {
    const out = await runEsmChild(`
      const { CollectingSpanProcessor, createTracing } = await import('SDK/index.js');
      const { instrument } = await import('SDK/instrumentations/core/index.js');
      const { mysql2Instrumentation } = await import('SDK/instrumentations/mysql2/index.js');
      const collector = new CollectingSpanProcessor();
      instrument({ tracing: createTracing({ service: 'esm', processors: [collector] }), instrumentations: [mysql2Instrumentation()] });
      const { default: mysql } = await import('mysql2/promise');
      const conn = await mysql.createConnection(${JSON.stringify(connection)});
      await conn.query("SELECT 'x' AS v");
      await conn.end();
      console.log(JSON.stringify(collector.spans.map((s) => [s.name, s.attributes['db.query.text']])));
    `);
    assert.deepEqual(out, [['SELECT', 'SELECT ? AS v']]);
  });

  it('a mysql2 without tracing channels or of an unknown major is logged once and left alone', async () => {
    const root = fakePackage('mysql2', '3.0.0', 'exports.createConnection = function () { return 1; };\n');
    let h: InstrumentationHandle | undefined;
    let mod: { createConnection: () => number } | undefined;
    const written = await captureStderr(() => {
      h = instrument({ tracing, instrumentations: [mysql2Instrumentation()] });
      mod = createRequire(`${root}/index.js`)('mysql2') as typeof mod;
    });
    h!.disable();
    assert.match(written, /instrumentation mysql2: could not patch mysql2@3\.0\.0; left untouched: this mysql2 version publishes no tracing channels/);
    assert.equal(mod!.createConnection(), 1);
    const future = fakePackage('mysql2', '9.1.0', 'exports.x = 1;\n', { 'lib/tracing.js': '' });
    const again = await captureStderr(() => {
      h = instrument({ tracing, instrumentations: [mysql2Instrumentation()] });
      createRequire(`${future}/index.js`)('mysql2');
    });
    h!.disable();
    assert.match(again, /version 9\.1\.0 is not supported/);
  });
});
