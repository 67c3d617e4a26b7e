/** Reads traces, findings and metrics back from a running `linktrace serve`, as any client would. */
import { setTimeout as delay } from 'node:timers/promises';
import type { TraceView } from '@linktrace/server';

export interface FindingJson {
  traceId: string;
  rule: string;
  service: string;
  spanId: string;
  message: string;
}

interface TraceSummaryJson {
  traceId: string;
  startUs: number;
  spanCount: number;
  services: string[];
  root?: { service: string; name: string };
}

/** Polls `check` every 100 ms until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
    await delay(100);
  }
}

export class QueryClient {
  constructor(private readonly base: string) {}

  async getJson<T>(path: string): Promise<T> {
    const res = await fetch(this.base + path);
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  /** Traces with a span of `service` that started at or after `sinceUs`, newest first. */
  async tracesSince(service: string, sinceUs: number): Promise<TraceSummaryJson[]> {
    const { traces } = await this.getJson<{ traces: TraceSummaryJson[] }>(`/api/v1/traces?service=${encodeURIComponent(service)}&start=${sinceUs}&limit=100`);
    return traces;
  }

  async trace(traceId: string): Promise<TraceView> {
    return this.getJson<TraceView>(`/api/v1/traces/${traceId}`);
  }

  async findings(traceId: string): Promise<FindingJson[]> {
    const { findings } = await this.getJson<{ findings: FindingJson[] }>(`/api/v1/findings?traceId=${traceId}`);
    return findings;
  }

  async metric(name: string): Promise<number> {
    const res = await fetch(`${this.base}/metrics`);
    const text = await res.text();
    let sum = 0;
    let found = false;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      found = true;
    }
    if (!found) throw new Error(`metric ${name} not in /metrics`);
    return sum;
  }
}
