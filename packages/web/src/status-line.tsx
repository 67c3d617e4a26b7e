/** What a page shows while loading or after a failed call. */
import type { ReactNode } from 'react';
import { UnauthorizedError } from './api/client.js';
import type { Loaded } from './use-api.js';

export function Loading(): ReactNode {
  return (
    <p className="status" role="status">
      Loading…
    </p>
  );
}

export function StatusLine<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ReactNode }): ReactNode {
  if (loaded.state === 'loading') return <Loading />;
  if (loaded.state === 'error') {
    const text = loaded.error instanceof UnauthorizedError ? 'This server needs a token.' : loaded.error.message;
    return (
      <p className="status error" role="alert">
        {text}
      </p>
    );
  }
  return children(loaded.data);
}
