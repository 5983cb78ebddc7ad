// Upload page: resumable tus upload, then live processing state.
//
// Resume after a reload: tus-js-client keeps the upload URL in localStorage
// under a fingerprint of the file (name, type, size, mtime, endpoint).
// Selecting the same file again finds it with findPreviousUploads() and
// continues with resumeFromPreviousUpload().
//
// An upload keeps running while the user browses other pages of the app;
// coming back to /upload shows it again (module-level `session`).
import { h, icon, ICONS, sleep } from '../lib/dom.js';
import { getCSRFToken, getJSON, isAbort, loginPath, messageFromBody, videoURL, watchPath, CSRF_HEADER } from '../lib/api.js';
import { currentUser, knownUser, sessionEnded } from '../lib/auth.js';
import { errorBox, loginRequired } from './common.js';
import { formatBytes, percent, plural, stripExtension, timeAgo } from '../lib/format.js';
import { progressBar, setProgress, statusText } from '../components/status.js';
import { pendingText } from '../lib/storyboard.js';

const ENDPOINT = '/api/v1/uploads/';
const CHUNK_SIZE = 8 * 1024 * 1024;
const RETRY_DELAYS = [0, 1000, 3000, 5000];
const POLL_MS = 1000;

let tusModule = null;
const loadTus = () => (tusModule ??= import('../vendor/tus.js'));

/** The upload in progress (survives SPA navigation, not page reloads). */
let session = null;

export default async function upload(ctx) {
  const { root, signal } = ctx;
  document.title = 'Upload · Strata';
  root.append(h('h1', { class: 'page-title' }, 'Upload a video'));
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
  session?.close();
  session = null;
  root.append(uploadForm(ctx));
}

function restart(ctx) {
  session?.close();
  session = null;
  ctx.root.replaceChildren();
  upload(ctx);
  ctx.root.querySelector('[data-testid="upload-file"]')?.focus();
}

function normalizeTags(text) {
  return text.split(',').map((t) => t.trim()).filter(Boolean).join(',');
}

// ---------------------------------------------------------------- the form

function uploadForm(ctx) {
  const fileInput = h('input', {
    type: 'file',
    id: 'upload-file',
    name: 'file',
    accept: 'video/*,.mkv,.mov,.mp4,.webm,.avi,.m4v,.ts',
    class: 'file-input',
    'aria-describedby': 'file-info',
    'data-testid': 'upload-file',
  });
  const fileInfo = h('p', { id: 'file-info', class: 'dropzone-hint' }, 'Any common video format: MP4, MOV, MKV, WebM…');
  const drop = h('div', { class: 'dropzone' },
    fileInput,
    h('div', { class: 'dropzone-inner' },
      icon(ICONS.upload, 32),
      h('p', { class: 'dropzone-title' },
        h('label', { for: 'upload-file' }, 'Choose a video'),
        h('span', { class: 'dropzone-or' }, ' or drop it here')),
      fileInfo));

  const title = h('input', { id: 'upload-title', name: 'title', type: 'text', maxlength: 300, autocomplete: 'off', 'data-testid': 'upload-title' });
  const description = h('textarea', { id: 'upload-description', name: 'description', rows: 4 });
  const tags = h('input', { id: 'upload-tags', name: 'tags', type: 'text', autocomplete: 'off', placeholder: 'music, live, tutorial', 'aria-describedby': 'upload-tags-hint' });
  const resumeNote = h('div', { class: 'notice', hidden: true, role: 'status' });
  const formError = h('div', { class: 'form-error', role: 'alert' });
  const dropNote = h('p', { class: 'drop-note', role: 'status', 'data-testid': 'drop-note', hidden: true });
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
    dropNote,
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
    let previous = null;
    try {
      const { Upload } = await loadTus();
      const found = await new Upload(file, { endpoint: ENDPOINT }).findPreviousUploads();
      // Newest first: the latest attempt is the one most likely still on the server.
      found.sort((a, b) => (Date.parse(b.creationTime) || 0) - (Date.parse(a.creationTime) || 0));
      previous = found[0] || null;
    } catch {
      previous = null; // storage unavailable: just start fresh
    }
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

  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (file) inspect(file);
  });

  // Drag and drop onto the zone (the transparent input covers it).
  let depth = 0;
  drop.addEventListener('dragenter', (e) => { e.preventDefault(); depth++; drop.classList.add('is-dragging'); });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; });
  drop.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; drop.classList.remove('is-dragging'); } });
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    drop.classList.remove('is-dragging');
    const files = e.dataTransfer?.files;
    if (!files || files.length === 0) return;
    // One upload at a time: keep the first file and say what was left,
    // rather than dropping the others without a word.
    const one = new DataTransfer();
    one.items.add(files[0]);
    fileInput.files = one.files;
    const others = files.length - 1;
    dropNote.hidden = others === 0;
    dropNote.textContent = others === 0 ? '' :
      `One file at a time: ${others} other file${others === 1 ? ' was' : 's were'} not added. Drop ${others === 1 ? 'it' : 'them'} after this upload.`;
    inspect(files[0]);
  });

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
    this.processing = h('div', { class: 'processing', hidden: true });
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

    this.upload = new Upload(file, {
      endpoint: ENDPOINT,
      chunkSize: CHUNK_SIZE,
      retryDelays: RETRY_DELAYS,
      metadata: meta,
      removeFingerprintOnSuccess: true,
      // Cookie-authenticated writes carry the session's CSRF token. It is
      // read per request, so an upload resumed after logging in again sends
      // the new session's token. (Same-origin XHR sends the cookie itself.)
      onBeforeRequest: (req) => {
        const token = getCSRFToken();
        if (token) req.setHeader(CSRF_HEADER, token);
      },
      onProgress: (sent, total) => this.progress(sent, total),
      onError: (err) => this.failed(err),
      onSuccess: () => this.succeeded(),
    });
    if (previous) this.upload.resumeFromPreviousUpload(previous);
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
    this.samples.push([now, sent]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
    let rate = '';
    const [t0, b0] = this.samples[0];
    if (now - t0 > 1000 && sent > b0) {
      const bps = ((sent - b0) * 1000) / (now - t0);
      const left = (total - sent) / bps;
      rate = ` · ${formatBytes(Math.round(bps))}/s · ${left < 60 ? 'less than a minute' : `about ${plural(Math.round(left / 60), 'minute')}`} left`;
    }
    this.bytesEl.textContent = `${formatBytes(sent)} of ${formatBytes(total)} · ${percent(this.bar.value)}%${rate}`;
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
    const path = new URL(this.upload.url, location.href).pathname;
    const id = decodeURIComponent(path.split('/').filter(Boolean).pop() || '');
    this.videoId = id;
    this.watchProcessing(id);
  }

  async watchProcessing(id) {
    const label = h('p', { class: 'processing-label', 'data-testid': 'processing-status', 'data-status': 'uploaded' }, 'Waiting for the server…');
    const bar = progressBar({ label: 'Processing progress', value: 0 });
    const link = h('a', { class: 'btn', href: watchPath(id), 'data-testid': 'watch-link' }, 'Open the watch page');
    const hint = h('p', { class: 'muted', role: 'status' }, 'You can leave this page; processing continues on the server.');
    this.processing.hidden = false;
    this.processing.replaceChildren(h('h3', null, 'Processing on the server'), label, bar, hint, h('div', { class: 'actions' }, link));

    let misses = 0;
    while (!this.closed) {
      // The user went to another page: this view is never shown again (a
      // finished upload is not re-attached), so stop polling.
      if (!this.node.isConnected) return;
      let v;
      try {
        v = await getJSON(videoURL(id));
        misses = 0;
      } catch (err) {
        if (isAbort(err)) return;
        misses++;
        // Right after the upload the record may not exist yet: keep asking.
        if (err.status === 404 && misses < 30) {
          label.textContent = 'Waiting for the server…';
        } else {
          label.textContent = `Can't get the processing state: ${err.message}`;
        }
        await sleep(Math.min(10000, POLL_MS * misses));
        continue;
      }
      label.dataset.status = v.status;
      label.textContent = statusText(v);
      setProgress(bar, v.status === 'ready' ? 100 : v.progress);
      if (v.status === 'ready') {
        this.setState('ready', 'Your video is ready.');
        link.textContent = 'Watch now';
        link.classList.add('btn-accent');
        link.dataset.playable = 'true';
        hint.textContent = '';
        return;
      }
      if (v.status === 'processing' && v.playable) {
        // Fast first play: the low rungs play already.
        if (link.dataset.playable !== 'true') {
          link.dataset.playable = 'true';
          link.textContent = 'Watch now';
          link.classList.add('btn-accent');
        }
        const list = pendingText(v.renditions_pending);
        const text = `It plays already; ${list ? `${list} ${v.renditions_pending.length > 1 ? 'are' : 'is'} still processing.` : 'higher qualities are still processing.'}`;
        if (hint.textContent !== text) hint.textContent = text;
      }
      if (v.status === 'failed') {
        this.setState('failed', 'Processing failed.');
        bar.hidden = true;
        hint.replaceChildren(h('span', { class: 'error-text' }, v.error || 'The server could not process this video.'));
        hint.classList.remove('muted');
        return;
      }
      await sleep(POLL_MS);
    }
  }

  close() {
    this.closed = true;
    if (this.uploading) this.upload.abort();
  }
}

/** Turns a tus-js-client error into one readable sentence. */
function describeTusError(err) {
  const res = err?.originalResponse;
  const status = res ? res.getStatus() : 0;
  const serverMessage = res ? messageFromBody(res.getBody()) : '';
  if (status === 413) {
    return { retryable: false, message: `The file is too large for this server.${serverMessage ? ` (${serverMessage})` : ''}` };
  }
  if (status === 401) {
    sessionEnded();
    return { retryable: true, message: 'You are not logged in any more. Log in again, come back to this page and press Retry: the upload continues where it stopped.' };
  }
  if (status === 403) {
    return { retryable: false, message: serverMessage || 'You are not allowed to upload here.' };
  }
  if (status === 415) {
    return { retryable: false, message: serverMessage || 'This file type is not accepted.' };
  }
  if (status === 400 && /upload_interrupted/.test(res.getBody() || '')) {
    // Another request for this upload (another tab, or a stale retry) took
    // it over; nothing is lost and the upload can go on from its offset.
    return { retryable: true, message: 'The upload was interrupted by another request for it, perhaps in another tab. Press Retry to continue where it stopped.' };
  }
  if (status >= 400 && status < 500) {
    return { retryable: status === 409 || status === 423 || status === 429, message: serverMessage || `The server refused the upload (HTTP ${status}).` };
  }
  if (status >= 500) {
    return { retryable: true, message: serverMessage ? `Server error: ${serverMessage}` : `The server had a problem (HTTP ${status}). Try again in a moment.` };
  }
  if (!navigator.onLine) {
    return { retryable: true, message: 'You are offline. Reconnect, then press Retry: the upload continues where it stopped.' };
  }
  if (res === null || err?.causingError) {
    return { retryable: true, message: 'The connection to the server was lost. Press Retry to continue where it stopped.' };
  }
  return { retryable: true, message: String(err?.message || err).replace(/^tus: /, '') };
}
