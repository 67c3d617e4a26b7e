/** What the ClickHouse backend does beyond the shared contract: migrations, deletions by trace, arrival times given by the caller. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { span, spanIdOf, traceIdOf } from '../src/contract/index.js';
import { openClickHouseStore } from '../src/clickhouse/clickhouse-store.js';
import { ClickHouseError, ClickHouseHttp } from '../src/clickhouse/http-client.js';
import { startLocalClickHouse } from '../src/clickhouse/local-server.js';
import type { LocalClickHouse } from '../src/clickhouse/local-server.js';
import { SchemaTooNewError } from '../src/clickhouse/migrate.js';
import { MIGRATIONS_TABLE, SCHEMA_VERSION } from '../src/clickhouse/schema.js';
import type { Finding } from '../src/types.js';

let server: LocalClickHouse;
let databases = 0;
before(async () => {
  server = await startLocalClickHouse();
});
after(async () => {
  await server.stop();
});

const DAY_MS = 86_400_000;
const NOW_MS = 1_796_083_200_000;

function fresh(clock?: () => number) {
  const endpoint = { url: server.httpUrl };
  const database = `lt_store_${++databases}`;
  return {
    database,
    db: new ClickHouseHttp(endpoint, database),
    open: () => openClickHouseStore({ endpoint, database, ...(clock && { clock }) }),
  };
}

const finding = (n: number): Finding => ({ traceId: traceIdOf(n), rule: 'unfinished-span', service: 'svc', spanId: spanIdOf(n, 0), message: 'm', timeUs: 1 });

describe('clickhouse store: schema migrations', () => {
  it('creates the schema once: opening again applies nothing twice', async () => {
    const { db, open } = fresh();
    await (await open()).close();
    await (await open()).close();
    const all = Array.from({ length: SCHEMA_VERSION }, (_, i) => [i + 1]);
    assert.deepStrictEqual(await db.rows(`SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY version`), all);
  });

  it('migrates a database made by schema 1: the per-trace summaries are built from the spans already stored', async () => {
    const { db, open } = fresh();
    await (await open()).close();
    // Back to what schema 1 had: no summaries, spans in the table.
    await db.command('DROP TABLE trace_summaries_mv');
    await db.command('DROP TABLE trace_summaries');
    await db.command(`DROP TABLE ${MIGRATIONS_TABLE}`);
    await db.command(`CREATE TABLE ${MIGRATIONS_TABLE} (version UInt32, applied_us Int64) ENGINE = TinyLog`);
    await db.command(`INSERT INTO ${MIGRATIONS_TABLE} VALUES (1, 0)`);
    const old = span({ traceId: traceIdOf(5), spanId: spanIdOf(5, 0) });
    await db.command(
      `INSERT INTO spans (trace_key, span_id, kind, service, name, start_us, duration_us, status, arrived_us, record) ` +
        `VALUES ('${old.traceId}', '${old.spanId}', 0, '${old.service}', '${old.name}', ${old.startUs}, ${old.durationUs ?? -1}, 0, 1, '${JSON.stringify(old)}')`,
    );
    const store = await open();
    try {
      assert.deepStrictEqual((await store.findTraces({})).map((h) => h.traceId), [old.traceId]);
    } finally {
      await store.close();
    }
  });

  it('refuses a database whose schema is newer than the code, saying so', async () => {
    const { db, open, database } = fresh();
    await (await open()).close();
    await db.command(`INSERT INTO ${MIGRATIONS_TABLE} VALUES (${SCHEMA_VERSION + 1}, 0)`);
    await assert.rejects(open(), (err: unknown) => {
      assert.ok(err instanceof SchemaTooNewError);
      assert.match(err.message, new RegExp(`database ${database} has schema version ${SCHEMA_VERSION + 1}, newer than this Linktrace knows \\(${SCHEMA_VERSION}\\)`));
      return true;
    });
  });
});

describe('clickhouse store: connections', () => {
  it('sends a request again, once, when the kept-alive connection it went out on was closed unread (keep_alive_timeout)', async () => {
    // A stand-in server that, like ClickHouse past keep_alive_timeout, closes a reused connection
    // without answering the request on it.
    const server = createServer((req, res) => {
      const socket = req.socket as typeof req.socket & { served?: number };
      socket.served = (socket.served ?? 0) + 1;
      if (socket.served > 1) {
        socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive', 'keep-alive': 'timeout=60' });
      res.end(JSON.stringify({ data: [[1]] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const http = new ClickHouseHttp({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      for (let i = 0; i < 3; i++) assert.deepStrictEqual(await http.rows('SELECT 1'), [[1]]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('clickhouse http: a server that hangs', () => {
  it('a request with no answer, or an answer that stops half way, fails as unreachable within the limit', async () => {
    // Accepts the request and answers nothing (a frozen host), or sends headers and half a body.
    const server = createServer((req, res) => {
      if (req.url?.includes('half') === true) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"data": [');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const path of ['/', '/half']) {
        const http = new ClickHouseHttp({ url: url + path }, undefined, 300);
        const started = Date.now();
        await assert.rejects(http.rows('SELECT 1'), (err: unknown) => err instanceof ClickHouseError && err.unreachable && /did not answer within 0\.3 s/.test(err.message));
        assert.ok(Date.now() - started < 5000, 'bounded by the limit, not by the default 300 s');
      }
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('clickhouse store: deletions', () => {
  it('deleteTraces removes every record of the traces and their findings, ignores unknown ids, counts what went', async () => {
    const { open } = fresh();
    const store = await open();
    try {
      await store.writeSpans([1, 2, 3].flatMap((t) => [span({ traceId: traceIdOf(t), spanId: spanIdOf(t, 0) }), span({ traceId: traceIdOf(t), spanId: spanIdOf(t, 1) })]));
      await store.writeFindings([finding(1), finding(3)]);
      assert.deepStrictEqual(await store.deleteTraces([traceIdOf(1), traceIdOf(2), traceIdOf(99), 'not-an-id']), { spans: 4, findings: 1 });
      assert.deepStrictEqual(await store.getTrace(traceIdOf(1)), []);
      assert.equal((await store.getTrace(traceIdOf(3))).length, 2);
      assert.deepStrictEqual((await store.findFindings()).map((f) => f.traceId), [traceIdOf(3)]);
      assert.deepStrictEqual(await store.deleteTraces([]), { spans: 0, findings: 0 });
      assert.equal((await store.stats()).spanRecords, 2);
    } finally {
      await store.close();
    }
  });

  it('keeps the arrival time a caller gives (a replayed write), and retention drops whole arrival days as partitions', async () => {
    const now = NOW_MS;
    const { open, db, database } = fresh(() => now);
    const store = await open();
    try {
      // Replayed from a WAL: arrived three days ago, whatever the clock says now.
      await store.writeSpans([span({ traceId: traceIdOf(1), spanId: spanIdOf(1, 0) })], { arrivedUs: (now - 3 * DAY_MS) * 1000 });
      await store.writeSpans([span({ traceId: traceIdOf(2), spanId: spanIdOf(2, 0) })]);
      const partitions = async () =>
        (await db.rows(`SELECT DISTINCT partition FROM system.parts WHERE database = '${database}' AND table = 'spans' AND active ORDER BY partition`)).length;
      assert.equal(await partitions(), 2);
      assert.deepStrictEqual(await store.deleteBefore((now - DAY_MS) * 1000), { spans: 1, findings: 0, sdkDropReports: 0 });
      assert.equal(await partitions(), 1, 'the old arrival day went as a partition');
      assert.deepStrictEqual(await store.getTrace(traceIdOf(1)), []);
      assert.equal((await store.getTrace(traceIdOf(2))).length, 1);
    } finally {
      await store.close();
    }
  });
});
