/**
 * A filter form's draft, read from the URL. Typing edits the draft only; when the URL changes (a
 * submitted form, the back or forward button, a link) the draft is read from it again, so the form
 * always shows the query whose results are on screen.
 */
import { useState } from 'react';

export function useUrlDraft<T>(params: URLSearchParams, read: (params: URLSearchParams) => T): [T, (update: (draft: T) => T) => void] {
  const key = params.toString();
  const [draft, setDraft] = useState(() => read(params));
  const [draftKey, setDraftKey] = useState(key);
  if (draftKey !== key) {
    // Set during render (React's pattern for state derived from a changed prop): no flash of the old form.
    setDraftKey(key);
    setDraft(read(params));
  }
  return [draft, setDraft];
}
