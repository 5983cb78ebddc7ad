// JSON API client. Every server error has the shape
// {"error":{"code":"...","message":"..."}} with a matching HTTP status.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** Pulls a readable message out of an error body (JSON or text). */
export function messageFromBody(body) {
  if (!body) return '';
  try {
    const data = typeof body === 'string' ? JSON.parse(body) : body;
    if (data && data.error) {
      return String(data.error.message || data.error.code || '');
    }
  } catch {
    // not JSON: fall through to plain text
  }
  if (typeof body === 'string') {
    const text = body.trim();
    // Avoid dumping an HTML error page into the UI.
    if (text && !text.startsWith('<') && text.length <= 300) return text;
  }
  return '';
}

// The session's CSRF token (from GET /api/v1/account/me), sent with every
// write; lib/auth.js keeps it current.
let csrfToken = '';
export const CSRF_HEADER = 'X-CSRF-Token';
export function setCSRFToken(token) {
  csrfToken = token || '';
}
export const getCSRFToken = () => csrfToken;

async function request(method, path, { body, raw, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (raw !== undefined) headers['Content-Type'] = raw.type || 'application/octet-stream';
  if (method !== 'GET' && csrfToken) headers[CSRF_HEADER] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method,
      signal,
      headers,
      credentials: 'same-origin',
      body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Could not reach the server. Check your connection and try again.');
  }
  const text = await res.text();
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = '';
    try {
      const data = JSON.parse(text);
      if (data?.error) {
        code = data.error.code || code;
        message = data.error.message || '';
      }
    } catch {
      message = messageFromBody(text);
    }
    throw new ApiError(res.status, code, message || `The server answered ${res.status} ${res.statusText}`.trim());
  }
  if (!text) return null; // 204 No Content
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'bad_response', 'The server sent an unreadable response.');
  }
}

/** GET a JSON resource. Throws ApiError; an aborted request rethrows AbortError. */
export function getJSON(path, { signal } = {}) {
  return request('GET', path, { signal });
}

/**
 * A write (POST, PUT, PATCH, DELETE) with an optional JSON body. It carries
 * the session's CSRF token. Resolves to the parsed answer, or null for 204.
 */
export function sendJSON(method, path, body, { signal } = {}) {
  return request(method, path, { body, signal });
}

/**
 * A write whose body is a file or blob sent as it is (its type, if any, as
 * the Content-Type), with the CSRF token. Resolves like sendJSON.
 */
export function sendFile(method, path, file, { signal } = {}) {
  return request(method, path, { raw: file, signal });
}

export const isAbort = (err) => err?.name === 'AbortError';

export const videoURL = (id) => `/api/v1/videos/${encodeURIComponent(id)}`;
export const captionURL = (id, lang, label) =>
  `${videoURL(id)}/captions/${encodeURIComponent(lang)}${label ? `?label=${encodeURIComponent(label)}` : ''}`;
export const watchPath = (id) => `/watch/${encodeURIComponent(id)}`;
export const channelPath = (name) => `/channel/${encodeURIComponent(name)}`;
export const channelVideosURL = (name, cursor = '', limit = 20) =>
  `/api/v1/videos?${new URLSearchParams({ owner: name, limit: String(limit), ...(cursor ? { cursor } : {}) })}`;
export const myVideosPath = '/account/videos';
export const loginPath = (next) => (next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login');
export const searchPath = (q, offset = 0) =>
  `/search?q=${encodeURIComponent(q)}${offset > 0 ? `&offset=${offset}` : ''}`;
