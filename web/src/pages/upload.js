// Upload page: resumable tus upload, then live processing state.
//
// One file goes through the form (title, description, tags, Start upload).
// Several files chosen or dropped at once go to the upload queue
// (components/upload-queue.js): a row each, two uploading at a time.
//
// Resume after a reload: tus-js-client keeps the upload URL in localStorage
// under a fingerprint of the file (name, type, size, mtime, endpoint).
// Selecting the same file again finds it with findPreviousUploads() and
// continues with resumeFromPreviousUpload() (lib/upload-tus.js).
//
// An upload keeps running while the user browses other pages of the app;
// coming back to /upload shows it again (module-level `session`, `queue`).
import { h, icon, ICONS } from '../lib/dom.js';
import { loginPath } from '../lib/api.js';
import { currentUser, knownUser } from '../lib/auth.js';
import { errorBox, loginRequired } from './common.js';
import { formatBytes, percent, stripExtension, timeAgo } from '../lib/format.js';
import { progressBar, setProgress } from '../components/status.js';
import { describeTusError, findPrevious, loadTus, newUpload, videoIdFromUploadURL } from '../lib/upload-tus.js';
import { addSample, normalizeTags, rateText } from '../lib/upload-queue.js';
import { processingPanel } from '../components/upload-processing.js';
import { UploadQueue, onDrop } from '../components/upload-queue.js';

/** The upload in progress (survives SPA navigation, not page reloads). */
let session = null;
/** The queue of several uploads, if any (survives SPA navigation too). */
let queue = null;
/** The latest visit's page context, for a queue emptied later to start afresh. */
let lastCtx = null;

export default async function upload(ctx) {
  const { root, signal } = ctx;
  document.title = 'Upload · Strata';
  lastCtx = ctx;
  root.append(h('h1', { class: 'page-title' }, 'Upload a video'));
  if (queue && !queue.closed && queue.items.length > 0) {
    root.append(queue.node);
    return;
  }
  // An unfinished upload is shown again; once the bytes are all sent, coming
  // back to /upload starts afresh (the video itself is on the home page).
  if (session && !session.closed && session.unfinished) {
    root.append(session.node);
    return;
  }
  // Uploading needs an account (a session cookie, or an API token).
  let me = knownUser();
  if (me === undefined) {
    const checking = h('p', { class: 'muted', role: 'status' }, 'Checking your login…');
    root.append(checking);
    try {
      me = await currentUser();
    } catch (err) {
      if (signal?.aborted) return;
      checking.replaceWith(errorBox("Couldn't check your login", err.message, () => restart(ctx)));
      return;
    } finally {
      checking.remove();
    }
    if (signal?.aborted) return;
  }
  if (!me) {
    loginRequired(root, { title: 'Log in to upload', message: 'Videos belong to an account: log in, or create one in a moment with a passkey.', next: '/upload' });
    return;
  }
  loadTus().catch(() => {}); // warm the chunk; errors surface on start
  closeAll();
  root.append(uploadForm(ctx));
}

function closeAll() {
  session?.close();
  session = null;
  queue?.close();
  queue = null;
}

function restart(ctx) {
  closeAll();
  ctx.root.replaceChildren();
  upload(ctx);
  ctx.root.querySelector('[data-testid="upload-file"]')?.focus();
}

// ---------------------------------------------------------------- the form

function uploadForm(ctx) {
  const fileInput = h('input', {
    type: 'file',
    id: 'upload-file',
    name: 'file',
    multiple: true,
    accept: 'video/*,.mkv,.mov,.mp4,.webm,.avi,.m4v,.ts',
    class: 'file-input',
    'aria-describedby': 'file-info',
    'data-testid': 'upload-file',
  });
  const fileInfo = h('p', { id: 'file-info', class: 'dropzone-hint' }, 'Any common video format: MP4, MOV, MKV, WebM… Choose several to queue them.');
  const drop = h('div', { class: 'dropzone' },
    fileInput,
    h('div', { class: 'dropzone-inner' },
      icon(ICONS.upload, 32),
      h('p', { class: 'dropzone-title' },
        h('label', { for: 'upload-file' }, 'Choose videos'),
        h('span', { class: 'dropzone-or' }, ' or drop them here')),
      fileInfo));

  const title = h('input', { id: 'upload-title', name: 'title', type: 'text', maxlength: 200, autocomplete: 'off', 'data-testid': 'upload-title' });
  const description = h('textarea', { id: 'upload-description', name: 'description', rows: 4, maxlength: 5000 });
  const tags = h('input', { id: 'upload-tags', name: 'tags', type: 'text', autocomplete: 'off', placeholder: 'music, live, tutorial', 'aria-describedby': 'upload-tags-hint' });
  const resumeNote = h('div', { class: 'notice', hidden: true, role: 'status' });
  const formError = h('div', { class: 'form-error', role: 'alert' });
  const start = h('button', { type: 'submit', class: 'btn btn-accent btn-large', 'data-testid': 'upload-start' },
    icon(ICONS.upload, 18), h('span', null, 'Start upload'));

  const form = h('form', { class: 'upload-form', novalidate: true },
    drop,
    h('div', { class: 'field' },
      h('label', { for: 'upload-title' }, 'Title'),
      title),
    h('div', { class: 'field' },
      h('label', { for: 'upload-description' }, 'Description ', h('span', { class: 'optional' }, '(optional)')),
      description),
    h('div', { class: 'field' },
      h('label', { for: 'upload-tags' }, 'Tags ', h('span', { class: 'optional' }, '(optional)')),
      tags,
      h('p', { id: 'upload-tags-hint', class: 'hint' }, 'Separate tags with commas.')),
    resumeNote,
    formError,
    h('div', { class: 'actions' }, start));

  // Fields the user typed in are never overwritten by defaults.
  for (const el of [title, description, tags]) {
    el.addEventListener('input', () => { el.dataset.touched = '1'; });
  }

  let probed = null; // { file, previous }
  async function inspect(file) {
    formError.replaceChildren();
    fileInfo.textContent = `${file.name} · ${formatBytes(file.size)}`;
    drop.classList.add('has-file');
    if (!title.dataset.touched) title.value = stripExtension(file.name);
    const previous = await findPrevious(file);
    if (fileInput.files?.[0] !== file) return probed; // user picked another file meanwhile
    probed = { file, previous };
    resumeNote.hidden = !previous;
    resumeNote.replaceChildren();
    if (previous) {
      const when = timeAgo(new Date(previous.creationTime).toISOString());
      resumeNote.append(
        h('strong', null, 'Unfinished upload found. '),
        `This file was partly uploaded ${when || 'earlier'}; starting will continue where it stopped.`);
      const m = previous.metadata || {};
      if (!title.dataset.touched && m.title) title.value = m.title;
      if (!description.dataset.touched && m.description) description.value = m.description;
      if (!tags.dataset.touched && m.tags) tags.value = m.tags.split(',').join(', ');
    }
    return probed;
  }

  // Several files go to the queue; the description and tags typed so far
  // go with each of them rather than being lost.
  function toQueue(files) {
    closeAll();
    queue = new UploadQueue({
      defaults: { description: description.value.trim(), tags: normalizeTags(tags.value) },
      onEmpty: () => restart(lastCtx || ctx),
    });
    form.replaceWith(queue.node);
    queue.add(files);
    queue.focus();
  }

  // One file is taken by the form; several go to the queue.
  function take(files) {
    if (files.length > 1) {
      toQueue(files);
      return;
    }
    if (fileInput.files?.[0] !== files[0]) {
      const one = new DataTransfer();
      one.items.add(files[0]);
      fileInput.files = one.files;
    }
    inspect(files[0]);
  }

  fileInput.addEventListener('change', () => {
    const files = [...(fileInput.files || [])];
    if (files.length) take(files);
  });
  // Drag and drop onto the zone (the transparent input covers it).
  onDrop(drop, take);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formError.replaceChildren();
    const file = fileInput.files?.[0];
    if (!file) {
      formError.append('Choose a video file first.');
      fileInput.focus();
      return;
    }
    start.disabled = true;
    try {
      const info = probed?.file === file ? probed : await inspect(file);
      const { Upload } = await loadTus();
      const meta = {
        filename: file.name,
        filetype: file.type || 'application/octet-stream',
        title: title.value.trim() || stripExtension(file.name),
        description: description.value.trim(),
        tags: normalizeTags(tags.value),
      };
      session = new UploadSession({ Upload, file, meta, previous: info?.previous || null, onRestart: () => restart(ctx) });
      form.replaceWith(session.node);
      session.start();
      session.focus();
    } catch (err) {
      start.disabled = false;
      formError.append(`Could not start the upload: ${err.message}`);
    }
  });

  return form;
}

// ---------------------------------------------------------------- a session

class UploadSession {
  constructor({ Upload, file, meta, previous, onRestart }) {
    this.file = file;
    this.meta = meta;
    this.closed = false;
    this.state = 'starting';
    this.samples = [];

    this.statusEl = h('p', { class: 'upload-status', role: 'status', 'data-testid': 'upload-status', 'data-state': 'starting', tabindex: '-1' },
      previous ? 'Resuming upload…' : 'Starting upload…');
    this.bar = progressBar({ label: 'Upload progress', testid: 'upload-progress', value: 0 });
    this.bytesEl = h('p', { class: 'upload-bytes' }, `0 B of ${formatBytes(file.size)}`);
    this.pauseBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'upload-pause' }, icon(ICONS.pause, 18), h('span', null, 'Pause'));
    this.resumeBtn = h('button', { type: 'button', class: 'btn btn-accent', 'data-testid': 'upload-resume', hidden: true }, icon(ICONS.play, 18), h('span', null, 'Resume'));
    this.errorEl = h('div', { class: 'upload-error' });
    this.processing = h('div', { class: 'processing-slot', hidden: true });
    const another = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Upload another video');
    another.addEventListener('click', () => {
      if (this.uploading && !window.confirm('Stop this upload? You can resume it later by choosing the same file again.')) return;
      onRestart();
    });

    this.node = h('section', { class: 'upload-session', 'aria-label': 'Upload progress' },
      h('div', { class: 'upload-head' },
        h('h2', { class: 'upload-title' }, meta.title),
        h('p', { class: 'muted' }, `${file.name} · ${formatBytes(file.size)}`)),
      this.statusEl,
      this.bar,
      this.bytesEl,
      h('div', { class: 'actions' }, this.pauseBtn, this.resumeBtn),
      this.errorEl,
      this.processing,
      h('div', { class: 'actions actions-end' }, another));

    this.pauseBtn.addEventListener('click', () => this.pause());
    this.resumeBtn.addEventListener('click', () => this.resume());

    this.upload = newUpload(Upload, file, {
      meta,
      previous,
      onProgress: (sent, total) => this.progress(sent, total),
      onError: (err) => this.failed(err),
      onSuccess: () => this.succeeded(),
    });
  }

  get unfinished() {
    return ['starting', 'uploading', 'paused', 'error'].includes(this.state);
  }

  get uploading() {
    return this.state === 'starting' || this.state === 'uploading';
  }

  focus() {
    this.statusEl.focus({ preventScroll: true });
  }

  setState(state, text) {
    this.state = state;
    this.statusEl.dataset.state = state;
    this.statusEl.textContent = text;
    const active = state === 'starting' || state === 'uploading';
    this.pauseBtn.hidden = !active;
    this.resumeBtn.hidden = !(state === 'paused' || (state === 'error' && this.retryable));
    this.resumeBtn.querySelector('span').textContent = state === 'error' ? 'Retry' : 'Resume';
  }

  start() {
    this.setState('starting', this.statusEl.textContent);
    this.upload.start();
  }

  pause() {
    if (!this.uploading) return;
    this.upload.abort(); // keeps the upload on the server; start() resumes it
    this.samples = [];
    this.setState('paused', 'Paused');
    this.resumeBtn.focus();
  }

  resume() {
    if (this.state !== 'paused' && this.state !== 'error') return;
    const relogin = this.state === 'error' && this.authLost;
    this.errorEl.replaceChildren();
    this.setState('uploading', 'Uploading…');
    this.pauseBtn.focus();
    if (!relogin) {
      this.upload.start();
      return;
    }
    // After logging in again the session (and its CSRF token) is new.
    this.authLost = false;
    currentUser({ force: true }).catch(() => null).then(() => {
      if (!this.closed && this.state === 'uploading') this.upload.start();
    });
  }

  progress(sent, total) {
    if (this.closed || this.state === 'paused') return;
    if (this.state !== 'uploading') this.setState('uploading', 'Uploading…');
    const p = total > 0 ? (sent / total) * 100 : 0;
    setProgress(this.bar, sent >= total ? 100 : Math.min(p, 99));
    const now = performance.now();
    addSample(this.samples, now, sent);
    this.bytesEl.textContent = `${formatBytes(sent)} of ${formatBytes(total)} · ${percent(this.bar.value)}%${rateText(this.samples, sent, total, now)}`;
  }

  failed(err) {
    if (this.closed) return;
    const { message, retryable } = describeTusError(err);
    this.retryable = retryable;
    this.authLost = err?.originalResponse?.getStatus?.() === 401;
    this.setState('error', 'Upload failed');
    this.errorEl.replaceChildren(h('div', { class: 'alert', role: 'alert' },
      icon(ICONS.alert, 22),
      h('div', null, h('p', { class: 'alert-title' }, 'The upload did not go through'), h('p', null, message),
        this.authLost
          ? h('p', null, h('a', { class: 'btn btn-small', href: loginPath('/upload') }, 'Log in'))
          : null)));
  }

  succeeded() {
    if (this.closed) return;
    const size = this.file.size;
    setProgress(this.bar, 100);
    this.bytesEl.textContent = `${formatBytes(size)} of ${formatBytes(size)} · 100%`;
    this.setState('complete', 'Upload complete. Processing…');
    this.videoId = videoIdFromUploadURL(this.upload.url);
    const panel = processingPanel(this.videoId, {
      heading: 'Processing on the server',
      testids: { status: 'processing-status', link: 'watch-link' },
      // A finished upload is not shown again once the user leaves the
      // page, so the poll ends with the view.
      alive: () => !this.closed && this.node.isConnected,
      onDone: (status) => this.setState(status, status === 'ready' ? 'Your video is ready.' : 'Processing failed.'),
    });
    this.processing.hidden = false;
    this.processing.replaceChildren(panel.node);
    panel.run();
  }

  close() {
    this.closed = true;
    if (this.uploading) this.upload.abort();
  }
}
