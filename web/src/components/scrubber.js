// The seek bar under the player, with storyboard previews: the tile of the
// time under the mouse, under a finger dragging the bar, or (briefly) at a
// position reached with the keyboard. The <video>'s native controls stay;
// this bar is the one that knows the storyboard.
//
// The storyboard's VTT is fetched the first time the bar is used, and a
// sprite only when one of its tiles is shown (it is a CSS background).
import { h } from '../lib/dom.js';
import { formatDuration } from '../lib/format.js';
import { cueAt, parseStoryboard } from '../lib/storyboard.js';

const KEY_STEP_S = 5;
const FLASH_MS = 1200;

/**
 * scrubber({ video, signal }) returns { el, setStoryboard(url, token) }.
 * video is the <video>; everything is torn down with signal.
 */
export function scrubber({ video, signal }) {
  const range = h('input', {
    type: 'range',
    class: 'scrub-range',
    min: '0',
    max: '0',
    step: 'any',
    value: '0',
    disabled: true,
    'aria-label': 'Seek',
    'aria-valuetext': '0:00',
    'data-testid': 'seek-bar',
  });
  const tile = h('div', { class: 'scrub-tile', hidden: true });
  const when = h('span', { class: 'scrub-time' }, '0:00');
  const preview = h('div', { class: 'scrub-preview', hidden: true, 'aria-hidden': 'true', 'data-testid': 'storyboard-preview' },
    tile, when);
  const clock = h('span', { class: 'scrub-clock', 'aria-hidden': 'true' }, '0:00 / 0:00');
  const el = h('div', { class: 'scrub' }, h('div', { class: 'scrub-track' }, range, preview), clock);

  let cues = [];
  let board = null; // { url, token, state: 'idle'|'loading'|'done', retryAt }
  let dragging = false;
  let hovering = false;
  let flashTimer = 0;
  let lastText = '';
  let last = null; // the preview's {t, x}

  const duration = () => (Number.isFinite(video.duration) && video.duration > 0 ? video.duration : 0);

  function syncFromVideo() {
    const d = duration();
    range.disabled = d === 0;
    if (String(d) !== range.max) range.max = String(d);
    const t = video.currentTime || 0;
    if (!dragging) range.value = String(t);
    const text = `${formatDuration(t) || '0:00'} / ${formatDuration(d) || '0:00'}`;
    if (text !== lastText) {
      lastText = text;
      clock.textContent = text;
      range.setAttribute('aria-valuetext', `${formatDuration(dragging ? +range.value : t) || '0:00'} of ${formatDuration(d) || '0:00'}`);
    }
  }
  for (const ev of ['loadedmetadata', 'durationchange', 'timeupdate', 'seeked', 'emptied']) {
    video.addEventListener(ev, syncFromVideo);
  }

  async function loadBoard() {
    if (!board || board.state === 'loading' || board.state === 'done' || Date.now() < board.retryAt) return;
    const b = board;
    b.state = 'loading';
    try {
      const abs = new URL(b.url, location.href);
      if (b.token) abs.searchParams.set('token', b.token);
      const res = await fetch(abs.href, { signal, credentials: 'same-origin' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const parsed = parseStoryboard(await res.text(), abs.href, b.token);
      if (board !== b) return;
      cues = parsed;
      b.state = 'done';
      // The preview is up meanwhile (time only): add the tile.
      if (!preview.hidden && last) show(last.t, last.x);
    } catch {
      if (board !== b || signal.aborted) return;
      // Not there yet (the sprites are stored just before "ready") or a
      // hiccup: the preview shows the time alone; try again later.
      b.state = 'idle';
      b.retryAt = Date.now() + 5000;
    }
  }

  /** Show the preview for time t at x px from the bar's left edge. */
  function show(t, x) {
    const d = duration();
    if (d === 0) return;
    t = Math.min(d, Math.max(0, t));
    last = { t, x };
    loadBoard();
    const cue = cueAt(cues, t);
    if (cue) {
      tile.hidden = false;
      tile.style.width = `${cue.w}px`;
      tile.style.height = `${cue.h}px`;
      tile.style.backgroundImage = `url("${cue.url.replace(/["\\\n]/g, encodeURIComponent)}")`;
      tile.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      tile.dataset.sprite = cue.url;
    } else {
      tile.hidden = true;
    }
    when.textContent = formatDuration(t) || '0:00';
    preview.hidden = false;
    const width = range.clientWidth;
    const half = preview.offsetWidth / 2;
    const left = Math.min(Math.max(0, x - half), Math.max(0, width - 2 * half));
    preview.style.transform = `translateX(${Math.round(left)}px)`;
    preview.dataset.time = t.toFixed(2);
  }

  function hide() {
    clearTimeout(flashTimer);
    preview.hidden = true;
  }

  /** Position (px) of time t on the bar. */
  const xOf = (t) => {
    const d = duration();
    return d ? (t / d) * range.clientWidth : 0;
  };

  function flash(t) {
    show(t, xOf(t));
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => {
      if (!hovering && !dragging) preview.hidden = true;
    }, FLASH_MS);
  }

  // Mouse: preview under the pointer.
  range.addEventListener('pointermove', (e) => {
    if (e.pointerType !== 'mouse' || dragging) return;
    hovering = true;
    const rect = range.getBoundingClientRect();
    const x = e.clientX - rect.left;
    show((x / rect.width) * duration(), x);
  });
  range.addEventListener('pointerleave', (e) => {
    if (e.pointerType !== 'mouse') return;
    hovering = false;
    if (!dragging) hide();
  });
  // Dragging (mouse or touch): the bar's value is the preview's time; the
  // video seeks when the drag ends (change).
  range.addEventListener('pointerdown', () => {
    dragging = true;
    loadBoard();
  });
  // The drag's end seeks too: a touch drag does not always end with a
  // change event (Chromium may end it as a cancelled gesture).
  const endDrag = () => {
    if (!dragging) return;
    dragging = false;
    if (Math.abs(video.currentTime - +range.value) > 0.5) video.currentTime = +range.value;
    if (!hovering) flash(+range.value);
  };
  range.addEventListener('pointerup', endDrag);
  range.addEventListener('pointercancel', endDrag);
  // A touch that Chromium hands to its gesture handling may end with none
  // of the pointer events above: the touch's own end closes the drag too.
  range.addEventListener('lostpointercapture', endDrag);
  range.addEventListener('touchend', endDrag);
  range.addEventListener('touchcancel', endDrag);
  range.addEventListener('input', () => {
    const t = +range.value;
    range.setAttribute('aria-valuetext', `${formatDuration(t) || '0:00'} of ${formatDuration(duration()) || '0:00'}`);
    show(t, xOf(t));
    if (!dragging) video.currentTime = t; // assistive tech sets the value directly
  });
  range.addEventListener('change', () => {
    video.currentTime = +range.value;
    if (!dragging && !hovering) flash(+range.value);
  });
  // Keyboard: steps of 5 s (the range's own step would be a hair), the
  // preview shown briefly at the new place.
  range.addEventListener('keydown', (e) => {
    const d = duration();
    if (!d) return;
    const page = Math.max(10, d / 10);
    const t = video.currentTime || 0;
    const to = {
      ArrowLeft: t - KEY_STEP_S, ArrowDown: t - KEY_STEP_S,
      ArrowRight: t + KEY_STEP_S, ArrowUp: t + KEY_STEP_S,
      PageDown: t - page, PageUp: t + page,
      Home: 0, End: d,
    }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const next = Math.min(d, Math.max(0, to));
    range.value = String(next);
    video.currentTime = next;
    flash(next);
    syncFromVideo();
  });
  range.addEventListener('focus', () => loadBoard());
  // Seeking with the native controls' keyboard shortcuts (the <video> has
  // focus) shows the preview too.
  video.addEventListener('seeking', () => {
    if (document.activeElement === video && !dragging) flash(video.currentTime);
  });
  signal.addEventListener('abort', () => clearTimeout(flashTimer), { once: true });

  return {
    el,
    /** The storyboard's URL (and a private video's media token). */
    setStoryboard(url, token = '') {
      if (!url) return;
      if (board && board.url === url) {
        board.token = token;
        return;
      }
      board = { url, token, state: 'idle', retryAt: 0 };
      cues = [];
      if (document.activeElement === range || hovering) loadBoard();
    },
  };
}
