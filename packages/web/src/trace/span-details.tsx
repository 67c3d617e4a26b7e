/**
 * One span in full: its identity and timing (corrected and raw when clock skew was adjusted), its
 * stage and entity (DESIGN §3), its findings, attributes, events, and links that open the linked
 * span, here or in its own trace.
 */
import type { ReactNode } from 'react';
import type { Finding, SpanJson, TraceView } from '../api/types.js';
import { serviceColor } from '../colors.js';
import { formatDuration, formatTime } from '../format.js';
import { href } from '../router.js';
import { attributeText } from './attribute-value.js';

const STAGE = 'linktrace.stage';
const ENTITY_TYPE = 'linktrace.entity.type';
const ENTITY_KEY = 'linktrace.entity.key';
const ENTITY_VERSION = 'linktrace.entity.version';
const TARGET = 'linktrace.target';

export interface SpanDetailsProps {
  view: TraceView;
  index: number;
  /** The server half folded into this span's row (a Zipkin shared span, or an OTel server span below its client): shown with its own timing. */
  partner?: number | undefined;
  skewUs: number | undefined;
  findings: Finding[];
  onSelectSpan: (spanId: string) => void;
  onClose: () => void;
}

function AttributeTable({ attrs, label }: { attrs: Record<string, unknown> | undefined; label: string }): ReactNode {
  const keys = attrs === undefined ? [] : Object.keys(attrs).sort();
  if (keys.length === 0) return null;
  return (
    <table className="kv" aria-label={label}>
      <tbody>
        {keys.map((k) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>{attributeText(attrs![k])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The answering half of a folded call: who handled it, and its own timing (the server's clock). */
function ServerHalf({ server }: { server: SpanJson }): ReactNode {
  return (
    <tr>
      <th scope="row">Server half</th>
      <td>
        {server.service}
        {server.instance !== undefined ? ` (${server.instance})` : ''}: {server.name} ({server.kind} span), started {formatTime(server.startUs)},{' '}
        {server.durationUs === undefined ? 'length unknown' : formatDuration(server.durationUs)}
        {server.status.code === 'error' ? `, error${server.status.message ? `: ${server.status.message}` : ''}` : ''}
      </td>
    </tr>
  );
}

export function SpanDetails({ view, index, partner, skewUs, findings, onSelectSpan, onClose }: SpanDetailsProps): ReactNode {
  const s: SpanJson | undefined = view.spans[index];
  if (s === undefined) return null;
  const a = s.attributes;
  const stage = a[STAGE];
  const entityType = a[ENTITY_TYPE];
  const entityKey = a[ENTITY_KEY];
  const version = a[ENTITY_VERSION];
  const target = a[TARGET];
  const parentIndex = view.parents[index] ?? -1;
  const inTrace = new Set(view.spans.map((x) => x.spanId));
  return (
    <aside className="span-details" aria-labelledby="span-title">
      <div className="details-head">
        <h2 id="span-title">
          <span className="svc-dot" style={{ background: serviceColor(s.service) }} aria-hidden="true" />
          {s.service}: {s.name}
        </h2>
        <button type="button" onClick={onClose} aria-label="Close span details">
          ✕
        </button>
      </div>
      <p className="badges">
        <span className="badge kind-badge" title="span kind">
          kind: {s.kind}
        </span>
        {s.status.code === 'error' ? <span className="badge error-badge">error{s.status.message ? `: ${s.status.message}` : ''}</span> : <span className="badge">{s.status.code}</span>}
        {stage !== undefined ? <span className="badge stage-badge">stage {attributeText(stage)}</span> : null}
        {entityType !== undefined || entityKey !== undefined ? (
          <span className="badge entity-badge">
            {attributeText(entityType ?? '?')}:{attributeText(entityKey ?? '?')}
            {version !== undefined ? `@${attributeText(version)}` : ''}
          </span>
        ) : null}
        {target !== undefined ? <span className="badge target-badge">→ {attributeText(target)}</span> : null}
        {s.durationUs === undefined && s.durationUnknown !== true ? <span className="badge error-badge">never ended</span> : null}
      </p>
      {findings.length > 0 ? (
        <ul className="finding-list" aria-label="Findings on this span">
          {findings.map((f) => (
            <li key={f.rule}>
              <span className="badge finding-badge">{f.rule}</span> {f.message}
            </li>
          ))}
        </ul>
      ) : null}
      <table className="kv" aria-label="Span">
        <tbody>
          <tr>
            <th scope="row">Span id</th>
            <td className="mono">{s.spanId}</td>
          </tr>
          <tr>
            <th scope="row">Parent</th>
            <td className="mono">
              {s.parentSpanId === undefined ? (
                'none (root)'
              ) : parentIndex >= 0 ? (
                <button type="button" className="link-button mono" onClick={() => onSelectSpan(s.parentSpanId!)}>
                  {s.parentSpanId}
                </button>
              ) : (
                <>{s.parentSpanId} (missing)</>
              )}
            </td>
          </tr>
          {s.rpcid !== undefined ? (
            <tr>
              <th scope="row">rpcid</th>
              <td className="mono">{s.rpcid}</td>
            </tr>
          ) : null}
          {s.instance !== undefined ? (
            <tr>
              <th scope="row">Instance</th>
              <td className="mono">{s.instance}</td>
            </tr>
          ) : null}
          <tr>
            <th scope="row">Start</th>
            <td>
              {s.startUnknown === true ? <span className="muted">not reported; placed at about </span> : null}
              {formatTime(s.startUs + (skewUs ?? 0))}
              {skewUs !== undefined ? <span className="muted"> (recorded {formatTime(s.startUs)}; clock skew adjusted by {formatDuration(Math.abs(skewUs))})</span> : null}
            </td>
          </tr>
          <tr>
            <th scope="row">Duration</th>
            <td>
              {s.durationUs !== undefined ? formatDuration(s.durationUs) : s.durationUnknown === true ? 'finished, length not reported' : 'started, end never reported'}
            </td>
          </tr>
          {partner !== undefined && view.spans[partner] !== undefined ? <ServerHalf server={view.spans[partner]} /> : null}
        </tbody>
      </table>
      <h3>Attributes</h3>
      {Object.keys(a).length === 0 ? <p className="muted">none</p> : <AttributeTable attrs={a} label="Attributes" />}
      {s.resource !== undefined && Object.keys(s.resource).length > 0 ? (
        <>
          <h3>Resource</h3>
          <AttributeTable attrs={s.resource} label="Resource attributes" />
        </>
      ) : null}
      {s.events.length > 0 ? (
        <>
          <h3>Events</h3>
          <ol className="events" aria-label="Events">
            {s.events.map((e, i) => (
              <li key={i}>
                <span className="mono">+{formatDuration(e.timeUs - s.startUs)}</span> {e.name}
                <AttributeTable attrs={e.attributes} label={`Attributes of event ${e.name}`} />
              </li>
            ))}
          </ol>
        </>
      ) : null}
      {s.links.length > 0 ? (
        <>
          <h3>Links</h3>
          <ul className="links" aria-label="Links">
            {s.links.map((l, i) => (
              <li key={i}>
                {l.traceId === view.traceId && inTrace.has(l.spanId) ? (
                  <button type="button" className="link-button mono" onClick={() => onSelectSpan(l.spanId)}>
                    span {l.spanId} (this trace)
                  </button>
                ) : (
                  <a className="mono" href={href('trace', l.traceId, { span: l.spanId })}>
                    trace {l.traceId} span {l.spanId}
                  </a>
                )}
                <AttributeTable attrs={l.attributes} label="Link attributes" />
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {s.scope !== undefined ? (
        <p className="muted">
          Instrumentation: {s.scope.name}
          {s.scope.version !== undefined ? ` ${s.scope.version}` : ''}
        </p>
      ) : null}
    </aside>
  );
}
