// Small page-level pieces shared by several pages.
import { h, icon, ICONS } from '../lib/dom.js';
import { loginPath } from '../lib/api.js';

/** A readable error panel, with an optional retry button. */
export function errorBox(title, message, retry) {
  const box = h('div', { class: 'alert', role: 'alert' },
    icon(ICONS.alert, 22),
    h('div', null,
      h('p', { class: 'alert-title' }, title),
      message ? h('p', null, message) : null,
      retry ? h('button', { type: 'button', class: 'btn btn-small' }, 'Try again') : null));
  if (retry) {
    box.querySelector('button').addEventListener('click', () => {
      box.remove();
      retry();
    });
  }
  return box;
}

export function notFound(root, what = 'page') {
  document.title = 'Not found · Strata';
  root.append(h('section', { class: 'not-found' },
    h('p', { class: 'big' }, '404'),
    h('h1', { class: 'page-title' }, `This ${what} doesn't exist`),
    h('p', { class: 'muted' }, `It may have been removed, or the link is wrong.`),
    h('p', null, h('a', { class: 'btn btn-accent', href: '/' }, 'Back to latest videos'))));
}

/** "Log in to …": shown by pages that need an account when nobody is logged in. */
export function loginRequired(root, { title, message, next = location.pathname + location.search }) {
  const q = next && next !== '/' ? `?next=${encodeURIComponent(next)}` : '';
  root.append(h('section', { class: 'empty login-required', 'data-testid': 'login-required' },
    icon(ICONS.lock, 32),
    h('p', null, title),
    message ? h('p', { class: 'muted' }, message) : null,
    h('div', { class: 'actions' },
      h('a', { class: 'btn btn-accent', href: loginPath(next), 'data-testid': 'login-link' }, 'Log in'),
      h('a', { class: 'btn', href: `/register${q}` }, 'Create an account'))));
}

/** A polite status line for the result of an action (announced, not alerting). */
export function statusLine(testid) {
  return h('p', { class: 'status-line', role: 'status', 'data-testid': testid });
}
