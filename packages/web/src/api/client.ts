/**
 * The typed client of the query API, the UI's only way to the server. A 401 asks the app for a
 * token (the listener shows the dialog) and the call fails with `UnauthorizedError`; the page
 * retries once the token is saved. Answers of servers that predate parts of the UI's API (no
 * service map, no flow history, no finding counts) are filled in from the older routes.
 */
import { readToken } from './token.js';
import { apiUrl } from './api-url.js';
import type {
  ApiErrorBody,
  DependenciesResponse,
  DisplayMap,
  FindingsResponse,
  FindingView,
  FlowDetail,
  FlowsResponse,
  FlowView,
  Operation,
  OperationsResponse,
  RemedyDryRunResponse,
  RemedyRequestResponse,
  RemedyView,
  ServiceMapResponse,
  ServicesResponse,
  TraceSearchResponse,
  TraceSummary,
  TraceView,
} from './types.js';
import { serviceMapFromDependencies } from './service-map-fallback.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds the server asked to wait (`Retry-After` of a 429), when it said. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class UnauthorizedError extends ApiError {}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called on every 401; returns the unsubscribe function. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

function isErrorBody(v: unknown): v is ApiErrorBody {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = (v as { error: unknown }).error;
  return typeof e === 'object' && e !== null && 'message' in e;
}

export type Query = Record<string, string | readonly string[] | undefined>;

export function queryString(query: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === '') continue;
    if (typeof v === 'string') p.append(k, v);
    else for (const item of v) p.append(k, item);
  }
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}

/** The call index.html starts for a trace link before the app has loaded. */
interface EarlyCall {
  url: string;
  authorization: string;
  response: Promise<Response>;
}

/**
 * The early call's answer, when it asked for this very URL with these headers. Taken once: a later
 * visit to the same trace asks the server again.
 */
function takeEarlyCall(url: string, headers: Record<string, string>): Promise<Response> | undefined {
  const holder = window as unknown as { linktraceEarlyCall?: EarlyCall };
  const early = holder.linktraceEarlyCall;
  if (early === undefined) return undefined;
  delete holder.linktraceEarlyCall;
  return early.url === url && early.authorization === (headers['authorization'] ?? '') ? early.response : undefined;
}

export async function getJson<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = readToken();
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const url = `${apiUrl(path)}${queryString(query)}`;
  return answer<T>(await (takeEarlyCall(url, headers) ?? fetch(url, { headers, signal })), true);
}

/** The body of an API answer, or its error as an ApiError; `askToken`: a 401 asks for the server's token. */
async function answer<T>(res: Response, askToken: boolean): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const code = isErrorBody(body) ? body.error.code : `http_${res.status}`;
    const message = isErrorBody(body) ? body.error.message : `${res.status} ${res.statusText}`;
    if (res.status === 401 && askToken) {
      for (const l of unauthorizedListeners) l();
      throw new UnauthorizedError(401, code, message);
    }
    const retryAfter = Number(res.headers.get('retry-after') ?? '');
    throw new ApiError(res.status, code, message, res.headers.has('retry-after') && Number.isFinite(retryAfter) ? retryAfter : undefined);
  }
  return body as T;
}

const isMissingRoute = (e: unknown): boolean => e instanceof ApiError && e.status === 404 && e.code === 'not_found';

export interface SearchResult {
  traces: TraceSummary[];
  /** `hasFindings` was applied in the browser (the server did not know the parameter). */
  filteredLocally: boolean;
}

export async function searchTraces(query: Query, signal?: AbortSignal): Promise<SearchResult> {
  try {
    const r = await getJson<TraceSearchResponse>('traces', query, signal);
    return { traces: r.traces, filteredLocally: false };
  } catch (e) {
    const wanted = query['hasFindings'];
    if (!(e instanceof ApiError && e.status === 400 && e.message.includes('hasFindings')) || typeof wanted !== 'string') throw e;
    const { hasFindings: _dropped, ...rest } = query;
    const [r, findings] = await Promise.all([
      getJson<TraceSearchResponse>('traces', rest, signal),
      getJson<FindingsResponse>('findings', { limit: '10000', start: query['start'], end: query['end'] }, signal),
    ]);
    const counts = new Map<string, number>();
    for (const f of findings.findings) counts.set(f.traceId, (counts.get(f.traceId) ?? 0) + 1);
    const traces = r.traces
      .map((t) => ({ ...t, findingCount: counts.get(t.traceId) ?? 0 }))
      .filter((t) => (wanted === 'true' ? t.findingCount > 0 : t.findingCount === 0));
    return { traces, filteredLocally: true };
  }
}

export async function getTrace(traceId: string, signal?: AbortSignal): Promise<TraceView> {
  // Older servers send neither the findings nor the critical path (the page computes that one).
  const view = await getJson<Partial<Pick<TraceView, 'findings' | 'criticalPath'>> & Omit<TraceView, 'findings' | 'criticalPath'>>(`traces/${encodeURIComponent(traceId)}`, {}, signal);
  // For the browser tests' breakdown of the time to rows (API answer → rows drawn).
  performance.mark('lt:trace-data');
  return { ...view, findings: view.findings ?? (await findings({ traceId: view.traceId }, signal)), criticalPath: view.criticalPath ?? [] };
}

export async function services(signal?: AbortSignal): Promise<string[]> {
  return (await getJson<ServicesResponse>('services', {}, signal)).services;
}

export async function operations(service: string, signal?: AbortSignal): Promise<Operation[]> {
  return (await getJson<OperationsResponse>(`services/${encodeURIComponent(service)}/operations`, {}, signal)).operations;
}

export async function serviceMap(query: Query, signal?: AbortSignal): Promise<DisplayMap & { derived: boolean }> {
  try {
    return { ...(await getJson<ServiceMapResponse>('service-map', query, signal)), derived: false };
  } catch (e) {
    if (!isMissingRoute(e)) throw e;
    const deps = await getJson<DependenciesResponse>('dependencies', query, signal);
    return { ...serviceMapFromDependencies(deps.dependencies), derived: true };
  }
}

export async function flows(signal?: AbortSignal): Promise<FlowView[]> {
  return (await getJson<FlowsResponse>('flows', {}, signal)).flows;
}

/** One flow's history; undefined when the server has no such route (older servers). */
export async function flowDetail(name: string, signal?: AbortSignal): Promise<FlowDetail | undefined> {
  try {
    return await getJson<FlowDetail>(`flows/${encodeURIComponent(name)}`, {}, signal);
  } catch (e) {
    if (isMissingRoute(e) && e instanceof ApiError && e.message.startsWith('no route')) return undefined;
    throw e;
  }
}

export async function findings(query: Query, signal?: AbortSignal): Promise<FindingView[]> {
  return (await getJson<FindingsResponse>('findings', query, signal)).findings;
}

/**
 * Asks for a finding's remedy with the remedy token (its own scope: the server's `--token` does not
 * repair). Its refusals are errors for the caller to show; they never open the server-token dialog.
 */
export async function requestRemedy(findingId: string, ask: { action: string; dryRun?: boolean }, remedyToken: string): Promise<RemedyRequestResponse | RemedyDryRunResponse> {
  const res = await fetch(apiUrl(`findings/${encodeURIComponent(findingId)}/remedy`), {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json', authorization: `Bearer ${remedyToken}` },
    body: JSON.stringify({ action: ask.action, ...(ask.dryRun === true && { dryRun: true }) }),
  });
  return answer<RemedyRequestResponse | RemedyDryRunResponse>(res, false);
}

export async function getRemedy(id: string, signal?: AbortSignal): Promise<RemedyView> {
  return (await getJson<{ remedy: RemedyView }>(`remedies/${encodeURIComponent(id)}`, {}, signal)).remedy;
}
