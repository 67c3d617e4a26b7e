/** Asks for the server's bearer token (`linktrace serve --token`); it is kept in localStorage. */
import { useEffect, useRef, useState, type ReactNode } from 'react';

export function TokenDialog({ onSave, onCancel }: { onSave: (token: string) => void; onCancel: () => void }): ReactNode {
  const ref = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState('');
  useEffect(() => {
    const d = ref.current;
    if (d !== null && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="token-title" onCancel={onCancel} className="token-dialog">
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim() !== '') onSave(value.trim());
        }}
      >
        <h2 id="token-title">This server needs a token</h2>
        <p>It was started with <code>--token</code>. The token is kept in this browser only.</p>
        <label>
          Token
          <input type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        </label>
        <div className="actions">
          <button type="submit">Save</button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
