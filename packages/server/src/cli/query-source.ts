/**
 * Where `linktrace trace` and `linktrace search` read from: the embedded store under `--data`, or
 * a running server's native API (`--server`). Both give the same shapes (the server's
 * `/api/v1/traces/{id}` is built by the same function as the local view).
 */
import { existsSync } from 'node:fs';
import { MAX_FINDING_LIMIT, type SpanStore, type TraceQuery, type TraceSummary } from '@linktrace/storage';
import { lookupTrace } from '../query/trace-lookup.js';
import { buildTraceView } from '../query/trace-view.js';
import type { TraceView } from '../query/trace-view-types.js';
import { DEFAULT_DATA_DIR, serverUrl, type DataSourceFlags } from './data-source-options.js';
import { openStore, storeKindOf } from './open-store.js';

export interface QuerySource {
  /** Undefined when the trace is not found. */
  trace(traceId: string): Promise<TraceView | undefined>;
  search(query: TraceQuery): Promise<TraceSummary[]>;
  close(): Promise<void>;
}

export class StoreQuerySource implements QuerySource {
  constructor(
    private readonly store: SpanStore,
    private readonly owned = true,
  ) {}

  async trace(traceId: string): Promise<TraceView | undefined> {
    const spans = await lookupTrace(this.store, traceId);
    if (spans.length === 0) return undefined;
    const id = spans[0]!.traceId;
    return buildTraceView(id, spans, await this.store.findFindings({ traceId: id, limit: MAX_FINDING_LIMIT }));
  }

  search(query: TraceQuery): Promise<TraceSummary[]> {
    return this.store.findTraces(query);
  }

  close(): Promise<void> {
    return this.owned ? this.store.close() : Promise.resolve();
  }
}

/** The native search parameters for a query (the inverse of parseNativeSearch). */
export function searchParams(query: TraceQuery): URLSearchParams {
  const p = new URLSearchParams();
  if (query.service !== undefined) p.set('service', query.service);
  if (query.operation !== undefined) p.set('operation', query.operation);
  for (const [k, v] of Object.entries(query.attributes ?? {})) p.append('attr', `${k}=${String(v)}`);
  if (query.minDurationUs !== undefined) p.set('minDuration', String(query.minDurationUs));
  if (query.maxDurationUs !== undefined) p.set('maxDuration', String(query.maxDurationUs));
  if (query.startUs !== undefined) p.set('start', String(query.startUs));
  if (query.endUs !== undefined) p.set('end', String(query.endUs));
  if (query.status !== undefined) p.set('status', query.status);
  if (query.hasFindings !== undefined) p.set('hasFindings', String(query.hasFindings));
  if (query.limit !== undefined) p.set('limit', String(query.limit));
  return p;
}

export class HttpQuerySource implements QuerySource {
  private readonly base: string;
  private readonly headers: Record<string, string> = { accept: 'application/json' };

  constructor(server: string, token?: string) {
    this.base = serverUrl(server);
    if (token !== undefined && token !== '') this.headers.authorization = `Bearer ${token}`;
  }

  private async get(path: string): Promise<Response> {
    try {
      return await fetch(`${this.base}${path}`, { headers: this.headers, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new Error(`cannot reach ${this.base}: ${(err as Error).message}`);
    }
  }

  private async fail(res: Response): Promise<never> {
    const text = (await res.text()).slice(0, 500);
    let message = text;
    try {
      const body = JSON.parse(text) as { error?: { message?: unknown } };
      if (typeof body.error?.message === 'string') message = body.error.message;
    } catch {
      // Not a Linktrace error body: show it as it came.
    }
    throw new Error(`${this.base} answered ${res.status}: ${message}`);
  }

  async trace(traceId: string): Promise<TraceView | undefined> {
    const res = await this.get(`/api/v1/traces/${encodeURIComponent(traceId)}`);
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) return this.fail(res);
    return (await res.json()) as TraceView;
  }

  async search(query: TraceQuery): Promise<TraceSummary[]> {
    const res = await this.get(`/api/v1/traces?${searchParams(query).toString()}`);
    if (!res.ok) return this.fail(res);
    return ((await res.json()) as { traces: TraceSummary[] }).traces;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export async function openQuerySource(flags: DataSourceFlags): Promise<QuerySource> {
  if (flags.server !== undefined) return new HttpQuerySource(flags.server, flags.token);
  const dir = flags.data ?? DEFAULT_DATA_DIR;
  if (!existsSync(dir)) throw new Error(`no data directory ${dir} (import or serve with --data ${dir} first, or use --server)`);
  try {
    return new StoreQuerySource(await openStore(storeKindOf(dir), dir, { readers: 1 }));
  } catch (err) {
    throw new Error(`cannot open the store in ${dir}: ${(err as Error).message} (if a server is running on it, use --server)`);
  }
}
