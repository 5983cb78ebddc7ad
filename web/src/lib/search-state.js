// The search page's state: what the viewer asked for, read from and written
// to the page's URL (so back, forward, reload and shared links all give
// the same results), and turned into the API's parameters. Pure functions:
// web/test/search-state.test.mjs covers them.

export const PAGE_SIZE = 20;

/** Orders GET /api/v1/search takes (sort=); relevance is its default. */
export const SORTS = [
  ['relevance', 'Relevance'],
  ['newest', 'Newest'],
  ['views', 'Most viewed'],
];

/**
 * Lengths, named as the API's duration facet names its buckets (under 4
 * minutes, 4 to 20, 20 and more), with the bounds that select them. The
 * API's bounds are inclusive, so "short" stops just under 240 s.
 */
export const DURATIONS = {
  short: { label: 'Under 4 minutes', max: 239.999 },
  medium: { label: '4–20 minutes', min: 240, max: 1199.999 },
  long: { label: 'Over 20 minutes', min: 1200 },
};

/** Least short side of the best rendition (resolution=). */
export const RESOLUTIONS = {
  720: 'HD (720p and up)',
  1080: 'Full HD (1080p and up)',
  2160: '4K',
};

/**
 * Upload dates, relative to now. The URL keeps the name, not a date, so
 * "this week" still means this week when the link is opened next month.
 */
export const UPLOADED = {
  day: { label: 'Today', ms: 86400e3 },
  week: { label: 'This week', ms: 7 * 86400e3 },
  month: { label: 'This month', ms: 30 * 86400e3 },
  year: { label: 'This year', ms: 365 * 86400e3 },
};

const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);
const oneOf = (obj, v) => (v && has(obj, v) ? v : '');

/** Unique, trimmed, non-empty values of a repeatable (and comma-separated) parameter. */
function listOf(params, name) {
  const out = [];
  for (const raw of params.getAll(name)) {
    for (const one of raw.split(',')) {
      const t = one.trim();
      if (t && !out.includes(t)) out.push(t);
    }
  }
  return out;
}

/** Reads the page's state from its URL query (URLSearchParams). Unknown values are dropped. */
export function readState(params) {
  const sort = params.get('sort') || '';
  return {
    q: (params.get('q') || '').trim(),
    sort: SORTS.some(([v]) => v === sort) ? sort : '',
    duration: oneOf(DURATIONS, params.get('duration')),
    resolution: oneOf(RESOLUTIONS, params.get('resolution')),
    uploaded: oneOf(UPLOADED, params.get('uploaded')),
    language: (params.get('language') || '').trim().slice(0, 35),
    tags: listOf(params, 'tag'),
    keywords: listOf(params, 'keyword'),
    offset: Math.max(0, Number.parseInt(params.get('offset') || '0', 10) || 0),
  };
}

/** Whether anything narrows the results besides the words. */
export function hasFilters(s) {
  return Boolean(s.duration || s.resolution || s.uploaded || s.language || s.tags.length || s.keywords.length);
}

/** The page's URL for a state: only what differs from the defaults, in a fixed order. */
export function statePath(s) {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  for (const t of s.tags) p.append('tag', t);
  for (const k of s.keywords) p.append('keyword', k);
  if (s.language) p.set('language', s.language);
  if (s.duration) p.set('duration', s.duration);
  if (s.resolution) p.set('resolution', s.resolution);
  if (s.uploaded) p.set('uploaded', s.uploaded);
  if (s.sort && s.sort !== 'relevance') p.set('sort', s.sort);
  if (s.offset > 0) p.set('offset', String(s.offset));
  const qs = p.toString();
  return qs ? `/search?${qs}` : '/search';
}

/** GET /api/v1/search's parameters for a state; now (ms) dates "uploaded". */
export function apiParams(s, now = Date.now()) {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  for (const t of s.tags) p.append('tag', t);
  for (const k of s.keywords) p.append('keyword', k);
  if (s.language) p.set('language', s.language);
  const d = DURATIONS[s.duration];
  if (d?.min != null) p.set('min_duration', String(d.min));
  if (d?.max != null) p.set('max_duration', String(d.max));
  if (s.resolution) p.set('resolution', s.resolution);
  if (s.uploaded) p.set('from', new Date(now - UPLOADED[s.uploaded].ms).toISOString());
  if (s.sort) p.set('sort', s.sort);
  p.set('limit', String(PAGE_SIZE));
  p.set('offset', String(s.offset));
  return p;
}

/** A copy of s with changes applied; any change but the page's goes back to the first page. */
export function withChange(s, changes) {
  const next = { ...s, tags: [...s.tags], keywords: [...s.keywords], ...changes };
  if (!('offset' in changes)) next.offset = 0;
  return next;
}

/** A list with v added, or removed when it was there (a facet chip's toggle). */
export function toggled(list, v) {
  return list.includes(v) ? list.filter((x) => x !== v) : [...list, v];
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Decodes the character references html.EscapeString writes (and the common named ones). */
export function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (all, ref) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
    }
    return ENTITIES[ref.toLowerCase()] ?? all;
  });
}

/**
 * Splits a highlight fragment from the API (escaped text with <mark>
 * around matched words) into [{ text, mark }] runs of plain text. Nothing
 * but the literal <mark> and </mark> is read as markup: the runs become
 * text nodes, so a title cannot inject HTML even if the server forgot to
 * escape it.
 */
export function markedRuns(fragment) {
  const runs = [];
  let mark = false;
  for (const part of String(fragment ?? '').split(/(<\/?mark>)/i)) {
    if (/^<mark>$/i.test(part)) mark = true;
    else if (/^<\/mark>$/i.test(part)) mark = false;
    else if (part) runs.push({ text: decodeEntities(part), mark });
  }
  return runs;
}

/** 1234 -> "1,234 views", 1 -> "1 view"; '' when the count is unknown. */
export function formatViews(n) {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return '';
  const v = Math.floor(n);
  return `${v.toLocaleString('en')} ${v === 1 ? 'view' : 'views'}`;
}

/** A language tag's English name ("fr" -> "French"), the tag itself when unknown. */
export function languageName(tag) {
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(tag) || tag;
  } catch {
    return tag;
  }
}
