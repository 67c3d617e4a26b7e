/**
 * Hash routing: `#/search?service=a`, `#/trace/<id>?span=<spanId>`, `#/map`, `#/flows?flow=x`,
 * `#/findings?rule=y`, `#/service/<name>?lookback=1h`, `#/compare?a=<ids or search>&b=…`. The whole query lives in the URL, so any view can be shared as a link, and
 * the server only has to serve one file at `/`.
 */
import { useEffect, useState } from 'react';

export type PageName = 'search' | 'trace' | 'map' | 'flows' | 'findings' | 'service' | 'compare';

export interface Route {
  page: PageName;
  /** The path segment after the page name (the trace id). */
  arg: string;
  params: URLSearchParams;
}

const PAGES: readonly PageName[] = ['search', 'trace', 'map', 'flows', 'findings', 'service', 'compare'];

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  const [first = '', ...rest] = path.split('/');
  const page = (PAGES as readonly string[]).includes(first) ? (first as PageName) : 'search';
  return { page, arg: decodeURIComponent(rest.join('/')), params };
}

export type Params = Record<string, string | readonly string[] | undefined>;

/** `#/page/arg?params` with empty values left out. */
export function href(page: PageName, arg = '', params: Params = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const item of typeof v === 'string' ? [v] : v) if (item !== '') p.append(k, item);
  }
  const qs = p.toString();
  return `#/${page}${arg === '' ? '' : `/${encodeURIComponent(arg)}`}${qs === '' ? '' : `?${qs}`}`;
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else location.hash = to.slice(1);
  // replaceState fires no hashchange: tell the app ourselves.
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = (): void => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
