/**
 * The waterfall: one row per span (and per placeholder), a collapsible tree on the left, the rpcid,
 * and a bar on the trace's timeline. Only the rows in view (plus a margin) are in the DOM, so a
 * 10,000-span trace scrolls as smoothly as a small one. Keyboard: arrows move, Right/Left open and
 * close a subtree, Enter or Space opens the span, Home/End/PageUp/PageDown jump.
 */
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { Finding, TraceView } from '../api/types.js';
import { serviceColor } from '../colors.js';
import { formatDuration } from '../format.js';
import type { Row, TraceTree } from './trace-tree.js';

export const ROW_HEIGHT = 26;
const OVERSCAN = 12;

export interface WaterfallProps {
  view: TraceView;
  tree: TraceTree;
  rows: Row[];
  collapsed: ReadonlySet<string>;
  critical: ReadonlySet<string>;
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
  const { view, tree, rows, collapsed, critical, findingsByKey, selectedKey, revealKey, revealToken, onToggle, onSelect } = props;
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
    const i = rows.findIndex((r) => r.node.key === revealKey);
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
    const open = row.node.children.length > 0 && !collapsed.has(row.node.key);
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
        if (row.node.children.length === 0) return;
        if (!open) {
          onToggle(row.node.key);
          focusRequest.current = activeIndex;
        } else moveTo(activeIndex + 1);
        break;
      case 'ArrowLeft':
        if (open) {
          onToggle(row.node.key);
          focusRequest.current = activeIndex;
        } else {
          const parentKey = row.node.parent?.key;
          const p = parentKey === undefined ? -1 : rows.findIndex((r) => r.node.key === parentKey);
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
  const span = Math.max(1, tree.endUs - tree.startUs);
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
        key={row.node.key}
        index={i}
        row={row}
        view={view}
        tree={tree}
        totalUs={span}
        open={!collapsed.has(row.node.key)}
        focused={i === activeIndex}
        selected={row.node.key === selectedKey}
        critical={row.node.kind === 'span' && critical.has(view.spans[row.node.span]!.spanId)}
        findings={findingsByKey.get(row.node.key)}
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
          <span>0</span>
          <span>{formatDuration(span / 4)}</span>
          <span>{formatDuration(span / 2)}</span>
          <span>{formatDuration((span * 3) / 4)}</span>
          <span>{formatDuration(span)}</span>
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
  tree: TraceTree;
  totalUs: number;
  open: boolean;
  focused: boolean;
  selected: boolean;
  critical: boolean;
  findings: Finding[] | undefined;
  onToggle: (key: string) => void;
  /** Keys move from the row that has focus, however it got it. */
  onFocus: () => void;
  onClick: () => void;
}

function WaterfallRow(p: RowProps): ReactNode {
  const { node, depth } = p.row;
  const s = node.kind === 'span' ? p.view.spans[node.span] : undefined;
  const hasChildren = node.children.length > 0;
  const skewUs = node.kind === 'span' ? p.tree.skew.get(node.span) : undefined;
  let label: ReactNode;
  let title: string;
  let bar: ReactNode = null;
  if (s !== undefined) {
    const left = ((node.startUs - p.tree.startUs) / p.totalUs) * 100;
    const width = s.durationUs === undefined ? undefined : Math.max(0.2, (s.durationUs / p.totalUs) * 100);
    const color = serviceColor(s.service);
    const length = s.durationUs !== undefined ? `, ${formatDuration(s.durationUs)}` : s.durationUnknown === true ? ', length not reported' : ', never ended';
    title = `${s.service}: ${s.name}${length}${s.startUnknown === true ? ', start time not reported' : ''}${s.status.code === 'error' ? ', error' : ''}`;
    label = (
      <>
        <span className="svc-dot" style={{ background: color }} aria-hidden="true" />
        <span className="wf-service">{s.service}</span>
        <span className="wf-op">{s.name}</span>
        {s.status.code === 'error' ? <span className="badge error-badge">error</span> : null}
        {p.findings?.map((f) => (
          <span key={f.rule} className="badge finding-badge" title={f.message}>
            ⚠ {f.rule}
          </span>
        ))}
        {skewUs !== undefined ? (
          <span className="badge skew-badge" title={`clock skew: shown ${formatDuration(Math.abs(skewUs))} ${skewUs > 0 ? 'later' : 'earlier'} than recorded`}>
            skew
          </span>
        ) : null}
      </>
    );
    bar =
      width === undefined ? (
        <span className="wf-bar unfinished" style={{ left: `${left}%`, borderColor: color }} title="started, end never reported" />
      ) : (
        <span className={`wf-bar${p.critical ? ' critical' : ''}`} style={{ left: `${Math.min(left, 99.8)}%`, width: `${width}%`, background: color }}>
          <span className="wf-bar-label">{formatDuration(s.durationUs)}</span>
        </span>
      );
  } else if (node.kind === 'missing-parent') {
    title = `missing parent span ${node.missingSpanId ?? ''}`;
    label = <span className="placeholder-text">missing parent span {node.missingSpanId}</span>;
  } else {
    title = `lost position ${node.rpcid ?? ''}: no span was recorded here`;
    label = (
      <>
        <span className="placeholder-text">lost hop: no span at {node.rpcid}</span>
        {p.findings?.map((f) => (
          <span key={f.rule} className="badge finding-badge" title={f.message}>
            ⚠ {f.rule}
          </span>
        ))}
      </>
    );
  }
  const classes = ['wf-row'];
  if (node.kind !== 'span') classes.push('placeholder');
  if (p.selected) classes.push('selected');
  if (p.critical) classes.push('on-critical');
  if (p.findings !== undefined) classes.push('has-finding');
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
      data-key={node.key}
      style={{ top: p.index * ROW_HEIGHT, height: ROW_HEIGHT }}
      onClick={p.onClick}
      onFocus={(e) => {
        if (e.target === e.currentTarget) p.onFocus();
      }}
    >
      <span className="wf-name-col" role="gridcell" style={{ paddingLeft: 4 + Math.min(depth, 40) * 14 }}>
        {hasChildren ? (
          <button
            type="button"
            className="wf-toggle"
            tabIndex={-1}
            aria-label={p.open ? 'Collapse' : 'Expand'}
            onClick={(e) => {
              e.stopPropagation();
              p.onToggle(node.key);
            }}
          >
            {p.open ? '▾' : '▸'}
          </button>
        ) : (
          <span className="wf-toggle" aria-hidden="true" />
        )}
        {label}
      </span>
      <span className="wf-rpcid-col mono" role="gridcell">
        {node.rpcid ?? ''}
      </span>
      <span className="wf-time-col" role="gridcell">
        {bar}
      </span>
    </div>
  );
}
