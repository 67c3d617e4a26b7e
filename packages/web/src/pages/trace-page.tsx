/**
 * One trace: summary, its findings pinned to their hops, the waterfall, and the selected span's
 * details. `#/trace/<id>?span=<spanId>` opens a span directly (links from findings use it).
 */
import { useMemo, useState, type ReactNode } from 'react';
import { getTrace } from '../api/client.js';
import type { Finding, FindingView, TraceView } from '../api/types.js';
import { RemedyControl } from '../remedy-control.js';
import { formatDuration, formatTime } from '../format.js';
import { plural } from '../plural.js';
import { href, navigate } from '../router.js';
import { StatusLine } from '../status-line.js';
import { DownloadTrace } from '../trace/download-trace.js';
import { FindInTrace } from '../trace/find-in-trace.js';
import { Minimap } from '../trace/minimap.js';
import { SpanDetails } from '../trace/span-details.js';
import { TraceHops } from '../trace/trace-hops.js';
import type { TimeWindow } from '../trace/timeline-zoom.js';
import { matchRows } from '../trace/trace-search.js';
import '../trace/trace-tools.css';
import { ancestorKeys, rowKey, rowOfSpan, skewBySpan, timeline, visibleRows, type Row } from '../trace/trace-rows.js';
import { Waterfall } from '../trace/waterfall.js';
import { useApi } from '../use-api.js';

export function TracePage({ traceId, params }: { traceId: string; params: URLSearchParams }): ReactNode {
  const loaded = useApi(`trace:${traceId}`, (s) => getTrace(traceId, s));
  return (
    <section className="page trace-page" aria-labelledby="trace-title">
      <StatusLine loaded={loaded}>{(view) => <TraceScreen key={view.traceId} view={view} spanId={params.get('span') ?? undefined} />}</StatusLine>
    </section>
  );
}

function TraceScreen({ view, spanId }: { view: TraceView; spanId: string | undefined }): ReactNode {
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const rows = useMemo(() => visibleRows(view.rows, collapsed), [view, collapsed]);
  const skew = useMemo(() => skewBySpan(view), [view]);
  const bounds = useMemo(() => timeline(view), [view]);
  const rowBySpan = useMemo(() => rowOfSpan(view), [view]);
  const findings = view.findings;
  const indexById = useMemo(() => {
    const m = new Map<string, number>();
    // A Zipkin shared span id names two (in a fan-out, more) records; the first stands for it.
    view.spans.forEach((s, i) => {
      if (!m.has(s.spanId)) m.set(s.spanId, i);
    });
    return m;
  }, [view]);
  /** Rows of lost hops and gaps by their (first) position, for findings about a hop no span holds. */
  const lostRowAt = useMemo(() => {
    const m = new Map<string, number>();
    view.rows.forEach((r, i) => {
      if (r.kind !== 'span' && r.rpcid !== undefined && !m.has(r.rpcid)) m.set(r.rpcid, i);
    });
    return m;
  }, [view]);
  /** Findings by the row they are pinned to: their span's, or, for a hop no span holds, its lost position's. */
  const findingsByKey = useMemo(() => {
    const m = new Map<string, Finding[]>();
    for (const f of findings) {
      const i = indexById.get(f.spanId);
      const row = i !== undefined ? rowBySpan.get(i) : f.rpcid !== undefined ? lostRowAt.get(f.rpcid) : undefined;
      if (row === undefined) continue;
      const key = rowKey(row);
      m.set(key, [...(m.get(key) ?? []), f]);
    }
    return m;
  }, [findings, indexById, rowBySpan, lostRowAt]);
  const [reveal, setReveal] = useState<{ key: string } | undefined>(undefined);
  // Search in the trace: the matching rows, and the one last stepped to (an index into them).
  const [findText, setFindText] = useState('');
  const matches = useMemo(() => matchRows(view, findText), [view, findText]);
  const matchSet = useMemo(() => new Set(matches), [matches]);
  const [matchAt, setMatchAt] = useState<number | undefined>(undefined);
  const currentMatch = matchAt === undefined ? undefined : matches[matchAt];
  // Timeline zoom: the window the waterfall shows; undefined is the whole trace.
  const [zoom, setZoom] = useState<TimeWindow | undefined>(undefined);
  // The row last clicked: in a fan-out several rows share a span id, the URL names only the id.
  const [picked, setPicked] = useState<number | undefined>(undefined);

  const pickedRow = picked === undefined ? undefined : view.rows[picked];
  const pickedSpan = pickedRow?.kind === 'span' ? pickedRow.span : undefined;
  const selected = spanId === undefined ? undefined : pickedSpan !== undefined && view.spans[pickedSpan]!.spanId === spanId ? pickedSpan : indexById.get(spanId);
  const selectedRowIndex = selected === undefined ? undefined : pickedSpan === selected ? picked : rowBySpan.get(selected);
  const selectedRow = selectedRowIndex === undefined ? undefined : view.rows[selectedRowIndex];
  const selectedKey = selectedRowIndex === undefined ? undefined : rowKey(selectedRowIndex);

  const selectSpan = (id: string | undefined, row?: number): void => {
    setPicked(row);
    const i = id === undefined ? undefined : indexById.get(id);
    const at = row ?? (i === undefined ? undefined : rowBySpan.get(i));
    // Open the subtree the span sits in.
    if (at !== undefined) openAbove(at);
    navigate(href('trace', view.traceId, { span: id }), true);
  };
  const onSelect = (row: Row): void => {
    setReveal(undefined);
    if (row.row.kind === 'span') selectSpan(view.spans[row.row.span]!.spanId, row.index);
  };
  const toggle = (key: string): void => {
    const next = new Set(collapsed);
    if (!next.delete(key)) next.add(key);
    setCollapsed(next);
  };
  /** Opens the subtrees above a row (a search match or a selected span may be inside a closed one). */
  const openAbove = (at: number): void => {
    const open = new Set(collapsed);
    let changed = false;
    for (const key of ancestorKeys(view.rows, at)) changed = open.delete(key) || changed;
    if (changed) setCollapsed(open);
  };
  const stepMatch = (by: 1 | -1): void => {
    if (matches.length === 0) return;
    const next = matchAt === undefined ? (by === 1 ? 0 : matches.length - 1) : (matchAt + by + matches.length) % matches.length;
    setMatchAt(next);
    openAbove(matches[next]!);
    setReveal({ key: rowKey(matches[next]!) });
  };
  const zoomToSelected = (): void => {
    if (selectedRow?.kind !== 'span') return;
    const end = selectedRow.startUs + Math.max(1, selectedRow.durationUs ?? (bounds.endUs - selectedRow.startUs) / 10);
    // A little room either side, so the span's edges are not on the frame.
    const pad = (end - selectedRow.startUs) * 0.05;
    setZoom({ startUs: Math.max(bounds.startUs, selectedRow.startUs - pad), endUs: Math.min(bounds.endUs, end + pad) });
  };
  const collapseAll = (): void => setCollapsed(new Set(visibleRows(view.rows, new Set()).filter((r) => r.depth === 1 && r.hasChildren).map((r) => r.key)));
  const root = view.root;
  const { lostHops, gaps, gapPositions } = view.gaps;
  return (
    <>
      <div className="trace-head">
        <h1 id="trace-title">{root !== undefined ? `${root.service}: ${root.name}` : 'Trace without a root span'}</h1>
        <p className="trace-meta">
          <span className="mono" title="trace id">
            {view.traceId}
          </span>
          <span>{formatTime(view.startUs)}</span>
          <span>{formatDuration(view.durationUs)}</span>
          <span>{plural(view.spanCount, 'span')}</span>
          <span>{plural(view.services.length, 'service')}</span>
          {view.errorCount > 0 ? <span className="badge error-badge">{plural(view.errorCount, 'error')}</span> : null}
          {findings.length > 0 ? <span className="badge finding-badge">{plural(findings.length, 'finding')}</span> : null}
          <span className="legend">
            <span className="critical-swatch" aria-hidden="true" /> critical path
          </span>
          <button type="button" className="link-button" onClick={() => setCollapsed(new Set())}>
            Expand all
          </button>
          <button type="button" className="link-button" onClick={collapseAll}>
            Collapse all
          </button>
        </p>
        {view.clockSkew.length > 0 ? (
          <p className="note" role="note">
            Clock skew adjusted on {plural(view.clockSkew.length, 'span')}: their hosts' clocks disagreed with their parents', so they are shown
            shifted (marked <span className="badge skew-badge">skew</span>; span details give the recorded time).
          </p>
        ) : null}
        {lostHops > 0 || gaps > 0 ? (
          <p className="note warn" role="note">
            {lostHops > 0 ? `${plural(lostHops, 'lost hop')} (a parent or position no span holds)` : ''}
            {lostHops > 0 && gaps > 0 ? '; ' : ''}
            {gaps > 0 ? `${plural(gapPositions, 'lost position')} (rpcid with no span) in ${plural(gaps, 'gap')}` : ''} — drawn as dashed
            placeholder rows{view.gaps.gapsNotListed > 0 ? `, ${plural(view.gaps.gapsNotListed, 'gap')} only counted` : ''}.
          </p>
        ) : null}
        <TraceHops view={view} />
        {view.sdkDrops !== undefined && view.sdkDrops.length > 0 ? (
          <p className="note warn" role="note" aria-label="SDK drops">
            Spans may be missing: the SDK of{' '}
            {view.sdkDrops.map((d, i) => (
              <span key={`${d.service}\n${d.instance}`}>
                {i > 0 ? ', ' : ''}
                <strong>{d.instance === '' ? d.service : `${d.instance} (${d.service})`}</strong> lost {plural(d.droppedSpans, 'span')}
              </span>
            ))}{' '}
            before sending them.
          </p>
        ) : null}
        {findings.length > 0 ? (
          <ul className="trace-findings" aria-label="Findings of this trace">
            {findings.map((f) => (
              <li key={`${f.rule}:${f.spanId}`}>
                <span className="badge finding-badge">{f.rule}</span> <strong>{f.service}</strong> {f.message}{' '}
                <RemedyControl finding={f as FindingView} />{' '}
                {indexById.has(f.spanId) ? (
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => {
                      setReveal(undefined);
                      selectSpan(f.spanId);
                    }}
                  >
                    Show hop
                  </button>
                ) : f.rpcid !== undefined && lostRowAt.has(f.rpcid) ? (
                  <button type="button" className="link-button" onClick={() => setReveal({ key: rowKey(lostRowAt.get(f.rpcid!)!) })}>
                    Show lost hop {f.rpcid}
                  </button>
                ) : (
                  <span className="muted">(hop {f.spanId} not in the trace)</span>
                )}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      <div className="trace-tools">
        <FindInTrace
          text={findText}
          count={matches.length}
          current={matchAt}
          onText={(t) => {
            setFindText(t);
            setMatchAt(undefined);
          }}
          onStep={stepMatch}
        />
        <span className="zoom-tools">
          <button type="button" className="link-button" disabled={selectedRow?.kind !== 'span'} onClick={zoomToSelected}>
            Zoom to selected span
          </button>
          <button type="button" className="link-button" disabled={zoom === undefined} onClick={() => setZoom(undefined)}>
            Reset zoom
          </button>
        </span>
        <DownloadTrace traceId={view.traceId} />
        <a className="link-button" href={href('compare', '', { a: view.traceId })}>
          Compare with…
        </a>
      </div>
      <Minimap view={view} full={bounds} window={zoom ?? bounds} onZoom={setZoom} />
      <div className={selected === undefined ? 'trace-body' : 'trace-body with-details'}>
        <Waterfall
          view={view}
          timeline={zoom ?? bounds}
          originUs={bounds.startUs}
          onZoom={setZoom}
          matches={matchSet}
          currentMatch={currentMatch}
          skew={skew}
          rows={rows}
          collapsed={collapsed}
          findingsByKey={findingsByKey}
          selectedKey={selectedKey}
          revealKey={reveal?.key ?? selectedKey}
          revealToken={reveal}
          onToggle={toggle}
          onSelect={onSelect}
        />
        {selected !== undefined ? (
          <SpanDetails
            view={view}
            index={selected}
            partner={selectedRow?.kind === 'span' && selectedRow.span === selected ? selectedRow.partner : undefined}
            skewUs={skew.get(selected)}
            findings={(selectedKey === undefined ? undefined : findingsByKey.get(selectedKey)) ?? []}
            onSelectSpan={selectSpan}
            onClose={() => selectSpan(undefined)}
          />
        ) : null}
      </div>
    </>
  );
}
