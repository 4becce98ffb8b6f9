// The console's router: hash routes are the deep links (docs/console.md lists them).
import { connectEvents } from './api.js';
import { clusterPage } from './cluster.js';
import { appsPage, appPage, newAppPage, queuePage } from './apps.js';
import { deploymentsPage } from './deployments.js';
import { sandboxPage } from './sandbox.js';
import { eventsPage } from './events.js';
import { jobsPage } from './jobs.js';
import { startSampling } from './plots.js';

const ROUTES = [
  [/^\/cluster$/, clusterPage, 'cluster'],
  [/^\/apps$/, appsPage, 'apps'],
  [/^\/new-app$/, newAppPage, 'apps'],
  [/^\/app\/(.+)$/, appPage, 'apps'],
  [/^\/queue$/, queuePage, 'queue'],
  [/^\/deployments$/, deploymentsPage, 'deployments'],
  [/^\/task\/([^/]+)$/, sandboxPage, 'apps'],
  [/^\/events$/, eventsPage, 'events'],
  [/^\/jobs$/, jobsPage, 'jobs'],
];

let cleanup = null;

export function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/cluster';
  const [path, qs] = raw.split('?');
  return { path: decodeURI(path), query: new URLSearchParams(qs || '') };
}

function route() {
  const { path, query } = parseHash();
  const main = document.getElementById('main');
  if (cleanup) { try { cleanup(); } catch { /* page already gone */ } cleanup = null; }
  main.replaceChildren();
  for (const [re, page, nav] of ROUTES) {
    const m = path.match(re);
    if (!m) continue;
    for (const a of document.querySelectorAll('nav a')) {
      if (a.dataset.page === nav) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    cleanup = page(main, m.slice(1), query) || null;
    return;
  }
  const p = document.createElement('p');
  p.textContent = `No page at #${path}.`;
  main.append(p);
}

window.addEventListener('hashchange', () => { route(); document.getElementById('main').focus({ preventScroll: true }); });
const live = document.getElementById('live');
connectEvents((text, ok) => { live.textContent = ok ? '● live' : `○ ${text}`; live.dataset.ok = ok ? '1' : '0'; });
startSampling();
route();
