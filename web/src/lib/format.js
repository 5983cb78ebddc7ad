// Formatting helpers: durations, relative times, dates, byte sizes.

const pad = (n) => String(n).padStart(2, '0');

/** 75 -> "1:15", 3725 -> "1:02:05". Empty for missing/invalid values. */
export function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
];

/** ISO time -> "3 minutes ago", "yesterday", "just now". */
export function timeAgo(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const diff = (t - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 45) return 'just now';
  for (const [unit, secs] of UNITS) {
    if (abs >= secs) return rtf.format(Math.trunc(diff / secs), unit);
  }
  return rtf.format(diff < 0 ? -1 : 1, 'minute');
}

const dateFmt = new Intl.DateTimeFormat('en', { dateStyle: 'medium' });
const dateTimeFmt = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });

/** ISO time -> "Nov 25, 2026" (or with time when withTime). */
export function formatDate(iso, withTime = false) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  return (withTime ? dateTimeFmt : dateFmt).format(t);
}

/** 1234567 -> "1.2 MB" (SI units). */
export function formatBytes(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Clamp to an integer 0..100. */
export function percent(n) {
  const v = Math.floor(Number(n) || 0);
  return Math.max(0, Math.min(100, v));
}

/** "clip.final.mp4" -> "clip.final" */
export function stripExtension(name) {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(0, i) : name;
}

export function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}
