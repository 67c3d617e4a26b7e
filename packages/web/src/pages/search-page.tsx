/**
 * Trace search. The form edits a draft; submitting writes it to the URL, and the results follow the
 * URL, so a search is a link that can be shared or bookmarked.
 */
import type { ReactNode } from 'react';
import { operations, searchTraces } from '../api/client.js';
import type { TraceSummary } from '../api/types.js';
import { serviceColor } from '../colors.js';
import { FilterForm, ResultCount, ServiceSelect } from '../filter-form.js';
import { formatDuration, formatTime } from '../format.js';
import { plural } from '../plural.js';
import { href, navigate } from '../router.js';
import { DEFAULT_LOOKBACK, searchApiQuery } from '../search-query.js';
import { StatusLine } from '../status-line.js';
import { readTimeRange, TimeRangeField, timeRangeParams, type TimeRangeValue } from '../time-range-field.js';
import { useApi } from '../use-api.js';
import { useUrlDraft } from '../use-url-draft.js';

interface Draft {
  service: string;
  operation: string;
  attrs: string;
  minDuration: string;
  maxDuration: string;
  status: string;
  hasFindings: string;
  limit: string;
  range: TimeRangeValue;
}


function readDraft(p: URLSearchParams): Draft {
  return {
    service: p.get('service') ?? '',
    operation: p.get('operation') ?? '',
    attrs: p.getAll('attr').join('\n'),
    minDuration: p.get('minDuration') ?? '',
    maxDuration: p.get('maxDuration') ?? '',
    status: p.get('status') ?? '',
    hasFindings: p.get('hasFindings') ?? '',
    limit: p.get('limit') ?? '',
    range: readTimeRange(p, DEFAULT_LOOKBACK),
  };
}

export function SearchPage({ params }: { params: URLSearchParams }): ReactNode {
  const key = params.toString();
  const [draft, setDraft] = useUrlDraft(params, readDraft);
  const operationList = useApi(`ops:${draft.service}`, (s) => (draft.service === '' ? Promise.resolve([]) : operations(draft.service, s)));
  const results = useApi(`search:${key}`, (s) => searchTraces(searchApiQuery(params), s));

  const set = (patch: Partial<Draft>): void => setDraft((d) => ({ ...d, ...patch }));
  const submit = (): void => {
    const attrs = draft.attrs
      .split('\n')
      .map((a) => a.trim())
      .filter((a) => a !== '');
    navigate(
      href('search', '', {
        service: draft.service,
        operation: draft.operation,
        attr: attrs,
        minDuration: draft.minDuration.trim(),
        maxDuration: draft.maxDuration.trim(),
        status: draft.status,
        hasFindings: draft.hasFindings,
        limit: draft.limit,
        ...timeRangeParams(draft.range),
      }),
    );
  };

  return (
    <section aria-labelledby="search-title" className="page search-page">
      <h1 id="search-title">Search traces</h1>
      <SearchLinks params={params} />
      <FilterForm label="Trace search" submit="Search" onSubmit={submit}>
        <ServiceSelect id="f-service" value={draft.service} onChange={(service) => set({ service, operation: '' })} />
        <label htmlFor="f-operation">
          Operation
          <input id="f-operation" list="f-operations" value={draft.operation} onChange={(e) => set({ operation: e.target.value })} placeholder="any" />
          <datalist id="f-operations">
            {operationList.state === 'done'
              ? [...new Set(operationList.data.map((o) => o.name))].map((n) => <option key={n} value={n} />)
              : null}
          </datalist>
        </label>
        <label htmlFor="f-attrs" className="wide">
          Attributes <span className="hint">key=value, one per line; all must hold</span>
          <textarea id="f-attrs" rows={2} value={draft.attrs} onChange={(e) => set({ attrs: e.target.value })} placeholder="http.status_code=500" />
        </label>
        <label htmlFor="f-min">
          Min duration
          <input id="f-min" value={draft.minDuration} onChange={(e) => set({ minDuration: e.target.value })} placeholder="e.g. 10ms" size={8} />
        </label>
        <label htmlFor="f-max">
          Max duration
          <input id="f-max" value={draft.maxDuration} onChange={(e) => set({ maxDuration: e.target.value })} placeholder="e.g. 2s" size={8} />
        </label>
        <TimeRangeField idPrefix="f" value={draft.range} onChange={(range) => set({ range })} />
        <label htmlFor="f-status">
          Status
          <select id="f-status" value={draft.status} onChange={(e) => set({ status: e.target.value })}>
            <option value="">Any</option>
            <option value="error">Error</option>
            <option value="ok">OK</option>
            <option value="unset">Unset</option>
          </select>
        </label>
        <label htmlFor="f-findings">
          Findings
          <select id="f-findings" value={draft.hasFindings} onChange={(e) => set({ hasFindings: e.target.value })}>
            <option value="">Any</option>
            <option value="true">With findings</option>
            <option value="false">Without findings</option>
          </select>
        </label>
        <label htmlFor="f-limit">
          Limit
          <input id="f-limit" type="number" min={1} max={10000} value={draft.limit} onChange={(e) => set({ limit: e.target.value })} placeholder="50" size={5} />
        </label>
      </FilterForm>
      <StatusLine loaded={results}>{(r) => <ResultList traces={r.traces} />}</StatusLine>
    </section>
  );
}

/** Where a search leads on: its service's RED metrics, and comparing its traces with another set. */
function SearchLinks({ params }: { params: URLSearchParams }): ReactNode {
  const service = params.get('service') ?? '';
  const query = params.toString();
  return (
    <p className="search-links">
      {service !== '' ? <a href={href('service', service)}>RED metrics of {service} ›</a> : null}
      <a href={href('compare', '', { a: `search:${query}` })}>Compare these traces with… ›</a>
    </p>
  );
}

function ResultList({ traces }: { traces: TraceSummary[] }): ReactNode {
  const count = <ResultCount count={traces.length} one="trace" many="traces" none="No trace matches." />;
  if (traces.length === 0) return count;
  const longest = Math.max(1, ...traces.map((t) => t.durationUs));
  return (
    <>
      {count}
      <ol className="results" aria-label="Traces found">
        {traces.map((t) => (
          <li key={t.traceId}>
            <a className="result" href={href('trace', t.traceId)} aria-label={`Trace ${t.root ? `${t.root.service} ${t.root.name}` : t.traceId}, ${formatDuration(t.durationUs)}, ${plural(t.spanCount, 'span')}, ${plural(t.services.length, 'service')}${t.errorCount > 0 ? `, ${plural(t.errorCount, 'error')}` : ''}${(t.findingCount ?? 0) > 0 ? `, ${plural(t.findingCount, 'finding')}` : ''}`}>
              <span className="result-head">
                <span className="result-name">
                  {t.root ? (
                    <>
                      <span className="svc-dot" style={{ background: serviceColor(t.root.service) }} aria-hidden="true" />
                      {t.root.service}: {t.root.name}
                    </>
                  ) : (
                    <em>no root span</em>
                  )}
                </span>
                <span className="mono muted" title={t.traceId}>
                  {t.traceId}
                </span>
                <span className="muted">{formatTime(t.startUs)}</span>
              </span>
              <span className="duration-bar" aria-hidden="true">
                <span style={{ width: `${Math.max(0.5, (t.durationUs / longest) * 100)}%` }} />
              </span>
              <span className="result-meta">
                <span className="duration">{formatDuration(t.durationUs)}</span>
                <span>{plural(t.spanCount, 'span')}</span>
                <span>{plural(t.services.length, 'service')}</span>
                {t.errorCount > 0 ? <span className="badge error-badge">{plural(t.errorCount, 'error')}</span> : null}
                {(t.findingCount ?? 0) > 0 ? <span className="badge finding-badge">{plural(t.findingCount, 'finding')}</span> : null}
                <span className="chips">
                  {t.services.slice(0, 8).map((s) => (
                    <span key={s} className="chip" style={{ borderColor: serviceColor(s) }}>
                      {s}
                    </span>
                  ))}
                  {t.services.length > 8 ? <span className="chip">+{t.services.length - 8}</span> : null}
                </span>
              </span>
            </a>
          </li>
        ))}
      </ol>
    </>
  );
}
