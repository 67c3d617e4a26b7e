/** What the ClickHouse backend does beyond the shared contract: migrations, deletions by trace, arrival times given by the caller. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { span, spanIdOf, traceIdOf } from '../src/contract/index.js';
import { openClickHouseStore } from '../src/clickhouse/clickhouse-store.js';
import { ClickHouseHttp } from '../src/clickhouse/http-client.js';
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
    assert.deepStrictEqual(await db.rows(`SELECT version FROM ${MIGRATIONS_TABLE}`), [[SCHEMA_VERSION]]);
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
      assert.deepStrictEqual(await store.deleteBefore((now - DAY_MS) * 1000), { spans: 1, findings: 0 });
      assert.equal(await partitions(), 1, 'the old arrival day went as a partition');
      assert.deepStrictEqual(await store.getTrace(traceIdOf(1)), []);
      assert.equal((await store.getTrace(traceIdOf(2))).length, 1);
    } finally {
      await store.close();
    }
  });
});
