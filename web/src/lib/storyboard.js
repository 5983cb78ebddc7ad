// Storyboard (WebVTT "thumbnails" track) and thumbnail-size helpers. Pure
// functions: no DOM, so node --test covers them.
//
// A storyboard cue's payload is a sprite URL relative to the VTT, with a
// media fragment naming the tile:
//
//   00:00:03.000 --> 00:00:06.000
//   sprite-1a2b3c4d-1.jpg#xywh=160,0,160,90

const TIMING = /^\s*((?:\d+:)?\d{1,2}:\d{2}(?:\.\d{1,3})?)\s+-->\s+((?:\d+:)?\d{1,2}:\d{2}(?:\.\d{1,3})?)/;
const XYWH = /#xywh=(?:pixel:)?(\d+),(\d+),(\d+),(\d+)\s*$/;

/** Seconds from a WebVTT timestamp ("01:02.500" or "00:01:02.500"). */
export function parseVTTTime(s) {
  const parts = s.split(':').map(Number);
  if (parts.some((n) => !Number.isFinite(n))) return NaN;
  return parts.reduce((acc, n) => acc * 60 + n, 0);
}

/**
 * The cues of a storyboard track, in time order: {start, end, url, x, y,
 * w, h}. url is the sprite resolved against base (the VTT's own URL, which
 * must be absolute); token, when given, becomes its ?token= (a private
 * video's sprites need it like every other media request). Cues without a
 * #xywh fragment, or with no payload, are skipped.
 */
export function parseStoryboard(text, base, token = '') {
  if (typeof text !== 'string' || !/^\uFEFF?WEBVTT/.test(text)) return [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const cues = [];
  for (let i = 0; i < lines.length; i++) {
    const m = TIMING.exec(lines[i]);
    if (!m) continue;
    const payload = (lines[i + 1] || '').trim();
    const frag = XYWH.exec(payload);
    const start = parseVTTTime(m[1]);
    const end = parseVTTTime(m[2]);
    if (!frag || !payload || !(end > start)) continue;
    const ref = payload.slice(0, frag.index);
    if (!ref) continue;
    let url;
    try {
      const u = new URL(ref, base);
      if (token) u.searchParams.set('token', token);
      url = u.href;
    } catch {
      continue;
    }
    cues.push({ start, end, url, x: +frag[1], y: +frag[2], w: +frag[3], h: +frag[4] });
    i++;
  }
  cues.sort((a, b) => a.start - b.start);
  return cues;
}

/** The cue showing time t (seconds): the last cue starting at or before t. */
export function cueAt(cues, t) {
  if (!cues.length || !Number.isFinite(t)) return null;
  let lo = 0;
  let hi = cues.length - 1;
  if (t < cues[0].start) return cues[0];
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (cues[mid].start <= t) lo = mid; else hi = mid - 1;
  }
  return cues[lo];
}

/** srcset for an API thumbnails list ([{url, width, height}]). */
export function thumbSrcset(thumbnails) {
  if (!Array.isArray(thumbnails)) return '';
  return thumbnails
    .filter((t) => t && t.url && t.width > 0)
    .map((t) => `${t.url} ${t.width}w`)
    .join(', ');
}

/**
 * The smallest thumbnail at least cssWidth * dpr pixels wide (the largest
 * when none is), for places without srcset such as <video poster>.
 */
export function pickThumbnail(thumbnails, cssWidth, dpr = 1) {
  if (!Array.isArray(thumbnails)) return null;
  const sized = thumbnails.filter((t) => t && t.url && t.width > 0).sort((a, b) => a.width - b.width);
  if (!sized.length) return null;
  const need = Math.max(1, cssWidth) * (dpr > 0 ? dpr : 1);
  return sized.find((t) => t.width >= need) || sized[sized.length - 1];
}

/** "720p, 1080p" from rendition names ("720p") or heights. */
export function pendingText(pending) {
  if (!Array.isArray(pending)) return '';
  const names = pending.map((p) => (typeof p === 'number' ? `${p}p` : String(p))).filter(Boolean);
  const height = (s) => parseInt(s, 10) || 0;
  names.sort((a, b) => height(a) - height(b));
  return names.join(', ');
}
