// /account/videos: the logged-in user's own videos, every status and
// visibility, newest first; edit one's title, description and tags,
// change who may watch it, manage its captions, or delete it.
import { h, icon, ICONS, sleep } from '../lib/dom.js';
import { getJSON, isAbort, sendJSON, videoURL, watchPath } from '../lib/api.js';
import { currentUser, sessionEnded } from '../lib/auth.js';
import { formatDate, formatDuration, percent, plural, timeAgo } from '../lib/format.js';
import { STATUS_LABEL, progressBar, setProgress } from '../components/status.js';
import { captionsEditor } from '../components/captions.js';
import { editButton, editForm } from '../components/edit-video.js';
import { errorBox, loginRequired, statusLine } from './common.js';

const LIMIT = 200;
const POLL_MS = 3000;
const VISIBILITY = [
  ['public', 'Public'],
  ['unlisted', 'Unlisted'],
  ['private', 'Private'],
];

export default async function myVideos({ root, signal }) {
  document.title = 'My videos · Strata';
  const head = h('div', { class: 'section-head' },
    h('h1', { id: 'my-videos-title', class: 'page-title' }, 'My videos'));
  const askLogin = (title) => {
    root.replaceChildren(head);
    loginRequired(root, { title, message: 'Your videos, private ones included, are listed here once you are logged in.' });
  };
  let me;
  try {
    me = await currentUser();
  } catch (err) {
    root.append(head, errorBox("Couldn't check your login", err.message));
    return;
  }
  if (signal.aborted) return;
  if (!me) {
    askLogin('Log in to see your videos');
    return;
  }

  const count = h('p', { class: 'results-total', 'data-testid': 'my-videos-count' });
  head.append(count);
  const list = h('ul', { class: 'rows video-rows', 'data-testid': 'my-videos', 'aria-busy': 'true' });
  const status = statusLine('my-videos-status');
  const feedback = h('div', { class: 'feedback' });
  root.append(h('section', { 'aria-labelledby': 'my-videos-title' },
    head,
    h('p', { class: 'muted panel-intro' },
      'Public videos are listed and searchable. Unlisted ones play for anyone with the link. Private ones play only for you and the admins.'),
    status, list, feedback));

  const rows = new Map(); // id -> <li>
  const ctx = {
    signal,
    status,
    // An edited video: its row is drawn again from the server's answer.
    updated(v) {
      const old = rows.get(v.id);
      if (!old) return;
      const fresh = videoRow(v, ctx);
      old.replaceWith(fresh);
      rows.set(v.id, fresh);
      fresh.querySelector('[data-testid="video-edit"]')?.focus();
    },
    removed(id) {
      rows.get(id)?.remove();
      rows.delete(id);
      showCount();
    },
    ended(err) {
      if (err?.status !== 401) return false;
      sessionEnded();
      askLogin('Your session has ended');
      return true;
    },
  };

  function showCount() {
    count.textContent = plural(rows.size, 'video');
    count.dataset.total = String(rows.size);
    feedback.replaceChildren();
    if (rows.size === 0) {
      feedback.append(h('div', { class: 'empty', 'data-testid': 'my-videos-empty' },
        h('p', null, "You haven't uploaded any videos yet."),
        h('a', { class: 'btn btn-accent', href: '/upload' }, icon(ICONS.upload, 18), 'Upload a video')));
    }
  }

  // Draws the list; later calls update rows in place (a row holding the
  // focus keeps its controls, so a keyboard user is not thrown out).
  function draw(videos) {
    const seen = new Set();
    let prev = null;
    for (const v of videos) {
      seen.add(v.id);
      let row = rows.get(v.id);
      if (!row) {
        row = videoRow(v, ctx);
      } else if (!row.contains(document.activeElement) && !row.querySelector('details[open]') && !row.dataset.editing) {
        const fresh = videoRow(v, ctx);
        row.replaceWith(fresh);
        row = fresh;
      } else {
        updateStatus(row, v);
      }
      rows.set(v.id, row);
      if (prev ? prev.nextSibling !== row : list.firstChild !== row) {
        if (prev) prev.after(row);
        else list.prepend(row);
      }
      prev = row;
    }
    for (const [id, row] of rows) {
      if (!seen.has(id)) {
        row.remove();
        rows.delete(id);
      }
    }
    showCount();
  }

  async function load() {
    const data = await getJSON(`/api/v1/account/videos?limit=${LIMIT}`, { signal });
    if (signal.aborted) return [];
    const videos = Array.isArray(data.videos) ? data.videos : [];
    draw(videos);
    return videos;
  }

  let videos;
  try {
    videos = await load();
  } catch (err) {
    if (isAbort(err) || ctx.ended(err)) return;
    feedback.replaceChildren(errorBox("Couldn't load your videos", err.message, () => {
      root.replaceChildren();
      myVideos({ root, signal });
    }));
    return;
  } finally {
    list.removeAttribute('aria-busy');
  }

  // While something is being processed, ask again every few seconds.
  let failures = 0;
  const pending = (vs) => vs.some((v) => v.status === 'uploaded' || v.status === 'processing');
  while (!signal.aborted && pending(videos)) {
    await sleep(POLL_MS * Math.min(4, 1 + failures), signal);
    if (signal.aborted) return;
    try {
      videos = await load();
      failures = 0;
    } catch (err) {
      if (isAbort(err) || ctx.ended(err)) return;
      failures++;
    }
  }
}

function statusOf(v) {
  const label = STATUS_LABEL[v.status] || v.status || 'Unknown';
  if (v.status !== 'processing') return label;
  return `${label} · ${percent(v.progress)}%${earlyPlay(v) ? ' · plays already' : ''}`;
}

/** Processing, but its first rungs play already (fast first play). */
const earlyPlay = (v) => v.status === 'processing' && v.playable === true;

function updateStatus(row, v) {
  row.dataset.status = v.status;
  const el = row.querySelector('.video-row-status');
  if (el) el.textContent = statusOf(v);
  const watchNow = row.querySelector('.video-row-watch');
  if (watchNow) watchNow.hidden = !earlyPlay(v);
  const bar = row.querySelector('progress');
  if (bar) {
    bar.hidden = v.status !== 'processing';
    setProgress(bar, v.progress);
  }
}

function videoRow(v, ctx) {
  const title = v.title?.trim() || 'Untitled video';
  const ready = v.status === 'ready';
  const thumb = h('a', { class: 'video-row-thumb', href: watchPath(v.id), tabindex: '-1', 'aria-hidden': 'true' });
  if (ready && v.thumbnail) {
    const img = h('img', { src: v.thumbnail, alt: '', width: 160, height: 90, loading: 'lazy', decoding: 'async' });
    img.addEventListener('error', () => img.replaceWith(icon(ICONS.film, 28)), { once: true });
    thumb.append(img);
  } else {
    thumb.append(icon(v.status === 'failed' ? ICONS.alert : ready ? ICONS.film : ICONS.clock, 28));
  }
  const dur = ready && v.duration_s > 0 ? formatDuration(v.duration_s) : '';
  if (dur) thumb.append(h('span', { class: 'badge' }, dur));

  const select = h('select', {
    id: `vis-${v.id}`,
    class: 'select',
    'data-testid': 'visibility-select',
  }, VISIBILITY.map(([value, label]) => h('option', { value, selected: v.visibility === value }, label)));
  const edit = editButton(title);
  const del = h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-testid': 'video-delete', 'aria-label': `Delete ${title}` },
    icon(ICONS.trash, 16), h('span', null, 'Delete'));

  const row = h('li', {
    class: 'row video-row',
    'data-testid': 'my-video',
    'data-id': v.id,
    'data-status': v.status,
    'data-visibility': v.visibility,
  },
  thumb,
  h('div', { class: 'row-main' },
    h('a', { class: 'row-title video-row-title', href: watchPath(v.id), 'data-testid': 'my-video-link' }, title),
    h('p', { class: 'row-meta' },
      h('span', { class: `video-row-status status-${v.status}` }, statusOf(v)),
      v.created_at ? [' · ', h('time', { datetime: v.created_at, title: formatDate(v.created_at, true) }, timeAgo(v.created_at))] : null),
    v.status === 'processing' ? progressBar({ label: `Processing ${title}`, value: v.progress, small: true }) : null,
    v.status === 'processing' || v.status === 'uploaded'
      ? h('a', {
        class: 'btn btn-small btn-accent video-row-watch',
        href: watchPath(v.id),
        hidden: !earlyPlay(v),
        'data-testid': 'my-video-watch-now',
        'aria-label': `Watch ${title} now`,
      }, 'Watch now')
      : null,
    v.status === 'failed' && v.error ? h('p', { class: 'error-text row-error' }, v.error) : null,
    captionsEditor(v, ctx)),
  h('div', { class: 'video-row-actions' },
    h('label', { class: 'visually-hidden', for: `vis-${v.id}` }, `Who may watch ${title}`),
    edit,
    select,
    del));

  edit.addEventListener('click', () => openEditor(row, v, edit, ctx));

  select.addEventListener('change', async () => {
    const before = row.dataset.visibility;
    const want = select.value;
    select.disabled = true;
    ctx.status.replaceChildren();
    try {
      const out = await sendJSON('PATCH', videoURL(v.id), { visibility: want }, { signal: ctx.signal });
      row.dataset.visibility = out?.visibility || want;
      ctx.status.textContent = `“${title}” is now ${row.dataset.visibility}.`;
    } catch (err) {
      if (isAbort(err) || ctx.ended(err)) return;
      select.value = before;
      ctx.status.replaceChildren(h('span', { class: 'error-text' }, `Couldn't change “${title}”: ${err.message}`));
    } finally {
      select.disabled = false;
    }
  });
  del.addEventListener('click', async () => {
    if (!window.confirm(`Delete “${title}”? Its files are removed everywhere; this cannot be undone.`)) return;
    del.disabled = true;
    ctx.status.replaceChildren();
    try {
      await sendJSON('DELETE', videoURL(v.id), undefined, { signal: ctx.signal });
      ctx.removed(v.id);
      ctx.status.textContent = `Deleted “${title}”.`;
    } catch (err) {
      if (isAbort(err) || ctx.ended(err)) return;
      del.disabled = false;
      ctx.status.replaceChildren(h('span', { class: 'error-text' }, `Couldn't delete “${title}”: ${err.message}`));
    }
  });
  return row;
}

/** Opens the edit form in the row (or focuses it when already open). */
function openEditor(row, v, button, ctx) {
  const open = row.querySelector('[data-testid="video-edit-form"]');
  if (open) {
    open.querySelector('input')?.focus();
    return;
  }
  const close = () => {
    editor.form.remove();
    delete row.dataset.editing;
    button.setAttribute('aria-expanded', 'false');
    button.focus();
  };
  const editor = editForm(v, {
    signal: ctx.signal,
    ended: (err) => ctx.ended(err),
    onCancel: close,
    onSaved: (out) => {
      ctx.status.textContent = `Saved “${out.title || v.title}”.`;
      ctx.updated(out);
    },
  });
  editor.form.id = `edit-form-${v.id}`;
  button.setAttribute('aria-controls', editor.form.id);
  button.setAttribute('aria-expanded', 'true');
  row.dataset.editing = '1';
  row.querySelector('.row-main .row-meta').after(editor.form);
  editor.focus();
}
