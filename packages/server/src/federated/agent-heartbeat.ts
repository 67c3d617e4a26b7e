/**
 * The agent's heartbeat: every interval it tells the gateway who it is and what it serves
 * (`POST <gateway>/api/v1/agents`). The gateway being down changes nothing for the agent: spans are
 * still taken and stored, the heartbeat keeps trying, and the operator is told once per outage.
 */
import type { AgentInfo } from '@linktrace/storage';

export interface HeartbeatOptions {
  gateway: string;
  intervalMs: number;
  info: () => AgentInfo;
  token?: string;
  warn: (line: string) => void;
  print: (line: string) => void;
}

export class AgentHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private inFlight: Promise<void> | undefined;
  /** Heartbeats the gateway took, and those that failed. */
  sent = 0;
  failed = 0;

  constructor(private readonly options: HeartbeatOptions) {}

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** One heartbeat (skipped while the previous one is still out). */
  beat(): Promise<void> {
    this.inFlight ??= this.send().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async send(): Promise<void> {
    const { gateway, token } = this.options;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    try {
      const response = await fetch(`${gateway}/api/v1/agents`, {
        method: 'POST',
        headers,
        body: JSON.stringify(this.options.info()),
        signal: AbortSignal.timeout(Math.max(1000, Math.min(this.options.intervalMs, 10_000))),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`HTTP ${response.status} ${text.slice(0, 200)}`);
      this.sent++;
      if (this.failing) this.options.print(`linktrace agent: gateway ${gateway} takes heartbeats again`);
      this.failing = false;
    } catch (error) {
      this.failed++;
      if (!this.failing) {
        const e = error as { message?: string; cause?: { code?: string } };
        this.options.warn(`linktrace agent: heartbeat to ${gateway} failed (${e.cause?.code ?? e.message ?? String(error)}); spans are still stored here, retrying every ${this.options.intervalMs} ms`);
      }
      this.failing = true;
    }
  }
}
