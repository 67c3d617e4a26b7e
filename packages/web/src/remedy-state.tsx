/** Where a finding's latest remedy stands (docs/remedies.md), with a link to the trace it ran as. */
import type { FindingView } from './api/types.js';
import { href } from './router.js';

export function RemedyState({ finding }: { finding: FindingView }) {
  const r = finding.remedy;
  if (r === undefined) return null;
  return (
    <span className={`remedy-state remedy-${r.state}`} title={r.reason ?? `${r.action} ${r.state}`}>
      <span className="badge">
        {r.action} {r.state}
      </span>
      {r.remedyTraceId !== undefined ? (
        <>
          {' '}
          <a className="mono" href={href('trace', r.remedyTraceId)} aria-label={`Open the remedy trace ${r.remedyTraceId}`}>
            remedy trace
          </a>
        </>
      ) : null}
    </span>
  );
}
