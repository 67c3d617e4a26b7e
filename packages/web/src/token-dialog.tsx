/**
 * Asks for a bearer token: the server's (`linktrace serve --token`, kept in localStorage) unless
 * told otherwise (the remedy token asks with its own title and note).
 */
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';

export interface TokenDialogText {
  title: string;
  note: ReactNode;
  label: string;
}

const SERVER_TOKEN: TokenDialogText = {
  title: 'This server needs a token',
  note: (
    <>
      It was started with <code>--token</code>. The token is kept in this browser only.
    </>
  ),
  label: 'Token',
};

export function TokenDialog({ onSave, onCancel, text = SERVER_TOKEN }: { onSave: (token: string) => void; onCancel: () => void; text?: TokenDialogText }): ReactNode {
  const titleId = useId();
  const ref = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState('');
  useEffect(() => {
    const d = ref.current;
    if (d !== null && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={onCancel} className="token-dialog">
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim() !== '') onSave(value.trim());
        }}
      >
        <h2 id={titleId}>{text.title}</h2>
        <p>{text.note}</p>
        <label>
          {text.label}
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
