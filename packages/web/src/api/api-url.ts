/**
 * Where the API is: always this page's own origin (`location.origin`), under the path the UI is
 * served at (`/` normally, or the prefix a proxy serves it under). Building URLs from the origin,
 * never from a bare path, matters: a page opened at `http://host//evil.example/` has the path
 * `//evil.example/`, which as a URL of its own means another host; the token must never go there.
 * public/early-call.js builds the same URL for the trace call it starts early.
 */

/** The directory of the page's path, with any run of leading slashes (or backslashes) as one `/`. */
export function uiBasePath(pathname: string): string {
  const dir = pathname.endsWith('/') ? pathname : pathname.slice(0, pathname.lastIndexOf('/') + 1);
  return `/${dir.replace(/^[/\\]+/, '')}`;
}

/** The absolute URL of `api/v1/<path>` (query string included by the caller). */
export function apiUrl(path: string): string {
  return `${location.origin}${uiBasePath(location.pathname)}api/v1/${path}`;
}
