// Channel: one account's videos (/channel/{name}), newest first, with
// cursor pagination. Others see its public, ready videos; the owner and
// admins get all of them from the API, with their status on the cards.
import { h } from '../lib/dom.js';
import { channelVideosURL, getJSON, isAbort } from '../lib/api.js';
import { cardGrid, cardItem, skeletons, refreshPending } from '../components/card.js';
import { errorBox, notFound } from './common.js';

const PAGE_SIZE = 20;

export default function channel({ root, params, signal }) {
  const name = params[0];
  document.title = `@${name} · Strata`;
  const grid = cardGrid();
  grid.setAttribute('aria-busy', 'true');
  grid.append(...skeletons());
  const title = h('h1', { id: 'channel-title', class: 'page-title', 'data-testid': 'channel-name' }, `@${name}`);
  const handle = h('p', { class: 'muted channel-handle', hidden: true }, `@${name}`);
  const feedback = h('div', { class: 'feedback', role: 'status' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  const section = h('section', { class: 'section', 'aria-labelledby': 'channel-title', 'data-testid': 'channel' },
    h('div', { class: 'section-head channel-head' }, h('div', null, title, handle)),
    grid,
    feedback,
    h('div', { class: 'load-more' }, more));
  root.append(section);
  let cursor = '';
  let first = true;

  async function load() {
    more.disabled = true;
    more.textContent = 'Loading…';
    feedback.replaceChildren();
    try {
      const data = await getJSON(channelVideosURL(name, cursor, PAGE_SIZE), { signal });
      const videos = Array.isArray(data.videos) ? data.videos : [];
      if (first) {
        grid.replaceChildren();
        const shown = data.owner?.display_name?.trim() || data.owner?.name || name;
        title.textContent = shown;
        handle.hidden = !data.owner?.display_name?.trim();
        document.title = `${shown} · Strata`;
      }
      first = false;
      grid.append(...videos.map((v) => cardItem(v, { owner: false })));
      cursor = data.next_cursor || '';
      more.hidden = !cursor;
      if (grid.children.length === 0) {
        feedback.append(h('div', { class: 'empty', 'data-testid': 'channel-empty' },
          h('p', null, 'No public videos yet.')));
      }
    } catch (err) {
      if (isAbort(err)) return;
      if (first && err.status === 404) {
        section.remove();
        notFound(root, 'channel');
        return;
      }
      if (first) grid.replaceChildren();
      feedback.append(errorBox("Couldn't load this channel's videos", err.message, () => load()));
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
