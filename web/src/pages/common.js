// Small page-level pieces shared by several pages.
import { h, icon, ICONS } from '../lib/dom.js';

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
