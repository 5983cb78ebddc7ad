// Video cards (home grid and search results).
import { append, h, icon, ICONS, sleep } from '../lib/dom.js';
import { formatDuration, formatDate, timeAgo, percent } from '../lib/format.js';
import { channelPath, getJSON, isAbort, videoURL, watchPath } from '../lib/api.js';
import { STATUS_LABEL, progressBar } from './status.js';
import { thumbSrcset } from '../lib/storyboard.js';
import { formatViews } from '../lib/search-state.js';
import { firstFragment, markedNodes, snippet } from './highlight.js';

/** A <ul> grid of cards. */
export function cardGrid() {
  return h('ul', { class: 'grid', role: 'list' });
}

/** Grey placeholder cards shown while the first page loads. */
export function skeletons(n = 8) {
  return Array.from({ length: n }, () =>
    h('li', { class: 'card skeleton', 'aria-hidden': 'true' },
      h('div', { class: 'thumb' }),
      h('div', { class: 'line' }),
      h('div', { class: 'line short' })));
}

// The grid's column widths (styles.css .grid): one column below 600 px,
// else columns of 260 px and up (about 300 px at common widths).
const CARD_SIZES = '(max-width: 600px) calc(100vw - 24px), (max-width: 1100px) 45vw, 320px';

/** The card's picture: every size in srcset, so a phone fetches the small one. */
function picture(v) {
  const srcset = thumbSrcset(v.thumbnails);
  const smallest = Array.isArray(v.thumbnails) && v.thumbnails.length ? v.thumbnails[v.thumbnails.length - 1].url : '';
  const img = h('img', {
    src: smallest || v.thumbnail,
    srcset: srcset || null,
    sizes: srcset ? CARD_SIZES : null,
    alt: '',
    width: 320,
    height: 180,
    loading: 'lazy',
    decoding: 'async',
  });
  img.addEventListener('error', () => img.replaceWith(placeholder()), { once: true });
  return img;
}

function thumbnail(v) {
  const status = v.status || 'ready'; // search hits carry no status: they are ready
  const thumb = h('div', { class: 'thumb' });
  const hasPicture = v.thumbnail || (Array.isArray(v.thumbnails) && v.thumbnails.length > 0);
  if (status === 'ready') {
    thumb.append(hasPicture ? picture(v) : placeholder());
    const d = formatDuration(v.duration_s);
    if (d && v.duration_s > 0) thumb.append(h('span', { class: 'badge', 'aria-hidden': 'true' }, d));
  } else if (status === 'processing' && v.playable && hasPicture) {
    // Fast first play: it plays already, in its lower qualities.
    thumb.append(picture(v), h('span', { class: 'badge badge-status' }, `Processing · ${percent(v.progress)}%`));
  } else {
    const failed = status === 'failed';
    thumb.classList.add('thumb-status', failed ? 'is-failed' : 'is-processing');
    append(thumb, [
      icon(failed ? ICONS.alert : ICONS.clock, 28),
      h('span', { class: 'thumb-status-text' },
        STATUS_LABEL[status] || status,
        status === 'processing' ? ` · ${percent(v.progress)}%` : ''),
      status === 'processing'
        ? progressBar({ label: 'Processing progress', value: v.progress, small: true })
        : null,
    ]);
  }
  return thumb;
}

function placeholder() {
  return h('div', { class: 'thumb-placeholder' }, icon(ICONS.film, 32));
}

/** "by Name", linking the owner's channel (absent without an owner name). */
export function ownerLink(v, testid = 'card-owner') {
  if (!v.owner_name) return null;
  return h('a', { class: 'owner-link', href: channelPath(v.owner_name), 'data-testid': testid },
    v.owner_display_name?.trim() || v.owner_name);
}

/**
 * One card. Works for both Video objects and search hits. With
 * { owner: false } (the owner's own channel) it leaves out the owner;
 * heading is the title's element (h3 under a page's own h2, as in the
 * watch page's related list); a search hit's highlights mark the matched
 * words of its title and add the matched parts of its description.
 */
export function videoCard(v, { owner = true, heading = 'h2', highlights = null } = {}) {
  const status = v.status || 'ready';
  const marked = firstFragment(highlights, 'title');
  const title = marked ? markedNodes(marked) : v.title?.trim() || 'Untitled video';
  const d = status === 'ready' && v.duration_s > 0 ? formatDuration(v.duration_s) : '';
  const views = status === 'ready' ? formatViews(v.views) : '';
  return h('article', {
    class: 'card',
    'data-testid': 'result-card',
    'data-id': v.id,
    'data-status': status,
    'data-owner': owner ? null : 'false',
  },
    h('a', { class: 'card-link', href: watchPath(v.id) },
      thumbnail(v),
      h(heading, { class: 'card-title' }, title)),
    snippet(highlights),
    h('p', { class: 'card-meta' },
      owner && v.owner_name ? [ownerLink(v), ' · '] : null,
      views ? [h('span', { 'data-testid': 'card-views' }, views), ' · '] : null,
      v.created_at
        ? h('time', { datetime: v.created_at, title: formatDate(v.created_at, true) }, timeAgo(v.created_at))
        : null,
      d ? h('span', { class: 'visually-hidden' }, `, duration ${d}`) : null));
}

export function cardItem(v, opts) {
  return h('li', null, videoCard(v, opts));
}

/**
 * While cards in the list are still processing, refresh them every few
 * seconds (one small GET per pending card) until they settle or the page
 * is left.
 */
export async function refreshPending(list, signal, interval = 3000) {
  while (!signal.aborted) {
    await sleep(interval, signal);
    if (signal.aborted) return;
    const pending = list.querySelectorAll('.card[data-status="uploaded"], .card[data-status="processing"]');
    if (pending.length === 0) continue;
    await Promise.all([...pending].map(async (card) => {
      try {
        const v = await getJSON(videoURL(card.dataset.id), { signal });
        if (card.isConnected) card.replaceWith(videoCard(v, { owner: card.dataset.owner !== 'false' }));
      } catch (err) {
        if (isAbort(err)) return;
        if (err.status === 404 && card.isConnected) card.closest('li')?.remove();
      }
    }));
  }
}
