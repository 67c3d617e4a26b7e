import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { loadPage } from './pages.js';
import { parseHash } from './router.js';
import './styles.css';

// For the browser tests' breakdown of the first load: the app's script has loaded and runs.
performance.mark('lt:app-start');

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root');
const mount = root;

function render(): void {
  createRoot(mount).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

// The page the app opens on is loaded before the first render; should its chunk fail, the app
// renders anyway and says so.
loadPage(parseHash(location.hash).page).then(render, render);
