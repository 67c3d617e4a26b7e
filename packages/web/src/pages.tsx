/**
 * The pages, each its own chunk but the trace page's. A trace link is what people share and what
 * has a time target, so the trace page comes with the app's first script (no second round trip
 * after it runs); the others load on first use. The page the app opens on is loaded before the
 * first render (main.tsx), so nothing waits behind a placeholder then; a page opened later shows
 * "Loading…" for as long as its chunk takes. No React.lazy: Suspense holds a revealed page back
 * (React 19 throttles reveals to 300 ms), which a first load would pay for.
 */
import type { ReactNode } from 'react';
import type { PageName } from './router.js';
import { TracePage } from './pages/trace-page.js';

export interface PageProps {
  /** The path segment after the page name (the trace id). */
  arg: string;
  params: URLSearchParams;
}

export type PageComponent = (props: PageProps) => ReactNode;

const LOADERS: Record<Exclude<PageName, 'trace'>, () => Promise<PageComponent>> = {
  search: () => import('./pages/search-page.js').then((m) => ({ params }: PageProps) => <m.SearchPage params={params} />),
  map: () => import('./pages/service-map-page.js').then((m) => ({ params }: PageProps) => <m.ServiceMapPage params={params} />),
  flows: () => import('./pages/flows-page.js').then((m) => ({ params }: PageProps) => <m.FlowsPage params={params} />),
  findings: () => import('./pages/findings-page.js').then((m) => ({ params }: PageProps) => <m.FindingsPage params={params} />),
  service: () => import('./pages/service-page.js').then((m) => ({ arg, params }: PageProps) => <m.ServicePage service={arg} params={params} />),
  compare: () => import('./pages/compare-page.js').then((m) => ({ params }: PageProps) => <m.ComparePage params={params} />),
};

const loaded = new Map<PageName, PageComponent>([['trace', ({ arg, params }: PageProps) => <TracePage traceId={arg} params={params} />]]);
const loading = new Map<PageName, Promise<PageComponent>>();

/** The page's component once its chunk is here. */
export function loadedPage(name: PageName): PageComponent | undefined {
  return loaded.get(name);
}

/** Loads the page's chunk (once; a failed load is tried again on the next call). */
export function loadPage(name: PageName): Promise<PageComponent> {
  const have = loaded.get(name);
  if (have !== undefined) return Promise.resolve(have);
  let p = loading.get(name);
  if (p === undefined) {
    p = LOADERS[name as Exclude<PageName, 'trace'>]().then(
      (page) => {
        loaded.set(name, page);
        loading.delete(name);
        return page;
      },
      (error: unknown) => {
        loading.delete(name);
        throw error;
      },
    );
    loading.set(name, p);
  }
  return p;
}
