// Pure helpers of the video edit form (no DOM): the server's limits
// (origin/upload/hooks.go and PATCH /api/v1/videos/{id}) checked before
// sending, so a mistake is shown next to its field at once, and the PATCH
// body holding only what changed. The server stays the judge: its 400
// message is shown too.

export const LIMITS = { title: 200, description: 5000, tags: 30, tag: 50 };

const runes = (s) => [...s].length;

/** ["music", "live"] -> "music, live" (the text field's form). */
export const tagsText = (tags) => (Array.isArray(tags) ? tags.join(', ') : '');

/**
 * "Music, live,, music " -> ["Music", "live"]: split on commas, inner
 * spaces collapsed, empties dropped, duplicates (ignoring case) dropped
 * keeping the first spelling, as the server does.
 */
export function parseTags(text) {
  const out = [];
  const seen = new Set();
  for (const raw of String(text ?? '').split(',')) {
    const t = raw.trim().split(/\s+/).filter(Boolean).join(' ');
    if (!t || seen.has(t.toLowerCase())) continue;
    seen.add(t.toLowerCase());
    out.push(t);
  }
  return out;
}

/**
 * Problems with the values, by field ({} when none). values: { title,
 * description, tags } with tags as typed (a comma-separated string).
 */
export function validateEdit({ title = '', description = '', tags = '' }) {
  const errors = {};
  const t = title.trim();
  if (!t) errors.title = 'Give the video a title.';
  else if (runes(t) > LIMITS.title) errors.title = `The title has ${runes(t)} characters; at most ${LIMITS.title} are allowed.`;
  if (runes(description) > LIMITS.description) {
    errors.description = `The description has ${runes(description)} characters; at most ${LIMITS.description} are allowed.`;
  }
  const list = parseTags(tags);
  const long = list.find((x) => runes(x) > LIMITS.tag);
  if (long) errors.tags = `The tag “${[...long].slice(0, 20).join('')}…” is longer than ${LIMITS.tag} characters.`;
  else if (list.length > LIMITS.tags) errors.tags = `${list.length} tags given; at most ${LIMITS.tags} are allowed.`;
  return errors;
}

/**
 * The PATCH body: only the fields that differ from the video as it is, so
 * an unchanged form sends nothing and a save never undoes someone else's
 * change to another field. Null when nothing changed.
 */
export function editPatch(video, { title = '', description = '', tags = '' }) {
  const patch = {};
  const t = title.trim();
  if (t !== (video.title ?? '')) patch.title = t;
  const d = description.trim();
  if (d !== (video.description ?? '').trim()) patch.description = d;
  const list = parseTags(tags);
  const before = Array.isArray(video.tags) ? video.tags : [];
  if (list.length !== before.length || list.some((x, i) => x !== before[i])) patch.tags = list;
  return Object.keys(patch).length ? patch : null;
}

/**
 * Which field a server message is about ("the title must have…",
 * "the tag … is longer…"), so it can be shown next to that field.
 */
export function fieldOfMessage(message) {
  const m = /\b(title|description|tags?)\b/i.exec(String(message ?? ''));
  if (!m) return '';
  const f = m[1].toLowerCase();
  return f === 'tag' ? 'tags' : f;
}
