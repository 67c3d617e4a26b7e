/**
 * The service map: services and queues, and per edge the calls, error rate and p99 in the chosen
 * window. A node or edge is a link to the search that finds its traces.
 */
import { useMemo, type ReactNode } from 'react';
import { serviceMap } from '../api/client.js';
import type { DisplayMap, ServiceMapNode } from '../api/types.js';
import { serviceColor } from '../colors.js';
import { FilterForm, ResultCount } from '../filter-form.js';
import { formatDuration, formatPercent, timeRange } from '../format.js';
import { layoutMap, NODE_H, NODE_W } from '../map/map-layout.js';
import { href, navigate, type Params } from '../router.js';
import { StatusLine } from '../status-line.js';
import { readTimeRange, TimeRangeField, timeRangeParams, type TimeRangeValue } from '../time-range-field.js';
import { useApi } from '../use-api.js';
import { useUrlDraft } from '../use-url-draft.js';
import { SdkDropsTable } from '../sdk-drops-table.js';

type Edge = DisplayMap['edges'][number];

const DEFAULT_LOOKBACK = '24h';
const readRange = (p: URLSearchParams): TimeRangeValue => readTimeRange(p, DEFAULT_LOOKBACK);

/** Search parameters for a node: a service's spans, or the writes to (enqueues on) a queue. */
export function nodeSearch(node: ServiceMapNode): Params {
  return node.kind === 'queue' ? { attr: `linktrace.target=${node.id}` } : { service: node.id };
}

/**
 * Search parameters for an edge. A search matches one span, so an edge is found by its far end: the
 * callee's spans, or, into a queue, the producer's writes to it.
 */
export function edgeSearch(edge: Edge, kinds: ReadonlyMap<string, ServiceMapNode['kind']>): Params {
  if (kinds.get(edge.to) === 'queue') return { service: edge.from, attr: `linktrace.target=${edge.to}` };
  // Inferred calls (docs/inference.md) are found by the mark every inferred span carries.
  if (edge.inferred === true) return { service: edge.to, attr: 'linktrace.inferred=true' };
  return { service: edge.to };
}

function edgeKey(e: Edge): string {
  return `${e.from}>${e.to}${e.inferred === true ? '~inferred' : ''}`;
}

function edgeText(e: Edge): string {
  const parts = [`${e.callCount} req`, `${formatPercent(e.errorRate)} err`];
  if (e.inferred === true) parts.unshift('inferred');
  if (e.p99Us !== undefined) parts.push(`p99 ${formatDuration(e.p99Us)}`);
  return parts.join(' · ');
}

export function ServiceMapPage({ params }: { params: URLSearchParams }): ReactNode {
  const key = params.toString();
  const [range, setRange] = useUrlDraft(params, readRange);
  const loaded = useApi(`map:${key}`, (s) => serviceMap(timeRange(params, DEFAULT_LOOKBACK), s));
  return (
    <section className="page map-page" aria-labelledby="map-title">
      <h1 id="map-title">Service map</h1>
      <FilterForm label="Service map window" submit="Show" onSubmit={() => navigate(href('map', '', timeRangeParams(range)))}>
        <TimeRangeField idPrefix="m" value={range} onChange={(r) => setRange(() => r)} />
      </FilterForm>
      <StatusLine loaded={loaded}>
        {(map) => (
          <>
            {map.derived ? <p className="note">This server has no /api/v1/service-map: built from dependencies (no queues, no p99).</p> : null}
            <MapView map={map} />
          </>
        )}
      </StatusLine>
      <SdkDropsTable reloadKey={key} />
    </section>
  );
}

function MapView({ map }: { map: DisplayMap }): ReactNode {
  const layout = useMemo(() => layoutMap(map), [map]);
  if (map.nodes.length === 0) return <ResultCount count={0} one="" many="" none="No calls in this window." />;
  const at = new Map(layout.nodes.map((n) => [n.id, n]));
  const kinds = new Map(map.nodes.map((n) => [n.id, n.kind]));
  const label = (id: string): string => at.get(id)?.label ?? id;
  return (
    <>
      <div className="map-canvas">
        <svg width={layout.width} height={layout.height + 20} role="group" aria-label="Service dependency graph">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" className="arrow-head" />
            </marker>
          </defs>
          {map.edges.map((e) => {
            const a = at.get(e.from);
            const b = at.get(e.to);
            if (a === undefined || b === undefined) return null;
            // An inferred edge beside a recorded one between the same nodes runs a little lower.
            const shift = e.inferred === true ? 8 : 0;
            const x1 = a.x + NODE_W;
            const y1 = a.y + NODE_H / 2 + shift;
            const x2 = b.x;
            const y2 = b.y + NODE_H / 2 + shift;
            const back = x2 <= x1;
            const d = back
              ? `M${a.x + NODE_W / 2},${a.y + NODE_H} C${a.x + NODE_W / 2},${a.y + NODE_H + 60} ${b.x + NODE_W / 2},${b.y + NODE_H + 60} ${b.x + NODE_W / 2},${b.y + NODE_H}`
              : `M${x1},${y1} C${x1 + 60},${y1} ${x2 - 60},${y2} ${x2},${y2}`;
            const lx = back ? (a.x + b.x + NODE_W) / 2 : (x1 + x2) / 2;
            const ly = back ? Math.max(a.y, b.y) + NODE_H + 50 : (y1 + y2) / 2 - 6;
            const text = edgeText(e);
            return (
              <a
                key={edgeKey(e)}
                href={href('search', '', edgeSearch(e, kinds))}
                aria-label={`${label(e.from)} to ${label(e.to)}: ${text}`}
                className={`map-edge${e.errorCount > 0 ? ' has-errors' : ''}${e.inferred === true ? ' inferred' : ''}`}
              >
                <path d={d} markerEnd="url(#arrow)" />
                <text x={lx} y={ly} textAnchor="middle" className="edge-label">
                  {text}
                </text>
              </a>
            );
          })}
          {layout.nodes.map((n) => (
            <a key={n.id} href={href('search', '', nodeSearch(n))} aria-label={`${n.kind} ${n.label}: search its traces`} className={`map-node ${n.kind}`}>
              {n.kind === 'queue' ? (
                <rect x={n.x} y={n.y} width={NODE_W} height={NODE_H} rx={NODE_H / 2} />
              ) : (
                <rect x={n.x} y={n.y} width={NODE_W} height={NODE_H} rx={5} style={{ stroke: serviceColor(n.label) }} />
              )}
              <text x={n.x + NODE_W / 2} y={n.y + NODE_H / 2 + 4} textAnchor="middle">
                {n.kind === 'queue' ? `⇄ ${n.label}` : n.label}
              </text>
            </a>
          ))}
        </svg>
      </div>
      {map.edges.some((e) => e.inferred === true) ? (
        <p className="note">Dashed edges are inferred from access logs (linktrace infer), not recorded: each inferred call carries its confidence.</p>
      ) : null}
      <nav className="service-links" aria-label="Service pages">
        RED metrics:{' '}
        {map.nodes
          .filter((n) => n.kind === 'service')
          .map((n) => (
            <a key={n.id} className="chip" style={{ borderColor: serviceColor(n.id) }} href={href('service', n.id)}>
              {n.label}
            </a>
          ))}
      </nav>
      <table className="grid" aria-label="Edges">
        <thead>
          <tr>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col">Requests</th>
            <th scope="col">Errors</th>
            <th scope="col">Error rate</th>
            <th scope="col">p99</th>
          </tr>
        </thead>
        <tbody>
          {map.edges.map((e) => (
            <tr key={edgeKey(e)} className={e.inferred === true ? 'inferred' : undefined}>
              <td>{label(e.from)}</td>
              <td>
                <a href={href('search', '', edgeSearch(e, kinds))}>{label(e.to)}</a>
                {e.inferred === true ? <span className="inferred-mark"> (inferred)</span> : null}
              </td>
              <td>{e.callCount}</td>
              <td>{e.errorCount}</td>
              <td>{formatPercent(e.errorRate)}</td>
              <td>{formatDuration(e.p99Us)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
