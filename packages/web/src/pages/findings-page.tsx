/** Chain-check findings, filtered by rule, service and time; each links to its trace and hop. */
import type { ReactNode } from 'react';
import { findings } from '../api/client.js';
import { FilterForm, ResultCount, ServiceSelect } from '../filter-form.js';
import { formatTime, timeRange } from '../format.js';
import { href, navigate } from '../router.js';
import { RemedyControl } from '../remedy-control.js';
import { RULE_IDS } from '../rule-ids.js';
import { StatusLine } from '../status-line.js';
import { readTimeRange, TimeRangeField, timeRangeParams, type TimeRangeValue } from '../time-range-field.js';
import { useApi } from '../use-api.js';
import { useUrlDraft } from '../use-url-draft.js';

const DEFAULT_LOOKBACK = 'all';

interface Draft {
  rule: string;
  service: string;
  range: TimeRangeValue;
}

const readDraft = (p: URLSearchParams): Draft => ({ rule: p.get('rule') ?? '', service: p.get('service') ?? '', range: readTimeRange(p, DEFAULT_LOOKBACK) });

export function FindingsPage({ params }: { params: URLSearchParams }): ReactNode {
  const [draft, setDraft] = useUrlDraft(params, readDraft);
  const set = (patch: Partial<Draft>): void => setDraft((d) => ({ ...d, ...patch }));
  const loaded = useApi(`findings:${params.toString()}`, (s) =>
    findings({ rule: params.get('rule') ?? undefined, service: params.get('service') ?? undefined, traceId: params.get('traceId') ?? undefined, limit: params.get('limit') ?? '200', ...timeRange(params, DEFAULT_LOOKBACK) }, s),
  );
  return (
    <section className="page findings-page" aria-labelledby="findings-title">
      <h1 id="findings-title">Findings</h1>
      <FilterForm
        label="Findings filter"
        submit="Filter"
        onSubmit={() => navigate(href('findings', '', { rule: draft.rule, service: draft.service, traceId: params.get('traceId') ?? undefined, ...timeRangeParams(draft.range) }))}
      >
        <label htmlFor="g-rule">
          Rule
          <select id="g-rule" value={draft.rule} onChange={(e) => set({ rule: e.target.value })}>
            <option value="">Any rule</option>
            {RULE_IDS.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <ServiceSelect id="g-service" value={draft.service} onChange={(service) => set({ service })} />
        <TimeRangeField idPrefix="g" value={draft.range} onChange={(range) => set({ range })} />
      </FilterForm>
      <StatusLine loaded={loaded}>
        {(list) => (
          <>
            <ResultCount count={list.length} one="finding" many="findings" none="No finding matches." />
            {list.length > 0 ? (
              <table className="grid findings-table" aria-label="Findings">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Rule</th>
                    <th scope="col">Service</th>
                    <th scope="col">Entity</th>
                    <th scope="col">Target</th>
                    <th scope="col">Message</th>
                    <th scope="col">Trace</th>
                    <th scope="col">Remedy</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((f) => (
                    <tr key={`${f.traceId}:${f.rule}:${f.spanId}`}>
                      <td className="nowrap">{formatTime(f.timeUs)}</td>
                      <td>
                        <span className="badge finding-badge">{f.rule}</span>
                      </td>
                      <td>{f.service}</td>
                      <td className="mono">{f.entity !== undefined ? `${f.entity.type}:${f.entity.key}${f.entity.version !== undefined ? `@${f.entity.version}` : ''}` : ''}</td>
                      <td className="mono">{f.target ?? ''}</td>
                      <td>{f.message}</td>
                      <td className="nowrap">
                        <a className="mono" href={href('trace', f.traceId, { span: f.spanId })} aria-label={`Open hop ${f.spanId} in trace ${f.traceId}`}>
                          {f.traceId} › hop
                        </a>
                      </td>
                      <td>
                        <RemedyControl finding={f} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </>
        )}
      </StatusLine>
    </section>
  );
}
