// Highlighted search matches as DOM nodes. The API sends titles and
// description fragments as escaped text with <mark> around matched words;
// they are rebuilt here as text nodes and <mark> elements, never parsed as
// HTML (see markedRuns).
import { h } from '../lib/dom.js';
import { markedRuns } from '../lib/search-state.js';

/** The nodes of one fragment: text, and <mark> around the matches. */
export function markedNodes(fragment) {
  return markedRuns(fragment).map((r) => (r.mark ? h('mark', null, r.text) : r.text));
}

/** The first fragment of a field, or null when the field had no match. */
export function firstFragment(highlights, field) {
  const list = highlights && Array.isArray(highlights[field]) ? highlights[field] : [];
  return typeof list[0] === 'string' && list[0] ? list[0] : null;
}

/** A description's matched fragments, as one line of snippets (null without any). */
export function snippet(highlights) {
  const list = highlights && Array.isArray(highlights.description) ? highlights.description.filter((f) => typeof f === 'string' && f) : [];
  if (list.length === 0) return null;
  return h('p', { class: 'card-snippet', 'data-testid': 'card-snippet' },
    list.flatMap((f, i) => (i > 0 ? [' ', ...markedNodes(f)] : markedNodes(f))));
}
