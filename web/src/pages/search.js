// Search results: GET /api/v1/search with filters, sort, facets and
// highlighted matches. The page's state lives in its URL (lib/search-state.js):
// a change of filter or sort pushes a new history entry and reloads the
// results in place, so focus stays on the control just used, and back,
// forward and reload give the same page.
import { h } from '../lib/dom.js';
import { getJSON, isAbort } from '../lib/api.js';
import { plural } from '../lib/format.js';
import {
  DURATIONS, PAGE_SIZE, RESOLUTIONS, SORTS, UPLOADED,
  apiParams, hasFilters, languageName, readState, statePath, toggled, withChange,
} from '../lib/search-state.js';
import { cardGrid, cardItem, skeletons } from '../components/card.js';
import { attachSuggest } from '../components/suggest.js';
import { errorBox } from './common.js';

export default function search({ root, query, signal }) {
  let state = readState(query);
  const input = document.getElementById('site-search');
  if (input) input.value = state.q;

  document.title = state.q ? `${state.q} · Search · Strata` : 'Search · Strata';
  const heading = h('h1', { id: 'search-title', class: 'page-title' },
    state.q ? ['Results for ', h('q', null, state.q)] : hasFilters(state) ? 'Filtered videos' : 'Search');
  const section = h('section', { class: 'section', 'aria-labelledby': 'search-title' },
    h('div', { class: 'section-head' }, heading));
  root.append(section);

  if (!state.q && !hasFilters(state)) {
    const form = searchForm('');
    section.append(form, h('p', { class: 'muted' }, 'Type a title, a word from a description, or a tag.'));
    attachSuggest(form.querySelector('input'), { signal });
    return;
  }

  const total = h('p', { class: 'results-total', 'data-testid': 'results-total', role: 'status' }, 'Searching…');
  const grid = cardGrid();
  const pager = h('nav', { class: 'pager', 'aria-label': 'Search result pages' });
  const notice = h('div');
  const filters = filterPanel(state, (changes) => apply(withChange(state, changes)));
  section.querySelector('.section-head').append(total);
  section.append(h('div', { class: 'search-layout' },
    filters.el,
    h('div', { class: 'search-results' }, notice, grid, pager)));

  let current = null; // the load in flight; a newer one aborts it

  /** Shows a new state: a history entry, then its results. */
  function apply(next) {
    state = next;
    history.pushState(null, '', statePath(state));
    load();
  }

  async function load() {
    current?.abort();
    const mine = new AbortController();
    current = mine;
    const stop = () => mine.abort();
    signal.addEventListener('abort', stop, { once: true });
    grid.setAttribute('aria-busy', 'true');
    if (grid.children.length === 0) grid.append(...skeletons(4));
    total.textContent = 'Searching…';
    notice.replaceChildren();
    try {
      const data = await getJSON(`/api/v1/search?${apiParams(state)}`, { signal: mine.signal });
      const hits = Array.isArray(data?.hits) ? data.hits : [];
      const count = Number(data?.total) || 0;
      total.dataset.total = String(count);
      total.textContent = plural(count, 'result');
      grid.replaceChildren(...hits.map((hit) => cardItem(hit, { highlights: hit.highlights })));
      if (hits.length === 0) notice.append(emptyState(state));
      filters.update(state, data?.facets);
      pagination(count, hits.length);
    } catch (err) {
      if (isAbort(err)) return;
      grid.replaceChildren();
      total.textContent = '';
      delete total.dataset.total;
      notice.replaceChildren(errorBox('Search failed', err.message, () => load()));
    } finally {
      signal.removeEventListener('abort', stop);
      if (current === mine) grid.removeAttribute('aria-busy');
    }
  }

  function pagination(count, shown) {
    pager.replaceChildren();
    const { offset } = state;
    const hasPrev = offset > 0;
    const hasNext = offset + shown < count;
    if (!hasPrev && !hasNext) return;
    pager.append(
      hasPrev
        ? h('a', { class: 'btn', href: statePath(withChange(state, { offset: Math.max(0, offset - PAGE_SIZE) })), rel: 'prev' }, '← Previous')
        : h('span'),
      h('span', { class: 'muted' }, shown > 0 ? `${offset + 1}–${offset + shown} of ${count}` : ''),
      hasNext
        ? h('a', { class: 'btn', href: statePath(withChange(state, { offset: offset + PAGE_SIZE })), rel: 'next' }, 'Next →')
        : h('span'));
  }

  load();
}

function emptyState(state) {
  return h('div', { class: 'empty' },
    h('p', null, state.offset > 0 ? 'No more results.' : 'No videos match your search.'),
    h('p', { class: 'muted' }, hasFilters(state) ? 'Try removing a filter, or fewer words.' : 'Try fewer or different words.'));
}

/**
 * The filter and sort controls. The selects are made once and kept (their
 * options change in place, so keyboard focus survives a reload of the
 * results); the facet chips are redrawn from each answer's counts.
 * onChange gets the fields that changed.
 */
function filterPanel(state, onChange) {
  const sort = labelled('search-sort', 'Sort by', select('search-sort', 'sort', SORTS, state.sort || 'relevance', null));
  const duration = select('search-duration', 'duration', entries(DURATIONS, (d) => d.label), state.duration, 'Any length');
  const resolution = select('search-resolution', 'resolution', Object.entries(RESOLUTIONS), state.resolution, 'Any quality');
  const uploaded = select('search-uploaded', 'uploaded', entries(UPLOADED, (u) => u.label), state.uploaded, 'Any time');
  const language = select('search-language', 'language', [], state.language, 'Any language');
  const chips = h('div', { class: 'facet-groups' });
  const clear = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'filters-clear', hidden: !hasFilters(state) }, 'Clear filters');
  const el = h('form', { class: 'filters', 'aria-label': 'Filter and sort results', 'data-testid': 'search-filters' },
    h('div', { class: 'filter-row' },
      sort,
      labelled('search-duration', 'Length', duration),
      labelled('search-resolution', 'Quality', resolution),
      labelled('search-uploaded', 'Uploaded', uploaded),
      labelled('search-language', 'Language', language),
      clear),
    chips);
  el.addEventListener('submit', (e) => e.preventDefault());
  el.addEventListener('change', (e) => {
    const name = e.target?.name;
    if (['sort', 'duration', 'resolution', 'uploaded', 'language'].includes(name)) onChange({ [name]: e.target.value });
  });
  clear.addEventListener('click', () => {
    onChange({ duration: '', resolution: '', uploaded: '', language: '', tags: [], keywords: [] });
  });

  let shown = state;
  chips.addEventListener('click', (e) => {
    const chip = e.target.closest?.('button[data-facet]');
    if (!chip) return;
    const field = chip.dataset.facet;
    onChange({ [field]: toggled(shown[field], chip.dataset.value) });
  });

  function update(s, facets) {
    shown = s;
    el.querySelector('#search-sort').value = s.sort || 'relevance';
    duration.value = s.duration;
    resolution.value = s.resolution;
    uploaded.value = s.uploaded;
    countOptions(duration, facets?.duration, 'name');
    fillLanguages(language, s.language, facets?.language);
    clear.hidden = !hasFilters(s);
    // Redraw the chips, keeping focus on the chip that had it.
    const focused = chips.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    chips.replaceChildren(
      facetGroup('Tags', 'tags', s.tags, mergeTags(facets?.tags, facets?.derived)),
      facetGroup('Topics', 'keywords', s.keywords, facets?.keywords));
    if (focused) chips.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
  }
  return { el, update };
}

const entries = (obj, label) => Object.entries(obj).map(([k, v]) => [k, label(v)]);

function labelled(id, text, control) {
  return h('div', { class: 'filter' }, h('label', { for: id }, text), control);
}

/** A select of [value, label] pairs, with an "any" first option unless anyLabel is null. */
function select(id, name, options, value, anyLabel) {
  const el = h('select', { id, name, 'data-testid': id },
    anyLabel == null ? null : h('option', { value: '' }, anyLabel),
    options.map(([v, label]) => h('option', { value: v, 'data-label': label }, label)));
  el.value = value || (anyLabel == null ? options[0][0] : '');
  return el;
}

/** Adds the facet's counts to a select's option labels ("Under 4 minutes (3)"). */
function countOptions(sel, buckets, key) {
  const counts = new Map((Array.isArray(buckets) ? buckets : []).map((b) => [b[key], b.count]));
  for (const opt of sel.options) {
    if (!opt.value || !opt.dataset.label) continue;
    const n = counts.get(opt.value);
    opt.textContent = n != null ? `${opt.dataset.label} (${n})` : opt.dataset.label;
  }
}

/** The languages of the matches (with counts), and the one chosen even when it has none. */
function fillLanguages(sel, chosen, facet) {
  const terms = (Array.isArray(facet) ? facet : []).filter((t) => t && t.term);
  if (chosen && !terms.some((t) => t.term === chosen)) terms.unshift({ term: chosen, count: null });
  const keep = sel.value;
  sel.replaceChildren(h('option', { value: '' }, 'Any language'),
    terms.map((t) => h('option', { value: t.term }, t.count == null ? languageName(t.term) : `${languageName(t.term)} (${t.count})`)));
  sel.value = chosen || keep || '';
  sel.disabled = terms.length === 0;
}

/** Owner tags and derived tags (hd, vertical, short…) in one list: the tag filter matches both. */
function mergeTags(tags, derived) {
  const out = [];
  const seen = new Set();
  for (const t of [...(Array.isArray(derived) ? derived : []), ...(Array.isArray(tags) ? tags : [])]) {
    if (!t?.term || seen.has(t.term)) continue;
    seen.add(t.term);
    out.push(t);
  }
  return out;
}

/** A group of toggle chips; chosen values are shown even when the answer has no count for them. */
function facetGroup(title, field, chosen, counts) {
  const list = (Array.isArray(counts) ? counts : []).filter((t) => t?.term);
  for (const c of chosen) if (!list.some((t) => t.term === c)) list.unshift({ term: c, count: null });
  if (list.length === 0) return null;
  const id = `facet-${field}`;
  return h('div', { class: 'facet-group', role: 'group', 'aria-labelledby': id },
    h('span', { id, class: 'facet-title' }, title),
    list.slice(0, 16).map((t) => {
      const on = chosen.includes(t.term);
      return h('button', {
        type: 'button',
        class: 'chip',
        'aria-pressed': String(on),
        'data-facet': field,
        'data-value': t.term,
        'data-key': `${field}:${t.term}`,
        'data-testid': 'facet-chip',
      }, t.term, t.count == null ? null : h('span', { class: 'chip-count' }, ` ${t.count}`));
    }));
}

/** In-page search form for the empty query state (the header has one too). */
function searchForm(value) {
  return h('form', { class: 'search search-inline', role: 'search', action: '/search', method: 'get' },
    h('label', { for: 'page-search', class: 'visually-hidden' }, 'Search videos'),
    h('input', { id: 'page-search', name: 'q', type: 'search', value, placeholder: 'Search videos', required: true }),
    h('button', { type: 'submit', class: 'btn btn-accent' }, 'Search'));
}
