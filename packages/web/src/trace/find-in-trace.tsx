/**
 * The search box of the trace page: the count of matching rows, and previous/next (buttons, or
 * Enter and Shift+Enter in the box) to step through them. The page highlights the matches and
 * brings the current one into view; this component only asks.
 */
import type { ReactNode } from 'react';

export interface FindInTraceProps {
  text: string;
  /** Matching rows; `current` is the one stepped to (an index into the matches), if any. */
  count: number;
  current: number | undefined;
  onText: (text: string) => void;
  onStep: (by: 1 | -1) => void;
}

export function FindInTrace({ text, count, current, onText, onStep }: FindInTraceProps): ReactNode {
  const blank = text.trim() === '';
  return (
    <div className="find-in-trace" role="search" aria-label="Search in this trace">
      <input
        type="search"
        value={text}
        placeholder="Find: service, name, attribute…"
        aria-label="Find in trace"
        onChange={(e) => onText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key !== 'Enter' || count === 0) return;
          e.preventDefault();
          onStep(e.shiftKey ? -1 : 1);
        }}
      />
      <span className="find-count" role="status" aria-live="polite">
        {blank ? '' : count === 0 ? 'no match' : current === undefined ? `${count} ${count === 1 ? 'match' : 'matches'}` : `${current + 1} of ${count}`}
      </span>
      <button type="button" className="find-step" disabled={count === 0} onClick={() => onStep(-1)} aria-label="Previous match" title="Previous match (Shift+Enter)">
        ↑
      </button>
      <button type="button" className="find-step" disabled={count === 0} onClick={() => onStep(1)} aria-label="Next match" title="Next match (Enter)">
        ↓
      </button>
    </div>
  );
}
