// /account: the profile, passkeys (list, add, remove), sessions (list,
// log out elsewhere) and API tokens (list, create, revoke).
import { h, icon, ICONS } from '../lib/dom.js';
import { getJSON, isAbort, sendJSON } from '../lib/api.js';
import { currentUser, logout, passkeyLabel, registerPasskey, sessionEnded } from '../lib/auth.js';
import { deviceLabel, describeWebAuthnError, supported } from '../lib/webauthn.js';
import { formatBytes, formatDate, plural, timeAgo } from '../lib/format.js';
import { errorBox, loginRequired, statusLine } from './common.js';

const API = '/api/v1/account';
const SCOPES = [
  ['read', 'Read', 'see your account and your videos, private ones included'],
  ['upload', 'Upload', 'upload videos, and edit and delete yours'],
  ['admin', 'Admin', 'everything you can do, including managing tokens and passkeys'],
];

export default async function account({ root, query, signal, navigate }) {
  document.title = 'Account · Strata';
  let me;
  try {
    me = await currentUser();
  } catch (err) {
    root.append(errorBox("Couldn't load your account", err.message));
    return;
  }
  if (signal.aborted) return;
  if (!me) {
    loginRequired(root, { title: 'Log in to see your account', message: 'Your passkeys, sessions and API tokens are here once you are logged in.' });
    return;
  }
  const u = me.user;
  root.append(h('h1', { class: 'page-title' }, 'Your account'));
  if (query.get('welcome')) {
    root.append(h('p', { class: 'notice', role: 'status' },
      h('strong', null, 'Your passkey is ready. '), 'Next time, log in with it on this device.'));
  }

  // A 401 anywhere means the session ended (revoked elsewhere, expired).
  const ended = (err) => {
    if (err?.status !== 401) return false;
    sessionEnded();
    root.replaceChildren();
    loginRequired(root, { title: 'Your session has ended', message: 'Log in again to manage your account.' });
    return true;
  };
  const ctx = { signal, ended, navigate };
  root.append(
    profile(u, ctx),
    passkeys(ctx),
    sessions(ctx),
    tokens(ctx));
}

function panel(id, title, intro, ...children) {
  return h('section', { class: 'panel', 'aria-labelledby': id },
    h('h2', { id, class: 'panel-title' }, title),
    intro ? h('p', { class: 'muted panel-intro' }, intro) : null,
    ...children);
}

function dateFact(label, iso) {
  if (!iso) return null;
  return h('span', null, `${label} `, h('time', { datetime: iso, title: formatDate(iso, true) }, timeAgo(iso)));
}

// ---------------------------------------------------------------- profile

function profile(u, { navigate }) {
  const out = h('button', { type: 'button', class: 'btn', 'data-testid': 'account-logout' }, 'Log out');
  out.addEventListener('click', async () => {
    out.disabled = true;
    try {
      await logout();
    } catch {
      // logged out locally either way
    }
    navigate('/');
  });
  const quota = (used, limit) => (limit > 0 ? `${formatBytes(used)} of ${formatBytes(limit)}` : `${formatBytes(used)} (no limit)`);
  return panel('profile-title', u.display_name || u.name, null,
    h('dl', { class: 'facts' },
      h('div', null, h('dt', null, 'Account name'), h('dd', { 'data-testid': 'account-name' }, `@${u.name}`)),
      h('div', null, h('dt', null, 'Role'), h('dd', { class: 'capitalize' }, u.role)),
      h('div', null, h('dt', null, 'Storage'), h('dd', null, quota(u.storage_used || 0, u.storage_quota || 0))),
      u.daily_upload_quota > 0 ? h('div', null, h('dt', null, 'Daily uploads'), h('dd', null, `up to ${formatBytes(u.daily_upload_quota)}`)) : null,
      u.created_at ? h('div', null, h('dt', null, 'Member since'), h('dd', null, formatDate(u.created_at))) : null),
    h('div', { class: 'actions' }, out));
}

// A list that loads itself and shows its own errors.
function loader(list, status, fetchRows, { signal, ended }) {
  async function load() {
    list.setAttribute('aria-busy', 'true');
    try {
      const rows = await fetchRows();
      if (signal.aborted) return;
      list.replaceChildren(...rows);
    } catch (err) {
      if (isAbort(err) || ended(err)) return;
      list.replaceChildren();
      status.replaceChildren(errorBox("Couldn't load this list", err.message, () => load()));
    } finally {
      list.removeAttribute('aria-busy');
    }
  }
  return load;
}

function removeButton(label, what) {
  return h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `${label} ${what}` }, label);
}

// ---------------------------------------------------------------- passkeys

function passkeys(ctx) {
  const { signal, ended } = ctx;
  const list = h('ul', { class: 'rows', 'data-testid': 'passkey-list' });
  const status = statusLine('passkey-status');
  const load = loader(list, status, async () => {
    const { passkeys: keys = [] } = await getJSON(`${API}/passkeys`, { signal });
    if (keys.length === 0) return [h('li', { class: 'row muted' }, 'No passkeys.')];
    return keys.map((k) => {
      const remove = removeButton('Remove', `the passkey ${k.name}`);
      remove.addEventListener('click', async () => {
        if (!window.confirm(`Remove the passkey “${k.name}”? You can no longer log in with it.`)) return;
        remove.disabled = true;
        status.replaceChildren();
        try {
          await sendJSON('DELETE', `${API}/passkeys/${encodeURIComponent(k.id)}`, undefined, { signal });
          status.textContent = `Removed the passkey “${k.name}”.`;
          load();
        } catch (err) {
          if (isAbort(err) || ended(err)) return;
          remove.disabled = false;
          status.replaceChildren(h('span', { class: 'error-text' }, err.message));
        }
      });
      return h('li', { class: 'row', 'data-testid': 'passkey', 'data-id': k.id },
        h('div', { class: 'row-main' },
          h('p', { class: 'row-title' }, icon(ICONS.key, 18), k.name || 'Passkey',
            k.synced ? h('span', { class: 'pill' }, 'synced') : null,
            k.flagged ? h('span', { class: 'pill pill-danger' }, 'flagged') : null),
          h('p', { class: 'row-meta' },
            dateFact('Added', k.created_at),
            k.last_used_at ? dateFact(' · last used', k.last_used_at) : ' · never used to log in'),
          k.flagged ? h('p', { class: 'error-text' }, 'Its sign counter went backwards, so a copy of it may exist. It no longer logs in: remove it and add a new one.') : null),
        remove);
    });
  }, ctx);

  const label = h('input', { id: 'passkey-name', type: 'text', maxlength: 64, value: passkeyLabel(), autocomplete: 'off', 'data-testid': 'passkey-name' });
  const add = h('button', { type: 'submit', class: 'btn btn-accent', 'data-testid': 'passkey-add' }, icon(ICONS.plus, 18), h('span', null, 'Add a passkey'));
  const form = h('form', { class: 'inline-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'passkey-name' }, 'Name of the new passkey'), label),
    add);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.replaceChildren();
    if (!supported()) {
      status.replaceChildren(h('span', { class: 'error-text' }, "This browser can't make passkeys."));
      return;
    }
    add.disabled = true;
    try {
      await registerPasskey({}, { label: label.value.trim() || passkeyLabel(), signal });
      if (signal.aborted) return;
      status.textContent = 'Passkey added.';
      load();
    } catch (err) {
      if (signal.aborted || ended(err)) return;
      const msg = err?.name === 'ApiError' ? err.message : describeWebAuthnError(err, true);
      status.replaceChildren(h('span', { class: 'error-text' }, msg));
    } finally {
      add.disabled = false;
    }
  });
  load();
  return panel('passkeys-title', 'Passkeys',
    'Passkeys log you in. Add one on each device you use, so that losing a device does not lock you out.',
    list, form, status);
}

// ---------------------------------------------------------------- sessions

function sessions(ctx) {
  const { signal, ended, navigate } = ctx;
  const list = h('ul', { class: 'rows', 'data-testid': 'session-list' });
  const status = statusLine('session-status');
  const load = loader(list, status, async () => {
    const { sessions: all = [] } = await getJSON(`${API}/sessions`, { signal });
    all.sort((a, b) => (b.current - a.current) || (Date.parse(b.created_at) - Date.parse(a.created_at)));
    if (all.length === 0) return [h('li', { class: 'row muted' }, 'No sessions.')];
    return all.map((s) => {
      const what = deviceLabel(s.user_agent || '') === 'Passkey' ? 'Unknown browser' : deviceLabel(s.user_agent || '');
      const revoke = removeButton(s.current ? 'Log out here' : 'Log out', `the session on ${what}`);
      revoke.addEventListener('click', async () => {
        revoke.disabled = true;
        status.replaceChildren();
        try {
          if (s.current) {
            await logout();
            navigate('/');
            return;
          }
          await sendJSON('DELETE', `${API}/sessions/${encodeURIComponent(s.id)}`, undefined, { signal });
          status.textContent = `Logged out the session on ${what}.`;
          load();
        } catch (err) {
          if (isAbort(err) || ended(err)) return;
          revoke.disabled = false;
          status.replaceChildren(h('span', { class: 'error-text' }, err.message));
        }
      });
      return h('li', { class: 'row', 'data-testid': 'session', 'data-current': String(!!s.current) },
        h('div', { class: 'row-main' },
          h('p', { class: 'row-title' }, what, s.current ? h('span', { class: 'pill pill-accent' }, 'this browser') : null),
          h('p', { class: 'row-meta' },
            s.ip ? `${s.ip} · ` : '',
            dateFact('logged in', s.created_at),
            s.expires_at ? ` · ends ${formatDate(s.expires_at)}` : '')),
        revoke);
    });
  }, ctx);
  load();
  return panel('sessions-title', 'Sessions', 'The browsers where you are logged in. Log out any you do not recognise.', list, status);
}

// ---------------------------------------------------------------- tokens

function tokens(ctx) {
  const { signal, ended } = ctx;
  const list = h('ul', { class: 'rows', 'data-testid': 'token-list' });
  const status = statusLine('token-status');
  const secretBox = h('div', { class: 'secret', hidden: true, 'data-testid': 'token-secret' });
  const load = loader(list, status, async () => {
    const { tokens: all = [] } = await getJSON(`${API}/tokens`, { signal });
    if (all.length === 0) return [h('li', { class: 'row muted' }, 'No API tokens yet.')];
    return all.map((t) => {
      const revoke = removeButton('Revoke', `the token ${t.name}`);
      revoke.addEventListener('click', async () => {
        if (!window.confirm(`Revoke the token “${t.name}”? Scripts that use it stop working.`)) return;
        revoke.disabled = true;
        status.replaceChildren();
        try {
          await sendJSON('DELETE', `${API}/tokens/${encodeURIComponent(t.id)}`, undefined, { signal });
          status.textContent = `Revoked the token “${t.name}”.`;
          load();
        } catch (err) {
          if (isAbort(err) || ended(err)) return;
          revoke.disabled = false;
          status.replaceChildren(h('span', { class: 'error-text' }, err.message));
        }
      });
      return h('li', { class: 'row', 'data-testid': 'token', 'data-id': t.id },
        h('div', { class: 'row-main' },
          h('p', { class: 'row-title' }, t.name, (t.scopes || []).map((s) => h('span', { class: 'pill' }, s))),
          h('p', { class: 'row-meta' },
            dateFact('Made', t.created_at),
            t.last_used_at ? dateFact(' · last used', t.last_used_at) : ' · not used yet')),
        revoke);
    });
  }, ctx);

  const name = h('input', { id: 'token-name', type: 'text', maxlength: 64, autocomplete: 'off', placeholder: 'backup script', 'data-testid': 'token-name' });
  const boxes = SCOPES.map(([value, label, hint]) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'scope', value, checked: value === 'read', 'data-testid': `token-scope-${value}` }),
    h('span', null, h('strong', null, label), h('span', { class: 'muted' }, ` — ${hint}`))));
  const create = h('button', { type: 'submit', class: 'btn btn-accent', 'data-testid': 'token-create' }, icon(ICONS.plus, 18), h('span', null, 'Create token'));
  const form = h('form', { class: 'token-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'token-name' }, 'Token name'), name),
    h('fieldset', { class: 'checks' }, h('legend', null, 'It may'), boxes),
    h('div', { class: 'actions' }, create));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.replaceChildren();
    const label = name.value.trim();
    if (!label) {
      status.replaceChildren(h('span', { class: 'error-text' }, 'Give the token a name, so you know later what uses it.'));
      name.focus();
      return;
    }
    const scopes = [...form.querySelectorAll('input[name="scope"]:checked')].map((c) => c.value);
    create.disabled = true;
    try {
      const t = await sendJSON('POST', `${API}/tokens`, { name: label, scopes }, { signal });
      showSecret(secretBox, t);
      name.value = '';
      load();
    } catch (err) {
      if (isAbort(err) || ended(err)) return;
      status.replaceChildren(h('span', { class: 'error-text' }, err.message));
    } finally {
      create.disabled = false;
    }
  });
  load();
  return panel('tokens-title', 'API tokens',
    'For scripts and the command line: send the token as “Authorization: Bearer …”. Give each script its own token with only the scopes it needs.',
    list, secretBox, form, status);
}

function showSecret(box, t) {
  const code = h('code', { class: 'secret-value', 'data-testid': 'token-secret-value', tabindex: '0' }, t.token);
  const copy = h('button', { type: 'button', class: 'btn btn-small' }, icon(ICONS.copy, 16), h('span', null, 'Copy'));
  const copied = h('span', { class: 'muted', role: 'status' });
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(t.token);
      copied.textContent = 'Copied.';
    } catch {
      // No clipboard permission: select the text for a manual copy.
      const range = document.createRange();
      range.selectNodeContents(code);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      copied.textContent = 'Press Ctrl+C (⌘C) to copy.';
    }
  });
  const dismiss = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }, 'I have copied it');
  dismiss.addEventListener('click', () => {
    box.hidden = true;
    box.replaceChildren();
  });
  box.replaceChildren(
    h('p', { class: 'alert-title' }, `Your new token “${t.name}” (${plural((t.scopes || []).length, 'scope')})`),
    h('p', null, 'Copy it now: it is shown only this once. Strata keeps only a hash of it.'),
    h('div', { class: 'secret-row' }, code, copy, copied),
    h('div', { class: 'actions' }, dismiss));
  box.hidden = false;
  code.focus();
}
