/** Where a finding's latest remedy stands (docs/remedies.md), with a link to the trace it ran as. */
import type { FindingRemedySummary } from './api/types.js';
import { FINISHED_STATES } from './remedy-actions.js';
import { href } from './router.js';

/** Why a remedy did not repair anything is shown, not only hovered. */
const SAY_WHY: ReadonlySet<string> = new Set(['failed', 'expired', 'superseded']);

export function RemedyState({ remedy: r }: { remedy: Pick<FindingRemedySummary, 'action' | 'state' | 'remedyTraceId' | 'reason'> | undefined }) {
  if (r === undefined) return null;
  return (
    <span className={`remedy-state remedy-${r.state}`} title={r.reason ?? `${r.action} ${r.state}`} data-state={r.state}>
      <span className="badge" role="status" aria-live="polite">
        {r.action} {r.state}
        {FINISHED_STATES.has(r.state) ? '' : '…'}
      </span>
      {r.remedyTraceId !== undefined ? (
        <>
          {' '}
          <a className="mono" href={href('trace', r.remedyTraceId)} aria-label={`Open the remedy trace ${r.remedyTraceId}`}>
            remedy trace
          </a>
        </>
      ) : null}
      {SAY_WHY.has(r.state) && r.reason !== undefined ? <span className="remedy-reason"> {r.reason}</span> : null}
    </span>
  );
}
