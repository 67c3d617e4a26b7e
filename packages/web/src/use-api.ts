/**
 * Loads something from the API whenever `key` changes (or a token is saved), cancelling the call a
 * newer one replaces. A cancelled call never reaches the state, so no stale answer wins.
 */
import { useContext, useEffect, useState } from 'react';
import { ReloadContext } from './reload-context.js';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: Error } | { state: 'done'; data: T };

export function useApi<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const reload = useContext(ReloadContext);
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    const ctl = new AbortController();
    setResult({ state: 'loading' });
    load(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setResult({ state: 'done', data });
      },
      (error: unknown) => {
        if (!ctl.signal.aborted) setResult({ state: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => ctl.abort();
    // `load` is a fresh closure each render; `key` names what it loads.
  }, [key, reload]);
  return result;
}
