/**
 * The ClickHouse backend over a two-shard cluster on loopback: two clickhouse-server processes
 * sharing a `<remote_servers>` definition, the store writing and reading through `Distributed`
 * tables (spans sharded by trace). The whole contract suite runs against it.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { span, spanIdOf, traceIdOf } from '../src/contract/index.js';
import { runStorageContract } from '../src/contract/index.js';
import type { ContractStoreOptions } from '../src/contract/index.js';
import { openClickHouseStore } from '../src/clickhouse/clickhouse-store.js';
import { ClickHouseHttp } from '../src/clickhouse/http-client.js';
import { clusterXml, freePort, startLocalClickHouse } from '../src/clickhouse/local-server.js';
import type { LocalClickHouse } from '../src/clickhouse/local-server.js';

const CLUSTER = 'lt_two_shards';
let servers: LocalClickHouse[] = [];
let databases = 0;

before(async () => {
  const ports = [];
  for (let i = 0; i < 2; i++) ports.push({ http: await freePort(), tcp: await freePort(), interserver: await freePort() });
  const remoteServers = clusterXml(CLUSTER, ports.map((p) => p.tcp));
  servers = await Promise.all(ports.map((p) => startLocalClickHouse({ ports: p, remoteServers })));
});
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function clustered(contract: ContractStoreOptions = {}) {
  const nodes = servers.map((s) => ({ url: s.httpUrl }));
  const database = `lt_cluster_${++databases}`;
  const open = () => openClickHouseStore({ endpoint: nodes[0]!, nodes, cluster: CLUSTER, database, ...contract });
  return {
    store: await open(),
    reopen: open,
    dispose: async () => {
      for (const n of nodes) await new ClickHouseHttp(n).command(`DROP DATABASE IF EXISTS ${database}`);
    },
  };
}

runStorageContract('clickhouse (two shards, Distributed tables)', clustered);

it('spreads traces over both shards, each trace whole on one, and reads them back through the Distributed tables', async () => {
  const { store, dispose } = await clustered();
  try {
    const spans = [];
    for (let t = 1; t <= 40; t++) for (let i = 0; i < 3; i++) spans.push(span({ traceId: traceIdOf(t), spanId: spanIdOf(t, i) }));
    await store.writeSpans(spans);
    const database = `lt_cluster_${databases}`;
    const perShard = [];
    for (const s of servers) {
      const node = new ClickHouseHttp({ url: s.httpUrl }, database);
      perShard.push(Number((await node.rows('SELECT count() FROM spans_local'))[0]![0]));
      // A trace never straddles shards (sharding key: the trace).
      const split = await node.rows('SELECT trace_key, count() AS n FROM spans_local GROUP BY trace_key HAVING n <> 3');
      assert.deepStrictEqual(split, []);
    }
    assert.ok(perShard.every((n) => n > 0), `rows per shard: ${perShard.join(', ')}`);
    assert.equal(perShard[0]! + perShard[1]!, 120);
    assert.equal((await store.getTrace(traceIdOf(7))).length, 3);
    assert.equal((await store.stats()).spanRecords, 120);
  } finally {
    await store.close();
    await dispose();
  }
});
