// Search results: GET /api/v1/search?q=&limit=&offset=
import { h } from '../lib/dom.js';
import { getJSON, isAbort, searchPath } from '../lib/api.js';
import { plural } from '../lib/format.js';
import { cardGrid, cardItem, skeletons } from '../components/card.js';
import { errorBox } from './common.js';

const PAGE_SIZE = 20;

export default function search({ root, query, signal }) {
  const q = (query.get('q') || '').trim();
  const offset = Math.max(0, Number.parseInt(query.get('offset') || '0', 10) || 0);
  const input = document.getElementById('site-search');
  if (input) input.value = q;

  document.title = q ? `${q} · Search · Strata` : 'Search · Strata';
  const heading = h('h1', { id: 'search-title', class: 'page-title' },
    q ? ['Results for ', h('q', null, q)] : 'Search');
  const section = h('section', { class: 'section', 'aria-labelledby': 'search-title' },
    h('div', { class: 'section-head' }, heading));
  root.append(section);

  if (!q) {
    section.append(searchForm(''), h('p', { class: 'muted' }, 'Type a title, a word from a description, or a tag.'));
    return;
  }

  const total = h('p', { class: 'results-total', 'data-testid': 'results-total', role: 'status' }, 'Searching…');
  const grid = cardGrid();
  grid.setAttribute('aria-busy', 'true');
  grid.append(...skeletons(4));
  const pager = h('nav', { class: 'pager', 'aria-label': 'Search result pages' });
  section.querySelector('.section-head').append(total);
  section.append(grid, pager);

  async function load() {
    try {
      const params = new URLSearchParams({ q, limit: String(PAGE_SIZE), offset: String(offset) });
      const data = await getJSON(`/api/v1/search?${params}`, { signal });
      const hits = Array.isArray(data.hits) ? data.hits : [];
      const count = Number(data.total) || 0;
      total.dataset.total = String(count);
      total.textContent = plural(count, 'result');
      grid.replaceChildren(...hits.map(cardItem));
      if (hits.length === 0) {
        section.insertBefore(
          h('div', { class: 'empty' },
            h('p', null, offset > 0 ? 'No more results.' : 'No videos match your search.'),
            h('p', { class: 'muted' }, 'Try fewer or different words.')),
          pager);
      }
      pagination(count, hits.length);
    } catch (err) {
      if (isAbort(err)) return;
      grid.replaceChildren();
      total.textContent = '';
      section.insertBefore(errorBox('Search failed', err.message, () => load()), pager);
    } finally {
      grid.removeAttribute('aria-busy');
    }
  }

  function pagination(count, shown) {
    pager.replaceChildren();
    const hasPrev = offset > 0;
    const hasNext = offset + shown < count;
    if (!hasPrev && !hasNext) return;
    pager.append(
      hasPrev
        ? h('a', { class: 'btn', href: searchPath(q, Math.max(0, offset - PAGE_SIZE)), rel: 'prev' }, '← Previous')
        : h('span'),
      h('span', { class: 'muted' }, shown > 0 ? `${offset + 1}–${offset + shown} of ${count}` : ''),
      hasNext
        ? h('a', { class: 'btn', href: searchPath(q, offset + PAGE_SIZE), rel: 'next' }, 'Next →')
        : h('span'));
  }

  load();
}

/** In-page search form for the empty query state (the header has one too). */
function searchForm(value) {
  return h('form', { class: 'search search-inline', role: 'search', action: '/search', method: 'get' },
    h('label', { for: 'page-search', class: 'visually-hidden' }, 'Search videos'),
    h('input', { id: 'page-search', name: 'q', type: 'search', value, placeholder: 'Search videos', required: true }),
    h('button', { type: 'submit', class: 'btn btn-accent' }, 'Search'));
}
