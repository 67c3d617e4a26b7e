/**
 * The storage contract suite against the ClickHouse backend, on a clickhouse-server this file
 * starts (one for the whole file: startup costs about a second and a half). Each store gets a
 * database of its own, dropped afterwards. A missing binary fails the file (local-server.ts).
 */
import { after, before } from 'node:test';
import { runStorageContract } from '../src/contract/index.js';
import type { ContractStoreOptions } from '../src/contract/index.js';
import { openClickHouseStore } from '../src/clickhouse/clickhouse-store.js';
import { ClickHouseHttp } from '../src/clickhouse/http-client.js';
import { startLocalClickHouse } from '../src/clickhouse/local-server.js';
import type { LocalClickHouse } from '../src/clickhouse/local-server.js';

let server: LocalClickHouse | undefined;
let databases = 0;

before(async () => {
  server = await startLocalClickHouse();
});
after(async () => {
  await server?.stop();
});

async function clickhouse(contract: ContractStoreOptions = {}) {
  const endpoint = { url: server!.httpUrl };
  const database = `lt_contract_${++databases}`;
  const open = () => openClickHouseStore({ endpoint, database, ...contract });
  return {
    store: await open(),
    reopen: open,
    dispose: () => new ClickHouseHttp(endpoint).command(`DROP DATABASE IF EXISTS ${database}`),
  };
}

runStorageContract('clickhouse (single server)', clickhouse);
