/**
 * The split-role harness itself (`@linktrace/server/scale-testing`), so that the fault test and the
 * scale bench stand on something tested: a three-node NATS cluster whose JetStream survives its meta
 * leader's crash and takes the node back; two ClickHouse shards that know their cluster; a role
 * process that becomes ready, is charged CPU, and dies by SIGKILL like a crash.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'nats';
import { ClickHouseHttp } from '@linktrace/storage/clickhouse-testing';
import { startClickHouseShards, startNatsCluster, startRole, type ClickHouseShards, type NatsCluster } from '../src/testing/index.js';
import { tempDir } from './ingest-helpers.js';

interface Routez {
  num_routes: number;
}
interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number; replicas?: { name: string; current: boolean }[] };
}

describe('a three-node NATS cluster with JetStream', () => {
  let nats: NatsCluster;
  before(async () => {
    nats = await startNatsCluster();
  });
  after(async () => {
    await nats?.stop();
  });

  it('routes every node to the other two and elects one meta leader', async () => {
    assert.equal(nats.nodes.length, 3);
    assert.equal(nats.urls.split(',').length, 3);
    for (const n of nats.nodes) assert.equal((await n.monitor<Routez>('/routez')).num_routes, 2, `${n.name} routes`);
    const leader = await nats.metaLeader();
    assert.ok(nats.nodes.some((n) => n.name === leader), `leader ${leader}`);
    const jsz = await nats.nodes[0]!.monitor<Jsz>('/jsz');
    assert.equal(jsz.meta_cluster?.cluster_size, 3);
  });

  it('names the node leading a replicated stream (what the fault test kills)', async () => {
    assert.equal(await nats.streamLeader('LT_HARNESS'), undefined, 'no such stream yet');
    const nc = await connect({ servers: nats.urls.split(',') });
    try {
      await (await nc.jetstreamManager()).streams.add({ name: 'LT_HARNESS', subjects: ['lt.harness'], num_replicas: 3 });
      let leader: string | undefined;
      for (let i = 0; i < 100 && leader === undefined; i++) {
        leader = await nats.streamLeader('LT_HARNESS');
        if (leader === undefined) await sleep(100);
      }
      assert.ok(nats.nodes.some((n) => n.name === leader), `stream leader ${leader}`);
    } finally {
      await nc.close();
    }
  });

  it('keeps a JetStream quorum when the meta leader is SIGKILLed, and takes the node back on restart', async () => {
    const leaderName = await nats.metaLeader();
    const leader = nats.nodes.find((n) => n.name === leaderName)!;
    await leader.kill();
    assert.equal(leader.running(), false);
    assert.equal(leader.pid(), undefined);
    await nats.ready();
    const next = await nats.metaLeader();
    assert.notEqual(next, leaderName, 'a surviving node leads');
    assert.ok(next !== undefined);
    await leader.restart();
    for (const n of nats.nodes) assert.equal((await n.monitor<Routez>('/routez')).num_routes, 2, `${n.name} routes after the restart`);
    assert.ok(((await leader.cpuSeconds()) ?? -1) >= 0);
  });
});

describe('two ClickHouse shards', () => {
  let ch: ClickHouseShards;
  before(async () => {
    ch = await startClickHouseShards({ cluster: 'lt_harness' });
  });
  after(async () => {
    await ch?.stop();
  });

  it('define the named cluster with one shard per server, and give a --store URL naming both', async () => {
    const rows = await new ClickHouseHttp({ url: ch.servers[0]!.httpUrl }).rows(`SELECT shard_num, port FROM system.clusters WHERE cluster = 'lt_harness' ORDER BY shard_num`);
    assert.deepEqual(rows.map((r) => Number(r[1])), ch.servers.map((s) => s.tcpPort));
    assert.deepEqual(ch.storeFlags('db1'), [
      '--store',
      `clickhouse://127.0.0.1:${ch.servers[0]!.httpPort},127.0.0.1:${ch.servers[1]!.httpPort}/db1`,
      '--clickhouse-cluster',
      'lt_harness',
    ]);
    assert.ok((await ch.cpuSeconds()) > 0);
  });
});

describe('a role process', () => {
  it('becomes ready with its URL, is charged CPU, and dies by SIGKILL', async () => {
    const data = await tempDir();
    try {
      const serve = await startRole('serve', ['--port', '0', '--grpc-port', '0', '--data', data, '--no-ui'], { label: 'serve#1' });
      try {
        assert.match(serve.url ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.equal((await fetch(`${serve.url}/healthz`)).status, 200);
        assert.ok((await serve.cpuSeconds()) > 0, 'a started node process has used CPU');
      } finally {
        const exit = await serve.kill();
        assert.deepEqual(exit, { code: null, signal: 'SIGKILL' });
      }
      assert.equal(serve.running(), false);
      assert.ok((await serve.cpuSeconds()) > 0, 'the last reading stays after exit');
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });

  it('that exits before its ready line rejects with what it printed', async () => {
    await assert.rejects(startRole('serve', ['--port', 'not-a-port']), /did not become ready \(exited\).*--port/s);
  });
});
