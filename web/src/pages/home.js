// Home: latest videos, newest first, with cursor pagination.
import { h } from '../lib/dom.js';
import { getJSON, isAbort } from '../lib/api.js';
import { cardGrid, cardItem, skeletons, refreshPending } from '../components/card.js';
import { errorBox } from './common.js';

const PAGE_SIZE = 20;

export default function home({ root, signal }) {
  document.title = 'Strata';
  const grid = cardGrid();
  grid.setAttribute('aria-busy', 'true');
  grid.append(...skeletons());
  const feedback = h('div', { class: 'feedback', role: 'status' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  let cursor = '';
  let first = true;

  root.append(
    h('section', { class: 'section', 'aria-labelledby': 'home-title' },
      h('div', { class: 'section-head' },
        h('h1', { id: 'home-title', class: 'page-title' }, 'Latest videos')),
      grid,
      feedback,
      h('div', { class: 'load-more' }, more)));

  async function load() {
    more.disabled = true;
    more.textContent = 'Loading…';
    feedback.replaceChildren();
    try {
      const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (cursor) params.set('cursor', cursor);
      const data = await getJSON(`/api/v1/videos?${params}`, { signal });
      const videos = Array.isArray(data.videos) ? data.videos : [];
      if (first) grid.replaceChildren();
      first = false;
      grid.append(...videos.map(cardItem));
      cursor = data.next_cursor || '';
      more.hidden = !cursor;
      if (grid.children.length === 0) {
        feedback.append(h('div', { class: 'empty' },
          h('p', null, 'No videos yet.'),
          h('a', { class: 'btn btn-accent', href: '/upload' }, 'Upload the first one')));
      }
    } catch (err) {
      if (isAbort(err)) return;
      if (first) grid.replaceChildren();
      feedback.append(errorBox("Couldn't load videos", err.message, () => load()));
      more.hidden = true;
    } finally {
      grid.removeAttribute('aria-busy');
      more.disabled = false;
      more.textContent = 'Load more';
    }
  }

  more.addEventListener('click', () => load());
  load();
  refreshPending(grid, signal);
}
