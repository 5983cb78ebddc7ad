// Live processing progress of an uploaded video: polls GET
// /api/v1/videos/{id} and shows the state, a progress bar and a link to
// the watch page ("Watch now" as soon as the first renditions play). The
// single upload form and every row of the upload queue use it.
import { h, sleep } from '../lib/dom.js';
import { getJSON, isAbort, videoURL, watchPath } from '../lib/api.js';
import { pendingText } from '../lib/storyboard.js';
import { progressBar, setProgress, statusText } from './status.js';

const POLL_MS = 1000;
const HIDDEN_POLL_MS = 5000;

/**
 * The panel and its poll. opts:
 * - heading: a title above it (the single form), none in a queue row
 * - testids: { status, link } test hooks of the state line and the link
 * - label: accessible name of the progress bar
 * - alive(): false ends the poll (the upload view was closed)
 * - onUpdate(v): after each answer (e.g. to bring the title in line)
 * - onDone('ready' | 'failed', v): once, when processing ends
 * run() polls until the end and resolves then.
 */
export function processingPanel(id, opts = {}) {
  const { heading = '', testids = {}, label: barLabel = 'Processing progress', alive = () => true, onUpdate, onDone } = opts;
  const label = h('p', { class: 'processing-label', 'data-testid': testids.status, 'data-status': 'uploaded' }, 'Waiting for the server…');
  const bar = progressBar({ label: barLabel, value: 0, small: !heading });
  const link = h('a', { class: heading ? 'btn' : 'btn btn-small', href: watchPath(id), 'data-testid': testids.link }, heading ? 'Open the watch page' : 'Open');
  const hint = h('p', { class: 'muted processing-hint', role: heading ? 'status' : null },
    heading ? 'You can leave this page; processing continues on the server.' : '');
  const node = h('div', { class: heading ? 'processing' : 'processing processing-compact' },
    heading ? h('h3', null, heading) : null, label, bar, hint, h('div', { class: 'actions' }, link));

  const playable = () => {
    if (link.dataset.playable === 'true') return;
    link.dataset.playable = 'true';
    link.textContent = 'Watch now';
    link.classList.add('btn-accent');
  };

  // One answer shown; true when processing has ended.
  function show(v) {
    label.dataset.status = v.status;
    label.textContent = statusText(v);
    setProgress(bar, v.status === 'ready' ? 100 : v.progress);
    if (v.status === 'ready') {
      playable();
      hint.textContent = '';
      return true;
    }
    if (v.status === 'processing' && v.playable) {
      playable(); // fast first play: the low rungs play already
      const list = pendingText(v.renditions_pending);
      const text = `It plays already; ${list ? `${list} ${v.renditions_pending.length > 1 ? 'are' : 'is'} still processing.` : 'higher qualities are still processing.'}`;
      if (hint.textContent !== text) hint.textContent = text;
    }
    if (v.status === 'failed') {
      bar.hidden = true;
      hint.replaceChildren(h('span', { class: 'error-text' }, v.error || 'The server could not process this video.'));
      hint.classList.remove('muted');
      return true;
    }
    return false;
  }

  async function run() {
    let misses = 0;
    while (alive()) {
      // Out of view (the user browses elsewhere in the app): ask less often.
      if (!node.isConnected) {
        await sleep(HIDDEN_POLL_MS);
        continue;
      }
      let v;
      try {
        v = await getJSON(videoURL(id));
        misses = 0;
      } catch (err) {
        if (isAbort(err)) return;
        misses++;
        // Right after the upload the record may not exist yet: keep asking.
        label.textContent = err.status === 404 && misses < 30
          ? 'Waiting for the server…'
          : `Can't get the processing state: ${err.message}`;
        await sleep(Math.min(10000, POLL_MS * misses));
        continue;
      }
      if (!alive()) return;
      await onUpdate?.(v);
      if (show(v)) {
        onDone?.(v.status, v);
        return;
      }
      await sleep(POLL_MS);
    }
  }

  return { node, link, run };
}
