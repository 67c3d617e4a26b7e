/**
 * Starts `clickhouse-server` from its binary as a child process on free loopback ports, with a
 * config, users file and data directory of its own under a temp directory: for tests (DESIGN §8:
 * tests spawn the server when it is installed) and the ClickHouse measurement. Not a deployment tool.
 *
 * A missing binary is an error, never a skip: the ClickHouse backend must be tested wherever the
 * suite runs (`.ci/run` installs Debian's clickhouse-server).
 *
 * Version note: the root element is `<yandex>`, which ClickHouse 18.16 (Debian 12) requires and
 * current releases still accept (they prefer `<clickhouse>`).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const CLICKHOUSE_BINARY = process.env.LINKTRACE_CLICKHOUSE_SERVER ?? 'clickhouse-server';

export interface LocalClickHouse {
  /** `http://127.0.0.1:<port>` of the HTTP interface. */
  httpUrl: string;
  httpPort: number;
  tcpPort: number;
  dir: string;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s); `keepDir` leaves its directory. */
  stop(keepDir?: boolean): Promise<void>;
  /** Server CPU seconds so far (user + system, from /proc), for measurements. */
  cpuSeconds(): Promise<number>;
  pid: number;
}

export interface LocalClickHouseOptions {
  /** `<remote_servers>` body: cluster definitions (see `clusterXml`). */
  remoteServers?: string;
  /** Ports to use instead of free ones (a restart on the same ports). */
  ports?: { http: number; tcp: number; interserver: number };
  /** Reuse this directory (a restart keeping the data). */
  dir?: string;
}

/** Fails loudly when the binary is not installed. */
export function assertClickHouseInstalled(): void {
  const r = spawnSync('sh', ['-c', `command -v ${CLICKHOUSE_BINARY}`], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `${CLICKHOUSE_BINARY} is not installed: the ClickHouse backend's tests need it (apt-get install -y clickhouse-server, as .ci/run does)`,
    );
  }
}

/** A free TCP port on 127.0.0.1 (free now; the server binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A `<remote_servers>` entry: cluster `name` with one single-replica shard per tcp port on loopback. */
export function clusterXml(name: string, tcpPorts: readonly number[]): string {
  const shards = tcpPorts
    .map((p) => `<shard><replica><host>127.0.0.1</host><port>${p}</port></replica></shard>`)
    .join('');
  return `<${name}>${shards}</${name}>`;
}

function configXml(dir: string, ports: { http: number; tcp: number; interserver: number }, remoteServers: string): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${dir}/log/server.log</log>
    <errorlog>${dir}/log/error.log</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${ports.http}</http_port>
  <tcp_port>${ports.tcp}</tcp_port>
  <interserver_http_port>${ports.interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>0</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <remote_servers>${remoteServers}</remote_servers>
</yandex>
`;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_threads>2</max_threads></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`;

/** Resolves once `GET /ping` answers `Ok.`; rejects when the process exits or `timeoutMs` passes. */
async function waitForPing(url: string, child: ChildProcess, dir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited (${code ?? signal})`));
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    try {
      const res = await fetch(`${url}/ping`);
      if (res.ok && (await res.text()).startsWith('Ok')) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  const log = await readFile(join(dir, 'log', 'error.log'), 'utf8').catch(() => '');
  throw new Error(`clickhouse-server ${exited ?? 'did not answer /ping in time'}; its error log:\n${log.slice(-2000)}`);
}

/** Starts a server; stop it with `stop()`. */
export async function startLocalClickHouse(options: LocalClickHouseOptions = {}): Promise<LocalClickHouse> {
  assertClickHouseInstalled();
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'lt-clickhouse-')));
  for (const sub of ['log', 'data', 'tmp', 'user_files', 'format_schemas']) await mkdir(join(dir, sub), { recursive: true });
  const ports = options.ports ?? { http: await freePort(), tcp: await freePort(), interserver: await freePort() };
  await writeFile(join(dir, 'config.xml'), configXml(dir, ports, options.remoteServers ?? ''));
  await writeFile(join(dir, 'users.xml'), USERS_XML);
  const child = spawn(CLICKHOUSE_BINARY, [`--config-file=${join(dir, 'config.xml')}`], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const httpUrl = `http://127.0.0.1:${ports.http}`;
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    await waitForPing(httpUrl, child, dir, 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    httpUrl,
    httpPort: ports.http,
    tcpPort: ports.tcp,
    dir,
    pid: child.pid!,
    async cpuSeconds() {
      const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 (1-based) of the whole line: 11 and 12 after the name.
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    async stop(keepDir = false) {
      if (!exited) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(timer);
      }
      if (!keepDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

// For measurements of the stored form (bench/src/clickhouse-store.ts).
export { encodeRecord, searchPairs, traceKey } from './span-record.js';
export { ClickHouseHttp } from './http-client.js';
