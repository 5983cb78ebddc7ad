// The header's account area: "Log in" when nobody is, else a button with
// the user's name that opens a small disclosure menu (My videos, Account,
// the admin dashboard for admins, Log out). Keyboard: Enter/Space opens,
// Tab moves through it, Escape closes and returns focus to the button.
import { h, icon, ICONS } from '../lib/dom.js';
import { loginPath, myVideosPath } from '../lib/api.js';
import { currentUser, logout, onAuthChange } from '../lib/auth.js';

// "Log in" comes back to the page it was pressed on.
function loginHref() {
  const here = location.pathname + location.search;
  return loginPath(/^\/(login|register|account\/setup)\/?$/.test(location.pathname) ? '' : here);
}

export function mountAccountNav(nav, navigate) {
  const area = h('div', { class: 'account-nav' });
  nav.append(area);
  let closeMenu = () => {};

  function render(me) {
    closeMenu();
    closeMenu = () => {};
    if (me === undefined) {
      area.replaceChildren();
      return;
    }
    if (!me) {
      area.replaceChildren(h('a', { class: 'btn btn-ghost', href: loginHref(), 'data-testid': 'nav-login' }, 'Log in'));
      return;
    }
    const u = me.user;
    const shown = u.display_name || u.name;
    const button = h('button', {
      type: 'button',
      class: 'btn btn-ghost account-button',
      'aria-expanded': 'false',
      'aria-controls': 'account-menu',
      'aria-label': `Account menu of ${shown}`,
      'data-testid': 'account-menu',
    },
    h('span', { class: 'avatar', 'aria-hidden': 'true' }, (shown.trim()[0] || '?').toUpperCase()),
    h('span', { class: 'account-button-name' }, shown));
    const out = h('button', { type: 'button', class: 'menu-item', 'data-testid': 'logout' }, 'Log out');
    const menu = h('div', { id: 'account-menu', class: 'menu', hidden: true },
      h('p', { class: 'menu-head' },
        h('strong', null, shown),
        h('span', { class: 'muted' }, `@${u.name}${u.role && u.role !== 'user' ? ` · ${u.role}` : ''}`)),
      h('a', { class: 'menu-item', href: myVideosPath, 'data-testid': 'nav-my-videos' }, icon(ICONS.film, 18), 'My videos'),
      h('a', { class: 'menu-item', href: '/account', 'data-testid': 'nav-account' }, icon(ICONS.key, 18), 'Account and passkeys'),
      u.role === 'admin'
        ? h('a', { class: 'menu-item', href: '/admin', 'data-testid': 'nav-admin' }, icon(ICONS.gauge, 18), 'Admin dashboard')
        : null,
      out);
    area.replaceChildren(button, menu);

    const onDocClick = (e) => {
      if (!area.contains(e.target)) close(false);
    };
    const onKey = (e) => {
      if (e.key === 'Escape') close(true);
    };
    function open() {
      menu.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      document.addEventListener('click', onDocClick, true);
      document.addEventListener('keydown', onKey);
    }
    function close(focus) {
      if (menu.hidden) return;
      menu.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      document.removeEventListener('click', onDocClick, true);
      document.removeEventListener('keydown', onKey);
      if (focus) button.focus();
    }
    closeMenu = () => close(false);
    button.addEventListener('click', () => (menu.hidden ? open() : close(false)));
    // A link in the menu navigates inside the app: close it on the way.
    menu.addEventListener('click', (e) => {
      if (e.target.closest('a')) close(false);
    });
    // Leaving the menu with Tab closes it.
    area.addEventListener('focusout', (e) => {
      if (e.relatedTarget && !area.contains(e.relatedTarget)) close(false);
    });
    out.addEventListener('click', async () => {
      out.disabled = true;
      try {
        await logout();
      } catch {
        // The cookie may be gone already; the UI is logged out either way.
      }
      navigate('/');
    });
  }

  onAuthChange(render);
  render(undefined);
  currentUser().catch(() => {
    // The server could not be reached: show "Log in" rather than nothing.
    render(null);
  });
  // Called on every route change.
  return {
    update() {
      closeMenu();
      const a = area.querySelector('[data-testid="nav-login"]');
      if (a) {
        a.href = loginHref();
        if (location.pathname === '/login') a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
    },
  };
}
