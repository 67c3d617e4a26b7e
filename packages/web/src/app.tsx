/** The shell: navigation, the current page, and the token dialog when the server asks for one. */
import { useEffect, useState, type ReactNode } from 'react';
import { onUnauthorized } from './api/client.js';
import { clearToken, readToken, saveToken } from './api/token.js';
import { loadedPage, loadPage, type PageComponent } from './pages.js';
import { ReloadContext } from './reload-context.js';
import { href, useRoute, type PageName } from './router.js';
import { Loading } from './status-line.js';
import { TokenDialog } from './token-dialog.js';
import { TraceIdBox } from './trace-id-box.js';

/** The page's component, loading its chunk first when it is not here yet. */
function usePage(name: PageName): PageComponent | Error | undefined {
  const page = loadedPage(name);
  const [failed, setFailed] = useState<{ name: PageName; error: Error } | undefined>(undefined);
  const [, setLoads] = useState(0);
  useEffect(() => {
    if (page !== undefined) return;
    let live = true;
    loadPage(name).then(
      () => live && setLoads((n) => n + 1),
      (error: unknown) => live && setFailed({ name, error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      live = false;
    };
  }, [name, page]);
  return page ?? (failed?.name === name ? failed.error : undefined);
}

const NAV: readonly { page: PageName; label: string }[] = [
  { page: 'search', label: 'Search' },
  { page: 'map', label: 'Service map' },
  { page: 'flows', label: 'Flows' },
  { page: 'findings', label: 'Findings' },
  { page: 'compare', label: 'Compare' },
];

const TITLES: Record<PageName, string> = { search: 'Search', trace: 'Trace', map: 'Service map', flows: 'Flows', findings: 'Findings', service: 'Service', compare: 'Compare' };

export function App(): ReactNode {
  const route = useRoute();
  const [reload, setReload] = useState(0);
  const [askToken, setAskToken] = useState(false);
  useEffect(() => onUnauthorized(() => setAskToken(true)), []);
  useEffect(() => {
    document.title = `${TITLES[route.page]}${route.arg === '' ? '' : ` ${route.arg}`} · Linktrace`;
  }, [route.page, route.arg]);

  const Page = usePage(route.page);
  let page: ReactNode;
  if (Page === undefined) page = <Loading />;
  else if (Page instanceof Error) {
    // Most likely a new build replaced the chunks this page was loaded with.
    page = (
      <p className="status error" role="alert">
        This page could not be loaded ({Page.message}). Reload the browser page.
      </p>
    );
  } else page = <Page arg={route.arg} params={route.params} />;

  return (
    <ReloadContext.Provider value={reload}>
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Linktrace</span>
        <nav aria-label="Pages">
          <ul>
            {NAV.map((n) => (
              <li key={n.page}>
                <a href={href(n.page)} aria-current={route.page === n.page ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <TraceIdBox />
        {readToken() !== undefined ? (
          <button
            type="button"
            className="link-button"
            onClick={() => {
              clearToken();
              setReload((r) => r + 1);
            }}
          >
            Forget token
          </button>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      {askToken ? (
        <TokenDialog
          onSave={(token) => {
            saveToken(token);
            setAskToken(false);
            setReload((r) => r + 1);
          }}
          onCancel={() => setAskToken(false)}
        />
      ) : null}
    </ReloadContext.Provider>
  );
}
