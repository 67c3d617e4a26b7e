/**
 * Versioned, idempotent schema migrations of the ClickHouse store (on one node). The applied
 * versions are rows of MIGRATIONS_TABLE; a missing one runs (its statements are IF NOT EXISTS, so a
 * migration interrupted half-way simply runs again), and a database at a version newer than this
 * code knows is refused: an older Linktrace must not write into tables it does not understand.
 */
import type { ClickHouseHttp } from './http-client.js';
import { MIGRATIONS, MIGRATIONS_TABLE, SCHEMA_VERSION } from './schema.js';
import type { Layout } from './schema.js';

export type MigrationLog = (line: string) => void;

/** The database's schema is newer than this code: refuse to start. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly database: string,
    readonly found: number,
  ) {
    super(
      `clickhouse store: database ${database} has schema version ${found}, newer than this Linktrace knows (${SCHEMA_VERSION}); ` +
        `upgrade Linktrace, or point it at another database`,
    );
    this.name = 'SchemaTooNewError';
  }
}

export async function migrate(db: ClickHouseHttp, layout: Layout, log?: MigrationLog): Promise<number> {
  // TinyLog: a handful of rows, on every version; per node, like the tables it describes.
  await db.command(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version UInt32, applied_us Int64) ENGINE = TinyLog`);
  const applied = Number((await db.rows(`SELECT max(version) FROM ${MIGRATIONS_TABLE}`))[0]![0]);
  if (applied > SCHEMA_VERSION) throw new SchemaTooNewError(layout.database, applied);
  for (let v = applied + 1; v <= SCHEMA_VERSION; v++) {
    for (const sql of MIGRATIONS[v - 1]!(layout)) await db.command(sql);
    await db.command(`INSERT INTO ${MIGRATIONS_TABLE} VALUES (${v}, ${Date.now() * 1000})`);
    log?.(`clickhouse store: ${layout.database} migrated to schema version ${v}`);
  }
  return SCHEMA_VERSION;
}
