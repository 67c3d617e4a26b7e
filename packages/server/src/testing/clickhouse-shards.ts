/**
 * A ClickHouse cluster of single-replica shards on loopback, one `clickhouse-server` process each
 * (the storage package's `startLocalClickHouse`, as its two-shard contract test does), and the
 * `--store` URL and `--clickhouse-cluster` flags that point a role at it.
 */
import { clusterXml, freePort, startLocalClickHouse, type LocalClickHouse } from '@linktrace/storage/clickhouse-testing';

export interface ClickHouseShards {
  servers: LocalClickHouse[];
  cluster: string;
  /** `clickhouse://127.0.0.1:<a>,127.0.0.1:<b>/<database>`: every node, so migrations run on each. */
  storeUrl(database: string): string;
  /** `['--store', url, '--clickhouse-cluster', name]` for a role's command line. */
  storeFlags(database: string): string[];
  /** Every server's CPU seconds so far, summed. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

export async function startClickHouseShards(options: { shards?: number; cluster?: string } = {}): Promise<ClickHouseShards> {
  const cluster = options.cluster ?? 'lt_shards';
  const ports = [];
  for (let i = 0; i < (options.shards ?? 2); i++) ports.push({ http: await freePort(), tcp: await freePort(), interserver: await freePort() });
  const remoteServers = clusterXml(cluster, ports.map((p) => p.tcp));
  const started = await Promise.allSettled(ports.map((p) => startLocalClickHouse({ ports: p, remoteServers })));
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(servers.map((s) => s.stop()));
    throw failed.reason;
  }
  const storeUrl = (database: string): string => `clickhouse://${servers.map((s) => `127.0.0.1:${s.httpPort}`).join(',')}/${database}`;
  return {
    servers,
    cluster,
    storeUrl,
    storeFlags: (database) => ['--store', storeUrl(database), '--clickhouse-cluster', cluster],
    async cpuSeconds() {
      let sum = 0;
      for (const s of servers) sum += await s.cpuSeconds();
      return sum;
    },
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
