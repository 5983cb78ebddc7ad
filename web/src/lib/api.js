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

/** GET a JSON resource. Throws ApiError; an aborted request rethrows AbortError. */
export async function getJSON(path, { signal } = {}) {
  let res;
  try {
    res = await fetch(path, { signal, headers: { Accept: 'application/json' } });
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
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'bad_response', 'The server sent an unreadable response.');
  }
}

export const isAbort = (err) => err?.name === 'AbortError';

export const videoURL = (id) => `/api/v1/videos/${encodeURIComponent(id)}`;
export const watchPath = (id) => `/watch/${encodeURIComponent(id)}`;
export const searchPath = (q, offset = 0) =>
  `/search?q=${encodeURIComponent(q)}${offset > 0 ? `&offset=${offset}` : ''}`;
