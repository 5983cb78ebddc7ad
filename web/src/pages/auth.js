// Log in, create an account, and the one-time setup link: all with passkeys.
//
//   /login?next=/path          passkey login (a name is optional: without
//                              one the browser offers the passkeys it holds)
//   /register?next=/path       name + display name, then a new passkey
//   /account/setup?token=…     an account made by an operator (the first
//                              admin's link): add its first passkey
import { h, icon, ICONS } from '../lib/dom.js';
import { currentUser, loggedIn, loginWithPasskey, registerPasskey, safeNext } from '../lib/auth.js';
import { describeWebAuthnError, supported } from '../lib/webauthn.js';
import { errorBox } from './common.js';

const NAME_RULE = /^[a-z0-9][a-z0-9._-]{1,31}$/;

/** A readable sentence for a failed ceremony (server refusals or the browser's). */
function failure(err, creating) {
  if (err?.name === 'ApiError') {
    if (err.status === 429) return 'Too many attempts. Wait a little, then try again.';
    return err.message;
  }
  return describeWebAuthnError(err, creating);
}

function noPasskeys() {
  return errorBox("This browser can't use passkeys",
    'Strata logs in with passkeys. Use a current browser (Chrome, Edge, Firefox or Safari) on a device with a screen lock or a security key, over https:// or http://localhost.');
}

function authShell(root, title, intro) {
  const section = h('section', { class: 'auth', 'aria-labelledby': 'auth-title' },
    h('h1', { id: 'auth-title', class: 'page-title' }, title),
    intro ? h('p', { class: 'muted auth-intro' }, intro) : null);
  root.append(section);
  return section;
}

function busy(button, text) {
  const label = button.querySelector('span');
  const before = label.textContent;
  button.disabled = true;
  label.textContent = text;
  return () => {
    button.disabled = false;
    label.textContent = before;
  };
}

// ---------------------------------------------------------------- /login

export function login({ root, query, signal, navigate }) {
  document.title = 'Log in · Strata';
  const next = safeNext(query.get('next'));
  const section = authShell(root, 'Log in', 'Use the passkey you made for this site: your device asks for your fingerprint, face or screen lock.');
  const already = h('div');
  section.append(already);
  currentUser().then((me) => {
    if (!me || signal.aborted) return;
    already.replaceChildren(h('p', { class: 'notice', role: 'status' },
      `You are logged in as ${me.user.display_name || me.user.name}. `,
      h('a', { href: next }, 'Continue'), '.'));
  }, () => {});
  if (!supported()) {
    section.append(noPasskeys());
    return;
  }

  const name = h('input', {
    id: 'login-name', name: 'username', type: 'text', autocomplete: 'username webauthn',
    autocapitalize: 'none', spellcheck: 'false', maxlength: 32, 'aria-describedby': 'login-name-hint', 'data-testid': 'login-name',
  });
  const error = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'login-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn-accent btn-large', 'data-testid': 'login-submit' },
    icon(ICONS.key, 18), h('span', null, 'Log in with a passkey'));
  const form = h('form', { class: 'auth-form', novalidate: true },
    h('div', { class: 'field' },
      h('label', { for: 'login-name' }, 'Account name ', h('span', { class: 'optional' }, '(optional)')),
      name,
      h('p', { id: 'login-name-hint', class: 'hint' }, 'Leave it empty to choose from the passkeys this device holds for this site.')),
    error,
    h('div', { class: 'actions' }, submit));
  section.append(form,
    h('p', { class: 'auth-alt' }, 'New here? ',
      h('a', { href: `/register${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`, 'data-testid': 'register-link' }, 'Create an account'), '.'));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.replaceChildren();
    const done = busy(submit, 'Waiting for your passkey…');
    try {
      await loginWithPasskey(name.value.trim().toLowerCase(), { signal });
      if (signal.aborted) return;
      navigate(next, { replace: true });
    } catch (err) {
      if (signal.aborted) return;
      done();
      error.append(failure(err, false));
      submit.focus();
    }
  });
}

// ---------------------------------------------------------------- /register

export function register({ root, query, signal, navigate }) {
  document.title = 'Create an account · Strata';
  const next = safeNext(query.get('next'), '/account/videos');
  const section = authShell(root, 'Create an account',
    'Strata uses passkeys instead of passwords: your device keeps the key and unlocks it with your fingerprint, face or screen lock. There is nothing to remember and nothing to leak.');
  if (!supported()) {
    section.append(noPasskeys());
    return;
  }
  const name = h('input', {
    id: 'register-name', name: 'username', type: 'text', required: true, autocomplete: 'username',
    autocapitalize: 'none', spellcheck: 'false', minlength: 2, maxlength: 32, pattern: '[a-z0-9][a-z0-9._\\-]{1,31}',
    'aria-describedby': 'register-name-hint', 'data-testid': 'register-name',
  });
  const display = h('input', {
    id: 'register-display', name: 'display_name', type: 'text', autocomplete: 'name', maxlength: 64,
    'aria-describedby': 'register-display-hint', 'data-testid': 'register-display-name',
  });
  const error = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'register-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn-accent btn-large', 'data-testid': 'register-submit' },
    icon(ICONS.key, 18), h('span', null, 'Create account with a passkey'));
  const form = h('form', { class: 'auth-form', novalidate: true },
    h('div', { class: 'field' },
      h('label', { for: 'register-name' }, 'Account name'),
      name,
      h('p', { id: 'register-name-hint', class: 'hint' }, '2 to 32 lower-case letters, digits, “.”, “-” or “_”. People see it on your videos.')),
    h('div', { class: 'field' },
      h('label', { for: 'register-display' }, 'Display name ', h('span', { class: 'optional' }, '(optional)')),
      display,
      h('p', { id: 'register-display-hint', class: 'hint' }, 'Your name as others see it, e.g. “Ada Lovelace”.')),
    error,
    h('div', { class: 'actions' }, submit));
  section.append(form,
    h('p', { class: 'auth-alt' }, 'Have an account already? ',
      h('a', { href: `/login${next !== '/account/videos' ? `?next=${encodeURIComponent(next)}` : ''}` }, 'Log in'), '.'));

  // Names are lower-case: help while typing rather than refuse later.
  name.addEventListener('input', () => {
    const lower = name.value.toLowerCase();
    if (lower !== name.value) name.value = lower;
    name.removeAttribute('aria-invalid');
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.replaceChildren();
    const handle = name.value.trim().toLowerCase();
    if (!NAME_RULE.test(handle)) {
      name.setAttribute('aria-invalid', 'true');
      error.append(handle ? 'That name does not fit the rule below the field.' : 'Choose an account name.');
      name.focus();
      return;
    }
    const done = busy(submit, 'Waiting for your passkey…');
    try {
      const answer = await registerPasskey({ name: handle, display_name: display.value.trim() }, { signal });
      loggedIn(answer);
      if (signal.aborted) return;
      navigate(next, { replace: true });
    } catch (err) {
      if (signal.aborted) return;
      done();
      if (err?.code === 'name_taken' || err?.code === 'bad_name') {
        name.setAttribute('aria-invalid', 'true');
        name.focus();
      } else {
        submit.focus();
      }
      error.append(failure(err, true));
    }
  });
}

// ---------------------------------------------------------------- /account/setup

export function setup({ root, query, signal, navigate }) {
  document.title = 'Set up your account · Strata';
  const token = query.get('token') || '';
  const section = authShell(root, 'Set up your account',
    'An operator made an account for you. Add its first passkey here: your device keeps the key, and this one-time link stops working once it is used.');
  if (!token) {
    section.append(errorBox('This link is incomplete',
      'The setup link has a ?token=… part. Copy the whole link from where you got it, or ask for a new one (strata admin create NAME).'));
    return;
  }
  if (!supported()) {
    section.append(noPasskeys());
    return;
  }
  const error = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'setup-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn-accent btn-large', 'data-testid': 'setup-submit' },
    icon(ICONS.key, 18), h('span', null, 'Create my passkey'));
  const form = h('form', { class: 'auth-form', novalidate: true }, error, h('div', { class: 'actions' }, submit));
  section.append(form);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.replaceChildren();
    const done = busy(submit, 'Waiting for your passkey…');
    try {
      const answer = await registerPasskey({ setup_token: token }, { signal });
      if (answer?.user) loggedIn(answer);
      else await currentUser({ force: true });
      if (signal.aborted) return;
      // The secret leaves the address bar and the history with this page.
      navigate('/account?welcome=1', { replace: true });
    } catch (err) {
      if (signal.aborted) return;
      done();
      if (err?.status === 410 || err?.code === 'link_expired') {
        error.append('This link was used already or has expired. Ask the operator for a new one (strata admin create NAME prints it).');
      } else if (err?.status === 404) {
        error.append('This link is not known here. Check that you opened it on the right site, or ask for a new one.');
      } else {
        error.append(failure(err, true));
      }
      submit.focus();
    }
  });
}
