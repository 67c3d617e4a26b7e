/**
 * The waterfall: the rows the server assembled (one per span or folded call, and per placeholder),
 * drawn as they come: a collapsible tree on the left, the rpcid, and a bar on the trace's timeline.
 * Only the rows in view (plus a margin) are in the DOM, so a 10,000-span trace scrolls as smoothly
 * as a small one. Keyboard: arrows move, Right/Left open and close a subtree, Enter or Space opens
 * the span, Home/End/PageUp/PageDown jump.
 */
import { useEffect, useLayoutEffect, useRef, useState, type CSSProperties, type KeyboardEvent, type ReactNode } from 'react';
import type { Finding, SpanJson, SpanRow, TraceView } from '../api/types.js';
import { serviceColor } from '../colors.js';
import { formatDuration } from '../format.js';
import { DragRange } from './drag-range.js';
import { windowBetween, type TimeWindow } from './timeline-zoom.js';
import { shortRpcid } from './short-rpcid.js';
import { parentRow, rowKey, type Row } from './trace-rows.js';

export const ROW_HEIGHT = 26;
const OVERSCAN = 12;

export interface WaterfallProps {
  view: TraceView;
  /** The part of the timeline drawn (the whole trace, or the zoomed window), shown times. */
  timeline: TimeWindow;
  /** Where the ruler counts from (the trace's start), when `timeline` is a zoomed window. */
  originUs?: number;
  /** Dragging on the ruler asks for this window. */
  onZoom?: (w: TimeWindow) => void;
  /** Rows (indexes into `view.rows`) that match the search in the trace, and the one stepped to. */
  matches?: ReadonlySet<number>;
  currentMatch?: number | undefined;
  /** µs each span was shifted for clock skew, by span index. */
  skew: ReadonlyMap<number, number>;
  rows: Row[];
  collapsed: ReadonlySet<string>;
  /** Findings by the key of the row they are pinned to. */
  findingsByKey: ReadonlyMap<string, Finding[]>;
  selectedKey: string | undefined;
  /** A row to bring into view and focus (a span opened from the URL or a finding). */
  revealKey: string | undefined;
  /** Changes when the same row is to be revealed again. */
  revealToken?: object;
  onToggle: (key: string) => void;
  onSelect: (row: Row) => void;
}

export function Waterfall(props: WaterfallProps): ReactNode {
  const { view, timeline, skew, rows, collapsed, findingsByKey, selectedKey, revealKey, revealToken, onToggle, onSelect, matches, currentMatch, onZoom } = props;
  const originUs = props.originUs ?? timeline.startUs;
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const [active, setActive] = useState(0);
  // The row index to focus once it is rendered. An index, not a flag: React may flush an earlier
  // commit's effects after a key handler asked for focus and before the render that shows the row.
  const focusRequest = useRef<number | null>(null);

  useLayoutEffect(() => {
    // For the browser tests' breakdown of the time to rows.
    performance.mark('lt:trace-rows');
    const el = box.current;
    if (el === null) return;
    setHeight(el.clientHeight);
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const activeIndex = Math.min(active, Math.max(0, rows.length - 1));

  const scrollToIndex = (i: number): void => {
    const el = box.current;
    if (el === null) return;
    const top = i * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
    setScrollTop(el.scrollTop);
  };

  useEffect(() => {
    if (revealKey === undefined) return;
    const i = rows.findIndex((r) => r.key === revealKey);
    if (i < 0) return;
    setActive(i);
    const el = box.current;
    if (el !== null) {
      // Centred, so the rows around it give context.
      el.scrollTop = Math.max(0, i * ROW_HEIGHT - el.clientHeight / 2);
      setScrollTop(el.scrollTop);
    }
    // Only when asked to reveal a row, not on every expand or collapse.
  }, [revealKey, revealToken]);

  useEffect(() => {
    const want = focusRequest.current;
    if (want === null) return;
    const el = box.current?.querySelector<HTMLElement>(`[data-index="${want}"]`);
    if (el === null || el === undefined) return;
    focusRequest.current = null;
    el.focus({ preventScroll: true });
  });

  const moveTo = (i: number): void => {
    const next = Math.max(0, Math.min(rows.length - 1, i));
    setActive(next);
    scrollToIndex(next);
    focusRequest.current = next;
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    const row = rows[activeIndex];
    if (row === undefined) return;
    const page = Math.max(1, Math.floor(height / ROW_HEIGHT) - 1);
    const open = row.hasChildren && !collapsed.has(row.key);
    switch (e.key) {
      case 'ArrowDown':
        moveTo(activeIndex + 1);
        break;
      case 'ArrowUp':
        moveTo(activeIndex - 1);
        break;
      case 'PageDown':
        moveTo(activeIndex + page);
        break;
      case 'PageUp':
        moveTo(activeIndex - page);
        break;
      case 'Home':
        moveTo(0);
        break;
      case 'End':
        moveTo(rows.length - 1);
        break;
      case 'ArrowRight':
        if (!row.hasChildren) return;
        if (!open) {
          onToggle(row.key);
          focusRequest.current = activeIndex;
        } else moveTo(activeIndex + 1);
        break;
      case 'ArrowLeft':
        if (open) {
          onToggle(row.key);
          focusRequest.current = activeIndex;
        } else {
          const up = parentRow(view.rows, row.index);
          const p = up < 0 ? -1 : rows.findIndex((r) => r.key === rowKey(up));
          if (p >= 0) moveTo(p);
        }
        break;
      case 'Enter':
      case ' ':
        onSelect(row);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const span = Math.max(1, timeline.endUs - timeline.startUs);
  const items: ReactNode[] = [];
  // The focusable row stays in the DOM even when scrolled away, so Tab always lands in the tree.
  const indexes: number[] = [];
  if (activeIndex < first && rows.length > 0) indexes.push(activeIndex);
  for (let i = first; i < last; i++) indexes.push(i);
  if (activeIndex >= last && rows.length > 0) indexes.push(activeIndex);
  for (const i of indexes) {
    const row = rows[i]!;
    items.push(
      <WaterfallRow
        key={row.key}
        index={i}
        row={row}
        view={view}
        startUs={timeline.startUs}
        skew={skew}
        totalUs={span}
        open={!collapsed.has(row.key)}
        focused={i === activeIndex}
        selected={row.key === selectedKey}
        findings={findingsByKey.get(row.key)}
        match={matches?.has(row.index) === true}
        currentMatch={currentMatch === row.index}
        onToggle={onToggle}
        onFocus={() => setActive(i)}
        onClick={() => {
          setActive(i);
          onSelect(row);
        }}
      />,
    );
  }

  return (
    <div className="waterfall" role="treegrid" aria-label="Spans of the trace" aria-rowcount={rows.length} onKeyDown={onKeyDown}>
      <div className="wf-head" role="presentation">
        <span className="wf-name-col">Service: operation</span>
        <span className="wf-rpcid-col">rpcid</span>
        <span className="wf-time-col">
          <DragRange
            className="wf-ruler"
            label="Timeline: drag across it to zoom in"
            onRange={(a, b) => {
              const w = windowBetween(timeline, a, b);
              if (w !== undefined) onZoom?.(w);
            }}
          >
            {[0, 1, 2, 3, 4].map((k) => {
              const at = timeline.startUs - originUs + (span * k) / 4;
              return <span key={k}>{at === 0 ? '0' : formatDuration(at)}</span>;
            })}
          </DragRange>
        </span>
      </div>
      <div className="wf-body" ref={box} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)} data-testid="waterfall-body">
        <div className="wf-spacer" style={{ height: rows.length * ROW_HEIGHT }} role="rowgroup">
          {items}
        </div>
      </div>
    </div>
  );
}

interface RowProps {
  index: number;
  row: Row;
  view: TraceView;
  /** Start of the timeline, µs. */
  startUs: number;
  skew: ReadonlyMap<number, number>;
  totalUs: number;
  open: boolean;
  focused: boolean;
  selected: boolean;
  findings: Finding[] | undefined;
  match: boolean;
  currentMatch: boolean;
  onToggle: (key: string) => void;
  /** Keys move from the row that has focus, however it got it. */
  onFocus: () => void;
  onClick: () => void;
}

/** A folded call's name: the caller's, and the server's when it says more (`GET` → `GET /stock/:id`). */
function callName(client: SpanJson, server: SpanJson): string {
  if (client.name === '' || client.name === server.name) return server.name || client.name;
  return server.name === '' ? client.name : `${client.name} → ${server.name}`;
}

/** `service: name, 12ms`; a folded call names both halves and both timings. */
function spanTitle(view: TraceView, r: SpanRow): string {
  const s = view.spans[r.span]!;
  // Only a start record never ended; a Zipkin span without duration ended, its length not reported.
  const took = (x: SpanJson): string =>
    (x.durationUs !== undefined ? formatDuration(x.durationUs) : x.durationUnknown === true ? 'length not reported' : 'never ended') +
    (x.startUnknown === true ? ', start time not reported' : '');
  const error = s.status.code === 'error' || (r.partner !== undefined && view.spans[r.partner]!.status.code === 'error') ? ', error' : '';
  if (r.partner === undefined) return `${s.service}: ${s.name}, ${took(s)}${error}`;
  const server = view.spans[r.partner]!;
  return `${s.service} → ${server.service}: ${callName(s, server)}, client ${took(s)}, server ${took(server)}${error}`;
}

/**
 * Where a bar's time goes so that it is never cut off, in % of the time column: right of the
 * bar's visible part, else left of it, else (the bar fills the view, zoomed) inside it.
 */
const insideBar = (left: number, width: number): boolean => Math.min(100, left + width) > 80 && Math.max(0, left) < 20;

function barLabelPlace(left: number, width: number): CSSProperties {
  const from = Math.max(0, left);
  const to = Math.min(100, left + width);
  if (to <= 80) return { left: `calc(${to}% + 4px)` };
  if (from >= 20) return { left: 'auto', right: `calc(${100 - from}% + 4px)` };
  return { left: `calc(${from}% + 4px)` };
}

function WaterfallRow(p: RowProps): ReactNode {
  const { row: r, depth, hasChildren, key } = p.row;
  let label: ReactNode;
  let title: string;
  let bar: ReactNode = null;
  const badges = p.findings?.map((f) => (
    <span key={f.rule} className="badge finding-badge" title={f.message}>
      ⚠ {f.rule}
    </span>
  ));
  if (r.kind === 'span') {
    const s = p.view.spans[r.span]!;
    const server = r.partner === undefined ? undefined : p.view.spans[r.partner];
    const skewUs = p.skew.get(r.span) ?? (r.partner === undefined ? undefined : p.skew.get(r.partner));
    const left = ((r.startUs - p.startUs) / p.totalUs) * 100;
    const width = r.durationUs === undefined ? undefined : Math.max(0.2, (r.durationUs / p.totalUs) * 100);
    const color = serviceColor(server?.service ?? s.service);
    const error = s.status.code === 'error' || server?.status.code === 'error';
    title = spanTitle(p.view, r);
    const kind = server === undefined ? s.kind : `${s.kind}/${server.kind}`;
    label = (
      <>
        <span className="svc-dot" style={{ background: color }} aria-hidden="true" />
        <span className="wf-service">{server === undefined ? s.service : `${s.service} → ${server.service}`}</span>
        <span className="wf-op">{server === undefined ? s.name : callName(s, server)}</span>
        <span className="wf-kind" title={server === undefined ? `span kind: ${s.kind}` : `one call: the ${s.kind} span and the ${server.kind} span it caused`}>
          {kind}
        </span>
        {error ? <span className="badge error-badge">error</span> : null}
        {badges}
        {r.skewed === true && skewUs !== undefined ? (
          <span className="badge skew-badge" title={`clock skew: shown ${formatDuration(Math.abs(skewUs))} ${skewUs > 0 ? 'later' : 'earlier'} than recorded`}>
            skew
          </span>
        ) : null}
      </>
    );
    // A folded call's server half: its own bar inside the caller's, and its time in the label.
    const serverBar =
      server === undefined || r.partnerStartUs === undefined ? null : (
        <span
          className="wf-bar server-half"
          style={{
            left: `${((r.partnerStartUs - p.startUs) / p.totalUs) * 100}%`,
            width: r.partnerDurationUs === undefined ? undefined : `${Math.max(0.2, (r.partnerDurationUs / p.totalUs) * 100)}%`,
          }}
          title={`server half (${server.service}): ${r.partnerDurationUs === undefined ? 'length not reported' : formatDuration(r.partnerDurationUs)}`}
        />
      );
    const barText = server === undefined || r.partnerDurationUs === undefined ? formatDuration(r.durationUs) : `${formatDuration(r.durationUs)} (server ${formatDuration(r.partnerDurationUs)})`;
    bar =
      width === undefined ? (
        <span className="wf-bar unfinished" style={{ left: `${left}%`, borderColor: color }} title="started, end never reported" />
      ) : (
        <>
          <span className={`wf-bar${r.critical === true ? ' critical' : ''}`} style={{ left: `${Math.min(left, 99.8)}%`, width: `${width}%`, background: color }} />
          {serverBar}
          <span className={`wf-bar-label${insideBar(left, width) ? ' inside' : ''}`} style={barLabelPlace(left, width)}>
            {barText}
          </span>
        </>
      );
  } else {
    title = r.kind === 'lost-hop' ? `${r.text}: no span was recorded here` : r.text;
    label = (
      <>
        <span className="placeholder-text">{r.text}</span>
        {badges}
      </>
    );
  }
  const critical = r.kind === 'span' && r.critical === true;
  const classes = ['wf-row'];
  if (r.kind !== 'span') classes.push('placeholder');
  if (p.selected) classes.push('selected');
  if (critical) classes.push('on-critical');
  if (p.findings !== undefined) classes.push('has-finding');
  if (p.match) classes.push('match');
  if (p.currentMatch) classes.push('current-match');
  const rpcid = r.rpcid ?? '';
  const shortId = shortRpcid(rpcid);
  return (
    <div
      className={classes.join(' ')}
      role="row"
      aria-rowindex={p.index + 1}
      aria-level={depth + 1}
      aria-expanded={hasChildren ? p.open : undefined}
      aria-selected={p.selected}
      aria-label={title}
      tabIndex={p.focused ? 0 : -1}
      data-index={p.index}
      data-key={key}
      style={{ top: p.index * ROW_HEIGHT, height: ROW_HEIGHT }}
      onClick={p.onClick}
      onFocus={(e) => {
        if (e.target === e.currentTarget) p.onFocus();
      }}
    >
      <span className="wf-name-col" role="gridcell" title={title} style={{ paddingLeft: `min(${4 + Math.min(depth, 40) * 14}px, 45%)` }}>
        {hasChildren ? (
          <button
            type="button"
            className="wf-toggle"
            tabIndex={-1}
            aria-label={p.open ? 'Collapse' : 'Expand'}
            onClick={(e) => {
              e.stopPropagation();
              p.onToggle(key);
            }}
          >
            {p.open ? '▾' : '▸'}
          </button>
        ) : (
          <span className="wf-toggle" aria-hidden="true" />
        )}
        {label}
      </span>
      <span className="wf-rpcid-col mono" role="gridcell" title={shortId === rpcid ? undefined : rpcid} aria-label={shortId === rpcid ? undefined : `rpcid ${rpcid}`}>
        {shortId}
      </span>
      <span className="wf-time-col" role="gridcell">
        {bar}
      </span>
    </div>
  );
}
