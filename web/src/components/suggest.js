// Suggestions as you type: turns a search <input> inside a role=search form
// into an ARIA 1.2 combobox with a listbox of completions from
// GET /api/v1/search/suggest. The input keeps focus throughout; the option
// being pointed at is aria-activedescendant. Picking one (Enter, click)
// puts it in the box and submits the form, which main.js turns into a
// search.
import { h } from '../lib/dom.js';
import { getJSON, isAbort } from '../lib/api.js';

// Long enough that a word typed at speed costs one request, short enough
// to feel immediate.
const DEBOUNCE_MS = 150;
const LIMIT = 8;

let nextId = 0;

/**
 * attachSuggest(input, { signal }) wires the suggestions to input; signal
 * (optional) removes them when the page goes. Returns { close }.
 */
export function attachSuggest(input, { signal } = {}) {
  const form = input.form;
  const id = `suggest-${++nextId}`;
  const list = h('ul', { id, role: 'listbox', class: 'suggest-list', 'aria-label': 'Suggestions', hidden: true, 'data-testid': 'suggestions' });
  input.after(list);
  form?.classList.add('has-suggest');
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', id);
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('autocomplete', 'off');

  let timer = 0;
  let seq = 0; // the latest request; answers to older ones are dropped
  let inflight = null;
  let items = [];
  let active = -1;

  function open(words) {
    items = words;
    active = -1;
    list.replaceChildren(...words.map((w, i) => h('li', {
      id: `${id}-${i}`,
      role: 'option',
      class: 'suggest-option',
      'aria-selected': 'false',
      'data-value': w,
    }, w)));
    list.hidden = words.length === 0;
    input.setAttribute('aria-expanded', String(words.length > 0));
    input.removeAttribute('aria-activedescendant');
  }
  function close() {
    clearTimeout(timer);
    seq++;
    inflight?.abort();
    inflight = null;
    open([]);
  }
  function highlight(i) {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute('aria-selected', String(j === i)));
    if (i >= 0) {
      input.setAttribute('aria-activedescendant', `${id}-${i}`);
      list.children[i]?.scrollIntoView?.({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }
  function pick(word) {
    input.value = word;
    close();
    if (form?.requestSubmit) form.requestSubmit();
    else form?.submit();
  }

  async function fetchFor(text) {
    const mine = ++seq;
    inflight?.abort();
    inflight = new AbortController();
    try {
      const params = new URLSearchParams({ q: text, limit: String(LIMIT) });
      const data = await getJSON(`/api/v1/search/suggest?${params}`, { signal: inflight.signal });
      if (mine !== seq || input.value !== text || document.activeElement !== input) return;
      const words = Array.isArray(data?.suggestions) ? data.suggestions.filter((w) => typeof w === 'string' && w) : [];
      open(words);
    } catch (err) {
      if (isAbort(err) || mine !== seq) return;
      open([]); // suggestions are a convenience: a failure just shows none
    }
  }

  function onInput() {
    clearTimeout(timer);
    const text = input.value;
    if (!text.trim()) {
      close();
      return;
    }
    timer = setTimeout(() => fetchFor(text), DEBOUNCE_MS);
  }

  function onKeydown(e) {
    const shown = !list.hidden && items.length > 0;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!shown) {
        if (input.value.trim()) fetchFor(input.value);
        return;
      }
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      // Past either end comes back to the text as typed (no option).
      let i = active + step;
      if (i >= items.length) i = -1;
      else if (i < -1) i = items.length - 1;
      highlight(i);
    } else if (e.key === 'Enter' && shown && active >= 0) {
      e.preventDefault();
      pick(items[active]);
    } else if (e.key === 'Escape' && shown) {
      e.preventDefault();
      close();
    }
  }

  // pointerdown would move focus to the option (and close the list on
  // blur) before the click lands: keep focus in the box.
  list.addEventListener('pointerdown', (e) => e.preventDefault());
  list.addEventListener('click', (e) => {
    const li = e.target.closest?.('[role="option"]');
    if (li) pick(li.dataset.value);
  });
  input.addEventListener('input', onInput);
  input.addEventListener('keydown', onKeydown);
  input.addEventListener('blur', close);
  form?.addEventListener('submit', close);

  signal?.addEventListener('abort', () => {
    close();
    input.removeEventListener('input', onInput);
    input.removeEventListener('keydown', onKeydown);
    input.removeEventListener('blur', close);
    form?.removeEventListener('submit', close);
    list.remove();
  }, { once: true });
  return { close };
}
