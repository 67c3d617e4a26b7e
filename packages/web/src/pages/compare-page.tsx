/**
 * Trace comparison (`#/compare?a=<ids or search>&b=<ids or search>`): two traces, or two groups of
 * traces (each side trace ids or a search, e.g. before and after a deploy), call by call: calls
 * missing from B, added in B, slower, faster. The server compares (`GET /api/v1/compare`); a search
 * side is first run here to get its trace ids.
 */
import { useState, type ReactNode } from 'react';
import { searchTraces } from '../api/client.js';
import { compareTraces, type CallChange, type ComparedCall, type CompareResponse } from '../api/compare.js';
import { serviceColor } from '../colors.js';
import { MAX_SIDE_TRACES, parseCompareSide, type CompareSide } from '../compare-side.js';
import { FilterForm } from '../filter-form.js';
import { formatDuration } from '../format.js';
import { plural } from '../plural.js';
import { href, navigate } from '../router.js';
import { searchApiQuery } from '../search-query.js';
import { StatusLine } from '../status-line.js';
import { useApi } from '../use-api.js';
import { useUrlDraft } from '../use-url-draft.js';

const CHANGES: readonly CallChange[] = ['missing', 'added', 'slower', 'faster', 'same'];
const CHANGE_TEXT: Record<CallChange, string> = { missing: 'missing in B', added: 'added in B', slower: 'slower', faster: 'faster', same: 'same' };

/** A side's trace ids: as given, or the results of its search (at most MAX_SIDE_TRACES). */
async function sideIds(name: string, side: CompareSide, signal: AbortSignal): Promise<{ ids: string[]; search?: string }> {
  if (side.kind === 'ids') return { ids: side.ids };
  if (side.kind === 'search') {
    const p = new URLSearchParams(side.query);
    const query = searchApiQuery(p);
    query['limit'] = String(Math.min(MAX_SIDE_TRACES, Number(p.get('limit') ?? '20') || 20));
    const found = await searchTraces(query, signal);
    if (found.traces.length === 0) throw new Error(`The search of side ${name} finds no trace.`);
    return { ids: found.traces.map((t) => t.traceId), search: side.query };
  }
  throw new Error(side.kind === 'bad' ? `Side ${name}: ${side.message}` : `Side ${name} is empty.`);
}

export function ComparePage({ params }: { params: URLSearchParams }): ReactNode {
  const a = params.get('a') ?? '';
  const b = params.get('b') ?? '';
  const [draft, setDraft] = useUrlDraft(params, (p) => ({ a: p.get('a') ?? '', b: p.get('b') ?? '' }));
  const ready = a.trim() !== '' && b.trim() !== '';
  const loaded = useApi(`compare:${a}\n${b}`, async (signal) => {
    if (!ready) return undefined;
    const [sa, sb] = await Promise.all([sideIds('A', parseCompareSide(a), signal), sideIds('B', parseCompareSide(b), signal)]);
    return { result: await compareTraces(sa.ids, sb.ids, signal), searchA: sa.search, searchB: sb.search };
  });
  return (
    <section className="page compare-page" aria-labelledby="compare-title">
      <h1 id="compare-title">Compare traces</h1>
      <FilterForm label="Traces to compare" submit="Compare" onSubmit={() => navigate(href('compare', '', { a: draft.a.trim(), b: draft.b.trim() }))}>
        {(['a', 'b'] as const).map((side) => (
          <label key={side} htmlFor={`c-${side}`} className="wide">
            {side.toUpperCase()}{' '}
            <span className="hint">trace ids (spaces or commas), or a search link</span>
            <input id={`c-${side}`} className="mono" value={draft[side]} onChange={(e) => setDraft((d) => ({ ...d, [side]: e.target.value }))} placeholder={side === 'a' ? 'the baseline' : 'what changed'} />
          </label>
        ))}
      </FilterForm>
      {ready ? (
        <StatusLine loaded={loaded}>{(r) => (r === undefined ? null : <Comparison result={r.result} searchA={r.searchA} searchB={r.searchB} />)}</StatusLine>
      ) : (
        <p className="muted">
          Give each side one trace id or several (a group), or a search: “Compare these traces with…” on the search page fills in side A.
        </p>
      )}
    </section>
  );
}

function SideText({ name, ids, search, traces, medianUs }: { name: string; ids: string[]; search: string | undefined; traces: number; medianUs: number | undefined }): ReactNode {
  return (
    <span>
      <strong>{name}</strong>:{' '}
      {ids.length === 1 ? (
        <a className="mono" href={href('trace', ids[0]!)}>
          {ids[0]}
        </a>
      ) : (
        plural(traces, 'trace')
      )}
      {search !== undefined ? (
        <>
          {' '}
          from <a href={`#/search${search === '' ? '' : `?${search}`}`}>a search</a>
        </>
      ) : null}
      {medianUs !== undefined ? `, ${ids.length === 1 ? '' : 'median '}${formatDuration(medianUs)}` : ''}
    </span>
  );
}

function Comparison({ result, searchA, searchB }: { result: CompareResponse; searchA: string | undefined; searchB: string | undefined }): ReactNode {
  const [showSame, setShowSame] = useState(false);
  const shown = showSame ? result.calls : result.calls.filter((c) => c.change !== 'same');
  const groups = result.a.traces > 1 || result.b.traces > 1;
  return (
    <>
      <p className="compare-sides">
        <SideText name="A" ids={result.traceIds.a} search={searchA} traces={result.a.traces} medianUs={result.a.medianDurationUs} />
        <SideText name="B" ids={result.traceIds.b} search={searchB} traces={result.b.traces} medianUs={result.b.medianDurationUs} />
      </p>
      <p className="compare-counts" role="status">
        {CHANGES.map((c) => (
          <span key={c} className={`badge change-${c}`}>
            {plural(result.changes[c], 'call')} {CHANGE_TEXT[c]}
          </span>
        ))}
      </p>
      <label className="inline-check">
        <input type="checkbox" checked={showSame} onChange={(e) => setShowSame(e.target.checked)} /> Show unchanged calls too
      </label>
      {shown.length === 0 ? (
        <p className="muted">No call changed.</p>
      ) : (
        <table className="grid compare-table" aria-label="Compared calls">
          <thead>
            <tr>
              <th scope="col">Change</th>
              <th scope="col">Service</th>
              <th scope="col">Operation</th>
              <th scope="col">Position</th>
              <th scope="col">A{groups ? ' (median)' : ''}</th>
              <th scope="col">B{groups ? ' (median)' : ''}</th>
              <th scope="col">B − A</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((c) => (
              <CallRow key={`${c.service}\u0000${c.name}\u0000${c.position}`} call={c} groups={groups} sizes={[result.a.traces, result.b.traces]} />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function CallRow({ call, groups, sizes }: { call: ComparedCall; groups: boolean; sizes: [number, number] }): ReactNode {
  const side = (s: ComparedCall['a'], of: number): ReactNode =>
    s === undefined ? (
      <span className="muted">—</span>
    ) : (
      <>
        {formatDuration(s.medianUs)}
        {groups ? <span className="muted"> in {s.traces}/{of}</span> : null}
      </>
    );
  const delta = call.deltaUs;
  return (
    <tr className={`change-${call.change}`}>
      <td>
        <span className={`badge change-${call.change}`}>{CHANGE_TEXT[call.change]}</span>
      </td>
      <td className="nowrap">
        <span className="svc-dot" style={{ background: serviceColor(call.service) }} aria-hidden="true" />
        {call.service}
      </td>
      <td>
        {call.name} <span className="badge kind-badge">{call.kind}</span>
      </td>
      <td className="mono" title={call.position}>
        {call.position.length > 40 ? `…${call.position.slice(-40)}` : call.position}
      </td>
      <td>{side(call.a, sizes[0])}</td>
      <td>{side(call.b, sizes[1])}</td>
      <td className="nowrap">{delta === undefined ? '' : `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${formatDuration(Math.abs(delta))}`}</td>
    </tr>
  );
}
