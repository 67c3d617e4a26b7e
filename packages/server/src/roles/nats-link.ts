/**
 * A role's connection to NATS JetStream. NATS down at start is not fatal: the role listens at once,
 * `/healthz` says why, and the link retries with backoff (1 s doubling to 30 s) until it connects and
 * has made sure of the streams (jetstream-setup.ts). Once connected, the client reconnects by itself
 * after NATS goes away mid-stream; `ready` is false meanwhile, and the collector answers 503.
 */
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import type { NatsOptions, RoleName } from './role-options.js';
import { ensureStreams, LayoutError, type StreamLayout } from './jetstream-setup.js';

export interface NatsLinkStatus {
  connected: boolean;
  /** Why the link is not ready (not connected yet, disconnected, the streams could not be set up). */
  error?: string;
  /** The server it is connected to. */
  server?: string;
  partitions?: number;
}

export interface Linked {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  layout: StreamLayout;
}

export interface NatsLinkOptions {
  role: RoleName;
  nats: NatsOptions;
  warn: (line: string) => void;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** The stream cannot be used as configured (LayoutError): the link stops trying; the CLI exits with the message. */
  fatal?: (error: Error) => void;
}

export class NatsLink {
  private linked: Linked | undefined;
  private connected = false;
  private error: string | undefined = 'connecting to NATS';
  private closed = false;
  private readonly waiters: ((l: Linked) => void)[] = [];
  private readonly running: Promise<void>;
  private sleep: { timer: NodeJS.Timeout; wake: () => void } | undefined;

  constructor(private readonly options: NatsLinkOptions) {
    this.running = this.run();
  }

  /** Connected, and the streams are set up. */
  get ready(): boolean {
    return this.linked !== undefined && this.connected;
  }

  /** The connection once set up (it stays the same across reconnects); undefined before. */
  get current(): Linked | undefined {
    return this.linked;
  }

  /** Resolves once the link is set up the first time (never, if it is closed before). */
  whenLinked(): Promise<Linked> {
    return this.linked !== undefined ? Promise.resolve(this.linked) : new Promise((resolve) => this.waiters.push(resolve));
  }

  status(): NatsLinkStatus {
    const s: NatsLinkStatus = { connected: this.ready };
    if (!this.ready && this.error !== undefined) s.error = this.error;
    if (this.linked !== undefined) {
      s.server = this.linked.nc.getServer();
      s.partitions = this.linked.layout.partitions;
    }
    return s;
  }

  /** Why the link is not ready, for answers and logs; undefined when it is. */
  reason(): string | undefined {
    return this.ready ? undefined : (this.error ?? 'not connected to NATS');
  }

  private async run(): Promise<void> {
    let delay = this.options.firstDelayMs ?? 1000;
    const maxDelay = this.options.maxDelayMs ?? 30_000;
    const servers = this.options.nats.servers.join(',');
    while (!this.closed) {
      let nc: NatsConnection | undefined;
      try {
        nc = await connect({
          servers: this.options.nats.servers,
          user: this.options.nats.user,
          pass: this.options.nats.pass,
          token: this.options.nats.token,
          name: `linktrace-${this.options.role}`,
          // Once connected, reconnect for ever: a role outlives NATS restarts and node failures.
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
          timeout: 5000,
        });
        const jsm = await nc.jetstreamManager({ timeout: 5000 });
        const layout = await ensureStreams(jsm, this.options.nats, this.options.warn);
        if (this.closed) {
          await nc.close();
          return;
        }
        this.watch(nc);
        this.connected = !nc.isClosed();
        this.error = undefined;
        this.linked = { nc, js: nc.jetstream({ timeout: 5000 }), jsm, layout };
        for (const w of this.waiters.splice(0)) w(this.linked);
        return;
      } catch (error) {
        await nc?.close().catch(() => undefined);
        this.error = `NATS ${servers}: ${natsProblem(error as Error)}`;
        if (error instanceof LayoutError) {
          // Said once: whoever takes the fatal error reports it (the CLI: "cannot run: …" and exit 1).
          if (this.options.fatal !== undefined) this.options.fatal(error);
          else this.options.warn(`linktrace ${this.options.role}: ${error.message}`);
          return;
        }
        this.options.warn(`linktrace ${this.options.role}: cannot use ${this.error}; retrying in ${delay / 1000}s (/healthz says why meanwhile)`);
      }
      await new Promise<void>((resolve) => {
        this.sleep = { timer: setTimeout(resolve, delay), wake: resolve };
      });
      this.sleep = undefined;
      delay = Math.min(delay * 2, maxDelay);
    }
  }

  /** Follows the client's status events: disconnected until it reconnects. */
  private watch(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnecting' || s.type === 'staleConnection') {
          if (this.connected) this.options.warn(`linktrace ${this.options.role}: lost NATS (${String(s.data)}); reconnecting`);
          this.connected = false;
          this.error = `disconnected from NATS ${String(s.data)}; reconnecting`;
        } else if (s.type === 'reconnect') {
          this.connected = true;
          this.error = undefined;
          this.options.warn(`linktrace ${this.options.role}: reconnected to NATS ${String(s.data)}`);
        } else if (s.type === 'error') {
          this.error = `NATS: ${String(s.data)}`;
        }
      }
    })();
    void nc.closed().then((err) => {
      this.connected = false;
      if (!this.closed) this.error = `the NATS connection closed${err === undefined ? '' : `: ${err.message}`}`;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sleep !== undefined) {
      clearTimeout(this.sleep.timer);
      this.sleep.wake();
    }
    await this.running;
    const nc = this.linked?.nc;
    if (nc !== undefined && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }
}

/**
 * nats.js reports a JetStream API request nobody answers as a bare "503" (no responders): the server
 * runs without JetStream, or the account has none. Said in words, since the roles cannot work then.
 */
export function natsProblem(error: Error): string {
  if (error.message === '503') return '503 no responders: JetStream does not answer on this server (start nats-server with -js, or enable jetstream for the account)';
  if ((error as { code?: string }).code === 'AUTHORIZATION_VIOLATION' || /authorization violation/i.test(error.message)) {
    return `${error.message}: the server refused the credentials (give them as nats://user:password@host or nats://token@host in --nats, or LINKTRACE_NATS_USER / LINKTRACE_NATS_PASSWORD / LINKTRACE_NATS_TOKEN)`;
  }
  return error.message;
}
