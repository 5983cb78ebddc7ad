// tus glue shared by the single upload form and the upload queue: one place
// for the endpoint, the chunking, the CSRF header, finding an earlier
// attempt of the same file, and turning a tus error into a sentence.
import { getCSRFToken, messageFromBody, CSRF_HEADER } from './api.js';
import { sessionEnded } from './auth.js';

export const ENDPOINT = '/api/v1/uploads/';
export const CHUNK_SIZE = 8 * 1024 * 1024;
const RETRY_DELAYS = [0, 1000, 3000, 5000];

let tusModule = null;
/** tus-js-client is its own chunk, fetched only by the upload page. */
export const loadTus = () => (tusModule ??= import('../vendor/tus.js'));

/**
 * The newest earlier attempt to upload this file, or null. tus-js-client
 * keeps upload URLs in localStorage under a fingerprint of the file (name,
 * type, size, mtime, endpoint), so this survives reloads and lost
 * connections; the newest attempt is the one most likely still on the server.
 */
export async function findPrevious(file) {
  try {
    const { Upload } = await loadTus();
    const found = await new Upload(file, { endpoint: ENDPOINT }).findPreviousUploads();
    found.sort((a, b) => (Date.parse(b.creationTime) || 0) - (Date.parse(a.creationTime) || 0));
    return found[0] || null;
  } catch {
    return null; // storage unavailable: just start fresh
  }
}

/** A tus Upload with the app's settings; callbacks as in tus-js-client. */
export function newUpload(Upload, file, { meta, previous, onProgress, onError, onSuccess }) {
  const up = new Upload(file, {
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
    onProgress,
    onError,
    onSuccess,
  });
  if (previous) up.resumeFromPreviousUpload(previous);
  return up;
}

/** The video ID: the last path segment of the upload URL. */
export function videoIdFromUploadURL(url) {
  const path = new URL(url, location.href).pathname;
  return decodeURIComponent(path.split('/').filter(Boolean).pop() || '');
}

/** Turns a tus-js-client error into one readable sentence. */
export function describeTusError(err) {
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
