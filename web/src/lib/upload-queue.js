// Pure helpers of the upload queue (no DOM): which items may start, the
// speed and time left of an upload, the queue's one-line summary. Kept
// apart so node --test can check them (web/test/upload-queue.test.mjs).
import { formatBytes, plural } from './format.js';

/** At most this many uploads send bytes at once; the rest wait "Queued". */
export const MAX_ACTIVE = 2;

/** States in which an item holds one of the MAX_ACTIVE slots. */
export const isActive = (state) => state === 'starting' || state === 'uploading';
/** States after which nothing more is sent (the bytes are all on the server). */
export const isSent = (state) => state === 'complete' || state === 'ready' || state === 'failed';

/**
 * The queued items to start now, in queue order, so that no more than
 * `limit` are active. Paused and errored items give up their slot and are
 * skipped: a paused upload waits for the user, not for its turn.
 */
export function toStart(items, limit = MAX_ACTIVE) {
  const free = limit - items.filter((it) => isActive(it.state)).length;
  if (free <= 0) return [];
  return items.filter((it) => it.state === 'queued').slice(0, free);
}

/**
 * Adds a progress sample [time ms, bytes sent] and drops those older than
 * `windowMs` (keeping two), so the speed follows the last few seconds.
 */
export function addSample(samples, now, sent, windowMs = 5000) {
  samples.push([now, sent]);
  while (samples.length > 2 && now - samples[0][0] > windowMs) samples.shift();
  return samples;
}

/**
 * " · 1.2 MB/s · about 3 minutes left", from the samples; empty until
 * there is a second of data showing progress (a guess from less misleads).
 */
export function rateText(samples, sent, total, now) {
  if (samples.length === 0) return '';
  const [t0, b0] = samples[0];
  if (now - t0 <= 1000 || sent <= b0) return '';
  const bps = ((sent - b0) * 1000) / (now - t0);
  const left = Math.max(0, total - sent) / bps;
  const when = left < 60 ? 'less than a minute' : `about ${plural(Math.round(left / 60), 'minute')}`;
  return ` · ${formatBytes(Math.round(bps))}/s · ${when} left`;
}

/** "3 videos · 1 uploading · 1 queued · 1 ready", for the queue's heading. */
export function queueSummary(items) {
  const count = (pred) => items.filter(pred).length;
  const parts = [plural(items.length, 'video')];
  const add = (n, label) => { if (n > 0) parts.push(`${n} ${label}`); };
  add(count((it) => isActive(it.state)), 'uploading');
  add(count((it) => it.state === 'queued'), 'queued');
  add(count((it) => it.state === 'paused'), 'paused');
  add(count((it) => it.state === 'complete'), 'processing');
  add(count((it) => it.state === 'ready'), 'ready');
  add(count((it) => it.state === 'error'), 'stopped');
  add(count((it) => it.state === 'failed'), 'failed');
  return parts.join(' · ');
}

/** "music, live" -> "music,live" (the tus metadata form of a tag list). */
export function normalizeTags(text) {
  return text.split(',').map((t) => t.trim()).filter(Boolean).join(',');
}
