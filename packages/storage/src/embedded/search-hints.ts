/** Builds the search hints of a store from what its file holds (at open) and keeps them current. */
import type { DuckDBConnection } from '@duckdb/node-api';
import { BagRegistry, KeyRegistry } from './bag-registry.js';
import type { SearchHints } from './query-sql.js';
import { REST_KEYS_SQL, SIDE_KEYS_SQL } from './schema.js';
import { unescapeText } from './text-codec.js';

export interface WrittenSets {
  resources: BagRegistry;
  scopes: BagRegistry;
  restKeys: KeyRegistry;
  sideKeys: KeyRegistry;
  hints: SearchHints;
}

/**
 * Reads the distinct resource and scope texts, list keys and event/link keys already stored.
 * `over` turns a statement on `spans` into one the connection can run (the block store defines
 * `spans` over its files).
 */
export async function loadWrittenSets(c: DuckDBConnection, over: (sql: string) => string = (sql) => sql): Promise<WrittenSets> {
  const resources = new BagRegistry();
  const scopes = new BagRegistry();
  const restKeys = new KeyRegistry();
  const sideKeys = new KeyRegistry();
  const fill = async (sql: string, add: (text: string) => void): Promise<void> => {
    for (const r of (await c.runAndReadAll(over(sql))).getRowsJS()) add(r[0] as string);
  };
  await fill(`SELECT DISTINCT resource FROM spans WHERE resource IS NOT NULL`, (t) => resources.add(t));
  await fill(`SELECT DISTINCT scope_attrs FROM spans WHERE scope_attrs IS NOT NULL`, (t) => scopes.add(t));
  await fill(REST_KEYS_SQL, (t) => restKeys.add(unescapeText(t)));
  await fill(SIDE_KEYS_SQL, (t) => sideKeys.add(unescapeText(t)));
  const hints: SearchHints = {
    resources: (n) => resources.matching(n),
    scopes: (n) => scopes.matching(n),
    restMayHold: (k) => restKeys.mayHold(k),
    sideMayHold: (k) => sideKeys.mayHold(k),
  };
  return { resources, scopes, restKeys, sideKeys, hints };
}
