/** The header's trace-id box, on every page: a pasted id opens its trace; a malformed one is explained. */
import { useState, type ReactNode } from 'react';
import { href, navigate } from './router.js';
import { parseTraceIdInput } from './trace-id-input.js';

export function TraceIdBox(): ReactNode {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  return (
    <form
      className="trace-id-box"
      role="search"
      aria-label="Open a trace by id"
      onSubmit={(e) => {
        e.preventDefault();
        const r = parseTraceIdInput(text);
        if (!r.ok) {
          setError(r.message);
          return;
        }
        setError(undefined);
        setText('');
        navigate(href('trace', r.traceId));
      }}
    >
      <input
        aria-label="Trace id"
        placeholder="Trace id"
        className="mono"
        value={text}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={error !== undefined}
        aria-describedby={error !== undefined ? 'trace-id-error' : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setError(undefined);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') setError(undefined);
        }}
      />
      <button type="submit">Open</button>
      {error !== undefined ? (
        <p id="trace-id-error" className="trace-id-error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}
