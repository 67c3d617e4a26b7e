/**
 * The hops of a trace read through a federated gateway (`linktrace gateway`): one line per hop in
 * walk order, an unreachable agent or an agent without the hop's spans shown as such, and where the
 * chain stopped. Absent for traces from a central store (their view has no `hops`).
 */
import type { ReactNode } from 'react';
import type { TraceView } from '../api/types.js';
import { plural } from '../plural.js';

type Hop = NonNullable<TraceView['hops']>[number];

function hopName(hop: Hop): string {
  return hop.instance === undefined || hop.instance === hop.service ? hop.service : `${hop.service} (${hop.instance})`;
}

const STATUS_TEXT: Record<Hop['status'], string> = { ok: 'ok', unreachable: 'unreachable', 'no-spans': 'no spans' };

export function TraceHops({ view }: { view: TraceView }): ReactNode {
  const hops = view.hops;
  if (hops === undefined || hops.length === 0) return null;
  const broken = hops.find((h) => h.status !== 'ok');
  const last = view.lastHealthyHop ?? null;
  return (
    <div className="trace-hops">
      {broken !== undefined ? (
        <p className="note warn" role="note" aria-label="Broken hop">
          The chain stops at hop {broken.index + 1}, <strong>{hopName(broken)}</strong>: {broken.status === 'unreachable' ? 'its agent did not answer' : 'its agent holds no spans of this trace'}
          {broken.reason === undefined ? '' : ` (${broken.reason})`}. Last healthy hop: {last === null ? 'none' : <strong>{hopName(last)}</strong>}.
        </p>
      ) : null}
      {view.walk?.truncated !== undefined ? (
        <p className="note warn" role="note">
          The walk stopped early ({view.walk.truncated}): hops past hop {hops.length} were not read.
        </p>
      ) : null}
      <ol className="hop-list" aria-label="Hops">
        {hops.map((h) => (
          <li key={h.index} className={`hop hop-${h.status}`}>
            <span className={h.status === 'ok' ? 'badge' : 'badge error-badge'}>{STATUS_TEXT[h.status]}</span> <strong>{hopName(h)}</strong>
            {h.status === 'ok' ? ` ${plural(h.spans, 'span')}` : ''}
            {h.via !== undefined ? <span className="muted"> via {h.via}</span> : null}
            {h.agent !== null ? <span className="muted mono"> {h.agent}</span> : null}
          </li>
        ))}
      </ol>
    </div>
  );
}
