// Watch page: player when playable (ready, or still processing with its
// low rungs: fast first play); live processing state otherwise.
import { append, h, sleep } from '../lib/dom.js';
import { getJSON, isAbort, videoURL } from '../lib/api.js';
import { formatDate, formatDuration, timeAgo } from '../lib/format.js';
import { progressBar, setProgress, statusText } from '../components/status.js';
import { preloadHls, startPlayer } from '../player.js';
import { trackPlayback } from '../lib/beacons.js';
import { scrubber } from '../components/scrubber.js';
import { cardItem, ownerLink, skeletons } from '../components/card.js';
import { formatViews } from '../lib/search-state.js';
import { pendingText, pickThumbnail } from '../lib/storyboard.js';
import { errorBox, notFound } from './common.js';

const POLL_MS = 1000;
// While a playable video finishes its larger rungs, ask less often.
const PENDING_POLL_MS = 2500;
const DONE_NOTE_MS = 5000;

export default async function watch({ root, params, signal }) {
  const id = params[0];
  document.title = 'Loading… · Strata';
  preloadHls(); // fetch the player chunk in parallel with the metadata

  const loading = h('div', { class: 'watch' },
    h('div', { class: 'player-box skeleton-box', 'aria-hidden': 'true' }),
    h('p', { class: 'muted', role: 'status' }, 'Loading video…'));
  root.append(loading);

  let video;
  try {
    video = await getJSON(videoURL(id), { signal });
  } catch (err) {
    if (isAbort(err)) return;
    loading.remove();
    if (err.status === 404) {
      notFound(root, 'video');
    } else {
      document.title = 'Error · Strata';
      root.append(errorBox("Couldn't load this video", err.message, () => {
        root.replaceChildren();
        watch({ root, params, signal });
      }));
    }
    return;
  }
  if (signal.aborted) return;
  loading.remove();
  render(root, video, signal);
}

function render(root, video, signal) {
  document.title = `${video.title || 'Untitled video'} · Strata`;
  const stage = h('div', { class: 'player-box' });
  setAspect(stage, video);
  const controls = h('div', { class: 'player-controls' });
  const details = h('div', { class: 'watch-details' });
  const related = h('aside', { class: 'related', 'aria-labelledby': 'related-title', 'data-testid': 'related' });
  // The related list sits beside the player on wide screens, under it on
  // narrow ones (styles.css .watch-layout).
  root.append(h('div', { class: 'watch-layout' },
    h('article', { class: 'watch' }, stage, controls, details),
    related));
  fillDetails(details, video);
  loadRelated(related, video.id, signal);

  if (video.status === 'ready') {
    mountPlayer(stage, controls, video, signal);
  } else if (video.status === 'failed') {
    stage.append(failedPanel(video));
  } else if (isPlayable(video)) {
    const player = mountPlayer(stage, controls, video, signal);
    followPending(player, details, video, signal);
  } else {
    waitUntilPlayable(stage, controls, details, video, signal);
  }
}

/** Processing, but its first rungs play already (fast first play). */
function isPlayable(v) {
  return v.status === 'processing' && v.playable === true && Boolean(v.hls);
}
function setAspect(el, v) {
  if (v.width > 0 && v.height > 0) el.style.setProperty('--ar', `${v.width} / ${v.height}`);
}

/**
 * The player, the seek bar with storyboard previews and the menus. Returns
 * { note, scrub, player } for followPending: note is the line under the
 * player saying which rungs are still processing.
 */
function mountPlayer(stage, controls, video, signal) {
  const note = h('p', { class: 'pending-note', role: 'status', 'data-testid': 'renditions-pending', hidden: true });
  if (!video.hls) {
    stage.replaceChildren(h('div', { class: 'stage-panel is-failed', role: 'alert' },
      h('p', { class: 'stage-title' }, 'No stream available'),
      h('p', { class: 'stage-error' }, 'The server reports this video as ready but gave no stream address.')));
    return { note, scrub: null, player: Promise.resolve(null) };
  }
  // <video poster> has no srcset: take the smallest size that fills the box.
  const poster = pickThumbnail(video.thumbnails, stage.clientWidth || 640, window.devicePixelRatio || 1)?.url || video.thumbnail;
  const el = h('video', {
    controls: true,
    playsinline: true,
    preload: 'metadata',
    poster: poster || null,
    'data-testid': 'video-player',
    'aria-label': video.title || 'Video',
  });
  const select = h('select', { id: 'quality', 'data-testid': 'quality-select', disabled: true },
    h('option', { value: '-1' }, 'Auto'));
  const problem = h('div', { class: 'player-problem' });
  stage.replaceChildren(el, problem);
  const scrub = scrubber({ video: el, signal });
  stage.after(scrub.el);
  signal.addEventListener('abort', () => scrub.el.remove(), { once: true });
  controls.replaceChildren(
    note,
    h('div', { class: 'quality' },
      h('label', { for: 'quality' }, 'Quality'),
      select));
  // The master playlist lists the captions; the API says whether it has any.
  let subtitles = null;
  if (Array.isArray(video.captions) && video.captions.length > 0) {
    subtitles = h('select', { id: 'subtitles', 'data-testid': 'subtitles-select', disabled: true },
      h('option', { value: '-1' }, 'Off'));
    controls.append(h('div', { class: 'quality' },
      h('label', { for: 'subtitles' }, 'Captions'),
      subtitles));
  }
  // A private video's API answer carries a media token for its owner:
  // every playlist and segment request must carry it too.
  const media = video.media_token ? {
    token: video.media_token,
    async refresh() {
      const fresh = await getJSON(videoURL(video.id), { signal });
      if (!fresh.media_token) throw new Error('no media token');
      media.token = fresh.media_token;
    },
  } : null;
  scrub.setStoryboard(video.storyboard, video.media_token);
  // One beacon session per playback (lib/beacons.js): views and playback quality.
  const tracker = trackPlayback({ el, videoID: video.id, signal });
  const player = startPlayer({
    tracker,
    video: el,
    select,
    subtitles,
    src: video.hls,
    media,
    signal,
    onError: (message) => problem.replaceChildren(errorBox('Playback problem', message)),
  }).catch((err) => {
    if (!signal.aborted) problem.replaceChildren(errorBox('Playback problem', `The player failed to load: ${err.message}`));
    return null;
  });
  return { note, scrub, player };
}

/**
 * A playable video still encoding its larger rungs: say which, politely
 * (role=status), until the whole ladder is ready; then pick up the new
 * master without interrupting playback (player.refresh reloads it on the
 * next pause), and let the note go.
 */
async function followPending({ note, scrub, player }, details, video, signal) {
  const say = (v) => {
    const list = pendingText(v.renditions_pending);
    // Staged first play names the rungs to come; a growing one has them
    // all and is still adding the end of the video.
    const text = list ? `Higher qualities are still processing: ${list}` : 'Still processing: the video plays while the rest of it is encoded.';
    if (note.textContent !== text) note.textContent = text;
    note.hidden = false;
    note.dataset.state = 'pending';
  };
  say(video);
  let failures = 0;
  while (!signal.aborted) {
    await sleep(PENDING_POLL_MS * Math.min(4, 1 + failures), signal);
    if (signal.aborted) return;
    let v;
    try {
      v = await getJSON(videoURL(video.id), { signal });
      failures = 0;
    } catch (err) {
      if (isAbort(err)) return;
      failures++;
      continue;
    }
    scrub?.setStoryboard(v.storyboard, v.media_token);
    if (v.status === 'ready') {
      fillDetails(details, v);
      note.textContent = 'All qualities are ready.';
      note.dataset.state = 'ready';
      (await player)?.refresh();
      await sleep(DONE_NOTE_MS, signal);
      note.hidden = true;
      note.textContent = '';
      return;
    }
    if (v.status === 'failed') {
      note.textContent = `The higher qualities could not be made: ${v.error || 'processing failed'}.`;
      note.dataset.state = 'failed';
      return;
    }
    say(v);
  }
}
function failedPanel(video) {
  return h('div', {
    class: 'stage-panel is-failed',
    role: 'alert',
    'data-testid': 'processing-status',
    'data-status': 'failed',
  },
    h('p', { class: 'stage-title' }, 'Processing failed'),
    h('p', { class: 'stage-error' }, video.error || 'The server could not process this video.'));
}

async function waitUntilPlayable(stage, controls, details, video, signal) {
  const label = h('p', { class: 'stage-title' }, statusText(video));
  const bar = progressBar({ label: 'Processing progress', value: video.progress });
  const note = h('p', { class: 'muted' }, 'The player appears by itself as soon as the video can play.');
  const panel = h('div', {
    class: 'stage-panel',
    'data-testid': 'processing-status',
    'data-status': video.status,
  }, label, bar, note);
  // Announce status changes only (not every progress tick) to screen readers.
  const live = h('p', { class: 'visually-hidden', role: 'status' }, statusText(video));
  stage.replaceChildren(panel);
  stage.after(live);
  signal.addEventListener('abort', () => live.remove(), { once: true });

  let failures = 0;
  while (!signal.aborted) {
    await sleep(POLL_MS, signal);
    if (signal.aborted) return;
    try {
      video = await getJSON(videoURL(video.id), { signal });
      failures = 0;
    } catch (err) {
      if (isAbort(err)) return;
      failures++;
      note.textContent = `Can't reach the server (${err.message}). Retrying…`;
      await sleep(Math.min(10000, 1000 * failures), signal);
      continue;
    }
    if (panel.dataset.status !== video.status || isPlayable(video)) {
      live.textContent = video.status === 'ready' || isPlayable(video) ? 'The video can play now.' : statusText(video);
    }
    panel.dataset.status = video.status;
    label.textContent = statusText(video);
    setProgress(bar, video.status === 'ready' ? 100 : video.progress);
    if (video.status === 'ready') {
      setAspect(stage, video);
      fillDetails(details, video);
      mountPlayer(stage, controls, video, signal);
      return;
    }
    if (isPlayable(video)) {
      setAspect(stage, video);
      fillDetails(details, video);
      followPending(mountPlayer(stage, controls, video, signal), details, video, signal);
      return;
    }
    if (video.status === 'failed') {
      stage.replaceChildren(failedPanel(video));
      fillDetails(details, video);
      return;
    }
  }
}

function fillDetails(details, v) {
  const dur = (v.status === 'ready' || isPlayable(v)) && v.duration_s > 0 ? formatDuration(v.duration_s) : '';
  const facts = [];
  if (v.owner_name) facts.push(h('span', null, 'By ', ownerLink(v, 'watch-owner')));
  if (v.created_at) {
    facts.push(h('span', null, 'Uploaded ',
      h('time', { datetime: v.created_at, title: formatDate(v.created_at, true) },
        `${formatDate(v.created_at)} (${timeAgo(v.created_at)})`)));
  }
  const views = formatViews(v.views);
  if (views) facts.push(h('span', { 'data-testid': 'view-count', 'data-views': String(v.views) }, views));
  if (dur) facts.push(h('span', null, `Duration ${dur}`));
  if (v.height > 0 && v.status === 'ready') facts.push(h('span', null, `Up to ${v.height}p`));
  if (v.visibility && v.visibility !== 'public') facts.push(h('span', { class: 'pill' }, v.visibility));

  const tags = Array.isArray(v.tags) ? v.tags.filter((t) => typeof t === 'string' && t.trim()) : [];
  details.replaceChildren();
  append(details, [
    h('h1', { class: 'watch-title' }, v.title?.trim() || 'Untitled video'),
    h('p', { class: 'watch-facts' }, facts),
    tags.length
      ? h('ul', { class: 'tags', 'aria-label': 'Tags' },
        tags.map((t) => h('li', null, h('a', { class: 'tag', href: tagPath(t.trim()) }, `#${t.trim()}`))))
      : null,
    v.description?.trim() ? h('div', { class: 'description' }, v.description) : null,
  ]);
}

/** The search page filtered by a tag (the tag filter, not the tag as words). */
function tagPath(tag) {
  return `/search?${new URLSearchParams({ tag })}`;
}

const RELATED_LIMIT = 8;

/**
 * Fills the aside with videos like this one (GET /api/v1/videos/{id}/related),
 * as compact cards. Related videos are extra: a failure says so in one line
 * with a retry, and never gets in the way of the player.
 */
async function loadRelated(aside, id, signal) {
  const list = h('ul', { class: 'related-list', role: 'list', 'aria-busy': 'true' }, skeletons(3));
  aside.replaceChildren(h('h2', { id: 'related-title', class: 'related-title' }, 'Related videos'), list);
  try {
    const data = await getJSON(`${videoURL(id)}/related?limit=${RELATED_LIMIT}`, { signal });
    const videos = (Array.isArray(data?.videos) ? data.videos : []).filter((v) => v && v.id !== id);
    list.replaceChildren(...videos.map((v) => cardItem(v, { heading: 'h3' })));
    if (videos.length === 0) list.replaceWith(h('p', { class: 'muted', 'data-testid': 'related-empty' }, 'No related videos yet.'));
  } catch (err) {
    if (isAbort(err)) return;
    list.replaceWith(h('p', { class: 'muted' }, `Couldn't load related videos (${err.message}). `,
      h('button', { type: 'button', class: 'btn btn-small', onclick: () => loadRelated(aside, id, signal) }, 'Retry')));
  } finally {
    list.removeAttribute('aria-busy');
  }
}
