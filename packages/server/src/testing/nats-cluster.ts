/**
 * Starts a NATS cluster with JetStream from the `nats-server` binary: each node a child process on
 * free loopback ports (client, cluster routes, monitoring) with a config and JetStream store of its
 * own under a temp directory. For the split-role tests and the scale bench (issue 14); not a
 * deployment tool (docs/deploy.md has the production settings).
 *
 * A missing binary is an error, never a skip, as for clickhouse-server: the roles must be tested
 * wherever the suite runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@linktrace/storage/clickhouse-testing';
import { processCpuSeconds } from './process-cpu.js';

export const NATS_BINARY = process.env.LINKTRACE_NATS_SERVER ?? 'nats-server';

export interface NatsNode {
  name: string;
  /** `nats://127.0.0.1:<port>`. */
  url: string;
  clientPort: number;
  clusterPort: number;
  monitorPort: number;
  dir: string;
  /** The running process's id; undefined while the node is down. */
  pid(): number | undefined;
  running(): boolean;
  /** SIGKILL, as a crash: no goodbye to its peers; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and store (after `kill`); resolves once it is back in the cluster. */
  restart(): Promise<void>;
  /** GET on its monitoring port (`/jsz`, `/healthz`, `/routez`, …), parsed. */
  monitor<T = Record<string, unknown>>(path: string): Promise<T>;
  cpuSeconds(): Promise<number | undefined>;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's URL, comma-separated: what a client is given to fail over between nodes. */
  urls: string;
  /** The JetStream meta leader's server name, as the first running node sees it. */
  metaLeader(): Promise<string | undefined>;
  /** The server name leading a stream's replicas (what to kill to hurt it most), or undefined when none is known. */
  streamLeader(stream: string): Promise<string | undefined>;
  /** Resolves once every running node reports JetStream healthy and agrees on a running meta leader. */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops every node (SIGTERM, SIGKILL after 10 s) and removes the directories. */
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  /** Number of nodes; 3 by default (the smallest cluster that keeps a quorum with one node down). */
  size?: number;
  /** The cluster's name (`cluster { name }`). */
  name?: string;
  /** JetStream file store limit per node, bytes (default 2 GiB). */
  maxFileStore?: number;
}

export function assertNatsInstalled(): void {
  const r = spawnSync('sh', ['-c', `command -v ${NATS_BINARY}`], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${NATS_BINARY} is not installed: the split-role tests need it (apt-get install -y nats-server)`);
  }
}

interface NodePorts {
  client: number;
  cluster: number;
  monitor: number;
}

function configText(name: string, cluster: string, dir: string, own: NodePorts, peers: NodePorts[], maxFileStore: number): string {
  const routes = peers.map((p) => `"nats-route://127.0.0.1:${p.cluster}"`).join(', ');
  // Quoted strings throughout: nats-server's config parser reads bare 127.0.0.1:4222 as host:port,
  // but a temp path with odd characters must not be read as anything else.
  return `server_name: "${name}"
listen: "127.0.0.1:${own.client}"
http: "127.0.0.1:${own.monitor}"
log_file: "${join(dir, 'nats.log')}"
jetstream {
  store_dir: "${join(dir, 'js')}"
  max_memory_store: 268435456
  max_file_store: ${maxFileStore}
}
cluster {
  name: "${cluster}"
  listen: "127.0.0.1:${own.cluster}"
  routes: [${routes}]
}
`;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const text = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number };
  account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[];
}

/** Starts the cluster; resolves once JetStream has a meta leader that every node agrees on. */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  assertNatsInstalled();
  const size = options.size ?? 3;
  const clusterName = options.name ?? 'lt';
  const maxFileStore = options.maxFileStore ?? 2 * 1024 ** 3;
  const root = await mkdtemp(join(tmpdir(), 'lt-nats-'));
  const ports: NodePorts[] = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), cluster: await freePort(), monitor: await freePort() });

  const nodes: NatsNode[] = [];
  for (let i = 0; i < size; i++) {
    const name = `${clusterName}-n${i + 1}`;
    const dir = join(root, name);
    await mkdir(join(dir, 'js'), { recursive: true });
    const own = ports[i]!;
    const config = join(dir, 'nats.conf');
    await writeFile(config, configText(name, clusterName, dir, own, ports.filter((_, j) => j !== i), maxFileStore));
    let child: ChildProcess | undefined;
    let gone: Promise<void> = Promise.resolve();
    const launch = (): void => {
      const c = spawn(NATS_BINARY, ['-c', config], { stdio: ['ignore', 'ignore', 'ignore'] });
      child = c;
      gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    };
    const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
    const monitor = <T>(path: string): Promise<T> => getJson<T>(`http://127.0.0.1:${own.monitor}${path}`);
    const node: NatsNode = {
      name,
      url: `nats://127.0.0.1:${own.client}`,
      clientPort: own.client,
      clusterPort: own.cluster,
      monitorPort: own.monitor,
      dir,
      pid: () => (running() ? child?.pid : undefined),
      running,
      async kill() {
        if (running()) child!.kill('SIGKILL');
        await gone;
      },
      async restart() {
        if (running()) throw new Error(`${name} is running`);
        launch();
        await cluster.ready();
      },
      monitor,
      cpuSeconds: async () => (running() ? processCpuSeconds(child!.pid!) : undefined),
    };
    launch();
    nodes.push(node);
  }

  const cluster: NatsCluster = {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    async metaLeader() {
      for (const n of nodes) {
        if (!n.running()) continue;
        try {
          return (await n.monitor<Jsz>('/jsz')).meta_cluster?.leader || undefined;
        } catch {
          return undefined;
        }
      }
      return undefined;
    },
    async streamLeader(stream) {
      for (const n of nodes) {
        if (!n.running()) continue;
        try {
          const jsz = await n.monitor<Jsz>('/jsz?accounts=true&streams=true');
          for (const account of jsz.account_details ?? []) {
            const leader = account.stream_detail?.find((s) => s.name === stream)?.cluster?.leader;
            if (leader) return leader;
          }
        } catch {
          // This node does not answer: ask the next.
        }
      }
      return undefined;
    },
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer yet';
      while (Date.now() < deadline) {
        const up = nodes.filter((n) => n.running());
        if (up.length === 0) throw new Error('every NATS node has exited; see nats.log under ' + root);
        try {
          const leaders = new Set<string>();
          for (const n of up) {
            const health = await fetch(`http://127.0.0.1:${n.monitorPort}/healthz`);
            if (!health.ok) throw new Error(`${n.name} /healthz: ${health.status} ${await health.text()}`);
            leaders.add((await n.monitor<Jsz>('/jsz')).meta_cluster?.leader ?? '');
          }
          // A crashed leader is still named by its peers until they miss its heartbeats.
          const leader = [...leaders][0];
          if (leaders.size === 1 && up.some((n) => n.name === leader)) return;
          last = `meta leaders seen: ${[...leaders].map((l) => l || '(none)').join(', ')}`;
        } catch (err) {
          last = (err as Error).message;
        }
        await sleep(200);
      }
      const logs = await Promise.all(nodes.map(async (n) => `${n.name}: ${(await readFile(join(n.dir, 'nats.log'), 'utf8').catch(() => '')).slice(-1500)}`));
      throw new Error(`the NATS cluster is not ready after ${timeoutMs} ms (${last}); logs:\n${logs.join('\n')}`);
    },
    async stop() {
      await Promise.all(
        nodes.map(async (n) => {
          const pid = n.pid();
          if (pid === undefined) return;
          process.kill(pid, 'SIGTERM');
          const timer = setTimeout(() => void n.kill(), 10_000);
          while (n.running()) await sleep(50);
          clearTimeout(timer);
        }),
      );
      await rm(root, { recursive: true, force: true });
    },
  };
  try {
    await cluster.ready();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
