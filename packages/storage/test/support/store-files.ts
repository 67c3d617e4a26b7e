import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';

/** A temporary root for one test file's stores (removed after it); each call gives a new data dir. */
export function freshDirs(prefix: string): () => string {
  let root = '';
  let dirs = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return () => join(root, `d${++dirs}`);
}

/** Reads the database file directly (the store must be closed). */
export async function readDatabase(dataDir: string, query: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(join(dataDir, 'linktrace.duckdb'));
  try {
    const c = await db.connect();
    try {
      return (await c.runAndReadAll(query)).getRowsJS();
    } finally {
      c.closeSync();
    }
  } finally {
    db.closeSync();
  }
}
