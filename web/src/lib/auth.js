// Who is logged in: GET /api/v1/account/me once per page load, kept here,
// refreshed after logging in or out. The session cookie is HttpOnly, so
// asking the server is the only way to know; a 401 means "nobody".
import { getJSON, sendJSON, setCSRFToken } from './api.js';
import { createPasskey, usePasskey, deviceLabel } from './webauthn.js';

const ME = '/api/v1/account/me';

/** undefined: not asked yet; null: anonymous; else {user, csrf_token, via}. */
let me;
let pending = null;
const listeners = new Set();

function set(value) {
  me = value;
  setCSRFToken(value?.csrf_token || '');
  for (const fn of listeners) {
    try {
      fn(me);
    } catch (err) {
      console.error(err);
    }
  }
}

/** The account, or null when logged out. Asks the server once; force asks again. */
export function currentUser({ force = false } = {}) {
  if (!force && me !== undefined) return Promise.resolve(me);
  if (!force && pending) return pending;
  const p = getJSON(ME)
    .then((m) => m, (err) => {
      if (err.status === 401 || err.status === 403) return null;
      throw err;
    })
    .then((m) => {
      if (pending === p) pending = null;
      set(m);
      return m;
    }, (err) => {
      if (pending === p) pending = null;
      throw err;
    });
  pending = p;
  return p;
}

/** The last known answer without asking (undefined before the first). */
export const knownUser = () => me;

/** Calls fn(me) whenever the login changes; returns an unsubscribe. */
export function onAuthChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** A request answered 401: the session has ended. */
export function sessionEnded() {
  if (me) set(null);
}

/** Sets the account from a login or registration answer (same shape as /me). */
export function loggedIn(answer) {
  pending = null;
  set(answer && answer.user ? answer : null);
}

export async function logout() {
  try {
    await sendJSON('POST', '/api/v1/account/logout');
  } finally {
    pending = null;
    set(null);
  }
}

export function passkeyLabel() {
  return deviceLabel(navigator.userAgent, navigator.userAgentData?.platform || '');
}

/**
 * The registration ceremony: begin (body says whose passkey), create the
 * passkey, finish. Resolves to register/finish's answer: a session (/me
 * shape) for a new account or a setup link, {passkey} when a logged-in
 * user added one.
 */
export async function registerPasskey(begin, { label = passkeyLabel(), signal } = {}) {
  const { ceremony, options } = await sendJSON('POST', '/api/v1/account/register/begin', begin, { signal });
  const credential = await createPasskey(options, signal);
  const q = new URLSearchParams({ ceremony, name: label });
  return sendJSON('POST', `/api/v1/account/register/finish?${q}`, credential, { signal });
}

/** The login ceremony; name "" lets the browser offer the passkeys it holds. */
export async function loginWithPasskey(name, { signal } = {}) {
  const { ceremony, options } = await sendJSON('POST', '/api/v1/account/login/begin', name ? { name } : {}, { signal });
  const credential = await usePasskey(options, signal);
  const answer = await sendJSON('POST', `/api/v1/account/login/finish?${new URLSearchParams({ ceremony })}`, credential, { signal });
  loggedIn(answer);
  return answer;
}

/**
 * Where to go after logging in: a same-origin path from ?next=, never an
 * address elsewhere (no open redirect).
 */
export function safeNext(next, fallback = '/') {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  if (/^\/(api|media|assets)\//.test(next) || /[\u0000-\u001f]/.test(next)) return fallback;
  return next;
}
