// Strata web UI entry point: a tiny history-API router.
//
// Routes: /  ·  /upload  ·  /watch/{id}  ·  /search?q=&tag=&sort=&offset=… (lib/search-state.js)
//         /login  ·  /register  ·  /account  ·  /account/videos  ·  /account/setup?token=
//         /channel/{name}  ·  /admin (admins)
// Every page is a function ({ root, params, query, signal }) that renders
// into <main>. `signal` aborts when the user leaves the page: pages use it
// to cancel fetches, stop polling and destroy the player.
import './styles.css';
import home from './pages/home.js';
import upload from './pages/upload.js';
import watch from './pages/watch.js';
import search from './pages/search.js';
import account from './pages/account.js';
import myVideos from './pages/my-videos.js';
import admin from './pages/admin.js';
import channel from './pages/channel.js';
import { login, register, setup } from './pages/auth.js';
import { notFound } from './pages/common.js';
import { mountAccountNav } from './components/account-nav.js';
import { attachSuggest } from './components/suggest.js';

// Test/debug hook: the current hls.js instance (null when none).
window.__strata = { hls: null };

const routes = [
  [/^\/$/, home],
  [/^\/upload\/?$/, upload],
  [/^\/watch\/([^/]+)\/?$/, watch],
  [/^\/search\/?$/, search],
  [/^\/login\/?$/, login],
  [/^\/register\/?$/, register],
  [/^\/account\/?$/, account],
  [/^\/account\/videos\/?$/, myVideos],
  [/^\/account\/setup\/?$/, setup],
  [/^\/channel\/([^/]+)\/?$/, channel],
  [/^\/admin\/?$/, admin],
];

const main = document.getElementById('main');
let controller = null;
let accountNav = null;
// Suggestions as you type in the header search box (it lives as long as the app).
const headerSearch = document.querySelector('[data-testid="search-input"]');
const headerSuggest = headerSearch ? attachSuggest(headerSearch) : null;

function match(pathname) {
  for (const [re, page] of routes) {
    const m = re.exec(pathname);
    if (m) {
      let params;
      try {
        params = m.slice(1).map(decodeURIComponent);
      } catch {
        return [(ctx) => notFound(ctx.root), []];
      }
      return [page, params];
    }
  }
  return [(ctx) => notFound(ctx.root), []];
}

function render() {
  controller?.abort();
  controller = new AbortController();
  const url = new URL(location.href);
  const [page, params] = match(url.pathname);
  main.replaceChildren();
  // The header search box shows the current query on /search only.
  const box = document.querySelector('[data-testid="search-input"]');
  if (box && !/^\/search\/?$/.test(url.pathname)) box.value = '';
  headerSuggest?.close();
  accountNav?.update();
  document.querySelectorAll('[data-nav]').forEach((a) => {
    if (url.pathname.startsWith(`/${a.dataset.nav}`)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  try {
    const result = page({ root: main, params, query: url.searchParams, signal: controller.signal, navigate });
    result?.catch?.((err) => console.error(err));
  } catch (err) {
    console.error(err);
  }
}

export function navigate(to, { replace = false } = {}) {
  const url = new URL(to, location.href);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
  window.scrollTo(0, 0);
  // Move focus to the new content so keyboard and screen-reader users land there.
  main.focus({ preventScroll: true });
}

// Same-origin links navigate inside the app (plain links still work without JS).
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest?.('a[href]');
  if (!a || (a.target && a.target !== '_self') || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || /^\/(api|media|assets)\//.test(url.pathname)) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return; // in-page anchor
  e.preventDefault();
  navigate(url.pathname + url.search);
});

// Search forms (header and in-page) use GET /search?q= ; handle them in-app.
document.addEventListener('submit', (e) => {
  const form = e.target;
  if (!(form instanceof HTMLFormElement) || form.getAttribute('role') !== 'search') return;
  e.preventDefault();
  const q = new FormData(form).get('q')?.toString().trim() || '';
  if (!q) {
    form.querySelector('input[name="q"]')?.focus();
    return;
  }
  form.querySelector('input[name="q"]')?.blur();
  navigate(`/search?q=${encodeURIComponent(q)}`);
});

window.addEventListener('popstate', () => render());

accountNav = mountAccountNav(document.querySelector('.site-nav'), navigate);
render();
