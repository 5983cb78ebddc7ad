// The upload queue: several files chosen or dropped at once each get a row
// (title, progress, speed, pause/resume, cancel), and at most MAX_ACTIVE of
// them send bytes at a time while the rest wait "Queued". Once a file is
// sent its row follows the processing on the server.
//
// Resume after a reload or a lost connection works as for one file: each
// file is looked up in tus-js-client's stored upload URLs (findPrevious)
// before it is queued, and continues from the server's offset. A lost
// connection turns a row to "Retry", and coming back online retries it.
//
// The title is sent with the upload's metadata when the upload starts;
// edited later, it is saved with PATCH /api/v1/videos/{id} once the video
// exists (right after its last byte).
import { h, icon, ICONS } from '../lib/dom.js';
import { loginPath, sendJSON, videoURL } from '../lib/api.js';
import { currentUser } from '../lib/auth.js';
import { formatBytes, percent, stripExtension } from '../lib/format.js';
import { describeTusError, findPrevious, loadTus, newUpload, videoIdFromUploadURL } from '../lib/upload-tus.js';
import { addSample, isActive, isSent, queueSummary, rateText, toStart } from '../lib/upload-queue.js';
import { progressBar, setProgress } from './status.js';
import { processingPanel } from './upload-processing.js';

let seq = 0;

export class UploadQueue {
  /** defaults: { description, tags } sent with every file; onEmpty: the last row went. */
  constructor({ defaults = {}, onEmpty } = {}) {
    this.items = [];
    this.closed = false;
    this.defaults = defaults;
    this.onEmpty = onEmpty;
    this.summary = h('p', { class: 'queue-summary muted', 'data-testid': 'queue-summary' });
    // One polite live region for the whole queue: a status line per row
    // would make a screen reader talk over itself.
    this.live = h('p', { class: 'visually-hidden', role: 'status' });
    this.list = h('ol', { class: 'queue-list', 'data-testid': 'upload-queue' });
    this.clearBtn = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'data-testid': 'queue-clear', hidden: true }, 'Clear finished');
    this.clearBtn.addEventListener('click', () => this.clearFinished());
    this.heading = h('h2', { id: 'queue-heading', class: 'queue-heading', tabindex: '-1' }, 'Uploads');
    this.node = h('section', { class: 'upload-queue', 'aria-labelledby': 'queue-heading', 'data-testid': 'upload-queue-section' },
      h('div', { class: 'queue-head' }, this.heading, this.summary, this.clearBtn),
      this.live,
      this.list,
      this.addZone(),
      h('p', { class: 'hint' }, 'Two files upload at a time. You can edit titles while they upload, and descriptions, tags and captions later in My videos.'));
    this.onOnline = () => this.retryLost();
    window.addEventListener('online', this.onOnline);
  }

  /** A small drop zone to add more files to the queue. */
  addZone() {
    const input = h('input', {
      type: 'file', id: 'queue-add', multiple: true, class: 'file-input',
      accept: 'video/*,.mkv,.mov,.mp4,.webm,.avi,.m4v,.ts', 'data-testid': 'queue-add',
    });
    const zone = h('div', { class: 'dropzone dropzone-small' }, input,
      h('div', { class: 'dropzone-inner' },
        h('p', { class: 'dropzone-title' }, h('label', { for: 'queue-add' }, 'Add more videos'), h('span', { class: 'dropzone-or' }, ' or drop them here'))));
    input.addEventListener('change', () => {
      this.add([...(input.files || [])]);
      input.value = '';
    });
    onDrop(zone, (files) => this.add(files));
    return zone;
  }

  focus() {
    this.heading.focus({ preventScroll: true });
  }

  add(files) {
    for (const file of files) {
      const item = new QueueItem(file, this);
      this.items.push(item);
      this.list.append(item.node);
      item.prepare();
    }
    if (files.length) this.announce(`${files.length === 1 ? files[0].name : `${files.length} files`} added to the queue.`);
    this.update();
  }

  /** Starts queued items while slots are free. */
  pump() {
    if (this.closed) return;
    for (const item of toStart(this.items)) item.start();
    this.update();
  }

  update() {
    this.summary.textContent = queueSummary(this.items);
    this.clearBtn.hidden = !this.items.some((it) => it.state === 'ready' || it.state === 'failed');
  }

  announce(text) {
    this.live.textContent = text;
  }

  forget(item) {
    const i = this.items.indexOf(item);
    if (i < 0) return;
    this.items.splice(i, 1);
    // Keep the keyboard user in the list: the next row, else the heading.
    const next = this.items[i] || this.items[i - 1];
    if (next) next.title.focus();
    else this.focus();
    this.pump();
    if (this.items.length === 0) this.onEmpty?.();
  }

  clearFinished() {
    for (const item of this.items.filter((it) => it.state === 'ready' || it.state === 'failed')) item.drop();
    this.items = this.items.filter((it) => it.state !== 'removed');
    this.update();
    this.focus();
    if (this.items.length === 0) this.onEmpty?.();
  }

  /** Back online: rows stopped by the lost connection carry on. */
  retryLost() {
    for (const item of this.items) if (item.state === 'error' && item.retryable && !item.authLost) item.resume();
  }

  close() {
    this.closed = true;
    window.removeEventListener('online', this.onOnline);
    for (const item of this.items) item.close();
  }
}

/** Calls onFiles(files) for files dropped on zone, highlighting it during the drag. */
export function onDrop(zone, onFiles) {
  let depth = 0;
  zone.addEventListener('dragenter', (e) => { e.preventDefault(); depth++; zone.classList.add('is-dragging'); });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; });
  zone.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; zone.classList.remove('is-dragging'); } });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove('is-dragging');
    const files = [...(e.dataTransfer?.files || [])];
    if (files.length) onFiles(files);
  });
}

const button = (label, testid, iconPath, extra = {}) =>
  h('button', { type: 'button', class: 'btn btn-small', 'data-testid': testid, ...extra },
    iconPath ? icon(iconPath, 16) : null, h('span', null, label));

class QueueItem {
  constructor(file, queue) {
    const n = ++seq;
    this.file = file;
    this.queue = queue;
    this.state = 'checking';
    this.samples = [];
    this.serverTitle = null;
    const name = file.name;

    this.title = h('input', {
      id: `queue-title-${n}`, type: 'text', maxlength: 200, autocomplete: 'off',
      value: stripExtension(name), 'data-testid': 'queue-title', 'aria-describedby': `queue-file-${n}`,
    });
    this.title.addEventListener('input', () => { this.title.dataset.touched = '1'; });
    this.title.addEventListener('change', () => this.syncTitle());
    this.status = h('p', { class: 'queue-status', 'data-testid': 'queue-status' }, 'Looking for an earlier attempt…');
    this.bar = progressBar({ label: `Upload progress of ${name}`, testid: 'queue-progress', small: true });
    this.bytes = h('p', { class: 'queue-bytes' }, formatBytes(file.size));
    this.pauseBtn = button('Pause', 'queue-pause', ICONS.pause, { 'aria-label': `Pause ${name}` });
    this.resumeBtn = button('Resume', 'queue-resume', ICONS.play, { 'aria-label': `Resume ${name}`, hidden: true });
    this.removeBtn = button('Cancel', 'queue-remove', ICONS.trash, { 'aria-label': `Cancel the upload of ${name}` });
    this.error = h('div', { class: 'queue-error' });
    this.processing = h('div', { class: 'queue-processing', hidden: true });

    this.pauseBtn.addEventListener('click', () => this.pause());
    this.resumeBtn.addEventListener('click', () => this.resume());
    this.removeBtn.addEventListener('click', () => this.remove());

    this.node = h('li', { class: 'queue-item', 'data-testid': 'queue-item', 'data-state': 'checking', 'data-file': name },
      h('div', { class: 'field queue-field' },
        h('label', { for: `queue-title-${n}` }, 'Title', h('span', { class: 'visually-hidden' }, ` of ${name}`)),
        this.title,
        h('p', { id: `queue-file-${n}`, class: 'muted queue-file' }, `${name} · ${formatBytes(file.size)}`)),
      h('div', { class: 'queue-state' }, this.status, this.bar, this.bytes),
      h('div', { class: 'queue-actions' }, this.pauseBtn, this.resumeBtn, this.removeBtn),
      this.error,
      this.processing);
    this.setState('checking', 'Looking for an earlier attempt…');
  }

  titleValue() {
    return this.title.value.trim() || stripExtension(this.file.name);
  }

  setState(state, text) {
    this.state = state;
    this.node.dataset.state = state;
    this.status.textContent = text;
    const sent = isSent(state);
    this.pauseBtn.hidden = !(state === 'queued' || isActive(state));
    this.resumeBtn.hidden = !(state === 'paused' || (state === 'error' && this.retryable));
    this.resumeBtn.querySelector('span').textContent = state === 'error' ? 'Retry' : 'Resume';
    this.removeBtn.querySelector('span').textContent = sent ? 'Remove' : 'Cancel';
    this.removeBtn.setAttribute('aria-label', sent ? `Remove ${this.file.name} from the list` : `Cancel the upload of ${this.file.name}`);
    this.queue.update();
  }

  /** Looks for an earlier attempt of this file, then joins the queue. */
  async prepare() {
    this.previous = await findPrevious(this.file);
    if (this.state !== 'checking') return; // removed or paused meanwhile
    if (this.previous) this.node.dataset.resumed = 'true';
    const m = this.previous?.metadata || {};
    if (m.title && !this.title.dataset.touched) this.title.value = m.title;
    this.setState('queued', this.previous ? 'Queued · continues an earlier upload' : 'Queued');
    this.queue.pump();
  }

  async start() {
    this.setState('starting', this.previous ? 'Resuming…' : 'Starting…');
    let Upload;
    try {
      ({ Upload } = await loadTus());
    } catch (err) {
      this.failed(err);
      return;
    }
    if (this.state !== 'starting') return; // paused or removed meanwhile
    this.upload ??= newUpload(Upload, this.file, {
      meta: {
        filename: this.file.name,
        filetype: this.file.type || 'application/octet-stream',
        title: this.titleValue(),
        description: this.queue.defaults.description || '',
        tags: this.queue.defaults.tags || '',
      },
      previous: this.previous,
      onProgress: (sent, total) => this.progress(sent, total),
      onError: (err) => this.failed(err),
      onSuccess: () => this.succeeded(),
    });
    this.upload.start();
  }

  pause() {
    if (!(this.state === 'queued' || isActive(this.state))) return;
    this.upload?.abort(); // keeps the upload on the server; start() resumes it
    this.samples = [];
    this.setState('paused', 'Paused');
    this.resumeBtn.focus();
    this.queue.pump();
  }

  async resume() {
    if (this.state !== 'paused' && this.state !== 'error') return;
    this.error.replaceChildren();
    if (this.authLost) {
      // After logging in again the session (and its CSRF token) is new.
      this.authLost = false;
      await currentUser({ force: true }).catch(() => null);
    }
    this.setState('queued', 'Queued');
    this.pauseBtn.focus();
    this.queue.pump();
  }

  async remove() {
    if (!isSent(this.state) && this.upload?.url &&
      !window.confirm(`Cancel the upload of ${this.file.name}? The part already sent is discarded.`)) return;
    if (!isSent(this.state)) {
      // Terminate on the server too (and forget the resume entry).
      if (this.upload) this.upload.abort(true).catch(() => {});
    }
    this.drop();
    this.queue.forget(this);
  }

  /** Takes the row out without asking (the video, if any, stays). */
  drop() {
    this.state = 'removed';
    this.node.remove();
  }

  progress(sent, total) {
    if (this.state !== 'starting' && this.state !== 'uploading') return;
    if (this.state !== 'uploading') this.setState('uploading', 'Uploading…');
    setProgress(this.bar, total > 0 ? (sent >= total ? 100 : Math.min(99, (sent / total) * 100)) : 0);
    const now = performance.now();
    addSample(this.samples, now, sent);
    this.bytes.textContent = `${formatBytes(sent)} of ${formatBytes(total)} · ${percent(this.bar.value)}%${rateText(this.samples, sent, total, now)}`;
  }

  failed(err) {
    if (this.state === 'removed' || this.state === 'paused') return;
    const { message, retryable } = describeTusError(err);
    this.retryable = retryable;
    this.authLost = err?.originalResponse?.getStatus?.() === 401;
    this.setState('error', retryable ? 'Upload stopped' : 'Upload failed');
    this.error.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, `${this.file.name}: ${message}`));
    if (this.authLost) this.error.append(h('a', { class: 'btn btn-small', href: loginPath('/upload') }, 'Log in'));
    this.queue.pump();
  }

  succeeded() {
    if (this.state === 'removed') return;
    // The processing bar below takes over; two full bars would only confuse.
    setProgress(this.bar, 100);
    this.bar.hidden = true;
    this.bytes.textContent = `${formatBytes(this.file.size)} sent`;
    this.videoId = videoIdFromUploadURL(this.upload.url);
    this.setState('complete', 'Uploaded · processing…');
    this.queue.announce(`${this.titleValue()}: upload complete, processing.`);
    this.queue.pump();
    this.watch();
  }

  watch() {
    const panel = processingPanel(this.videoId, {
      testids: { status: 'queue-processing', link: 'queue-watch-link' },
      label: `Processing ${this.file.name}`,
      alive: () => this.state !== 'removed' && !this.queue.closed,
      onUpdate: (v) => this.sawVideo(v),
      onDone: (status) => {
        this.setState(status, status === 'ready' ? 'Ready' : 'Processing failed');
        this.queue.announce(`${this.titleValue()}: ${status === 'ready' ? 'ready to watch' : 'processing failed'}.`);
      },
    });
    panel.link.setAttribute('aria-label', `Watch ${this.titleValue()}`);
    this.processing.hidden = false;
    this.processing.replaceChildren(panel.node);
    panel.run();
  }

  /** The video exists: bring its title in line with the row's (unless being typed). */
  async sawVideo(v) {
    this.recorded = true;
    if (!this.syncing) this.serverTitle = v.title;
    if (document.activeElement !== this.title) await this.syncTitle();
  }

  /** Saves the row's title when it differs from the video's. */
  async syncTitle() {
    if (!this.recorded || this.state === 'removed') return; // the metadata or the first poll carries it
    const want = this.titleValue();
    if (this.syncing) {
      this.again = true;
      return;
    }
    if (want === this.serverTitle || want === this.refused) return;
    this.syncing = true;
    try {
      const out = await sendJSON('PATCH', videoURL(this.videoId), { title: want });
      this.serverTitle = out?.title ?? want;
      this.refused = null;
      this.error.replaceChildren();
    } catch (err) {
      this.refused = want; // not again on every poll; a new edit tries again
      this.error.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, `Couldn't save the title: ${err.message}`));
    } finally {
      this.syncing = false;
    }
    if (this.again) {
      this.again = false;
      await this.syncTitle();
    }
  }

  close() {
    if (isActive(this.state)) this.upload?.abort();
    this.state = 'removed';
  }
}
