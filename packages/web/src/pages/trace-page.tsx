/**
 * One trace: summary, its findings pinned to their hops, the waterfall, and the selected span's
 * details. `#/trace/<id>?span=<spanId>` opens a span directly (links from findings use it).
 */
import { useMemo, useState, type ReactNode } from 'react';
import { getTrace } from '../api/client.js';
import type { Finding, TraceView } from '../api/types.js';
import { formatDuration, formatTime } from '../format.js';
import { href, navigate } from '../router.js';
import { StatusLine } from '../status-line.js';
import { SpanDetails } from '../trace/span-details.js';
import { buildTraceTree, fallbackCriticalPath, visibleRows, type Row } from '../trace/trace-tree.js';
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
  const tree = useMemo(() => buildTraceTree(view), [view]);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const rows = useMemo(() => visibleRows(tree.roots, collapsed), [tree, collapsed]);
  const critical = useMemo(() => (view.criticalPath.length > 0 ? new Set(view.criticalPath) : fallbackCriticalPath(view, tree)), [view, tree]);
  const findings = view.findings;
  const indexById = useMemo(() => {
    const m = new Map<string, number>();
    // A Zipkin shared span id names two records; the first (the client half) stands for it.
    view.spans.forEach((s, i) => {
      if (!m.has(s.spanId)) m.set(s.spanId, i);
    });
    return m;
  }, [view]);
  /** Findings by the row they are pinned to: their span's, or, for a hop no span holds, its lost position's. */
  const findingsByKey = useMemo(() => {
    const m = new Map<string, Finding[]>();
    for (const f of findings) {
      const i = indexById.get(f.spanId);
      const key = i !== undefined ? `s${i}` : f.rpcid !== undefined && tree.lostKeys.has(`r${f.rpcid}`) ? `r${f.rpcid}` : undefined;
      if (key !== undefined) m.set(key, [...(m.get(key) ?? []), f]);
    }
    return m;
  }, [findings, indexById, tree]);
  const [reveal, setReveal] = useState<{ key: string } | undefined>(undefined);

  const selected = spanId === undefined ? undefined : indexById.get(spanId);
  const selectedKey = selected === undefined ? undefined : `s${selected}`;

  const selectSpan = (id: string | undefined): void => {
    if (id !== undefined) {
      // Open the subtree the span sits in.
      const i = indexById.get(id);
      let n = i === undefined ? undefined : tree.bySpan[i]?.parent;
      const open = new Set(collapsed);
      let changed = false;
      for (; n !== undefined; n = n.parent) changed = open.delete(n.key) || changed;
      if (changed) setCollapsed(open);
    }
    navigate(href('trace', view.traceId, { span: id }), true);
  };
  const onSelect = (row: Row): void => {
    setReveal(undefined);
    if (row.node.kind === 'span') selectSpan(view.spans[row.node.span]!.spanId);
  };
  const toggle = (key: string): void => {
    const next = new Set(collapsed);
    if (!next.delete(key)) next.add(key);
    setCollapsed(next);
  };
  const root = view.root;
  const missing = view.positions.missing.length;
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
          <span>{view.spanCount} spans</span>
          <span>{view.services.length} services</span>
          {view.errorCount > 0 ? <span className="badge error-badge">{view.errorCount} {view.errorCount === 1 ? 'error' : 'errors'}</span> : null}
          {findings.length > 0 ? <span className="badge finding-badge">{findings.length} {findings.length === 1 ? 'finding' : 'findings'}</span> : null}
          <span className="legend">
            <span className="critical-swatch" aria-hidden="true" /> critical path
          </span>
          <button type="button" className="link-button" onClick={() => setCollapsed(new Set())}>
            Expand all
          </button>
          <button type="button" className="link-button" onClick={() => setCollapsed(new Set(tree.roots.flatMap((r) => r.children.filter((c) => c.children.length > 0).map((c) => c.key))))}>
            Collapse all
          </button>
        </p>
        {view.clockSkew.length > 0 ? (
          <p className="note" role="note">
            Clock skew adjusted on {view.clockSkew.length} {view.clockSkew.length === 1 ? 'span' : 'spans'}: their hosts' clocks disagreed with their parents', so they are shown
            shifted (marked <span className="badge skew-badge">skew</span>; span details give the recorded time).
          </p>
        ) : null}
        {missing > 0 || view.missingParents.length > 0 ? (
          <p className="note warn" role="note">
            {missing > 0 ? `${missing}${view.positions.truncated ? '+' : ''} lost ${missing === 1 ? 'position' : 'positions'} (rpcid with no span)` : ''}
            {missing > 0 && view.missingParents.length > 0 ? '; ' : ''}
            {view.missingParents.length > 0 ? `${view.missingParents.length} missing parent ${view.missingParents.length === 1 ? 'span' : 'spans'}` : ''} — drawn as dashed placeholder rows.
          </p>
        ) : null}
        {findings.length > 0 ? (
          <ul className="trace-findings" aria-label="Findings of this trace">
            {findings.map((f) => (
              <li key={`${f.rule}:${f.spanId}`}>
                <span className="badge finding-badge">{f.rule}</span> <strong>{f.service}</strong> {f.message}{' '}
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
                ) : f.rpcid !== undefined && findingsByKey.has(`r${f.rpcid}`) ? (
                  <button type="button" className="link-button" onClick={() => setReveal({ key: `r${f.rpcid}` })}>
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
      <div className={selected === undefined ? 'trace-body' : 'trace-body with-details'}>
        <Waterfall
          view={view}
          tree={tree}
          rows={rows}
          collapsed={collapsed}
          critical={critical}
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
            skewUs={tree.skew.get(selected)}
            findings={findingsByKey.get(`s${selected}`) ?? []}
            onSelectSpan={selectSpan}
            onClose={() => selectSpan(undefined)}
          />
        ) : null}
      </div>
    </>
  );
}
