/**
 * Helpers for the split-role tests: a nats-server with JetStream started from its binary on a free
 * port with its own store directory (stopped and started again on the same port and directory, as
 * an outage), role options as the CLI parses them, and small probes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { connect, type NatsConnection } from 'nats';
import { freePort } from '@linktrace/storage/clickhouse-testing';
import { parseRoleFlags, type RoleFlags, type RoleName, type RoleOptions } from '../src/roles/role-options.js';
import { tempDir } from './ingest-helpers.js';

export const NATS_BINARY = process.env.LINKTRACE_NATS_SERVER ?? 'nats-server';

/** A missing binary fails loudly: these tests need a real NATS. */
export function assertNatsInstalled(): void {
  const r = spawnSync(NATS_BINARY, ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) throw new Error(`${NATS_BINARY} is not installed (apt-get install nats-server): ${r.error?.message ?? r.stderr}`);
}

export interface LocalNats {
  port: number;
  url: string;
  storeDir: string;
  running: boolean;
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<void>;
  /** Starts again on the same port and store directory (what JetStream acknowledged is still there). */
  start(): Promise<void>;
  /** Stops it and removes its store directory. */
  destroy(): Promise<void>;
}

/** `args`: more nats-server flags, e.g. `['--user', 'u', '--pass', 'p']`. */
export async function startLocalNats(port?: number, args: string[] = []): Promise<LocalNats> {
  assertNatsInstalled();
  const chosen = port ?? (await freePort());
  const storeDir = await tempDir('linktrace-nats-');
  let child: ChildProcess | undefined;
  const nats: LocalNats = {
    port: chosen,
    url: `nats://127.0.0.1:${chosen}`,
    storeDir,
    running: false,
    async start() {
      const proc = spawn(NATS_BINARY, ['-js', '-a', '127.0.0.1', '-p', String(chosen), '-sd', storeDir, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = proc;
      let log = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nats-server did not start within 20 s: ${log}`)), 20_000);
        proc.stderr!.on('data', (chunk: Buffer) => {
          log += chunk.toString();
          if (log.includes('Server is ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
        proc.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`nats-server exited with ${code}: ${log}`));
        });
      });
      proc.stderr!.resume();
      nats.running = true;
    },
    async stop() {
      const proc = child;
      if (proc === undefined || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
      nats.running = false;
    },
    async destroy() {
      await nats.stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
  await nats.start();
  return nats;
}

/** A port nothing listens on (NATS down at start). */
export async function unusedNatsUrl(): Promise<{ port: number; url: string }> {
  const port = await freePort();
  return { port, url: `nats://127.0.0.1:${port}` };
}

/** Role options as the CLI parses them, on free ports (gRPC off unless asked for). */
export function roleOptions(role: RoleName, flags: RoleFlags): RoleOptions {
  return parseRoleFlags(role, { port: '0', grpcPort: '0', ui: false, ...flags }, {});
}

export async function natsClient(url: string): Promise<NatsConnection> {
  return connect({ servers: url });
}

/** Polls `probe` every 50 ms until it returns a value, at most `ms`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One counter's value in a Prometheus text exposition (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
